"""The audit log: append-only JSON Lines, each entry MACed with the key and chained to the last.

Each entry's `hash` is an HMAC (`Purpose.AUDIT_CHAIN`) of its body, which holds the hash of
the entry before. Without the secret key nobody can write an entry that verifies, so
editing, inserting, removing or reordering entries is found by `verify_audit_log`, even by
someone who recomputes every hash. A head file beside the log records the last entry, so
entries cut from the end are found too, unless whoever cut them also rewrote the head to an
earlier entry: keep a copy of the head elsewhere (or `--expect` the count) to catch that.
Entries name the request, the action, tables and counts, and a keyed reference to the
person, never the person's identifiers.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsar.errors import DiskFullError, UnusableFileError, WorkbenchError, is_disk_full
from dsar.faults import point
from dsar.io import atomic_write_text, private_file, tmp_name
from dsar.keys import SCHEME, Keys, Purpose, require_keys
from dsar.subjects.identity import SubjectKey

GENESIS = "0" * 64


def subject_ref(keys: Keys, identifier: SubjectKey) -> str:
    """A keyed, non-reversible reference to a person: "ref:" and 24 hex characters.

    The keyed hash (`Purpose.AUDIT_REF`) of one identifier's "kind=value" text.
    """
    return f"ref:{keys.keyed_hash(Purpose.AUDIT_REF, str(identifier))[:24]}"


def os_account() -> str:
    """The account name of the real user id running this: never $USER or $LOGNAME (which
    `getpass.getuser` reads first, and anyone sets)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid with no account name (a container's)
        return f"uid {os.getuid()}"


def _entry_mac(keys: Keys, body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return keys.keyed_hash(Purpose.AUDIT_CHAIN, canonical)


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
    hash: str  # the HMAC of every other field, with the key
    scheme: str | None = None  # the keyed-hash scheme (`dsar.keys.SCHEME`)


class AuditLog:
    """An append-only, keyed hash chain at `path` (JSON Lines) with its head at `path.head`.

    Args:
        path: the log file (created on the first entry).
        keys: the workbench's keys (see `dsar.keys.load_keys`): they MAC every entry.
    """

    def __init__(self, path: str | Path, keys: Keys) -> None:
        require_keys(keys, "AuditLog")
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self._keys = keys

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    @property
    def keys(self) -> Keys:
        """The key the log's entries are MACed with."""
        return self._keys

    def verify(self) -> list[AuditProblem]:
        """Check the chain and the head (see `verify_audit_log`)."""
        return verify_audit_log(self.path, self._keys)

    def append(
        self,
        action: str,
        *,
        request: str | None = None,
        subject: str | None = None,
        tables: Mapping[str, int] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry (under a file lock) and return it.

        The entry is written and fsynced, then the head. A run killed between the two leaves
        the head one entry behind an intact entry: the next append (or `repair`) moves the
        head on; an append cut short (a full disk) is removed again before the error.
        """
        private_file(self.path)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._repair(handle)
                self._head()  # an edited head is evidence: never written over
                last = self._last(handle)
                body: dict[str, Any] = {
                    "seq": (last["seq"] + 1) if last else 1,
                    "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "actor": os_account(),
                    "action": action,
                    "request": request,
                    "subject": subject,
                    "tables": dict(tables or {}),
                    "details": dict(details or {}),
                    "prev": last["hash"] if last else GENESIS,
                    "scheme": SCHEME,
                }
                entry: dict[str, Any] = {**body, "hash": _entry_mac(self._keys, body)}
                fd = handle.fileno()
                size = os.fstat(fd).st_size
                data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
                try:  # unbuffered: nothing is left to be written later, at close
                    point("audit append")
                    written = 0
                    while written < len(data):
                        written += os.write(fd, data[written:])
                    os.fsync(fd)
                except BaseException as exc:
                    os.ftruncate(fd, size)  # never half an entry (a full disk)
                    if is_disk_full(exc):
                        raise DiskFullError(self.path) from exc
                    raise
                self._write_head(entry["seq"], entry["hash"])
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return AuditEntry(**entry)

    def _head(self) -> dict[str, Any]:
        """The head file's record ({} when there is none yet).

        Raises:
            UnusableFileError: the head is not one the workbench wrote (edited by hand).
        """
        if not self.head_path.exists():
            return {}
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            head = None
        if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
            raise UnusableFileError(
                self.head_path,
                "not the head this workbench wrote (changed outside it)",
                "nothing was appended. `dsar audit verify` reports it; restore the head",
            )
        return head

    def _write_head(self, seq: int, mac: str) -> None:
        text = json.dumps({"seq": seq, "hash": mac}) + "\n"
        atomic_write_text(self.head_path, text, fixed_tmp=True)

    def repair(self) -> bool:
        """Finish an append a crash interrupted (the head one entry behind an intact entry,
        or half an entry at the end); True when something was repaired. Never moves the
        head past an entry that does not verify."""
        if not self.path.is_file():
            tmp_name(self.head_path).unlink(missing_ok=True)
            return False
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                return self._repair(handle)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _repair(self, handle: Any) -> bool:
        """`repair`, under the lock `handle` holds."""
        repaired = False
        tmp_name(self.head_path).unlink(missing_ok=True)  # a head write killed half-way
        with self.path.open("rb+") as raw:  # bytes: the cut must fall between entries
            size = raw.seek(0, os.SEEK_END)
            if size:
                start = max(0, size - 65_536)
                raw.seek(start)
                tail = raw.read()
                cut = tail.rfind(b"\n")
                if not tail.endswith(b"\n") and (cut >= 0 or start == 0):
                    raw.truncate(start + cut + 1)  # an append killed while it wrote
                    raw.flush()
                    os.fsync(raw.fileno())
                    repaired = True
        try:
            last = self._last(handle)
        except WorkbenchError:  # an edited last line: `verify` reports it, nothing to repair
            return repaired
        if last is None:
            return repaired
        try:
            # no head yet: the first append was killed before it wrote one
            head = self._head() if self.head_path.is_file() else {"seq": 0, "hash": GENESIS}
        except WorkbenchError:
            return repaired
        body = {k: v for k, v in last.items() if k != "hash"}
        if (
            head.get("seq") == last["seq"] - 1
            and head.get("hash") == last.get("prev")
            and hmac.compare_digest(_entry_mac(self._keys, body), str(last.get("hash")))
        ):
            self._write_head(last["seq"], last["hash"])
            repaired = True
        return repaired

    def _last(self, handle: Any) -> dict[str, Any] | None:
        """The last entry, read from the end of the log rather than entry by entry."""
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return None
        # the last line is short: read the file's tail (bytes: a character may straddle the
        # cut) rather than every entry
        with self.path.open("rb") as raw:
            raw.seek(max(0, size - 65_536))
            lines = [line for line in raw.read().splitlines() if line.strip()]
            if len(lines) < 2 and size > 65_536:
                raw.seek(0)
                lines = [line for line in raw.read().splitlines() if line.strip()]
        try:
            last: dict[str, Any] = json.loads(lines[-1].decode("utf-8"))
            if not isinstance(last.get("seq"), int) or "hash" not in last:
                raise ValueError("not an entry")
        except (ValueError, IndexError):
            raise UnusableFileError(
                self.path,
                "its last line is not an audit entry (changed outside the workbench)",
                "nothing was appended. `dsar audit verify` shows where",
            ) from None
        return last

    def entries(self) -> list[AuditEntry]:
        """Every entry that reads as one, in file order (no checks: `verify_audit_log`
        reports the lines that do not)."""
        if not self.path.is_file():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                found.append(AuditEntry(**json.loads(line)))
            except (ValueError, TypeError):
                continue
        return found

    def checked_entries(self) -> tuple[list[AuditEntry], list[int]]:
        """The entries that verify, in file order, and the line numbers of those that read as
        entries but do not: MACed with this key under today's scheme, and each following the
        last entry that verified (its `seq` one more, its `prev` that entry's MAC). A line
        appended without the key, or a verified line copied again, is not one of them; an
        entry after a removed one fails too (`verify_audit_log` says where the chain breaks).
        """
        if not self.path.is_file():
            return [], []
        found: list[AuditEntry] = []
        ignored: list[int] = []
        prev, expected_seq = GENESIS, 1
        text = self.path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                entry = AuditEntry(**raw)
            except (ValueError, TypeError):
                continue  # no entry at all: `verify_audit_log` reports it
            body = {k: v for k, v in raw.items() if k != "hash"}
            if (
                entry.scheme == SCHEME
                and hmac.compare_digest(_entry_mac(self._keys, body), str(entry.hash))
                and entry.seq == expected_seq
                and entry.prev == prev
            ):
                found.append(entry)
                prev, expected_seq = entry.hash, entry.seq + 1
            else:
                ignored.append(number)
        return found, ignored


@dataclass(frozen=True)
class AuditProblem:
    """Where the chain breaks, and how."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def verify_audit_log(path: str | Path, keys: Keys) -> list[AuditProblem]:
    """Check every entry's MAC, the chain and the head; an empty list means intact.

    An entry that was not MACed with this key (edited, forged, or written with another
    key or an earlier, unkeyed version of the workbench) is a problem.
    """
    log = AuditLog(path, keys)
    problems: list[AuditProblem] = []
    if not log.path.is_file():
        return [AuditProblem(0, f"no audit log at {log.path}")]
    prev, expected_seq = GENESIS, 1
    text = log.path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    last_hash, last_seq, prev_of_last = GENESIS, 0, None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            body = {k: v for k, v in entry.items() if k != "hash"}
            stored = entry["hash"]
            seq = entry["seq"]
        except (json.JSONDecodeError, KeyError, TypeError):
            cut = number == len(lines) and not text.endswith("\n")
            problems.append(
                AuditProblem(
                    number,
                    "an append cut short (a crash or a full disk): the recover command removes it"
                    if cut
                    else "not a valid audit entry",
                )
            )
            continue
        if body.get("scheme") != SCHEME:
            problems.append(
                AuditProblem(
                    number,
                    f"entry {seq} is not MACed with the {SCHEME} scheme (written by an earlier"
                    " version, or forged): it proves nothing",
                )
            )
        elif not hmac.compare_digest(_entry_mac(log._keys, body), str(stored)):
            problems.append(
                AuditProblem(
                    number,
                    f"entry {seq} was edited or written without the key (its MAC differs)",
                )
            )
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
        last_hash, last_seq, prev_of_last = stored, seq, body.get("prev")
    if log.head_path.is_file():
        try:
            head = log._head()
        except WorkbenchError:
            problems.append(
                AuditProblem(len(lines), f"the head file {log.head_path} was changed (unreadable)")
            )
            return problems
        interrupted = (  # an append killed before its head: `recover` moves the head on
            head.get("seq") == last_seq - 1 and head.get("hash") == prev_of_last and not problems
        )
        if (head.get("seq") != last_seq or head.get("hash") != last_hash) and not interrupted:
            problems.append(
                AuditProblem(
                    len(lines),
                    f"the log ends at entry {last_seq} but its head records entry"
                    f" {head.get('seq')}: entries were cut from the end or the head was changed",
                )
            )
    elif not (last_seq == 1 and prev_of_last == GENESIS and not problems):
        # no head: the log was emptied or its head removed; unless its first append was cut
        # before its head was written (a process killed there), which the next write repairs
        problems.append(AuditProblem(len(lines), f"the head file {log.head_path} is missing"))
    return problems
