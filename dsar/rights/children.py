"""Rows owned through a retained parent: kept with it, for as long as it is kept.

An invoice kept seven years for the tax authority is kept with its lines, and a line with
its notes: a record kept under a legal obligation is kept whole. Erasure and the retention
sweep leave such rows as they are, whatever the child table's own action, until the
parent rows are past their retention; then the children go with them. A catalog can ask
otherwise, `erasure: {action: delete, even_if_parent_retained: true}`, and `dsar catalog
check` warns about it.

The rows are chosen in SQL through the parent table, to any depth, so that the plan's
counts and the rewrite of the files select the same rows:

    stays = erasure_stays(catalog, data, rules, today)  # a retained table's rows kept now
    rows = erasure_rows(catalog, "invoice_lines", data, rules, today)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from dsar.catalog.models import Catalog, ErasureAction, Ownership
from dsar.engine.base import Engine, quote_identifier
from dsar.engine.ownership import sql_key_text
from dsar.rights.actions import PersonRows, Retain, SqlPart, TableAction
from dsar.subjects.collect import SubjectData
from dsar.subjects.identity import MatchRules
from dsar.subjects.selection import row_predicate

Stays = Callable[[str], SqlPart]
"""For a table whose erasure retains: SQL (with its parameters) true for its rows kept now."""


def kept_with_parent(catalog: Catalog, name: str, stays: Stays) -> SqlPart | None:
    """SQL true for rows of `name` whose parent row is kept: retained under its table's own
    rule, or itself kept with its parent. None: no table up the chain retains.

    The table's own `even_if_parent_retained` is its caller's to weigh; a parent's is
    followed here (a parent erased all the same keeps none of its children).
    """
    return _with_parent(catalog, name, stays, 0)


def _kept(catalog: Catalog, name: str, stays: Stays, depth: int) -> SqlPart | None:
    """Rows of `name` that stay: retained under its own rule, or kept with their parent."""
    table = catalog.tables[name]
    parts = [stays(name)] if table.erasure.action is ErasureAction.RETAIN else []
    if not table.erasure.even_if_parent_retained:
        above = _with_parent(catalog, name, stays, depth + 1)
        parts += [above] if above is not None else []
    if not parts:
        return None
    return "(" + " OR ".join(sql for sql, _ in parts) + ")", [p for _, ps in parts for p in ps]


def _with_parent(catalog: Catalog, name: str, stays: Stays, depth: int) -> SqlPart | None:
    own = catalog.tables[name].owned_through
    # the loader refuses a circle; the depth bounds one in a catalog built in code
    if own is None or own.parent_table not in catalog.tables or depth > len(catalog.tables):
        return None
    parent = _kept(catalog, own.parent_table, stays, depth)
    if parent is None:
        return None
    sql, params = parent
    column = sql_key_text(quote_identifier(own.column))
    key = sql_key_text(quote_identifier(own.parent_column))
    return (
        f"coalesce({column} IN (SELECT {key} FROM {quote_identifier(own.parent_table)}"
        f" WHERE {sql}), false)",
        params,
    )


def erasure_stays(catalog: Catalog, data: SubjectData, rules: MatchRules, today: date) -> Stays:
    """A retained table's rows of the person that erasure keeps today."""

    def stays(name: str) -> SqlPart:
        table = catalog.tables[name]
        predicate, params = row_predicate(table, data, rules)
        return Retain().stays_sql(PersonRows(table, predicate, params, today))

    return stays


@dataclass(frozen=True)
class ErasureRows:
    """One table's rows of the person, as erasure sees them."""

    person: SqlPart  # every row of the person in the table
    acted: PersonRows  # the rows its action reaches: less those kept with their parent
    with_parent: SqlPart | None  # the person's rows whose parent rows are kept (None: none can)
    anyway: bool  # the catalog asks to act on those too (erasure.even_if_parent_retained)


def erasure_rows(
    catalog: Catalog, name: str, data: SubjectData, rules: MatchRules, today: date
) -> ErasureRows:
    """The person's rows of `name`, those its erasure action reaches and those kept."""
    table = catalog.tables[name]
    predicate, params = row_predicate(table, data, rules)
    kept = kept_with_parent(catalog, name, erasure_stays(catalog, data, rules, today))
    anyway = table.erasure.even_if_parent_retained
    with_parent = None
    acted = PersonRows(table, predicate, params, today)
    if kept is not None:
        with_parent = (f"({predicate} AND {kept[0]})", [*params, *kept[1]])
        if not anyway:
            acted = PersonRows(table, f"({predicate} AND NOT {kept[0]})", with_parent[1], today)
    return ErasureRows((predicate, params), acted, with_parent, anyway)


@dataclass(frozen=True)
class KeptDetails:
    """The parent rows that rows kept with them (or changed all the same) belong to."""

    parent: str  # the table the rows are owned through
    parent_rows: int  # its rows they belong to
    until: str | None  # the latest date the retained rows above them are kept to
    open_ended: int  # rows whose retained row above has no end date yet


def kept_details(catalog: Catalog, engine: Engine, name: str, rows: SqlPart) -> KeptDetails:
    """For `rows` of `name` (kept with their parents): their parent rows, and until when the
    nearest retained table above keeps its rows.

    The date is that table's own; where its rows are in turn kept with a retained parent of
    theirs (two retained tables in one chain), they may be kept longer than it says.
    """
    chain: list[Ownership] = []
    at = name
    while (own := catalog.tables[at].owned_through) is not None and len(chain) <= len(
        catalog.tables
    ):
        chain.append(own)
        at = own.parent_table
        if catalog.tables[at].erasure.action is ErasureAction.RETAIN:
            break
    top = catalog.tables[at]
    until = Retain.until_sql(top) if top.erasure.action is ErasureAction.RETAIN else None
    sql, params = rows

    def text(column: str) -> str:
        return sql_key_text(quote_identifier(column))

    joins = [f"(SELECT {text(chain[0].column)} AS up FROM {quote_identifier(name)} WHERE {sql}) t0"]
    for i, own in enumerate(chain, start=1):
        # each parent gives the key its child joins on, and its own parent's key; the top
        # one gives the date it is kept to
        above = (
            f"{text(chain[i].column)} AS up" if i < len(chain) else f"{until or 'NULL'} AS until"
        )
        joins.append(
            f"JOIN (SELECT {text(own.parent_column)} AS k, {above} FROM"
            f" {quote_identifier(own.parent_table)}) t{i} ON t{i - 1}.up = t{i}.k"
        )
    last = f"t{len(chain)}"
    open_ended = f"count(*) FILTER (WHERE {last}.until IS NULL)" if until else "0"
    found = engine.query(
        f"SELECT count(DISTINCT t1.k) AS parents, max({last}.until) AS until,"
        f" {open_ended} AS open_ended FROM {' '.join(joins)}",
        params,
    ).to_pylist()[0]
    return KeptDetails(
        chain[0].parent_table,
        int(found["parents"]),
        str(found["until"]) if found["until"] is not None else None,
        int(found["open_ended"]),
    )


def kept_words(a: TableAction) -> str | None:
    """'38 row(s) kept with their 7 row(s) of invoices until 2032-08-07' (None: none kept)."""
    if not a.kept_with_parent:
        return None
    return (
        f"{a.kept_with_parent} row(s) kept with their {a.parent_rows} row(s) of {a.parent}"
        f"{_until(a)}"
    )


def anyway_words(a: TableAction, done: bool) -> str | None:
    """'38 row(s) of 7 retained row(s) of invoices deleted all the same (...)' (None: none)."""
    if not a.changed_anyway:
        return None
    verb = "deleted" if a.action is ErasureAction.DELETE else "changed"
    return (
        f"{a.changed_anyway} row(s) of {a.parent_rows} retained row(s) of {a.parent}"
        f" {verb if done else 'to be ' + verb} all the same, as erasure.even_if_parent_retained"
        " asks"
    )


def _until(a: TableAction) -> str:
    dated = a.kept_with_parent - a.kept_open
    if a.kept_until is not None and not a.kept_open:
        return f" until {a.kept_until}"
    if a.kept_until is not None:
        return f" ({dated} until {a.kept_until}, {a.kept_open} until their end date is known)"
    if a.kept_open:
        return ", until their end date is known"
    return ", for as long as those are kept"


__all__ = [
    "ErasureRows",
    "KeptDetails",
    "Stays",
    "anyway_words",
    "erasure_rows",
    "erasure_stays",
    "kept_details",
    "kept_with_parent",
    "kept_words",
]
