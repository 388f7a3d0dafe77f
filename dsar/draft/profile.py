"""Read each found table through the engine: its columns and types, a sample, and counts.

The tables are registered in the engine under a provisional catalog (reference tables with
no type declared), so the columns, types and CSV dialect are exactly those the engine reads
once the drafted catalog is in use. Each table is read here once, for a bounded reservoir
sample of `sample` rows (the values that are classified); the counts over every row come
after, in one statement for every table (`dsar.draft.counts.count_tables`). A table with
fewer rows than the sample is its own sample: its counts come from it.

A placeholder written in a text column (`-`, `n/a`, `none`, `null`, `keine`, `aucun`, `geen`,
`brak`, `なし`, `нет`... compared trimmed and case-folded: `PLACEHOLDERS`) is no value: it is
left out of the sampled values and of the counts (present, distinct, a link's values), so
that a column's kind, whether it is personal and whether it is a key are decided on its real
values; the rows holding one are counted apart (`ColumnProfile.placeholders`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dsar.catalog.models import Catalog, ColumnType, Table
from dsar.draft.scan import FoundTable, column_name_like
from dsar.engine.base import Engine, quote_identifier, sql_string
from dsar.subjects.identity import NONE_WORDS

_INTEGER = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_TEXT = ("string", "large_string")

PLACEHOLDERS = NONE_WORDS | frozenset({"", "-", "--", "n/a", "none", "null", "nil"})
"""Values that say there is none, in several languages, as `is_placeholder` compares them."""


def is_placeholder(value: object) -> bool:
    """Whether a value is a placeholder, not a value: text that, trimmed and case-folded, is
    one of `PLACEHOLDERS` (`Keine`, ` N/A `, `нет`); never a number.

    Examples:
        >>> is_placeholder(" Keine"), is_placeholder("kein Name"), is_placeholder(0)
        (True, False, False)
    """
    return isinstance(value, str) and value.strip().casefold() in PLACEHOLDERS


def real_sql(column: str, arrow_type: str) -> str:
    """SQL for a column's values with placeholders read as NULL (`column` quoted already);
    the column itself where it is not text."""
    if arrow_type not in _TEXT:
        return column
    return f"CASE WHEN {placeholder_sql(column)} THEN NULL ELSE {column} END"


def placeholder_sql(column: str) -> str:
    """SQL: whether a text column's value is a placeholder (compared as `is_placeholder`:
    trimmed of blanks and lower-cased; `PLACEHOLDERS` are lower-case already)."""
    listed = ", ".join(sql_string(p) for p in sorted(PLACEHOLDERS))
    return f"lower(trim({column}, ' \t\r\n')) IN ({listed})"


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its type as the engine reads it, and counts over every row."""

    name: str
    arrow_type: str
    non_null: int
    distinct: int | None = None  # exact over every row, where counted (may-be keys)
    low: int | None = None  # integers: the smallest and largest value
    high: int | None = None
    placeholders: int = 0  # values that are a placeholder (`is_placeholder`), not counted above

    @property
    def kind(self) -> ColumnType | None:
        """The catalog's logical type, None for nested values (lists, structs)."""
        return logical_type(self.arrow_type)

    @property
    def keyish(self) -> bool:
        """Whether values of this type can be a key (text or whole numbers)."""
        return self.kind in (ColumnType.STRING, ColumnType.INTEGER)


@dataclass(frozen=True)
class TableProfile:
    """One table: rows, columns in file order, and a sample of rows as Arrow.

    `counted`: whether `rows` and the columns' counts are over every row; until
    `count_tables` has run they are the sample's, unless the sample is the whole table.
    """

    found: FoundTable
    rows: int
    columns: dict[str, ColumnProfile]
    sample: pa.Table
    counted: bool = True

    @property
    def name(self) -> str:
        return self.found.name

    @property
    def whole(self) -> bool:
        """Whether the sample holds every row of the table."""
        return self.counted and self.sample.num_rows == self.rows

    def values(self, column: str) -> list[object]:
        """The sampled values of a column, neither null nor a placeholder."""
        return [
            v
            for v in self.sample.column(column).to_pylist()
            if v is not None and not is_placeholder(v)
        ]


NESTED_PATHS = 64  # fields of one nested column read, at most
NESTED_VALUES = 5000  # values of one field read, at most (lists multiply the rows)
NESTED_DEPTH = 8  # levels of nesting followed


MAP_FIELD_SHARE = 0.1  # of the sampled rows, those holding a map key read as a field
_FIELD_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")


def _is_map(value: object) -> bool:
    """A map, as Arrow gives it: a list of (key, value) pairs."""
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(v, tuple) and len(v) == 2 for v in value)
    )


def map_fields(column: str, values: Sequence[object]) -> dict[str, set[str]]:
    """The keys of the maps inside a column's values that read as fields, by the map's path:
    a key named like a column (`scan.column_name_like`: snake or camel case, or words columns
    are named with), held in `MAP_FIELD_SHARE` of the rows and in two rows or more. DuckDB
    reads a JSON object of many keys as a MAP (a HubSpot contact's `properties`): its `email`
    key is a field, whose values are judged as a column of their own, not pooled with every
    other property's; keys that may be values (a map keyed by user ids, usernames or emails)
    stay pooled, and never name a path."""
    rows: dict[str, Counter[str]] = {}

    def walk(value: object, path: str, depth: int, seen: set[tuple[str, str]]) -> None:
        if value is None or depth > NESTED_DEPTH:
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}", depth + 1, seen)
        elif _is_map(value):
            assert isinstance(value, list | tuple)
            for key, inner in value:
                if isinstance(key, str) and _FIELD_KEY.match(key) and column_name_like(key):
                    if (path, key) not in seen:
                        seen.add((path, key))
                        rows.setdefault(path, Counter())[key] += 1
                    walk(inner, f"{path}.{key}", depth + 1, seen)
                else:
                    walk(inner, f"{path}{{}}", depth + 1, seen)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner, f"{path}[]", depth + 1, seen)

    for value in values:
        walk(value, column, 0, set())
    need = max(2.0, MAP_FIELD_SHARE * len(values))
    out: dict[str, set[str]] = {}
    for path, counts in rows.items():
        kept = [k for k, n in counts.most_common(NESTED_PATHS) if n >= need]
        if kept:
            out[path] = set(kept)
    return out


def nested_leaves(column: str, values: Sequence[object]) -> dict[str, list[object]]:
    """The scalar values inside a column's nested values (structs, lists, maps), by path from
    the column's name: a struct's field as `.name`, a list's elements as `[]`, a map's values
    as `{}` (keys dropped), except a map's keys that read as fields (`map_fields`: `.email`),
    e.g. `buyer.email`, `emails[]`, `contacts[].phone`, `properties.email.value`. At most
    `NESTED_PATHS` paths, `NESTED_VALUES` values a path and `NESTED_DEPTH` levels; None
    values dropped."""
    out: dict[str, list[object]] = {}
    fields = map_fields(column, values)

    def walk(value: object, path: str, depth: int) -> None:
        if value is None or depth > NESTED_DEPTH:
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}", depth + 1)
        elif isinstance(value, list | tuple):
            if _is_map(value):
                named = fields.get(path, set())
                for key, inner in value:  # a map, as Arrow gives it: (key, value) pairs
                    walk(inner, f"{path}.{key}" if key in named else f"{path}{{}}", depth + 1)
            else:
                for inner in value:
                    walk(inner, f"{path}[]", depth + 1)
        else:
            got = out.get(path)
            if got is None:
                if len(out) >= NESTED_PATHS:
                    return
                got = out[path] = []
            if len(got) < NESTED_VALUES:
                got.append(value)

    for value in values:
        walk(value, column, 0)
    return out


def nested_keys(values: Sequence[object]) -> list[str]:
    """The keys of the objects inside a column's nested values (a JSON object's keys, read as
    a struct's fields, and a map's keys), one for each value present under it, at most
    `NESTED_VALUES`: a map keyed by people (`{"alice@example.com": 3}`, user ids) holds them
    in its keys, which `nested_leaves` drops."""
    out: list[str] = []

    def walk(value: object, depth: int) -> None:
        if value is None or depth > NESTED_DEPTH or len(out) >= NESTED_VALUES:
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                if inner is not None:
                    out.append(str(key))
                    walk(inner, depth + 1)
        elif isinstance(value, list | tuple):
            pairs = value and all(isinstance(v, tuple) and len(v) == 2 for v in value)
            for inner in value:
                if pairs and isinstance(inner, tuple):
                    if inner[0] is not None:
                        out.append(str(inner[0]))
                    walk(inner[1], depth + 1)
                else:
                    walk(inner, depth + 1)

    for value in values:
        walk(value, 0)
    return out[:NESTED_VALUES]


def leaf_name(path: str) -> str:
    """The name a nested value's field goes by, its last: `contacts[].phone` gives phone,
    `emails[]` gives emails."""
    last = path.rsplit(".", 1)[-1]
    return last.replace("[]", "").replace("{}", "") or path


def logical_type(arrow_type: str) -> ColumnType | None:
    """The catalog type of an Arrow type name as the engine reports it."""
    if arrow_type in _INTEGER:
        return ColumnType.INTEGER
    if arrow_type in ("string", "large_string"):
        return ColumnType.STRING
    if arrow_type in ("double", "float", "halffloat"):
        return ColumnType.FLOAT
    if arrow_type == "bool":
        return ColumnType.BOOLEAN
    if arrow_type.startswith("date"):
        return ColumnType.DATE
    if arrow_type.startswith("timestamp"):
        return ColumnType.TIMESTAMP
    if arrow_type.startswith("decimal"):
        return ColumnType.DECIMAL
    return None


_UNLISTED = "__columns_read_from_the_files__"  # the provisional catalog lists no column


def provisional_catalog(root: Path, found: Sequence[FoundTable]) -> Catalog:
    """A catalog that only says how to read each table (every table reference data, no
    column listed: `register` takes the columns the engine reads), so that the engine reads
    the files as it will under the drafted catalog."""
    tables = {
        f.name: Table.model_validate(
            {
                "path": f.path,
                "format": f.format,
                **({"csv": f.csv} if f.csv else {}),
                "description": "provisional",
                "personal": False,
                "columns": {_UNLISTED: {}},
            }
        )
        for f in found
    }
    provisional = Catalog.model_validate(
        {
            "version": 1,
            "controller": {"name": "draft", "contact": "draft", "supervisory_authority": "draft"},
            "tables": tables,
        }
    )
    return provisional.located_in(root)


def register(engine: Engine, catalog: Catalog, name: str) -> None:
    """Register a table of the provisional catalog in the engine, with the columns its files
    have (for JSON, every record's keys), read once: the columns the catalog does not list
    are the engine's to find (as `dsar catalog check` registers a table that differs)."""
    engine._register(catalog, name)  # the differences are the columns: nothing to report


def profile_table(engine: Engine, found: FoundTable, sample: int) -> TableProfile:
    """A reservoir sample of up to `sample` rows of a registered table (one read). A table
    with fewer rows is sampled whole, and its counts are exact; otherwise they are the
    sample's until `count_tables` counts every row."""
    taken = engine.query(
        f"SELECT * EXCLUDE ({quote_identifier(_UNLISTED)}) FROM {quote_identifier(found.name)}"
        f" USING SAMPLE reservoir({int(sample)} ROWS) REPEATABLE (7)"
        if _UNLISTED in engine.columns(found.name)  # JSON: the engine reads it as empty
        else f"SELECT * FROM {quote_identifier(found.name)}"
        f" USING SAMPLE reservoir({int(sample)} ROWS) REPEATABLE (7)"
    )
    columns = {
        field.name: _sampled_column(taken.column(field.name), field.name, str(field.type))
        for field in taken.schema
    }
    return TableProfile(found, taken.num_rows, columns, taken, taken.num_rows < sample)


def _sampled_column(values: pa.ChunkedArray, name: str, kind: str) -> ColumnProfile:
    present = pc.drop_null(values)
    placeholders = 0
    if kind in _TEXT and len(present):
        folded = pc.utf8_lower(pc.utf8_trim(present, " \t\r\n"))
        held = pc.is_in(folded, value_set=pa.array(sorted(PLACEHOLDERS), pa.string()))
        placeholders = int(pc.sum(held).as_py() or 0)
        present = pc.filter(present, pc.invert(held))
    low = high = None
    if kind in _INTEGER and len(present):
        bounds = pc.min_max(present).as_py()
        low, high = bounds["min"], bounds["max"]
    distinct = len(pc.unique(present)) if logical_type(kind) is not None else None
    return ColumnProfile(name, kind, len(present), distinct, low, high, placeholders)


def share_found(engine: Engine, values: Sequence[str], table: str, column: str) -> int:
    """How many of `values` (bound as parameters, compared trimmed and case-folded) are
    among `table.column`'s values."""
    if not values:
        return 0
    q = quote_identifier(column)
    row = engine.query(
        f"SELECT count(DISTINCT lower(trim(CAST({q} AS VARCHAR)))) AS n FROM"
        f" {quote_identifier(table)} WHERE lower(trim(CAST({q} AS VARCHAR))) IN"
        " (SELECT unnest(CAST(? AS VARCHAR[])))",
        [sorted({v.strip().lower() for v in values})],
    ).to_pylist()[0]
    return int(row["n"])
