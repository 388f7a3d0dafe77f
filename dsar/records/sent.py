"""What was sent to which ad platform, so that people can be withdrawn and recipients named.

The record lives in `dsar` (it is a record of disclosures, like the ledger of suppressions):
`anonymize.audience` writes it, and an erasure plan reads it, so the certificate's recipients
include the ad platforms that actually hold the person (GDPR Art. 19), not the ones the
catalog says might.

Each audience run records, per platform, every person it uploaded: their keyed reference (the
same keyed hash of the normalised email the suppression ledger stores, so the two can be
compared without either holding an email) and the hash the platform received (needed to
remove them: a person erased since cannot be hashed again from the export). Every run also
appends one entry to the keyed, hash-chained audit log: which platform received which
audience, how many people, from which run.

`withdrawals` then lists, for one platform, everyone it holds who is now in the ledger
(erased, objected to direct marketing, opted out of sale or sharing, restricted) and has not
been withdrawn yet; `write_withdrawal` writes the platform's removal file and marks them.

The record is tamper-evident (`dsar.records.sealed`): every row carries a keyed MAC and a
number, every table a seal, so a row edited, added or deleted by hand is named by every reader
(`withdraw`, erasure plans, `dsar audit verify`). Each write is also a numbered row of
`writes`, and its audit entry records the write's number and the seals it left (`state`):
an earlier copy of the whole record put back (every row and seal verify) holds fewer writes
than its audit log, and is refused too. A change of the record's format that keys its rows
again must be logged as a write, like any other.

The record and its log vouch for each other: a record that holds writes while its audit log
is gone is refused (`AUDIT_LOG_MISSING`), never read as a record with nothing to check it
against; a new record starts its log (empty, with its head) before its first write, so no
crash can leave writes without a log. Where the log really was lost, `audit_lost=True`
(`--audit-log-lost`) accepts the record and starts a new log from the write it holds, which
says so.

Each run also records the identifier its hashes are of (`runs`: email or phone), so a
withdrawal file has the header the platform's upload of that kind had
(`write_withdrawals`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from dsar.catalog.models import IdentityKind
from dsar.errors import MissingFileError, RecordTamperedError, UnusableFileError, UsageError
from dsar.io import atomic_write_text, private_file
from dsar.keys import Keys, Purpose
from dsar.records.audit import GENESIS, AuditLog
from dsar.records.ledger import Ledger, Reason
from dsar.records.sealed import Seal, against_log as _against_log, verify_record
from dsar.subjects.identity import MatchRules, SubjectKey, normalize, phone_suffix
from dsar.subjects.people import idn_forms

WITHDRAW_REASONS = (
    Reason.ERASED,
    Reason.OBJECTED_DIRECT_MARKETING,
    Reason.OPTED_OUT_SALE_SHARING,
    Reason.RESTRICTED,
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    platform TEXT NOT NULL, audience TEXT NOT NULL, run TEXT NOT NULL, day TEXT NOT NULL,
    ref TEXT NOT NULL, uploaded TEXT NOT NULL, PRIMARY KEY (platform, audience, ref, uploaded)
);
CREATE TABLE IF NOT EXISTS withdrawn (
    platform TEXT NOT NULL, uploaded TEXT NOT NULL, day TEXT NOT NULL,
    PRIMARY KEY (platform, uploaded)
);
CREATE TABLE IF NOT EXISTS writes (
    action TEXT NOT NULL, platform TEXT NOT NULL, audience TEXT, run TEXT,
    people INTEGER NOT NULL, day TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    platform TEXT NOT NULL, audience TEXT NOT NULL, run TEXT NOT NULL,
    identifier TEXT NOT NULL
);
"""
_WITHDRAWN = ("platform", "uploaded", "day")
_WRITES = ("action", "platform", "audience", "run", "people", "day")
_RUNS = ("platform", "audience", "run", "identifier")
NUMBERED = ("sent", "withdrawn", "writes", "runs")  # tables that only grow: a deleted row is named


LOOSE = MatchRules(gmail_dots=True, plus_addressing=True)  # every folding at once


def person_ref(
    keys: Keys,
    raw: str,
    kind: IdentityKind = IdentityKind.EMAIL,
    rules: MatchRules | None = None,
) -> str | None:
    """The ledger's keyed reference of an email or phone (None: it normalises to nothing)."""
    value = normalize(kind, raw, rules or MatchRules())
    if value is None:
        return None
    return keys.keyed_hash(Purpose.LEDGER_REF, f"{kind.value}={value}")


def logged_records(audit: AuditLog) -> set[str]:
    """The file names of the sent records whose writes `audit` records (they lie beside it)."""
    return {
        str(e.details["record"])
        for e in audit.entries()
        if e.action.startswith("audience.") and isinstance(e.details.get("write"), int)
    }


def verify_sent(
    path: str | Path, keys: Keys, audit: str | Path | None = None, *, audit_lost: bool = False
) -> list[str]:
    """Check the record of sent audiences without changing it; empty: intact.

    Every row's MAC and every table's seal (a row edited, added or deleted by hand, named by
    its number), then its writes against its audit log (default: `audit.jsonl` beside it):
    an earlier copy put back, or a write whose entry a crash cut (the next write adds it).
    The log's own chain is checked by `verify_audit_log`. A record holding writes whose log
    is missing is a problem, unless `audit_lost` (the user says the log was lost).
    """
    path = Path(path)
    problems = verify_record(path, keys, numbered=NUMBERED)
    if problems and problems[0].startswith(("no record", f"{path} is not")):
        return problems
    log = AuditLog(Path(audit) if audit else path.with_name("audit.jsonl"), keys)
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        sealed = {
            t: tuple(c[1] for c in db.execute(f"PRAGMA table_info({t})") if c[1] != "mac")
            for t in ("sent", "withdrawn", "writes", "runs")
            if t in tables
        }
        seal = Seal(db, keys, sealed, path, read_only=True, numbered=NUMBERED)
        found, cut = _against_log(seal, log, path.name, audit_lost)
    finally:
        db.close()
    problems += found
    if cut is not None:
        problems.append(
            f"write {cut}: its entry is missing from the audit log (a crash cut it, or the write"
            " is under way): the next `anonymize audience --record` or `anonymize withdraw` on"
            " the record adds it"
        )
    return problems


def _widen_key(db: sqlite3.Connection) -> None:
    """Key `sent` by (platform, audience, ref, uploaded): a record from before one reference
    could name several uploads (one person sent under two addresses) kept one per reference,
    and a second would overwrite the first. Its rows are copied as they are (their MACs,
    numbers and the table's seal cover the values, not where the rows sit)."""
    info = db.execute("PRAGMA table_info(sent)").fetchall()
    key = [name for _, name, _, _, _, pk in sorted(info, key=lambda r: r[5]) if pk]
    if "uploaded" in key:
        return
    names = [r[1] for r in info]
    columns = ", ".join(
        f'"{name}" {kind}{" NOT NULL" if notnull else ""}' for _, name, kind, notnull, _, _ in info
    )
    listed = ", ".join(f'"{n}"' for n in names)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            f"CREATE TABLE sent_wide ({columns}, PRIMARY KEY (platform, audience, ref, uploaded))"
        )
        db.execute(f"INSERT INTO sent_wide ({listed}) SELECT {listed} FROM sent")
        db.execute("DROP TABLE sent")
        db.execute("ALTER TABLE sent_wide RENAME TO sent")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _open_read_only(path: Path) -> sqlite3.Connection:
    """The record opened read-only: reading it never writes, and never creates a file."""
    if not path.is_file():
        raise MissingFileError(path, "the record of sent audiences", "check its path")
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError:
        tables = set()
    if "sent" not in tables:
        db.close()
        raise UnusableFileError(
            path, "not a record of sent audiences (no 'sent' table)", "give the sent record's file"
        )
    return db


class SentRecord:
    """The SQLite record of what was sent, beside the audit log that vouches for it.

    Args:
        path: the record's file.
        keys: the workbench's keys (the ledger's), for the keyed references.
        audit: the audit log each run appends to (default: `audit.jsonl` beside the record).
        audit_lost: the audit log was lost (`--audit-log-lost`): a record whose log is missing
            is accepted, and a writer starts a new log from the writes it holds. Without it,
            such a record is refused (`RecordTamperedError`).
    """

    def __init__(
        self,
        path: str | Path,
        keys: Keys,
        audit: str | Path | None = None,
        *,
        read_only: bool = False,
        audit_lost: bool = False,
    ) -> None:
        self.path = Path(path)
        self.keys = keys
        self.audit = AuditLog(Path(audit) if audit else self.path.with_name("audit.jsonl"), keys)
        self.audit_lost = audit_lost
        if read_only:
            self.db = _open_read_only(self.path)
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(sent)").fetchall()}
            self._loose = "loose" in columns
            tables = {
                r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            self._writes = "writes" in tables
            self._runs = "runs" in tables
            self._refuse_unverified_log()
            self.seal = Seal(
                self.db, self.keys, self._sealed(), self.path, read_only=True, numbered=NUMBERED
            )
            if "mac" in columns:  # written before rows were keyed: adopted when next written
                self._check()
            return
        if self.path.is_dir():
            raise UnusableFileError(
                self.path, "a folder, not a record of sent audiences", "give the sent record's file"
            )
        private_file(self.path)
        self.db = sqlite3.connect(self.path, isolation_level=None)  # transactions explicit
        try:
            self.db.executescript(_SCHEMA)
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(sent)").fetchall()}
            if "loose" not in columns:  # a record written before loose references existed
                self.db.execute("ALTER TABLE sent ADD COLUMN loose TEXT")
            _widen_key(self.db)
            self._loose = self._writes = self._runs = True
            self.audit.repair()  # an append a crash cut short
            self._refuse_unverified_log()
            self.seal = Seal(self.db, self.keys, self._sealed(), self.path, numbered=NUMBERED)
            self._check()
            self._start_log()
        except BaseException:
            self.db.close()
            raise

    def _refuse_unverified_log(self) -> None:
        if self.audit.path.exists() and self.audit.verify():
            self.db.close()
            raise UnusableFileError(
                self.path,
                "its audit log does not verify with this key: the wrong key, or a tampered record",
                "nothing was read; give the key it was written with, or `dsar audit verify`"
                " its audit log",
            )

    def _sealed(self) -> dict[str, tuple[str, ...]]:
        sent = ("platform", "audience", "run", "day", "ref", "uploaded")
        tables: dict[str, tuple[str, ...]] = {"sent": (*sent, "loose") if self._loose else sent}
        tables["withdrawn"] = _WITHDRAWN
        if self._runs:
            tables["runs"] = _RUNS
        return {**tables, "writes": _WRITES} if self._writes else tables

    def _start_log(self) -> None:
        """A new record's log, made (empty, with its head) before its first write, so that a
        crash between a write and its entry never leaves writes without a log. A record
        whose log was lost (`audit_lost`) starts a new one, its first entry saying so."""
        if self.audit.path.exists():
            return
        writes = self.write_count()
        if writes == 0:  # the head first: a log without its head would not verify
            self.audit._write_head(0, GENESIS)
            private_file(self.audit.path)
            return
        if self.audit_lost:  # _check let it through: the user says the log was lost
            details: dict[str, object] = {"lost": True, "writes": writes}
            self._log("audience.log_restarted", writes, self.seal.state(), details)

    def write_count(self) -> int:
        """How many writes the record holds."""
        if not self._writes:
            return 0
        return int(self.db.execute("SELECT count(*) FROM writes").fetchone()[0])

    def sent_writes(self, after: int = 0) -> dict[str, tuple[int, str, str]]:
        """Per platform, the last write numbered above `after` that recorded an upload:
        (its number, the audience, the run)."""
        if not self._writes:
            return {}
        rows = self.db.execute(
            "SELECT seq, platform, audience, run FROM writes WHERE action = 'sent' AND seq > ?"
            " ORDER BY seq",
            (after,),
        ).fetchall()
        return {platform: (int(seq), audience, run) for seq, platform, audience, run in rows}

    def sent_write(self, write: int) -> tuple[str, str, str, str] | None:
        """Write number `write`: (action, platform, audience, run), None when there is none."""
        if not self._writes:
            return None
        row = self.db.execute(
            "SELECT action, platform, coalesce(audience, ''), coalesce(run, '') FROM writes"
            " WHERE seq = ?",
            (write,),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), str(row[3]))

    def _check(self) -> None:
        """The rows and seals, then the writes against the audit log: refused when they
        disagree; a last write whose entry a crash cut gets it now (when writable)."""
        try:
            self.seal.check()
            problems, cut = _against_log(self.seal, self.audit, self.path.name, self.audit_lost)
            if problems:
                raise RecordTamperedError(self.path, problems)
            if cut is not None and not self.seal.read_only:
                action, platform, audience, run, people, _ = self.db.execute(
                    "SELECT action, platform, audience, run, people, day FROM writes WHERE seq = ?",
                    (cut,),
                ).fetchone()
                details: dict[str, object] = {"platform": platform, "people": people}
                details["repaired"] = True
                if audience is not None:
                    details |= {"audience": audience, "run": run}
                self._log(f"audience.{action}", cut, self.seal.state(), details)
        except BaseException:
            self.db.close()
            raise

    def _write(
        self, action: str, platform: str, audience: str | None, run: str | None, people: int
    ) -> int:
        """One row of `writes`, inside the write's transaction; its number."""
        day = datetime.now(UTC).date().isoformat()
        self.db.execute(
            "INSERT INTO writes (action, platform, audience, run, people, day)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (action, platform, audience, run, people, day),
        )
        return int(self.db.execute("SELECT count(*) FROM writes").fetchone()[0])

    def _log(self, action: str, write: int, state: str | None, details: dict[str, object]) -> None:
        """The write's audit entry: what it did, its number and the seals it left."""
        self.audit.append(
            action, details={**details, "record": self.path.name, "write": write, "state": state}
        )

    def close(self) -> None:
        self.db.close()

    def record(
        self,
        platform: str,
        audience: str,
        run: str,
        people: Iterable[tuple[str, str]],
        kind: IdentityKind = IdentityKind.EMAIL,
    ) -> int:
        """Record (raw email or phone, uploaded hash) pairs sent in one run; one audit entry."""
        refs = [
            (ref, person_ref(self.keys, raw, kind, LOOSE), uploaded)
            for raw, uploaded in people
            if (ref := person_ref(self.keys, raw, kind)) is not None
        ]
        return self.record_refs(platform, audience, run, refs, kind)

    def record_refs(
        self,
        platform: str,
        audience: str,
        run: str,
        refs: Iterable[tuple[str, str | None, str]],
        kind: IdentityKind = IdentityKind.EMAIL,
    ) -> int:
        """Record what one run sent as (reference, loose reference, uploaded hash) rows: for
        each person uploaded, one row per identifier of theirs (the ledger's keyed reference
        of each), so a withdrawal or an erasure finds the upload from any of them; one audit
        entry. Returns the people (distinct uploaded hashes). Rows are numbered in the order
        given; given in key order (ref, then uploaded), they insert fastest."""
        day = datetime.now(UTC).date().isoformat()
        rows = [
            (platform, audience, run, day, ref, uploaded, loose) for ref, loose, uploaded in refs
        ]
        people = len({r[5] for r in rows})
        with self.seal.transaction():
            # an upsert, never a REPLACE: a row keeps its number (rows are only added); no
            # conflict target: a record from before one reference could name several uploads
            # (one person's addresses) has a narrower key
            self.db.executemany(
                "INSERT INTO sent (platform, audience, run, day, ref, uploaded, loose)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE"
                " SET run = excluded.run, day = excluded.day, uploaded = excluded.uploaded,"
                " loose = excluded.loose, mac = NULL",
                rows,
            )
            self.db.execute(
                "INSERT INTO runs (platform, audience, run, identifier) VALUES (?, ?, ?, ?)",
                (platform, audience, run, kind.value),
            )
            write = self._write("sent", platform, audience, run, people)
        details: dict[str, object] = {"platform": platform, "audience": audience, "run": run}
        details |= {"people": people, "identifier": kind.value}
        self._log("audience.sent", write, self.seal.last_state, details)
        return people

    def holding_any(
        self, identifiers: Iterable[SubjectKey], rules: MatchRules | None = None
    ) -> list[tuple[str, str]]:
        """(platform, audience) pairs that hold any of a person's emails or phones.

        With rules that fold gmail dots or `+tags` (the identifiers then come folded), the
        record's loose references are compared, made with both folded: a person found as
        janedoe@gmail.com is still found held as jane.doe+ads@gmail.com.
        """
        rules = rules or MatchRules()
        loose = (rules.gmail_dots or rules.plus_addressing) and self._loose
        column = "loose" if loose else "ref"
        # every kind: an upload is recorded under each identifier of its person the export
        # holds (account ids too), so an objection under an account id finds it
        # an email under its other writings too (full-width, IDNA), as the ledger keeps it
        refs = {
            ref
            for k in identifiers
            for form in (k.value, *(idn_forms(k.value) if k.kind is IdentityKind.EMAIL else ()))
            if (ref := person_ref(self.keys, form, k.kind, LOOSE if loose else None)) is not None
        }
        # a phone as uploads are recorded: its last nine digits (the loose form an audience
        # leaves out and withdraws by, `dsar.subjects.people`), under either column
        tails = {
            ref
            for k in identifiers
            if k.kind is IdentityKind.PHONE
            and (value := normalize(k.kind, k.value, MatchRules())) is not None
            and (ref := person_ref(self.keys, phone_suffix(value), k.kind)) is not None
        }
        return sorted(set(self._held(column, refs)) | set(self._held("ref", tails)))

    def holding(self, ref: str) -> list[tuple[str, str]]:
        """(platform, audience) pairs that hold a person (by keyed reference)."""
        return self._held("ref", {ref})

    def _held(self, column: str, refs: set[str]) -> list[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for ref in refs:
            rows = self.db.execute(
                f"SELECT DISTINCT platform, audience FROM sent WHERE {column} = ?", (ref,)
            )
            found.update((p, a) for p, a in rows.fetchall())
        return sorted(found)

    def withdrawals(self, platform: str, ledger: Ledger, also: Iterable[str] = ()) -> list[str]:
        """The uploaded hashes of everyone `platform` holds who is now in the ledger and has
        not been withdrawn yet (each upload once, however many identifiers recorded it);
        with `also`, those of its hashes the platform received too (people the export now
        leaves out: `anonymize.audience.stale`)."""
        extra = set(also) & self.uploaded(platform)
        return sorted((self.in_ledger(platform, ledger) | extra) - self.withdrawn(platform))

    def sent_rows(self, platform: str) -> list[tuple[str, str | None, str, str]]:
        """Every row recorded as sent to `platform`: (reference, loose reference, uploaded
        hash, audience)."""
        loose = "loose" if self._loose else "NULL"
        rows = self.db.execute(
            f"SELECT ref, {loose}, uploaded, audience FROM sent WHERE platform = ?", (platform,)
        ).fetchall()
        return [(str(r), None if f is None else str(f), str(u), str(a)) for r, f, u, a in rows]

    def audiences(self, platform: str) -> set[str]:
        """The audiences recorded as sent to `platform`."""
        rows = self.db.execute("SELECT DISTINCT audience FROM sent WHERE platform = ?", (platform,))
        return {str(a) for (a,) in rows.fetchall()}

    def uploaded(self, platform: str) -> set[str]:
        """Every hash recorded as sent to `platform`."""
        rows = self.db.execute("SELECT DISTINCT uploaded FROM sent WHERE platform = ?", (platform,))
        return {uploaded for (uploaded,) in rows.fetchall()}

    def withdrawn(self, platform: str) -> set[str]:
        """Every hash withdrawn from `platform`."""
        rows = self.db.execute("SELECT uploaded FROM withdrawn WHERE platform = ?", (platform,))
        return {uploaded for (uploaded,) in rows.fetchall()}

    def in_ledger(self, platform: str, ledger: Ledger) -> set[str]:
        """The hashes sent to `platform` of everyone now in the ledger (erased, objected,
        opted out, restricted), withdrawn since or not: what no audience may hold again.
        One person is recorded under each of their identifiers: any of them in the ledger,
        as given or with +tags and Gmail dots folded (the ledger's and the record's folded
        references: someone who objected as j.a.n.e+x@gmail.com is withdrawn as jane@...)."""
        refs = set(ledger.refs(WITHDRAW_REASONS, folded=True))
        loose = "loose" if self._loose else "NULL"
        rows = self.db.execute(
            f"SELECT DISTINCT ref, {loose}, uploaded FROM sent WHERE platform = ?", (platform,)
        ).fetchall()
        return {uploaded for ref, folded, uploaded in rows if ref in refs or folded in refs}

    def identifiers(self, platform: str) -> dict[str, str]:
        """Each hash sent to `platform` and the kind of identifier it is a hash of ("email",
        "phone"): from the run that sent it (`runs`), else from the run's audit entry (a
        record written before runs were kept), else "email" (the only kind then sent)."""
        kinds: dict[tuple[str, str], str] = {}
        for entry in self.audit.entries():
            d = entry.details
            if entry.action == "audience.sent" and d.get("record") == self.path.name:
                kinds[(str(d.get("audience")), str(d.get("run")))] = str(d.get("identifier"))
        if self._runs:
            rows = self.db.execute(
                "SELECT audience, run, identifier FROM runs WHERE platform = ?", (platform,)
            )
            kinds |= {(a, r): i for a, r, i in rows.fetchall()}
        sent = self.db.execute(
            "SELECT DISTINCT audience, run, uploaded FROM sent WHERE platform = ?", (platform,)
        )
        found: dict[str, str] = {}
        for audience, run, uploaded in sent.fetchall():
            kind = kinds.get((audience, run), IdentityKind.EMAIL.value)
            found[uploaded] = kind if kind in ("email", "phone") else IdentityKind.EMAIL.value
        return found

    def write_withdrawals(
        self,
        platform: str,
        ledger: Ledger,
        out: str | Path,
        headers: Mapping[str, str | None],
        *,
        header_line: bool = True,
        also: Iterable[str] = (),
    ) -> list[Path]:
        """Write the platform's removal files, one per kind of identifier it received, each
        with the header its upload of that kind had (`headers`: kind -> header, the
        platform's own), and mark everyone in them withdrawn; one audit entry.

        Files: `<platform>-withdraw-<date>.csv` (emails), `<platform>-withdraw-phone-<date>.csv`
        (phones); a kind the platform received gets its file even with nobody to remove.
        `header_line`: the platform's upload files start with a header (X's do not).
        `also`: hashes to remove beside the ledger's people (`withdrawals`).

        Raises:
            UsageError: the platform received a kind `headers` names no header for.
        """
        hashes = self.withdrawals(platform, ledger, also)
        kinds = self.identifiers(platform)
        wanted = sorted({kinds[h] for h in kinds}) or [IdentityKind.EMAIL.value]
        if missing := [k for k in wanted if headers.get(k) is None]:
            raise UsageError(
                "platform",
                f"{platform} received {', '.join(missing)} hashes, and no upload header for them"
                " is known: its removal file cannot match its upload",
                "give the platform's header for each kind it received",
            )
        day = datetime.now(UTC).date().isoformat()
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        counts: dict[str, int] = {}
        for kind in wanted:
            chosen = [h for h in hashes if kinds.get(h, IdentityKind.EMAIL.value) == kind]
            counts[kind] = len(chosen)
            stem = f"{platform}-withdraw" + ("" if kind == "email" else f"-{kind}")
            path = folder / f"{stem}-{day}.csv"
            n = 1
            while path.exists():
                n += 1
                path = folder / f"{stem}-{day}-{n}.csv"
            head = f"{headers[kind]}\n" if header_line else ""
            atomic_write_text(path, head + "".join(h + "\n" for h in chosen))
            path.chmod(0o600)
            written.append(path)
        with self.seal.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO withdrawn (platform, uploaded, day) VALUES (?, ?, ?)",
                [(platform, h, day) for h in hashes],
            )
            write = self._write("withdrawn", platform, None, None, len(hashes))
        details: dict[str, object] = {"platform": platform, "people": len(hashes)}
        details["identifiers"] = counts
        self._log("audience.withdrawn", write, self.seal.last_state, details)
        return written

    def write_withdrawal(self, platform: str, ledger: Ledger, out: str | Path, header: str) -> Path:
        """`write_withdrawals` where the platform received one kind of identifier, its upload
        header `header`: the one file.

        Raises:
            UsageError: the platform received emails and phones (one header cannot fit both:
                use `write_withdrawals`).
        """
        kinds = set(self.identifiers(platform).values()) or {IdentityKind.EMAIL.value}
        if len(kinds) > 1:
            raise UsageError(
                "header",
                f"{platform} received emails and phones: one header cannot fit both removal files",
                "use write_withdrawals with the platform's header for each kind",
            )
        return self.write_withdrawals(platform, ledger, out, {kinds.pop(): header})[0]
