"""What a scoped breach leaves in its folder: the manifest, the people, the report, the letters.

- `scope.json`: the typed manifest (`BreachManifest`): counts, categories, residence,
  deadlines, severity, the files with their checksums. Never a personal value: tables,
  columns, counts, country codes and the conditions without their values.
- `affected.parquet`: one row per person: a number, keyed references of their identifiers
  (`subject_ref`), whether they hold an account, where they live, the tables and rows in
  scope, and the contact channel the notice goes to. The one file with personal data:
  owner-only (0600).
- `regulator-report.md`: the authority's notice, pre-filled with GDPR Art. 33(3)'s contents.
- `letters/P-0001.md` and `.html`: one notice per person with a contact (Art. 34(2)), in
  plain words, rendered by the access statement's blocks (`dsar.access.render`); a letter
  holds no personal value (the address is in `affected.parquet`, under the same number).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from dsar._version import __version__
from dsar.access.render import Block, BlockKind, links_in, to_html, to_markdown
from dsar.breach.assess import (
    BILLING,
    CONTACT,
    CREDENTIALS,
    FREE_TEXT,
    GOVERNMENT_ID,
    SPECIAL,
    CategoryCount,
    Circumstances,
    Severity,
    column_categories,
)
from dsar.breach.deadlines import Deadline
from dsar.errors import OutputExistsError
from dsar.io import atomic_write_text, private_dir, sha256_file, tmp_name
from dsar.records.audit import subject_ref
from dsar.review.manifest import InputRef, OutputFile, ToolInfo, UtcTime

if TYPE_CHECKING:
    from dsar.breach.scope import AffectedPerson, Scope
    from dsar.catalog.models import Catalog
    from dsar.keys import Keys

FORMAT_VERSION = 1

CONSEQUENCES = {
    CREDENTIALS: "someone could sign in as you, or use the apps you connected to us",
    CONTACT: "you may get emails, messages or calls pretending to be us (phishing)",
    BILLING: "someone could try to use your billing details for fraud",
    GOVERNMENT_ID: "someone could try to use your identity number to pretend to be you",
    FREE_TEXT: "what you wrote to us may be read by others",
    SPECIAL: "sensitive details about you may be read by others",
}
FOR_AUTHORITY = {
    CREDENTIALS: "account takeover: the credentials let others sign in as the people or use"
    " their connected apps",
    CONTACT: "phishing and impersonation using the people's contact details",
    BILLING: "fraud using billing details",
    GOVERNMENT_ID: "identity theft using identity numbers",
    FREE_TEXT: "disclosure of what people wrote, and of others they named",
    SPECIAL: "disclosure of special categories of data (Art. 9): discrimination, distress",
}
ADVICE = {
    CREDENTIALS: "Change your password, and anywhere else you used the same one.",
    CONTACT: "Be careful with messages that ask for a password or a payment: we never ask"
    " for your password.",
    BILLING: "Check your bank and card statements, and tell your bank about any payment you"
    " do not recognise.",
    GOVERNMENT_ID: "Watch for accounts opened in your name; you can ask for a credit freeze.",
}


@dataclass(frozen=True)
class Incident:
    """What the company tells about the breach (never read from the data)."""

    breach_id: str
    discovered: datetime
    what_happened: str
    measures: str
    circumstances: Circumstances = field(default_factory=Circumstances)
    special: bool = False
    regimes: tuple[str, ...] = ()
    residence_unknown: str = "EU/EEA"
    established: str = "auto"  # EU/EEA, GB, none, or auto: read from the catalog's authority


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreachCounts(_Model):
    """How many, of whom: the approximate numbers Art. 33(3)(a) asks for."""

    people: int = Field(ge=0, description="persons reached (account holders and others)")
    account_holders: int = Field(ge=0, description="people with an account")
    without_account: int = Field(ge=0, description="requesters, contacts, staff: no account")
    with_contact: int = Field(ge=0, description="people with an email or phone to notify")
    rows: dict[str, int] = Field(description="rows in scope per table")
    rows_total: int = Field(ge=0, description="rows in scope, every table")
    not_linked: dict[str, int] = Field(
        description="rows in scope access links to no one (shared or unknown devices)"
    )
    held_for_customers: dict[str, JsonValue] = Field(
        description="processor tables: customers and rows (their controllers are told)"
    )
    others_named_in_text: int = Field(
        ge=0, description="distinct names, addresses and phones of others in the leaked text"
    )


class Decision(_Model):
    """A person's decision on the recommendation: tell the people or not, and why."""

    notify_people: bool = Field(description="the people are told (Art. 34)")
    by: str = Field(min_length=1, description="who decided (a name or role)")
    at: UtcTime = Field(description="when")
    reason: str = Field(min_length=3, description="why, in words (kept in the breach register)")
    follows_recommendation: bool = Field(description="the decision is what the score advised")


class BreachManifest(_Model):
    """scope.json: the typed record of a scoped breach (no personal value)."""

    kind: Literal["breach_scope"] = "breach_scope"
    format_version: int = Field(ge=1, description="version of this layout")
    tool: ToolInfo
    created_at: UtcTime
    breach_id: str
    discovered: UtcTime
    inputs: tuple[InputRef, ...]
    outputs: tuple[OutputFile, ...]
    parameters: dict[str, JsonValue] = Field(description="the scope, without values")
    counts: BreachCounts
    categories: dict[str, JsonValue]
    columns: dict[str, list[str]] = Field(description="leaked columns per table")
    countries: dict[str, int] = Field(description="people per country code")
    residence: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="how country and state cells were read (counts) and the establishment",
    )
    deadlines: list[JsonValue]
    severity: dict[str, JsonValue]
    accepted_catalog_warnings: tuple[str, ...] = ()
    decision: Decision | None = Field(
        default=None, description="a person's decision on telling the people (breach confirm)"
    )


@dataclass
class BreachOutput:
    """What `write_breach` wrote."""

    folder: Path
    manifest: BreachManifest
    letters: int
    notes: list[str] = field(default_factory=list)


def _letter_number(person: AffectedPerson) -> str:
    return f"P-{person.number:04d}"


def _write_affected(path: Path, scope: Scope, keys: Keys, letters: dict[int, str]) -> None:
    people = scope.people
    table = pa.table(
        {
            "person": pa.array([_letter_number(p) for p in people], pa.string()),
            "refs": pa.array(
                [sorted(subject_ref(keys, k) for k in p.keys) for p in people],
                pa.list_(pa.string()),
            ),
            "account_holder": pa.array([p.account_holder for p in people], pa.bool_()),
            "country": pa.array([p.country for p in people], pa.string()),
            "state": pa.array([p.state for p in people], pa.string()),
            "tables": pa.array([sorted(p.rows) for p in people], pa.list_(pa.string())),
            "rows_in_scope": pa.array([sum(p.rows.values()) for p in people], pa.int64()),
            "contact_kind": pa.array(
                [p.contact.kind.value if p.contact else None for p in people], pa.string()
            ),
            "contact": pa.array([p.contact.value if p.contact else None for p in people]),
            "letter": pa.array([letters.get(p.number) for p in people], pa.string()),
        }
    )
    tmp = tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only from the start
    os.close(fd)
    pq.write_table(table, tmp)
    tmp.chmod(0o600)
    tmp.replace(path)


def _person_categories(catalog: Catalog, scope: Scope, person: AffectedPerson) -> set[str]:
    found = set()
    for name in person.rows:
        for column in scope.columns[name]:
            found |= column_categories(catalog, name, column)
    return found


def _letter(
    catalog: Catalog, scope: Scope, incident: Incident, person: AffectedPerson, special: bool
) -> list[Block]:
    controller = catalog.controller
    contact = controller.dpo or controller.contact
    kinds = _person_categories(catalog, scope, person) | ({SPECIAL} if special else set())
    held = sorted({catalog.tables[t].description for t in person.rows})
    consequences = [CONSEQUENCES[k] for k in CONSEQUENCES if k in kinds] or [
        "others may have seen some of your data"
    ]
    advice = [ADVICE[k] for k in ADVICE if k in kinds]
    advice.append(f"Write to us with any question: {contact}.")
    return [
        Block(BlockKind.H1, f"About your data at {controller.name}"),
        Block(BlockKind.P, "Dear customer,"),
        Block(
            BlockKind.P,
            f"We are writing to tell you about a problem with your data. {incident.what_happened}"
            f" We found out on {incident.discovered.strftime('%d %B %Y')}.",
        ),
        Block(BlockKind.H2, "What of yours was involved"),
        Block(BlockKind.UL, items=tuple(held)),
        Block(BlockKind.H2, "What could happen"),
        Block(BlockKind.UL, items=tuple(c[0].upper() + c[1:] + "." for c in consequences)),
        Block(BlockKind.H2, "What we did"),
        Block(BlockKind.P, incident.measures),
        Block(BlockKind.H2, "What you can do"),
        Block(BlockKind.UL, items=tuple(advice), links=links_in(contact)),
        Block(
            BlockKind.P,
            f"You can contact our data protection officer at {contact}, and you can complain"
            f" to {controller.supervisory_authority}.",
            links=links_in(f"{contact} {controller.supervisory_authority}"),
        ),
        Block(BlockKind.P, f"Reference: {incident.breach_id}, {_letter_number(person)}."),
    ]


def _regulator_report(
    catalog: Catalog,
    scope: Scope,
    incident: Incident,
    found: dict[str, CategoryCount],
    deadlines: list[Deadline],
    severity: Severity,
    others: int,
) -> list[Block]:
    controller = catalog.controller
    window = scope.spec.window
    when = (
        f"from {window.start.isoformat() if window.start else 'the first record'}"
        f" {'until before ' + window.end.isoformat() if window.end else 'to the last record'}"
    )
    authority = [d for d in deadlines if d.due is not None and "authority" in d.notify.lower()]
    held = scope.held_for_customers
    own = [t for t in scope.rows if t not in held]
    role = f"Controller: {controller.name}"
    if held and not own:  # only data held for customers: the company is their processor
        role = f"Processor (for its customers, the controllers): {controller.name}"
    elif held:
        role += f" (processor for its customers of {', '.join(sorted(held))})"
    processor = (
        [
            Block(BlockKind.H2, "Data held as a processor (Art. 33(2))"),
            Block(
                BlockKind.P,
                f"{controller.name} holds these records for its customers, who are their"
                " controllers: tell each customer without undue delay; each controller"
                " decides on notifying its authority and its people.",
            ),
            Block(
                BlockKind.TABLE,
                header=("table", "customers (controllers)", "records"),
                rows=tuple(
                    (t, str(len(per)), str(sum(per.values()))) for t, per in sorted(held.items())
                ),
            ),
        ]
        if held
        else []
    )
    return [
        Block(BlockKind.H1, f"Personal data breach {incident.breach_id}: notification"),
        Block(
            BlockKind.P,
            "Pre-filled from the data by the Privacy Workbench (GDPR Art. 33(3)); check every"
            " part before it is sent. It holds no breached data.",
        ),
        Block(BlockKind.H2, "Controller and contact"),
        Block(
            BlockKind.UL,
            items=(
                role,
                f"Data protection officer or contact: {controller.dpo or controller.contact}",
                f"Lead supervisory authority: {controller.supervisory_authority}",
            ),
        ),
        *processor,
        Block(BlockKind.H2, "(a) Nature of the breach"),
        Block(BlockKind.P, incident.what_happened),
        Block(
            BlockKind.UL,
            items=(
                f"Discovered: {incident.discovered.isoformat()}",
                f"Period of the records involved: {when}",
                f"Data sets: {', '.join(scope.rows)}",
                "The copy was encrypted"
                if incident.circumstances.encrypted
                else "The copy was not encrypted",
            ),
        ),
        Block(BlockKind.H3, "Approximate numbers"),
        Block(
            BlockKind.TABLE,
            header=("", "number"),
            rows=(
                ("people concerned", str(len(scope.people))),
                ("of whom account holders", str(scope.account_holders)),
                ("of whom without an account", str(scope.without_account)),
                ("records concerned", str(scope.total_rows)),
                ("records not linked to a person", str(sum(scope.not_linked.values()))),
                ("others named in free text (upper bound)", str(others)),
            ),
        ),
        Block(BlockKind.H3, "Categories of data"),
        Block(
            BlockKind.TABLE,
            header=("category", "records", "people", "columns"),
            rows=tuple(
                (name, str(c.rows), str(c.people), ", ".join(c.columns))
                for name, c in found.items()
            ),
        ),
        Block(BlockKind.H2, "(c) Likely consequences"),
        Block(
            BlockKind.UL,
            items=tuple(FOR_AUTHORITY[k] for k in FOR_AUTHORITY if k in found)
            or ("no consequence beyond disclosure identified from the categories",),
        ),
        Block(BlockKind.H3, "Severity (ENISA method)"),
        Block(
            BlockKind.UL,
            items=(
                f"Data processing context {severity.dpc.value}: {severity.dpc.reason}",
                f"Ease of identification {severity.ei.value}: {severity.ei.reason}",
                *(f"Circumstances +{f.value}: {f.reason}" for f in severity.cb),
                f"Score {severity.score}: {severity.band}",
                f"Recommendation: {severity.recommendation}"
                + (" (confirmed)" if severity.confirmed else " (to be confirmed by a person)"),
            ),
        ),
        Block(BlockKind.H2, "(d) Measures taken or proposed"),
        Block(BlockKind.P, incident.measures),
        Block(BlockKind.H2, "Deadlines"),
        Block(
            BlockKind.TABLE,
            header=("notify", "where", "due", "applies", "source"),
            rows=tuple(
                (
                    d.notify,
                    d.where,
                    d.due.isoformat() if d.due else d.period,
                    d.applies.value,
                    d.source,
                )
                for d in deadlines
            ),
        ),
        Block(
            BlockKind.P,
            "Notified after "
            + (authority[0].due.isoformat() if authority and authority[0].due else "72 hours")
            + "? State the reasons for the delay here (Art. 33(1)).",
        ),
    ]


def write_breach(
    catalog: Catalog,
    scope: Scope,
    incident: Incident,
    out: Path,
    *,
    keys: Keys,
    found: dict[str, CategoryCount],
    deadlines: list[Deadline],
    severity: Severity,
    countries: dict[str, int],
    others: int,
    engine_name: str = "duckdb",
    residence: dict[str, JsonValue] | None = None,
) -> BreachOutput:
    """Write the breach folder `out` (new, or empty): see the module's docstring.

    Raises:
        OutputExistsError: `out` holds files already.
    """
    if out.exists() and any(out.iterdir()):
        raise OutputExistsError(str(out), "a folder with files", "choose a new --out")
    private_dir(out)
    letters_dir = private_dir(out / "letters")
    written: list[OutputFile] = []
    letters: dict[int, str] = {}
    for person in scope.people:
        if person.contact is None:
            continue
        blocks = _letter(catalog, scope, incident, person, incident.special)
        name = _letter_number(person)
        atomic_write_text(letters_dir / f"{name}.md", to_markdown(blocks))
        atomic_write_text(
            letters_dir / f"{name}.html", to_html(blocks, f"About your data ({name})")
        )
        letters[person.number] = f"letters/{name}.md"
        written += [
            OutputFile.of(letters_dir / f"{name}.md", out),
            OutputFile.of(letters_dir / f"{name}.html", out),
        ]
    affected = out / "affected.parquet"
    _write_affected(affected, scope, keys, letters)
    written.append(OutputFile.of(affected, out, rows=len(scope.people)))
    report = out / "regulator-report.md"
    atomic_write_text(
        report,
        to_markdown(
            _regulator_report(catalog, scope, incident, found, deadlines, severity, others)
        ),
    )
    written.append(OutputFile.of(report, out))
    source = catalog.source
    held = {
        name: {"customers": len(per), "rows": sum(per.values())}
        for name, per in scope.held_for_customers.items()
    }
    manifest = BreachManifest(
        format_version=FORMAT_VERSION,
        tool=ToolInfo(name="privacy-workbench", version=__version__, engine=engine_name),
        created_at=datetime.now(UTC),
        breach_id=incident.breach_id,
        discovered=incident.discovered,
        inputs=(
            InputRef(
                role="catalog",
                name=source.name if source else None,
                sha256=sha256_file(source) if source else None,
            ),
        ),
        outputs=tuple(written),
        parameters={
            **scope_parameters(scope),
            "encrypted": incident.circumstances.encrypted,
            "special_categories": incident.special,
            "regimes": list(incident.regimes),
            "residence_unknown": incident.residence_unknown,
            "established": incident.established,
        },
        counts=BreachCounts(
            people=len(scope.people),
            account_holders=scope.account_holders,
            without_account=scope.without_account,
            with_contact=len(letters),
            rows=dict(scope.rows),
            rows_total=scope.total_rows,
            not_linked=dict(scope.not_linked),
            held_for_customers=held,
            others_named_in_text=others,
        ),
        categories={
            k: {"columns": list(c.columns), "rows": c.rows, "people": c.people}
            for k, c in found.items()
        },
        columns={t: list(c) for t, c in scope.columns.items()},
        countries=countries,
        residence=residence or {},
        deadlines=[d.as_json() for d in deadlines],
        severity=severity.as_json(),
        accepted_catalog_warnings=scope.accepted,
    )
    atomic_write_text(out / "scope.json", manifest.model_dump_json(indent=2) + "\n")
    return BreachOutput(out, manifest, len(letters))


def confirm_breach(
    folder: Path, *, notify_people: bool, by: str, reason: str, now: datetime | None = None
) -> BreachManifest:
    """Record a person's decision on telling the people in the folder's scope.json.

    Raises:
        ManifestError: scope.json is missing or not a breach manifest.
        UsageError: a decision is recorded already (a new one is a new breach record).
    """
    from dsar.errors import ManifestError, UsageError

    path = folder / "scope.json"
    try:
        manifest = BreachManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(
            path, [("", f"not a breach scope.json ({type(exc).__name__})")]
        ) from None
    if manifest.decision is not None:
        raise UsageError(
            "--notify",
            f"{manifest.breach_id} has a decision already, taken by {manifest.decision.by}",
            "keep it; record a change of mind as a new entry in the breach register",
        )
    recommended = bool(manifest.severity.get("notify_people_recommended"))
    decision = Decision(
        notify_people=notify_people,
        by=by,
        at=now or datetime.now(UTC),
        reason=reason,
        follows_recommendation=notify_people == recommended,
    )
    severity = {**manifest.severity, "confirmed": True}
    updated = manifest.model_copy(update={"decision": decision, "severity": severity})
    atomic_write_text(path, updated.model_dump_json(indent=2) + "\n")
    return updated


def scope_parameters(scope: Scope) -> dict[str, JsonValue]:
    """The scope's spec without values, and where each table's time was read."""
    from dsar.breach.filters import spec_summary

    return {
        **spec_summary(scope.spec),
        "time_columns": dict(scope.time_columns),
    }
