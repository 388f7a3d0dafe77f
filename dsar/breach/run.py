"""One call from a breach's description to its folder: scope, assess, date, write, record."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.breach.assess import assess_severity, categories, countries, others_named
from dsar.breach.deadlines import EEA, compute_deadlines, residence
from dsar.breach.filters import ScopeSpec
from dsar.breach.places import authority_country, read_residence
from dsar.breach.report import (
    BreachManifest,
    BreachOutput,
    Incident,
    export_digests,
    write_breach,
)
from dsar.breach.scope import scope_breach
from dsar.engine import Engine
from dsar.subjects.identity import MatchRules

if TYPE_CHECKING:
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
    its audit log (the default `audit_log`) the breach.scoped and breach.registered entries.
    """
    if register is not None and audit_log is None:
        audit_log = register.with_name(register.name + ".audit.jsonl")
    if incident.discovered.tzinfo is None:  # a time without a zone is UTC
        incident = replace(incident, discovered=incident.discovered.replace(tzinfo=UTC))
    late = check_discovered(incident.discovered)
    catalog = engine.catalog
    data_files = export_digests(catalog)  # before reading: confirm finds any change since
    scope = scope_breach(engine, spec, rules=rules, accept_catalog_warnings=accept_catalog_warnings)
    found = categories(scope, catalog, special=incident.special)
    if scope.texts and text is None:
        from dsar.text.engine import TextEngine

        text = TextEngine(known_people=())
    others = others_named(scope, text) if scope.texts and text is not None else 0
    # country and state cells read into codes, in place: an unreadable cell is never kept
    read = read_residence(scope.people, incident.residence_unknown)
    places = residence(
        [(p.country, p.state) for p in scope.people], unknown=incident.residence_unknown
    )
    if not scope.people:  # no one reached: the register still takes the breach (Art. 33(5))
        places[incident.residence_unknown] += 0
    per_state = Counter((p.state or "?") for p in scope.people if p.country == "US")
    established, why = establishment(catalog.controller.supervisory_authority, incident)
    deadlines = compute_deadlines(
        incident.discovered,
        places,
        regimes=incident.regimes,
        per_state=per_state,
        established=established,
        customers=sum(len(per) for per in scope.held_for_customers.values()),
    )
    severity = assess_severity(catalog, scope, found, incident.circumstances)
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
    )
    result.notes += late + scope.notes + read.notes
    if not scope.people:
        result.notes.append(
            "no one reached: the breach is still recorded in the internal breach register"
            " (Art. 33(5)); see the deadlines in scope.json"
        )
    result.notes += [
        f"NOTICE: {d.people} affected people live in {d.where}, which this tool holds no rule"
        " for: find its deadlines before relying on the list"
        for d in deadlines
        if d.applies.value == "not_covered"
    ]
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
                "deadlines": {d.rule: d.due.isoformat() if d.due else d.period for d in deadlines},
            },
        )
        result.notes.append(f"audit entry breach.scoped written to {audit_log.name}")
    if register is not None:
        from dsar.records.breaches import Breaches

        with Breaches(register, keys) as book:
            result.registered = register_scope(book, result.manifest, out)
    return result


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
    )
