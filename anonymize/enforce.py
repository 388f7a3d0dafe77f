"""Suppression of the classes that miss k or l, counted in people, within the policy's budget.

Where each row is a person, a class smaller than k (or with fewer than l sensitive values)
is suppressed, its rows gone. Where people have several rows, a class's size is its
distinct people, and a person with a row in a failing class leaves with all their rows
(their other rows carry their pseudonym, so they would name them anyway). Leaving can shrink
another class of theirs below k, so the classes are counted again, without them, until none
fails. The budget is a share of the people (the rows, where each row is a person).

Whose row it is (the WHO column, `who_sql`) follows the catalog's identity links, as a
subject access request does: the row's `person:` value or, where it is empty (a web log line
of no signed-in user), the person its other identifiers (device id, cookie id, email, ...)
are seen with anywhere in the export. A red team found 773 of 794 classes "k = 2" of a web log
holding one person: their anonymous rows, each counted as a person of its own, were theirs,
through their device. Rows that resolve to nobody are one person per distinct identifier
(one device's rows are one person), and rows with no identifier at all one person per class:
they may all be one person, or the named person beside them, and they leave one by one with
their failing class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from anonymize.search import within_budget
from dsar.catalog import Catalog
from dsar.catalog.models import IdentityKind, Role
from dsar.engine.base import quote_identifier, sql_string
from dsar.errors import PrivacyTargetError
from dsar.subjects.identity import sql_normalize
from dsar.subjects.people import PLAIN

WHO = "__who"
"""The staged column naming whose row it is (a digest of the resolved person); never written."""
UNRESOLVED = "~"
"""The start of a WHO value that is an identifier's digest, not a person's (no one is known by
it): one person per identifier."""


def person_kind(catalog: Catalog, table: str, column: str) -> IdentityKind | None:
    """The identity kind of a person column: its own, or that of the column it references."""
    spec = catalog.tables[table].columns[column]
    if spec.identity is not None:
        return spec.identity
    if spec.references:
        ref_table, _, ref_column = spec.references.partition(".")
        target = catalog.tables.get(ref_table)
        ref = target.columns.get(ref_column) if target else None
        return ref.identity if ref is not None else None
    return None


def who_sql(
    catalog: Catalog, table: str, person: str, source: tuple[str, str] | None = None
) -> str:
    """SQL (over the rows of `table`, by their own column names) of whose row it is: a digest
    of the row's `person` value; where that is NULL, of the person the row's other identity
    columns resolve to through the catalog's links; else of the identifier itself, marked
    `UNRESOLVED`; NULL for a row with no identifier at all.

    An identifier resolves to the people it is seen with, in one row, in any controller table
    that holds both its kind and the person's (the table itself included): a device id in the
    usage events next to a user id. Where several people share it (a family laptop), the row
    is given to one of them (the least digest), which never counts a person who is not among
    them. `source`: the table and column the person column comes from, when joined (default:
    `table`, `person`). The values are compared normalised as subject access compares them.
    """
    src_table, src_column = source or (table, person)
    own = f"md5(CAST({quote_identifier(person)} AS VARCHAR))"
    kind = person_kind(catalog, src_table, src_column)
    if kind is None:
        return own
    spec = catalog.tables[table]
    parts = [own]
    fallbacks: list[str] = []
    for column, link in spec.identity_columns().items():
        if (table, column) == (src_table, src_column):
            continue
        value = sql_normalize(link, quote_identifier(column), PLAIN)
        if link is kind:  # another column naming the same kind of person
            parts.append(f"md5(CAST({quote_identifier(column)} AS VARCHAR))")
            continue
        pairs = _pairs(catalog, link, kind)
        if pairs:
            parts.append(f"(SELECT min(__p) FROM ({pairs}) AS __links WHERE __l = {value})")
        fallbacks.append(
            f"{sql_string(UNRESOLVED)} || md5({sql_string(link.value + ':')} || {value})"
        )
    return f"coalesce({', '.join(parts + fallbacks)})"


def _pairs(catalog: Catalog, link: IdentityKind, kind: IdentityKind) -> str:
    """SQL of (__l, __p): each normalised `link` identifier and the digest of a person it is
    seen with in a row, over every controller table holding both kinds."""
    selects = []
    for name, table in catalog.tables.items():
        if table.role is not Role.CONTROLLER:
            continue
        kinds = table.identity_columns()
        linked = [c for c, k in kinds.items() if k is link]
        people = [c for c, k in kinds.items() if k is kind]
        people += [
            c for c in table.columns if c not in kinds and person_kind(catalog, name, c) is kind
        ]
        for lc in linked:
            for pc in people:
                l_sql = sql_normalize(link, quote_identifier(lc), PLAIN)
                p_sql = quote_identifier(pc)
                selects.append(
                    f"SELECT {l_sql} AS __l, md5(CAST({p_sql} AS VARCHAR)) AS __p"
                    f" FROM {quote_identifier(name)} WHERE {p_sql} IS NOT NULL"
                )
    return " UNION ALL ".join(selects)


@dataclass(frozen=True)
class Enforced:
    """What the suppression left out, and the SQL of the rows that stay."""

    rows: dict[str, int]  # rows left out, by reason ('k', 'l')
    people: dict[str, int]  # people left out, by reason (the rows, where each row is a person)
    sql: str  # the rows that stay, with every staged column


def enforce(
    con: duckdb.DuckDBPyConnection,
    src: str,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    *,
    k: int,
    l_target: int | None,
    budget: float,
    person: bool,
) -> Enforced:
    """Suppress the classes of `src` that miss k or l (`person`: `src` has the WHO column,
    and sizes count people).

    Raises:
        PrivacyTargetError: meeting k and l would leave out more than the budget, or the
            whole extract (no quasi-identifiers) misses them.
    """
    qis = [quote_identifier(q) for q in quasi_identifiers]
    who = quote_identifier(WHO)
    size = class_size(WHO) if person else "count(*)"
    units = f"count(DISTINCT {who}) + count(*) FILTER (WHERE {who} IS NULL)"
    got = con.execute(f"SELECT count(*), {units if person else 'count(*)'}, {size} FROM {src}")
    row = got.fetchone()
    rows, people, whole = (
        (int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)) if row else (0, 0, 0)
    )
    unit = "people" if person else "rows"
    if not qis:
        _whole(con, src, sensitive, k, l_target, whole, unit)
        return Enforced({"k": 0, "l": 0}, {"k": 0, "l": 0}, f"SELECT * FROM {src}")
    if k <= 1 and not l_target:
        return Enforced({"k": 0, "l": 0}, {"k": 0, "l": 0}, f"SELECT * FROM {src}")
    key = ", ".join(qis)
    distinct = "".join(
        f", count(DISTINCT {quote_identifier(s)}) + max(CASE WHEN {quote_identifier(s)} IS NULL"
        f" THEN 1 ELSE 0 END) AS {quote_identifier('__l_' + s)}"
        for s in sensitive
    )
    least_l = (
        f"least({', '.join(quote_identifier('__l_' + s) for s in sensitive)})"
        if sensitive
        else "NULL"
    )
    fails = f"__n < {k}" + (f" OR {least_l} < {int(l_target)}" if l_target else "")
    why = f"CASE WHEN __n < {k} THEN 'k' ELSE 'l' END"
    match = " AND ".join(f"f.{q} IS NOT DISTINCT FROM s.{q}" for q in qis)
    if not person:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __failing AS SELECT {key}, __n, {why} AS __why FROM"
            f" (SELECT {key}, count(*) AS __n{distinct} FROM {src} GROUP BY ALL) WHERE {fails}"
        )
        left = dict.fromkeys(("k", "l"), 0)
        for reason, n in con.execute(
            "SELECT __why, sum(__n) FROM __failing GROUP BY ALL"
        ).fetchall():
            left[str(reason)] = int(n)
        _check_budget(sum(left.values()), rows, budget, k, l_target, left, unit)
        stay = f"SELECT * FROM {src} s WHERE NOT EXISTS (SELECT 1 FROM __failing f WHERE {match})"
        return Enforced(left, dict(left), stay)
    con.execute(f"CREATE OR REPLACE TEMP TABLE __gone ({who} VARCHAR, __why VARCHAR)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __dead AS SELECT {key}, 'k' AS __why FROM {src} LIMIT 0"
    )
    remaining = (
        f"(SELECT * FROM {src} s WHERE (s.{who} IS NULL OR s.{who} NOT IN (SELECT {who} FROM"
        f" __gone)) AND NOT EXISTS (SELECT 1 FROM __dead f WHERE {match}))"
    )
    while True:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __failing AS SELECT {key}, {why} AS __why FROM"
            f" (SELECT {key}, {size} AS __n{distinct} FROM {remaining} GROUP BY ALL)"
            f" WHERE {fails}"
        )
        failing = con.execute("SELECT count(*) FROM __failing").fetchone()
        if not failing or not int(failing[0]):
            break
        con.execute(
            f"INSERT INTO __gone SELECT s.{who}, min(f.__why) FROM {remaining} s"
            f" JOIN __failing f ON {match} WHERE s.{who} IS NOT NULL GROUP BY s.{who}"
        )
        con.execute("INSERT INTO __dead SELECT * FROM __failing")
    left_people = dict.fromkeys(("k", "l"), 0)
    for reason, n in con.execute("SELECT __why, count(*) FROM __gone GROUP BY ALL").fetchall():
        left_people[str(reason)] = int(n)
    left_rows = dict.fromkeys(("k", "l"), 0)
    anonymous = dict.fromkeys(("k", "l"), 0)
    for reason, n in con.execute(
        f"SELECT g.__why, count(*) FROM {src} s JOIN __gone g USING ({who}) GROUP BY ALL"
    ).fetchall():
        left_rows[str(reason)] = int(n)
    for reason, n in con.execute(
        f"SELECT f.__why, count(*) FROM {src} s JOIN __dead f ON {match} WHERE s.{who} IS NULL"
        " GROUP BY ALL"
    ).fetchall():
        anonymous[str(reason)] = int(n)
        left_rows[str(reason)] += int(n)
    left = {r: left_people[r] + anonymous[r] for r in left_people}
    _check_budget(sum(left.values()), people, budget, k, l_target, left, unit)
    return Enforced(left_rows, left_people, f"SELECT * FROM {remaining}")


def class_size(person: str) -> str:
    """SQL of a class's size in people: its distinct people, rows of no known person
    counting as one together."""
    who = quote_identifier(person)
    return f"(count(DISTINCT {who}) + max(CASE WHEN {who} IS NULL THEN 1 ELSE 0 END))"


def _check_budget(
    left: int,
    total: int,
    budget: float,
    k: int,
    l_target: int | None,
    by_reason: dict[str, int],
    unit: str,
) -> None:
    if within_budget(left, total, budget):
        return
    share = left / total if total else 0.0
    raise PrivacyTargetError(
        f"meeting k={k}"
        + (f", l={l_target}" if l_target else "")
        + f" would suppress {left} of {total} {unit} ({share:.1%}), more than the budget of"
        f" {budget:.1%}: generalise the quasi-identifiers further (coarser dates, bands,"
        " prefixes), drop a column that singles people out, or raise max_suppression",
        target="k" if by_reason["k"] else "l",
        required=k if by_reason["k"] else (l_target or 0),
        suppressed=left,
        rows=total,
    )


def _whole(
    con: duckdb.DuckDBPyConnection,
    src: str,
    sensitive: Sequence[str],
    k: int,
    l_target: int | None,
    people: int,
    unit: str,
) -> None:
    """No quasi-identifiers: the whole extract is one class; k and l hold for it or the
    run fails."""
    if l_target and people:
        for s in sensitive:
            col = quote_identifier(s)
            got = con.execute(
                f"SELECT count(DISTINCT {col}) + max(CASE WHEN {col} IS NULL THEN 1"
                f" ELSE 0 END) FROM {src}"
            ).fetchone()
            values = int(got[0] or 0) if got else 0
            if values < l_target:
                raise PrivacyTargetError(
                    f"l={l_target} not met: {s} has {values} distinct value(s) in the"
                    " whole extract",
                    target="l",
                    required=l_target,
                    observed=values,
                )
    if people and people < k:
        raise PrivacyTargetError(
            f"k={k} not met: the extract holds {people} {unit} in all",
            target="k",
            required=k,
            observed=people,
            rows=people,
        )
