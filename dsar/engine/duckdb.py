"""The DuckDB engine: reads every export format in place, multi-threaded, spills to disk."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from dsar.catalog.models import ColumnType, FileFormat, Table
from dsar.engine.base import Engine, Params, quote_identifier, scrub_message

_DUCKDB_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DECIMAL: "DECIMAL(18,4)",
}
_LINE = re.compile(r"(?:CSV Error on Line|in line|line)[: ]+(\d+)", re.IGNORECASE)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join(_literal(str(f)) for f in files) + "]"


class DuckDBEngine(Engine):
    """The embedded default engine.

    Args:
        database: a DuckDB database file, or ":memory:" (the default; views only, no copy).
        threads: worker threads; DuckDB's default is one per core.
        memory_limit: e.g. "1GB"; beyond it DuckDB spills to `temp_directory`.
        temp_directory: where to spill.
    """

    name = "duckdb"

    def __init__(
        self,
        database: str = ":memory:",
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
    ) -> None:
        super().__init__()
        config: dict[str, str | bool | int | float | list[str]] = {}
        if threads is not None:
            config["threads"] = threads
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        if temp_directory is not None:
            config["temp_directory"] = temp_directory
        self.con = duckdb.connect(database, config=config)
        self.backend_errors = (duckdb.Error,)
        self._delimiter = ","  # of the CSV table being registered, to locate a bad line

    def _create_view(self, name: str, files: Sequence[Path], table: Table) -> None:
        declared = {c: _DUCKDB_TYPES[col.type] for c, col in table.columns.items() if col.type}
        if table.format is FileFormat.CSV:
            opts = table.csv
            self._delimiter = opts.delimiter if opts else ","
            args = (
                f"header={str(opts.header if opts else True).lower()}, "
                f"delim={_literal(opts.delimiter if opts else ',')}, "
                f"quote={_literal(opts.quote if opts else chr(34))}, "
                f"nullstr={_literal(opts.null if opts else '')}"
            )
            present = set(self._sniff(f"read_csv({_file_list(files)}, {args})"))
            types = {c: t for c, t in declared.items() if c in present}
            if types:
                spec = ", ".join(f"{_literal(c)}: {_literal(t)}" for c, t in types.items())
                args += f", types={{{spec}}}"
            source = f"read_csv({_file_list(files)}, {args})"
            select = f"SELECT * FROM {source}"
        elif table.format is FileFormat.PARQUET:
            select = f"SELECT * FROM read_parquet({_file_list(files)}, union_by_name=true)"
        else:
            fmt = "array" if table.format is FileFormat.JSON else "newline_delimited"
            source = f"read_json({_file_list(files)}, format={_literal(fmt)})"
            present = set(self._sniff(source))
            casts = [
                f"CAST({quote_identifier(c)} AS {t}) AS {quote_identifier(c)}"
                for c, t in declared.items()
                if c in present
            ]
            replace = f" REPLACE ({', '.join(casts)})" if casts else ""
            select = f"SELECT *{replace} FROM {source}"
        self.con.execute(f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS {select}")

    def _sniff(self, source: str) -> list[str]:
        return [row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        return self.con.sql(sql, params=list(params) or None).to_arrow_table()

    def _batches(self, sql: str, params: Params, batch_size: int) -> Iterator[pa.RecordBatch]:
        cursor = self.con.cursor()  # a stream of its own, so other queries can run meanwhile
        try:
            yield from cursor.sql(sql, params=list(params) or None).to_arrow_reader(batch_size)
        finally:
            cursor.close()

    def _locate_read_error(self, exc: Exception, files: Sequence[Path]) -> str:
        message = str(exc)
        line = _LINE.search(message)
        first = message.split("\n")[0]
        if line is None and len(files) == 1 and "sniffing" in message:
            bad = _first_bad_csv_line(files[0], self._delimiter)
            if bad is not None:
                return (
                    f"{files[0]} line {bad}: the number of fields differs from the header"
                    " (a stray delimiter or an unclosed quote)"
                )
        detail = next((ln for ln in message.split("\n") if "Error when converting" in ln), first)
        keep = [str(f) for f in files] + [c for t in self._tables.values() for c in t.columns]
        where = f"line {line[1]}: " if line else ""
        return where + scrub_message(detail, keep=keep + list(_DUCKDB_TYPES.values())).strip()

    def close(self) -> None:
        self.con.close()


def _first_bad_csv_line(path: Path, delimiter: str) -> int | None:
    """The 1-based line where a CSV row first breaks: wrong field count or a broken quote."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return None
            for row in reader:
                if len(row) != len(header):
                    return reader.line_num
        except csv.Error:
            return reader.line_num
    return None
