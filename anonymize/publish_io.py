"""Reading the texts to publish and writing them back in their own format (CSV, JSON Lines,
Parquet): only the columns published, rows in the order given, CSV cells through the
formula rule (`dsar.csvsafe`), files owner-only."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dsar.csvsafe import defuse
from dsar.errors import InputFileError, UsageError

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

    def texts(self, name: str) -> list[str | None]:
        return [
            None if v is None else v if isinstance(v, str) else str(v) for v in self.columns[name]
        ]


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
    published: dict[str, list[str | None]],
    kept: Sequence[str],
) -> None:
    """Write the rows `order` picks of `frame`'s `kept` columns and the `published` ones
    (already in that order), in `frame`'s format and column order."""
    names = [n for n in frame.names if n in published or n in kept]
    if frame.format == "parquet":
        assert frame.arrow is not None
        indices = pa.array(order, pa.int64())
        columns = [
            pa.array(published[n], pa.string()) if n in published else frame.arrow[n].take(indices)
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
