"""The request register: every data-subject request, its legal deadline and where it stands.

An embedded SQLite file (no server to run). Every change is also written to the hash-chained
audit log beside it (`<register>.audit.jsonl`), naming the person only by a keyed reference.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsar.errors import (
    DiskFullError,
    RecordTamperedError,
    RequestNotFoundError,
    RequestStateError,
    UnusableFileError,
    UsageError,
    is_disk_full,
)
from dsar.io import private_file
from dsar.keys import Keys, require_keys
from dsar.records.audit import AuditLog, subject_ref
from dsar.records.deadlines import Deadlines, Jurisdiction, RequestType, compute_deadlines
from dsar.records.sealed import Seal
from dsar.records.signoffs import CertificateCheck, applied_change, check_ready_to_send
from dsar.subjects.identity import SubjectKey, parse_key

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    received TEXT NOT NULL,
    verification TEXT NOT NULL,
    status TEXT NOT NULL,
    denial_reason TEXT,
    extension_reason TEXT,
    extension_notified TEXT,
    identifiers TEXT NOT NULL,
    subject_ref TEXT NOT NULL,
    note TEXT,
    created_at TEXT NOT NULL,
    closed_on TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
"""


_COLUMNS = (
    "id",
    "type",
    "jurisdiction",
    "received",
    "verification",
    "status",
    "denial_reason",
    "extension_reason",
    "extension_notified",
    "identifiers",
    "subject_ref",
    "note",
    "created_at",
    "closed_on",
    "version",
)


class Verification(StrEnum):
    """Whether the requester's identity has been verified."""

    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"


class Status(StrEnum):
    """Where a request stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    REVIEWED = "reviewed"  # its artifact passed `dsar verify` and a reviewer signed it off
    APPROVED = "approved"  # ... and someone else approved the same bytes
    SENT = "sent"  # delivered, after a review and an approval the audit log holds


CLOSED = frozenset({Status.COMPLETED, Status.DENIED, Status.WITHDRAWN, Status.SENT})
# set only by a sign-off (`dsar verify --sign-off`, `dsar.review.sign_off`), never by hand
SIGN_OFF_STATES = frozenset({Status.REVIEWED, Status.APPROVED})

_WORKING = (Status.OPEN, Status.IN_PROGRESS)
_ENDED = (Status.COMPLETED, Status.DENIED, Status.WITHDRAWN)
TRANSITIONS: dict[Status, tuple[frozenset[Status], str]] = {
    # every move of a request's status, and the rule each state's moves follow; any other is
    # refused with the rule named (`Register.update`)
    Status.OPEN: (
        frozenset({*_WORKING, *_ENDED, *SIGN_OFF_STATES}),
        "an open request is worked on, answered, refused or withdrawn, or its artifact"
        " signed off (reviewed, then approved) before it is sent",
    ),
    Status.IN_PROGRESS: (
        frozenset({*_WORKING, *_ENDED, *SIGN_OFF_STATES}),
        "a request in progress is answered, refused or withdrawn, or its artifact signed off"
        " (reviewed, then approved) before it is sent",
    ),
    Status.REVIEWED: (
        frozenset({*_WORKING, *_ENDED, Status.REVIEWED, Status.APPROVED}),
        "a reviewed artifact is approved by someone else before it is sent",
    ),
    Status.APPROVED: (
        frozenset({*_WORKING, *_ENDED, Status.REVIEWED, Status.APPROVED, Status.SENT}),
        "only an approved artifact is sent",
    ),
    Status.COMPLETED: (
        frozenset({*_WORKING, *SIGN_OFF_STATES}),
        "a completed request is reopened, or the certificate it produced signed off to send",
    ),
    Status.DENIED: (
        frozenset(_WORKING),
        "a refused request is reopened (open or in_progress) before anything else",
    ),
    Status.WITHDRAWN: (
        frozenset(_WORKING),
        "a withdrawn request is reopened (open or in_progress) before anything else",
    ),
    Status.SENT: (
        frozenset(),
        "sent is final: the person's data has left, and the register keeps saying so",
    ),
}
"""The register's state machine: per status, where a request may go next and the rule."""


def check_transition(request_id: str, old: Status, new: Status) -> None:
    """Refuse a move `TRANSITIONS` does not allow, naming the rule.

    Raises:
        RequestStateError: the move is not allowed from `old`.
    """
    allowed, rule = TRANSITIONS[old]
    if new in allowed or (new is old and old not in CLOSED):
        return
    onward = ", ".join(s.value for s in Status if s in allowed) or "nowhere"
    raise RequestStateError(
        request_id,
        old.value,
        f"cannot go from {old.value} to {new.value} (register rule: {rule})",
        f"from {old.value} a request goes to: {onward}",
    )


class DenialReason(StrEnum):
    """Why a request is refused (GDPR Art. 12(4)-(6); CCPA §7022, §7024)."""

    NO_MATCH = "no_match"
    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    MANIFESTLY_UNFOUNDED_OR_EXCESSIVE = "manifestly_unfounded_or_excessive"
    OUTSIDE_JURISDICTION = "outside_jurisdiction"


@dataclass(frozen=True)
class RequestRecord:
    """One request as the register holds it."""

    id: str
    type: RequestType
    jurisdiction: Jurisdiction
    received: date
    verification: Verification
    status: Status
    identifiers: tuple[SubjectKey, ...]
    subject_ref: str
    denial_reason: DenialReason | None = None
    extension_reason: str | None = None
    extension_notified: date | None = None
    note: str | None = None
    closed_on: date | None = None

    @property
    def deadlines(self) -> Deadlines:
        """The legal deadlines, extension included."""
        return compute_deadlines(
            self.jurisdiction, self.type, self.received, self.extension_notified
        )

    @property
    def is_open(self) -> bool:
        """Not completed, denied or withdrawn."""
        return self.status not in CLOSED

    def days_left(self, today: date) -> int:
        """Days until the deadline (negative when overdue)."""
        return (self.deadlines.due - today).days

    def overdue(self, today: date) -> bool:
        """Open past its deadline."""
        return self.is_open and self.days_left(today) < 0


def _row_to_record(row: sqlite3.Row) -> RequestRecord:
    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return RequestRecord(
        id=row["id"],
        type=RequestType(row["type"]),
        jurisdiction=Jurisdiction(row["jurisdiction"]),
        received=date.fromisoformat(row["received"]),
        verification=Verification(row["verification"]),
        status=Status(row["status"]),
        identifiers=tuple(parse_key(k) for k in json.loads(row["identifiers"])),
        subject_ref=row["subject_ref"],
        denial_reason=DenialReason(row["denial_reason"]) if row["denial_reason"] else None,
        extension_reason=row["extension_reason"],
        extension_notified=day(row["extension_notified"]),
        note=row["note"],
        closed_on=day(row["closed_on"]),
    )


class Register:
    """The request register in a SQLite file, with its audit log beside it.

    Examples:
        >>> reg = Register("requests.db", keys=load_keys())  # doctest: +SKIP
        >>> rec = reg.add(RequestType.ERASURE, Jurisdiction.GDPR, date(2026, 1, 31),
        ...               [parse_key("email=ann@example.com")])  # doctest: +SKIP
        >>> rec.deadlines.due  # doctest: +SKIP
        datetime.date(2026, 2, 28)
    """

    def __init__(self, path: str | Path, keys: Keys) -> None:
        require_keys(keys, "Register")
        self.path = Path(path)
        if self.path.is_dir():
            raise UnusableFileError(
                self.path, "a folder, not a register", "give the register's file"
            )
        private_file(self.path)  # requesters' identifiers: owner-only
        self.keys = keys
        self.db = sqlite3.connect(self.path, isolation_level=None)  # transactions explicit
        self.db.row_factory = sqlite3.Row
        log = self.path.with_name(self.path.name + ".audit.jsonl")
        try:
            self.db.executescript(SCHEMA)
            _add_versions(self.db, AuditLog(log, keys))
            self.seal = Seal(self.db, keys, {"requests": _COLUMNS}, self.path)
            self.seal.check()
        except BaseException as exc:
            self.db.close()
            if is_disk_full(exc):
                raise DiskFullError(self.path) from exc
            raise
        self.audit = AuditLog(log, keys)
        self.reconcile()

    def reconcile(self) -> int:
        """Write the audit entry a crash cut after the register committed a change; returns
        how many were written (0 or 1 per request).

        Each request's row counts its changes (`version`: 1 when added, one more per
        update), and the audit log holds one entry per change. A row exactly one change
        ahead of its entries is a change whose entry was cut: its entry is written now. A
        row behind its entries (an earlier copy of the register put back), or with another
        status at the same count, was not made by this workbench: refused.

        Raises:
            RecordTamperedError: the register and its audit log disagree otherwise.
        """
        entries = _replay(self.audit)
        problems = _disagreements(self.db, entries, repairable=True)
        if problems:
            raise RecordTamperedError(self.path, problems)
        written = 0
        for request, status, version in self.db.execute(
            "SELECT id, status, version FROM requests ORDER BY id"
        ).fetchall():
            replayed = entries.get(request)
            if replayed is not None and replayed[1] == version:
                continue
            record = self.get(request)
            action = "request.added" if replayed is None else "request.updated"
            details = {"type": record.type.value} if replayed is None else {"status": status}
            self.audit.append(
                action,
                request=request,
                subject=record.subject_ref,
                details={**details, "repaired": True},
            )
            written += 1
        return written

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def add(
        self,
        kind: RequestType,
        jurisdiction: Jurisdiction,
        received: date,
        identifiers: Sequence[SubjectKey],
        verification: Verification = Verification.PENDING,
        note: str | None = None,
    ) -> RequestRecord:
        """Register a new request; its id is R-<year>-<number>."""
        if not identifiers:
            raise UsageError(
                "identifiers",
                "a request needs at least one identifier of the person",
                "give the person's --email or an --id TYPE=VALUE",
            )
        if received > datetime.now(UTC).date() + timedelta(days=1):
            raise UsageError(
                "received",
                f"received date {received} is in the future",
                "give the day the request came in",
            )
        # the write lock is taken before counting, so two writers cannot pick the same id
        with self.seal.transaction():
            count = self.db.execute(
                "SELECT count(*) FROM requests WHERE id LIKE ?", (f"R-{received.year}-%",)
            ).fetchone()[0]
            record = RequestRecord(
                id=f"R-{received.year}-{count + 1:04d}",
                type=kind,
                jurisdiction=jurisdiction,
                received=received,
                verification=verification,
                status=Status.OPEN,
                identifiers=tuple(identifiers),
                subject_ref=subject_ref(self.keys, identifiers[0]),
                note=note,
            )
            self.db.execute(
                "INSERT INTO requests (id, type, jurisdiction, received, verification, status,"
                " identifiers, subject_ref, note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    record.id,
                    kind.value,
                    jurisdiction.value,
                    received.isoformat(),
                    verification.value,
                    Status.OPEN.value,
                    json.dumps([str(k) for k in identifiers]),
                    record.subject_ref,
                    note,
                    datetime.now(UTC).isoformat(),
                ),
            )
        self.audit.append(
            "request.added",
            request=record.id,
            subject=record.subject_ref,
            details={
                "type": kind.value,
                "jurisdiction": jurisdiction.value,
                "received": received.isoformat(),
                "due": record.deadlines.due.isoformat(),
            },
        )
        return record

    def get(self, request_id: str) -> RequestRecord:
        """The request with this id."""
        return _get(self.db, self.path, request_id)

    def list(
        self,
        *,
        include_closed: bool = False,
        due_within: int | None = None,
        today: date | None = None,
    ) -> list[RequestRecord]:
        """Requests by deadline, open ones only unless asked; `due_within` days from today."""
        today = today or datetime.now(UTC).date()
        rows = self.db.execute("SELECT * FROM requests ORDER BY received, id").fetchall()
        records = [_row_to_record(r) for r in rows]
        if not include_closed:
            records = [r for r in records if r.is_open]
        if due_within is not None:
            records = [r for r in records if r.is_open and r.days_left(today) <= due_within]
        return sorted(records, key=lambda r: (r.deadlines.due, r.id))

    def update(
        self,
        request_id: str,
        *,
        status: Status | None = None,
        verification: Verification | None = None,
        deny: DenialReason | None = None,
        extend: tuple[str, date] | None = None,
        note: str | None = None,
        today: date | None = None,
        signed_off: bool = False,
        certificate_check: CertificateCheck | None = None,
    ) -> RequestRecord:
        """Change a request; every change is checked, stored and audited.

        Args:
            status: `sent` only when the audit log holds a review and an approval (by
                someone else) of the artifact, whose bytes on disk are still the ones
                approved (`dsar.records.signoffs.check_ready_to_send`).
            deny: refuse the request for this reason (sets status denied).
            extend: (reason, day the person was told): extends the deadline once, when told
                within the first period.
            signed_off: set by a sign-off, the only way to move a request to `reviewed` or
                `approved`.
            certificate_check: runs a certificate's checks again before an erasure or a
                correction is marked sent (`dsar.review.certificate_check`); without it such
                a request is not sent.
        """
        today = today or datetime.now(UTC).date()
        old = self.get(request_id)
        new = old
        if status in SIGN_OFF_STATES and not signed_off:
            raise UsageError(
                "status",
                f"a request becomes {status.value} through a sign-off, not by hand",
                f"run `dsar verify ARTIFACT --sign-off NAME --role reviewer|approver --request"
                f" {request_id}`",
            )
        target = Status.DENIED if deny is not None else status
        if target is Status.SENT and old.is_open:  # its own checks first: they say what to do
            self._check_sendable(old, verification, certificate_check)
        if target is not None:
            check_transition(request_id, old.status, target)
            if target is Status.COMPLETED and old.status is not Status.COMPLETED:
                self._check_completable(old)
        elif not old.is_open:
            _, rule = TRANSITIONS[old.status]
            raise RequestStateError(
                request_id,
                old.status.value,
                f"is {old.status.value} (register rule: {rule})",
                "reopen it first with --status open"
                if TRANSITIONS[old.status][0]
                else "nothing of a sent request changes; register a new request if needed",
            )
        if verification is not None:
            new = replace(new, verification=verification)
        if deny is not None:
            new = replace(new, status=Status.DENIED, denial_reason=deny)
        elif status is Status.DENIED:
            raise UsageError("status", "denying a request needs a reason", "use --deny REASON")
        elif status is not None:
            new = replace(new, status=status, denial_reason=None)
        if extend is not None:
            if old.extension_notified is not None:
                raise RequestStateError(
                    request_id,
                    old.status.value,
                    "was extended already",
                    "the law allows one extension: answer by the extended deadline",
                )
            reason, notified = extend
            if not reason.strip():
                raise UsageError(
                    "extend",
                    "an extension needs its reason",
                    "give the reason as told to the person",
                )
            new = replace(new, extension_reason=reason, extension_notified=notified)
            new.deadlines  # noqa: B018 - raises DeadlineError when notified too late
        if note is not None:
            new = replace(new, note=note)
        new = replace(new, closed_on=(old.closed_on or today) if not new.is_open else None)
        changed = {
            f: str(getattr(new, f))
            for f in ("status", "verification", "denial_reason", "extension_notified", "closed_on")
            if getattr(new, f) != getattr(old, f)
        }
        if extend is not None:
            changed["due"] = new.deadlines.due.isoformat()
        with self.seal.transaction():
            self.db.execute(
                "UPDATE requests SET status=?, verification=?, denial_reason=?,"
                " extension_reason=?, extension_notified=?, note=?, closed_on=?, mac=NULL,"
                " version = version + 1 WHERE id=?",
                (
                    new.status.value,
                    new.verification.value,
                    new.denial_reason.value if new.denial_reason else None,
                    new.extension_reason,
                    new.extension_notified.isoformat() if new.extension_notified else None,
                    new.note,
                    new.closed_on.isoformat() if new.closed_on else None,
                    request_id,
                ),
            )
        self.audit.append(
            "request.updated", request=request_id, subject=new.subject_ref, details=changed
        )
        return new

    def _check_sendable(
        self,
        old: RequestRecord,
        verification: Verification | None,
        certificate_check: CertificateCheck | None = None,
    ) -> None:
        """`sent` needs a verified requester and a review and approval the log holds of the
        bytes that leave (`check_ready_to_send`)."""
        identity = verification or old.verification
        if identity is not Verification.VERIFIED:
            raise RequestStateError(
                old.id,
                old.status.value,
                f"cannot be marked sent: the requester's identity is {identity.value}, not"
                " verified (register rule: data leaves only for a verified requester)",
                f"verify who asked, then `dsar requests update {old.id} --verification verified`",
            )
        check_ready_to_send(self.audit, old.id, old.status.value, old.type.value, certificate_check)

    def _check_completable(self, old: RequestRecord) -> None:
        """`completed` by hand: an erasure or a correction only once its change is applied
        (the log's `<job>.applied` for the request: `erase apply` / `correct apply` complete
        it themselves); an access request whose bundle is signed off goes on to `sent`."""
        job = old.type.value
        if old.type in (RequestType.ERASURE, RequestType.CORRECTION) and not applied_change(
            self.audit, old.id, job
        ):
            raise RequestStateError(
                old.id,
                old.status.value,
                f"cannot be completed: no {job} is recorded as applied for it (register rule:"
                f" an {job} request is completed by the change it asks for)",
                f"apply it (`dsar {'erase' if job == 'erasure' else 'correct'} apply --request"
                f" {old.id} --register ...`), which completes it, or deny it with a reason",
            )
        if old.type in (RequestType.ACCESS, RequestType.PORTABILITY) and (
            old.status in SIGN_OFF_STATES
        ):
            raise RequestStateError(
                old.id,
                old.status.value,
                f"cannot be completed by hand: its bundle is {old.status.value} (register rule:"
                " a signed-off bundle is answered by sending it)",
                f"send it (`dsar requests update {old.id} --status sent`), or reopen the"
                " request (--status in_progress), which voids its sign-offs",
            )

    def frame(self, today: date | None = None, include_closed: bool = True) -> pd.DataFrame:
        """The register as a dataframe: one row per request, deadlines and days left."""
        import pandas as pd

        today = today or datetime.now(UTC).date()
        rows: list[dict[str, Any]] = []
        for r in self.list(include_closed=include_closed, today=today):
            d = r.deadlines
            rows.append(
                {
                    "id": r.id,
                    "type": r.type.value,
                    "jurisdiction": r.jurisdiction.value,
                    "received": r.received,
                    "acknowledge_by": d.acknowledge_by,
                    "due": d.due,
                    "extended": d.extended_to is not None,
                    "status": r.status.value,
                    "verification": r.verification.value,
                    "days_left": r.days_left(today) if r.is_open else None,
                    "overdue": r.overdue(today),
                }
            )
        return pd.DataFrame(rows)

    def chart(self, today: date | None = None) -> Figure:
        """Open requests by deadline: a bar per request, red when overdue."""
        import matplotlib.pyplot as plt

        today = today or datetime.now(UTC).date()
        open_ = self.list(today=today)
        fig, ax = plt.subplots(figsize=(8, max(2.0, 0.35 * len(open_) + 1)))
        days = [r.days_left(today) for r in open_]
        colors = ["#c44e52" if d < 0 else "#dd8452" if d <= 7 else "#4c72b0" for d in days]
        ax.barh([f"{r.id} {r.type.value}" for r in open_], days, color=colors)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_xlabel(f"days left until the deadline (as of {today}); red: overdue")
        ax.set_title(f"{len(open_)} open request(s)")
        fig.tight_layout()
        return fig


def _get(db: sqlite3.Connection, path: Path, request_id: str) -> RequestRecord:
    row = db.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
    if row is None:
        raise RequestNotFoundError(
            request_id,
            f"no request {request_id!r} in {path}; `dsar requests list --all` shows the ids",
        )
    return _row_to_record(row)


def read_request(path: str | Path, request_id: str) -> RequestRecord:
    """One request, read without the key and without changing the register (for planning).

    Raises:
        RequestNotFoundError: no register at `path`, or no request with that id in it.
    """
    path = Path(path)
    if not path.is_file():
        raise RequestNotFoundError(request_id, f"no register at {path}; give --register")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return _get(db, path, request_id)
    finally:
        db.close()


def _replay(audit: AuditLog) -> dict[str, tuple[str, int]]:
    """Each request's status as its audit entries lead to it, and how many entries (changes)
    it has."""
    replayed: dict[str, tuple[str, int]] = {}
    for entry in audit.entries():
        if entry.request is None or entry.action not in ("request.added", "request.updated"):
            continue
        status, count = replayed.get(entry.request, (Status.OPEN.value, 0))
        if entry.action == "request.updated" and "status" in entry.details:
            status = str(entry.details["status"])
        replayed[entry.request] = (status, count + 1)
    return replayed


def _disagreements(
    db: sqlite3.Connection, replayed: dict[str, tuple[str, int]], *, repairable: bool
) -> list[str]:
    """Where the register and the audit log's replay disagree; with `repairable`, a row one
    change ahead of its entries (a crash cut the last entry) is not counted."""
    problems = []
    rows = db.execute("SELECT id, status, version FROM requests ORDER BY id").fetchall()
    for request, status, version in rows:
        replay_status, count = replayed.get(request, (None, 0))
        if repairable and version == count + 1:
            continue  # its last change's entry was cut: `reconcile` writes it
        if replay_status is None:
            problems.append(f"request {request}: in the register, never added in the audit log")
        elif version < count:
            problems.append(
                f"request {request}: the register holds {version} of its {count} recorded"
                " changes: an earlier copy of the register was put back"
            )
        elif version > count:
            problems.append(
                f"request {request}: the register holds {version} changes, the audit log"
                f" {count}: entries are missing from the log"
            )
        elif replay_status != status:
            problems.append(
                f"request {request}: the register says {status}, the audit log"
                f" {replay_status}: changed outside the workbench"
            )
    known = {r[0] for r in rows}
    problems += [
        f"request {request}: in the audit log, missing from the register (deleted)"
        for request in sorted(set(replayed) - known)
    ]
    return problems


def _add_versions(db: sqlite3.Connection, audit: AuditLog) -> None:
    """A register from before changes were counted: each request's count taken from its
    audit entries, once."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(requests)")}
    if "version" in columns:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE requests ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
        for request, (_, count) in _replay(audit).items():
            db.execute("UPDATE requests SET version = ? WHERE id = ?", (max(count, 1), request))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def verify_register(path: str | Path, keys: Keys) -> list[str]:
    """Check the register against its keys and its audit log; empty: intact.

    Every row must carry its MAC and the table its seal (`dsar.records.sealed`), and each
    request's count of changes and status must be the ones its audit entries lead to: a
    request added, deleted or reopened by hand, or an earlier copy of the register put back,
    is found even where every row verifies. Its breaches too (`verify_breaches`).
    """
    from dsar.records.sealed import verify_record

    path = Path(path)
    problems = verify_record(path, keys, {"requests": _COLUMNS})
    if problems and problems[0].startswith("no record"):
        return problems
    replayed = _replay(AuditLog(path.with_name(path.name + ".audit.jsonl"), keys))
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        columns = {r[1] for r in db.execute("PRAGMA table_info(requests)")}
        if "version" in columns:  # a crash's cut entry is reported too: `recover` writes it
            problems += _disagreements(db, replayed, repairable=False)
        breaches_only = (
            not columns
            and db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='breaches'"
            ).fetchone()
        )
        if breaches_only and not replayed:  # `breach scope --register` alone: no request yet
            problems = [p for p in problems if p != "table requests: missing"]
    finally:
        db.close()
    from dsar.records.breaches import verify_breaches  # the breaches in the same file

    return problems + verify_breaches(path, keys)
