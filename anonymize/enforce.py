"""Suppression of the classes that miss k or l, counted in people, within the policy's budget.

Where each row is a person, a class smaller than k (or with fewer than l sensitive values)
is suppressed, its rows gone. Where people have several rows, a class's size is its
distinct people, and a person with a row in a failing class leaves with all their rows
(their other rows carry their pseudonym, so they would name them anyway). Leaving can shrink
another class of theirs below k, so the classes are counted again, without them, until none
fails. Rows whose person is not known (an anonymous log line) count as one person in their
class, however many they are: they may all be one person, or the named person beside them.
They link to nothing, so they leave one by one, with their failing class. The budget is a
share of the people (the rows, where each row is a person), an anonymous row counting alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from anonymize.search import within_budget
from dsar.engine.base import quote_identifier
from dsar.errors import PrivacyTargetError

WHO = "__who"
"""The staged column naming whose row it is (a digest of the person column); never written."""


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
