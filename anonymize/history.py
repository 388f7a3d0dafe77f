"""What earlier releases of a data set mean for a new aggregate run (the release log's side).

A data set is the base table of a spec: every run over it, whatever it joins, publishes
numbers about the same people. Its data version is a keyed fingerprint of each source
table's files (`Purpose.RELEASE_REF`), so the log names no checksum anyone could test a guess
of the data against.

- **Suppression.** Tables published earlier from the same version of the same tables take
  part in this run's complementary suppression as they were published (`anonymize.disclosure`):
  this run hides whatever, together with them, would give back a cell they or it suppress;
  it is never refused for it. Releases of another version are not compared (the data moved).
- **Differential privacy.** Each noisy table is one query: the data set, the version, the
  columns, measures, bounds, declared values, ε and δ. Its noise is seeded by a keyed hash of
  the query (`Purpose.AGGREGATE_NOISE`), so the same query on the same data gives the same
  answer, and its id (`Purpose.RELEASE_REF`) is what the budget charges once. The budget is
  per data set across every version (people stay from one export to the next): the smallest
  `budget` any run of it stated, or, when none ever did, one run's worth (the largest ε of a
  run of it, this one's included).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from anonymize.aggregate_spec import AggregateRun, AggregateSpec
from anonymize.disclosure import View
from anonymize.joins import Join, Source, joined_relation, resolve_links
from anonymize.suppression import EARLIER, Cells
from dsar.catalog import Catalog
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import BudgetExceededError, ReleaseConflictError
from dsar.io import sha256_file
from dsar.keys import Keys, Purpose
from dsar.records.releases import Charge, PublishedTable, Release

_SLACK = 1e-9  # float sums of ε compared with the budget


def dims_of(run: AggregateRun, catalog: Catalog) -> dict[str, str]:
    """Each column a spec can group by, under its source's name ("table.column"): the same in
    every run, whatever the join's prefix."""
    return {name: f"{s.table}.{s.column}" for name, s in run.sources(catalog).items()}


def data_version(catalog: Catalog, keys: Keys, tables: Iterable[str]) -> dict[str, str]:
    """Per table, a keyed fingerprint of its files (names and contents)."""
    found: dict[str, str] = {}
    for table in sorted(set(tables)):
        files = "|".join(f"{p.name}:{sha256_file(p)}" for p in catalog.files(table))
        found[table] = keys.keyed_hash(Purpose.RELEASE_REF, f"version|{table}|{files}")[:32]
    return found


def joins_of(run: AggregateRun) -> tuple[tuple[str, str | None], ...]:
    return tuple((j.table, j.via) for j in run.join)


def comparable(
    releases: Sequence[Release], catalog: Catalog, keys: Keys, versions: dict[str, str]
) -> tuple[list[Release], dict[str, str]]:
    """The earlier suppression releases made from the data as it is now (every table they
    read unchanged), and the versions of every table read (this run's and theirs)."""
    wanted = {t for r in releases for t in r.versions} - set(versions)
    present = {t for t in wanted if t in catalog.tables}
    now = {**versions, **data_version(catalog, keys, present)}
    same = [
        r
        for r in releases
        if r.method == "suppression" and all(now.get(t) == v for t, v in r.versions.items())
    ]
    return same, now


def union_joins(run: AggregateRun, earlier: Sequence[Release]) -> list[Join]:
    """This run's joins, then every other table an earlier release joined (the same way).

    Raises:
        ReleaseConflictError: an earlier release joined a table through another column.
    """
    joins: list[Join] = list(run.join)
    seen = {j.table: j.via for j in run.join}
    for release in earlier:
        for table, via in release.joins:
            if table not in seen:
                joins.append(Join(table=table, via=via))
                seen[table] = via
            elif seen[table] != via:
                raise ReleaseConflictError(
                    run.table,
                    release.describe(),
                    f"it joined {table} via {via or 'its one link'}, this run via"
                    f" {seen[table] or 'its one link'}",
                    f"join {table} the same way (via: {via}) so the two can be checked together",
                )
    return joins


def atoms(
    engine: Engine,
    catalog: Catalog,
    run: AggregateRun,
    joins: list[Join],
    columns: Sequence[str],
) -> list[tuple[str | None, ...]]:
    """The distinct combinations of `columns` ("table.column") in the data, as text."""
    links, problems = resolve_links(catalog, run.table, joins)
    if problems:
        _, problem, fix = problems[0]
        raise ReleaseConflictError(run.table, "(joins)", problem, fix)
    outputs = {f"__a{i}": Source(*c.split(".", 1)) for i, c in enumerate(columns)}
    relation = joined_relation(
        run.table, links, {a: s for a, s in outputs.items() if s.table != run.table}
    )
    picks = [
        quote_identifier(s.column if s.table == run.table else a) + f" AS {quote_identifier(a)}"
        for a, s in outputs.items()
    ]
    if not picks:
        return [()]
    rows = engine.query(f"SELECT DISTINCT {', '.join(picks)} FROM {relation}").to_pylist()
    return [tuple(None if r[a] is None else str(r[a]) for a in outputs) for r in rows]


def view(cells: Cells, dims: dict[str, str]) -> View:
    """A table of this run under the union's column names (suppressing in it suppresses in
    the table)."""
    return View(tuple(dims[g] for g in cells.group_by), cells.counts, cells.suppressed)


def earlier_views(releases: Sequence[Release]) -> list[View]:
    """The tables of earlier releases as they were published (their counts are not kept:
    nothing of theirs is ever chosen to be hidden)."""
    found: list[View] = []
    for release in releases:
        for t in release.tables:
            counts = dict.fromkeys([*t.published, *t.suppressed], 0)
            found.append(View(t.dims, counts, dict.fromkeys(t.suppressed, EARLIER)))
    return found


def published(cells: Sequence[Cells], dims: dict[str, str]) -> tuple[PublishedTable, ...]:
    """Each table of this run as the release log keeps it (group values, never counts)."""
    tables: list[PublishedTable] = []
    for c in cells:
        name = c.spec.name
        if tuple(c.group_by) != tuple(c.spec.group_by):
            name += f"[{','.join(c.group_by)}]"
        order = sorted(c.counts, key=lambda k: tuple(str(v) for v in k))
        tables.append(
            PublishedTable(
                name,
                tuple(dims[g] for g in c.group_by),
                tuple(k for k in order if k not in c.suppressed),
                tuple(k for k in order if k in c.suppressed),
            )
        )
    return tuple(tables)


@dataclass(frozen=True)
class Query:
    """One noisy table as a query: its seed (secret) and what it charges."""

    seed: bytes
    charge: Charge


def query(
    keys: Keys,
    run: AggregateRun,
    agg: AggregateSpec,
    dims: dict[str, str],
    versions: dict[str, str],
    epsilon: float,
    delta: float | None,
) -> Query:
    """The query a noisy table asks, keyed: everything its noisy numbers depend on."""
    dp = run.differential_privacy
    assert dp is not None
    what: dict[str, Any] = {
        "dataset": run.table,
        "versions": versions,
        "joins": joins_of(run),
        "person": dims.get(str(run.person)),
        "group_by": [dims[g] for g in agg.group_by],
        "measures": [(m.op, dims.get(str(m.column)), m.bounds) for m in agg.measures],
        "keys": {dims[g]: sorted(v) for g, v in dp.keys.items() if g in agg.group_by},
        "max_groups_per_person": dp.max_groups_per_person,
        "epsilon": epsilon,
        "delta": delta,
    }
    text = json.dumps(what, sort_keys=True, separators=(",", ":"), default=str)
    seed = bytes.fromhex(keys.keyed_hash(Purpose.AGGREGATE_NOISE, text))
    ref = keys.keyed_hash(Purpose.RELEASE_REF, f"query|{text}")[:32]
    return Query(seed, Charge(ref, agg.name, epsilon, delta or 0.0))


@dataclass(frozen=True)
class Spending:
    """The data set's budget, before and after this run."""

    budget: float
    spent_before: float
    charged: float  # what this run adds (0: every query repeated)
    delta_spent: float  # δ of every distinct query, this run's included


def spend(run: AggregateRun, releases: Sequence[Release], charges: Sequence[Charge]) -> Spending:
    """Check this run's charges against the data set's budget.

    Raises:
        BudgetExceededError: the new queries would spend more than is left.
    """
    dp = run.differential_privacy
    assert dp is not None
    spent: dict[str, Charge] = {}
    by: dict[int, float] = {}
    for release in releases:
        for c in release.charges:
            if c.query not in spent:
                spent[c.query] = c
                by[release.seq] = by.get(release.seq, 0.0) + c.epsilon
    new = {c.query: c for c in charges if c.query not in spent}
    stated = [r.budget for r in releases if r.budget is not None]
    if dp.budget is not None:
        stated.append(dp.budget)
    one_run = max([dp.epsilon, *(sum(c.epsilon for c in r.charges) for r in releases)])
    budget = min(stated) if stated else one_run
    before = round(sum(c.epsilon for c in spent.values()), 9)
    needed = round(sum(c.epsilon for c in new.values()), 9)
    if before + needed > budget + _SLACK:
        names = {r.seq: r.describe() for r in releases}
        raise BudgetExceededError(
            run.table,
            budget,
            before,
            needed,
            [f"{names[seq]}: epsilon {round(eps, 9)}" for seq, eps in by.items()],
            "lower epsilon, or repeat an earlier query (the same spec on the same data gives"
            " the same answer, free)"
            + (
                "; a budget once stated can be lowered, never raised"
                if stated
                else "; or state the data set's budget across runs: differential_privacy.budget"
            ),
        )
    delta = sum(c.delta for c in [*spent.values(), *new.values()])
    return Spending(budget, before, needed, delta)


def spent_on(releases: Sequence[Release]) -> tuple[float, float | None]:
    """The ε a data set's releases spent (each distinct query once) and the smallest budget
    any of them stated (None: none did)."""
    spent = {c.query: c.epsilon for r in releases for c in r.charges}
    stated = [r.budget for r in releases if r.budget is not None]
    return round(sum(spent.values()), 9), (min(stated) if stated else None)
