"""Reading the texts to publish and writing them back in their own format (CSV, JSON Lines,
Parquet): only the columns published, rows in the order given, CSV cells through the
formula rule (`dsar.csvsafe`), files owner-only. A nested text cell (a JSON object or list;
a Parquet struct, list or map) is read as its leaves (`dsar.review.published.cell_text`)
and written back in its own shape with its leaves replaced (`with_leaves`)."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dsar.csvsafe import defuse
from dsar.errors import InputFileError, UsageError
from dsar.review.published import NESTED_JOIN, cell_leaves, cell_text

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass
class Frame:
    """A file's rows: its format, its column names, and its values by column."""

    format: str
    names: list[str]
    columns: dict[str, list[Any]]
    arrow: pa.Table | None = None  # a Parquet file's own table (its types kept)

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @property
    def object_keys(self) -> bool:
        """Whether a nested cell's object keys are data (JSON) or its schema (a Parquet
        struct's field names)."""
        return self.format != "parquet"

    def texts(self, name: str) -> list[str | None]:
        return [cell_text(v, self.object_keys) for v in self.columns[name]]


def is_nested(value: object) -> bool:
    """A nested cell: an object or a list (a Parquet map reads as a list of pairs)."""
    return isinstance(value, dict | list | tuple)


def leaf_bounds(value: object, object_keys: bool) -> list[tuple[int, int, bool]]:
    """Where each leaf of a nested cell lies in its `cell_text`, and whether it is a string
    (a number's text may not be replaced: it would change the leaf's type)."""
    out, at = [], 0
    for leaf in cell_leaves(value, object_keys):
        text = str(leaf)
        out.append((at, at + len(text), isinstance(leaf, str)))
        at += len(text) + len(NESTED_JOIN)
    return out


def with_leaves(value: object, leaves: Sequence[str], object_keys: bool) -> object | None:
    """`value` in its own shape with its leaves (`cell_leaves`' order) replaced by `leaves`;
    None where that cannot be: a number's text changed, or two object keys became one."""
    it = iter(leaves)
    ok = True

    def build(v: object) -> object:
        nonlocal ok
        if isinstance(v, dict):
            out: dict[Any, Any] = {}
            for k, item in v.items():
                key = next(it) if object_keys else k
                if key in out:
                    ok = False
                out[key] = build(item)
            return out
        if isinstance(v, list):
            return [build(item) for item in v]
        if isinstance(v, tuple):
            return tuple(build(item) for item in v)
        if isinstance(v, str):
            return next(it)
        if isinstance(v, int | float) and not isinstance(v, bool):
            if next(it) != str(v):
                ok = False
            return v
        return v

    rebuilt = build(value)
    return rebuilt if ok and next(it, None) is None else None


def format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            "--input",
            f"{path.name} is not a CSV, JSON Lines or Parquet file (by its suffix)",
            "give a .csv, .jsonl (or .ndjson) or .parquet file",
        )
    return fmt


def read_frame(path: Path) -> Frame:
    """Read a CSV (every value as text, as written), JSON Lines or Parquet file.

    Raises:
        InputFileError: a line that is not a JSON object, a file that cannot be decoded.
    """
    fmt = format_of(path)
    if fmt == "parquet":
        table = pq.read_table(path)
        return Frame(
            fmt, table.column_names, {n: table[n].to_pylist() for n in table.column_names}, table
        )
    try:
        if fmt == "csv":
            csv.field_size_limit(sys.maxsize)
            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                names = list(reader.fieldnames or [])
                columns: dict[str, list[Any]] = {n: [] for n in names}
                for row in reader:
                    for n in names:
                        columns[n].append(row.get(n))
            return Frame(fmt, names, columns)
        records = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    raise InputFileError(
                        path, "a line is not a JSON object", "give one object per line", line=number
                    )
                records.append(record)
    except UnicodeDecodeError:
        raise InputFileError(path, "not UTF-8 text", "convert the file to UTF-8") from None
    names = list(dict.fromkeys(k for r in records for k in r))
    return Frame(fmt, names, {n: [r.get(n) for r in records] for n in names})


def write_frame(
    path: Path,
    frame: Frame,
    order: Sequence[int],
    published: dict[str, list[Any]],
    kept: Sequence[str],
) -> None:
    """Write the rows `order` picks of `frame`'s `kept` columns and the `published` ones
    (already in that order), in `frame`'s format and column order."""
    names = [n for n in frame.names if n in published or n in kept]
    if frame.format == "parquet":
        assert frame.arrow is not None
        indices = pa.array(order, pa.int64())
        columns = [
            pa.array(published[n], _published_type(frame.arrow[n].type, published[n]))
            if n in published
            else frame.arrow[n].take(indices)
            for n in names
        ]
        # no column statistics: a kept or text column's min and max would be values too
        pq.write_table(pa.table(columns, names=names), path, write_statistics=False)
    elif frame.format == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([defuse(n) for n in names])
            for i, row in enumerate(order):
                cells = [
                    published[n][i] if n in published else frame.columns[n][row] for n in names
                ]
                writer.writerow(["" if c is None else defuse(str(c)) for c in cells])
    else:
        with path.open("w", encoding="utf-8") as handle:
            for i, row in enumerate(order):
                record = {
                    n: published[n][i] if n in published else frame.columns[n][row] for n in names
                }
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    path.chmod(0o600)


def _published_type(kind: pa.DataType, values: Sequence[Any]) -> pa.DataType:
    """A published column's type: the texts' nested column keeps its own (its leaves
    replaced), any other is text (a thread's tokens)."""
    nested = pa.types.is_nested(kind) and any(is_nested(v) for v in values)
    return kind if nested else pa.string()


COARSE_UNITS = ("day", "week", "month", "year")
"""What a kept date or time may be coarsened to (`--keep-coarse COLUMN=UNIT`): the extract's
`to:` units. The published value is the period's first day, YYYY-MM-DD."""
_TEXT_DATE = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})(?:$|[T ]\d)")


def coarsened(values: Sequence[Any], unit: str) -> tuple[list[str | None], int]:
    """A kept column's dates and times cut to `unit` (red team 24c F9: a time to the second
    links a published row back to its source row and to its copy in another publication): a
    date or datetime, or text written YYYY-MM-DD (a time may follow) or YYYYMMDD, as the
    first day of its day, ISO week (Monday), month or year. Also how many non-empty values
    are no date (the caller refuses the column then)."""
    out: list[str | None] = []
    bad = 0
    for value in values:
        day: date | None = None
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif isinstance(value, str) and (m := _TEXT_DATE.match(value)):
            try:
                day = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                day = None
        if day is None:
            bad += value is not None and value != ""
            out.append(None)
            continue
        if unit == "week":
            day = day - timedelta(days=day.weekday())
        elif unit == "month":
            day = day.replace(day=1)
        elif unit == "year":
            day = day.replace(month=1, day=1)
        out.append(day.isoformat())
    return out, bad
