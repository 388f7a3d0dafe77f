"""The aggregate spec: which table (and joins), the tables published, suppression or noise.

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

Read with the catalog's strict loader: every problem at once, with its line and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field

from anonymize.joins import Join, Source, name_clashes, resolve_links, sources
from anonymize.policy import person_problem, points_at_a_person
from anonymize.spec import Strict, checked_spec, unknown_table
from dsar.catalog import Catalog
from dsar.catalog.strict import YamlDocument, suggest
from dsar.errors import ConfigProblem


class DifferentialPrivacy(Strict):
    """Noise instead of suppression: the privacy loss ε (and δ for undeclared cells)."""

    epsilon: float = Field(gt=0, le=10, description="the privacy loss of the whole run")
    budget: float | None = Field(
        default=None,
        gt=0,
        le=20,
        description="the privacy loss allowed across every run of the data set (the base"
        " table), counted in the release log; the smallest ever stated holds. Default, when"
        " no run stated one: one run's worth (the largest epsilon of a run of it)",
    )
    delta: float = Field(
        default=1e-6,
        gt=0,
        le=1e-3,
        description="the chance a cell of one person is released (cells not declared in keys)",
    )
    max_groups_per_person: int = Field(
        default=1, ge=1, le=100, description="cells of a table one person may count in"
    )
    keys: dict[str, list[str]] = Field(
        default_factory=dict,
        description="the public values of group columns ({plan: [free, pro, team]}); with every"
        " group column declared, no cell depends on who is in the data",
    )


class Measure(Strict):
    """One published number per cell."""

    name: str = Field(min_length=1, description="the output column")
    op: Literal["count", "sum", "mean"] = Field(description="count people, sum or mean a column")
    column: str | None = Field(default=None, description="the column summed or averaged")
    bounds: tuple[float, float] | None = Field(
        default=None,
        description="with differential privacy: each person's value in a cell is clamped to"
        " [low, high] (their sum or mean's sensitivity)",
    )


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
    differential_privacy: DifferentialPrivacy | None = Field(
        default=None,
        description="noise instead of suppression: {epsilon: 1.0} (needs person, and bounds"
        " on sums and means)",
    )
    output: AggregateOutput = Field(default_factory=AggregateOutput, description="format")

    def sources(self, catalog: Catalog) -> dict[str, Source]:
        """Where each column the aggregates may use comes from."""
        base = catalog.tables[self.table].columns
        return sources(self.table, base, [(j, j.columns) for j in self.join])


def aggregate_problems(
    run: AggregateRun, catalog: Catalog, doc: YamlDocument
) -> Iterable[ConfigProblem]:
    """What the spec gets wrong about the catalog: every one, with its fix."""
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
        if src.table in catalog.tables and src.column in catalog.tables[src.table].columns
    }  # a join to an unknown table is reported above, its columns are not available
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
    yield from _dp_problems(run, doc)
    owner = table.owned_through
    if run.person is None and owner is not None:
        yield doc.problem(
            ("table",),
            f"{run.table} rows belong to the owner of their {owner.parent_table} row, and one"
            " person can have many: a cell would count rows, not people",
            f"join {owner.parent_table} (join: [{{table: {owner.parent_table}, columns:"
            " [<its person column>]}]) and add person: <that column>",
        )
    if run.person is not None and run.person not in available:
        yield doc.problem(
            ("person",),
            f"{run.table} has no column {run.person!r}",
            suggest(run.person, available, "name the column of the person's id"),
        )
    elif run.person is not None:
        problem = person_problem(catalog, run.table, run.person, available)
        if problem is not None:
            yield doc.problem(("person",), *problem)


def _dp_problems(run: AggregateRun, doc: YamlDocument) -> Iterable[ConfigProblem]:
    dp_spec = run.differential_privacy
    if dp_spec is None:
        for i, agg in enumerate(run.aggregates):
            for j, m in enumerate(agg.measures):
                if m.bounds is not None:
                    yield doc.problem(
                        ("aggregates", i, "measures", j, "bounds"),
                        "bounds clamp values only under differential_privacy",
                        "remove bounds, or add differential_privacy: {epsilon: 1.0}",
                    )
        return
    if run.person is None:
        yield doc.problem(
            ("differential_privacy",),
            "differential privacy bounds what one person adds: it needs the person column",
            "add person: <the column of the person's id>",
        )
    groups = {g for agg in run.aggregates for g in agg.group_by}
    for column in dp_spec.keys:
        if column not in groups:
            yield doc.problem(
                ("differential_privacy", "keys", column),
                f"{column} is not a group column of any aggregate",
                suggest(column, groups, "declare the values of a group_by column"),
            )
    for i, agg in enumerate(run.aggregates):
        for j, m in enumerate(agg.measures):
            if m.op != "count" and m.bounds is None:
                yield doc.problem(
                    ("aggregates", i, "measures", j),
                    f"{m.op} of {m.column} under differential privacy needs bounds",
                    "add bounds: [low, high] (the range one person's value is clamped to)",
                )
            if m.bounds is not None and m.bounds[0] > m.bounds[1]:
                yield doc.problem(
                    ("aggregates", i, "measures", j, "bounds"),
                    "bounds are [low, high]",
                    "give the low bound first",
                )


def load_aggregate_spec(path: str | Path, catalog: Catalog) -> AggregateRun:
    """Read and check an aggregate spec against the catalog (`checked_spec`, as
    `run_aggregates` does): every problem at once."""
    return checked_spec(
        Path(path), AggregateRun, catalog, aggregate_problems, what="aggregate spec"
    )[0]
