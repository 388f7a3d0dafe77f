"""Columns from linked tables: an extract or aggregate of one table, widened along the catalog.

A policy or aggregate spec names its base table and, under `join:`, tables its rows point at
(an invoice line's invoice, the invoice's customer, a track's genre). Each join follows a
link the catalog declares: a column with `references: table.column`, or a table's
`owned_through` parent. Only links from a row to *one* row are followed, so a join never
repeats or drops a base row (a LEFT JOIN on a key checked to be unique at run time): the
rows of the result are the base table's rows, and k, l and the suppression budget keep
their meaning. The other direction (a customer's many invoices) is refused with the fix:
make the many side the base table.

```yaml
table: invoice_lines
join:
  - table: invoices              # invoice_lines.InvoiceId -> invoices (owned_through)
  - table: customers             # invoices.CustomerId -> customers (references)
  - table: genres                # through tracks, joined before it
    prefix: genre_               # genres.Name comes out as genre_Name
```
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import Field

from anonymize.spec import Strict
from dsar.catalog import Catalog
from dsar.catalog.strict import Loc, suggest
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import ExportDataError

BASE_ALIAS = "__t0"


class Join(Strict):
    """A table the base table's rows point at, along a link of the catalog."""

    table: str = Field(min_length=1, description="a catalog table the rows point at")
    via: str | None = Field(  # not `on`: YAML 1.1 reads a bare `on` key as true
        default=None,
        description="the column that points at it (of the base table or an earlier join), when"
        " more than one does",
    )
    prefix: str = Field(
        default="", description="put before this table's column names in the output (genre_)"
    )


@dataclass(frozen=True)
class Link:
    """A many-to-one link: `source.column` holds keys of `table.key`."""

    source: str  # a table already in the relation
    column: str
    table: str
    key: str


@dataclass(frozen=True)
class Source:
    """Where an output column of a joined relation comes from."""

    table: str
    column: str


def _links_from(catalog: Catalog, source: str, target: str) -> list[Link]:
    found: list[Link] = []
    table = catalog.tables[source]
    for name, spec in table.columns.items():
        if spec.references:
            ref_table, _, ref_column = spec.references.partition(".")
            if ref_table == target:
                found.append(Link(source, name, target, ref_column))
    own = table.owned_through
    if own is not None and own.parent_table == target:
        link = Link(source, own.column, target, own.parent_column)
        if link not in found:
            found.append(link)
    return found


Problem = tuple[Loc, str, str]  # where in the join list, what is wrong, the fix


def resolve_links(
    catalog: Catalog, base: str, joins: Sequence[Join]
) -> tuple[list[Link], list[Problem]]:
    """The link each join follows, and every problem with them (unknown tables, no link, a
    link in the wrong direction, two links and no `on`), located within the join list."""
    present = [base]
    links: list[Link] = []
    problems: list[Problem] = []
    for i, join in enumerate(joins):
        if join.table not in catalog.tables:
            fix = suggest(join.table, catalog.tables, "name a table of the catalog")
            problems.append(((i, "table"), f"no table {join.table!r} in the catalog", fix))
            continue
        if join.table in present:
            problems.append(((i, "table"), f"{join.table} is already in", "join each table once"))
            continue
        candidates = [link for p in present for link in _links_from(catalog, p, join.table)]
        if join.via is not None:
            candidates = [c for c in candidates if join.via in (c.column, f"{c.source}.{c.column}")]
        if len(candidates) == 1:
            links.append(candidates[0])
            present.append(join.table)
            continue
        problems.append(((i,), *_why_not(catalog, present, join, candidates)))
    return links, problems


def _why_not(
    catalog: Catalog, present: list[str], join: Join, candidates: list[Link]
) -> tuple[str, str]:
    if candidates:
        named = ", ".join(f"{c.source}.{c.column}" for c in candidates)
        return (
            f"more than one column points at {join.table}: {named}",
            f"say which with via: {candidates[0].column}",
        )
    backwards = [link for p in present for link in _links_from(catalog, join.table, p)]
    if backwards:
        link = backwards[0]
        return (
            f"{join.table} points at {link.table} ({join.table}.{link.column}): one"
            f" {link.table} row has many {join.table} rows, and joining them would repeat rows",
            f"make {join.table} the base table (table: {join.table}) and join {link.table} to it",
        )
    if join.via is not None:
        return (
            f"{join.via} does not point at {join.table} in the catalog",
            "name a column with references: or owned_through: to it, or leave out via:",
        )
    return (
        f"nothing in {', '.join(present)} points at {join.table} in the catalog",
        f"declare the link in the catalog (references: {join.table}.<key> on the column that"
        " holds its keys), or join a table in between first",
    )


def joined_relation(
    base: str,
    links: Sequence[Link],
    outputs: dict[str, Source],
    keep: dict[str, str] | None = None,
) -> str:
    """SQL of the base table's rows with the joined columns beside its own (under their output
    names). Every base column keeps its name, so conditions on the base table still apply.
    `keep`: per joined table, a condition its rows must meet to be joined (the suppression
    ledger's); a row that fails it joins nothing, and its columns stay empty."""
    keep = keep or {}
    alias = {base: BASE_ALIAS}
    for i, link in enumerate(links, start=1):
        alias[link.table] = f"__t{i}"
    picks = [f"{quote_identifier(BASE_ALIAS)}.*"]
    for name, src in outputs.items():
        if src.table != base:
            picks.append(
                f"{quote_identifier(alias[src.table])}.{quote_identifier(src.column)}"
                f" AS {quote_identifier(name)}"
            )
    sql = (
        f"SELECT {', '.join(picks)} FROM {quote_identifier(base)} AS {quote_identifier(BASE_ALIAS)}"
    )
    for link in links:
        a, b = quote_identifier(alias[link.source]), quote_identifier(alias[link.table])
        table = quote_identifier(link.table)
        if link.table in keep:
            table = f"(SELECT * FROM {table} WHERE {keep[link.table]})"
        sql += (
            f" LEFT JOIN {table} AS {b}"
            f" ON {a}.{quote_identifier(link.column)} = {b}.{quote_identifier(link.key)}"
        )
    return f"({sql})"


def check_unique(engine: Engine, links: Iterable[Link]) -> None:
    """Each value that points at a joined table must find at most one row there, compared as
    the join compares (an integer 1 finds both '1' and '01' of a text key), or a join would
    repeat base rows."""
    for link in links:
        column, key = quote_identifier(link.column), quote_identifier(link.key)
        got = engine.query(
            f"SELECT count(*) AS n FROM (SELECT d.v FROM (SELECT DISTINCT {column} AS v FROM"
            f" {quote_identifier(link.source)} WHERE {column} IS NOT NULL) d JOIN"
            f" {quote_identifier(link.table)} t ON d.v = t.{key} GROUP BY d.v HAVING count(*) > 1)"
        )
        repeated = int(got.column("n")[0].as_py())
        if repeated:
            raise ExportDataError(
                link.table,
                link.key,
                f"is not unique for the values of {link.source}.{link.column} ({repeated} of"
                " them find more than one row): joining would repeat rows",
                f"fix the export, or declare another key in {link.source}.{link.column}'s"
                " references",
            )


def name_clashes(
    base_columns: Iterable[str], joined: Sequence[tuple[Join, Iterable[str]]]
) -> list[Problem]:
    """Joined columns whose output name is already taken (by the base table or a join)."""
    taken = set(base_columns)
    problems: list[Problem] = []
    for i, (join, columns) in enumerate(joined):
        for column in columns:
            name = output_name(join, column)
            if name in taken:
                problems.append(
                    (
                        (i, "columns", column),
                        f"{join.table}.{column} would be named {name!r}, a name already taken",
                        f"give the join a prefix: prefix: {join.table}_",
                    )
                )
            taken.add(name)
    return problems


def sources(
    base: str, columns: Iterable[str], joined: Sequence[tuple[Join, Iterable[str]]]
) -> dict[str, Source]:
    """Where each output column comes from: the base table's own, then each join's."""
    found = {c: Source(base, c) for c in columns}
    for join, taken in joined:
        found.update({output_name(join, c): Source(join.table, c) for c in taken})
    return found


def output_name(join: Join, column: str) -> str:
    """The name a joined column has in the output."""
    return f"{join.prefix}{column}"
