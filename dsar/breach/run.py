"""One call from a breach's description to its folder: scope, assess, date, write, record."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.breach.assess import assess_severity, categories, countries, named_in_text
from dsar.breach.deadlines import EEA, compute_deadlines, places_of, residence
from dsar.breach.filters import ScopeSpec
from dsar.breach.places import authority_country, read_residence
from dsar.breach.report import (
    NATURES,
    BreachManifest,
    BreachOutput,
    Incident,
    export_digests,
    shared_parent_warning,
    unrecorded_leftovers,
    write_breach,
)
from dsar.breach.scope import scope_breach
from dsar.engine import Engine
from dsar.subjects.identity import MatchRules

if TYPE_CHECKING:
    from dsar.catalog import Catalog
    from dsar.keys import Keys
    from dsar.records.breaches import Breaches, BreachRecord
    from dsar.text.engine import TextEngine

log = logging.getLogger(__name__)


def breach_scope(
    engine: Engine,
    spec: ScopeSpec,
    incident: Incident,
    out: str | Path,
    *,
    keys: Keys,
    text: TextEngine | None = None,
    audit_log: Path | None = None,
    register: Path | None = None,
    rules: MatchRules | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
) -> BreachOutput:
    """Scope a breach over the engine's export and write its folder `out`.

    `text` is the text engine that counts others named in the leaked free text (default: a
    `TextEngine` with the configured model when installed). A discovery time without a
    time zone is taken as UTC. With `audit_log` (a register's
    `<register>.audit.jsonl`), a `breach.scoped` entry records the breach, its counts and
    deadlines (no personal value), keyed with `keys`. `rules` are the access search's match
    rules (`--gmail-dots`, `--plus-addressing`, `--max-identifiers`), the same as access.
    With `register` (as `dsar breach scope --register`), the register's breaches table takes
    the breach and its deadlines (`result.registered`, `dsar.records.breaches.Breaches`) and
    its audit log (the default `audit_log`) the breach.scoped and breach.registered entries;
    an id the register holds already is refused before anything is written.
    """
    if register is not None and audit_log is None:
        audit_log = register.with_name(register.name + ".audit.jsonl")
    if incident.discovered.tzinfo is None:  # a time without a zone is UTC
        incident = replace(incident, discovered=incident.discovered.replace(tzinfo=UTC))
    incident = with_nature(incident)
    if not spec.time_reasons:  # called without the CLI: each window's column and why, as
        # the engine's catalog places it (scope.json, the report)
        from dsar.breach.filters import time_reasons

        spec = replace(spec, time_reasons=time_reasons(engine.catalog, spec))
    late = check_discovered(incident.discovered)
    if register is None:
        return _scope_and_write(
            engine, spec, incident, out, keys, text, audit_log, None, rules,
            accept_catalog_warnings, late,
        )  # fmt: skip
    from dsar.records.breaches import Breaches

    # an id the register holds is refused before anything is written (no folder, no
    # entry); the lock keeps a second scope of the same id out until this one is registered
    with _breach_lock(register), Breaches(register, keys) as book:
        book.check_new(incident.breach_id)
        unrecorded_leftovers(Path(out), book.holds)
        return _scope_and_write(
            engine, spec, incident, out, keys, text, audit_log, book, rules,
            accept_catalog_warnings, late,
        )  # fmt: skip


def with_nature(incident: Incident) -> Incident:
    """`incident` with its nature (`--nature`) and its circumstances agreeing (red team 26
    r6 F6): `--integrity` or `--availability` add to the nature, and a nature of integrity
    or availability sets the circumstance ENISA scores.

    Raises:
        UsageError: `--known-recipients` (who saw the data) on a breach that disclosed none.
    """
    from dsar.errors import UsageError

    c = incident.circumstances
    nature = set(incident.nature) | {
        name
        for name, lost in (("integrity", c.integrity), ("availability", c.availability))
        if lost
    }
    if c.known_recipients and "confidentiality" not in nature:
        raise UsageError(
            "--known-recipients",
            "--known-recipients says who saw the data, but --nature says none was disclosed",
            "add --nature confidentiality, or leave out --known-recipients",
        )
    return replace(
        incident,
        nature=tuple(n for n in NATURES if n in nature),
        circumstances=replace(
            c,
            integrity="integrity" in nature,
            availability="availability" in nature,
            disclosed="confidentiality" in nature,
        ),
    )


@contextmanager
def _breach_lock(register: Path) -> Iterator[None]:
    """The register's breach lock (the one `record_decision` takes), held exclusively."""
    import fcntl

    from dsar.io import private_file

    log = register.with_name(register.name + ".audit.jsonl")
    lock = log.with_name(log.name + ".breach-lock")
    private_file(lock)
    with lock.open("r+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def _scope_and_write(
    engine: Engine,
    spec: ScopeSpec,
    incident: Incident,
    out: str | Path,
    keys: Keys,
    text: TextEngine | None,
    audit_log: Path | None,
    book: Breaches | None,
    rules: MatchRules | None,
    accept_catalog_warnings: bool | Collection[str],
    late: list[str],
) -> BreachOutput:
    """`breach_scope` once its inputs are checked: scope, assess, write, log, register."""
    catalog = engine.catalog
    # the export's files hashed before reading and checked after: confirm finds any change
    # since scope, and a file a writer replaced or rewrote while scope read it (the bytes
    # read were not the bytes hashed) refuses the scope
    seen = export_files(catalog)
    data_files = export_digests(catalog, keys)
    scope = scope_breach(engine, spec, rules=rules, accept_catalog_warnings=accept_catalog_warnings)
    check_export_unchanged(catalog, keys, seen, data_files)
    if scope.texts and text is None:
        from dsar.text.engine import TextEngine

        text = TextEngine(known_people=())
    named = named_in_text(scope, text) if scope.texts and text is not None else None
    # cards, IBANs, secrets, ID numbers and health words in the leaked free text count as
    # the same data in a column would: categories, severity, consequences and letters
    found = categories(
        scope, catalog, special=incident.special, in_text=named.found if named else None
    )
    others = named.others if named is not None else 0
    # country and state cells read into codes, in place: an unreadable cell is never kept
    read = read_residence(scope.people, incident.residence_unknown)
    places = residence(  # a person with rows in several places counts in each (F18)
        [pair for p in scope.people for pair in places_of(p)], unknown=incident.residence_unknown
    )
    if not scope.people:  # no one reached: the register still takes the breach (Art. 33(5))
        places[incident.residence_unknown] += 0
    per_state = Counter(
        (state or "?") for p in scope.people for code, state in places_of(p) if code == "US"
    )
    established, why = establishment(catalog.controller.supervisory_authority, incident)
    deadlines = compute_deadlines(
        incident.discovered,
        places,
        regimes=incident.regimes,
        per_state=per_state,
        established=established,
        customers=sum(len(per) for per in scope.held_for_customers.values()),
        encrypted=incident.circumstances.encrypted,
    )
    severity = assess_severity(catalog, scope, found, incident.circumstances, named)
    done: list[str] = []
    held: list[BreachRecord] = []

    def record(manifest: BreachManifest, vouch: Callable[[], None]) -> None:
        """The audit entry and the registration, while the folder is still the staging one:
        a scope killed before it is registered leaves no folder under `out` (and the audit
        log a breach.scoped with no breach.registered, which `audit verify` reports); from
        just before the registration (`vouch`), a kill leaves the folder whole for the next
        run to name."""
        if audit_log is not None:
            from dsar.records.audit import AuditLog

            AuditLog(audit_log, keys).append(
                "breach.scoped",
                request=incident.breach_id,
                tables=scope.rows,
                details={
                    "discovered": incident.discovered.isoformat(),
                    "people": len(scope.people),
                    "severity": severity.band,
                    "notify_people_recommended": severity.notify_people,
                    "deadlines": {
                        d.rule: d.due.isoformat() if d.due else d.period for d in deadlines
                    },
                    "register": book is not None,  # a breach.registered entry follows
                },
            )
            done.append(f"audit entry breach.scoped written to {audit_log.name}")
        if book is not None:
            vouch()
            held.append(register_scope(book, manifest, out))

    result = write_breach(
        catalog,
        scope,
        incident,
        Path(out),
        keys=keys,
        found=found,
        deadlines=deadlines,
        severity=severity,
        countries=countries(scope),
        others=others,
        engine_name=engine.name,
        residence=read.as_json() | {"established": established or "none", "why": why},
        data_files=data_files,
        before_rename=record,
        named=named,
    )
    result.notes += late + scope.notes + read.notes
    if shared := shared_parent_warning(scope.set_aside):
        result.notes.append(shared)
    if silent := sum(p.contact is None for p in scope.people):
        result.notes.append(
            f"NOTICE: {silent} affected person(s) have no email or phone of their own (an"
            " account holder's is the one on their account): no letter; they are listed in"
            " affected.parquet as 'no contact channel': reach them another way"
        )
    if not scope.people and not scope.held_for_customers:
        result.notes.append(
            "no one reached: the breach is still recorded in the internal breach register"
            " (Art. 33(5)); see the deadlines in scope.json"
        )
    result.notes += [
        f"NOTICE: {d.when}"
        if d.rule == "not-covered-us-no-state"
        else f"NOTICE: {d.people} affected people live in {d.where}, which this tool holds no"
        " rule for: find its deadlines before relying on the list"
        for d in deadlines
        if d.applies.value == "not_covered"
    ]
    result.notes += done
    result.registered = held[0] if held else None
    return result


def export_files(catalog: Catalog) -> dict[str, tuple[int, ...]]:
    """Each export file of the catalog's tables (by path) with what says it is the same file,
    unwritten: device, inode, size, and modification and change times in nanoseconds. A
    file renamed over (an export job's `mv new.csv tickets.csv`) or rewritten in place
    changes one of them, even where it ends with the same bytes."""
    out: dict[str, tuple[int, ...]] = {}
    for name in sorted(catalog.tables):
        for path in catalog.files(name):
            try:
                st = path.stat()
            except OSError:
                out[str(path)] = ()
                continue
            out[str(path)] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return out


def check_export_unchanged(
    catalog: Catalog,
    keys: Keys,
    seen: dict[str, tuple[int, ...]],
    digests: dict[str, dict[str, str]],
) -> None:
    """Refuse a scope whose export changed while it was read: a file added, gone, replaced
    or rewritten since `seen` and `digests` were taken before reading. scope.json records
    the SHA-256 of the files it read; a writer in between would have it vouch (and confirm
    pass) for bytes scope never counted.

    Raises:
        UsageError: an export file changed during the scope (the message names no file).
    """
    from dsar.errors import UsageError

    if export_files(catalog) == seen and export_digests(catalog, keys) == digests:
        return
    raise UsageError(
        "--catalog",
        "the export changed while scope read it (a file was replaced, rewritten, added or"
        " removed): the counts would not match the checksums recorded; nothing was written",
        "scope again once the export job writing these files has finished (or scope a copy"
        " of the export that nothing writes to)",
    )


OLDEST_DISCOVERY = datetime(2018, 5, 25, tzinfo=UTC)
"""GDPR's first day: a discovery before it is taken for a typing error (a wrong year)."""


def check_discovered(discovered: datetime, now: datetime | None = None) -> list[str]:
    """Refuse a discovery time in the future (beyond an hour of clock skew) or before GDPR
    applied (25 May 2018): the deadlines count from it, and a wrong year gives wrong ones.
    Returns a notice when it is more than a year back (every deadline is past).

    Raises:
        UsageError: the time is not plausible.
    """
    from dsar.errors import UsageError

    now = now or datetime.now(UTC)
    if discovered > now + timedelta(hours=1):
        raise UsageError(
            "--discovered",
            "--discovered is in the future",
            "give when the company became aware of the breach (check the year and the zone)",
        )
    if discovered < OLDEST_DISCOVERY:
        raise UsageError(
            "--discovered",
            "--discovered is before 25 May 2018, when GDPR began to apply",
            "check the year: the deadlines count from this time",
        )
    if discovered < now - timedelta(days=366):
        return ["NOTICE: --discovered is more than a year ago: every deadline below is past"]
    return []


def establishment(authority: str, incident: Incident) -> tuple[str | None, str]:
    """Where the company is established for GDPR ('EU/EEA', 'GB' or None), and why.

    `incident.established` as given (`--established`), else read from the catalog's lead
    supervisory authority: a lead authority in the EU/EEA (or the ICO) means an establishment
    there, so GDPR (UK GDPR) covers every affected person wherever they live (Art. 3(1)).
    """
    if incident.established != "auto":
        given = None if incident.established == "none" else incident.established
        return given, "stated (--established)"
    code = authority_country(authority)
    if code == "GB":
        return "GB", "read from the catalog's supervisory authority (GB)"
    if code in EEA:
        return "EU/EEA", f"read from the catalog's supervisory authority ({code})"
    return None, "not known: GDPR applies where affected people live (--established to say)"


def register_scope(book: Breaches, manifest: BreachManifest, folder: str | Path) -> BreachRecord:
    """Register in `book` the breach a `BreachManifest` (scope.json) describes (here, not in
    `dsar.records`, which knows nothing of breach scoping)."""
    severity = manifest.severity if isinstance(manifest.severity, dict) else {}
    deadlines = [d for d in manifest.deadlines if isinstance(d, dict)]
    return book.add(
        manifest.breach_id,
        discovered=manifest.discovered,
        people=manifest.counts.people,
        rows=manifest.counts.rows_total,
        severity=str(severity.get("band", "")),
        notify_people=bool(severity.get("notify_people_recommended", False)),
        deadlines=deadlines,
        folder=folder,
        scope_mac=manifest.mac,
    )


def confirm_breach(
    folder: Path,
    *,
    notify_people: bool,
    by: str,
    reason: str,
    keys: Keys,
    catalog: Catalog,
    register: Path,
    now: datetime | None = None,
) -> BreachManifest:
    """Record a person's decision on telling the people (`dsar breach confirm`, and the
    Python API `dsar.breach.confirm_breach`), on the scope the register holds for the breach.

    Before `record_decision` (which checks the folder, the export and the audit log): the
    --by and --reason read as a person would (`screen_decision_text`), and the register must
    hold the breach, registered from this very scope.json (the keyed MAC its
    `breach.registered` entry keeps; for a breach registered before the MAC was kept, its
    counts, band and deadlines): a decision never rests on a folder scoped again under the
    same id, or without --register.

    Raises:
        UsageError: the register does not hold the breach, or holds another scope of it;
            --by or --reason holds a personal value.
    """
    from dsar.breach.report import check_decision_text, record_decision
    from dsar.errors import UsageError
    from dsar.records.breaches import Breaches

    check_decision_text(by.strip(), " ".join(reason.split()))
    from dsar.review.manifest import manifest_mac_matches

    manifest = _readable_manifest(folder)
    if manifest is not None and manifest_mac_matches(keys, manifest.model_dump(mode="json")):
        # an unreadable or unsigned one, or one edited since: record_decision says why
        if not register.is_file():
            raise UsageError(
                "--register",
                f"no register at {register.name}: {manifest.breach_id} was never registered in it",
                "give the register `dsar breach scope --register` named",
            )
        with Breaches(register, keys) as book:
            try:
                record = book.get(manifest.breach_id)
            except UsageError:
                raise UsageError(
                    "--register",
                    f"{manifest.breach_id} is not in the register {register.name}: the"
                    " decision would rest on a scope no register holds",
                    "give the register its scope named (--register), or scope it again with"
                    " --register",
                ) from None
            mac = book.scope_mac(manifest.breach_id)
            told = book.people_told(manifest.breach_id)
        if not _same_scope(record, manifest, mac, keys):
            raise UsageError(
                "FOLDER",
                f"{folder.name} is not the scope the register holds for {manifest.breach_id}"
                " (scoped again under the same id, or without --register)",
                f"confirm the folder registered for it ({Path(record.folder).name})",
            )
        if told and not notify_people:  # the people's notice recorded: --no-notify contradicts
            raise UsageError(
                "--notify",
                f"the people's notice of {manifest.breach_id} is recorded already"
                f" ({', '.join(told)}, dsar breach notified): not telling them contradicts it",
                "confirm --notify, or record why in the breach register",
            )
    return record_decision(
        folder,
        notify_people=notify_people,
        by=by,
        reason=reason,
        keys=keys,
        catalog=catalog,
        audit_log=register.with_name(register.name + ".audit.jsonl"),
        now=now,
    )


confirm_registered = confirm_breach  # the name `dsar breach confirm` has called it by


def _readable_manifest(folder: Path) -> BreachManifest | None:
    path = folder / "scope.json"
    if folder.is_symlink() or path.is_symlink():
        return None
    try:
        return BreachManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _same_scope(
    record: BreachRecord, manifest: BreachManifest, mac: str | None, keys: Keys | None = None
) -> bool:
    """Whether `manifest` is the scope `record` was registered from: its MAC as registered
    (a confirmed scope.json is signed again: its decision and `confirmed` set aside), else
    (registered before the MAC was kept) its counts, band and deadlines."""
    import hmac

    from dsar.review.manifest import manifest_mac

    if mac is not None:
        if manifest.decision is None:
            return manifest.mac is not None and hmac.compare_digest(manifest.mac, mac)
        if keys is None:
            return False
        as_scoped = manifest.model_dump(mode="json") | {
            "decision": None,
            "severity": {**manifest.severity, "confirmed": False},
        }
        return hmac.compare_digest(manifest_mac(keys, as_scoped), mac)
    severity = manifest.severity if isinstance(manifest.severity, dict) else {}
    deadlines = sorted(
        (str(d.get("rule")), str(d.get("due"))) for d in manifest.deadlines if isinstance(d, dict)
    )
    held = sorted((d.rule, d.due.isoformat() if d.due else "None") for d in record.deadlines)
    return (
        record.people == manifest.counts.people
        and record.rows == manifest.counts.rows_total
        and record.severity == str(severity.get("band", ""))
        and record.discovered == manifest.discovered.astimezone(UTC)
        and held == deadlines
    )
