"""DuckDB's read errors in one line each: the file's line, the column, the fix; never a value.

DuckDB's messages quote the offending line or value (personal data), give JSON line numbers
that are "approximate" (often the line before), and leave out what a user can act on: that
the file is not UTF-8, which catalog option raises a limit, which column holds a value of
the wrong type. Only on this error path are files read again to find the line.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb

from dsar.catalog.models import ColumnType, CsvOptions, FileFormat, Table
from dsar.engine.base import quote_identifier, scrub_message, sql_string
from dsar.engine.files import not_text_reason, python_codec

DUCKDB_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DECIMAL: "DECIMAL(18,4)",
}

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_JSON_LINE = re.compile(r"in line (\d+)|in record/value (\d+)")
_NOT_TEXT = (
    "Invalid unicode",
    "not utf-8 encoded",
    "invalid UTF-8",
    "UTF-16 encoding is not supported",
    "is not latin-1 encoded",
)
_LONG_LINE = re.compile(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)")
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_DUPLICATE_KEY = re.compile(r'has duplicate key "([^"\n]*)"')
_PARQUET_CAST = re.compile(
    r'failed to cast column "([^"\n]+)" from type ([^\n]+?) to ([^\n]+?)(?::|\n|$)'
)


def explain(
    con: duckdb.DuckDBPyConnection, exc: Exception, table: Table, files: Sequence[Path]
) -> str:
    """Why DuckDB could not read `files` as `table`, with the line and the fix, no values."""
    message = str(exc)
    found = _CSV_LINE.search(message) or _JSON_LINE.search(message)
    line = next((g for g in found.groups() if g), None) if found else None
    where = f"line {line}: " if line else ""
    single = files[0] if len(files) == 1 else None
    if any(marker in message for marker in _NOT_TEXT):
        return not_text_reason(table, line)
    if long := _LONG_LINE.search(message):
        limit, size = int(long[1]), int(long[2])
        if single is not None:
            line = str(_first_long_line(single, limit) or line)
        suggest = -(-size * 2 // 1_000_000) * 1_000_000
        return (
            f"line {line}: the line is {size:,} bytes long, more than the reader's limit of"
            f" {limit:,}; if the file really holds values this large, raise the limit in the"
            f" catalog: csv: {{max_line_bytes: {suggest}}}"
        )
    if fields := _FIELDS.search(message):
        return (
            f"{where}the number of fields differs from the header ({fields[2]} fields where"
            f" the header has {fields[1]}): a stray delimiter, a missing field or an unclosed"
            " quote"
        )
    if key := _DUPLICATE_KEY.search(message):
        return (
            f"{where}an object gives the key {key[1]!r} twice; re-export the file with each"
            " key once"
        )
    if "JSON transform error" in message and single is not None:
        bad = _first_bad_json_value(con, table, single)
        if bad is not None:
            at, column, kind = bad
            return (
                f"{at}: column {column!r} holds a value that is not {kind}, as the catalog"
                " declares it; correct the value in the file, or change the column's type in"
                " the catalog (e.g. type: string)"
            )
    if "Expected top-level JSON array" in message:
        return (
            "the file is not a JSON array of objects, as format: json says; if it holds one"
            " object per line, say format: jsonl"
        )
    if cast := _PARQUET_CAST.search(message):
        return (
            f"column {cast[1]!r} is {cast[2]} in this file but {cast[3]} in another file of"
            " the table (the schema changed between files); re-export the files with one"
            " type for the column"
        )
    if single is not None and ("sniffing" in message or "Malformed JSON" in message):
        # DuckDB's sniffer gives no line and its JSON line can be the one after the bad
        # one: find the first bad line ourselves
        if table.format is FileFormat.CSV:
            bad_line = _first_bad_csv_line(single, table)
            if bad_line is not None:
                return (
                    f"line {bad_line}: the number of fields differs from the header"
                    " (a stray delimiter or an unclosed quote)"
                )
        elif table.format is FileFormat.JSONL:
            bad_line = _first_bad_jsonl_line(single)
            if bad_line is not None:
                return f"line {bad_line}: not a valid JSON object"
    lines = message.split("\n")
    detail = next((ln for ln in lines if "Error when converting" in ln), lines[0])
    detail = detail.split(" Error: ", 1)[-1]
    csv_line = _CSV_LINE.search(message)
    where = f"line {csv_line[1]}: " if csv_line else ""
    keep = [*(str(f) for f in files), *table.columns, *DUCKDB_TYPES.values()]
    reason = where + scrub_message(detail, keep=keep).strip()
    converting = re.search(r'converting column "([^"\n]+)"', detail)
    if table.format is FileFormat.CSV and re.search(r"to '(DATE|TIMESTAMP)'", detail):
        reason += (
            " (if the column's dates are written another way, give their layout in the"
            " catalog, e.g. csv: {timestamp_format: '%d/%m/%Y %H:%M'})"
        )
    elif converting is not None:
        described = table.columns.get(converting[1])
        if described is not None and described.type is not None:
            reason += (
                f" (the catalog declares it {described.type.value}: correct the value in the"
                " file, or change the column's type)"
            )
        else:
            reason += (
                " (the type was guessed from the first rows: declare the column's type in"
                f" the catalog, e.g. {converting[1]}: {{type: string}})"
            )
    return reason


def _first_long_line(path: Path, limit: int) -> int | None:
    """The 1-based number of the first line longer than `limit` bytes."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if len(raw) > limit:
                return number
    return None


def _first_bad_json_value(
    con: duckdb.DuckDBPyConnection, table: Table, path: Path
) -> tuple[str, str, str] | None:
    """Where the first value of a declared type does not fit it: (place, column, type)."""
    typed = {
        c: DUCKDB_TYPES[col.type]
        for c, col in table.columns.items()
        if col.type is not None and col.type is not ColumnType.STRING
    }
    if not typed:
        return None
    fmt = "array" if table.format is FileFormat.JSON else "newline_delimited"
    as_text = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in typed) + "}"
    flags = ", ".join(
        f"{quote_identifier(c)} IS NOT NULL AND TRY_CAST({quote_identifier(c)} AS {t}) IS NULL"
        for c, t in typed.items()
    )
    row = con.execute(
        f"SELECT n, [{flags}] FROM (SELECT row_number() OVER () AS n, * FROM read_json("
        f"{sql_string(str(path))}, format='{fmt}', columns={as_text}))"
        f" WHERE list_bool_or([{flags}]) ORDER BY n LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    number, bad = int(row[0]), list(row[1])
    column = list(typed)[bad.index(True)]
    kind = table.columns[column].type
    assert kind is not None
    if table.format is FileFormat.JSON:
        return f"record {number}", column, kind.value
    return f"line {_line_of_record(path, number)}", column, kind.value


def _line_of_record(path: Path, record: int) -> int:
    """The line of the `record`-th JSON Lines record (blank lines hold none)."""
    seen = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            seen += bool(text.strip())
            if seen == record:
                return number
    return record


def _first_bad_csv_line(path: Path, table: Table) -> int | None:
    """The 1-based line where a CSV row first breaks: wrong field count or a broken quote."""
    opts = table.csv or CsvOptions()
    with path.open(newline="", encoding=python_codec(table), errors="replace") as handle:
        reader = csv.reader(handle, delimiter=opts.delimiter, strict=True)
        start = 1  # the line a record starts on (a quoted value can span lines)
        try:
            header = next(reader, None)
            if header is None:
                return None
            start = reader.line_num + 1
            for row in reader:
                if len(row) != len(header):
                    return start
                start = reader.line_num + 1
        except csv.Error:
            return start
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
