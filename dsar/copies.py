"""A bundle's copies of the person's rows, as text: the cells the statement shows, the CSV
copies, the portability CSV.

Shared by the bundle writer (`dsar.access`) and the reviewer (`dsar.review.bundle`), which
makes each copy again from the bundle's Parquet files and compares it with the file, cell
for cell: a row or a value added to a CSV copy or to the statement alone is found.
Every CSV cell passes the spreadsheet-formula rule of `dsar.csvsafe`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from dsar.csvsafe import QUOTE, defuse, defuse_formulas, unsafe_csv_cell

MAX_SHOWN = 500  # rows shown per table in the statement; all are in its CSV file


def cell(value: object) -> str:
    """One value as text: a time as `2026-11-01 10:00:00` (UTC), true/false as yes/no,
    nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float | int | Decimal):
        return str(value)
    return str(value)


def flat_rows(table: pa.Table) -> tuple[list[str], list[dict[str, object]]]:
    """The rows with nested values spread over dotted columns (`contact.phones[0]`), and
    those columns in order: each table column in place, its parts in the order first met."""
    per_column: list[dict[str, None]] = [{} for _ in table.column_names]
    rows: list[dict[str, object]] = []
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for i in range(table.num_rows):
        flat: dict[str, object] = {}
        for j, field in enumerate(table.schema):
            before = len(flat)
            _flatten(columns[j][i], field.type, field.name, flat)
            per_column[j].update(dict.fromkeys(list(flat)[before:]))
        rows.append(flat)
    for j, field in enumerate(table.schema):
        if not per_column[j]:
            per_column[j][field.name] = None  # a nested column empty in every row
    return [name for names in per_column for name in names], rows


def _flatten(value: Any, kind: pa.DataType, where: str, out: dict[str, object]) -> None:
    if not pa.types.is_nested(kind):
        out[where] = value
        return
    if value is None:
        return
    if pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            sub = kind.field(index)
            _flatten(value.get(sub.name), sub.type, f"{where}.{sub.name}", out)
    elif pa.types.is_map(kind):
        for key, item in value:
            _flatten(item, kind.item_type, f"{where}.{key}", out)
    elif (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    ):
        for index, item in enumerate(value):
            _flatten(item, kind.value_type, f"{where}[{index}]", out)
    else:
        out[where] = value


def csv_cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows and never runs (`dsar.csvsafe`): text
    that is a formula gets a `'` in front; a number stays as written, unless it reads as a
    formula (`-inf`)."""
    text = cell(value)
    if isinstance(value, str):
        return defuse(text)
    return QUOTE + text if unsafe_csv_cell(text) else text


def csv_rows(table: pa.Table) -> list[list[str]]:
    """The table's CSV copy as text cells, header first: nested values flattened to dotted
    columns, every cell defused (what `write_csv` writes, and `dsar verify` compares)."""
    columns, rows = flat_rows(table)
    return [
        [defuse(c) for c in columns],
        *([csv_cell(row.get(c)) for c in columns] for row in rows),
    ]


def nested_as_json(table: pa.Table) -> pa.Table:
    """Nested cells (a JSON object the export kept whole) as JSON text: a CSV cell is text."""
    columns = []
    for column in table.columns:
        if pa.types.is_nested(column.type):
            cells = [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in column.to_pylist()
            ]
            column = pa.array(cells, pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def portable_csv(table: pa.Table) -> bytes:
    """A portability copy as CSV bytes (Arrow's writer; nested cells as JSON text, formulas
    defused): a name stored as `=HYPERLINK(...)` must not run when the person opens it."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(defuse_formulas(nested_as_json(table)), sink)
    return bytes(sink.getvalue().to_pybytes())


def data_cells(table: pa.Table) -> list[str]:
    """The cells of the person's rows the statement shows (the first `MAX_SHOWN` rows,
    nested values as dotted columns), row by row: what fills a records table's data cells."""
    columns, rows = flat_rows(table.slice(0, MAX_SHOWN))
    return [c for row in shown_rows(columns, rows) for c in row]


def shown_rows(
    columns: Sequence[str], rows: Sequence[dict[str, object]]
) -> tuple[tuple[str, ...], ...]:
    """The rows as text cells, in the order of `columns`."""
    return tuple(tuple(cell(row.get(c)) for c in columns) for row in rows)
