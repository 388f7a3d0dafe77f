"""Streaming writers for the demo export: one per format, appending chunk by chunk, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dsar.catalog.models import FileFormat
from dsar.errors import InternalError
from dsar.io import fsync_file, jsonable_rows


class TableSink:
    """Writes one export file in its format, chunk by chunk.

    The file is written beside its target under a temporary name and renamed into place on
    `close()`, so a crash never leaves a half-written export where a complete one is expected.
    """

    def __init__(self, path: Path, fmt: FileFormat, schema: pa.Schema) -> None:
        self.path = path
        self.fmt = fmt
        self.schema = schema
        self.rows = 0
        self._tmp = path.with_name(f".{path.name}.tmp")
        self._csv: pacsv.CSVWriter | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._text: IO[str] | None = None
        if fmt is FileFormat.CSV:
            self._csv = pacsv.CSVWriter(str(self._tmp), schema)
        elif fmt is FileFormat.PARQUET:
            self._parquet = pq.ParquetWriter(str(self._tmp), schema, compression="zstd")
        else:
            self._text = self._tmp.open("w", encoding="utf-8", newline="\n")
            if fmt is FileFormat.JSON:
                self._text.write("[\n")

    def write(self, table: pa.Table) -> None:
        """Append rows (the table must have the sink's schema)."""
        table = table.select(self.schema.names).cast(self.schema)
        if self._csv is not None:
            self._csv.write_table(table)
        elif self._parquet is not None:
            self._parquet.write_table(table, row_group_size=131_072)
        elif self._text is not None:
            sep = ",\n" if self.fmt is FileFormat.JSON else "\n"
            lines = [json.dumps(row, ensure_ascii=False) for row in jsonable_rows(table)]
            if lines:
                if self.fmt is FileFormat.JSON and self.rows:
                    self._text.write(sep)
                self._text.write(sep.join(lines))
                if self.fmt is FileFormat.JSONL:
                    self._text.write("\n")
        else:
            raise InternalError(f"the sink for {self.path.name} is closed")
        self.rows += table.num_rows

    def close(self) -> None:
        """Finish the file, flush it to disk and move it into place."""
        if self._csv is not None:
            self._csv.close()
        elif self._parquet is not None:
            self._parquet.close()
        elif self._text is not None:
            if self.fmt is FileFormat.JSON:
                self._text.write("\n]\n")
            self._text.close()
        fsync_file(self._tmp)
        self._tmp.replace(self.path)

    def abort(self) -> None:
        """Drop the temporary file after a failure."""
        for writer in (self._csv, self._parquet, self._text):
            if writer is not None:
                writer.close()
        self._tmp.unlink(missing_ok=True)
