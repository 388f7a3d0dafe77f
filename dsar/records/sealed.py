"""Keyed rows for the SQLite records: a row edited, added or deleted by hand is found.

The register, the ledger and the sent record are SQLite files anyone with write access can
open. Each of their rows carries a MAC of its content (`Purpose.RECORD_MAC`, with the table's
name, so a row cannot move between tables), and each table a seal: a MAC of its row count
and of the sorted row MACs. Without the key nobody can write a row or a seal that verifies,
so an edited row (its MAC differs), an added one (no valid MAC) and a deleted one (the seal
no longer matches) are all found, by `problems` and by every write, which checks the whole
record before it changes anything (a write never seals over someone else's change).

    seal = Seal(db, keys, {"suppression": ("ref", "reason", "request", "since", "state")})
    with seal.transaction():      # BEGIN IMMEDIATE, check, ..., seal, COMMIT
        db.execute("INSERT INTO suppression (...) VALUES (...)")  # mac left NULL: sealed

Rows of a numbered table (`numbered=`) also carry `seq`, 1, 2, 3, ... in the order they
were written, covered by their MAC: such a table only grows (a row may be updated, never
deleted or replaced), so a row deleted by hand is named by its number, not only counted.

What a seal cannot tell: a whole file replaced by an earlier copy of itself (every row and
seal verify). The audit log's chain catches that for what it records: a record that logs each
write with `state()` (the sent record) compares its latest write with the log's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from dsar.errors import DiskFullError, InternalError, RecordTamperedError, is_disk_full
from dsar.faults import point
from dsar.keys import Keys, Purpose
from dsar.records.audit import AuditLog

log = logging.getLogger(__name__)

_SEALS = """
CREATE TABLE IF NOT EXISTS seals (
    name TEXT PRIMARY KEY, rows INTEGER NOT NULL, mac TEXT NOT NULL
)
"""


def unsealed_problem(path: Path, rows: int) -> str:
    """The problem of a record that holds rows but neither seals nor keyed rows."""
    return (
        f"{path.name}: {rows} row(s) and no seals nor keyed rows: they were removed by hand"
        " (rows deleted or added unseen), or it was written before rows were keyed; nothing was"
        " read. Only an old record is adopted, on purpose: `dsar ledger adopt --i-know`"
        " (recorded in the audit log)"
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _spans(numbers: Sequence[int]) -> list[str]:
    """[3, 4, 5, 9] -> ["rows 3-5", "row 9"]: sorted numbers as runs."""
    spans: list[str] = []
    start = prev = None
    for n in [*numbers, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None and prev is not None:
            spans.append(f"row {start}" if start == prev else f"rows {start}-{prev}")
        start = prev = n
    return spans


class Seal:
    """The keyed rows and seals of some tables of one SQLite record.

    Args:
        db: the record's connection, opened with `isolation_level=None` (transactions are
            explicit here).
        keys: the workbench key.
        tables: per table, the columns its row MAC covers (every column but `mac`, and
            `seq` in a numbered table).
        path: the record's file, for messages.
        numbered: the tables whose rows are numbered (`seq`, added here): they only grow.

    A record without seals and keyed rows that holds rows is refused (`RecordTamperedError`):
    stripping both is what a hand edit that deletes rows does. Only with `adopt` (an
    explicit, recorded opt-in: `dsar ledger adopt --i-know`, for a record written before rows
    were keyed) are its rows MACed as they are found, with a warning; an empty one is sealed.
    A record keyed before one of its tables was numbered, or before an (empty) table was
    added to it, is checked as it was, then its rows numbered and keyed again.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        keys: Keys,
        tables: Mapping[str, Sequence[str]],
        path: Path,
        *,
        read_only: bool = False,
        numbered: Collection[str] = (),
        adopt: bool = False,
    ) -> None:
        self.db, self.keys, self.tables, self.path = db, keys, dict(tables), path
        self.numbered = frozenset(numbered) & set(self.tables)
        self.read_only = read_only
        self._hash = keys.hasher(Purpose.RECORD_MAC)
        self._checked: int | None = None  # `_version()` when last checked or written
        self.last_state: str | None = None  # `state()` as the last write left it
        db.create_function("record_mac", -1, self._mac_sql, deterministic=True)
        self._has_seq = {t for t in self.numbered if "seq" in self._columns_of(t)}
        if read_only:
            return
        existing = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        keyed = any("mac" in self._columns_of(t) for t in self.tables if t in existing)
        # a record from before keyed rows is adopted only on request (`adopt`); one whose
        # seals were removed but keeps a MAC column is checked (and fails)
        adopt_now = "seals" not in existing and not keyed
        count = (
            sum(
                db.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0]
                for t in self.tables
                if t in existing
            )
            if adopt_now
            else 0
        )
        needs_adopting = adopt_now and count > 0
        if needs_adopting and not adopt:  # refused before anything changes
            raise RecordTamperedError(path, [unsealed_problem(path, count)])
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_SEALS)
            sealed = {r[0] for r in db.execute("SELECT name FROM seals")}
            new = [  # an empty table added to a keyed record since it was last written
                t
                for t in self.tables
                if not adopt_now
                and "mac" not in self._columns_of(t)
                and t not in sealed
                and db.execute(f"SELECT 1 FROM {_q(t)} LIMIT 1").fetchone() is None
            ]
            unnumbered = [t for t in self.numbered if t not in self._has_seq]
            if not adopt_now and (new or unnumbered):  # checked as it was, before it changes shape
                found = self.problems(skip=new)
                if found:
                    raise RecordTamperedError(path, found)
            for table in self.tables:
                if "mac" not in self._columns_of(table):
                    db.execute(f"ALTER TABLE {_q(table)} ADD COLUMN mac TEXT")
            for table in unnumbered:
                db.execute(f"ALTER TABLE {_q(table)} ADD COLUMN seq INTEGER")
                db.execute(f"UPDATE {_q(table)} SET mac = NULL")  # keyed again with its number
            self._has_seq = set(self.numbered)
            if needs_adopting:  # the caller opted in (`adopt`), and records it
                log.warning(
                    "%s: %d row(s) written before rows were keyed adopted as they are, on request",
                    path,
                    count,
                )
            if adopt_now or new or unnumbered:
                self._seal()
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite rolls back by itself on a full disk
                db.execute("ROLLBACK")
            raise

    def _mac(self, table: str, values: Sequence[object]) -> str:
        text = json.dumps([table, *values], separators=(",", ":"), ensure_ascii=False)
        return self._hash(text)

    def _mac_sql(self, table: str, *values: object) -> str:
        return self._mac(table, values)

    def _columns_of(self, table: str) -> set[str]:
        return {r[1] for r in self.db.execute(f"PRAGMA table_info({_q(table)})")}

    def _row_mac_sql(self, table: str) -> str:
        numbered = ("seq",) if table in self._has_seq else ()
        cols = ", ".join(_q(c) for c in (*self.tables[table], *numbered))
        return f"record_mac('{table}', {cols})"

    def _row_name(self, table: str) -> str:
        """SQL naming a row in messages: its number in a numbered table, else its rowid."""
        if table in self._has_seq:
            return "coalesce('row ' || seq, 'an unnumbered row (rowid ' || rowid || ')')"
        return "'row ' || rowid"

    def _table_seal(self, table: str) -> tuple[int, str]:
        """The table's row count and the MAC of its sorted row MACs, as it is now."""
        digest = hashlib.sha256()
        rows = 0
        for (mac,) in self.db.execute(f"SELECT coalesce(mac, '') FROM {_q(table)} ORDER BY 1"):
            digest.update(str(mac).encode() + b"|")
            rows += 1
        return rows, self.keys.keyed_hash(
            Purpose.RECORD_MAC, f"seal|{table}|{rows}|{digest.hexdigest()}"
        )

    def problems(self, skip: Collection[str] = ()) -> list[str]:
        """Every row whose MAC fails and every table whose seal fails (but those in `skip`);
        empty: intact."""
        found: list[str] = []
        existing = {
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "seals" not in existing:
            return [f"{self.path.name}: it holds no seals (keyed rows were removed)"]
        seals = {name: (rows, mac) for name, rows, mac in self.db.execute("SELECT * FROM seals")}
        for table in self.tables:
            if table in skip:
                continue
            if table not in existing:
                found.append(f"table {table}: missing")
                continue
            columns = {r[1] for r in self.db.execute(f"PRAGMA table_info({_q(table)})")}
            if "mac" not in columns:
                found.append(f"table {table}: its keyed rows were removed (no mac column)")
                continue
            if missing := [c for c in self.tables[table] if c not in columns]:
                found.append(f"table {table}: columns removed: {', '.join(missing)}")
                continue
            mac_sql = self._row_mac_sql(table)
            order = "seq, rowid" if table in self._has_seq else "rowid"
            bad = self.db.execute(
                f"SELECT {self._row_name(table)} FROM {_q(table)}"
                f" WHERE mac IS NULL OR mac <> {mac_sql} ORDER BY {order}"
            ).fetchall()
            found += [
                f"table {table}, {name}: edited or added outside the workbench" for (name,) in bad
            ]
            rows, mac = self._table_seal(table)
            stored = seals.get(table)
            if stored is not None and table in self._has_seq:
                numbers = {n for (n,) in self.db.execute(f"SELECT seq FROM {_q(table)}")}
                gone = [n for n in range(1, int(stored[0]) + 1) if n not in numbers]
                found += [
                    f"table {table}, {span}: deleted outside the workbench" for span in _spans(gone)
                ]
            if stored is None:
                found.append(f"table {table}: its seal is missing")
            elif not hmac.compare_digest(str(stored[1]), mac) or stored[0] != rows:
                if stored[0] != rows:
                    found.append(
                        f"table {table}: sealed with {stored[0]} row(s), holds {rows}: rows"
                        " were deleted or added outside the workbench"
                    )
                elif not bad:
                    found.append(f"table {table}: rows were replaced outside the workbench")
        return found

    def check(self) -> None:
        """Raise `RecordTamperedError` when any row or seal fails."""
        found = self.problems()
        if found:
            raise RecordTamperedError(self.path, found)
        self._checked = self._version()

    def _version(self) -> int:
        """SQLite's count of changes other connections committed to the file: the same
        number means no one else wrote since this connection last looked."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def state(self) -> str:
        """A digest of every table's seal as the file holds them now: what a log of writes
        records, so that an earlier copy of the record put back is found."""
        seals = {name: (rows, mac) for name, rows, mac in self.db.execute("SELECT * FROM seals")}
        text = json.dumps([[t, *seals.get(t, (0, ""))] for t in sorted(self.tables)])
        return hashlib.sha256(text.encode()).hexdigest()

    def _number(self, table: str) -> None:
        """Number the rows written in this transaction after the others, in rowid order."""
        t = _q(table)
        self.db.execute(
            f"UPDATE {t} SET seq = n.s FROM (SELECT rowid AS r, (SELECT coalesce(max(seq), 0)"
            f" FROM {t}) + row_number() OVER (ORDER BY rowid) AS s FROM {t} WHERE seq IS NULL)"
            f" AS n WHERE {t}.rowid = n.r"
        )
        rows, last = self.db.execute(f"SELECT count(*), coalesce(max(seq), 0) FROM {t}").fetchone()
        if rows != last:
            raise InternalError(
                f"{self.path.name}: table {table} lost a row inside a write (a DELETE or an"
                " INSERT OR REPLACE): its rows are numbered and may only be added or updated"
            )

    def _seal(self) -> None:
        """Number and MAC the rows written in this transaction (seq, mac NULL) and seal every
        table."""
        for table in self.tables:
            if table in self._has_seq:
                self._number(table)
            self.db.execute(
                f"UPDATE {_q(table)} SET mac = {self._row_mac_sql(table)} WHERE mac IS NULL"
            )
            rows, mac = self._table_seal(table)
            self.db.execute(
                "INSERT OR REPLACE INTO seals (name, rows, mac) VALUES (?, ?, ?)",
                (table, rows, mac),
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write: the record is checked first (refused when it fails), the rows written
        inside are left with `mac` NULL (an UPDATE sets `mac = NULL`), and sealed at the end.

        Raises:
            RecordTamperedError: the record fails its check; nothing is written.
        """
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self._checked != self._version():  # someone else wrote since: check again
                    self.check()
                yield self.db
                self._seal()
                self.last_state = self.state()
                point(f"commit {self.path.name}")
                self.db.execute("COMMIT")
                self._checked = self._version()
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if is_disk_full(exc):
                raise DiskFullError(self.path) from exc
            raise


def roll_back_interrupted(path: Path) -> None:
    """Roll back the write a crash interrupted, if its journal is left beside `path`."""
    if path.with_name(path.name + "-journal").exists():
        db = sqlite3.connect(path)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()


def verify_record(
    path: Path,
    keys: Keys,
    tables: Mapping[str, Sequence[str]] | None = None,
    numbered: Collection[str] = (),
) -> list[str]:
    """Check a record's rows and seals without changing it (opened read-only); the tables'
    columns are read from the file when not given (a `seq` column then makes its table
    numbered). Empty: intact.

    A write a crash interrupted leaves its rollback journal beside the file (`-journal`):
    a read-only connection cannot roll it back and fails, so the file is first opened for
    writing, which restores it as it was before that write (SQLite's own crash recovery,
    what any command that writes the record does first)."""
    if not path.is_file():
        return [f"no record at {path}"]
    if path.stat().st_size == 0:
        return [f"{path} is not a record this workbench wrote (an empty file: emptied by hand)"]
    roll_back_interrupted(path)
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        if tables is None:
            names = [
                r[0]
                for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if r[0] != "seals"
            ]
            columns = {t: [c[1] for c in db.execute(f"PRAGMA table_info({_q(t)})")] for t in names}
            tables = {
                t: tuple(c for c in cs if c not in ("mac", "seq")) for t, cs in columns.items()
            }
            numbered = {t for t, cs in columns.items() if "seq" in cs}
        return Seal(db, keys, tables, path, read_only=True, numbered=numbered).problems()
    except sqlite3.DatabaseError:
        return [f"{path} is not a record this workbench wrote (not SQLite)"]
    finally:
        db.close()


AUDIT_LOG_MISSING = "its audit log is missing"
SENT_LOST_FIX = (
    "restore the log; only if it was truly lost, run again with --audit-log-lost"
    " (a new log then starts from this record, and says so)"
)


def logged_writes(audit: AuditLog, name: str) -> dict[int, str]:
    """The writes of the record called `name` that its audit log records: number -> state."""
    found: dict[int, str] = {}
    for entry in audit.entries():
        write = entry.details.get("write")
        if entry.details.get("record") == name and isinstance(write, int):
            found[write] = str(entry.details.get("state"))
    return found


def against_log(
    seal: Seal,
    audit: AuditLog,
    name: str,
    audit_lost: bool = False,
    *,
    lost_fix: str = SENT_LOST_FIX,
) -> tuple[list[str], int | None]:
    """Where the record's writes and its audit log disagree, and the number of a last write
    whose entry is missing (a crash between the commit and the entry; None: none is).
    `audit_lost`: the user says the log was lost; a missing log is then no problem."""
    tables = {r[0] for r in seal.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "writes" not in tables:  # written before writes were counted
        return [], None
    writes = int(seal.db.execute("SELECT count(*) FROM writes").fetchone()[0])
    if writes and not audit.path.exists():
        if audit_lost:
            return [], None
        return [
            f"{AUDIT_LOG_MISSING} ({audit.path}): the record holds {writes} write(s) and nothing"
            " vouches for them (an earlier copy put back with its log deleted reads the same):"
            f" {lost_fix}"
        ], None
    logged = logged_writes(audit, name)
    last = max(logged, default=0)
    if writes < last:
        return [
            f"the record holds {writes} write(s), its audit log {audit.path.name} records"
            f" {last}: an earlier copy of the record was put back (put the latest one back)"
        ], None
    if writes > last + 1:
        return [
            f"the record holds {writes} write(s), its audit log {audit.path.name} records"
            f" {last}: entries are missing from the log, or the record is not the one it logs"
        ], None
    if writes == last and writes and logged[last] != seal.state():
        return [
            f"write {writes}: the record's seals differ from those its audit log recorded: the"
            " record was replaced by another copy"
        ], None
    return [], (writes if writes == last + 1 else None)


__all__ = [
    "AUDIT_LOG_MISSING",
    "Seal",
    "against_log",
    "logged_writes",
    "unsealed_problem",
    "verify_record",
]
