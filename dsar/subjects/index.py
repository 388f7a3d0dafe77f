"""The identity index: where each identifier sits in the export, so a request reads only those rows.

A privacy team answers many requests a week over the same export; without an index each
one reads every file. `IdentityIndex.build` reads every file once and records, for every
identity value, a keyed reference (the first 64 bits of an HMAC under the index's own
subkey, `Purpose.INDEX_REF`: never the identifier) with the row's location in its file:
the byte offset and length of a CSV or JSON Lines record, the row number of a Parquet row.
Each file is tagged with its fingerprint (size and modification time, in nanoseconds).

A request (`collect(..., index=...)`) then reads, for each table, only the records the index
names for the identifiers it searches with, in the files whose fingerprint is unchanged,
and every row of the files that changed or were added; the same query as without the index
runs on those rows, so the answer is the same (`tests/test_index.py`). The index only ever
narrows where to look: a reference is a superset key (emails without dots, +tags or the
googlemail spelling), and a collision of 64-bit references only adds rows for the query
to reject. The schema DuckDB sniffed for each table is kept too, so an indexed request
does not sniff the files again.

Why it is allowed: it serves only the answering of requests (access, erasure, correction),
holds no identifier in clear, and lives beside the request register with the same
protection: the key is never stored beside it, a wrong key is refused (it would find no
one), and an erasure refreshes the files it rewrote, so the erased person's references
leave the index with their rows. JSON array files (one array, no record offsets) are not
indexed: they are read whole on every request.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
import shutil
import sqlite3
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from dsar.catalog.models import Catalog, CsvOptions, FileFormat, IdentityKind
from dsar.engine.base import Engine, quote_identifier, sql_string
from dsar.engine.duckdb import reader_option
from dsar.errors import KeySchemeError, MissingKeyError, UsageError
from dsar.io import private_file
from dsar.keys import Keys, Purpose, refuse_key_beside, require_keys
from dsar.lock import export_lock
from dsar.subjects.identity import PHONE_TAIL_DIGITS, MatchRules, SubjectKey, sql_normalize

__all__ = ["IdentityIndex", "IndexedFiles", "index_value"]

log = logging.getLogger(__name__)

# v3: phones indexed by their last digits (whole-number keys); v4: emails composed (NFC)
# with a final sigma as the medial one, as `sql_email_text` now reads them
SCHEME = "index-hmac64/v4"
_KEY_CHECK = "identity-index-key-check"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path_ref TEXT NOT NULL UNIQUE,
    table_ref TEXT NOT NULL,
    entry TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    rows INTEGER NOT NULL,
    format TEXT NOT NULL,
    header BLOB,
    built_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refs (
    ref INTEGER NOT NULL,
    file_id INTEGER NOT NULL,
    loc INTEGER NOT NULL,
    len INTEGER NOT NULL,
    PRIMARY KEY (ref, file_id, loc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS readers (
    table_ref TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    files TEXT NOT NULL,
    reader TEXT NOT NULL
);
"""
_PLUS_TAG = re.compile(r"\+[^@]*@")
_GMAIL_DOMAINS = ("@gmailcom", "@googlemailcom")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe")
_RULES = MatchRules()  # the index is built with the plain rules; see index_value
_SAMPLE = 64  # records per file read back at build time to prove the offsets
ProgressFn = Callable[[str], None]


def index_value(kind: IdentityKind, normalized: str) -> str:
    """The value an identifier is indexed under: its normalised form, coarsened for emails.

    An email loses its first +tag, every dot, and a googlemail domain becomes gmail. Rows a
    search would match under any matching rules (gmail dots, +tags) therefore share the
    requester's index value; the search itself decides which of them really match. A phone
    keeps only its key's last five digits (`PHONE_TAIL_DIGITS`), which end every writing of
    the number: the index is built without a region, and a search in one (`phone_region`)
    reads '030 123456' as '+4930123456'.

    Examples:
        >>> index_value(IdentityKind.EMAIL, "a.nn+news@googlemail.com")
        'ann@gmailcom'
        >>> index_value(IdentityKind.USER_ID, "u0000042")
        'u0000042'
        >>> [index_value(IdentityKind.PHONE, v) for v in ("+4930123456", "030123456")]
        ['23456', '23456']
    """
    if kind is IdentityKind.PHONE:
        return normalized.replace("+", "")[-PHONE_TAIL_DIGITS:]
    if kind is not IdentityKind.EMAIL:
        return normalized
    text = _PLUS_TAG.sub("@", normalized, count=1).replace(".", "")
    for domain in _GMAIL_DOMAINS:
        if text.endswith(domain) and text.count("@") == 1:
            return text[: -len(domain)] + "@gmailcom"
    return text


def _entry(catalog: Catalog, name: str) -> str:
    """A digest of the table's catalog entry (its columns, identity kinds, types, reader
    options) and of the SQL that normalises each of its identity kinds: references and
    schemas kept under another entry, or made by another version's normalising rules (an
    upgrade that writes IPv6 in one form), are not used."""
    table = catalog.tables[name]
    kinds = sorted({kind.value for kind in table.identity_columns().values()})
    rules = [sql_normalize(IdentityKind(k), "v", _RULES, for_match=True) for k in kinds]
    return hashlib.sha256("\0".join([table.model_dump_json(), *rules]).encode()).hexdigest()


def _fingerprint(path: Path) -> str:
    """Size, modification and change times, and inode: a file restored with its old
    modification time (cp -p, rsync -t, tar) still has a new change time."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


class IdentityIndex:
    """Where each identity value sits in the export's files (an opt-in SQLite file).

    Nothing in it names a person, a table or a file in clear: references, table and file
    names are keyed hashes (a table's name is mixed into its references, so that the index
    does not even link rows across tables without the key).

    Args:
        path: the index file (created with owner-only permissions).
        keys: the workbench's keys (`dsar.keys.load_keys`); the ones the index was built
            with.
        key_file: where the key came from, if a file: refused when it sits beside the
            index, so that the two never travel together.

    Raises:
        KeySchemeError: the index was written under another scheme.
        MissingKeyError: the key is not the one the index was built with.
    """

    def __init__(self, path: str | Path, keys: Keys, key_file: str | Path | None = None) -> None:
        require_keys(keys, "IdentityIndex")
        self.path = Path(path)
        refuse_key_beside(key_file, self.path, "index")
        private_file(self.path)  # keyed references only, and still the owner's only
        self._hash = keys.hasher(Purpose.INDEX_REF)
        self.db = sqlite3.connect(self.path)
        try:
            self.db.execute("PRAGMA secure_delete = ON")  # forgotten references are zeroed
            self._check()
        except BaseException:
            self.db.close()
            raise

    def _check(self) -> None:
        with self.db:
            self.db.executescript(SCHEMA)
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        check = self._hash(_KEY_CHECK)
        if not meta:
            with self.db:
                self.db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("scheme", SCHEME), ("key_check", check)],
                )
            return
        if meta.get("scheme") != SCHEME:
            raise KeySchemeError(f"the index {self.path}", meta.get("scheme"), SCHEME)
        if meta.get("key_check") != check:
            raise MissingKeyError(
                f"the index {self.path} was built with another key: with this one it would"
                " find no one. Use the key it was built with, or build it again"
            )

    def close(self) -> None:
        """Close the index file."""
        self.db.close()

    def __enter__(self) -> IdentityIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ref(self, table: str, kind: IdentityKind, value: str) -> int:
        """The 64-bit keyed reference of one normalised identifier in one table."""
        digest = self._hash(f"{table}\x00{kind.value}={index_value(kind, value)}")
        return int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)

    def _name_ref(self, what: str, name: str) -> str:
        return self._hash(f"{what}\x00{name}")

    # ---- building ------------------------------------------------------------------------

    def build(
        self,
        catalog: Catalog,
        engine: Engine,
        progress: ProgressFn | None = None,
        tables: Iterable[str] | None = None,
    ) -> dict[str, int]:
        """Index the export (see `_build`), holding it exclusively (`dsar.lock`) so no change
        swaps a file between its reading and its fingerprint."""
        with export_lock(catalog.root, exclusive=True, holder="identity index build"):
            return self._build(catalog, engine, progress, tables)

    def _build(
        self,
        catalog: Catalog,
        engine: Engine,
        progress: ProgressFn | None = None,
        tables: Iterable[str] | None = None,
    ) -> dict[str, int]:
        """Index every file of every table with identity columns (or of `tables` only, as
        after a rewrite); returns the rows indexed per table.

        Files already indexed with an unchanged fingerprint under the same catalog entry
        are kept as they are; changed and new files are indexed again (their old references
        leave); when every table is built, files no longer in the catalog are forgotten.

        Raises:
            EngineError: the engine cannot build an index (only DuckDB can).
        """
        say = progress or (lambda _m: None)
        wanted = set(catalog.tables if tables is None else tables)
        rows: dict[str, int] = {}
        current: set[str] = set()
        for name, table in catalog.tables.items():
            if name not in wanted or not table.identity_columns() or name not in engine.tables:
                continue
            files = engine.files(name)
            current.update(self._name_ref("file", str(f)) for f in files)
            rows[name] = 0
            entry = _entry(catalog, name)
            for path in files:
                if self._fresh(path, entry) is None:
                    say(f"indexing {name}: {path.name}")
                    self._index_file(catalog, engine, name, path)
                row = self.db.execute(
                    "SELECT rows FROM files WHERE path_ref = ?",
                    (self._name_ref("file", str(path)),),
                ).fetchone()
                rows[name] += int(row[0]) if row else 0
            self._keep_reader(catalog, engine, name, files)
        if tables is None:
            for file_id, path_ref in self.db.execute("SELECT id, path_ref FROM files").fetchall():
                if path_ref not in current:
                    self._forget(file_id)
        return rows

    def _fresh(self, path: Path, entry: str) -> tuple[int, str, bytes | None] | None:
        """(id, format, header) of a file indexed under `entry` and unchanged since."""
        row = self.db.execute(
            "SELECT id, entry, fingerprint, format, header FROM files WHERE path_ref = ?",
            (self._name_ref("file", str(path)),),
        ).fetchone()
        if row is None or row[1] != entry or not path.exists():
            return None
        if row[2] != _fingerprint(path):
            return None
        return int(row[0]), str(row[3]), row[4]

    def _forget(self, file_id: int) -> None:
        with self.db:
            self.db.execute("DELETE FROM refs WHERE file_id = ?", (file_id,))
            self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def _stamps(self, files: Sequence[Path]) -> list[str]:
        return [f"{self._name_ref('file', str(f))}:{_fingerprint(f)}" for f in files]

    def _keep_reader(
        self, catalog: Catalog, engine: Engine, name: str, files: Sequence[Path]
    ) -> None:
        reader = engine.reader_state(name)
        if reader is None:
            return
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO readers (table_ref, entry, files, reader)"
                " VALUES (?, ?, ?, ?)",
                (
                    self._name_ref("table", name),
                    _entry(catalog, name),
                    json.dumps(self._stamps(files)),
                    json.dumps(reader),
                ),
            )

    def _index_file(self, catalog: Catalog, engine: Engine, name: str, path: Path) -> None:
        table = catalog.tables[name]
        path_ref = self._name_ref("file", str(path))
        old = self.db.execute("SELECT id FROM files WHERE path_ref = ?", (path_ref,)).fetchone()
        if old is not None:
            self._forget(int(old[0]))
        fingerprint = _fingerprint(path)
        reader = engine.reader_state(name) or {}
        locations = _locations(table.format, table.csv or CsvOptions(), path, reader)
        if locations is None:
            log.info("%s: a file is not indexed (no record offsets); it is read whole", name)
            return
        header, starts, lengths = locations
        start_at = None if starts is None else np.frombuffer(starts, dtype=np.int64)
        length_of = None if lengths is None else np.frombuffer(lengths, dtype=np.int64)
        source = engine.file_relation(name, path, row_numbers=start_at is None)
        present = set(engine.query(f"SELECT * FROM {source} LIMIT 0").schema.names)
        columns = list(table.identity_columns().items())
        normalised = ", ".join(
            f"{sql_normalize(kind, quote_identifier(col), _RULES, for_match=True)} AS c{i}"
            if col in present
            else f"CAST(NULL AS VARCHAR) AS c{i}"  # a Parquet file without the column
            for i, (col, kind) in enumerate(columns)
        )
        order = ", __row" if start_at is None else ""
        select = f"SELECT {normalised}{order} FROM {source}"
        sample = _sample(len(start_at)) if start_at is not None else set()
        sampled: list[tuple[object, ...]] = []
        try:
            with self.db:  # one transaction: a file is indexed whole or not at all
                file_id = self.db.execute(
                    "INSERT INTO files (path_ref, table_ref, entry, fingerprint, rows, format,"
                    " header, built_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                    (
                        path_ref,
                        self._name_ref("table", name),
                        _entry(catalog, name),
                        fingerprint,
                        table.format.value,
                        header,
                        datetime.now(UTC).isoformat(),
                    ),
                ).lastrowid
                assert file_id is not None
                pending = _Pending(self.db, file_id)
                seen = 0
                for batch in engine.stream(select):
                    n = batch.num_rows
                    if start_at is not None and seen + n > len(start_at):
                        raise _NotIndexable(f"more rows than the {len(start_at)} records by line")
                    if start_at is None or length_of is None:
                        where = batch.column("__row").to_numpy(zero_copy_only=False)
                        span = np.zeros(n, dtype=np.int64)
                    else:
                        where, span = start_at[seen : seen + n], length_of[seen : seen + n]
                        picked = [i - seen for i in sorted(sample) if seen <= i < seen + n]
                        if picked:
                            part = batch.select([f"c{i}" for i in range(len(columns))])
                            sampled += [tuple(r.values()) for r in part.take(picked).to_pylist()]
                    for i, (_, kind) in enumerate(columns):
                        values = batch.column(f"c{i}")
                        mask = pc.is_valid(values).to_numpy(zero_copy_only=False)
                        if not mask.any():
                            continue
                        found = pc.filter(values, mask)
                        unique = pc.unique(found)
                        hashed = np.array(
                            [self.ref(name, kind, v) for v in unique.to_pylist()], np.int64
                        )
                        positions = pc.index_in(found, unique).to_numpy(zero_copy_only=False)
                        pending.add(hashed[positions], where[mask].astype(np.int64), span[mask])
                    seen += n
                if start_at is not None and length_of is not None:
                    if seen != len(start_at):
                        raise _NotIndexable(f"{len(start_at)} records by line, {seen} rows")
                    places = [(int(start_at[i]), int(length_of[i])) for i in sorted(sample)]
                    again = _read_back(engine, name, path, table.format, header, places, columns)
                    if again != sampled:
                        raise _NotIndexable("records read back at their offsets differ")
                pending.flush()
                self.db.execute("UPDATE files SET rows = ? WHERE id = ?", (seen, file_id))
        except _NotIndexable as exc:
            log.warning("%s: a file is not indexed (%s); it is read whole", name, exc)

    # ---- using ---------------------------------------------------------------------------

    def readers(self, catalog: Catalog) -> dict[str, dict[str, object]]:
        """The schema kept for each table whose files are all unchanged (no sniffing)."""
        out = {}
        kept = {
            table_ref: (entry, files, reader)
            for table_ref, entry, files, reader in self.db.execute(
                "SELECT table_ref, entry, files, reader FROM readers"
            )
        }
        for name in catalog.tables:
            found = kept.get(self._name_ref("table", name))
            if found is None or found[0] != _entry(catalog, name):
                continue  # the catalog describes the table differently now: sniff again
            try:
                stamps = self._stamps(catalog.files(name))
            except OSError:
                continue
            if json.loads(found[1]) == stamps:
                out[name] = json.loads(found[2])
        return out

    def files_for(self, catalog: Catalog, engine: Engine) -> IndexedFiles:
        """What a request may use: the unchanged files of each registered table.

        Raises:
            UsageError: the engine is not DuckDB (the index is read with DuckDB).
        """
        if engine.name != "duckdb":
            raise UsageError(
                "index",
                f"the identity index is used with the DuckDB engine, not {engine.name}",
                "leave out --index, or use --engine duckdb",
            )
        fresh: dict[str, dict[Path, tuple[int, str, bytes | None]]] = {}
        for name in engine.tables:
            entry = _entry(catalog, name)
            for path in engine.files(name):
                known = self._fresh(path, entry)
                if known is not None:
                    fresh.setdefault(name, {})[path] = known
        return IndexedFiles(self, engine, fresh)


class _NotIndexable(Exception):
    """A file whose records cannot be located by offset: left unindexed, read whole."""


class _Pending:
    """References waiting to be written, sorted and written a chunk at a time: the index
    of a file of any size is built in bounded memory."""

    CHUNK = 1_000_000

    def __init__(self, db: sqlite3.Connection, file_id: int) -> None:
        self.db, self.file_id = db, file_id
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.count = 0

    def add(self, refs: np.ndarray, locs: np.ndarray, lengths: np.ndarray) -> None:
        self.parts.append((refs, locs, lengths))
        self.count += len(refs)
        if self.count >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        ref, loc, span = (np.concatenate(c) for c in zip(*self.parts, strict=True))
        order = np.argsort(ref, kind="stable")
        self.db.executemany(
            "INSERT OR IGNORE INTO refs (ref, file_id, loc, len) VALUES (?, ?, ?, ?)",
            zip(
                ref[order].tolist(),
                itertools.repeat(self.file_id),
                loc[order].tolist(),
                span[order].tolist(),
            ),
        )
        self.parts, self.count = [], 0


class _Records:
    """Copies of some records of a text file, in a private folder removed on exit (the
    copies are a person's rows)."""

    def __init__(self, fmt: FileFormat | str, header: bytes | None) -> None:
        self.format = FileFormat(fmt)
        self.header = header
        self.folder = Path(tempfile.mkdtemp(prefix="dsar-index-"))  # 0700
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True)
        self.made = 0

    def __enter__(self) -> _Records:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._cleanup()

    def relation(
        self, engine: Engine, name: str, path: Path, places: Sequence[tuple[int, int]]
    ) -> str:
        """A relation over copies of the records at `places` (offset, length) of `path`."""
        self.made += 1
        part = self.folder / f"rows-{self.made}{path.suffix}"
        array = self.format is FileFormat.JSON
        with path.open("rb") as source, part.open("wb") as out:
            part.chmod(0o600)
            out.write(b"[\n" if array else self.header or b"")
            for i, (loc, length) in enumerate(places):
                source.seek(loc)
                out.write((b",\n" if array and i else b"") + source.read(length))
            out.write(b"\n]\n" if array else b"")
        return engine.files_relation(name, [part])


def _read_back(
    engine: Engine,
    name: str,
    path: Path,
    fmt: FileFormat,
    header: bytes | None,
    places: list[tuple[int, int]],
    columns: Sequence[tuple[str, IdentityKind]],
) -> list[tuple[object, ...]]:
    """The identity values of the records at `places`, read from copies of them as a
    request reads them: the proof, at build time, that the offsets are the rows."""
    if not places:
        return []
    with _Records(fmt, header) as records:
        relation = records.relation(engine, name, path, places)
        normalised = ", ".join(
            f"{sql_normalize(kind, quote_identifier(col), _RULES, for_match=True)} AS c{i}"
            for i, (col, kind) in enumerate(columns)
        )
        rows = engine.query(f"SELECT {normalised} FROM {relation}").to_pylist()
    return [tuple(r.values()) for r in rows]


def _sample(count: int) -> set[int]:
    """Record numbers read back at build time: the first, the last and evenly between."""
    if count <= _SAMPLE:
        return set(range(count))
    step = count / (_SAMPLE - 1)
    return {min(count - 1, round(i * step)) for i in range(_SAMPLE)}


@dataclass
class IndexedFiles:
    """One request's view of the index: which files it may narrow, and their rows.

    Close it (or use it in a `with`) when the request is done: the records it copies for a
    search are removed then (and when it is collected, at the latest).
    """

    index: IdentityIndex
    engine: Engine
    fresh: Mapping[str, Mapping[Path, tuple[int, str, bytes | None]]]  # id, format, header

    def __post_init__(self) -> None:
        self._copies: dict[str, _Records] = {}

    def __enter__(self) -> IndexedFiles:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the request's copies of records (they hold the person's rows)."""
        for copies in self._copies.values():
            copies.close()
        self._copies.clear()

    def relation(self, name: str, keys: Iterable[SubjectKey]) -> str | None:
        """SQL for the rows of `name` a search with `keys` could match: the indexed rows of
        its unchanged files and every row of the others; None: read the table whole."""
        fresh = self.fresh.get(name)
        if not fresh:
            return None
        refs = sorted({self.index.ref(name, k.kind, k.value) for k in keys})
        by_file: dict[Path, list[tuple[int, int]]] = {p: [] for p in fresh}
        ids = {known[0]: path for path, known in fresh.items()}
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for file_id, loc, length in self.index.db.execute(
                f"SELECT file_id, loc, len FROM refs WHERE ref IN ({marks})", chunk
            ):
                if file_id in ids:
                    by_file[ids[file_id]].append((loc, length))
        parts = [f"SELECT * FROM {quote_identifier(name)} WHERE false"]  # names and types
        for path, places in by_file.items():
            if places:
                parts.append(self._rows_of(name, path, sorted(set(places))))
        stale = [f for f in self.engine.files(name) if f not in fresh]
        if stale:
            parts.append(self.engine.files_relation(name, stale))
        return "(" + " UNION ALL BY NAME ".join(f"({p})" for p in parts) + ")"

    def _rows_of(self, name: str, path: Path, places: list[tuple[int, int]]) -> str:
        """The records at `places`: Parquet rows by number; text records copied, with the
        file's header (a JSON array's records inside a new array), into a private file."""
        _, fmt, header = self.fresh[name][path]
        if fmt == FileFormat.PARQUET.value:
            rows = ", ".join(str(loc) for loc, _ in places)
            return (
                f"SELECT * EXCLUDE (file_row_number) FROM read_parquet({sql_string(str(path))},"
                f" file_row_number=true) WHERE file_row_number IN ({rows})"
            )
        key = f"{name}\x00{path}"
        if key not in self._copies:
            self._copies[key] = _Records(fmt, header)
        return self._copies[key].relation(self.engine, name, path, places)


def _json_records(path: Path) -> tuple[None, array[int], array[int]] | None:
    """A JSON array written one record per line (as most exporters write one): each
    record's offset and length, without the comma; None for any other layout."""
    starts, lengths = array("q"), array("q")
    offset = 0
    with path.open("rb") as handle:
        for line in handle:
            body = line.strip(b" \t\r\n")
            if offset == 0:
                body = body.removeprefix(b"\xef\xbb\xbf")
            lead = len(line) - len(line.lstrip(b" \t\r\n\xef\xbb\xbf"))
            offset_here, offset = offset, offset + len(line)
            if body in (b"", b"[", b"]", b"[]"):
                continue
            record = body.removeprefix(b"[").removesuffix(b"]").rstrip().removesuffix(b",")
            if not (record.startswith(b"{") and record.endswith(b"}")):
                return None  # records over several lines, or several on one: read whole
            skip = lead + (1 if body.startswith(b"[") else 0)
            starts.append(offset_here + skip)
            lengths.append(len(record))
    return None, starts, lengths


def _locations(
    fmt: FileFormat, opts: CsvOptions, path: Path, reader: Mapping[str, object]
) -> tuple[bytes | None, array[int] | None, array[int] | None] | None:
    """(header bytes, record starts, record lengths) of a text file; Parquet: no offsets
    (rows are numbered); None: this file cannot be indexed by offsets (UTF-16, or an escape
    character other than the quote, which counting quotes cannot follow)."""
    if fmt is FileFormat.PARQUET:
        return None, None, None
    if fmt is FileFormat.JSON:
        return _json_records(path)
    if fmt is FileFormat.CSV and opts.encoding == "utf-16":
        return None
    escape = reader_option(str(reader.get("options", "")), "escape")
    if fmt is FileFormat.CSV and escape and escape != opts.quote:
        return None
    quote = opts.quote.encode("latin-1") if fmt is FileFormat.CSV and opts.quote else b""
    starts, lengths = array("q"), array("q")
    header: bytes | None = None
    want_header = fmt is FileFormat.CSV and opts.header
    offset = 0
    record_start, record = 0, b""
    open_quotes = 0
    with path.open("rb") as handle:
        for line in handle:
            if not record:
                record_start = offset
            record += line
            offset += len(line)
            if quote:
                open_quotes += line.count(quote)
                if open_quotes % 2:  # a quoted value goes on over the line break
                    continue
            open_quotes = 0
            if want_header and header is None:
                header = record
            elif record.strip(b" \t\r\n\xef\xbb\xbf"):
                starts.append(record_start)
                lengths.append(len(record))
            record = b""
    if record.strip():
        starts.append(record_start)
        lengths.append(len(record))
    if header is None and starts and starts[0] == 0:
        with path.open("rb") as handle:
            head = handle.read(3)
        bom = next((b for b in _BOMS if head.startswith(b)), b"")
        starts[0] += len(bom)  # the first record is copied without the byte-order mark
        lengths[0] -= len(bom)
    return header, starts, lengths
