"""The register's breaches: every scoped breach with its notification deadlines.

A `breaches` table in the request register's own SQLite file, keyed and sealed as its
requests are (`dsar.records.sealed`: a row edited, added or deleted by hand is found), each
write also in the register's audit log (`breach.registered`, `breach.notified`). It holds no
personal value: the breach's id, when it was discovered, counts, the ENISA band, and each
duty to notify (who, where, by when) as `scope.json` states it.

A deadline is overdue when its due instant has passed and nobody has recorded the notice
(`Breaches.notified`); `dsar requests list` shows overdue breach notifications beside overdue
requests. Deadlines that apply only if the risk to people is high (Art. 34) count only where
notifying the people is recommended (the severity assessment) or was confirmed. A deadline
that hangs on another notice (an attorney general told no later than the residents, or 10
days after them) is due by that notice's recorded time once it is recorded, if earlier.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path

from dsar.errors import DiskFullError, RecordTamperedError, UsageError, is_disk_full
from dsar.io import private_file
from dsar.keys import Keys, require_keys
from dsar.records.audit import AuditEntry, AuditLog
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
REGISTER_DUTY = "the internal breach register"  # Art. 33(5): met by the register's row
SKEW = timedelta(minutes=5)  # a notice's time may lie this far past now (clock skew)


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
    after: tuple[str, int] | None = None  # (rule, days): due then after that notice, if earlier

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> BreachDeadline:
        """A deadline from scope.json's `deadlines` (or the register's copy)."""
        due = data.get("due")
        after = data.get("after")
        follows = (
            (str(after["rule"]), int(str(after.get("days", 0))))
            if isinstance(after, Mapping) and after.get("rule")
            else None
            if "after" in data
            else _follows(str(data.get("rule", "")))
        )
        return cls(
            rule=str(data.get("rule", "")),
            notify=str(data.get("notify", "")),
            where=str(data.get("where", "")),
            applies=str(data.get("applies", "")),
            due=datetime.fromisoformat(str(due)).astimezone(UTC) if due else None,
            period=str(data.get("period", "")),
            after=follows,
        )

    @property
    def is_people_notice(self) -> bool:
        """The people's notice under Art. 34 (GDPR, UK GDPR): owed only where the risk to
        them is high, the one `dsar breach confirm --notify/--no-notify` decides on."""
        return self.applies == "if_high_risk"

    @property
    def is_notice(self) -> bool:
        """A notice someone gives (an authority, the people, residents): not the register's
        own entry (Art. 33(5), met by registering) nor a place the tool holds no rule for."""
        return self.applies != "not_covered" and self.notify != REGISTER_DUTY

    def as_json(self) -> dict[str, object]:
        """The register's copy of the deadline."""
        return {
            "rule": self.rule,
            "notify": self.notify,
            "where": self.where,
            "applies": self.applies,
            "due": self.due.isoformat() if self.due else None,
            "period": self.period,
            **({"after": {"rule": self.after[0], "days": self.after[1]}} if self.after else {}),
        }

    def moved(self, notified: Mapping[str, str]) -> BreachDeadline:
        """The deadline with its due moved by a recorded notice it hangs on (`after`: an
        attorney general told no later than the residents, or 10 days after them): the
        notice's time plus its days, where that is earlier than the due as scoped."""
        if self.after is None or self.after[0] not in notified:
            return self
        told = datetime.fromisoformat(notified[self.after[0]]).astimezone(UTC)
        due = told + timedelta(days=self.after[1])
        return replace(self, due=due) if self.due is None or due < self.due else self


@contextmanager
def decision_lock(audit_log: Path) -> Iterator[None]:
    """Held while a breach's decision (`dsar breach confirm`) or a notice (`dsar breach
    notified`) is checked against the other and recorded: "not told" and "told" are never
    both recorded by two processes at once. A file beside the audit log, owner-only."""
    import fcntl

    lock = audit_log.with_name(audit_log.name + ".breach-lock")
    private_file(lock)
    with lock.open("r+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def _follows(rule: str) -> tuple[str, int] | None:
    """The notice a rule's deadline hangs on, from the rule table as it stands: for a
    deadline registered before scope.json said so (session 14), so that an attorney
    general's due still moves with the residents' notice. A rule the table no longer
    holds hangs on nothing."""
    return _rule_dependencies().get(rule)


@cache
def _rule_dependencies() -> dict[str, tuple[str, int]]:
    """`after_rule` and `after_days` of each row of the breach deadline table
    (`dsar/breach/deadlines.json`), read as data: the register does not import the breach
    code that scopes (the areas' one-way flow)."""
    table = resources.files("dsar").joinpath("breach", "deadlines.json").read_text("utf-8")
    return {
        str(row["id"]): (str(row["after_rule"]), int(row.get("after_days", 0)))
        for row in json.loads(table)["rules"]
        if row.get("after_rule")
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
        """The notices that bind: those that apply, and the people's notice (Art. 34)
        where notifying them is recommended or confirmed; earliest first. The internal
        register's duty (Art. 33(5)) is met by the breach's row here: no notice to give.
        A deadline its law lifts for encrypted data whose key was not taken
        (`if_key_compromised`, scoped `--encrypted`) binds nothing. A deadline that hangs
        on another notice is due by it once that is recorded (`BreachDeadline.moved`)."""
        binding = [
            d.moved(self.notified)
            for d in self.deadlines
            if d.is_notice
            and (d.applies in _COUNTS or (d.applies == "if_high_risk" and self.notify_people))
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
        scope_mac: str | None = None,
    ) -> BreachRecord:
        """Register a scoped breach with its deadlines (scope.json's `deadlines`); its
        `breach.registered` entry keeps `scope_mac`, the keyed MAC of the scope.json it was
        registered from (`confirm` takes a decision on that scope only).

        Raises:
            UsageError: the breach is registered already (its id).
        """
        self.check_new(breach_id)
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
                **({"scope_mac": scope_mac} if scope_mac else {}),
            },
        )
        return record

    def holds(self, breach_id: str) -> bool:
        """Whether the register holds the breach."""
        found = self.db.execute("SELECT 1 FROM breaches WHERE id = ?", (breach_id,)).fetchone()
        return found is not None

    def check_new(self, breach_id: str) -> None:
        """Refuse an id the register holds already (before a scope writes anything).

        Raises:
            UsageError: the breach is registered already.
        """
        if self.holds(breach_id):
            raise UsageError(
                "--id",
                f"breach {breach_id} is in the register already",
                "scope it again under a new --id, or look at `dsar requests list`",
            )

    def scope_mac(self, breach_id: str) -> str | None:
        """The MAC of the scope.json the breach was registered from (its `breach.registered`
        entry; None for a breach registered before it was kept)."""
        for entry in self.audit.entries():
            if entry.action == "breach.registered" and entry.request == breach_id:
                mac = entry.details.get("scope_mac")
                if isinstance(mac, str):
                    return mac
        return None

    def check_not_declined(self, breach_id: str) -> None:
        """Refuse to record the people's notice (Art. 34) of a breach whose decision in the
        audit log (`breach.confirmed`) was not to tell them: both cannot stand.

        Raises:
            UsageError: the decision recorded was `--no-notify`.
        """
        for entry in self.audit.entries():
            if (
                entry.action == "breach.confirmed"
                and entry.request == breach_id
                and entry.details.get("notify_people") is False
            ):
                raise UsageError(
                    "--rule",
                    f"{breach_id}'s decision (audit entry {entry.seq}, {entry.at}) is that the"
                    " people are not told (confirm --no-notify): their notice contradicts it",
                    "a change of mind goes into the breach register as a new entry; record"
                    " the notice only for a breach whose decision is to tell the people",
                )

    def _check_not_logged(self, breach_id: str, rule: str) -> None:
        """Refuse a notice the audit log recorded already, whether or not the register's row
        holds it (an earlier copy of the register put back forgets it; the log does not).

        Raises:
            UsageError: the audit log holds a `breach.notified` of the rule.
        """
        entry = _logged_notices(self.audit).get(breach_id, {}).get(rule)
        if entry is None:
            return
        row = self.db.execute("SELECT notified FROM breaches WHERE id = ?", (breach_id,))
        stale = (
            ""
            if rule in json.loads(row.fetchone()[0])
            else "; the register does not hold it: an earlier copy of the register was put"
            " back (`dsar audit verify` shows it; put the latest copy back)"
        )
        raise UsageError(
            "--rule",
            f"the notice under {rule} of {breach_id} is recorded already (given"
            f" {entry.details.get('at')}, audit entry {entry.seq} written {entry.at}){stale};"
            " a recorded notice is never replaced",
            "keep it; a correction goes into the breach's own file, not the register",
        )

    def people_told(self, breach_id: str) -> list[str]:
        """The people's notices (Art. 34) recorded for the breach: its rules."""
        record = self.get(breach_id)
        return sorted(
            d.rule for d in record.deadlines if d.is_people_notice and d.rule in record.notified
        )

    def get(self, breach_id: str) -> BreachRecord:
        """One breach, with every notice its audit log recorded (`_with_logged`).

        Raises:
            UsageError: no breach of that id.
        """
        row = self.db.execute("SELECT * FROM breaches WHERE id = ?", (breach_id,)).fetchone()
        if row is None:
            raise UsageError("breach", f"no breach {breach_id} in the register", "check the id")
        return _with_logged(_row_to_record(row), _logged_notices(self.audit))

    def unregistered_notices(self) -> list[str]:
        """Where the register disagrees with its audit log: each notice the log recorded
        (`breach.notified`) that the register's row does not hold, an earlier copy of the
        register put back (its seals all verify). The log is what was recorded: `get` and
        `list` count these notices as given. No personal value: ids, rules, entries."""
        logged = _logged_notices(self.audit)
        problems = []
        for breach_id, notified in self.db.execute(
            "SELECT id, notified FROM breaches ORDER BY id"
        ).fetchall():
            held = dict(json.loads(notified))
            problems += [
                f"{breach_id}: the notice under {rule} (audit entry {entry.seq}, given"
                f" {entry.details.get('at')}) is missing from the register"
                for rule, entry in sorted(logged.get(breach_id, {}).items())
                if rule not in held
            ]
        return problems

    def unverified_notices(self) -> list[str]:
        """Each `breach.notified` line of the audit log that does not verify (MAC and chain):
        ignored, the notice not counted as given. No personal value: line numbers."""
        return [
            f"line {n} of {self.audit.path.name} records a notice but does not verify (its MAC"
            " or its place in the chain): it is ignored, the notice not counted as given"
            for n in _unverified_notices(self.audit)
        ]

    def list(self, *, include_closed: bool = False) -> list[BreachRecord]:
        """Breaches by their next deadline (open ones; with `include_closed`, all), with
        every notice their audit log recorded (`_with_logged`)."""
        logged = _logged_notices(self.audit)
        records = [
            _with_logged(_row_to_record(r), logged)
            for r in self.db.execute("SELECT * FROM breaches ORDER BY id")
        ]
        if not include_closed:
            records = [r for r in records if r.is_open]
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(records, key=lambda r: ((n.due or far) if (n := r.next_due()) else far, r.id))

    def notified(
        self,
        breach_id: str,
        rule: str,
        when: datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> BreachRecord:
        """Record that the notice of `rule` was given (at `when`, default now), once: a notice
        recorded is never replaced (a second one for the rule is refused), and its time lies
        between the breach's discovery and now (`SKEW` of clock skew allowed); the audit
        entry (`breach.notified`) records the rule and the time.

        Raises:
            UsageError: no such breach, the rule is none of its notices (an internal
                register row, a place not covered), its notice is recorded already, or the
                time is before discovery or in the future.
        """
        with decision_lock(self.audit.path):  # a confirm --no-notify waits, or is seen
            return self._notified(breach_id, rule, when, now)

    def _notified(
        self, breach_id: str, rule: str, when: datetime | None, now: datetime | None
    ) -> BreachRecord:
        record = self.get(breach_id)
        self._check_not_logged(breach_id, rule)
        notices = {d.rule for d in record.deadlines if d.is_notice}
        if rule in {d.rule for d in record.deadlines if d.is_people_notice}:
            self.check_not_declined(breach_id)
        if rule not in notices:
            rules = ", ".join(sorted(notices)) or "(none)"
            why = (
                "is no notice (the internal register's row, met by registering, or a place"
                " this tool holds no rule for)"
                if rule in {d.rule for d in record.deadlines}
                else "is no deadline"
            )
            raise UsageError("--rule", f"{rule!r} {why} of {breach_id}", f"one of: {rules}")
        now = now or datetime.now(UTC)
        at = (when or now).astimezone(UTC)
        if at > now + SKEW:
            raise UsageError(
                "--at", "--at is in the future", "give when the notice was given (check the zone)"
            )
        if at < record.discovered:
            raise UsageError(
                "--at",
                f"--at is before {breach_id} was discovered"
                f" ({record.discovered:%Y-%m-%d %H:%M} UTC)",
                "give when the notice was given, with its time (check the date and the zone)",
            )
        with self.seal.transaction() as db:
            row = db.execute("SELECT notified FROM breaches WHERE id = ?", (breach_id,)).fetchone()
            done = dict(json.loads(row[0]))
            if rule in done:
                entry = next(
                    (
                        e
                        for e in self.audit.entries()
                        if e.action == "breach.notified"
                        and e.request == breach_id
                        and e.details.get("rule") == rule
                    ),
                    None,
                )
                how = f", audit entry {entry.seq} written {entry.at}" if entry else ""
                raise UsageError(
                    "--rule",
                    f"the notice under {rule} of {breach_id} is recorded already (given"
                    f" {done[rule]}{how}); a recorded notice is never replaced",
                    "keep it; a correction goes into the breach's own file, not the register",
                )
            done[rule] = at.isoformat()
            db.execute(
                "UPDATE breaches SET notified = ?, mac = NULL WHERE id = ?",
                (json.dumps(done, sort_keys=True), breach_id),
            )
        updated = self.get(breach_id)
        moved = {
            d.rule: d.due.isoformat()
            for d in updated.duties()
            if d.after is not None and d.after[0] == rule and d.due is not None
        }
        self.audit.append(
            "breach.notified",
            request=breach_id,
            details={"rule": rule, "at": at.isoformat(), **({"moved": moved} if moved else {})},
        )
        return updated


def _unverified_notices(audit: AuditLog) -> list[int]:
    """The line numbers of the `breach.notified` lines of the audit log that do not verify
    (`AuditLog.checked_entries`): not counted as notices given."""
    _, ignored = audit.checked_entries()
    if not ignored:
        return []
    lines = audit.path.read_text(encoding="utf-8", errors="replace").splitlines()
    found = []
    for number in ignored:
        try:
            action = json.loads(lines[number - 1]).get("action")
        except (ValueError, AttributeError):
            continue
        if action == "breach.notified":
            found.append(number)
    return found


def _logged_notices(audit: AuditLog) -> dict[str, dict[str, AuditEntry]]:
    """Each breach's notices as its audit log recorded them: rule -> the first
    `breach.notified` entry of it (a notice is recorded once). Only entries that verify (MAC
    and chain, `AuditLog.checked_entries`): a line appended without the key gives no notice
    (`Breaches.unverified_notices` says which lines were ignored)."""
    found: dict[str, dict[str, AuditEntry]] = {}
    verified, _ = audit.checked_entries()
    for entry in verified:
        if entry.action == "breach.notified" and entry.request is not None:
            rule = str(entry.details.get("rule"))
            found.setdefault(entry.request, {}).setdefault(rule, entry)
    return found


def _with_logged(
    record: BreachRecord, logged: Mapping[str, Mapping[str, AuditEntry]]
) -> BreachRecord:
    """The record with each notice its audit log recorded and its row lacks (an earlier copy
    of the register put back) counted as given, at the logged time: a notice given is never
    shown as pending or OVERDUE (`Breaches.unregistered_notices` says where)."""
    lost = {
        rule: str(entry.details["at"])
        for rule, entry in logged.get(record.id, {}).items()
        if rule not in record.notified and isinstance(entry.details.get("at"), str)
    }
    return replace(record, notified={**record.notified, **lost}) if lost else record


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


def _logged_breaches(audit: AuditLog) -> dict[str, dict[str, object]]:
    """What the audit log says of each breach: its registered counts and its notices."""
    found: dict[str, dict[str, object]] = {}
    for entry in audit.entries():
        if entry.request is None or not entry.action.startswith("breach."):
            continue
        if entry.action == "breach.scoped" and entry.details.get("register", True):
            # scoped with a register (an entry before the flag: the command's audit log is
            # only ever a register's): a breach.registered entry must follow
            found.setdefault(entry.request, {"notices": {}})["scoped"] = entry.seq
        elif entry.action == "breach.registered":
            found.setdefault(entry.request, {"notices": {}})["registered"] = entry.details
        elif entry.action == "breach.notified":
            notices = found.setdefault(entry.request, {"notices": {}})["notices"]
            assert isinstance(notices, dict)
            notices.setdefault(str(entry.details.get("rule")), entry.details.get("at"))
    return found


def verify_breaches(path: str | Path, keys: Keys) -> list[str]:
    """Check the register's breaches against the key and the audit log; empty: intact.

    Every row must carry its MAC and the table its seal (`dsar.records.sealed`), and the
    rows must be the breaches the log registered, with the counts it registered and the
    notices (rule and time) it recorded: a row edited, added or deleted by hand, and an
    earlier copy of the register put back (every seal of it verifies), are found.
    """
    from dsar.records.sealed import verify_record

    path = Path(path)
    audit = AuditLog(path.with_name(path.name + ".audit.jsonl"), keys)
    logged = _logged_breaches(audit)
    registered = {b for b, facts in logged.items() if "registered" in facts}
    unfinished = sorted(b for b, facts in logged.items() if "scoped" in facts)
    problems_log = [
        f"breaches: {b} was scoped (audit entry {logged[b]['scoped']}) but never registered:"
        " a scope killed or failed before registration (or still running); its folder is"
        " not complete: scope it again"
        for b in unfinished
        if b not in registered
    ]
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        has_table = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='breaches'"
        ).fetchone()
        if not has_table:
            return problems_log + (
                [f"table breaches: missing, the audit log registered {len(registered)} breach(es)"]
                if registered
                else []
            )
        rows = {r["id"]: r for r in db.execute("SELECT * FROM breaches ORDER BY id")}
    finally:
        db.close()
    problems = problems_log + verify_record(path, keys, {"breaches": _COLUMNS})
    if missing := sorted(registered - set(rows)):
        problems.append(
            f"breaches: {len(missing)} breach(es) the audit log registered are not in the"
            f" register ({', '.join(missing)}): an earlier copy put back, or rows removed"
        )
    if unlogged := sorted(set(rows) - registered):
        problems.append(
            f"breaches: {', '.join(unlogged)} not registered in the audit log: added by hand,"
            " or its entry cut by a crash (`dsar requests list` logs it)"
        )
    for breach_id in sorted(set(rows) & registered):
        row, facts = rows[breach_id], logged[breach_id]
        details = facts["registered"]
        assert isinstance(details, dict)
        if details.get("people") not in (None, row["people"]) or details.get("severity") not in (
            None,
            row["severity"],
        ):
            problems.append(f"breaches, {breach_id}: counts differ from its audit entry")
        try:
            held = dict(json.loads(row["notified"]))
        except (TypeError, ValueError):
            problems.append(f"breaches, {breach_id}: its notices are not readable")
            continue
        notices = facts["notices"]
        assert isinstance(notices, dict)
        if set(held) != set(notices):
            problems.append(
                f"breaches, {breach_id}: notices recorded ({', '.join(sorted(held)) or '-'})"
                f" differ from the audit log's ({', '.join(sorted(notices)) or '-'})"
            )
        changed = sorted(r for r, at in notices.items() if at is not None and held.get(r) != at)
        if changed and set(held) == set(notices):
            problems.append(
                f"breaches, {breach_id}: the time of the notice under {', '.join(changed)}"
                " differs from the audit log's"
            )
    return problems
