"""Checks on export files before a backend reads them: empty files, encodings, CSV headers.

Left to the reader, each of these is misread rather than refused: DuckDB takes an empty
file for a table of one column named `json` or `column0`, reads a UTF-16 big-endian CSV as
zero rows, reads a second CSV file whose header lists the columns in another order under
the first file's names (values under the wrong column), and renames a header given twice
to `email_1`. A request would then miss data, or an erasure rewrite the wrong column, so
these are refused here, naming the file and the fix. Only the first bytes of each file and
the header line of each CSV file are read.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from dsar.catalog.models import CsvOptions, FileFormat, Table
from dsar.errors import ExportReadError

__all__ = ["check_files", "holds_no_records", "is_blank", "not_text_reason", "python_codec"]

_PEEK = 4096  # bytes read from the start of each file
_UTF8_BOM, _UTF16_LE, _UTF16_BE = b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"
_CODECS = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "latin-1": "latin-1"}


def python_codec(table: Table) -> str:
    """The Python codec that reads `table`'s files as the backend does (a UTF-8 BOM skipped)."""
    if table.format is FileFormat.CSV:
        return _CODECS[(table.csv or CsvOptions()).encoding]
    return "utf-8-sig"


def not_text_reason(table: Table, line: int | str | None) -> str:
    """Why a file's bytes cannot be decoded, and the fix, for the table's format."""
    where = f"line {line}: " if line is not None else ""
    if table.format is not FileFormat.CSV:
        return (
            f"{where}the file is not UTF-8 text, and JSON must be UTF-8: re-export it as UTF-8"
            " (e.g. iconv -f latin1 -t utf-8)"
        )
    encoding = (table.csv or CsvOptions()).encoding
    if encoding == "utf-8":
        return (
            f"{where}the file is not UTF-8 text (a byte there is not valid UTF-8); if it is"
            " Latin-1 or UTF-16, say so in the catalog: csv: {encoding: latin-1} (or utf-16);"
            " otherwise re-export it as UTF-8"
        )
    return (
        f"{where}the file is not {encoding} text, as the catalog's csv.encoding says; correct"
        " the option (utf-8, utf-16 or latin-1) or re-export the file"
    )


def is_blank(path: Path) -> bool:
    """Whether a file holds nothing but a byte-order mark and white space (0 bytes included)."""
    with path.open("rb") as handle:
        return _blank(handle.read(_PEEK + 1))


def holds_no_records(files: Sequence[Path]) -> bool:
    """Whether every file is blank or an empty JSON array (`[]`): a table with no rows."""
    for path in files:
        with path.open("rb") as handle:
            head = handle.read(_PEEK + 1)
        if not _blank(head) and _strip_bom(head).translate(None, b" \t\r\n") != b"[]":
            return False
    return True


def _blank(head: bytes) -> bool:
    """Whether the first bytes of a file are all of it, and only a BOM and white space."""
    return len(head) <= _PEEK and not _strip_bom(head).strip(b" \t\r\n\x00")


def check_files(name: str, table: Table, files: Sequence[Path]) -> None:
    """Refuse files the reader would misread, before it reads them.

    Raises:
        ExportReadError: naming the file and what to do: an empty file (except where it is
            how the format writes no rows: JSON Lines, CSV without a header), a UTF-16 file
            the catalog does not declare (or a big-endian one), a CSV header that names a
            column twice or differs from the first file's.
    """
    header: list[str] | None = None
    first = files[0] if files else None
    for path in files:

        def refuse(reason: str, path: Path = path) -> ExportReadError:
            return ExportReadError(name, [str(path)], reason)

        try:
            with path.open("rb") as handle:
                head = handle.read(_PEEK + 1)
        except OSError as exc:
            raise refuse(f"cannot open it: {exc.strerror or exc}") from None
        if _blank(head):
            if _no_rows_is_empty(table):
                continue
            raise refuse(_empty_reason(table, len(head)))
        if (reason := _encoding_reason(table, head)) is not None:
            raise refuse(reason)
        if table.format is FileFormat.CSV and (table.csv or CsvOptions()).header:
            names = _csv_header(name, table, path)
            twice = [c for c, n in Counter(names).items() if n > 1]
            if twice:
                named = [c for c in twice if _NAME_LIKE.match(c)]
                what = _listed(named) if len(named) == len(twice) else f"{len(twice)} name(s)"
                raise refuse(
                    f"line 1: the header names {what} more than once; give each"
                    " column its own name in the export, then describe each in the catalog"
                )
            if header is None:
                header = names
            elif names != header and first is not None:
                raise refuse(
                    f"line 1: the header differs from that of {first.name}, the table's first"
                    f" file ({_difference(header, names)}); every file of a table needs the"
                    " same columns in the same order: re-export it, or describe it as a"
                    " table of its own"
                )


def _no_rows_is_empty(table: Table) -> bool:
    """Whether an empty file is how the format writes a table with no rows: JSON Lines and
    CSV without a header have no other way (CSV with a header writes the header line, JSON
    writes [], Parquet its schema), so for them an empty file is read as zero rows."""
    if table.format is FileFormat.CSV:
        return not (table.csv or CsvOptions()).header
    return table.format is FileFormat.JSONL


def _strip_bom(data: bytes) -> bytes:
    for bom in (_UTF8_BOM, _UTF16_LE, _UTF16_BE):
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def _empty_reason(table: Table, size: int) -> str:
    what = "the file is empty (0 bytes)" if size == 0 else "the file holds only blank lines"
    if table.format is FileFormat.CSV:
        return (
            f"{what}: a CSV export writes at least its header line, so this one probably"
            " stopped early; re-export it (a table with no rows is its header line alone),"
            " or remove it if it is one of several files and does not belong"
        )
    if table.format is FileFormat.JSON:
        return (
            f"{what}: re-export it; a JSON table with no rows is written as [] (read as zero rows)"
        )
    return (
        f"{what}: it is not a Parquet file; re-export it (a Parquet file keeps its schema even"
        " with no rows)"
    )


def _encoding_reason(table: Table, head: bytes) -> str | None:
    """A problem visible in the first bytes: UTF-16 where it is not declared, or big-endian."""
    if table.format is FileFormat.PARQUET:
        return None
    bom = head[:2] in (_UTF16_LE, _UTF16_BE)
    utf16 = bom or b"\x00" in head[:4]
    how = "it starts with a UTF-16 byte-order mark" if bom else "its characters are two bytes"
    if table.format is not FileFormat.CSV:
        if utf16:
            return (
                f"the file is UTF-16 text ({how}), and JSON must be UTF-8: re-export it as"
                " UTF-8 (e.g. iconv -f utf-16 -t utf-8)"
            )
        return None
    encoding = (table.csv or CsvOptions()).encoding
    if encoding == "latin-1" and _looks_utf8(head):
        return (
            "the catalog says csv.encoding latin-1, but the file is UTF-8 text (its accented"
            " letters are UTF-8; read as Latin-1 they would change); remove the encoding option"
        )
    if encoding != "utf-16":
        if utf16:
            return (
                f"the file is UTF-16 text ({how}); say so in the catalog: csv: {{encoding: utf-16}}"
            )
        return None
    if head.startswith(_UTF16_BE) or (not bom and head[:1] == b"\x00"):
        return (
            "the file is UTF-16 big-endian, which the reader cannot read (it would find no"
            " rows); re-export it as UTF-8 or UTF-16 little-endian (e.g. iconv -f utf-16be"
            " -t utf-8, then remove the encoding option)"
        )
    if not utf16:
        return (
            "the catalog says csv.encoding utf-16, but the file is not UTF-16 (no byte-order"
            " mark, no two-byte characters); correct or remove the encoding option"
        )
    return None


def _looks_utf8(head: bytes) -> bool:
    """Whether bytes beyond ASCII are there and all valid UTF-8 (Latin-1 text almost never
    is: an accented letter is one byte that UTF-8 cannot start a character with)."""
    if head.isascii():
        return False
    for cut in range(4):  # the last character may be cut off by the block
        try:
            head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def _csv_header(name: str, table: Table, path: Path) -> list[str]:
    opts = table.csv or CsvOptions()
    # undecodable bytes are left to the reader, which reports the line they are on (text is
    # decoded here in blocks, so an error here could come from a later line)
    try:
        with path.open(encoding=python_codec(table), errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=opts.delimiter, quotechar=opts.quote or None)
            return next(reader, [])
    except csv.Error as exc:
        reason = f"line 1: the header cannot be read ({exc})"
        raise ExportReadError(name, [str(path)], reason) from None


def _listed(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


_NAME_LIKE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")  # how a column is named, not a value


def _difference(first: list[str], other: list[str]) -> str:
    """How a file's header differs from the first file's. Its first line may be a person's
    row (a part file without a header): it is then described by counts, and only names
    shaped as column names are ever quoted from it."""
    if other and not set(other) & set(first):
        return (
            f"it has no header line: its first line holds {len(other)} fields, none of them"
            f" one of the first file's {len(first)} column names (a row, not shown)"
        )
    missing = [c for c in first if c not in other]
    extra = [c for c in other if c not in first]
    shown = [c for c in extra if _NAME_LIKE.match(c)]
    parts = []
    if missing:
        parts.append(f"it lacks {_listed(missing)}")
    if shown:
        parts.append(f"it adds {_listed(shown)}")
    if len(shown) < len(extra):
        parts.append(f"{'and ' if shown else 'it adds '}{len(extra) - len(shown)} other name(s)")
    return "; ".join(parts) or "the same columns in another order"
