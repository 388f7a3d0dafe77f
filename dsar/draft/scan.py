"""Find the table files of an export folder and how to read each: format, CSV dialect, encoding.

Top-level files are a table each, named after the file; the files of one format in a
sub-folder are one table (`logs/*.csv`). A `.json` file holding one object (a settings or
metadata file, not records) and hidden files are skipped, each with its reason.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dsar.catalog.models import FileFormat
from dsar.engine.base import Engine, sql_string

_SUFFIXES = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
    ".json": FileFormat.JSON,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
}
_PEEK = 1 << 16
_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")
_SMALL_JSON = 4 << 20  # a .json file up to this size is parsed whole to see if it is one object


@dataclass(frozen=True)
class FoundTable:
    """One table of the export: its files and how they are read."""

    name: str
    path: str  # relative to the export folder: a file, or a glob for a folder's files
    format: FileFormat
    files: tuple[Path, ...]
    csv: dict[str, object] = field(default_factory=dict)  # non-default CsvOptions only


@dataclass(frozen=True)
class Scan:
    """The tables found, and the files skipped with why (names only)."""

    tables: tuple[FoundTable, ...]
    skipped: tuple[tuple[str, str], ...]


def scan_export(root: Path, engine: Engine, note: Callable[[str], None]) -> Scan:
    """The tables of the export folder `root`; `engine` sniffs CSV dialects."""
    groups: dict[tuple[str, FileFormat], list[Path]] = {}
    skipped: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        fmt = _SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            continue
        if fmt is FileFormat.JSON:
            fmt, why = _json_kind(path)
            if fmt is None:
                skipped.append((str(rel), why))
                continue
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        groups.setdefault((folder, fmt), []).append(path)
    tables: list[FoundTable] = []
    names: set[str] = set()
    for (folder, fmt), files in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
        for found in _tables_of(root, folder, fmt, files, names):
            note(f"found {found.name}: {len(found.files)} {found.format.value} file(s)")
            if found.format is FileFormat.CSV:
                found = _with_dialect(found, engine)
            tables.append(found)
    return Scan(tuple(sorted(tables, key=lambda t: t.path)), tuple(skipped))


def _tables_of(
    root: Path, folder: str, fmt: FileFormat, files: list[Path], names: set[str]
) -> list[FoundTable]:
    if folder and all(f.parent == root / folder for f in files) and len(files) > 1:
        suffixes = {f.suffix for f in files}
        pattern = f"{folder}/*{suffixes.pop()}" if len(suffixes) == 1 else None
        if pattern is not None:
            return [FoundTable(_unique(folder, names), pattern, fmt, tuple(files))]
    return [
        FoundTable(
            _unique(f.stem if not folder else f"{folder}_{f.stem}", names),
            f.relative_to(root).as_posix(),
            fmt,
            (f,),
        )
        for f in files
    ]


def _unique(name: str, names: set[str]) -> str:
    plain = _PLAIN.sub("_", name).strip("._-") or "table"
    if not plain[0].isalnum():
        plain = f"t{plain}"
    plain, n = plain[:90], 2
    chosen = plain
    while chosen in names:
        chosen, n = f"{plain}_{n}", n + 1
    names.add(chosen)
    return chosen


def _json_kind(path: Path) -> tuple[FileFormat | None, str]:
    """An array of records (json), one record a line (jsonl), or one object: not a table."""
    with path.open("rb") as handle:
        head = handle.read(_PEEK).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return FileFormat.JSON, ""
    if not head.startswith(b"{"):
        return None, "neither a JSON array nor JSON records"
    if path.stat().st_size <= _SMALL_JSON:
        try:
            whole = json.loads(path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            return FileFormat.JSONL, ""  # several objects: one record a line
        if isinstance(whole, dict):
            return None, "one JSON object (settings or metadata), not records"
    return FileFormat.JSONL, ""


def _encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(_PEEK)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4]:
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _with_dialect(found: FoundTable, engine: Engine) -> FoundTable:
    """The CSV dialect DuckDB's sniffer finds in the first file (only what differs from the
    catalog's defaults is kept)."""
    encoding = _encoding(found.files[0])
    options = f", encoding={sql_string(encoding)}" if encoding != "utf-8" else ""
    row = engine.query(
        "SELECT Delimiter AS d, Quote AS q, HasHeader AS h FROM"
        f" sniff_csv({sql_string(str(found.files[0]))}{options})"
    ).to_pylist()[0]
    csv: dict[str, object] = {}
    if row["d"] not in (None, ","):
        csv["delimiter"] = row["d"]
    if row["q"] not in (None, '"', "(empty)", ""):
        csv["quote"] = row["q"]
    if row["h"] is False:
        csv["header"] = False
    if encoding != "utf-8":
        csv["encoding"] = encoding
    return FoundTable(found.name, found.path, found.format, found.files, csv)
