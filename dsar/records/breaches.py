"""The register's breaches: every scoped breach with its notification deadlines.

A `breaches` table in the request register's own SQLite file, keyed and sealed as its
requests are (`dsar.records.sealed`: a row edited, added or deleted by hand is found), each
write also in the register's audit log (`breach.registered`, `breach.notified`). It holds no
personal value: the breach's id, when it was discovered, counts, the ENISA band, and each
duty to notify (who, where, by when) as `scope.json` states it.

A deadline is overdue when its due instant has passed and nobody has recorded the notice
(`Breaches.notified`); `dsar requests list` shows overdue breach notifications beside overdue
requests. Deadlines that apply only if the risk to people is high (Art. 34) count only where
notifying the people is recommended (the severity assessment) or was confirmed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dsar.errors import DiskFullError, RecordTamperedError, UsageError, is_disk_full
from dsar.io import private_file
from dsar.keys import Keys, require_keys
from dsar.records.audit import AuditLog
from dsar.records.sealed import Seal

BREACH_SCHEMA = """
CREATE TABLE IF NOT EXISTS breaches (
    id TEXT PRIMARY KEY,
    discovered TEXT NOT NULL,
    people INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    severity TEXT NOT NULL,
    notify_people INTEGER NOT NULL,
    deadlines TEXT NOT NULL,
    notified TEXT NOT NULL,
    folder TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

_COLUMNS = (
    "id",
    "discovered",
    "people",
    "rows",
    "severity",
    "notify_people",
    "deadlines",
    "notified",
    "folder",
    "created_at",
)
_COUNTS = frozenset({"yes", "possibly"})  # applies: a duty whatever the risk


@dataclass(frozen=True)
class BreachDeadline:
    """One duty to notify: whom (`notify`), where, by when (`due`, UTC; None: no fixed
    time, "without undue delay"), and whether it applies (`applies`, as scope.json says)."""

    rule: str
    notify: str
    where: str
    applies: str
    due: datetime | None
    period: str

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> BreachDeadline:
        """A deadline from scope.json's `deadlines` (or the register's copy)."""
        due = data.get("due")
        return cls(
            rule=str(data.get("rule", "")),
            notify=str(data.get("notify", "")),
            where=str(data.get("where", "")),
            applies=str(data.get("applies", "")),
            due=datetime.fromisoformat(str(due)).astimezone(UTC) if due else None,
            period=str(data.get("period", "")),
        )

    def as_json(self) -> dict[str, object]:
        """The register's copy of the deadline."""
        return {
            "rule": self.rule,
            "notify": self.notify,
            "where": self.where,
            "applies": self.applies,
            "due": self.due.isoformat() if self.due else None,
            "period": self.period,
        }


@dataclass(frozen=True)
class BreachRecord:
    """A breach in the register: its counts and deadlines, and the notices recorded."""

    id: str
    discovered: datetime
    people: int
    rows: int
    severity: str
    notify_people: bool
    deadlines: tuple[BreachDeadline, ...]
    notified: Mapping[str, str]  # rule -> when the notice was recorded (ISO time)
    folder: str
    created_at: datetime

    def duties(self) -> list[BreachDeadline]:
        """The deadlines that bind: those that apply, and the people's notice (Art. 34)
        where notifying them is recommended or confirmed; earliest first."""
        binding = [
            d
            for d in self.deadlines
            if d.applies in _COUNTS or (d.applies == "if_high_risk" and self.notify_people)
        ]
        return sorted(binding, key=lambda d: (d.due is None, d.due or self.discovered, d.rule))

    def pending(self) -> list[BreachDeadline]:
        """Binding deadlines whose notice is not recorded yet."""
        return [d for d in self.duties() if d.rule not in self.notified]

    def next_due(self) -> BreachDeadline | None:
        """The earliest pending deadline with a due time."""
        return next((d for d in self.pending() if d.due is not None), None)

    def overdue(self, now: datetime) -> list[BreachDeadline]:
        """Pending deadlines whose due time has passed at `now`."""
        return [d for d in self.pending() if d.due is not None and d.due < now]

    @property
    def is_open(self) -> bool:
        """A notice is still to be recorded."""
        return bool(self.pending())


def _row_to_record(row: sqlite3.Row) -> BreachRecord:
    return BreachRecord(
        id=row["id"],
        discovered=datetime.fromisoformat(row["discovered"]),
        people=int(row["people"]),
        rows=int(row["rows"]),
        severity=row["severity"],
        notify_people=bool(row["notify_people"]),
        deadlines=tuple(BreachDeadline.from_json(d) for d in json.loads(row["deadlines"])),
        notified=dict(json.loads(row["notified"])),
        folder=row["folder"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class Breaches:
    """The breaches of the register at `path` (the same file as its requests), with the
    register's audit log beside it.

    Examples:
        >>> book = Breaches("requests.db", keys=load_keys())  # doctest: +SKIP
        >>> register_scope(book, result.manifest, result.folder)  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, keys: Keys) -> None:
        require_keys(keys, "Breaches")
        self.path = Path(path)
        if self.path.is_dir():
            raise UsageError(
                "--register", f"{self.path.name} is a folder, not a register", "give its file"
            )
        private_file(self.path)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        try:
            self.db.executescript(BREACH_SCHEMA)  # an older register gains the table
            self.seal = Seal(self.db, keys, {"breaches": _COLUMNS}, self.path)
            self.seal.check()
        except BaseException as exc:
            self.db.close()
            if is_disk_full(exc):
                raise DiskFullError(self.path) from exc
            raise
        self.audit = AuditLog(self.path.with_name(self.path.name + ".audit.jsonl"), keys)
        self._reconcile()

    def _reconcile(self) -> None:
        """Every breach the audit log registered is in the table (an earlier copy of the
        register put back forgets the breaches since, and every seal of that copy verifies:
        refused); a row whose entry a crash cut is logged now.

        Raises:
            RecordTamperedError: the audit log registered a breach the table does not hold.
        """
        logged = {
            e.request
            for e in self.audit.entries()
            if e.action == "breach.registered" and e.request is not None
        }
        held = {r[0] for r in self.db.execute("SELECT id FROM breaches")}
        if missing := sorted(logged - held):
            raise RecordTamperedError(
                self.path,
                [
                    f"breaches: {len(missing)} breach(es) the audit log registered are not in"
                    f" the register ({', '.join(missing)}): an earlier copy put back, or rows"
                    " removed; restore the register from a backup"
                ],
            )
        for breach_id in sorted(held - logged):
            self.audit.append("breach.registered", request=breach_id, details={"repaired": True})

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Breaches:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self,
        breach_id: str,
        *,
        discovered: datetime,
        people: int,
        rows: int,
        severity: str,
        notify_people: bool,
        deadlines: Sequence[Mapping[str, object]],
        folder: str | Path,
    ) -> BreachRecord:
        """Register a scoped breach with its deadlines (scope.json's `deadlines`).

        Raises:
            UsageError: the breach is registered already (its id).
        """
        if self.db.execute("SELECT 1 FROM breaches WHERE id = ?", (breach_id,)).fetchone():
            raise UsageError(
                "--breach-id",
                f"breach {breach_id} is in the register already",
                "scope it again under a new --breach-id, or look at `dsar requests list`",
            )
        parsed = [BreachDeadline.from_json(d).as_json() for d in deadlines]
        now = datetime.now(UTC)
        with self.seal.transaction() as db:
            db.execute(
                f"INSERT INTO breaches ({', '.join(_COLUMNS)}) VALUES"
                f" ({', '.join('?' for _ in _COLUMNS)})",
                (
                    breach_id,
                    discovered.astimezone(UTC).isoformat(),
                    people,
                    rows,
                    severity,
                    int(notify_people),
                    json.dumps(parsed),
                    "{}",
                    str(folder),
                    now.isoformat(),
                ),
            )
        record = self.get(breach_id)
        self.audit.append(
            "breach.registered",
            request=breach_id,
            details={
                "people": people,
                "severity": severity,
                "deadlines": {
                    d.rule: d.due.isoformat() if d.due else d.period for d in record.duties()
                },
            },
        )
        return record

    def get(self, breach_id: str) -> BreachRecord:
        """One breach.

        Raises:
            UsageError: no breach of that id.
        """
        row = self.db.execute("SELECT * FROM breaches WHERE id = ?", (breach_id,)).fetchone()
        if row is None:
            raise UsageError("breach", f"no breach {breach_id} in the register", "check the id")
        return _row_to_record(row)

    def list(self, *, include_closed: bool = False) -> list[BreachRecord]:
        """Breaches by their next deadline (open ones; with `include_closed`, all)."""
        records = [_row_to_record(r) for r in self.db.execute("SELECT * FROM breaches ORDER BY id")]
        if not include_closed:
            records = [r for r in records if r.is_open]
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(records, key=lambda r: ((n.due or far) if (n := r.next_due()) else far, r.id))

    def notified(self, breach_id: str, rule: str, when: datetime | None = None) -> BreachRecord:
        """Record that the notice of `rule` was given (at `when`, default now).

        Raises:
            UsageError: no such breach, or the rule is none of its deadlines.
        """
        record = self.get(breach_id)
        if rule not in {d.rule for d in record.deadlines}:
            rules = ", ".join(sorted({d.rule for d in record.deadlines}))
            raise UsageError(
                "--rule", f"{rule!r} is no deadline of {breach_id}", f"one of: {rules}"
            )
        done = {**record.notified, rule: (when or datetime.now(UTC)).astimezone(UTC).isoformat()}
        with self.seal.transaction() as db:
            db.execute(
                "UPDATE breaches SET notified = ?, mac = NULL WHERE id = ?",
                (json.dumps(done, sort_keys=True), breach_id),
            )
        self.audit.append("breach.notified", request=breach_id, details={"rule": rule})
        return self.get(breach_id)


def breach_line(record: BreachRecord, now: datetime) -> str:
    """One line for `dsar requests list`: the breach, its next deadline, OVERDUE when one
    has passed (no personal value)."""
    late = record.overdue(now)
    nxt = record.next_due()
    if late:
        flag = "OVERDUE: " + ", ".join(
            f"{d.notify} ({d.where}) due {d.due:%Y-%m-%d %H:%M} UTC" for d in late
        )
    elif nxt is not None and nxt.due is not None:
        hours = (nxt.due - now).total_seconds() / 3600
        left = f"{hours:.0f}h left" if hours < 72 else f"{hours / 24:.0f}d left"
        flag = f"next: {nxt.notify} ({nxt.where}) due {nxt.due:%Y-%m-%d %H:%M} UTC, {left}"
    else:
        flag = "no deadline pending" if not record.is_open else "without undue delay"
    return (
        f"{record.id}  breach      discovered {record.discovered:%Y-%m-%d %H:%M} UTC"
        f"  {record.people} people  {record.severity}  {flag}"
    )
