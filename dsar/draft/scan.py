"""Find the table files of an export folder and how to read each: format, CSV dialect, encoding.

Top-level files are a table each, named after the file; the files of one format in a
sub-folder are one table (`logs/*.csv`). A `.json` file holding one object (a settings or
metadata file, not records) and hidden files are skipped, each with its reason; so is a
table whose files hold no row (0 bytes, `[]`). A table the engine cannot read as it is (a
JSON object wrapping an array of records or records keyed by id, a compressed file, a text
encoding the engine does not read, part files whose headers differ) is `NotRead`: listed,
with why, never a value, and never drafted.

A CSV whose first line has the shape of its values (an email, a phone number, a date or a
number where the column holds them; a field found again in its column below; or every field
of it shaped as its column) has no header line: it is read
with `header: false` (columns named by the engine, `column0`, ...), never a value made a
column name. A first line is a header only where its shape sets it apart from the rest (a
field not of its typed column's type, or outside the few values its column holds; fields
shaped as column names); in doubt, it is a row, and said. A line longer than the reader's
default is read with `max_line_bytes` raised.

A folder laid out Hive-style (`events/user_id=42/part-0.parquet`,
`logs/dt=2026-11-01/country=NL/part-0.csv`: every folder below the table's a `name=value`)
is one table, its path a glob over the partitions (`events/user_id=*/*.parquet`); the
engine reads the partition columns from the folder names, so they are columns like any
other (a person's id among them), never lost with one table a partition file.
"""

from __future__ import annotations

import codecs
import csv as csv_module
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dsar.catalog.models import FileFormat
from dsar.engine.base import Engine, sql_string
from dsar.engine.files import holds_no_records, is_blank
from dsar.errors import WorkbenchError

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
_COMPRESSED = (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zip", ".lz4", ".z", ".snappy")
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
    notes: tuple[str, ...] = ()  # how it is read, where that is not the default (no value)


@dataclass(frozen=True)
class NotRead:
    """A table that holds data the draft could not read: where, and why (no value)."""

    name: str
    path: str
    format: FileFormat
    reason: str


@dataclass(frozen=True)
class Scan:
    """The tables found, the files skipped with why (names only), and the tables not read."""

    tables: tuple[FoundTable, ...]
    skipped: tuple[tuple[str, str], ...]
    not_read: tuple[NotRead, ...] = ()


class Unreadable(Exception):
    """A table the draft cannot read: `reason` names files by position, never a value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def scan_export(root: Path, engine: Engine, note: Callable[[str], None]) -> Scan:
    """The tables of the export folder `root`; `engine` sniffs CSV dialects."""
    groups: dict[tuple[str, FileFormat], list[Path]] = {}
    hives: dict[tuple[str, tuple[str, ...], FileFormat, str], list[Path]] = {}
    skipped: list[tuple[str, str]] = []
    not_read: list[NotRead] = []
    names: set[str] = set()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        fmt = _SUFFIXES.get(path.suffix.lower())
        inner = _SUFFIXES.get(Path(path.stem).suffix.lower())
        if fmt is None and inner is not None and path.suffix.lower() in _COMPRESSED:
            # a compressed table (subscribers.csv.gz): listed NOT READ, never skipped silently
            name = _unique(rel.with_suffix("").with_suffix("").as_posix().replace("/", "_"), names)
            why = (
                f"compressed ({path.suffix.lower()}), which the draft does not read; it may hold"
                " people: decompress it (e.g. gunzip -k FILE) and draft again, or decide here"
            )
            not_read.append(NotRead(name, rel.as_posix(), inner, why))
            note(f"not read {name}: {why}")
            continue
        if fmt is None:
            continue
        if fmt is FileFormat.JSON:
            fmt, why = _json_kind(path)
            if fmt is None and why.startswith(_WRAPPED):
                name = _unique(rel.with_suffix("").as_posix().replace("/", "_"), names)
                not_read.append(NotRead(name, rel.as_posix(), FileFormat.JSON, why))
                note(f"not read {name}: {why}")
                continue
            if fmt is None:
                skipped.append((str(rel), why))
                continue
        partitioned = hive_partitions(rel)
        if partitioned is not None:
            base, keys = partitioned
            hives.setdefault((base, keys, fmt, path.suffix), []).append(path)
            continue
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        groups.setdefault((folder, fmt), []).append(path)
    found_tables = [
        found
        for (folder, fmt), files in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][1].value)
        )
        for found in _tables_of(root, folder, fmt, files, names)
    ] + [
        _partitioned(base, keys, fmt, suffix, files, names)
        for (base, keys, fmt, suffix), files in sorted(
            hives.items(), key=lambda kv: (*kv[0][:2], kv[0][2].value, kv[0][3])
        )
    ]
    tables: list[FoundTable] = []
    for found in found_tables:
        note(f"found {found.name}: {len(found.files)} {found.format.value} file(s)")
        if _no_rows(found):
            skipped.append((found.path, "no rows (empty files), nothing to describe"))
            note(f"skipped {found.name}: its files hold no rows")
            continue
        if found.format is FileFormat.CSV:
            try:
                found = _with_dialect(found, engine)
            except Unreadable as exc:
                not_read.append(NotRead(found.name, found.path, found.format, exc.reason))
                note(f"not read {found.name}: {exc.reason}")
                continue
            for line in found.notes:
                note(f"{found.name}: {line}")
        tables.append(found)
    return Scan(
        tuple(sorted(tables, key=lambda t: t.path)),
        tuple(skipped),
        tuple(sorted(not_read, key=lambda t: t.path)),
    )


def _no_rows(found: FoundTable) -> bool:
    """Whether every file of the table is empty (0 bytes, blank) or an empty JSON array."""
    if found.format is FileFormat.PARQUET:
        return all(f.stat().st_size == 0 for f in found.files)
    return all(is_blank(f) for f in found.files) or (
        found.format is not FileFormat.CSV and holds_no_records(found.files)
    )


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


_PARTITION = re.compile(r"^[^=]+=[^=]*$")  # a Hive partition folder: name=value


def hive_partitions(rel: Path) -> tuple[str, tuple[str, ...]] | None:
    """The table folder and partition columns of a file in a Hive-style layout, None for any
    other file: every folder below the table's folder is `name=value`, one name a level.

    Examples:
        >>> hive_partitions(Path("logs/dt=2026-11-01/country=NL/part-0.csv"))
        ('logs', ('dt', 'country'))
        >>> hive_partitions(Path("logs/2026/part-0.csv")) is None
        True
    """
    folders = rel.parts[:-1]
    first = next((i for i, part in enumerate(folders) if _PARTITION.match(part)), None)
    if not first or not all(_PARTITION.match(part) for part in folders[first:]):
        return None  # none, one at the export's root (no table folder), or a plain folder below
    keys = tuple(part.split("=", 1)[0] for part in folders[first:])
    if len(set(keys)) != len(keys):
        return None
    return Path(*folders[:first]).as_posix(), keys


def _partitioned(
    base: str,
    keys: tuple[str, ...],
    fmt: FileFormat,
    suffix: str,
    files: list[Path],
    names: set[str],
) -> FoundTable:
    """One table over a Hive-partitioned folder: a glob over its partitions."""
    parts = {tuple(f.parts[-len(keys) - 1 : -1]) for f in files}
    said = ", ".join(keys)
    return FoundTable(
        _unique(base.replace("/", "_"), names),
        "/".join([base, *(f"{k}=*" for k in keys), f"*{suffix}"]),
        fmt,
        tuple(sorted(files)),
        notes=(
            f"partitioned Hive-style by {said} ({len(parts):,} partitions, {len(files):,}"
            f" files): one table, {said} read from the folder names as columns",
        ),
    )


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


_WRAPPED = "one JSON object wrapping"


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
            return None, _object_kind(whole)
    return FileFormat.JSONL, ""


def _object_kind(whole: dict[str, object]) -> str:
    """Why a JSON object is no table: settings, or records wrapped in it (keys by position:
    a key may be a value)."""
    held = [
        (i, len(v))
        for i, v in enumerate(whole.values(), 1)
        if isinstance(v, list) and v and any(isinstance(r, dict) for r in v)
    ]
    records = sum(1 for v in whole.values() if isinstance(v, dict) and v)
    if len(whole) >= 2 and records >= 0.9 * len(whole):
        # Firebase: {"uid_1": {"email": ...}, ...}, one record a key: records, not settings
        return (
            f"{_WRAPPED} records keyed by id ({records:,} of its {len(whole):,} keys hold an"
            " object), which the engine cannot read as a table; they may hold people: re-export"
            " them as JSON Lines with the key as a column (e.g. jq -c 'to_entries[] | {key:"
            " .key} + .value' FILE > records.jsonl) and draft again, or decide here"
        )
    if not held:
        return "one JSON object (settings or metadata) holding no array of records, not records"
    where = ", ".join(f"key {i} of {len(whole)}: {n:,} records" for i, n in held)
    return (
        f"{_WRAPPED} arrays of records ({where}), which the engine cannot read as a table;"
        " they may hold people: re-export the records as a JSON array or JSON Lines (e.g."
        " jq '.KEY' FILE > records.json) and draft again, or decide here"
    )


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


_DEFAULT_LINE = 2_000_000  # DuckDB's max_line_size


def _with_dialect(found: FoundTable, engine: Engine) -> FoundTable:
    """The CSV dialect DuckDB's sniffer finds in the first file (only what differs from the
    catalog's defaults is kept); a first line with the shape of values is no header.

    Raises:
        Unreadable: the encoding is none the engine reads, or the files' headers differ.
    """
    first = next(f for f in found.files if not is_blank(f))
    encoding = _encoding(first)
    options = f", encoding={sql_string(encoding)}" if encoding != "utf-8" else ""
    notes: list[str] = []
    csv: dict[str, object] = {}
    sniff = (
        f"SELECT Delimiter AS d, Quote AS q, HasHeader AS h FROM sniff_csv({sql_string(str(first))}"
    )
    failed: tuple[type[BaseException], ...] = (WorkbenchError, *engine.backend_errors)
    try:
        row = engine.query(f"{sniff}{options})").to_pylist()[0]
    except failed as exc:
        text = str(exc)
        if "Maximum line size" in text or "max_line_size" in text:
            longest = _longest_line(first)
            size = max(_DEFAULT_LINE, -(-longest * 2 // 1_000_000) * 1_000_000)
            csv["max_line_bytes"] = size
            notes.append(
                f"its longest line is {longest:,} bytes, beyond the reader's default"
                f" {_DEFAULT_LINE:,}: read with max_line_bytes: {size:,}"
            )
            options += f", max_line_size={size}"
            try:
                row = engine.query(f"{sniff}{options})").to_pylist()[0]
            except failed:
                raise Unreadable(_UNREAD_CSV) from None
        elif "encoded" in text or "encoding" in text or "nicode" in text:
            raise Unreadable(
                "its text is in none of the encodings the engine reads (UTF-8, UTF-16,"
                " Latin-1), probably Windows-1252 (an Excel export): re-export it as UTF-8"
                " (e.g. iconv -f cp1252 -t utf-8) and draft again"
            ) from None
        else:
            raise Unreadable(_UNREAD_CSV) from None
    if row["d"] not in (None, ","):
        csv["delimiter"] = row["d"]
    if row["q"] not in (None, '"', "(empty)", ""):
        csv["quote"] = row["q"]
    delimiter = str(csv.get("delimiter", ","))
    quote = str(csv.get("quote", '"'))
    codec = {"latin-1": "latin-1", "utf-16": "utf-16"}.get(encoding, "utf-8-sig")
    rows = _first_rows(first, codec, delimiter, quote)
    if rows and len(rows[0]) == 1:
        for i, path in enumerate(found.files, 1):
            why = one_column_ragged(path, codec, quote)
            if why is not None:
                where = (
                    f"file {i} of {len(found.files)} (in name order): "
                    if len(found.files) > 1
                    else ""
                )
                raise Unreadable(where + why)
    looks = _looks_like_data(rows)
    header = row["h"] is not False and not looks
    if not header:
        csv["header"] = False
        if row["h"] is not False and looks == _DOUBT:
            notes.append(
                "its first line may be column names or a row: no column's type or set of"
                " values sets it apart and its fields do not look like column names (words"
                " joined by _ or in camelCase, words columns are named with); read as having"
                " no header line, the safer reading (the engine names the columns column0,"
                " column1, ...): if it is a header, write csv: {header: true}"
            )
        elif row["h"] is not False:
            notes.append(
                "its first line has the shape of its values, not of column names: read as"
                " having no header line (the engine names the columns column0, column1, ...)"
            )
    if encoding != "utf-8":
        csv["encoding"] = encoding
    if header and rows:
        _same_headers(found, rows[0], codec, delimiter, quote)
    for i, path in enumerate(found.files, 1):
        why = unbalanced_quote(path, codec, delimiter, quote)
        if why is not None:
            where = (
                f"file {i} of {len(found.files)} (in name order): " if len(found.files) > 1 else ""
            )
            raise Unreadable(where + why)
    return FoundTable(
        found.name, found.path, found.format, found.files, csv, (*found.notes, *notes)
    )


_DELIMITERS = (",", ";", "\t", "|")


def one_column_ragged(path: Path, codec: str, quote: str) -> str | None:
    """Why a CSV file the sniffer reads as one column is not drafted as read, naming a line
    and never a value: its first line splits into two or more column names (`_header_like`)
    on a common delimiter, and a line has another count of fields on it (the sniffer, finding
    no delimiter every line agrees on, falls back to one column: the header line becomes a
    value, every column one). None where the first line is no such header, or every line
    has its fields (read through `QUOTE_CHECK_BYTES` at most)."""
    rows = _first_rows(path, codec, ",", quote, 1)
    if not rows:
        return None
    for delimiter in _DELIMITERS:
        header = _first_rows(path, codec, delimiter, quote, 1)[0]
        if len(header) < 2 or not all(v.strip() and _header_like(v) for v in header):
            continue
        try:
            with path.open(encoding=codec, errors="replace", newline="") as handle:
                reader = csv_module.reader(handle, delimiter=delimiter, quotechar=quote or None)
                read = 0
                for row in reader:
                    read += sum(map(len, row)) + len(row)
                    if read > QUOTE_CHECK_BYTES:
                        break
                    if row and len(row) != len(header):
                        line = reader.line_num
                        shown = "tab" if delimiter == "\t" else repr(delimiter)
                        return (
                            f"the engine finds no delimiter every line agrees on and would read"
                            f" it as one column, but its first line splits into {len(header)}"
                            f" column names on {shown}; line {line:,} has {len(row)} fields"
                            f" where the header has {len(header)}: fix that line (or quote the"
                            " field that holds the delimiter), then draft again"
                        )
        except (csv_module.Error, OSError):
            return None
        return None
    return None


QUOTE_CHECK_BYTES = 256 << 20  # a CSV file read through for unbalanced quotes, at most


def unbalanced_quote(path: Path, codec: str, delimiter: str, quote: str) -> str | None:
    """Why a CSV file cannot be drafted as read, naming a line and never a value: a quote
    opened and never closed (the rest of the file one field, or a reader's error), or a
    quoted field that runs over lines holding as many delimiters as a row has (a quote left
    open swallows the rows below it into one value: rows lost without a word). None where
    every quote closes as it should, where the file holds no quote character, or beyond
    `QUOTE_CHECK_BYTES`."""
    if not quote or path.stat().st_size > QUOTE_CHECK_BYTES or not _holds(path, quote):
        return None
    width = 0
    start = 1
    reader = None
    try:
        with path.open(encoding=codec, errors="replace", newline="") as handle:
            reader = csv_module.reader(handle, delimiter=delimiter, quotechar=quote, strict=True)
            for record in reader:
                end = reader.line_num
                width = width or len(record)
                if end > start and width >= 2:
                    for field_text in record:
                        inner = field_text.splitlines()[1:]
                        if any(line.count(delimiter) == width - 1 for line in inner):
                            return _quote_reason(
                                start, f"runs over lines {start} to {end}, lines shaped as rows"
                            )
                start = end + 1
    except csv_module.Error as exc:
        if "expected" in str(exc):
            return _quote_reason(start, "is never closed as a field's quote closes")
        if "field larger" in str(exc) and reader is not None and reader.line_num > start + 1:
            return _quote_reason(
                start, f"runs over lines {start} to {reader.line_num} and on, past any field's size"
            )
        return None  # a NUL, or one long field on one line: no quote's doing
    except OSError:
        return None
    return None


def _quote_reason(line: int, what: str) -> str:
    return (
        f"an unbalanced quote: a quoted field opened on line {line} {what}; read as it is,"
        " the rows after it would be one value or the table unreadable (rows lost without a"
        " word): fix the quote on that line (or re-export with every quote doubled) and"
        " draft again"
    )


def _holds(path: Path, quote: str) -> bool:
    mark = quote.encode("utf-8")
    with path.open("rb") as handle:
        tail = b""
        while block := handle.read(1 << 20):
            if mark in tail + block:
                return True
            tail = block[-len(mark) :]
    return False


_UNREAD_CSV = (
    "the engine cannot read its CSV dialect: check that the files are CSV of one dialect,"
    " then draft again"
)


def _longest_line(path: Path) -> int:
    longest = current = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            parts = block.split(b"\n")
            current += len(parts[0])
            for part in parts[1:]:
                longest, current = max(longest, current), len(part)
    return max(longest, current)


def _first_rows(path: Path, codec: str, delimiter: str, quote: str, n: int = 60) -> list[list[str]]:
    try:
        with path.open(encoding=codec, errors="replace", newline="") as handle:
            reader = csv_module.reader(handle, delimiter=delimiter, quotechar=quote or None)
            return [r for _, r in zip(range(n), reader, strict=False)]
    except (csv_module.Error, OSError):
        return []


_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^\W\d_]{2,}$")
_IPV4 = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_DATE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T][\d:.]+)?Z?$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$"
)
_NAME = re.compile(r"^[^\W\d_][^\W\d_'\u2019.-]*(?:[ '\u2019-][^\W\d_][^\W\d_'\u2019.-]*){1,3}$")


def _shape(value: str) -> str | None:
    """A value's shape, where a column name never has it (or, for `name`, rarely)."""
    v = value.strip()
    if not v:
        return None
    if _EMAIL.match(v):
        return "email"
    if _DATE.match(v):
        return "date"
    if _NUMBER.match(v):
        return "number"
    if _IPV4.match(v):
        return "ip"
    if _PHONE.match(v) and sum(c.isdigit() for c in v) >= 7:
        return "phone"
    if _NAME.match(v) and any(c.isupper() for c in v[1:]):
        return "name"
    return None


_STRONG = frozenset({"email", "date", "ip", "phone"})


_DOUBT = "doubt"  # the first line may be a header or a row: read as a row, said
# a field named as columns are: snake_case, camelCase, PascalCase with two humps or more
_IDENTIFIER = re.compile(
    r"^[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)+$|^[a-z]+[0-9]*(?:[A-Z][a-z0-9]*)+$"
    r"|^[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+$"
)
# words columns are named with (any case, joined by spaces, _ or -): a column's vocabulary,
# not a list of people's names
_COLUMN_VOCABULARY = (
    "id ids key no nr num number code uuid ref name names first last full given "
    "family middle surname nickname display email emails mail phone phones mobile tel "
    "telephone fax cell address addresses street line city town country state region "
    "province county zip postcode postal post date dates time timestamp ts at on "
    "created updated modified deleted birth dob born age gender sex status state type "
    "kind title job position role company organisation organization org employer "
    "department dept team group description desc note notes comment comments message "
    "text body subject summary amount price total cost quantity qty currency value "
    "values label tag tags category categories source channel user users username "
    "login account accounts customer customers client member members contact owner "
    "manager plan tier level score rating url website web link ip host device "
    "language lang locale timezone tz enabled count is has of the a in to by for lat "
    "lon lng latitude longitude location place notes order orders product products "
    "item sku invoice payment method card bank iban vat tax "
)
_COLUMN_WORDS = frozenset(_COLUMN_VOCABULARY.split())


def _header_like(value: str) -> bool:
    """Whether a first-line field looks like a column's name: an identifier of the snake or
    camel sort, or words all of which columns are named with."""
    v = value.strip()
    if _IDENTIFIER.match(v):
        return True
    words = [w for w in re.split(r"[\s_\-./()#:]+", v.lower()) if w]
    return bool(words) and all(w in _COLUMN_WORDS for w in words)


def column_name_like(value: str) -> bool:
    """Whether a text reads as a column's name (`_header_like`): a JSON map's key that does
    is read as a field (`dsar.draft.profile.map_fields`); one that does not may be a value
    (a username), never printed."""
    return _header_like(value)


# a username's shape: a letter, then letters, digits, dots or underscores (no spaces)
_HANDLE = re.compile(r"^[^\W\d_][\w.]{2,31}$")


def _handle_like(value: str, column: list[str]) -> bool:
    """Whether a snake_case or camelCase field does not stand apart from its column: the
    column's values (80% or more) are identifiers of that shape too (usernames such as
    `jonas_beckmann_84`: distinct, varied in length, a fifth or more with a digit, dot or
    underscore), and the field's words are not all a column's vocabulary (a
    `user_name` over handles is a header)."""
    v = value.strip()
    if not _IDENTIFIER.match(v):
        return False
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", v).lower()
    words = [w for w in re.split(r"[\s_\-.]+", spaced) if w and not w.isdigit()]
    if words and all(w in _COLUMN_WORDS for w in words):
        return False
    values = {c.strip() for c in column}
    shaped = [c for c in values if _HANDLE.match(c) and not c.isupper()]
    marked = sum(1 for c in shaped if any(ch.isdigit() or ch in "._" for ch in c))
    return (
        len(values) >= 10
        and len(shaped) >= 0.8 * len(values)
        and marked >= 0.2 * len(shaped)
        and len({len(c) for c in shaped}) >= 3
    )


def _looks_like_data(rows: list[list[str]]) -> str | None:
    """Why the first row is read as data, or None where it is a header.

    Data: a value no column name has (an email, a date, an IP, a phone number) where most of
    the column has it too; a field found again below in its own column (a column's name is
    none of its values: a city, a tier, a first name repeated); or every field of it shaped
    as its column's values (numbers, names). A header: a field where its column's values
    are of a type (numbers, dates, emails, phones) it is not, or one outside the few values
    its column holds (`status` above active and churned), or fields that look like column
    names (`first_name`, `lastName`, `City`). Neither: `_DOUBT`, read as data, said (a
    person's row of uncommon words is never made column names). A repeat of the whole first
    line (files concatenated, each with its header) is no evidence."""
    if len(rows) < 3:
        return None
    first, rest = rows[0], [r for r in rows[1:] if r != rows[0]]
    if len(rest) < 2:
        return None
    matched = contrast = 0
    alike: set[int] = set()  # fields of the shape of their column's handles
    for i, value in enumerate(first):
        shape = _shape(value)
        column = [r[i] for r in rest if i < len(r) and r[i].strip()]
        if value.strip() and value.strip() in {v.strip() for v in column}:
            return "found below"
        if not column:
            continue
        if _handle_like(value, column):
            alike.add(i)
        shapes = [_shape(v) for v in column]
        typed = max((shapes.count(s) for s in {*_STRONG, "number"}), default=0)
        if typed >= 0.8 * len(column) and (shape is None or shapes.count(shape) < typed):
            contrast += 1  # a typed column under a field not of its type
        distinct = {v.strip() for v in column}
        if len(column) >= 20 and len(distinct) <= 12 and value.strip():
            contrast += 1  # a field outside the few values its column holds
        if shape is None:
            continue
        share = sum(s == shape for s in shapes) / len(column)
        if share < 0.8:
            continue
        if shape in _STRONG:
            return "shape"
        matched += 1
    if first and matched == len(first):
        return "shape"
    if first and len(alike) == len(first):
        return "shape"  # handles over columns of handles: a row of usernames
    named = sum(1 for i, v in enumerate(first) if v.strip() and _header_like(v) and i not in alike)
    if contrast or (first and named >= max(1, (len(first) + 1) // 2)):
        return None
    return _DOUBT


def _same_headers(
    found: FoundTable, header: list[str], codec: str, delimiter: str, quote: str
) -> None:
    """Refuse part files whose first line is not the first file's header (by position and
    count: the line may be a person's row)."""
    files = [f for f in found.files if not is_blank(f)]
    for k, path in enumerate(files[1:], 2):
        line = _first_rows(path, codec, delimiter, quote, 1)
        got = line[0] if line else []
        if got == header:
            continue
        where = f"file {k} of {len(files)} (in name order)"
        if not set(got) & set(header):
            raise Unreadable(
                f"{where} has no header line: its first line holds {len(got)} fields, none of"
                f" them one of the {len(header)} column names of file 1's header; every file"
                " of a table needs the same header line: re-export the files each with it"
                " (or all without), then draft again"
            )
        raise Unreadable(
            f"{where} has a header of {len(got)} columns that differs from file 1's"
            f" ({len(header)} columns); every file of a table needs the same columns in the"
            " same order: re-export it, or move it to a folder of its own"
        )
