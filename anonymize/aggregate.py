"""Aggregate tables with small-cell and complementary suppression.

A spec names one catalog table and the aggregates to publish from it, each a group-by with
counts, sums and means. A cell counting fewer people than `min_count` (10 by default) is
suppressed (primary suppression). Published totals make suppressed cells recomputable: a
row, a column or a whole table of the same run whose total is published and in which exactly
one cell is suppressed gives that cell away by subtraction. So, until no such line is left,
the smallest published cell of every such line is suppressed too (complementary suppression),
across every aggregate of the run whose groups nest in another's: the coarser table's cells
are the finer table's line totals.

```yaml
version: 1
name: accounts-by-country
table: accounts
person: user_id                        # counts count people, not rows
min_count: 10
aggregates:
  - name: by_country_plan
    group_by: [country, plan]
    margins: true                      # also publish the totals per country, per plan, overall
    measures:
      - {name: people, op: count}
output: {format: csv}
```
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
from pydantic import Field

from anonymize.joins import (
    Join,
    Source,
    check_unique,
    joined_relation,
    name_clashes,
    resolve_links,
    sources,
)
from anonymize.policy import points_at_a_person
from anonymize.spec import Strict, unknown_table
from anonymize.suppression import Cells, protect, suppress_small
from dsar._version import __version__
from dsar.catalog import Catalog, load_yaml_model
from dsar.catalog.strict import YamlDocument, suggest
from dsar.engine import open_engine
from dsar.engine.base import Engine, quote_identifier, sql_string
from dsar.errors import ConfigProblem, WorkbenchError
from dsar.io import plain_name, sha256_file
from dsar.review.manifest import (
    AggregateManifest,
    ArtifactKind,
    InputRef,
    OutputFile,
    ToolInfo,
    write_manifest,
)

TOTAL = "(total)"  # the group value of a margin row


class Measure(Strict):
    """One published number per cell."""

    name: str = Field(min_length=1, description="the output column")
    op: Literal["count", "sum", "mean"] = Field(description="count people, sum or mean a column")
    column: str | None = Field(default=None, description="the column summed or averaged")


class AggregateSpec(Strict):
    """One published table: a group-by and its measures."""

    name: str = Field(min_length=1, description="the output file's name, without extension")
    group_by: list[str] = Field(min_length=1, description="the columns that define a cell")
    measures: list[Measure] = Field(
        default_factory=lambda: [Measure(name="count", op="count")],
        description="what each cell publishes",
    )
    margins: bool = Field(default=False, description="also publish the totals of each line")


class AggregateOutput(Strict):
    format: Literal["csv", "parquet"] = Field(default="csv", description="file format")


class AggregateJoin(Join):
    """A table the rows point at, and the columns taken from it."""

    columns: list[str] = Field(min_length=1, description="the columns taken from it")


class AggregateRun(Strict):
    """The aggregates of one run over one catalog table (widened with `join:`)."""

    version: Literal[1] = Field(description="spec format version; currently 1")
    name: str = Field(min_length=1, description="the run's name (its folder)")
    table: str = Field(min_length=1, description="the catalog table aggregated")
    person: str | None = Field(
        default=None, description="the column naming the person: counts count people"
    )
    min_count: int = Field(default=10, ge=2, description="smallest count published in a cell")
    join: list[AggregateJoin] = Field(
        default_factory=list,
        description="tables the rows point at (along the catalog's links), with the columns"
        " taken from each",
    )
    aggregates: list[AggregateSpec] = Field(min_length=1, description="the tables published")
    output: AggregateOutput = Field(default_factory=AggregateOutput, description="format")

    def sources(self, catalog: Catalog) -> dict[str, Source]:
        """Where each column the aggregates may use comes from."""
        base = catalog.tables[self.table].columns
        return sources(self.table, base, [(j, j.columns) for j in self.join])


def _problems(run: AggregateRun, catalog: Catalog, doc: YamlDocument) -> Iterable[ConfigProblem]:
    missing = unknown_table(catalog, run.table, doc)
    if missing is not None:
        yield missing
        return
    table = catalog.tables[run.table]
    _, link_problems = resolve_links(catalog, run.table, run.join)
    clashes = name_clashes(table.columns, [(j, j.columns) for j in run.join])
    for loc, message, fix in [*link_problems, *clashes]:
        yield doc.problem(("join", *loc), message, fix)
    for i, join in enumerate(run.join):
        joined = catalog.tables.get(join.table)
        for j, column in enumerate(join.columns):
            if joined is not None and column not in joined.columns:
                yield doc.problem(
                    ("join", i, "columns", j),
                    f"{join.table} has no column {column!r}",
                    suggest(column, joined.columns, "name a column of the table"),
                )
    available = {
        name: src
        for name, src in run.sources(catalog).items()
        if src.column in catalog.tables[src.table].columns
    }
    names = [a.name for a in run.aggregates]
    for i, agg in enumerate(run.aggregates):
        if names.count(agg.name) > 1:
            yield doc.problem(
                ("aggregates", i, "name"), "two aggregates share a name", "rename one"
            )
        for j, column in enumerate(agg.group_by):
            src = available.get(column)
            if src is None:
                yield doc.problem(
                    ("aggregates", i, "group_by", j),
                    f"{run.table} has no column {column!r}",
                    suggest(column, available, "name a column of the table or of a join"),
                )
                continue
            spec = catalog.tables[src.table].columns[src.column]
            if (
                spec.identity is not None
                or spec.free_text
                or spec.secret
                or spec.personal
                or points_at_a_person(catalog, src.table, src.column)
            ):
                yield doc.problem(
                    ("aggregates", i, "group_by", j),
                    f"{column} identifies people or holds personal data: a cell per value"
                    " would publish it",
                    "group by a column that holds no personal data",
                )
        for j, m in enumerate(agg.measures):
            if m.op != "count" and (m.column is None or m.column not in available):
                yield doc.problem(
                    ("aggregates", i, "measures", j),
                    f"{m.op} needs a column of {run.table} or of a join",
                    suggest(m.column or "", available, "add column: <a numeric column>"),
                )
    if run.person is not None and run.person not in available:
        yield doc.problem(
            ("person",),
            f"{run.table} has no column {run.person!r}",
            suggest(run.person, available, "name the column of the person's id"),
        )


def load_aggregate_spec(path: str | Path, catalog: Catalog) -> AggregateRun:
    """Read and check an aggregate spec against the catalog (every problem at once)."""
    return load_yaml_model(
        path,
        AggregateRun,
        what="aggregate spec",
        checks=lambda r, doc: list(_problems(r, catalog, doc)),
    )


@dataclass(frozen=True)
class AggregateResult:
    folder: Path
    files: dict[str, Path]
    manifest: AggregateManifest


def run_aggregates(
    spec: AggregateRun | str | Path,
    catalog: Catalog,
    out: str | Path,
    *,
    now: datetime | None = None,
) -> AggregateResult:
    """Compute, suppress and write every aggregate of a spec into `out/<name>/`."""
    spec_path = None if isinstance(spec, AggregateRun) else Path(spec)
    if spec_path is not None:
        spec = load_aggregate_spec(spec_path, catalog)
    assert isinstance(spec, AggregateRun)
    folder = Path(out) / plain_name(spec.name, "aggregate name")
    if folder.exists():
        raise WorkbenchError(f"{folder} exists: aggregates are never overwritten; remove it first")
    links, _ = resolve_links(catalog, spec.table, spec.join)
    relation = (
        joined_relation(spec.table, links, spec.sources(catalog))
        if links
        else quote_identifier(spec.table)
    )
    with open_engine(catalog) as engine:
        check_unique(engine, links)
        rows_in = engine.count_rows(spec.table)
        cells: list[Cells] = []
        for agg in spec.aggregates:
            cells.append(_compute(engine, relation, spec, agg, tuple(agg.group_by)))
            if agg.margins:  # every total line, down to the grand total, is published too
                for size in range(len(agg.group_by) - 1, -1, -1):
                    for dims in combinations(agg.group_by, size):
                        cells.append(_compute(engine, relation, spec, agg, dims))
    primary = sum(suppress_small(c, spec.min_count) for c in cells)
    complementary = protect(cells)
    Path(out).mkdir(parents=True, exist_ok=True)
    work = Path(out) / f".{folder.name}.partial-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    try:
        files = {
            a.name: _write(a, [c for c in cells if c.spec is a], spec, work)
            for a in spec.aggregates
        }
        manifest = AggregateManifest(
            kind=ArtifactKind.AGGREGATE,
            format_version=1,
            tool=ToolInfo(name="privacy-workbench", version=__version__),
            created_at=now or datetime.now(UTC),
            inputs=_inputs(catalog, spec_path, spec.table, [j.table for j in spec.join]),
            outputs=tuple(
                OutputFile.of(
                    p,
                    work,
                    rows=sum(len(c.counts) for c in cells if c.spec.name == n),
                    table=spec.table,
                )
                for n, p in files.items()
            ),
            parameters={"format": spec.output.format},
            name=spec.name,
            table=spec.table,
            rows_in=rows_in,
            min_count=spec.min_count,
            counts_people=spec.person is not None,
            cells={
                a.name: sum(len(c.counts) for c in cells if c.spec is a) for a in spec.aggregates
            },
            suppressed={"primary": primary, "complementary": complementary},
            group_by={a.name: tuple(a.group_by) for a in spec.aggregates},
            measures={a.name: {m.name: m.op for m in a.measures} for a in spec.aggregates},
        )
        write_manifest(manifest, work / "manifest.json")
        work.rename(folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return AggregateResult(folder, {k: folder / v.name for k, v in files.items()}, manifest)


def _compute(
    engine: Engine, relation: str, run: AggregateRun, agg: AggregateSpec, dims: tuple[str, ...]
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
    table = engine.query(f"SELECT {select} FROM {relation}{group}")
    counts: dict[tuple[Any, ...], int] = {}
    values: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in table.to_pylist():
        if not row["__n"]:
            continue  # an empty table's grand total
        key = tuple(row[g] for g in dims)
        counts[key] = int(row["__n"])
        values[key] = {
            m.name: int(row["__n"]) if m.op == "count" else row[m.name] for m in agg.measures
        }
    return Cells(agg, dims, counts, values, {})


def _write(agg: AggregateSpec, parts: list[Cells], run: AggregateRun, folder: Path) -> Path:
    """One file per aggregate: its cells, then its margins (TOTAL in the collapsed columns)."""
    records: list[dict[str, Any]] = []
    for cells in parts:
        for key in sorted(cells.counts, key=lambda k: tuple(str(v) for v in k)):
            given = dict(zip(cells.group_by, key, strict=True))
            row: dict[str, Any] = {
                g: (str(given[g]) if given[g] is not None else None) if g in given else TOTAL
                for g in agg.group_by
            }
            hidden = key in cells.suppressed
            row.update(
                {m.name: None if hidden else cells.values[key][m.name] for m in agg.measures}
            )
            row["suppressed"] = cells.suppressed.get(key)
            records.append(row)
    path = folder / f"{plain_name(agg.name, 'aggregate name')}.{run.output.format}"
    schema = pa.schema(
        [pa.field(g, pa.string()) for g in agg.group_by]
        + [pa.field(m.name, pa.int64() if m.op == "count" else pa.float64()) for m in agg.measures]
        + [pa.field("suppressed", pa.string())]
    )
    table = pa.Table.from_pylist(records, schema=schema)
    con = duckdb.connect()
    try:
        con.register("t", table)
        fmt = "FORMAT csv, HEADER" if run.output.format == "csv" else "FORMAT parquet"
        con.execute(f"COPY t TO {sql_string(str(path))} ({fmt})")
    finally:
        con.close()
    path.chmod(0o600)
    return path


def _inputs(
    catalog: Catalog, spec_path: Path | None, table: str, joined: list[str]
) -> tuple[InputRef, ...]:
    files = [f for t in (table, *joined) for f in catalog.files(t)]
    refs = [
        InputRef(
            role="catalog",
            name=catalog.source.name if catalog.source else None,
            sha256=sha256_file(catalog.source) if catalog.source else None,
        )
    ]
    if spec_path is not None:
        refs.append(InputRef(role="spec", name=spec_path.name, sha256=sha256_file(spec_path)))
    refs += [InputRef(role="source", name=p.name, sha256=sha256_file(p)) for p in files]
    return tuple(refs)
