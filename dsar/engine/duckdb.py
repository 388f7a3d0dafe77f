"""The DuckDB engine: reads every export format in place, multi-threaded, spills to disk."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dsar.catalog.models import CsvOptions, FileFormat, Table
from dsar.engine.base import Engine, Params, quote_identifier, sql_string
from dsar.engine.duckdb_errors import DUCKDB_TYPES as _DUCKDB_TYPES, explain
from dsar.engine.files import holds_no_records, is_blank
from dsar.errors import EngineError, InternalError

log = logging.getLogger(__name__)


def _struct(types: dict[str, str]) -> str:
    return "{" + ", ".join(f"{sql_string(c)}: {sql_string(t)}" for c, t in types.items()) + "}"


def _file_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join(sql_string(str(f)) for f in files) + "]"


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


def reader_option(options: str, name: str) -> str | None:
    """One option's value in a reader's options text (`_Reader.options`, as
    `reader_state` keeps it), e.g. the escape character the sniffer found; None: not set.

    Examples:
        >>> reader_option("delim=',', dateformat='%d/%m/%Y', auto_detect=false", "dateformat")
        '%d/%m/%Y'
    """
    found = re.search(rf"\b{name}='((?:[^']|'')*)'", options)
    return found.group(1).replace("''", "'") if found else None


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


def scratch_connection(
    *, memory_limit: str | None = None, spill: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for work on data already read (Arrow tables, a staged
    or written artifact), never on an export: exports are read through an `Engine`, which
    holds the export's lock. `memory_limit` bounds it (beyond, it spills to `spill`)."""
    config: dict[str, str | bool | int | float | list[str]] = {}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if spill is not None:
        config["temp_directory"] = str(spill)
    return _in_utc(duckdb.connect(config=config))


def _in_utc(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con` with its time zone set to UTC: DuckDB takes the machine's own by default, and a
    zoned timestamp cast to a plain one (a breach window, a retention cut-off, a bundle's
    cell) would then move by the machine's offset (01:00Z read as 06:30 in Kolkata)."""
    con.execute("SET TimeZone = 'UTC'")
    return con


class DuckDBEngine(Engine):
    """The embedded default engine.

    Args:
        database: a DuckDB database file, or ":memory:" (the default; views only, no copy).
        threads: worker threads; DuckDB's default is one per core.
        memory_limit: e.g. "1GB"; beyond it DuckDB spills to `temp_directory`.
        temp_directory: where to spill.
        readers: kept schemas per table (`reader_state`, e.g. from the identity index, for
            files unchanged since): used instead of sniffing the files again.
    """

    name = "duckdb"

    def __init__(
        self,
        database: str = ":memory:",
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
        readers: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self._kept = dict(readers or {})
        config: dict[str, str | bool | int | float | list[str]] = {}
        if threads is not None:
            config["threads"] = threads
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        if temp_directory is not None:
            config["temp_directory"] = temp_directory
        self.con = _in_utc(duckdb.connect(database, config=config))
        # DuckDB 2.0's type pushdown reads a CSV column straight as text when a query only
        # casts it to text: '007' of an integer column then stays '007' where a query that
        # also reads the row sees 7 ('7'). An answer must not depend on which columns a
        # query reads (a filter that looks first would miss the row its scan finds).
        self.con.execute("SET disabled_optimizers = 'type_pushdown'")
        self.backend_errors = (duckdb.Error,)
        self._readers: dict[str, _Reader] = {}

    def _create_view(self, name: str, files: Sequence[Path], table: Table) -> None:
        """Sniff the files once, then pin the schema in the view.

        A view over an auto-detecting reader would sniff the files again on every query
        (about 0.2 s each for a large CSV or JSON file); pinning the detected columns and
        dialect makes each later query bind instantly and keeps its types stable.
        """
        declared = {c: _DUCKDB_TYPES[col.type] for c, col in table.columns.items() if col.type}
        kept = self._kept.get(name)
        if kept is not None:
            reader = _Reader(
                FileFormat(kept["format"]),
                str(kept["options"]),
                dict(kept["types"]),
                tuple(kept["layouts"]),
            )
        elif table.format is FileFormat.PARQUET:
            reader = _Reader(FileFormat.PARQUET, "", {})
        elif table.format is FileFormat.CSV:
            opts = table.csv or CsvOptions()
            base = (
                f"delim={sql_string(opts.delimiter)}, quote={sql_string(opts.quote)}, "
                f"header={str(opts.header).lower()}, nullstr={sql_string(opts.null)}, skip=0"
            )
            if opts.date_format:
                base += f", dateformat={sql_string(opts.date_format)}"
            if opts.timestamp_format:
                base += f", timestampformat={sql_string(opts.timestamp_format)}"
            if opts.encoding != "utf-8":
                base += f", encoding={sql_string(opts.encoding)}"
            if opts.max_line_bytes is not None:
                base += f", max_line_size={opts.max_line_bytes}"
            sample = next((f for f in files if not is_blank(f)), None)
            sniffed: tuple[Any, ...] | None
            if sample is None:  # only empty files without a header: zero rows
                sniffed = ("", [{"name": c, "type": "VARCHAR"} for c in table.columns], "", "")
            else:
                sniffed = self.con.execute(
                    "SELECT Escape, Columns, DateFormat, TimestampFormat FROM"
                    f" sniff_csv({sql_string(str(sample))}, {base})"
                ).fetchone()
            if sniffed is None:
                raise InternalError(f"DuckDB's CSV sniffer returned nothing for table {name!r}")
            escape, columns, date_format, ts_format = sniffed
            types = {c["name"]: declared.get(c["name"], c["type"]) for c in columns}
            extra = f", escape={sql_string(escape)}" if escape and escape != "(empty)" else ""
            if date_format and not opts.date_format:
                extra += f", dateformat={sql_string(date_format)}"
            if ts_format and not opts.timestamp_format:
                extra += f", timestampformat={sql_string(ts_format)}"
            layouts = tuple(f for f in (ts_format, date_format) if f)
            reader = _Reader(FileFormat.CSV, f"{base}{extra}, auto_detect=false", types, layouts)
        else:
            fmt = "array" if table.format is FileFormat.JSON else "newline_delimited"
            options = f"format={sql_string(fmt)}"
            # Types come from the first 20,480 records (DuckDB's sample), but every record's
            # keys are listed: a key first seen later would otherwise be left out of the view
            # (a request would miss it, a rewrite drop it). Listing keys from the raw records
            # costs a third of typing every record (measured on 250,000 records: 0.17 s
            # against 0.36 s for a JSON array, 0.07 s against 0.20 s for JSON Lines).
            detected = []  # no record in any file: DuckDB would make up a column 'json'
            keys: list[str] = []
            if not holds_no_records(files):
                detected = self.con.execute(
                    f"DESCRIBE SELECT * FROM read_json({_file_list(files)}, {options})"
                ).fetchall()
                keys = [
                    row[0]
                    for row in self.con.execute(
                        "SELECT DISTINCT unnest(json_keys(json)) FROM"
                        f" read_json_objects({_file_list(files)}, {options})"
                    ).fetchall()
                ]
            types = {row[0]: declared.get(row[0], row[1]) for row in detected}
            # a key the sample did not see: its declared type, else text
            types.update({k: declared.get(k, "VARCHAR") for k in keys if k not in types})
            # a described key that no record has is read as empty (JSON keys are optional)
            types.update({c: declared.get(c, "VARCHAR") for c in table.columns if c not in types})
            reader = _Reader(table.format, options, types)
        self.con.execute(
            f"CREATE OR REPLACE VIEW {quote_identifier(name)} AS {reader.select(files)}"
        )
        self._readers[name] = reader

    def reader_state(self, name: str) -> dict[str, object] | None:
        reader = self._readers[name]
        return {
            "format": reader.format.value,
            "options": reader.options,
            "types": reader.types,
            "layouts": list(reader.layouts),
        }

    def file_relation(self, name: str, path: Path, *, row_numbers: bool = False) -> str:
        if row_numbers and self._tables[name].format is FileFormat.PARQUET:
            return (
                f"(SELECT * EXCLUDE (file_row_number), file_row_number AS __row FROM"
                f" read_parquet({sql_string(str(path))}, file_row_number=true))"
            )
        return self._file_select(name, path)

    def files_relation(self, name: str, files: Sequence[Path]) -> str:
        return f"({self._readers[name].select(files)})"

    def _drop_view(self, name: str) -> None:
        self.con.execute(f"DROP VIEW IF EXISTS {quote_identifier(name)}")
        self._readers.pop(name, None)

    def _files_with_column(self, name: str, column: str) -> list[Path]:
        files = self._files[name]
        if self._tables[name].format is not FileFormat.PARQUET:
            return list(files)
        rows = self.con.execute(
            f"SELECT DISTINCT file_name FROM parquet_schema({_file_list(files)}) WHERE name = ?",
            [column],
        ).fetchall()
        having = {row[0] for row in rows}
        return [f for f in files if str(f) in having]

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
                for fmt in map(sql_string, layouts)
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
                f" DELIMITER {sql_string(opts.delimiter)}, QUOTE {sql_string(opts.quote)},"
                f" NULLSTR {sql_string(opts.null)}"
            )
        else:
            array = "true" if table.format is FileFormat.JSON else "false"
            options = f"FORMAT json, ARRAY {array}"
        encoding = table.csv.encoding if table.csv is not None else "utf-8"
        with source.open("rb") as handle:
            bom = handle.read(3)
        keep_bom = table.format is FileFormat.CSV and bom.startswith((b"\xef\xbb\xbf", b"\xff\xfe"))
        if encoding == "utf-8" and not keep_bom:
            self.con.execute(f"COPY ({sql}) TO {sql_string(str(target))} ({options})", list(params))
            return
        # DuckDB writes UTF-8 only: write beside the target, then re-encode into it, keeping
        # the source's byte-order mark, so that the file is read back as the catalog says
        utf8 = target.with_name(f"{target.name}.utf-8")
        try:
            self.con.execute(f"COPY ({sql}) TO {sql_string(str(utf8))} ({options})", list(params))
            _reencode(utf8, target, encoding, keep_bom, name)
        except BaseException:
            target.unlink(missing_ok=True)  # never leave half a copy of personal data
            raise
        finally:
            utf8.unlink(missing_ok=True)

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        return self.con.sql(sql, params=list(params) or None).to_arrow_table()

    def _batches(self, sql: str, params: Params, batch_size: int) -> Iterator[pa.RecordBatch]:
        cursor = self.con.cursor()  # a stream of its own, so other queries can run meanwhile
        try:
            yield from cursor.sql(sql, params=list(params) or None).to_arrow_reader(batch_size)
        finally:
            cursor.close()

    def _locate_read_error(self, exc: Exception, table: Table, files: Sequence[Path]) -> str:
        return explain(self.con, exc, table, files)

    def close(self) -> None:
        self.con.close()
        super().close()


def _reencode(utf8: Path, target: Path, encoding: str, bom: bool, table: str) -> None:
    """Copy a UTF-8 text file into `target` in `encoding` (utf-8, utf-16 LE or latin-1)."""
    codec = {"utf-8": "utf-8", "utf-16": "utf-16-le", "latin-1": "latin-1"}[encoding]
    with (
        utf8.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding=codec, newline="") as dst,
    ):
        if bom:
            dst.write("\ufeff")
        try:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        except UnicodeEncodeError:
            raise EngineError(
                f"cannot write table {table!r} back as {encoding}: a value the change writes"
                f" has a character {encoding} cannot hold; give the new value in {encoding}"
                " characters, or re-export the table as UTF-8 and remove csv.encoding"
            ) from None
