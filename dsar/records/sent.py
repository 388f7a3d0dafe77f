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
from dsar.io import atomic_write_text
from dsar.keys import Keys, Purpose
from dsar.records.audit import AuditLog
from dsar.records.ledger import Ledger, Reason
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


def person_ref(keys: Keys, raw: str, kind: IdentityKind = IdentityKind.EMAIL) -> str | None:
    """The ledger's keyed reference of an email or phone (None: it normalises to nothing)."""
    value = normalize(kind, raw, MatchRules())
    if value is None:
        return None
    return keys.keyed_hash(Purpose.LEDGER_REF, f"{kind.value}={value}")


class SentRecord:
    """The SQLite record of what was sent, beside the audit log that vouches for it.

    Args:
        path: the record's file.
        key: the secret key (the ledger's), for the keyed references.
        audit: the audit log each run appends to (default: `audit.jsonl` beside the record).
    """

    def __init__(self, path: str | Path, key: bytes, audit: str | Path | None = None) -> None:
        self.path = Path(path)
        self.keys = Keys(key)
        self.audit = AuditLog(Path(audit) if audit else self.path.with_name("audit.jsonl"), key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(_SCHEMA)

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
            (platform, audience, run, day, ref, uploaded)
            for raw, uploaded in people
            if (ref := person_ref(self.keys, raw, kind)) is not None
        ]
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO sent (platform, audience, run, day, ref, uploaded)"
                " VALUES (?, ?, ?, ?, ?, ?)",
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

    def holding_any(self, identifiers: Iterable[SubjectKey]) -> list[tuple[str, str]]:
        """(platform, audience) pairs that hold any of a person's emails or phones."""
        refs = {
            ref
            for k in identifiers
            if k.kind in (IdentityKind.EMAIL, IdentityKind.PHONE)
            and (ref := person_ref(self.keys, k.value, k.kind)) is not None
        }
        return sorted({pair for ref in refs for pair in self.holding(ref)})

    def holding(self, ref: str) -> list[tuple[str, str]]:
        """(platform, audience) pairs that hold a person (by keyed reference)."""
        return [
            (p, a)
            for p, a in self.db.execute(
                "SELECT DISTINCT platform, audience FROM sent WHERE ref = ? ORDER BY 1, 2", (ref,)
            ).fetchall()
        ]

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
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO withdrawn (platform, uploaded, day) VALUES (?, ?, ?)",
                [(platform, h, day) for h in hashes],
            )
        self.audit.append(
            "audience.withdrawn", details={"platform": platform, "people": len(hashes)}
        )
        return path
