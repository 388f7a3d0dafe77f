"""The DuckDB engine: reads every export format in place, multi-threaded, spills to disk."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from dsar.catalog.models import ColumnType, CsvOptions, FileFormat, Table
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
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _struct(types: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_literal(c)}: {_literal(t)}" for c, t in types.items()) + "}"


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
        self._selects: dict[str, tuple[str, str]] = {}

    def _create_view(self, name: str, files: Sequence[Path], table: Table) -> None:
        """Sniff the files once, then pin the schema in the view.

        A view over an auto-detecting reader would sniff the files again on every query
        (about 0.2 s each for a large CSV or JSON file); pinning the detected columns and
        dialect makes each later query bind instantly and keeps its types stable.
        """
        declared = {c: _DUCKDB_TYPES[col.type] for c, col in table.columns.items() if col.type}
        listed = _file_list(files)
        if table.format is FileFormat.PARQUET:
            select = f"SELECT * FROM read_parquet({listed}, union_by_name=true)"
        elif table.format is FileFormat.CSV:
            opts = table.csv or CsvOptions()
            base = (
                f"delim={_literal(opts.delimiter)}, quote={_literal(opts.quote)}, "
                f"header={str(opts.header).lower()}, nullstr={_literal(opts.null)}, skip=0"
            )
            sniffed = self.con.execute(
                "SELECT Escape, Columns, DateFormat, TimestampFormat FROM"
                f" sniff_csv({_literal(str(files[0]))}, {base})"
            ).fetchone()
            assert sniffed is not None
            escape, columns, date_format, ts_format = sniffed
            types = {c["name"]: declared.get(c["name"], c["type"]) for c in columns}
            extra = f", escape={_literal(escape)}" if escape and escape != "(empty)" else ""
            if date_format:
                extra += f", dateformat={_literal(date_format)}"
            if ts_format:
                extra += f", timestampformat={_literal(ts_format)}"
            select = (
                f"SELECT * FROM read_csv({listed}, {base}{extra}, auto_detect=false,"
                f" columns={_struct(types)})"
            )
        else:
            fmt = "array" if table.format is FileFormat.JSON else "newline_delimited"
            source = f"read_json({listed}, format={_literal(fmt)}"
            detected = self.con.execute(f"DESCRIBE SELECT * FROM {source})").fetchall()
            types = {row[0]: declared.get(row[0], row[1]) for row in detected}
            select = f"SELECT * FROM {source}, columns={_struct(types)})"
        self.con.execute(f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS {select}")
        self._selects[name] = (select, listed)

    def _file_select(self, name: str, path: Path) -> str:
        select, listed = self._selects[name]
        return f"({select.replace(listed, _file_list([path]))})"

    def _write(self, sql: str, params: Params, path: Path, table: Table) -> None:
        if table.format is FileFormat.PARQUET:
            options = "FORMAT parquet, COMPRESSION zstd"
        elif table.format is FileFormat.CSV:
            opts = table.csv or CsvOptions()
            options = (
                f"FORMAT csv, HEADER {str(opts.header).lower()},"
                f" DELIMITER {_literal(opts.delimiter)}, QUOTE {_literal(opts.quote)},"
                f" NULLSTR {_literal(opts.null)}"
            )
        else:
            array = "true" if table.format is FileFormat.JSON else "false"
            options = f"FORMAT json, ARRAY {array}"
        self.con.execute(f"COPY ({sql}) TO {_literal(str(path))} ({options})", list(params))

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        return self.con.sql(sql, params=list(params) or None).to_arrow_table()

    def _batches(self, sql: str, params: Params, batch_size: int) -> Iterator[pa.RecordBatch]:
        cursor = self.con.cursor()  # a stream of its own, so other queries can run meanwhile
        try:
            yield from cursor.sql(sql, params=list(params) or None).to_arrow_reader(batch_size)
        finally:
            cursor.close()

    def _locate_read_error(self, exc: Exception, table: Table, files: Sequence[Path]) -> str:
        message = str(exc)
        if len(files) == 1 and ("sniffing" in message or "Malformed JSON" in message):
            # DuckDB's sniffer gives no line and its JSON line can be the one after the bad
            # one: find the first bad line ourselves (only on this error path).
            path = files[0]
            if table.format is FileFormat.CSV:
                delimiter = table.csv.delimiter if table.csv else ","
                bad = _first_bad_csv_line(path, delimiter)
                if bad is not None:
                    return (
                        f"line {bad}: the number of fields differs from the header"
                        " (a stray delimiter or an unclosed quote)"
                    )
            elif table.format is FileFormat.JSONL:
                bad = _first_bad_jsonl_line(path)
                if bad is not None:
                    return f"line {bad}: not a valid JSON object"
        lines = message.split("\n")
        detail = next((ln for ln in lines if "Error when converting" in ln), lines[0])
        detail = detail.split(" Error: ", 1)[-1]
        csv_line = _CSV_LINE.search(message)
        where = f"line {csv_line[1]}: " if csv_line else ""
        keep = [*(str(f) for f in files), *table.columns, *_DUCKDB_TYPES.values()]
        return where + scrub_message(detail, keep=keep).strip()

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


def _first_bad_jsonl_line(path: Path) -> int | None:
    """The 1-based line of the first line of a JSON Lines file that is not a JSON object."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                if not isinstance(json.loads(line), dict):
                    return number
            except json.JSONDecodeError:
                return number
    return None
