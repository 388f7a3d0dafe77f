"""The audit log: append-only JSON Lines, each entry carrying the hash of the one before.

Editing, removing or reordering any entry breaks the chain, and `verify_audit_log` says
where. A head file beside the log records the last entry's sequence number and hash, so
cutting entries off the end is found too. Entries name the request, the action, tables and
counts, and a keyed reference to the person (an HMAC), never the person's identifiers.
Each entry records the keyed-hash scheme its reference was made with (`dsar.keys.SCHEME`).
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsar.io import atomic_write_text
from dsar.keys import SCHEME, Keys, Purpose
from dsar.subjects.identity import SubjectKey

GENESIS = "0" * 64


def subject_ref(key: bytes | Keys, identifier: SubjectKey) -> str:
    """A keyed, non-reversible reference to a person: "ref:" and 24 hex characters.

    The keyed hash (`Purpose.AUDIT_REF`) of one identifier's "kind=value" text.
    """
    keys = key if isinstance(key, Keys) else Keys(key)
    return f"ref:{keys.keyed_hash(Purpose.AUDIT_REF, str(identifier))[:24]}"


def _entry_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    seq: int
    at: str
    actor: str
    action: str
    request: str | None
    subject: str | None
    tables: dict[str, int]
    details: dict[str, Any]
    prev: str
    hash: str
    scheme: str | None = None  # the keyed-hash scheme; None in entries written before it


class AuditLog:
    """An append-only, hash-chained log at `path` (JSON Lines) with its head at `path.head`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")

    def append(
        self,
        action: str,
        *,
        request: str | None = None,
        subject: str | None = None,
        tables: Mapping[str, int] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry (under a file lock) and return it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                last = self._last(handle)
                body: dict[str, Any] = {
                    "seq": (last["seq"] + 1) if last else 1,
                    "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "actor": getpass.getuser(),
                    "action": action,
                    "request": request,
                    "subject": subject,
                    "tables": dict(tables or {}),
                    "details": dict(details or {}),
                    "prev": last["hash"] if last else GENESIS,
                    "scheme": SCHEME,
                }
                entry: dict[str, Any] = {**body, "hash": _entry_hash(body)}
                handle.seek(0, os.SEEK_END)
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
                atomic_write_text(
                    self.head_path, json.dumps({"seq": entry["seq"], "hash": entry["hash"]}) + "\n"
                )
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return AuditEntry(**entry)

    def _last(self, handle: Any) -> dict[str, Any] | None:
        """The last entry, read from the end of the log rather than entry by entry."""
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return None
        # the last line is short: read the file's tail rather than every entry
        size = handle.tell()
        handle.seek(max(0, size - 65_536))
        tail = handle.read().splitlines()
        lines = [line for line in tail if line.strip()]
        if len(lines) < 2 and size > 65_536:
            handle.seek(0)
            lines = [line for line in handle.read().splitlines() if line.strip()]
        last: dict[str, Any] = json.loads(lines[-1])
        return last

    def entries(self) -> list[AuditEntry]:
        """Every entry, in file order (no checks: use `verify_audit_log`)."""
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [AuditEntry(**json.loads(line)) for line in lines if line.strip()]


@dataclass(frozen=True)
class AuditProblem:
    """Where the chain breaks, and how."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def verify_audit_log(path: str | Path) -> list[AuditProblem]:
    """Check the chain and the head; an empty list means the log is intact."""
    log = AuditLog(path)
    problems: list[AuditProblem] = []
    if not log.path.is_file():
        return [AuditProblem(0, f"no audit log at {log.path}")]
    prev, expected_seq = GENESIS, 1
    lines = log.path.read_text(encoding="utf-8").splitlines()
    last_hash, last_seq = GENESIS, 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            body = {k: v for k, v in entry.items() if k != "hash"}
            stored = entry["hash"]
            seq = entry["seq"]
        except (json.JSONDecodeError, KeyError, TypeError):
            problems.append(AuditProblem(number, "not a valid audit entry"))
            continue
        if _entry_hash(body) != stored:
            problems.append(AuditProblem(number, f"entry {seq} was edited (its hash differs)"))
        if seq != expected_seq:
            problems.append(
                AuditProblem(
                    number,
                    f"expected entry {expected_seq}, found {seq}: entries removed or reordered",
                )
            )
        if body.get("prev") != prev:
            problems.append(
                AuditProblem(
                    number, f"entry {seq} does not follow the entry before it (chain broken)"
                )
            )
        prev, expected_seq = stored, seq + 1
        last_hash, last_seq = stored, seq
    if log.head_path.is_file():
        head = json.loads(log.head_path.read_text(encoding="utf-8"))
        if head.get("seq") != last_seq or head.get("hash") != last_hash:
            problems.append(
                AuditProblem(
                    len(lines),
                    f"the log ends at entry {last_seq} but its head records entry"
                    f" {head.get('seq')}: entries were cut from the end or the head was changed",
                )
            )
    elif lines:
        problems.append(AuditProblem(len(lines), f"the head file {log.head_path} is missing"))
    return problems
