"""The suppression ledger: who must stay erased, out of marketing, or restricted.

It holds keyed hashes of identifiers, never the identifiers: an HMAC of "email=..." under
the ledger's own subkey (`dsar.keys`, `Purpose.LEDGER_REF`) of a secret key from the
environment or a key file that is never stored beside the ledger. The file records the
hashing scheme, and a ledger written under an unknown scheme is refused rather than matching
no one; a ledger from before schemes were recorded keeps its own construction
(`LEGACY_SCHEME`, sha256 of the key's hex and the identifier), so the people in it are
still found. Each email is also recorded folded (`+tags` and Gmail dots removed, table
`folded`), and under its other writings (`dsar.subjects.people.idn_forms`, the audience's own
function: NFKC, the domain in IDNA ASCII and in Unicode), read only to leave people out of
marketing: an audience leaves out, and a
withdrawal finds, the person who objected as j.a.n.e+x@gmail.com and is held as
jane@gmail.com; an erasure never matches through it. Extract and audience builders consult
it; restoring an old export and replaying the ledger re-applies past erasures (the hash is
computed in SQL over the restored files, so the people are found again without the ledger
ever knowing who they are). An entry written before a normal form changed (a phone's
extension, a UUID's case, an IP address's writing: `dsar.subjects.identity.LEGACY_FORMS`)
cannot be rewritten, since the ledger holds no value: each value is also compared under its
older forms, wherever they differ from today's, by the replay's search, the extracts'
exclusion and the Python checks. Such a form was the person's exact key then, so a replay
may find rows by it; the looser forms (a phone's last nine digits, a folded email) only
leave out.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from dsar.catalog.models import Catalog, IdentityKind, Role, Table
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import (
    DiskFullError,
    KeySchemeError,
    RecordTamperedError,
    UnusableFileError,
    is_disk_full,
)
from dsar.io import private_file
from dsar.keys import SCHEME, Keys, Purpose, refuse_key_beside, require_keys
from dsar.records.audit import GENESIS, AuditLog
from dsar.records.sealed import (
    Seal,
    against_log,
    logged_writes,
    unsealed_problem,
    verify_record,
)
from dsar.subjects.identity import (
    MatchRules,
    SubjectKey,
    SubjectRequest,
    canonical_key,
    legacy_forms,
    normalize,
    older_writings,
    phone_suffix,
    sql_legacy_forms,
    sql_normalize,
    sql_phone_suffix,
)
from dsar.subjects.people import PEOPLE_RULES, PLAIN, idn_forms

SCHEMA = """
CREATE TABLE IF NOT EXISTS suppression (
    ref TEXT NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL,
    since TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'done',
    PRIMARY KEY (ref, reason)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS writes (
    action TEXT NOT NULL,
    request TEXT,
    rows INTEGER NOT NULL,
    day TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folded (
    ref TEXT NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL,
    since TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'done',
    PRIMARY KEY (ref, reason)
);
"""
# `folded`: each email's reference again, with +tags and Gmail dots folded (`PEOPLE_RULES`), so
# that a person who objected as j.a.n.e+x@gmail.com leaves an audience that holds
# jane@gmail.com. Read only to leave people out (audiences, withdrawals), never to find rows
# to erase: an erasure matches under the rules the company chose.


_SEALED = {
    "suppression": ("ref", "reason", "request", "since", "state"),
    "meta": ("key", "value"),
    "folded": ("ref", "reason", "request", "since", "state"),
    "writes": ("action", "request", "rows", "day"),
}
NUMBERED = ("writes",)  # one row per write, numbered: the audit log records each
LOST_FIX = (
    "restore the log beside the ledger (nothing else vouches for it: a ledger emptied or"
    " put back from an older copy reads the same)"
)


class State(StrEnum):
    """Whether what an entry records has happened yet."""

    PENDING = "pending"  # an erasure under way, or one that failed before `recover` ran
    DONE = "done"  # its files are committed (or nothing had to change: an objection)


class Reason(StrEnum):
    """Why someone is in the ledger."""

    ERASED = "erased"
    OBJECTED_DIRECT_MARKETING = "objected_direct_marketing"
    OPTED_OUT_SALE_SHARING = "opted_out_sale_sharing"
    RESTRICTED = "restricted"


LEGACY_SCHEME = "sha256-keyhex/v0"  # ledgers written before the scheme was recorded


def ledger_ref(keys: Keys, identifier: SubjectKey) -> str:
    """The keyed hash the ledger stores for one identifier (computable in SQL too)."""
    return keys.keyed_hash(Purpose.LEDGER_REF, str(identifier))


def _legacy_ref(keys: Keys, identifier: SubjectKey) -> str:
    """The reference of a `LEGACY_SCHEME` ledger: sha256(key hex | "kind=value")."""
    secret = keys.legacy_ledger_secret().encode()
    return hashlib.sha256(secret + b"|" + str(identifier).encode()).hexdigest()


def _sql_ref(keys: Keys, identifier_sql: str) -> tuple[str, list[object]]:
    """SQL computing `ledger_ref` from a normalised 'kind=value' string, and its parameters."""
    return keys.sql_keyed_hash(Purpose.LEDGER_REF, identifier_sql)


@dataclass(frozen=True)
class LedgerEntry:
    """One suppression: a reference, why, for which request, since when."""

    ref: str
    reason: Reason
    request: str
    since: date
    state: State = State.DONE


class Ledger:
    """The ledger in a SQLite file.

    Args:
        path: the ledger file.
        keys: the workbench's keys (see `dsar.keys.load_keys`).
        key_file: where the key came from, if a file: refused when it sits beside the
            ledger, since the key would then travel with the hashes it protects.
        audit: the audit log that records each write (default: `<ledger>.audit.jsonl`
            beside it), its number and the seals it left, as the sent record's does: a ledger
            emptied, or put back from an older copy, holds fewer writes than its log and is
            refused.
        adopt: a ledger holding rows but no seals nor keyed rows (written before rows were
            keyed) is keyed and sealed as it is found; only `dsar ledger adopt --i-know`
            passes it, and records it in the audit log. Without it such a ledger is refused:
            its seals and MACs stripped is what a hand edit that deletes objectors does.

    Raises:
        KeySchemeError: the file was written with a hashing scheme this workbench does not
            know.
        UnusableFileError: the file is not a ledger (empty, not SQLite, no ledger table):
            a new ledger is made only where no file is.
        RecordTamperedError: a row or seal fails, or the seals and keyed rows were removed.
    """

    def __init__(
        self,
        path: str | Path,
        keys: Keys,
        key_file: str | Path | None = None,
        *,
        adopt: bool = False,
        audit: str | Path | None = None,
    ) -> None:
        require_keys(keys, "Ledger")
        self.path = Path(path)
        refuse_key_beside(key_file, self.path, "ledger")
        if self.path.is_dir():
            raise UnusableFileError(self.path, "a folder, not a ledger", "give the ledger's file")
        if self.path.exists():
            refuse_not_a_ledger(self.path)
        private_file(self.path)
        self.keys = keys
        self.adopt = adopt
        self.adopted = 0  # rows keyed as they were found (`adopt`)
        self.audit = AuditLog(Path(audit) if audit else audit_path(self.path), keys)
        self.db = sqlite3.connect(self.path, isolation_level=None)  # transactions explicit
        try:
            self._check_scheme()
            self._check_log()
        except BaseException as exc:
            self.db.close()
            if is_disk_full(exc):
                raise DiskFullError(self.path) from exc
            raise

    def _check_scheme(self) -> None:
        """Refuse a ledger hashed under another scheme; record the scheme in a new one."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        if "meta" in tables:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'scheme'").fetchone()
            found = row[0] if row else None
            if found is None and not (
                "suppression" in tables
                and self.db.execute("SELECT 1 FROM suppression LIMIT 1").fetchone()
            ):
                found = SCHEME  # created, then cut short before its scheme was written
        elif "suppression" in tables:
            # a ledger from before schemes were recorded: its own construction, if it
            # holds anything (an empty one is simply adopted)
            has_rows = self.db.execute("SELECT 1 FROM suppression LIMIT 1").fetchone()
            found = LEGACY_SCHEME if has_rows else SCHEME
        else:
            found = SCHEME
        if found not in (SCHEME, LEGACY_SCHEME):
            raise KeySchemeError(f"the ledger {self.path}", found, SCHEME)
        self.scheme = found
        keyed = any(
            "mac" in {r[1] for r in self.db.execute(f"PRAGMA table_info({t})")}
            for t in _SEALED
            if t in tables
        )
        if "seals" not in tables and keyed:  # refused before anything is changed
            raise RecordTamperedError(
                self.path, [f"{self.path.name}: it holds no seals (keyed rows were removed)"]
            )
        if "seals" not in tables:  # before rows were keyed, or stripped
            rows = sum(
                int(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in _SEALED
                if t in tables
            )
            if rows and not self.adopt:  # refused before anything is changed
                raise RecordTamperedError(self.path, [unsealed_problem(self.path, rows)])
            self.adopted = rows
        if "suppression" in tables:
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(suppression)")}
            if "state" not in columns:  # written before pending erasures were recorded
                self.db.execute(
                    "ALTER TABLE suppression ADD COLUMN state TEXT NOT NULL DEFAULT 'done'"
                )
        self.db.executescript(SCHEMA)
        self.seal = Seal(
            self.db, self.keys, _SEALED, self.path, adopt=self.adopt, numbered=NUMBERED
        )
        self.seal.check()
        if not self.db.execute("SELECT 1 FROM meta WHERE key = 'scheme'").fetchone():
            with self.seal.transaction() as db:
                db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('scheme', ?)", (found,))

    def _check_log(self) -> None:
        """The ledger's writes against its audit log (`against_log`, as the sent record's):
        refused when it holds fewer writes than the log records (emptied, or an older copy
        put back) or other seals; a last write whose entry a crash cut gets it now. A new
        ledger's log starts (its head) before its first write."""
        self.audit.repair()  # an append a crash cut short
        if self.audit.path.exists() and self.audit.verify():
            raise UnusableFileError(
                self.path,
                f"its audit log {self.audit.path.name} does not verify with this key: the"
                " wrong key, or a tampered log",
                "nothing was read; give the key it was written with, or `dsar audit verify`"
                " its audit log",
            )
        problems, cut = against_log(self.seal, self.audit, self.path.name, lost_fix=LOST_FIX)
        if problems:
            raise RecordTamperedError(self.path, problems)
        if cut is not None:
            action, request, rows = self.db.execute(
                "SELECT action, request, rows FROM writes WHERE seq = ?", (cut,)
            ).fetchone()
            details = {"request": request, "rows": rows, "repaired": True}
            self._log(str(action), cut, self.seal.state(), details)
        if not self.audit.path.exists():
            self.audit._write_head(0, GENESIS)
            private_file(self.audit.path)

    def _write(self, db: sqlite3.Connection, action: str, request: str | None, rows: int) -> int:
        """One numbered row of `writes`, inside the write's transaction; its number."""
        day = datetime.now(UTC).date().isoformat()
        db.execute(
            "INSERT INTO writes (action, request, rows, day) VALUES (?, ?, ?, ?)",
            (action, request, rows, day),
        )
        return int(db.execute("SELECT count(*) FROM writes").fetchone()[0])

    def _log(
        self, action: str, write: int, state: str | None, details: Mapping[str, object]
    ) -> None:
        """The write's audit entry: what it did, its number and the seals it left."""
        self.audit.append(
            f"ledger.{action}",
            details={**details, "record": self.path.name, "write": write, "state": state},
        )

    def _ref(self, identifier: SubjectKey) -> str:
        if self.scheme == LEGACY_SCHEME:
            return _legacy_ref(self.keys, identifier)
        return ledger_ref(self.keys, identifier)

    def sql_ref(self, identifier_sql: str) -> tuple[str, list[object]]:
        """DuckDB SQL computing this ledger's reference of a 'kind=value' VARCHAR expression
        (normalised as the ledger keeps it), and its parameters: the keys go in bound, never
        into the SQL text."""
        return self._sql_ref(identifier_sql)

    def refs(self, reasons: Iterable[Reason], *, folded: bool = False) -> list[str]:
        """The references recorded under any of `reasons`, sorted (keyed hashes, never who).

        With `folded`, each email's folded reference too (`folded`): for leaving people out
        of marketing only, never for finding rows to erase."""
        wanted = sorted({r.value for r in reasons})
        if not wanted:
            return []
        marks = ", ".join("?" * len(wanted))
        sql = f"SELECT ref FROM suppression WHERE reason IN ({marks})"
        if folded:
            sql += f" UNION SELECT ref FROM folded WHERE reason IN ({marks})"
        rows = self.db.execute(
            f"SELECT DISTINCT ref FROM ({sql}) ORDER BY ref", wanted * (2 if folded else 1)
        ).fetchall()
        return [r[0] for r in rows]

    def entry_refs(self, reasons: Iterable[Reason]) -> dict[tuple[str, str], set[str]]:
        """Each entry (its request and reason) recorded under any of `reasons`, with every
        reference it holds, folded ones too (keyed hashes, never who): what a reader needs to
        say how many entries it could match, not only how many references."""
        wanted = sorted({r.value for r in reasons})
        found: dict[tuple[str, str], set[str]] = {}
        if not wanted:
            return found
        marks = ", ".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT request, reason, ref FROM suppression WHERE reason IN ({marks})"
            f" UNION SELECT request, reason, ref FROM folded WHERE reason IN ({marks})",
            wanted * 2,
        ).fetchall()
        for request, reason, ref in rows:
            found.setdefault((str(request), str(reason)), set()).add(str(ref))
        return found

    def _sql_ref(self, identifier_sql: str) -> tuple[str, list[object]]:
        if self.scheme == LEGACY_SCHEME:
            return f"sha256(? || '|' || {identifier_sql})", [self.keys.legacy_ledger_secret()]
        return _sql_ref(self.keys, identifier_sql)

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    def add(
        self,
        identifiers: Iterable[SubjectKey],
        reason: Reason,
        request: str,
        since: date | None = None,
        *,
        pending: bool = False,
        as_found: bool = False,
    ) -> int:
        """Record every identifier of a person under `reason`; returns how many were new.

        Each email and phone is read first as an audience reads a list
        (`canonical_identifier`: an extension cut off, `<...>`, `mailto:` and quotes
        unwrapped), so that the entry matches the person; one that cannot be read is
        refused (`IdentifierError`), never recorded in a form that matches nobody.
        `as_found`: identifiers read from the export (an erasure), kept as the export holds
        them.

        With `pending`, the entries say the change is under way (an erasure before its files
        are committed): `complete` marks them done, `withdraw_pending` removes them.
        """
        day = (since or datetime.now(UTC).date()).isoformat()
        state = State.PENDING if pending else State.DONE
        keys = list(identifiers) if as_found else [canonical_key(k) for k in identifiers]
        folded = {
            SubjectKey(k.kind, value)
            for k in keys
            if k.kind is IdentityKind.EMAIL
            for form in (k.value, *idn_forms(k.value))
            for rules in (PLAIN, PEOPLE_RULES)
            if (value := normalize(k.kind, form, rules)) is not None
        }
        # a phone also under its last nine digits (the loose form, for leaving out only):
        # its national and international writings, however the export holds them, meet it
        folded |= {
            SubjectKey(k.kind, phone_suffix(value))
            for k in keys
            if k.kind is IdentityKind.PHONE
            and (value := normalize(k.kind, k.value, PLAIN)) is not None
        }
        with self.seal.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO suppression (ref, reason, request, since, state)"
                " VALUES (?, ?, ?, ?, ?)",
                [(self._ref(k), reason.value, request, day, state.value) for k in keys],
            )
            added = db.total_changes - before
            db.executemany(
                "INSERT OR IGNORE INTO folded (ref, reason, request, since, state)"
                " VALUES (?, ?, ?, ?, ?)",
                [(self._ref(k), reason.value, request, day, state.value) for k in sorted(folded)],
            )
            write = self._write(db, "added", request, added)
        details = {"request": request, "reason": reason.value, "rows": added, "pending": pending}
        self._log("added", write, self.seal.last_state, details)
        return added

    def complete(self, request: str, reason: Reason = Reason.ERASED) -> int:
        """Mark the pending entries of `request` done (its change is committed); how many."""
        with self.seal.transaction() as db:
            args = (State.DONE.value, request, reason.value, State.PENDING.value)
            db.execute(
                "UPDATE folded SET state = ?, mac = NULL WHERE request = ? AND reason = ?"
                " AND state = ?",
                args,
            )
            done = db.execute(
                "UPDATE suppression SET state = ?, mac = NULL WHERE request = ? AND reason = ?"
                " AND state = ?",
                args,
            ).rowcount
            write = self._write(db, "completed", request, done)
        details = {"request": request, "reason": reason.value, "rows": done}
        self._log("completed", write, self.seal.last_state, details)
        return done

    def withdraw_pending(self, request: str, reason: Reason = Reason.ERASED) -> int:
        """Remove the pending entries of `request` (its change was rolled back); how many."""
        with self.seal.transaction() as db:
            args = (request, reason.value, State.PENDING.value)
            db.execute("DELETE FROM folded WHERE request = ? AND reason = ? AND state = ?", args)
            gone = db.execute(
                "DELETE FROM suppression WHERE request = ? AND reason = ? AND state = ?", args
            ).rowcount
            write = self._write(db, "withdrawn", request, gone)
        details = {"request": request, "reason": reason.value, "rows": gone}
        self._log("withdrawn", write, self.seal.last_state, details)
        return gone

    def states(
        self, requests: Iterable[str], reason: Reason = Reason.ERASED
    ) -> dict[str, tuple[State, date]]:
        """Per request id, whether its entries are done (pending if any one is not), and
        the day it was recorded."""
        wanted = set(requests)
        found: dict[str, tuple[State, date]] = {}
        for request, state, since in self.db.execute(
            "SELECT request, state, since FROM suppression WHERE reason = ?", (reason.value,)
        ):
            if request in wanted and (
                request not in found or found[request][0] is not State.PENDING
            ):
                found[request] = (State(state), date.fromisoformat(since))
        return found

    def _refs_of(self, identifier: SubjectKey, written: str | None = None) -> list[str]:
        """The references this identifier may be recorded under: its form today, and each
        older form (`dsar.subjects.identity.LEGACY_FORMS`: an entry written before a normal
        form changed) of the writings today's rule reads as it (`older_writings`: a UUID in
        capitals, an IPv6 address written out) and of `written`, the value as given (a
        phone's extension, gone from its key today, was part of it)."""
        forms = [identifier.value, *older_writings(identifier)]
        if written is not None and normalize(identifier.kind, written, PLAIN) == identifier.value:
            forms += legacy_forms(identifier.kind, written)
        return [self._ref(SubjectKey(identifier.kind, f)) for f in dict.fromkeys(forms)]

    def _entry_rows(
        self, identifier: SubjectKey, written: str | None
    ) -> list[tuple[str, str, str, str, str]]:
        refs = self._refs_of(identifier, written)
        marks = ", ".join("?" * len(refs))
        return self.db.execute(
            "SELECT ref, reason, request, since, state FROM suppression"
            f" WHERE ref IN ({marks}) ORDER BY since, request, ref",
            refs,
        ).fetchall()

    def reasons(self, identifier: SubjectKey, *, written: str | None = None) -> set[Reason]:
        """Why this identifier is suppressed (empty: it is not), under its form today or an
        older one (`_refs_of`; `written`: the value as given, for a phone's extension)."""
        return {Reason(r[1]) for r in self._entry_rows(identifier, written)}

    def entries_for(
        self, identifier: SubjectKey, *, written: str | None = None
    ) -> list[LedgerEntry]:
        """The entries recording this identifier (references only), under its form today or
        an older one (`reasons`)."""
        return [
            LedgerEntry(r[0], Reason(r[1]), r[2], date.fromisoformat(r[3]), State(r[4]))
            for r in self._entry_rows(identifier, written)
        ]

    def is_suppressed(
        self, identifier: SubjectKey, *reasons: Reason, written: str | None = None
    ) -> bool:
        """True when the identifier is in the ledger (for any of `reasons`, if given), under
        its form today or an older one (`reasons`)."""
        found = self.reasons(identifier, written=written)
        return bool(found & set(reasons)) if reasons else bool(found)

    def sql_excluding(
        self,
        table: Table,
        reasons: Iterable[Reason],
        rules: MatchRules | None = None,
        catalog: Catalog | None = None,
    ) -> tuple[str, list[object]]:
        """A SQL condition true for the rows of `table` that name nobody in the ledger under
        `reasons`: each identity column hashed in SQL and compared with the ledger's
        references (the ledger holds no identifier). With `catalog`, a table owned through a
        parent (`owned_through`) also loses the rows whose parent row names such a person,
        to any depth. An email column is also compared folded (`+tags` and Gmail dots
        removed, googlemail.com as gmail.com) with the emails the ledger holds folded: an
        extract leaves out the person who objected as kaitlinsalazar+news@googlemail.com and
        is held as kaitlin.salazar@gmail.com, as an audience does (leaving out, never
        finding rows to erase). Each value is also compared under its older normal forms
        (`sql_legacy_forms`), where they differ from today's: an entry written before the
        form changed. "TRUE" when nobody is recorded."""
        refs = self.refs(reasons)
        if not refs:
            return "TRUE", []
        exact = set(refs)
        loose = self.refs(reasons, folded=True)
        folded = [r for r in loose if r not in exact]
        return self._excluding(table, refs, rules or MatchRules(), catalog, 0, folded, loose)

    def _excluding(
        self,
        table: Table,
        refs: list[str],
        rules: MatchRules,
        catalog: Catalog | None,
        depth: int,
        folded: list[str] | None = None,
        loose: list[str] | None = None,
    ) -> tuple[str, list[object]]:
        parts: list[str] = []
        params: list[object] = []
        for col, kind in table.identity_columns().items():
            if loose and kind is IdentityKind.PHONE:
                # its last nine digits too, against every reference (a ledger written under
                # the nine-digit rule holds only those): a suffix leaves out, never erases
                tail = sql_phone_suffix(sql_normalize(kind, quote_identifier(col), PLAIN))
                ref_sql, ref_params = self._sql_ref(f"'{kind.value}=' || {tail}")
                parts.append(
                    f"({tail} IS NULL OR {ref_sql} NOT IN (SELECT unnest(CAST(? AS VARCHAR[]))))"
                )
                params += [*ref_params, loose]
            norm = sql_normalize(kind, quote_identifier(col), rules)
            ref_sql, ref_params = self._sql_ref(f"'{kind.value}=' || {norm}")
            parts.append(
                f"({norm} IS NULL OR {ref_sql} NOT IN (SELECT unnest(CAST(? AS VARCHAR[]))))"
            )
            params += [*ref_params, refs]
            # an entry written under an older normal form (`LEGACY_FORMS`: NULL wherever it
            # is today's, so only such values pay for a second hash): the same person. Only
            # where today's form is not NULL, as `legacy_forms` gives none there: a value read
            # as nobody today (too few digits, a placeholder) is nobody under an older form
            for old in sql_legacy_forms(kind, quote_identifier(col), rules):
                ref_sql, ref_params = self._sql_ref(f"'{kind.value}=' || {old}")
                parts.append(
                    f"({old} IS NULL OR {norm} IS NULL"
                    f" OR {ref_sql} NOT IN (SELECT unnest(CAST(? AS VARCHAR[]))))"
                )
                params += [*ref_params, refs]
            if loose and kind is IdentityKind.PHONE:
                # and the last nine digits of an older key (an extension's digits glued
                # on), as the ledger's `folded` table recorded them then: leaving out only
                # (where the plain form today is not NULL, as above)
                plain = sql_normalize(kind, quote_identifier(col), PLAIN)
                for old in sql_legacy_forms(kind, quote_identifier(col), PLAIN):
                    tail = sql_phone_suffix(old)
                    ref_sql, ref_params = self._sql_ref(f"'{kind.value}=' || {tail}")
                    parts.append(
                        f"({tail} IS NULL OR {plain} IS NULL OR {ref_sql} NOT IN"
                        " (SELECT unnest(CAST(? AS VARCHAR[]))))"
                    )
                    params += [*ref_params, loose]
            if folded and kind is IdentityKind.EMAIL:
                fold = sql_normalize(kind, quote_identifier(col), PEOPLE_RULES)
                ref_sql, ref_params = self._sql_ref(f"'{kind.value}=' || {fold}")
                parts.append(
                    f"({fold} IS NULL OR {ref_sql} NOT IN (SELECT unnest(CAST(? AS VARCHAR[]))))"
                )
                params += [*ref_params, folded]
        own = table.owned_through
        if own is not None and catalog is not None and depth < len(catalog.tables):
            parent = catalog.tables[own.parent_table]
            cond, cond_params = self._excluding(
                parent, refs, rules, catalog, depth + 1, folded, loose
            )
            if cond != "TRUE":
                child, key = quote_identifier(own.column), quote_identifier(own.parent_column)
                parts.append(
                    f"({child} IS NULL OR {child} NOT IN (SELECT {key} FROM"
                    f" {quote_identifier(own.parent_table)} WHERE {key} IS NOT NULL"
                    f" AND NOT ({cond})))"
                )
                params += cond_params
        return (" AND ".join(parts) or "TRUE"), params

    def entries(self) -> list[LedgerEntry]:
        """Every entry (references only)."""
        rows = self.db.execute(
            "SELECT ref, reason, request, since, state FROM suppression"
            " ORDER BY since, request, ref"
        ).fetchall()
        return [
            LedgerEntry(r[0], Reason(r[1]), r[2], date.fromisoformat(r[3]), State(r[4]))
            for r in rows
        ]

    def find_in_export(
        self,
        catalog: Catalog,
        engine: Engine,
        reason: Reason = Reason.ERASED,
        rules: MatchRules | None = None,
        requests: set[str] | None = None,
    ) -> list[SubjectRequest]:
        """The people under `reason` who appear in this export, one request per ledger request.

        Each identity column is hashed in SQL and compared with the ledger, so a restored
        backup can be cleaned again (`replay`) without the ledger holding any identifier;
        under its older normal forms too (`_held_values`), the value found given in today's
        form. With `requests`, only the people recorded under those request ids.
        """
        rules = rules or MatchRules()
        refs = [
            (ref, request)
            for ref, request in self.db.execute(
                "SELECT ref, request FROM suppression WHERE reason = ?", (reason.value,)
            ).fetchall()
            if requests is None or request in requests
        ]
        if not refs:
            return []
        by_ref = dict(refs)
        found: dict[str, set[SubjectKey]] = {}
        for name, table in catalog.tables.items():
            if table.role is not Role.CONTROLLER:
                continue
            for col, kind in table.identity_columns().items():
                for value, ref in self._held_values(engine, name, col, kind, rules, by_ref):
                    found.setdefault(by_ref[ref], set()).add(SubjectKey(kind, value))
        return [
            SubjectRequest(request, tuple(sorted(keys))) for request, keys in sorted(found.items())
        ]

    def _held_values(
        self,
        engine: Engine,
        name: str,
        col: str,
        kind: IdentityKind,
        rules: MatchRules,
        by_ref: Mapping[str, str],
    ) -> list[tuple[str, str]]:
        """(today's form, the reference the ledger holds) for each value of a column the
        ledger holds, by its form today or an older one (`sql_legacy_forms`: an entry
        written before a normal form changed, the value's exact key then, so the same
        person). The column's distinct cells are read, each distinct pair of forms hashed
        once, the older one only where it is not today's; the value found is today's form,
        which the erasure then searches by."""
        column = quote_identifier(col)
        norm = sql_normalize(kind, column, rules)
        olds = sql_legacy_forms(kind, column, rules)
        ref_sql, params = self._sql_ref(f"'{kind.value}=' || v")
        held = "(SELECT unnest(CAST(? AS VARCHAR[])))"
        # the column's distinct cells first, then read: a log repeats them
        cells = f"(SELECT DISTINCT {column} AS {column} FROM {quote_identifier(name)})"
        picks, hashes = [f"{norm} AS v"], [f"{ref_sql} AS r0"]
        for i, old in enumerate(olds, start=1):
            old_sql, old_params = self._sql_ref(f"'{kind.value}=' || o{i}")
            picks.append(f"{old} AS o{i}")
            hashes.append(f"(CASE WHEN o{i} IS NOT NULL AND o{i} <> v THEN {old_sql} END) AS r{i}")
            params += old_params
        names = [f"r{i}" for i in range(len(olds) + 1)]
        sql = (
            f"SELECT v, {', '.join(names)} FROM (SELECT v, {', '.join(hashes)} FROM"
            f" (SELECT DISTINCT * FROM (SELECT {', '.join(picks)} FROM {cells})"
            " WHERE v IS NOT NULL))"
            f" WHERE {' OR '.join(f'{r} IN {held}' for r in names)}"
        )
        rows = engine.query(sql, [*params, *[sorted(by_ref)] * len(names)])
        values = rows.column("v").to_pylist()
        return [
            (value, ref)
            for r in names
            for value, ref in zip(values, rows.column(r).to_pylist(), strict=True)
            if ref in by_ref
        ]

    def erased_before(
        self,
        keys: Iterable[SubjectKey],
        catalog: Catalog,
        engine: Engine,
        rules: MatchRules | None = None,
        *,
        written: Iterable[str] = (),
    ) -> dict[str, set[SubjectKey]]:
        """For a person asking again after an erasure: per earlier erasure request naming one
        of `keys` (under its form today or an older one; `written`: the values as the person
        gave them, whose older forms only they tell, `_refs_of`), the identifiers recorded
        then that are still in the export.

        After an erasure the rows kept under a legal obligation (invoices, say) may carry
        only an identifier the person no longer has anywhere else (a customer id whose
        account was deleted); the ledger's keyed references find them again.
        """
        given = [None, *written]
        refs = sorted({r for k in keys for w in given for r in self._refs_of(k, w)})
        if not refs:
            return {}
        marks = ", ".join("?" * len(refs))
        earlier = {
            row[0]
            for row in self.db.execute(
                f"SELECT DISTINCT request FROM suppression WHERE reason = ? AND ref IN ({marks})",
                (Reason.ERASED.value, *refs),
            ).fetchall()
        }
        if not earlier:
            return {}
        found = self.find_in_export(catalog, engine, Reason.ERASED, rules, earlier)
        return {r.label: set(r.keys) for r in found}


_SQLITE_HEADER = b"SQLite format 3\x00"


def refuse_not_a_ledger(path: Path) -> None:
    """Refuse a file that is not a ledger: empty (0 bytes), not SQLite, or without the
    ledger's table. Opened, it would read as a ledger holding nobody, and be sealed so.

    Raises:
        UnusableFileError: naming what the file is; nothing was read or written.
    """
    fix = (
        "nothing was read or written; restore the ledger from a backup (a ledger emptied or"
        " replaced would leave everyone it holds in audiences and extracts)"
    )
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise UnusableFileError(path, f"the ledger cannot be read ({exc.strerror})", fix) from None
    if not head:
        raise UnusableFileError(path, "an empty file (0 bytes), not a ledger", fix)
    if head != _SQLITE_HEADER:
        raise UnusableFileError(path, "not a ledger (not a SQLite file)", fix)
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError:
        raise UnusableFileError(path, "not a ledger (a damaged SQLite file)", fix) from None
    finally:
        db.close()
    if "suppression" not in tables:
        raise UnusableFileError(path, "not a ledger (it holds no suppression table)", fix)


def audit_path(ledger: Path) -> Path:
    """The audit log of the ledger at `ledger`, by default: `<ledger>.audit.jsonl`."""
    return ledger.with_name(ledger.name + ".audit.jsonl")


def verify_ledger(path: str | Path, keys: Keys, audit: str | Path | None = None) -> list[str]:
    """Check a ledger without changing it: a file that is not one, every table it must
    hold (a dropped one is named), every row's MAC and every seal, then its writes against
    its audit log (an emptied ledger or an older copy put back). Empty: intact."""
    path = Path(path)
    if not path.is_file():
        return [f"no ledger at {path}"]
    try:
        refuse_not_a_ledger(path)
    except UnusableFileError as exc:
        return [exc.problem]
    log = AuditLog(Path(audit) if audit else audit_path(path), keys)
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    found: list[str] = []
    cut: int | None = None
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        sealed = {t: cs for t, cs in _SEALED.items() if t != "writes" or t in tables}
        seal = Seal(db, keys, sealed, path, read_only=True, numbered=NUMBERED)
        if "seals" not in tables:  # verify_record names it; nothing to compare
            pass
        elif "writes" in tables:
            found, cut = against_log(seal, log, path.name, lost_fix=LOST_FIX)
        else:  # written before writes were logged: none may be logged
            logged = len(logged_writes(log, path.name))
            found = [f"the ledger holds no writes, its audit log records {logged}"] * (logged > 0)
    finally:
        db.close()
    problems = verify_record(path, keys, sealed, numbered=NUMBERED if "writes" in tables else ())
    problems += found + log_problems(log)
    if cut is not None:
        problems.append(
            f"write {cut}: its entry is missing from the audit log (a crash cut it): the next"
            " command that opens the ledger adds it"
        )
    return problems


def log_problems(log: AuditLog) -> list[str]:
    """The ledger's audit log's own chain, where it exists."""
    return [f"{log.path.name}: {p}" for p in log.verify()] if log.path.exists() else []


def person_identifiers(engine: Engine, identifiers: Iterable[SubjectKey]) -> list[SubjectKey]:
    """Every identifier the export holds for the people of `identifiers` that is theirs
    alone (`person_identifiers_shared`, without the count)."""
    return person_identifiers_shared(engine, identifiers)[0]


def person_identifiers_shared(
    engine: Engine, identifiers: Iterable[SubjectKey]
) -> tuple[list[SubjectKey], int]:
    """Every identifier the export holds for the people of `identifiers` (an account id, an
    email): the same resolution as an audience's (`dsar.subjects.people`: strong identifiers
    joined across tables, `+tags` and Gmail dots folded, phones attached), so an objection
    recorded under an account id names every upload of its person. Only strong identifiers
    lead to a person (a phone is shared: it leads to itself only). The given ones first.

    An identifier the export holds for several people (a family's landline, `people_shared`)
    is left out unless it was given: it would name the other person's uploads. Returns the
    identifiers and how many were left out so (a count, never which)."""
    from dsar.engine import scratch_connection
    from dsar.subjects.identity import STRONG
    from dsar.subjects.people import node_sql, resolve_people

    given = list(dict.fromkeys(identifiers))
    con = scratch_connection()
    try:
        resolve_people(engine, con)
        nodes = [
            row[0]
            for key in given
            if key.kind in STRONG
            and (
                row := con.execute(
                    f"SELECT {node_sql(key.kind, 'v')} FROM (SELECT ? AS v)", [key.value]
                ).fetchone()
            )
            and row[0] is not None
        ]
        if not nodes:
            return given, 0
        # a given identifier several people share (a team inbox) leads to itself only
        shared_nodes = {r[0] for r in con.execute("SELECT node FROM people_shared").fetchall()}
        nodes = [n for n in nodes if n not in shared_nodes]
        if not nodes:
            return given, 0
        found = con.execute(
            "SELECT DISTINCT m.kind, m.value, EXISTS (SELECT 1 FROM people_shared s"
            " WHERE s.kind = m.kind AND s.value = m.value) FROM people_nodes n"
            " JOIN people_members m USING (person) WHERE n.node IN (SELECT unnest(?))"
            " ORDER BY 1, 2",
            [nodes],
        ).fetchall()
    finally:
        con.close()
    theirs = [SubjectKey(IdentityKind(k), v) for k, v, shared in found if not shared]
    shared = {SubjectKey(IdentityKind(k), v) for k, v, shared in found if shared} - set(given)
    return list(dict.fromkeys([*given, *theirs])), len(shared)
