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
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from dsar.catalog.models import IdentityKind
from dsar.errors import MissingFileError, UnusableFileError
from dsar.io import atomic_write_text, private_file
from dsar.keys import Keys, Purpose
from dsar.records.audit import AuditLog
from dsar.records.ledger import Ledger, Reason
from dsar.records.sealed import Seal
from dsar.subjects.identity import MatchRules, SubjectKey, normalize

WITHDRAW_REASONS = (
    Reason.ERASED,
    Reason.OBJECTED_DIRECT_MARKETING,
    Reason.OPTED_OUT_SALE_SHARING,
    Reason.RESTRICTED,
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    platform TEXT NOT NULL, audience TEXT NOT NULL, run TEXT NOT NULL, day TEXT NOT NULL,
    ref TEXT NOT NULL, uploaded TEXT NOT NULL, PRIMARY KEY (platform, audience, ref)
);
CREATE TABLE IF NOT EXISTS withdrawn (
    platform TEXT NOT NULL, uploaded TEXT NOT NULL, day TEXT NOT NULL,
    PRIMARY KEY (platform, uploaded)
);
"""
_WITHDRAWN = ("platform", "uploaded", "day")


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
    """

    def __init__(
        self,
        path: str | Path,
        keys: Keys,
        audit: str | Path | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        self.keys = keys
        self.audit = AuditLog(Path(audit) if audit else self.path.with_name("audit.jsonl"), keys)
        if read_only:
            self.db = _open_read_only(self.path)
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(sent)").fetchall()}
            self._loose = "loose" in columns
            if self.audit.path.exists() and self.audit.verify():
                self.db.close()
                raise UnusableFileError(
                    self.path,
                    "its audit log does not verify with this key: the wrong key, or a tampered"
                    " record",
                    "nothing was read; give the key it was written with, or `dsar audit verify`"
                    " its audit log",
                )
            self.seal = Seal(self.db, self.keys, self._sealed(), self.path, read_only=True)
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
            self._loose = True
            self.seal = Seal(self.db, self.keys, self._sealed(), self.path)
            self._check()
        except BaseException:
            self.db.close()
            raise

    def _sealed(self) -> dict[str, tuple[str, ...]]:
        sent = ("platform", "audience", "run", "day", "ref", "uploaded")
        return {"sent": (*sent, "loose") if self._loose else sent, "withdrawn": _WITHDRAWN}

    def _check(self) -> None:
        try:
            self.seal.check()
        except BaseException:
            self.db.close()
            raise

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
        day = datetime.now(UTC).date().isoformat()
        rows = [
            (platform, audience, run, day, ref, uploaded, person_ref(self.keys, raw, kind, LOOSE))
            for raw, uploaded in people
            if (ref := person_ref(self.keys, raw, kind)) is not None
        ]
        with self.seal.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO sent (platform, audience, run, day, ref, uploaded, loose)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        self.audit.append(
            "audience.sent",
            details={
                "platform": platform,
                "audience": audience,
                "run": run,
                "people": len(rows),
                "identifier": kind.value,
            },
        )
        return len(rows)

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
        refs = {
            ref
            for k in identifiers
            if k.kind in (IdentityKind.EMAIL, IdentityKind.PHONE)
            and (ref := person_ref(self.keys, k.value, k.kind, LOOSE if loose else None))
            is not None
        }
        return self._held(column, refs)

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

    def withdrawals(self, platform: str, ledger: Ledger) -> list[str]:
        """The uploaded hashes of everyone `platform` holds who is now in the ledger and has
        not been withdrawn yet."""
        wanted = {r.value for r in WITHDRAW_REASONS}
        refs = {e.ref for e in ledger.entries() if e.reason.value in wanted}
        rows = self.db.execute(
            "SELECT DISTINCT s.ref, s.uploaded FROM sent s LEFT JOIN withdrawn w"
            " ON w.platform = s.platform AND w.uploaded = s.uploaded"
            " WHERE s.platform = ? AND w.uploaded IS NULL ORDER BY s.uploaded",
            (platform,),
        ).fetchall()
        return [uploaded for ref, uploaded in rows if ref in refs]

    def write_withdrawal(self, platform: str, ledger: Ledger, out: str | Path, header: str) -> Path:
        """Write `<platform>-withdraw-<date>.csv` (the platform's removal list) and mark
        everyone in it withdrawn; one audit entry."""
        hashes = self.withdrawals(platform, ledger)
        day = datetime.now(UTC).date().isoformat()
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{platform}-withdraw-{day}.csv"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"{platform}-withdraw-{day}-{n}.csv"
        atomic_write_text(path, header + "\n" + "".join(h + "\n" for h in hashes))
        path.chmod(0o600)
        with self.seal.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO withdrawn (platform, uploaded, day) VALUES (?, ?, ?)",
                [(platform, h, day) for h in hashes],
            )
        self.audit.append(
            "audience.withdrawn", details={"platform": platform, "people": len(hashes)}
        )
        return path
