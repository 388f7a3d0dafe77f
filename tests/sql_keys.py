"""The identity SQL (`sql_normalize`) evaluated on values, cheaply, for the property tests.

A phone's normalising SQL is a few kilobytes: DuckDB parses and binds it again on every
`execute`, about 0.1 s with a fresh connection, which a property test pays hundreds of times.
Here each (kind, rules, for_match) expression is created once as a macro on one connection
and called by name (about 5 ms a call). The macro's body is exactly the expression the
engine puts in its queries, with the column named `v` as its parameter.
"""

from __future__ import annotations

import duckdb

from dsar.catalog import IdentityKind
from dsar.subjects.identity import MatchRules, sql_normalize

CONNECTION = duckdb.connect()
_MACROS: dict[tuple[IdentityKind, MatchRules, bool], str] = {}


def macro(kind: IdentityKind, rules: MatchRules, for_match: bool = False) -> str:
    """The name of a macro on `CONNECTION` giving the key of its argument."""
    key = (kind, rules, for_match)
    if key not in _MACROS:
        name = f"key_{len(_MACROS)}"
        body = sql_normalize(kind, "v", rules, for_match=for_match)
        CONNECTION.execute(f"CREATE MACRO {name}(v) AS ({body})")
        _MACROS[key] = name
    return _MACROS[key]


def sql_keys(
    kind: IdentityKind, values: list[str], rules: MatchRules, *, for_match: bool = False
) -> list[str | None]:
    """Each value's key as the engine's SQL gives it, in order."""
    name = macro(kind, rules, for_match)
    rows = CONNECTION.execute(
        f"SELECT {name}(v) FROM (SELECT unnest($1::VARCHAR[]) AS v,"
        " generate_subscripts($1::VARCHAR[], 1) AS i) ORDER BY i",
        [values],
    ).fetchall()
    return [r[0] for r in rows]


def sql_key(kind: IdentityKind, value: str, rules: MatchRules) -> str | None:
    """One value's key as the engine's SQL gives it."""
    return sql_keys(kind, [value], rules)[0]


__all__ = ["CONNECTION", "macro", "sql_key", "sql_keys"]
