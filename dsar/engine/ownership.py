"""How a child row is tied to its parent row (`owned_through`): the key read the same way on
both sides, and the parent keys that more than one parent row holds.

A key is compared as the text it holds: a JSON field holding the string "1" is 1, not
`"1"` with its quotes; a number with no fraction (10.0, in JSON or a floating-point column)
is written as the integer it is (10). Nothing else is changed: "01" stays 01, never 1.

A parent key held by several parent rows (per-file invoice numbering in a multi-file
table, whose declared primary key is then false) gives its child rows more than one
possible owner: they are given to no one, only counted as set aside for review.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence

import pyarrow as pa

from dsar.catalog.models import Ownership
from dsar.engine.base import Engine, quote_identifier, sql_in

EXACT_INTEGER = 2**53  # beyond, a double does not hold every integer: written as it is


def _integral_sql(number: str, text: str) -> str:
    return (
        f"(CASE WHEN {number} = trunc({number}) AND abs({number}) < {EXACT_INTEGER}"
        f" THEN CAST(CAST({number} AS BIGINT) AS VARCHAR) ELSE {text} END)"
    )


def sql_key_text(column_sql: str) -> str:
    """SQL for a key column's value as the text it holds (see the module's rule), whatever
    the column's type: the branch of its type is chosen when the query is planned."""
    raw = f"CAST({column_sql} AS VARCHAR)"
    as_json = f"to_json({column_sql})"
    inside = f"json_extract_string({as_json}, '$')"
    json_double = _integral_sql(f"TRY_CAST({inside} AS DOUBLE)", raw)
    json_case = (
        f"(CASE json_type({as_json}) WHEN 'VARCHAR' THEN {inside}"
        f" WHEN 'DOUBLE' THEN {json_double} ELSE {raw} END)"
    )
    double = _integral_sql(f"TRY_CAST({column_sql} AS DOUBLE)", raw)
    return (
        f"(CASE WHEN typeof({column_sql}) = 'JSON' THEN {json_case}"
        f" WHEN typeof({column_sql}) IN ('DOUBLE', 'FLOAT') THEN {double} ELSE {raw} END)"
    )


def key_text(value: object, sql_type: str) -> str | None:
    """A value read from a key column of type `sql_type` (the engine's name) as
    `sql_key_text` reads it in SQL."""
    if value is None:
        return None
    if sql_type.upper() == "JSON" and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_INTEGER:
        return str(int(value))
    return str(value)


def column_type(engine: Engine, table: str, column: str) -> str:
    """The engine's SQL type of a column ('JSON', 'DOUBLE', 'VARCHAR'...): Arrow reads a JSON
    column as plain text, so `key_text` needs the type from the engine."""
    found = engine.query(
        f"SELECT typeof({quote_identifier(column)}) AS t FROM {quote_identifier(table)} LIMIT 1"
    ).column("t")
    return str(found[0].as_py()) if len(found) else "VARCHAR"


def parent_key_texts(rows: pa.Table, column: str, sql_type: str) -> Counter[str]:
    """The key texts of some parent rows, with how many of these rows hold each."""
    return Counter(t for t in (key_text(v, sql_type) for v in rows.column(column).to_pylist()) if t)


def keys_held_by_several(engine: Engine, own: Ownership, keys: Sequence[str]) -> dict[str, int]:
    """Of `keys`, those more than one row of the parent table holds, with their row counts."""
    if not keys:
        return {}
    params: list[object] = []
    key = sql_key_text(quote_identifier(own.parent_column))
    rows = engine.query(
        f"SELECT {key} AS k, count(*) AS n FROM {quote_identifier(own.parent_table)}"
        f" WHERE {sql_in(key, list(keys), params)} GROUP BY 1 HAVING count(*) > 1",
        params,
    ).to_pylist()
    return {str(r["k"]): int(r["n"]) for r in rows}


def duplicated_parent_keys(engine: Engine, own: Ownership) -> tuple[int, int]:
    """Over the whole parent table: key values more than one row holds, and those rows."""
    key = sql_key_text(quote_identifier(own.parent_column))
    found = engine.query(
        f"SELECT count(*) AS keys, coalesce(sum(n), 0) AS rows FROM (SELECT count(*) AS n"
        f" FROM {quote_identifier(own.parent_table)} WHERE {key} IS NOT NULL GROUP BY {key}"
        " HAVING count(*) > 1)"
    ).to_pylist()[0]
    return int(found["keys"]), int(found["rows"])


def clear_keys(mine: Counter[str], several: dict[str, int]) -> tuple[list[str], list[str]]:
    """The person's parent keys split into those whose every holder is the person's parent
    row (their children are the person's) and those another parent row holds too."""
    clear = sorted(k for k, n in mine.items() if several.get(k, 0) <= n)
    unclear = sorted(k for k in mine if k not in set(clear))
    return clear, unclear


def union(keys: Iterable[Counter[str]]) -> list[str]:
    """Every key of several people, once, sorted."""
    return sorted({k for c in keys for k in c})


__all__ = [
    "clear_keys",
    "column_type",
    "duplicated_parent_keys",
    "key_text",
    "keys_held_by_several",
    "parent_key_texts",
    "sql_key_text",
    "union",
]
