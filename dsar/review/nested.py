"""Nested values read as their leaves, each as text: what every check of a released cell reads.

A struct column holding another member's id, an email and a phone, or a list column holding
a phone, was released whole by `keep` (red team, issue 22 round 4, F1): the policy check
sampled the value as one, the extract's self-check and `dsar verify` scanned text columns
only. A nested value (an Arrow struct, list or map, as Parquet and JSON files hold them; a
JSON object or array written as text) is read here as its leaves: one column per path
(`sponsor.member`, `household[]`, a map's keys `tags{}` and values `tags[]`), each leaf as
text (an integer as its digits), with the row it came from. A string leaf that is itself a
JSON object or array is read through too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

NESTED_KINDS = ("struct", "list", "large_list", "fixed_size_list", "map")
"""Arrow type names (as `Engine.columns` writes them) of nested values."""
MAX_DEPTH = 16  # levels of nesting followed; deeper values are read as their JSON text
MAX_JSON = 1_000_000  # characters of a text cell parsed as JSON


def is_nested_kind(kind: str) -> bool:
    """Whether an Arrow type, as text, holds nested values."""
    return kind.startswith(NESTED_KINDS)


def json_container(text: str) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array a text cell holds, else None."""
    head = text.lstrip()[:1]
    if head not in ("{", "[") or len(text) > MAX_JSON:
        return None
    try:
        got = json.loads(text)
    except ValueError:
        return None
    return got if isinstance(got, dict | list) else None


def leaves(value: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """Each leaf of a nested value as (path, text): struct fields and JSON keys as `.name`,
    list items as `[]`, a map's keys as `{}` and its values as `[]` (pyarrow gives a map as
    a list of (key, value) pairs); a number as its digits; a string holding a JSON object or
    array read through. Booleans, nulls and floats with a fraction are no identifier."""
    if value is None or isinstance(value, bool):
        return
    if depth > MAX_DEPTH:
        yield path, json.dumps(value, default=str, ensure_ascii=False)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, tuple) and len(value) == 2:  # a map's entry
        yield from leaves(value[0], path + "{}", depth + 1)
        yield from leaves(value[1], path + "[]", depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item, path + "[]", depth + 1)
    elif isinstance(value, str):
        inner = json_container(value) if depth else None
        if inner is not None:
            yield from leaves(inner, path, depth + 1)
        else:
            yield path, value
    elif isinstance(value, int):
        yield path, str(value)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        yield path, str(int(value))


def leaf_columns(column: str, cells: Iterable[Any]) -> dict[str, tuple[list[int], list[str]]]:
    """The leaves of a column's cells by path (`column.path`): the rows they came from and
    their texts. A text cell counts where it holds a JSON object or array; empty when no
    cell is nested."""
    found: dict[str, tuple[list[int], list[str]]] = {}
    for row, cell in enumerate(cells):
        if cell is None:
            continue
        value: Any = cell
        if isinstance(cell, str):
            value = json_container(cell)
            if value is None:
                continue
        elif not isinstance(cell, dict | list | tuple):
            continue
        for path, text in leaves(value, "", 1):
            rows, texts = found.setdefault(column + path, ([], []))
            rows.append(row)
            texts.append(text)
    return found


__all__ = ["NESTED_KINDS", "is_nested_kind", "json_container", "leaf_columns", "leaves"]
