"""The DuckDB engine: reads every export format in place, multi-threaded, spills to disk."""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dsar.catalog.models import ColumnType, CsvOptions, FileFormat, Table
from dsar.engine.base import Engine, Params, quote_identifier, scrub_message
from dsar.errors import InternalError

_DUCKDB_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DECIMAL: "DECIMAL(18,4)",
}
log = logging.getLogger(__name__)
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _struct(types: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_literal(c)}: {_literal(t)}" for c, t in types.items()) + "}"


def _file_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join(_literal(str(f)) for f in files) + "]"


# Text layouts a date or timestamp may have in a CSV or JSON export. A rewrite (erasure,
# correction, retention) writes each such column back in the layout its file used, so the
# rows it does not change keep their exact text ('2026-08-06T03:01:13Z' stays so, rather
# than becoming '2026-08-06 03:01:13', which would also drop the UTC marker).
_TIMESTAMP_LAYOUTS = (
    *(
        f"%Y-%m-%d{sep}%H:%M:%S{frac}{zone}"
        for zone in ("", "Z")
        for sep in (" ", "T")
        for frac in ("", ".%g", ".%f")
    ),
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
)
_DATE_LAYOUTS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")
_LAYOUT_SAMPLE = 2000  # first values of each column the layouts are chosen on
_MAX_LAYOUTS = 3  # layouts tried per column, in order
_ORIGINAL, _TEXT = "__original__", "__text__"  # helper columns of a CSV rewrite


@dataclass(frozen=True)
class _Reader:
    """How one table's files are read: the reader call and the pinned column types."""

    format: FileFormat
    options: str  # reader options after the file list (CSV dialect, JSON format)
    types: dict[str, str]  # pinned column types; empty for Parquet (typed files)
    layouts: tuple[str, ...] = ()  # date/timestamp layouts the CSV sniffer reported

    def select(self, files: Sequence[Path], overrides: dict[str, str] | None = None) -> str:
        """A SELECT over `files` with the pinned schema (some column types overridden)."""
        listed = _file_list(files)
        if self.format is FileFormat.PARQUET:
            return f"SELECT * FROM read_parquet({listed}, union_by_name=true)"
        columns = _struct({**self.types, **(overrides or {})})
        function = "read_csv" if self.format is FileFormat.CSV else "read_json"
        return f"SELECT * FROM {function}({listed}, {self.options}, columns={columns})"

    def temporal(self) -> dict[str, str]:
        """The date and timestamp (without time zone) columns, with their types."""
        return {
            c: t
            for c, t in self.types.items()
            if t == "DATE" or (t.startswith("TIMESTAMP") and "TIME ZONE" not in t)
        }


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
        self._readers: dict[str, _Reader] = {}

    def _create_view(self, name: str, files: Sequence[Path], table: Table) -> None:
        """Sniff the files once, then pin the schema in the view.

        A view over an auto-detecting reader would sniff the files again on every query
        (about 0.2 s each for a large CSV or JSON file); pinning the detected columns and
        dialect makes each later query bind instantly and keeps its types stable.
        """
        declared = {c: _DUCKDB_TYPES[col.type] for c, col in table.columns.items() if col.type}
        if table.format is FileFormat.PARQUET:
            reader = _Reader(FileFormat.PARQUET, "", {})
        elif table.format is FileFormat.CSV:
            opts = table.csv or CsvOptions()
            base = (
                f"delim={_literal(opts.delimiter)}, quote={_literal(opts.quote)}, "
                f"header={str(opts.header).lower()}, nullstr={_literal(opts.null)}, skip=0"
            )
            if opts.date_format:
                base += f", dateformat={_literal(opts.date_format)}"
            if opts.timestamp_format:
                base += f", timestampformat={_literal(opts.timestamp_format)}"
            sniffed = self.con.execute(
                "SELECT Escape, Columns, DateFormat, TimestampFormat FROM"
                f" sniff_csv({_literal(str(files[0]))}, {base})"
            ).fetchone()
            if sniffed is None:
                raise InternalError(f"DuckDB's CSV sniffer returned nothing for table {name!r}")
            escape, columns, date_format, ts_format = sniffed
            types = {c["name"]: declared.get(c["name"], c["type"]) for c in columns}
            extra = f", escape={_literal(escape)}" if escape and escape != "(empty)" else ""
            if date_format and not opts.date_format:
                extra += f", dateformat={_literal(date_format)}"
            if ts_format and not opts.timestamp_format:
                extra += f", timestampformat={_literal(ts_format)}"
            layouts = tuple(f for f in (ts_format, date_format) if f)
            reader = _Reader(FileFormat.CSV, f"{base}{extra}, auto_detect=false", types, layouts)
        else:
            fmt = "array" if table.format is FileFormat.JSON else "newline_delimited"
            options = f"format={_literal(fmt)}"
            detected = self.con.execute(
                f"DESCRIBE SELECT * FROM read_json({_file_list(files)}, {options})"
            ).fetchall()
            types = {row[0]: declared.get(row[0], row[1]) for row in detected}
            reader = _Reader(table.format, options, types)
        self.con.execute(
            f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS {reader.select(files)}"
        )
        self._readers[name] = reader

    def _keep_text(self, name: str, sql: str, source: Path) -> str:
        """Wrap a rewrite so that values keep the text their file had.

        Dates and timestamps are written in the layout of their file (see `_text_layouts`).
        For CSV, a value the rewrite did not change is written as its original text.
        """
        reader = self._readers[name]
        kinds = reader.temporal()
        texts = {}
        for col, layouts in self._text_layouts(name, source).items():
            cast = "DATE" if kinds[col] == "DATE" else "TIMESTAMP"
            value = f"CAST({quote_identifier(col)} AS {cast})"
            # the layouts were chosen on the first values: a value that none of them writes
            # whole (a fraction of a second, say) gets DuckDB's lossless form
            cases = " ".join(
                f"WHEN CAST(try_strptime(strftime({value}, {fmt}), {fmt}) AS {cast}) = {value}"
                f" THEN strftime({value}, {fmt})"
                for fmt in map(_literal, layouts)
            )
            texts[col] = f"CASE {cases} ELSE CAST({value} AS VARCHAR) END"
        if reader.format is not FileFormat.CSV:
            if not texts:
                return sql
            keep = ", ".join(f"{t} AS {quote_identifier(c)}" for c, t in texts.items())
            return f"SELECT * REPLACE ({keep}) FROM ({sql})"
        columns = []
        for col in reader.types:
            c, original, text = (
                quote_identifier(col),
                quote_identifier(_ORIGINAL + col),
                quote_identifier(_TEXT + col),
            )
            changed = texts.get(col, f"CAST({c} AS VARCHAR)")
            columns.append(
                f"CASE WHEN {c} IS NOT DISTINCT FROM {original} THEN {text} ELSE {changed} END"
                f" AS {c}"
            )
        return f"SELECT {', '.join(columns)} FROM ({sql})"

    def _file_select(self, name: str, path: Path) -> str:
        return f"({self._readers[name].select([path])})"

    def _write_source(self, name: str, path: Path) -> str:
        """For a CSV file: each row read twice, typed and as the text it holds.

        The rewrite's SELECT sees the typed columns (and passes the helper columns along with
        its `*`); `_write` then writes a value's original text wherever the rewrite left the
        value as it was, so a rewritten CSV file keeps '12.50', '+44 (0)1632 960001' or
        '01/12/2026 10:00' exactly, instead of DuckDB's rendering of the parsed value.
        """
        reader = self._readers[name]
        if reader.format is not FileFormat.CSV:
            return self._file_select(name, path)
        typed = reader.select([path])
        text = reader.select([path], dict.fromkeys(reader.types, "VARCHAR"))
        helpers = ", ".join(
            f"t.{quote_identifier(c)} AS {quote_identifier(_ORIGINAL + c)},"
            f" r.{quote_identifier(c)} AS {quote_identifier(_TEXT + c)}"
            for c in reader.types
        )
        # POSITIONAL JOIN pairs the two readings row by row (both read the same file)
        return f"(SELECT t.*, {helpers} FROM ({typed}) AS t POSITIONAL JOIN ({text}) AS r)"

    def _text_layouts(self, name: str, path: Path) -> dict[str, tuple[str, ...]]:
        """Per date/timestamp column of a CSV or JSON file: the layouts its text is in.

        Found by reading the first values of each such column as text: the layout that
        writes most of them back exactly, then (up to `_MAX_LAYOUTS`) those that cover the
        rest (a file where only some timestamps carry milliseconds). Where none covers a
        sampled value, a warning names the column; `_keep_text` writes such values in
        DuckDB's lossless form.
        """
        reader = self._readers[name]
        temporal = reader.temporal()
        if not temporal:
            return {}
        raw = reader.select([path], dict.fromkeys(temporal, "VARCHAR"))
        cols = ", ".join(quote_identifier(c) for c in temporal)
        sample = self.con.sql(f"SELECT {cols} FROM ({raw}) LIMIT {_LAYOUT_SAMPLE}")
        values = sample.to_arrow_table().to_pydict()
        found = {}
        for col, kind in temporal.items():
            texts = sorted({v for v in values[col] if v is not None})
            if not texts:
                continue
            cast = "DATE" if kind == "DATE" else "TIMESTAMP"
            fits: dict[str, set[int]] = {}
            known = _DATE_LAYOUTS if cast == "DATE" else _TIMESTAMP_LAYOUTS
            for layout in reader.layouts + known:
                rows = self.con.execute(
                    "SELECT list(i) FROM (SELECT unnest($2::VARCHAR[]) AS v,"
                    " generate_subscripts($2::VARCHAR[], 1) AS i)"
                    f" WHERE strftime(CAST(try_strptime(v, $1) AS {cast}), $1) = v",
                    [layout, texts],
                ).fetchone()
                fits[layout] = set(rows[0] or []) if rows else set()
            chosen: list[str] = []
            left = set(range(1, len(texts) + 1))
            while left and len(chosen) < _MAX_LAYOUTS:
                best = max(fits, key=lambda layout: len(fits[layout] & left))
                if not fits[best] & left:
                    break
                chosen.append(best)
                left -= fits[best]
            if left:
                log.warning(
                    "%s.%s: some dates or times fit none of the known layouts; a rewrite writes"
                    " those in ISO form (YYYY-MM-DD HH:MM:SS)",
                    name,
                    col,
                )
            if chosen:
                found[col] = tuple(chosen)
        return found

    def _write(self, name: str, sql: str, params: Params, source: Path, target: Path) -> None:
        table = self._tables[name]
        if table.format is not FileFormat.PARQUET:
            sql = self._keep_text(name, sql, source)
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
        self.con.execute(f"COPY ({sql}) TO {_literal(str(target))} ({options})", list(params))

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
        reason = where + scrub_message(detail, keep=keep).strip()
        if table.format is FileFormat.CSV and re.search(r"to '(DATE|TIMESTAMP)'", detail):
            reason += (
                " (if the column's dates are written another way, give their layout in the"
                " catalog, e.g. csv: {timestamp_format: '%d/%m/%Y %H:%M'})"
            )
        return reason

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
