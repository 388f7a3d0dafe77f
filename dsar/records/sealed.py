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

What a seal cannot tell: a whole file replaced by an earlier copy of itself (every row and
seal verify). The audit log's chain catches that for what it records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from dsar.errors import DiskFullError, RecordTamperedError, is_disk_full
from dsar.faults import point
from dsar.keys import Keys, Purpose

log = logging.getLogger(__name__)

_SEALS = """
CREATE TABLE IF NOT EXISTS seals (
    name TEXT PRIMARY KEY, rows INTEGER NOT NULL, mac TEXT NOT NULL
)
"""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Seal:
    """The keyed rows and seals of some tables of one SQLite record.

    Args:
        db: the record's connection, opened with `isolation_level=None` (transactions are
            explicit here).
        keys: the workbench key.
        tables: per table, the columns its row MAC covers (every column but `mac`).
        path: the record's file, for messages.

    A record written before rows were keyed (no `seals` table) is adopted once: its rows
    are MACed as they are found, with a warning.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        keys: Keys,
        tables: Mapping[str, Sequence[str]],
        path: Path,
        *,
        read_only: bool = False,
    ) -> None:
        self.db, self.keys, self.tables, self.path = db, keys, dict(tables), path
        self._hash = keys.hasher(Purpose.RECORD_MAC)
        self._checked: int | None = None  # `_version()` when last checked or written
        db.create_function("record_mac", -1, self._mac_sql, deterministic=True)
        if read_only:
            return
        existing = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        keyed = any(
            "mac" in {r[1] for r in db.execute(f"PRAGMA table_info({_q(t)})")}
            for t in self.tables
            if t in existing
        )
        # a record from before keyed rows is adopted; one whose seals were removed is not
        adopt = "seals" not in existing and not keyed
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_SEALS)
            for table in self.tables:
                columns = {r[1] for r in db.execute(f"PRAGMA table_info({_q(table)})")}
                if "mac" not in columns:
                    db.execute(f"ALTER TABLE {_q(table)} ADD COLUMN mac TEXT")
            if adopt:
                count = sum(
                    db.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0] for t in self.tables
                )
                if count:
                    log.warning(
                        "%s: %d row(s) written before rows were keyed adopted as they are",
                        path,
                        count,
                    )
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

    def _row_mac_sql(self, table: str) -> str:
        cols = ", ".join(_q(c) for c in self.tables[table])
        return f"record_mac('{table}', {cols})"

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

    def problems(self) -> list[str]:
        """Every row whose MAC fails and every table whose seal fails; empty: intact."""
        found: list[str] = []
        existing = {
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "seals" not in existing:
            return [f"{self.path.name}: it holds no seals (keyed rows were removed)"]
        seals = {name: (rows, mac) for name, rows, mac in self.db.execute("SELECT * FROM seals")}
        for table in self.tables:
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
            bad = self.db.execute(
                f"SELECT rowid FROM {_q(table)} WHERE mac IS NULL OR mac <> {mac_sql}"
                " ORDER BY rowid"
            ).fetchall()
            found += [
                f"table {table}, row {rowid}: edited or added outside the workbench"
                for (rowid,) in bad
            ]
            rows, mac = self._table_seal(table)
            stored = seals.get(table)
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

    def _seal(self) -> None:
        """MAC the rows written in this transaction (mac NULL) and seal every table."""
        for table in self.tables:
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


def verify_record(
    path: Path, keys: Keys, tables: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """Check a record's rows and seals without changing it (opened read-only); the tables'
    columns are read from the file when not given. Empty: intact."""
    if not path.is_file():
        return [f"no record at {path}"]
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        if tables is None:
            names = [
                r[0]
                for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if r[0] != "seals"
            ]
            tables = {
                t: tuple(c[1] for c in db.execute(f"PRAGMA table_info({_q(t)})") if c[1] != "mac")
                for t in names
            }
        return Seal(db, keys, tables, path, read_only=True).problems()
    except sqlite3.DatabaseError:
        return [f"{path} is not a record this workbench wrote (not SQLite)"]
    finally:
        db.close()


__all__ = ["Seal", "verify_record"]
