"""What only the data shows a policy would release, sampled through the engine before an
extract reads anything (and by `anonymize policy check`): every problem at once, with the fix.

- a mask that keeps more than a third of a name or an identifier (`keep_last: 4` left 36 of
  245 given names whole), or a prefix that keeps one whole;
- a column the catalog gives no role whose values are another identity column's values
  (`usage_events.object_id` holds user ids), released by an operator that leaves them
  recognisable (keep, mask, top and bottom coding);
- a text column the catalog gives no role that is unique to almost every row, like a URL or
  an id (`picture_url`), kept as it is;
- a table with several rows per person whose policy names no `person:`.

A column found holding identity values is refused until the catalog declares it (an
`identity:`, `references:` or `personal:` role), after which the policy's rules for that
role apply. Reference tables (`personal: false`) hold nobody's values and are not sampled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from anonymize.leaks import identifying
from anonymize.params import (
    Coarsening,
    Drop,
    Generalize,
    Hash,
    Keep,
    Mask,
    Pseudonym,
    Suppress,
    TopBottom,
)
from anonymize.policy import Policy
from dsar.engine.base import quote_identifier, sql_in
from dsar.errors import ConfigProblem

if TYPE_CHECKING:
    from dsar.catalog.models import Column
    from dsar.engine import Engine

SAMPLE = 10_000  # values read per column for the sampled checks
LOOKALIKE_LENGTH = 5  # shorter values (1, 'NL', 200) match identity columns by chance
LOOKALIKE_SHARE = 0.01  # of the sampled values, found in an identity column
UNIQUE_SHARE = 0.9  # distinct values per sampled row: an identifier or a URL
UNIQUE_ROWS = 50  # fewer sampled rows say nothing about uniqueness
REVERSIBLE = (Keep, Mask, TopBottom)
"""Operators that leave a value recognisable: on a column holding identity values, refused."""


def sampled_problems(policy: Policy, engine: Engine) -> list[ConfigProblem]:
    """What the data shows the policy would release (see the module's docstring), sampled
    through the engine: every problem at once."""
    catalog = engine.catalog
    found: list[ConfigProblem] = []
    found += _person_problems(policy, engine)
    identity = [
        (t, c)
        for t, spec in catalog.tables.items()
        for c, col in spec.columns.items()
        if col.identity is not None and t in engine.tables
    ]
    for column, op in policy.operators().items():
        source = policy.sources()[column]
        spec = catalog.tables[source.table].columns[source.column]
        where = f"columns.{column}" if source.table == policy.table else f"join.{column}"
        problem = _sampled(engine, source.table, source.column, spec, op, identity)
        if problem is not None:
            found.append(ConfigProblem(where, *problem))
    return found


def _sampled(
    engine: Engine,
    table: str,
    column: str,
    spec: Column,
    op: Any,
    identity: list[tuple[str, str]],
) -> tuple[str, str] | None:
    if isinstance(op, Drop | Suppress | Hash | Pseudonym):
        return None
    col = quote_identifier(column)
    text = f"CAST({col} AS VARCHAR)"
    values = (
        f"(SELECT DISTINCT {text} AS v FROM {quote_identifier(table)} WHERE {col} IS NOT NULL"
        f" LIMIT {SAMPLE})"
    )
    if identifying(spec):
        return _kept_too_much(engine, column, op, values)
    if spec.references is not None or spec.secret or spec.free_text or spec.personal:
        return None  # a role the catalog declared: the policy's rules for it apply
    if not engine.catalog.tables[table].personal:
        return None  # reference data (a track list): nobody's values
    if not isinstance(op, REVERSIBLE):
        return None
    sample = (
        engine.query(f"SELECT v FROM {values} s WHERE length(v) >= {LOOKALIKE_LENGTH}")
        .column("v")
        .to_pylist()
    )
    if sample:
        for other_table, other in identity:
            params: list[object] = []
            other_text = f"CAST({quote_identifier(other)} AS VARCHAR)"
            inside = sql_in(other_text, sample, params)
            got = _row(
                engine,
                f"SELECT count(DISTINCT {other_text}) AS n FROM {quote_identifier(other_table)}"
                f" WHERE {inside}",
                params,
            )
            matched = int(got["n"] or 0)
            if matched >= 3 and matched >= LOOKALIKE_SHARE * len(sample):
                kind = engine.catalog.tables[other_table].columns[other].identity
                what = kind.value if kind is not None else "identifier"
                return (
                    f"{column} holds {other_table}.{other} values ({what}): {matched} of"
                    f" {len(sample)} sampled values are found there, and {op.op} releases them",
                    f"use hash or drop; or declare it in the catalog (references:"
                    f" {other_table}.{other}, or identity:) so its rules apply",
                )
    if isinstance(op, Keep) and _is_text(engine, table, column):
        got = _row(
            engine,
            f"SELECT count({col}) AS n, count(DISTINCT {col}) AS d FROM (SELECT {col} FROM"
            f" {quote_identifier(table)} WHERE {col} IS NOT NULL LIMIT {SAMPLE}) s",
        )
        rows, distinct = int(got["n"] or 0), int(got["d"] or 0)
        if rows >= UNIQUE_ROWS and distinct >= UNIQUE_SHARE * rows:
            return (
                f"{column} is unique to almost every row ({distinct} distinct values in"
                f" {rows} sampled rows), like an identifier or a URL: {op.op} releases a"
                " value that points at one row",
                "use hash (joins survive) or drop; or declare its role in the catalog",
            )
    return None


def _kept_too_much(engine: Engine, column: str, op: Any, values: str) -> tuple[str, str] | None:
    """A mask keeping more than a third of a sampled value, or a prefix keeping one whole."""
    if isinstance(op, Mask) and op.keep_last:
        keep, over = op.keep_last, f"3 * {op.keep_last} > length(v)"
    elif isinstance(op, Generalize) and _prefix(op):
        keep, over = _prefix(op), f"length(v) <= {_prefix(op)}"
    else:
        return None
    got = _row(
        engine,
        f"SELECT count(*) AS n, sum(CASE WHEN {over} THEN 1 ELSE 0 END) AS over,"
        f" min(length(v)) AS shortest FROM {values} s",
    )
    found = int(got["over"] or 0)
    if not found:
        return None
    shortest = int(got["shortest"] or 0)
    if isinstance(op, Mask):
        return (
            f"{column} names or identifies a person: the mask keeps {keep} characters, more"
            f" than a third of {found} of {got['n']} sampled values (all of those of"
            f" {keep} characters or fewer)",
            f"keep_last: {shortest // 3} at most (a third of the shortest value), or use"
            " pseudonym, hash or drop",
        )
    return (
        f"{column} names or identifies a person: a prefix of {keep} keeps {found} of"
        f" {got['n']} sampled values whole",
        f"a prefix shorter than {shortest} (the shortest value), or use pseudonym, hash or drop",
    )


def _prefix(op: Generalize) -> int:
    levels = [op.level(i) for i in range(len(op.levels or [op]))]
    return max((lv.prefix or 0 for lv in levels if isinstance(lv, Coarsening)), default=0)


def _is_text(engine: Engine, table: str, column: str) -> bool:
    kind = engine.columns(table).get(column, "")
    return kind in ("string", "large_string") or kind.startswith("string")


def _row(engine: Engine, sql: str, params: list[object] | None = None) -> dict[str, Any]:
    rows = engine.query(sql, params or []).to_pylist()
    return rows[0] if rows else {}


def _person_problems(policy: Policy, engine: Engine) -> Iterable[ConfigProblem]:
    """A table with several rows per person needs `person:`, so k counts people."""
    if policy.person is not None:
        return
    table = engine.catalog.tables[policy.table]
    for name, spec in table.columns.items():
        if spec.identity is None:
            continue
        repeats = repeated(engine, policy.table, name)
        if repeats is not None:
            rows, people = repeats
            yield ConfigProblem(
                "person",
                f"{policy.table} has several rows per person ({rows} rows with {name} hold"
                f" {people} distinct values): k must count people, not rows",
                f"add person: {name} (suppression then removes people, with all their rows)",
            )
            return
    owned = table.owned_through
    if owned is not None and repeated(engine, policy.table, owned.column) is not None:
        parent = owned.parent.partition(".")[0]
        yield ConfigProblem(
            "person",
            f"{policy.table} has several rows per {parent} row ({owned.column} repeats), and"
            f" its rows belong to the {parent} row's owner: k must count people, not rows",
            f"join {parent} (join: [{{table: {parent}, columns: {{<its person column>: hash}}}}])"
            " and name that column as person:",
        )


def repeated(engine: Engine, table: str, column: str) -> tuple[int, int] | None:
    """(rows with a value, distinct values) when a column repeats a value, else None."""
    col = quote_identifier(column)
    got = _row(
        engine,
        f"SELECT count({col}) AS n, count(DISTINCT {col}) AS d FROM {quote_identifier(table)}",
    )
    rows, distinct = int(got["n"] or 0), int(got["d"] or 0)
    return (rows, distinct) if distinct < rows else None
