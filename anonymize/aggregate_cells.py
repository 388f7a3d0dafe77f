"""The cells of an aggregate run: counted, then protected by suppression or by noise.

Counts are of people when the spec names its `person:` column, and a table whose identifier
repeats (several rows per person) is refused without one. Suppression is small-cell and
complementary within the run, then against the tables released before from the same data
(`anonymize.disclosure`, `anonymize.history`), extracts included (`anonymize.extract_log`);
noise is keyed and charged against the data set's budget (`anonymize.noise`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from anonymize.aggregate_spec import AggregateRun, AggregateSpec
from anonymize.disclosure import close_gaps
from anonymize.extract_log import (
    data_atoms,
    group_forms,
    groups_of,
    refuse_differencing,
    refuse_given_back,
    refuse_noisy_after,
)
from anonymize.history import (
    Spending,
    comparable,
    earlier_views,
    lineage,
    query,
    spend,
    union_joins,
    view,
)
from anonymize.noise import TableNoise, noisy_tables, table_shares
from anonymize.policy import points_at_a_person
from anonymize.suppression import EARLIER, Cells, suppress_small
from dsar.catalog import Catalog
from dsar.catalog.models import IdentityKind
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import ExportDataError
from dsar.keys import Keys
from dsar.records.releases import Charge, Release


@dataclass(frozen=True)
class Run:
    """What counting one aggregate run reads: the engine and the relation the spec's table
    (with its joins) is read from, the spec, its dimensions, the data's versions and content
    fingerprints, the releases made before, and the keys; with a suppression ledger, the
    relation's parameters, its condition on the base table's rows (for the data's atoms)
    and a keyed fingerprint of the people it left out (part of a noisy query)."""

    engine: Engine
    relation: str
    spec: AggregateRun
    dims: dict[str, str]
    versions: dict[str, str]
    earlier: list[Release]
    keys: Keys
    contents: dict[str, str]
    params: tuple[object, ...] = ()
    where: tuple[str, tuple[object, ...]] = ("TRUE", ())
    left_out: str | None = None
    left_refs: tuple[str, ...] = ()  # keyed references of each person left out


def counted(run: Run) -> Counted:
    """The run's cells, protected by noise when the spec asks for differential privacy,
    else by small-cell and complementary suppression."""
    return noisy_cells(run) if run.spec.differential_privacy is not None else suppressed_cells(run)


@dataclass(frozen=True)
class Counted:
    """The cells of a run and what protecting them took."""

    cells: list[Cells]
    versions: dict[str, str]
    suppressed: dict[str, int]
    compared: tuple[Release, ...] = ()
    noise: dict[str, TableNoise] = field(default_factory=dict)
    charges: tuple[Charge, ...] = ()
    spending: Spending | None = None
    warnings: tuple[str, ...] = ()


def suppressed_cells(run: Run) -> Counted:
    """Every table and its margins, with small-cell and complementary suppression across the
    run and the tables released before from the same data, under any table name ("earlier
    release": a cell hidden because, with them, it would give a suppressed cell back)."""
    engine, spec, dims = run.engine, run.spec, run.dims
    relation = (run.relation, run.params)
    cells: list[Cells] = []
    for agg in spec.aggregates:
        cells.append(_compute(engine, relation, spec, agg, tuple(agg.group_by)))
        if agg.margins:  # every total line, down to the grand total, is published too
            for size in range(len(agg.group_by) - 1, -1, -1):
                for d in combinations(agg.group_by, size):
                    cells.append(_compute(engine, relation, spec, agg, d))
    for c in cells:
        suppress_small(c, spec.min_count)
    kinds = ("suppression", "extract")  # an extract: a table of its kept columns' counts
    same = comparable(run.earlier, engine, run.keys, spec.table, run.contents, kinds)
    grouped = {dims[g] for a in spec.aggregates for g in a.group_by}
    refuse_differencing(
        same,
        spec.table,
        grouped,
        group_forms(sorted(grouped)),
        run.left_refs,
        spec.min_count,
        "this run",
    )
    mine = [view(c, dims) for c in cells]
    before = earlier_views(same)
    columns = sorted({d for t in [*mine, *before] for d in t.group_by})
    joins = union_joins(spec, same)
    found = data_atoms(engine, spec.table, joins, columns, run.keys, groups_of(same), run.where)
    gaps = close_gaps(mine, before, columns, found)
    refuse_given_back(mine, same, columns, found, spec.table, spec.min_count)
    warnings: list[str] = []
    if not gaps.solved:
        warnings.append(
            "too many cells to solve exactly: only the line rule protected some of them"
        )
    if gaps.exposed_earlier:
        names = ", ".join(r.describe() for r in same)
        warnings.append(
            f"{gaps.exposed_earlier} cell(s) suppressed earlier are given back by earlier"
            f" releases on their own ({names}): this run adds nothing to that"
        )
    why = Counter(v for c in cells for v in c.suppressed.values())
    return Counted(
        cells,
        run.versions,
        {
            "primary": why["primary"],
            "complementary": why["complementary"],
            "for_earlier_releases": why[EARLIER],
        },
        compared=tuple(same),
        warnings=tuple(warnings),
    )


def noisy_cells(run: Run) -> Counted:
    """Every table with keyed noise, within the data set's budget."""
    spec, contents = run.spec, run.contents
    dp_spec = spec.differential_privacy
    assert dp_spec is not None
    shares = table_shares(spec, dp_spec)
    # an extract of the same data gives a table's exact counts: noise beside them is no use
    grouped = {a.name: ({run.dims[g] for g in a.group_by}, a.margins) for a in spec.aggregates}
    refuse_noisy_after(run.earlier, run.engine, run.keys, spec.table, contents, grouped)
    queries = {
        a.name: query(run.keys, spec, a, run.dims, contents, *shares[a.name], run.left_out)
        for a in spec.aggregates
    }
    charges = tuple(q.charge for q in queries.values())
    # charged to every data set the run reads (its base table and each joined one), and
    # refused when any of them is beyond its budget; the manifest shows the base's
    spent = {
        table: spend(
            spec,
            [r for r in lineage(run.earlier, table, content) if r.method == "differential_privacy"],
            charges,
            table,
        )
        for table, content in sorted(contents.items())
    }
    spending = spent[spec.table]
    cells, noise = noisy_tables(
        run.engine,
        run.relation,
        spec,
        dp_spec,
        {n: q.seed for n, q in queries.items()},
        run.params,
    )
    return Counted(
        cells,
        run.versions,
        {"primary": 0, "complementary": 0},
        noise=noise,
        charges=charges,
        spending=spending,
    )


def check_person(engine: Engine, catalog: Catalog, spec: AggregateRun) -> None:
    """Without `person:`, a cell counts rows: refused when the rows repeat a person's
    identifier (several rows per person), as the data shows.

    Raises:
        ExportDataError: an identifier of the table's people repeats.
    """
    if spec.person is not None:
        return
    table = catalog.tables[spec.table]
    repeated: list[tuple[bool, str, int, int]] = []
    for column, col in table.columns.items():
        points = points_at_a_person(catalog, spec.table, column)
        if col.identity is None and not points:
            continue
        q = quote_identifier(column)
        got = engine.query(
            f"SELECT count({q}) AS n, count(DISTINCT {q}) AS d FROM {quote_identifier(spec.table)}"
        ).to_pylist()[0]
        if int(got["n"]) > int(got["d"]):
            # an account's id before a device's or a cookie's: it names the person, not a thing
            device = col.identity in (IdentityKind.DEVICE_ID, IdentityKind.COOKIE_ID)
            repeated.append((device and not points, column, int(got["n"]), int(got["d"])))
    if repeated:
        _, column, rows, distinct = min(repeated)
        others = [c for _, c, _, _ in sorted(repeated) if c != column]
        raise ExportDataError(
            spec.table,
            column,
            f"repeats: {rows} rows hold {distinct} distinct values"
            + (f" ({', '.join(others)} too)" if others else "")
            + ", so one person has several rows and a cell would count rows, not people",
            f"add person: {column} to the spec (each cell then counts distinct people)",
        )


def _compute(
    engine: Engine,
    relation: tuple[str, tuple[object, ...]],
    run: AggregateRun,
    agg: AggregateSpec,
    dims: tuple[str, ...],
) -> Cells:
    keys = ", ".join(quote_identifier(g) for g in dims)
    who = f"count(DISTINCT {quote_identifier(run.person)})" if run.person else "count(*)"
    parts = [f"{who} AS __n"]
    for m in agg.measures:
        if m.op == "sum":
            parts.append(f"sum({quote_identifier(str(m.column))}) AS {quote_identifier(m.name)}")
        elif m.op == "mean":
            parts.append(f"avg({quote_identifier(str(m.column))}) AS {quote_identifier(m.name)}")
    select = f"{keys + ', ' if keys else ''}{', '.join(parts)}"
    group = " GROUP BY ALL" if keys else ""
    table = engine.query(f"SELECT {select} FROM {relation[0]}{group}", relation[1])
    counts: dict[tuple[Any, ...], int] = {}
    values: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in table.to_pylist():
        if not row["__n"]:
            continue  # an empty table's grand total
        key = tuple(None if row[g] is None else str(row[g]) for g in dims)  # as written
        counts[key] = int(row["__n"])
        values[key] = {
            m.name: int(row["__n"]) if m.op == "count" else row[m.name] for m in agg.measures
        }
    return Cells(agg, dims, counts, values, {})
