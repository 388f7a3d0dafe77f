"""Red team 26 round 4, finding 14: a process killed at the wrong moment left records that
`dsar audit verify` either crashed on (a Python traceback: the register's rollback journal,
which a read-only connection cannot roll back) or reported as tampering (the first audit
entry written, its head not yet). Both are crashes the next write repairs: verify now rolls
the journal back as any write would, and reads a one-entry log without a head as an
interrupted first append."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

from dsar.keys import Keys
from dsar.records.audit import AuditLog, verify_audit_log
from dsar.records.deadlines import Jurisdiction, RequestType
from dsar.records.register import Register, verify_register
from dsar.subjects.identity import parse_key

KEYS = Keys(b"r" * 40)


def test_a_first_append_killed_before_its_head_is_no_tampering(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", KEYS)
    log.append("breach.scoped", request="BR-1")
    log.head_path.unlink()  # what a kill between the entry's fsync and the head leaves
    assert verify_audit_log(log.path, KEYS) == []
    assert log.repair()  # the next write (or recover) writes the head
    assert log.head_path.is_file()
    log.append("breach.registered", request="BR-1")
    assert verify_audit_log(log.path, KEYS) == []


def test_a_head_removed_from_a_longer_log_is_still_found(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", KEYS)
    log.append("breach.scoped", request="BR-1")
    log.append("breach.registered", request="BR-1")
    log.head_path.unlink()
    assert any("head file" in str(p) for p in verify_audit_log(log.path, KEYS))
    assert not log.repair()  # never repaired past what the head vouched for


def test_a_register_left_with_its_rollback_journal_verifies(tmp_path: Path) -> None:
    """A copy of the register taken while a write was in flight (its `-journal` beside it),
    as a SIGKILL during that write leaves it: verify rolls the write back and reads it."""
    reg = Register(tmp_path / "live" / "requests.db", KEYS)
    reg.add(RequestType.ERASURE, Jurisdiction.GDPR, date(2026, 11, 2), [parse_key("user_id=u1")])
    reg.close()
    live = tmp_path / "live" / "requests.db"
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=DELETE")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE requests SET status = 'completed'")  # never committed
    writer.execute("PRAGMA cache_spill=1")
    writer.execute("CREATE TABLE spill AS SELECT zeroblob(4000000) AS b")  # page cache spills
    crashed = tmp_path / "crashed"
    shutil.copytree(tmp_path / "live", crashed)
    writer.execute("ROLLBACK")
    writer.close()
    assert (crashed / "requests.db-journal").exists()
    assert verify_register(crashed / "requests.db", KEYS) == []
    assert not (crashed / "requests.db-journal").exists()
