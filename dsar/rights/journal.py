"""The journal of a change: a change is rolled back or finished, never left half, never misstated.

A change (erasure, correction, retention sweep) writes its journal
(`<export>/.workbench-erasure-journal.json`) twice:

1. `begin`, before anything else: phase "staging", the request label, the files it may
   rewrite, the certificate folder and the ledger, if any. Then the ledger records the
   erasure as *pending*, the new files are staged beside the old, the certificate is written
   under temporary names. A crash or a failure in this phase is **rolled back**: staged files
   and temporary certificates removed by their exact names, the pending ledger entry
   withdrawn, the originals untouched.
2. `commit`: phase "commit", every move, the certificate, the audit entry owed, the ledger
   and the register to update. From here the change is **rolled forward**: files swapped,
   certificate in place, one audit entry, the ledger's entry marked done, the registered
   request completed; then the journal is removed.

`recover` does whichever the journal's phase says and reports exactly that (`Recovery`). The
catalog refuses to load while a journal is there, so nothing reads a half-changed export or
states a change that did not happen.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsar.errors import (
    InternalError,
    MissingFileError,
    MissingKeyError,
    OutputExistsError,
    UnusableFileError,
    WorkbenchError,
)
from dsar.faults import point
from dsar.io import atomic_write_text, plain_name, tmp_name
from dsar.keys import Keys, Purpose
from dsar.lock import export_lock
from dsar.records.audit import AuditLog
from dsar.rights.certificate import TMP as CERTIFICATE_TMP
from dsar.rights.rewrite import NEW_SUFFIX, Staged, backup_name, staged_name, stamp

if TYPE_CHECKING:
    from dsar.records.ledger import Ledger
    from dsar.records.register import Register

JOURNAL = ".workbench-erasure-journal.json"


class Phase(StrEnum):
    """Where a change stood when its journal was last written."""

    STAGING = "staging"  # nothing is committed: a crash rolls back
    COMMIT = "commit"  # committed: a crash is finished by `recover`


@dataclass(frozen=True)
class PendingAudit:
    """The audit entry a change still owes: written once, after the files are in place."""

    log: AuditLog
    action: str
    request: str | None
    subject: str | None
    tables: Mapping[str, int]
    details: Mapping[str, Any]


@dataclass(frozen=True)
class Records:
    """The records a change updates once its files are committed."""

    ledger: Ledger | None = None  # the erasure's pending entry is marked done
    register: Register | None = None  # the registered request (the label) is completed
    keys: Keys | None = None  # MACs the journal: `recover` acts on no journal it cannot check


def _mac(keys: Keys, journal: Mapping[str, Any]) -> str:
    body = {k: v for k, v in journal.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return keys.keyed_hash(Purpose.RECORD_MAC, f"journal|{canonical}")


def _write(root: Path, journal: Mapping[str, Any], keys: Keys | None) -> None:
    signed = {**journal, "mac": _mac(keys, journal)} if keys is not None else dict(journal)
    atomic_write_text(root / JOURNAL, json.dumps(signed, indent=1), fixed_tmp=True)


def begin(
    root: Path, label: str, targets: Sequence[Path], out: Path, records: Records = Records()
) -> None:
    """Write the staging journal: from now on a crash is rolled back by `recover`."""
    plain_name(label, "request label")
    _write(
        root,
        {
            "phase": Phase.STAGING.value,
            "label": label,
            "targets": [str(t.resolve()) for t in targets],
            "out": str(out.resolve()),
            "ledger": str(records.ledger.path.resolve()) if records.ledger else None,
        },
        records.keys,
    )


def commit(
    root: Path,
    staged: Staged,
    artifacts: Sequence[tuple[Path, Path]] = (),
    audit: PendingAudit | None = None,
    records: Records = Records(),
) -> None:
    """Put the staged files and the artifacts (temporary path, final path) in place.

    The commit journal is written first, so from then on the change is finished by
    `recover` whatever happens; then the moves; then the audit entry, once; then the
    records. Every staged file and artifact must be there as it was staged before the
    journal is written: a change is never recorded without its files.

    Raises:
        InternalError: a staged file or an artifact is missing or changed.
    """
    for move, change in zip(staged.moves, staged.files, strict=True):
        new = Path(move["new"])
        # size and modification time, not the checksum again: reading every new file a
        # second time would double the apply's reading for a check this cheap one makes
        if not new.is_file() or stamp(new) != move["written"]:
            raise InternalError(
                f"the new version of {change.file} is missing or changed since it was"
                " written; nothing was changed"
            )
    if not all(tmp.is_file() for tmp, _ in artifacts):
        raise InternalError("the certificate is missing since it was written; nothing was changed")
    journal = {
        "phase": Phase.COMMIT.value,
        "label": staged.label,
        "moves": list(staged.moves),
        "artifacts": [
            {"new": str(tmp.resolve()), "target": str(final.resolve())} for tmp, final in artifacts
        ],
        "audit": _audit_json(audit),
        "ledger": str(records.ledger.path.resolve()) if records.ledger else None,
        "register": str(records.register.path.resolve()) if records.register else None,
    }
    keys = records.keys or (audit.log.keys if audit is not None else None)
    _write(root, journal, keys)
    _finish(root, journal, audit.log if audit is not None else None, records)


def _audit_json(audit: PendingAudit | None) -> dict[str, Any] | None:
    if audit is None:
        return None
    return {
        "log": str(audit.log.path.resolve()),
        "action": audit.action,
        "request": audit.request,
        "subject": audit.subject,
        "tables": dict(audit.tables),
        # an id for this change, so `recover` never writes its entry twice
        "details": {**audit.details, "change_id": secrets.token_hex(8)},
    }


def _finish(root: Path, journal: Mapping[str, Any], log: AuditLog | None, records: Records) -> None:
    """Carry out a commit journal: moves, certificate, audit entry, records. Re-runnable."""
    _swap(journal["moves"])
    for move in journal.get("artifacts", []):
        new, target = Path(move["new"]), Path(move["target"])
        if new.exists():
            if target.exists():  # never happens to a change of ours: its name was free
                raise OutputExistsError(
                    target,
                    "the certificate",
                    "the journal would have put another there; nothing more was done",
                )
            point(f"rename {target.name}")
            new.replace(target)
        elif not target.exists():
            raise InternalError(f"the certificate {target.name} is neither staged nor in place")
    pending = journal.get("audit")
    if pending is not None:
        if log is None:
            raise MissingKeyError(
                "the interrupted change's files are in place, but its audit entry needs the"
                " secret key: run the recover command again with WORKBENCH_KEY set or"
                " --key-file"
            )
        _append_once(pending, log)
    label = str(journal["label"])
    if records.ledger is not None:
        records.ledger.complete(label)
    if records.register is not None:
        _complete_request(records.register, label)
    point("remove journal")
    (root / JOURNAL).unlink()


def _complete_request(register: Register, label: str) -> None:
    """Mark the registered request the change carried out completed (once, if open)."""
    from dsar.errors import RequestNotFoundError
    from dsar.records.register import Status

    try:
        record = register.get(label)
    except RequestNotFoundError:
        return  # a change for a label the register does not hold (no --request)
    if record.is_open:
        register.update(label, status=Status.COMPLETED)


def _append_once(pending: Mapping[str, Any], log: AuditLog) -> None:
    change_id = pending["details"]["change_id"]
    if any(e.details.get("change_id") == change_id for e in log.entries()):
        return
    log.append(
        pending["action"],
        request=pending["request"],
        subject=pending["subject"],
        tables=pending["tables"],
        details=pending["details"],
    )


def _swap(moves: Sequence[Mapping[str, str]]) -> None:
    """Move each new file into place, keeping the original as a backup. Re-runnable."""
    for move in moves:
        target, new, backup = Path(move["target"]), Path(move["new"]), Path(move["backup"])
        if not new.exists():
            if target.exists() and backup.exists():
                continue  # swapped already
            raise InternalError(
                f"{target.name}: neither its new version nor its kept original is there;"
                " restore the file from a backup before recovering"
            )
        if target.exists() and not backup.exists():
            point(f"keep {target.name}")
            target.replace(backup)
        point(f"swap {target.name}")
        new.replace(target)


def rollback(root: Path, journal: Mapping[str, Any], ledger: Ledger | None) -> tuple[int, int]:
    """Undo a change that was not committed: staged files and temporary certificates
    removed by their exact names, the pending ledger entry withdrawn, the journal removed.
    Returns how many files were removed and how many ledger entries withdrawn.
    Re-runnable."""
    label = str(journal["label"])
    removed = 0
    for target in journal.get("targets", []):
        staged = staged_name(Path(target), label)
        if staged.is_file():
            staged.unlink()
            removed += 1
    out = Path(str(journal.get("out") or root))
    if out.is_dir():
        for tmp in out.glob(f".{label}-*-certificate*{CERTIFICATE_TMP}"):
            tmp.unlink()
            removed += 1
    withdrawn = ledger.withdraw_pending(label) if ledger is not None else 0
    point("remove journal")
    (root / JOURNAL).unlink(missing_ok=True)
    return removed, withdrawn


def abandon(root: Path, ledger: Ledger | None) -> bool:
    """After a failure inside a change: roll it back when it was not committed (True); a
    committed one is left for `recover` to finish (False)."""
    path = root / JOURNAL
    if not path.is_file():
        return True
    journal = _read(path)
    if journal.get("phase") != Phase.STAGING.value:
        return False
    rollback(root, journal, ledger)
    return True


def _read(path: Path) -> dict[str, Any]:
    """The journal at `path`, or a one-line refusal when it is not one."""
    if not path.is_file():
        raise UnusableFileError(path, "not a journal file", "remove it, then run this again")
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        journal = None
    if not isinstance(journal, dict):
        raise UnusableFileError(
            path,
            "not a journal this workbench wrote (unreadable)",
            "nothing moved. If no change was under way, remove it",
        )
    return journal


def _check_mac(journal: Mapping[str, Any], path: Path, keys: Keys | None) -> None:
    """A journal that updates records (audit log, ledger, register) must carry the MAC the
    key gives it: a journal planted without the key records nothing."""
    if not any(journal.get(k) for k in ("audit", "ledger", "register")):
        return
    if keys is None:
        raise MissingKeyError(
            "finishing or rolling back the interrupted change updates its records (the audit"
            " log, the ledger, the register), which needs the secret key: set WORKBENCH_KEY"
            " or pass --key-file"
        )
    if not hmac.compare_digest(str(journal.get("mac", "")), _mac(keys, journal)):
        raise UnusableFileError(
            path,
            "not a journal this workbench wrote with this key (its MAC differs)",
            "nothing moved and nothing was recorded; run recover with the key the change used",
        )


def check_journal(journal: Mapping[str, Any], path: Path, boundary: Path) -> None:
    """A journal moves only the workbench's own files: staged versions onto their targets
    inside the export root (`boundary`), originals to their backups, certificates from their
    temporary names. Anything else (a journal written by someone else, say, to replace a
    file outside the export) is refused before a single file moves."""
    label = str(journal.get("label", ""))
    try:
        plain_name(label, "journal label")
        phase = Phase(journal.get("phase", Phase.COMMIT.value))
    except (WorkbenchError, ValueError):
        raise UnusableFileError(
            path,
            "not a journal this workbench wrote",
            "nothing moved; if no change was under way, remove it",
        ) from None
    targets = [Path(m["target"]) for m in journal.get("moves", [])]
    if phase is Phase.STAGING:
        targets = [Path(t) for t in journal.get("targets", [])]
    for move in journal.get("moves", []):
        target = Path(move["target"])
        if (
            not target.is_absolute()
            or Path(move["new"]) != staged_name(target, label)
            or Path(move["backup"]) != backup_name(target, label)
        ):
            raise UnusableFileError(
                path, "a move it lists is not one the workbench makes", "nothing moved"
            )
    for target in targets:
        if not target.is_absolute() or not target.parent.resolve().is_relative_to(
            boundary.resolve()
        ):
            raise UnusableFileError(
                path,
                f"a move it lists replaces {target}, outside the export root {boundary.resolve()}",
                "nothing moved",
            )
    for move in journal.get("artifacts", []):
        target, new = Path(move["target"]), Path(move["new"])
        if (
            not target.name.startswith(f"{label}-")
            or "-certificate" not in target.name
            or new.parent != target.parent
            or not new.name.startswith(f".{target.name}")
            or not new.name.endswith(CERTIFICATE_TMP)
        ):
            raise UnusableFileError(
                path, "an artifact it lists is not a certificate", "nothing moved"
            )


class Outcome(StrEnum):
    """What `recover` found and did."""

    ROLLED_FORWARD = "rolled forward"
    ROLLED_BACK = "rolled back"
    CLEANED = "cleaned"
    NOTHING = "nothing to do"


@dataclass(frozen=True)
class Recovery:
    """What `recover` found and did, in words for the person who ran it."""

    outcome: Outcome
    label: str | None = None
    files: int = 0  # files put in place (forward) or removed (back, cleaned)
    certificate: str | None = None
    ledger: bool = False  # the change recorded a pending erasure in a ledger

    def __bool__(self) -> bool:
        return self.outcome is not Outcome.NOTHING

    def describe(self) -> str:
        """One or two lines: what was found, what was done."""
        if self.outcome is Outcome.ROLLED_FORWARD:
            cert = f"; certificate: {self.certificate}" if self.certificate else ""
            return (
                f"{self.label}: the change was committed when it was interrupted; rolled"
                f" forward: {self.files} file(s) in place{cert}, its audit entry and records"
                " written"
            )
        if self.outcome is Outcome.ROLLED_BACK:
            withdrawn = ", its pending ledger entry withdrawn" if self.ledger else ""
            return (
                f"{self.label}: the change was interrupted before it was committed; rolled"
                f" back: the original files are unchanged, {self.files} staged file(s)"
                f" removed{withdrawn}; no certificate was issued. Apply it again"
            )
        if self.outcome is Outcome.CLEANED:
            return f"removed {self.files} file(s) left by an interrupted run"
        return "nothing to recover"


def recover(
    root: str | Path,
    keys: Keys | None = None,
    files: Sequence[Path] | None = None,
    boundary: Path | None = None,
    *,
    register: Path | None = None,
    ledger: Path | None = None,
    wait: bool = False,
) -> Recovery:
    """Roll an interrupted change back or forward, as its journal's phase says.

    `root` is the catalog's folder (the catalog may not load while files are half swapped).
    Without a journal, staged versions an older run left beside `files` (the catalog's
    table files) are removed. `boundary` is the export root (`Catalog.boundary`; default
    `root`): a journal that moves a file outside it is refused. `register`: its audit log's
    head is repaired when an append was cut between the entry and its head. The records the
    journal names are opened where it names them, never created; where one is not there
    (moved, a volume not mounted), `register` and `ledger` name where it is now.

    Raises:
        MissingKeyError: the journal's records (audit entry, ledger) need `keys`.
        UnusableFileError: the journal lists a move the workbench does not make.
    """
    root = Path(root)
    with export_lock(root, exclusive=True, holder="recover", wait=wait):
        tmp_name(root / JOURNAL).unlink(missing_ok=True)  # a journal write killed half-way
        repaired = _repair_audit(register, keys)
        path = root / JOURNAL
        if not path.exists():
            stray = _stray(files or ())
            for leftover in stray:
                leftover.unlink()
            return (
                Recovery(Outcome.CLEANED, files=len(stray))
                if stray or repaired
                else Recovery(Outcome.NOTHING)
            )
        journal = _read(path)
        check_journal(journal, path, root if boundary is None else boundary)
        _check_mac(journal, path, keys)
        label = str(journal["label"])
        records = _open_records(journal, keys, register, ledger)
        try:
            if journal.get("phase") == Phase.STAGING.value:
                removed, withdrawn = rollback(root, journal, records.ledger)
                return Recovery(Outcome.ROLLED_BACK, label, removed, ledger=withdrawn > 0)
            pending = journal.get("audit")
            log = None
            if pending is not None and keys is not None:
                log = AuditLog(_audit_path(pending["log"], records.register), keys)
            _finish(root, journal, log, records)
            certs = [Path(a["target"]).name for a in journal.get("artifacts", [])]
            return Recovery(
                Outcome.ROLLED_FORWARD, label, len(journal["moves"]), certs[0] if certs else None
            )
        finally:
            for record in (records.ledger, records.register):
                if record is not None:
                    record.close()


def _existing(recorded: str | None, given: Path | None, what: str, option: str) -> Path | None:
    """The record the journal names, where it is: never a new file in its stead."""
    if not recorded:
        return None
    path = Path(recorded)
    if path.is_file():
        return path
    if given is not None and given.is_file():
        return given
    raise MissingFileError(
        path,
        f"the interrupted change's {what}",
        "moved, or its volume is not mounted? Make it reachable there, or name it with"
        f" {option}; nothing was changed",
    )


def _open_records(
    journal: Mapping[str, Any],
    keys: Keys | None,
    register: Path | None = None,
    ledger: Path | None = None,
) -> Records:
    from dsar.records.ledger import Ledger
    from dsar.records.register import Register

    # `_check_mac` has refused a journal naming records when there is no key
    ledger_path = _existing(journal.get("ledger"), ledger, "ledger", "--ledger")
    register_path = _existing(journal.get("register"), register, "register", "--register")
    opened_ledger = Ledger(ledger_path, keys) if ledger_path and keys is not None else None
    opened_register = Register(register_path, keys) if register_path and keys is not None else None
    return Records(opened_ledger, opened_register)


def _audit_path(recorded: str, register: Register | None) -> Path:
    """The audit log the journal owes its entry to: where it names it (its first entry may
    be this one, but its folder is there), or beside the register named instead; never a
    log in a folder made again."""
    path = Path(recorded)
    if path.is_file() or path.parent.is_dir():
        return path
    if register is not None and register.audit.path.is_file():
        return register.audit.path
    raise MissingFileError(
        path,
        "the interrupted change's audit log",
        "moved, or its volume is not mounted? Make it reachable there, or name its register"
        " with --register; nothing more was done",
    )


def _repair_audit(register: Path | None, keys: Keys | None) -> bool:
    """Move the register's audit head on past an append a crash cut (needs the key)."""
    if register is None or keys is None:
        return False
    log = AuditLog(register.with_name(register.name + ".audit.jsonl"), keys)
    return log.repair() if log.path.exists() else False


def _stray(files: Sequence[Path]) -> list[Path]:
    """Staged files an earlier version's crash left beside the table files."""
    return [
        p
        for f in files
        for p in f.parent.glob(f".{f.name}.*{NEW_SUFFIX}")
        if p.is_file() and _plain_label(p.name[len(f.name) + 2 : -len(NEW_SUFFIX)])
    ]


def _plain_label(text: str) -> bool:
    try:
        plain_name(text)
    except WorkbenchError:
        return False
    return True


__all__ = [
    "JOURNAL",
    "Outcome",
    "PendingAudit",
    "Phase",
    "Records",
    "Recovery",
    "abandon",
    "begin",
    "commit",
    "recover",
    "rollback",
]
