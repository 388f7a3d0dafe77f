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

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from dsar._version import __version__
from dsar.access.render import Block, BlockKind, links_in, to_html, to_markdown
from dsar.breach.assess import (
    CategoryCount,
    Circumstances,
    NamedInText,
    Severity,
    column_categories,
)
from dsar.breach.columns import (
    BILLING,
    CONTACT,
    CREDENTIALS,
    FREE_TEXT,
    GOVERNMENT_ID,
    SPECIAL,
)
from dsar.breach.deadlines import Deadline
from dsar.errors import OutputExistsError, UsageError
from dsar.faults import point
from dsar.io import (
    atomic_write_text,
    partial_folder,
    private_dir,
    sha256_file,
    tmp_name,
    unvouch,
    vouch_for,
    vouched_partials,
)
from dsar.records.audit import subject_ref
from dsar.review.manifest import (
    InputRef,
    OutputFile,
    ToolInfo,
    UtcTime,
    mac_problem,
    manifest_mac,
)

if TYPE_CHECKING:
    from dsar.breach.scope import AffectedPerson, Scope
    from dsar.catalog.models import Catalog
    from dsar.keys import Keys
    from dsar.records.breaches import BreachRecord

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


NATURES = ("confidentiality", "integrity", "availability")
"""What a breach lost (EDPB Guidelines 9/2022: a confidentiality, integrity or availability
breach, or more than one): `--nature`."""
WHAT_BY_NATURE = {
    "confidentiality": "A copy of some of our records was exposed to people who should not"
    " have seen it.",
    "integrity": "Some of our records were changed by someone who should not have changed them.",
    "availability": "Some of our records were lost, or could not be reached for a time.",
}
NATURE_CONSEQUENCES = {  # the letter's, where the breach lost integrity or availability
    "integrity": "some of your records may be wrong, and what we did based on them may be"
    " wrong too",
    "availability": "some of your records may be lost, or you may not have been able to use"
    " our service for a time",
}
NATURE_FOR_AUTHORITY = {
    "integrity": "loss of integrity: records altered; decisions and messages based on them"
    " may be wrong",
    "availability": "loss of availability: records lost or unreachable; the people may not"
    " get the service or exercise their rights",
}


def default_what(nature: Sequence[str]) -> str:
    """The letters' and report's words on what happened when `--what` is not given: one
    sentence per part of the breach's nature, and none saying records were exposed where
    nothing was disclosed.

    Examples:
        >>> default_what(["availability"])
        'Some of our records were lost, or could not be reached for a time.'
    """
    return " ".join(WHAT_BY_NATURE[n] for n in NATURES if n in nature)


def check_nature(nature: Sequence[str]) -> None:
    """Refuse a `--nature` that is empty or names something other than `NATURES`.

    Raises:
        UsageError: the nature is not one or more of confidentiality, integrity, availability.
    """
    if not nature or set(nature) - set(NATURES):
        raise UsageError(
            "--nature",
            "--nature takes confidentiality, integrity or availability (one or more)",
            "write e.g. --nature availability, or --nature confidentiality,integrity",
        )


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
    # what the breach lost (`NATURES`): without confidentiality nothing was disclosed
    nature: tuple[str, ...] = ("confidentiality",)

    def __post_init__(self) -> None:
        """Refuse a --what or --measures holding a personal value, and a breach id that is
        no plain name or holds one: all go into every letter and the regulator report (see
        `check_incident_text`, `check_breach_id`)."""
        check_breach_id(self.breach_id)
        check_incident_text(self.what_happened, self.measures)
        check_nature(self.nature)

    @property
    def disclosed(self) -> bool:
        """Whether the breach disclosed data (a confidentiality breach)."""
        return "confidentiality" in self.nature


_DIGIT_RUN = re.compile(r"\d+(?:[-._]\d+)*")
_LEADING_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}([-._]?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?!\d)"
)


def check_breach_id(breach_id: str) -> None:
    """Refuse a breach id (`--id`) that is no plain name (`dsar.io.plain_name`: letters,
    digits, `.`, `_`, `-`, at most 100 characters: no newline, Markdown, tag or control
    character) or that reads as a personal value: it is the reference in every letter, the
    report, scope.json, the register and the audit log. A personal value is what the
    detectors find (`personal_values_in`: an SSN, a card, an IBAN, a NINO ...) or nine or
    more digits in one run of digit groups (a phone, an SSN without dashes, an account
    number), a leading date (`20261129`, `2026-11-29`) set aside, so `BR-20261129-1830`
    passes. The message never repeats the id.

    Raises:
        UsageError: the id is not plain, or holds what reads as a personal value.

    Examples:
        >>> check_breach_id("BR-20261129-1830")
        >>> check_breach_id("SEC-2026-11-05-a")
    """
    from dsar.errors import UnsafeNameError, UsageError
    from dsar.io import plain_name

    try:
        plain_name(breach_id, "breach id (--id)")
    except UnsafeNameError as unsafe:
        raise UsageError("--id", str(unsafe), "name the breach like BR-2026-11-20-a") from None
    # the detectors read the id with its date set aside: the default id of a discovery at
    # 20:36 on 7 December 2026 (BR-20261207-2036) is no card number, whatever Luhn says
    found = personal_values_in(_LEADING_DATE.sub("date", breach_id, count=1))
    if any(_long_number(m.group()) for m in _DIGIT_RUN.finditer(breach_id)):
        found.append("a number of nine digits or more")
    if found:
        raise UsageError(
            "--id",
            f"--id holds what reads as personal data ({', '.join(found)}); it is the"
            " reference in every person's letter, the report and the register",
            "name the breach by its date and a letter or the incident ticket's short number"
            " (BR-2026-11-20-a), never by someone's number",
        )


def _long_number(run: str) -> bool:
    """Whether a run of digit groups (`303-555-0101`) holds nine digits or more once a
    leading date (`20261129`, `2026-11-29`) is set aside."""
    groups = re.split(r"[-._]", run)
    if re.fullmatch(r"(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])", groups[0]):
        groups = groups[1:]
    elif (
        len(groups) >= 3
        and re.fullmatch(r"(19|20)\d{2}", groups[0])
        and re.fullmatch(r"0[1-9]|1[0-2]", groups[1])
        and re.fullmatch(r"0[1-9]|[12]\d|3[01]", groups[2])
    ):
        groups = groups[3:]
    return sum(len(g) for g in groups) >= 9


def check_incident_text(what: str, measures: str) -> None:
    """Refuse --what or --measures holding what the text engine's detectors read as a
    personal value (an email, a phone, a card or bank number, a government ID), in any
    compatibility form (full-width, ideographic full stops, digits of any script), or what
    its name detection reads as a person's name (`names_in`); the message names the option
    and the kind, or the name's position, never the value.

    Raises:
        UsageError: either text holds a personal value.

    Examples:
        >>> check_incident_text("A laptop was stolen.", "We wiped it remotely.")
    """
    from dsar.errors import UsageError

    for option, text in (("--what", what), ("--measures", measures)):
        found = personal_values_in(screen_text(text))
        if found:
            raise UsageError(
                option,
                f"{option} holds what reads as personal data ({', '.join(found)}); it goes"
                " into every person's letter and the regulator report",
                f"describe the breach in {option} without anyone's address, number, card or"
                " ID (each person's letter already says what of theirs was involved)",
            )
    for option, text in (("--what", what), ("--measures", measures)):
        if at := names_in(screen_text(text)):
            where = ", ".join(str(n) for n in at)
            raise UsageError(
                option,
                f"{option} holds what reads as a person's name (at character {where}); it"
                " goes into every person's letter and the regulator report",
                f"describe the breach in {option} without naming anyone: say 'an employee',"
                " 'a customer', 'our support team'",
            )


def names_in(text: str) -> list[int]:
    """Where the text engine's name detection (the one that counts others named in leaked
    free text) finds a person's name in `text`: each name's first character, counted from 1.
    Positions only, never the name."""
    from dsar.text.engine import TextEngine
    from dsar.text.spans import PERSON

    if not text.strip():
        return []
    return [span.start + 1 for span in TextEngine(known_people=()).analyze([text], [PERSON])[0]]


_DOTS = str.maketrans({"\u3002": ".", "\uff61": ".", "\ufe12": ".", "\u2024": "."})
_CJK_DIGITS = str.maketrans(
    {
        c: str(i)
        for i, c in enumerate("\u3007\u4e00\u4e8c\u4e09\u56db\u4e94\u516d\u4e03\u516b\u4e5d")
    }
    | {"\u96f6": "0"}
)


def screen_text(text: str) -> str:
    """`text` as a reader takes it, for the personal-value screens (--what, --measures,
    confirm's --by and --reason): compatibility forms folded (NFKC: full-width letters,
    digits and @), ideographic full stops read as dots, and digits of any script
    (Arabic-Indic, Devanagari, CJK numerals ...) as ASCII digits."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", text).translate(_DOTS).translate(_CJK_DIGITS)
    return "".join(
        str(d) if not c.isascii() and (d := unicodedata.decimal(c, None)) is not None else c
        for c in folded
    )


def _sentence(text: str) -> str:
    """`text` ending as a sentence does (a full stop added where it has none)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?\u3002\"')" else text + "."


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
        ge=0,
        description="distinct people named in the leaked text who are not the row's own (a"
        " name with the address and phone next to it is one)",
    )
    time_undetermined: dict[str, int] = Field(
        default_factory=dict,
        description="rows kept in scope per table because their time is empty or unreadable"
        " (they cannot be placed outside the window)",
    )
    rows_to_several_accounts: dict[str, int] = Field(
        default_factory=dict,
        description="rows in scope per table that reach two or more account holders (an"
        " identifier accounts share, a row holding one's id and another's address): each"
        " account holder is counted and told on their own",
    )
    orphans_parent_missing: dict[str, int] = Field(
        default_factory=dict,
        description="rows in scope per table whose parent row is missing (an order line of"
        " no order): their time cannot be known, so they are kept, linked to no one",
    )
    set_aside_shared_parent_key: dict[str, int] = Field(
        default_factory=dict,
        description="rows in scope per owned table given to no one: their parent key is held"
        " by more than one person's parent rows (per-file invoice numbering), so whose they"
        " are cannot be told; for review, as access sets them aside",
    )
    reached_by_weak_identifier: int = Field(
        default=0,
        ge=0,
        description="account holders reached only because a weak or shared identifier of"
        " their own account row (a phone) is in a row in scope: counted and told",
    )
    no_contact_channel: int = Field(
        default=0,
        ge=0,
        description="people with no email or phone of their own (an account holder's is the"
        " one on their account, never another row's): no letter; reach them another way",
    )
    other_accounts_named: int = Field(
        default=0,
        ge=0,
        description="account holders, each once, whom the rows in scope name in a column"
        " that references an account but is no identity of the row (a message's recipient,"
        " a ticket's agent) and who are not among `people`: their id and what the row says"
        " of them leaked, so they count among the data subjects concerned (Art. 33(3)(a));"
        " no letter is written to them: a person decides whether they are to be told",
    )
    other_accounts_named_per_table: dict[str, int] = Field(
        default_factory=dict,
        description="the same per table in scope (an account two tables name counts in each)",
    )
    nothing_leaked: int = Field(
        default=0,
        ge=0,
        description="people reached by rows in scope but with no value in the leaked columns"
        " (`--columns phone` and their rows hold no phone): nothing of theirs leaked, so they"
        " are not among `people`, get no letter and count in no deadline",
    )
    rows_nothing_leaked: dict[str, int] = Field(
        default_factory=dict,
        description="rows in scope per table with no value in any leaked column",
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
    data_files: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="per table, each file scope read: a keyed reference of its name (never"
        " the name: it may name a person), its SHA-256",
    )
    mac: str | None = Field(
        default=None, description="keyed MAC of every other field (confirm checks it)"
    )


@dataclass
class BreachOutput:
    """What `write_breach` wrote."""

    folder: Path
    manifest: BreachManifest
    letters: int
    notes: list[str] = field(default_factory=list)
    registered: BreachRecord | None = None  # the register's entry, when given a register


def _letter_number(person: AffectedPerson) -> str:
    return f"P-{person.number:04d}"


NO_CHANNEL = "no contact channel"
"""`affected.parquet`'s contact_kind for a person with no email or phone of their own."""


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
                [p.contact.kind.value if p.contact else NO_CHANNEL for p in people], pa.string()
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


def _customer_ref(keys: Keys, table: str, customer: str) -> str:
    """A keyed reference of a customer (a controller) whose end users a table holds."""
    from dsar.keys import Purpose

    return "customer:" + keys.keyed_hash(Purpose.AUDIT_REF, f"customer={table}/{customer}")[:24]


def _write_controllers(path: Path, scope: Scope, keys: Keys) -> int:
    """The customers to tell (Art. 33(2)), owner-only: per table held for customers, each
    customer's key (as the table holds it), its keyed reference, end users and rows."""
    listed = [
        (name, customer, scope.end_users.get(name, {}).get(customer, 0), rows)
        for name, per in sorted(scope.held_for_customers.items())
        for customer, rows in sorted(per.items())
    ]
    table = pa.table(
        {
            "table": pa.array([r[0] for r in listed], pa.string()),
            "customer": pa.array([r[1] for r in listed], pa.string()),
            "customer_ref": pa.array(
                [_customer_ref(keys, r[0], r[1]) for r in listed], pa.string()
            ),
            "end_users": pa.array([r[2] for r in listed], pa.int64()),
            "rows": pa.array([r[3] for r in listed], pa.int64()),
        }
    )
    tmp = tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only from the start
    os.close(fd)
    pq.write_table(table, tmp)
    tmp.chmod(0o600)
    tmp.replace(path)
    return len(listed)


def person_columns(scope: Scope, person: AffectedPerson) -> dict[str, tuple[str, ...]]:
    """Per table of the person's rows in scope, the leaked columns that hold a value (not
    null, not blank) in one of those rows (`Scope.filled`), in the catalog's order: what of
    theirs leaked, not every column the table leaked. A scope without `filled` (built by
    hand): every leaked column."""
    out = {}
    for name in person.rows:
        groups = scope.filled.get(name)
        if groups is None:
            out[name] = scope.columns[name]
            continue
        held: set[str] = set()
        for columns, (_, numbers) in groups.items():
            if person.number in numbers:
                held |= columns
        out[name] = tuple(c for c in scope.columns[name] if c in held)
    return out


def _person_categories(
    catalog: Catalog,
    columns: dict[str, tuple[str, ...]],
    by_values: Mapping[str, Mapping[str, str]] | None = None,
) -> set[str]:
    found = set()
    for name, leaked in columns.items():
        for column in leaked:
            found |= column_categories(catalog, name, column, by_values)
    return found


def _involved(catalog: Catalog, columns: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """One item per table of the person's rows: what it is, and the details of theirs in it
    (column descriptions, else the column's name in words, as the access statement labels
    them)."""
    from dsar.access.rows import label

    items = []
    for name in sorted(columns, key=lambda t: catalog.tables[t].description):
        table = catalog.tables[name]
        words = [(table.columns[c].description or label(c)).rstrip(".") for c in columns[name]]
        what = table.description.rstrip(".")
        items.append(
            f"{what}: {', '.join(w[0].lower() + w[1:] for w in words if w)}."
            if words
            else f"{what}: no detail of yours held a value in the part that leaked."
        )
    return tuple(dict.fromkeys(items))


IN_TEXT_WORDS = {
    BILLING: "a card or bank account number",
    CREDENTIALS: "a password or another secret",
    GOVERNMENT_ID: "an identity number",
    SPECIAL: "details about your health or other sensitive matters",
}


def _in_your_text(kinds: set[str]) -> tuple[str, ...]:
    """The letter's item on what the free text of a person's rows held (kinds, no value)."""
    held = [IN_TEXT_WORDS[k] for k in IN_TEXT_WORDS if k in kinds]
    if not held:
        return ()
    return (
        f"What you wrote to us held {', '.join(held[:-1])}{' and ' if len(held) > 1 else ''}"
        f"{held[-1]}.",
    )


def _letter(
    catalog: Catalog,
    scope: Scope,
    incident: Incident,
    person: AffectedPerson,
    special: bool,
    named: NamedInText | None = None,
) -> list[Block]:
    controller = catalog.controller
    contact = controller.dpo or controller.contact
    columns = person_columns(scope, person)
    kinds = _person_categories(catalog, columns, scope.by_values) | (
        {SPECIAL} if special else set()
    )
    # a card, a password, an ID number or a health word in the free text of their own rows
    in_text = named.of_person(person.number) if named is not None else set()
    kinds |= in_text
    lost = [
        NATURE_CONSEQUENCES[n] for n in NATURES if n in incident.nature and n in NATURE_CONSEQUENCES
    ]
    if incident.disclosed:
        consequences = [CONSEQUENCES[k] for k in CONSEQUENCES if k in kinds] or [
            "others may have seen some of your data"
        ]
        consequences += lost
        advice = [ADVICE[k] for k in ADVICE if k in kinds]
    else:  # nothing was disclosed: no one else saw their data (r6 F6)
        consequences, advice = lost, []
    advice.append(f"Write to us with any question: {contact}.")
    return [
        Block(BlockKind.H1, f"About your data at {controller.name}"),
        Block(BlockKind.P, "Hello," if not person.account_holder else "Dear customer,"),
        Block(
            BlockKind.P,
            "We are writing to tell you about a problem with your data."
            f" {_sentence(incident.what_happened)} We found out on"
            f" {incident.discovered.strftime('%d %B %Y')}.",
        ),
        Block(BlockKind.H2, "What of yours was involved"),
        Block(
            BlockKind.P,
            "These are the records of yours that were involved, and in them the details"
            " that held something of yours. Details that were empty in your records are not"
            " listed: nothing of yours was in them.",
        ),
        Block(BlockKind.UL, items=_involved(catalog, columns) + _in_your_text(in_text)),
        Block(BlockKind.H2, "What could happen"),
        Block(BlockKind.UL, items=tuple(c[0].upper() + c[1:] + "." for c in consequences)),
        Block(BlockKind.H2, "What we did"),
        Block(BlockKind.P, _sentence(incident.measures)),
        Block(BlockKind.H2, "What you can do"),
        Block(BlockKind.UL, items=tuple(advice), links=links_in(contact)),
        Block(
            BlockKind.P,
            f"You can contact our data protection officer at {contact}, and you can complain"
            f" to {controller.supervisory_authority}.",
            # the controller's own address only: the authority's text (a catalog is not
            # trusted) is shown as written, never a live link in a breach letter
            links=links_in(contact),
        ),
        Block(BlockKind.P, f"Reference: {incident.breach_id}, {_letter_number(person)}."),
    ]


_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)")


def plain_markdown(blocks: list[Block]) -> str:
    """`blocks` as Markdown with no markup from their text: the catalog's descriptions and
    the incident's words are not trusted, so every block is escaped as a value from the
    data is (a tag, a `[link](...)`, a table cell), and what a renderer would make a link
    of by itself (`https://`, `www.`) has its colon or dot escaped: shown as written, never
    live, as the HTML letter shows it."""
    text = to_markdown([replace(block, data=True) for block in blocks])
    # an `&` escaped too: `&#64;` would be decoded by a Markdown viewer (CommonMark entity
    # and numeric character references), the HTML letter shows it as written
    return _AUTOLINK.sub(lambda m: "\\" + m.group(), text).replace("&", "\\&")


def shared_parent_warning(set_aside: dict[str, int]) -> str | None:
    """The console's warning on rows in scope given to no one because their parent key is
    held by more than one person's parent rows (None: no such row)."""
    rows = sum(set_aside.values())
    if not rows:
        return None
    tables = ", ".join(f"{name} {count}" for name, count in sorted(set_aside.items()) if count)
    return (
        f"WARNING: {rows} row(s) in scope ({tables}) sit under a shared parent key (a parent"
        " key that more than one person's parent rows hold, such as invoice 1 in each year's"
        " file): each belongs to one of those people, but the export does not say whose, so"
        " they are counted as linked to no one and no letter goes to their owner. A person"
        " must check whose they are (scope.json: set_aside_shared_parent_key) and tell them"
    )


def establishment_warning(residence: dict[str, JsonValue], authority: str) -> str | None:
    """A warning where the company's establishment could not be read from its supervisory
    authority (`--established auto`): GDPR's rows then follow where the people live only,
    and an EU/EEA or UK company would lose its authority notice and register row unsaid."""
    if residence.get("established") != "none" or "not known" not in str(residence.get("why")):
        return None
    return (
        "WARNING: where the company is established could not be read from the catalog's"
        f" supervisory authority ({authority!r}): GDPR and UK GDPR duties are listed only"
        " where affected people live. A company established in the EU/EEA or the UK must"
        " tell its authority within 72 hours (Art. 33(1)) and record every breach in its"
        " register (Art. 33(5)) whoever was reached: scope again with --established EU/EEA"
        " or --established GB (or --established none to say it is established in neither)"
    )


def utc_words(instant: datetime) -> str:
    """An instant in UTC, its zone said: `2026-10-31 19:00:00 UTC` (a naive one is UTC)."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    text = instant.strftime("%Y-%m-%d %H:%M:%S")
    return (text + (f".{instant.microsecond:06d}" if instant.microsecond else "")) + " UTC"


def period_words(start: datetime | None, end: datetime | None) -> str:
    """The window in words, in UTC with its zone: an end one microsecond past an instant
    (a `--to` time, inclusive) is said as that instant, included."""
    first = f"from {utc_words(start)}" if start else "from the first record"
    if end is None:
        return f"{first} to the last record"
    if end.microsecond == 1:
        return f"{first} up to and including {utc_words(end.replace(microsecond=0))}"
    return f"{first} until before {utc_words(end)}"


def window_reasons(scope: Scope) -> dict[str, str]:
    """Each table's window column, `t.column: why` (scope.json's
    `parameters.time_column_reasons`), the column alone where no reason was kept; none
    without a window."""
    if scope.spec.window.open:
        return {}
    reasons = dict(scope.spec.time_reasons)
    return {
        name: reasons.get(name, column)
        for name, column in scope.time_columns.items()
        if column is not None
    }


def period_columns(scope: Scope) -> str:
    """The columns the window was read on, for the period's line: ", read on t.c, u.d"."""
    columns = sorted({c for c in scope.time_columns.values() if c is not None})
    return f", read on {', '.join(columns)}" if columns and not scope.spec.window.open else ""


def _regulator_report(
    catalog: Catalog,
    scope: Scope,
    incident: Incident,
    found: dict[str, CategoryCount],
    deadlines: list[Deadline],
    severity: Severity,
    others: int,
    residence: dict[str, JsonValue] | None = None,
    countries: dict[str, int] | None = None,
) -> list[Block]:
    controller = catalog.controller
    unknown = establishment_warning(residence or {}, controller.supervisory_authority)
    when = period_words(scope.spec.window.start, scope.spec.window.end)
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
                header=("table", "customers (controllers)", "end users", "records"),
                rows=tuple(
                    (
                        t,
                        str(len(per)),
                        str(sum(scope.end_users.get(t, {}).values())),
                        str(sum(per.values())),
                    )
                    for t, per in sorted(held.items())
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
                f"Period of the records involved: {when}" + period_columns(scope),
                "Nature: "
                + ", ".join(n for n in NATURES if n in incident.nature)
                + ("" if incident.disclosed else " (no data was disclosed)"),
                f"Data sets: {', '.join(scope.rows)}",
                *(
                    f"Window of {name} read on: {reason}"
                    for name, reason in window_reasons(scope).items()
                ),
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
                (
                    "of whom with no contact channel of their own (no letter)",
                    str(sum(p.contact is None for p in scope.people)),
                ),
                (
                    "of whom account holders reached only through a weak or shared identifier"
                    " of theirs (a phone) in a record",
                    str(scope.weak_only),
                ),
                ("records concerned", str(scope.total_rows)),
                ("records not linked to a person", str(sum(scope.not_linked.values()))),
                (
                    "of which under a shared parent key: one of several known people's,"
                    " a person must check whose",
                    str(sum(scope.set_aside.values())),
                ),
                *(
                    (
                        (
                            "end users of customers (held as a processor)",
                            f"{scope.held_end_users} end users of {scope.held_customers} customers",
                        ),
                    )
                    if scope.end_users
                    else ()
                ),
                (
                    "records whose time is empty or unreadable (kept in scope)",
                    str(sum(scope.undetermined.values())),
                ),
                (
                    "records reaching more than one account holder (each counted)",
                    str(sum(scope.several_accounts.values())),
                ),
                ("others named in free text (distinct people, estimated)", str(others)),
                (
                    "people whose records are in scope but held no value in the leaked"
                    " columns (not counted above, no letter)",
                    str(scope.nothing_leaked),
                ),
                (
                    "other account holders the records name (a message's recipient), not"
                    " among the people concerned",
                    str(scope.referenced_total),
                ),
            ),
        ),
        *(
            [
                Block(
                    BlockKind.P,
                    f"Besides the {len(scope.people)} people concerned, the records name"
                    f" {scope.referenced_total} other account holder(s) in a field that is no"
                    " identifier of the record's own person (a message's recipient, a"
                    " ticket's agent): their account id and what the record says of them"
                    " were disclosed, so they count among the data subjects concerned"
                    f" ({len(scope.people)} + {scope.referenced_total} ="
                    f" {len(scope.people) + scope.referenced_total}, before any others named"
                    " in free text). They are not written to"
                    " automatically; a person must decide whether they are to be told.",
                )
            ]
            if scope.referenced_total
            else []
        ),
        *(
            [
                Block(
                    BlockKind.P,
                    f"{sum(scope.set_aside.values())} record(s) lie under a parent key that"
                    " more than one person's parent rows hold (a shared parent key): each"
                    " belongs to one of those people, but the export does not say whose. They"
                    " are counted above as not linked to a person; a person must check whose"
                    " they are and whether those people are to be told.",
                )
            ]
            if sum(scope.set_aside.values())
            else []
        ),
        *_residence_blocks(scope, countries, residence),
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
        Block(BlockKind.UL, items=_consequences_for_authority(incident, found)),
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
        *([Block(BlockKind.P, unknown)] if unknown else []),
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


def _consequences_for_authority(
    incident: Incident, found: dict[str, CategoryCount]
) -> tuple[str, ...]:
    """The report's likely consequences: the categories' (of a disclosure) where data was
    disclosed, and those of lost integrity or availability (`--nature`)."""
    lost = tuple(
        NATURE_FOR_AUTHORITY[n] for n in NATURES if n in incident.nature and n != "confidentiality"
    )
    if not incident.disclosed:
        return ("no data was disclosed: confidentiality is not affected", *lost)
    disclosed = tuple(FOR_AUTHORITY[k] for k in FOR_AUTHORITY if k in found) or (
        "no consequence beyond disclosure identified from the categories",
    )
    return disclosed + lost


def _residence_blocks(
    scope: Scope, countries: dict[str, int] | None, residence: dict[str, JsonValue] | None
) -> list[Block]:
    """The report's section on where the people concerned live (red team 26 r6 F8): people
    per country (scope.json's `countries`), per US state, how the country cells were read,
    and the establishment: the member states concerned of a cross-border case."""
    from dsar.breach.deadlines import places_of

    per_country = countries if countries is not None else {}
    states = Counter(
        state or "unknown" for p in scope.people for code, state in places_of(p) if code == "US"
    )
    rows = [(code, str(n)) for code, n in per_country.items()]
    rows += [(f"US, state {state}", str(n)) for state, n in sorted(states.items())]
    read = residence or {}
    items = [
        f"{label}: {read[key]}"
        for key, label in (
            ("no_country", "people with no country in the data (placed where --residence-"
             "unknown says)"),
            ("unreadable_country", "country cells that could not be read"),
            ("unreadable_state", "state cells that could not be read"),
            ("placeholder_country", "placeholder country cells (n/a, unknown)"),
            ("us_from_state", "people placed in the US from a state alone"),
        )
        if read.get(key)
    ]  # fmt: skip
    if "established" in read:
        items.append(f"Establishment: {read['established']} ({read.get('why', '')})")
    return [
        Block(BlockKind.H3, "Where the people concerned live"),
        Block(
            BlockKind.P,
            "A person whose records hold places in several countries or states counts in"
            " each of them.",
        ),
        Block(BlockKind.TABLE, header=("country", "people"), rows=tuple(rows)),
        *([Block(BlockKind.UL, items=tuple(items))] if items else []),
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
    data_files: dict[str, dict[str, str]] | None = None,
    before_rename: Callable[[BreachManifest, Callable[[], None]], None] | None = None,
    named: NamedInText | None = None,
) -> BreachOutput:
    """Write the breach folder `out` (new, or empty): see the module's docstring.

    `before_rename` is called with the finished manifest while the folder is still the
    staging one (`breach_scope` records and registers the breach there): a run killed
    before it ends leaves no folder under `out`, so no finished-looking folder of a breach
    the register does not hold.

    Everything is written into a staging folder beside it, `.<name>.partial-<8 hex>`
    (`dsar.io.partial_folder`), and renamed to `out` only when complete, scope.json last: a
    run killed midway leaves no folder of finished-looking letters under `out`, only a
    staging folder named as such, which the next run in that folder removes (unless its run
    is still going).

    Raises:
        OutputExistsError: `out` holds files already (or was filled while this ran).
    """
    _check_new_folder(out)
    staging = staging_name(out)
    if left := vouched_partials(out.parent, staging):
        raise UsageError(
            "out",
            f"a scope into {out} was killed after it recorded the breach and before it"
            f" renamed its complete folder, left as {left[0].name}",
            f"rename it: mv {left[0]} {out} (then `dsar breach confirm {out}`); delete it"
            " only if `dsar requests list` does not hold the breach",
        )
    with partial_folder(out.parent, staging) as work:
        work.chmod(0o700)
        result = _write_folder(
            catalog, scope, incident, work, keys=keys, found=found, deadlines=deadlines,
            severity=severity, countries=countries, others=others, engine_name=engine_name,
            residence=residence, data_files=data_files, named=named,
        )  # fmt: skip
        marks: list[Path] = []
        if before_rename is not None:
            # called by it just before it records the breach from this folder: from then on
            # no sweep removes the folder (a run killed before the rename leaves it whole,
            # and the next run into `out` says so)
            def vouch() -> None:
                marks.append(vouch_for(work))

            try:
                before_rename(result.manifest, vouch)
            except BaseException:
                for mark in marks:
                    mark.unlink(missing_ok=True)  # nothing recorded: the folder goes
                raise
        try:
            work.rename(out)  # an empty folder of the user's own is replaced
        except OSError:
            raise OutputExistsError(
                str(out), "a folder filled while scope ran", "choose a new --out"
            ) from None
        for mark in marks:
            mark.unlink(missing_ok=True)
    return BreachOutput(out, result.manifest, result.letters)


def staging_name(out: Path) -> str:
    """The name of `out`'s staging folder (`.<name>.partial-<8 hex>` beside it)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", out.name).lstrip("._-") or "breach"


def unrecorded_leftovers(out: Path, holds: Callable[[str], bool]) -> None:
    """Let the next sweep remove the staging folders of `out` a killed run left vouched for
    whose breach the register does not hold (`holds`): killed between the mark and the
    registration, nothing vouches for them."""
    for left in vouched_partials(out.parent, staging_name(out)):
        try:
            breach = json.loads((left / "scope.json").read_text(encoding="utf-8"))["breach_id"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not readable: left for a person, as the message says
        if isinstance(breach, str) and not holds(breach):
            unvouch(left)


def _write_folder(
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
    engine_name: str,
    residence: dict[str, JsonValue] | None,
    data_files: dict[str, dict[str, str]] | None,
    named: NamedInText | None = None,
) -> BreachOutput:
    """`write_breach`'s files, written into the staging folder `out`."""
    letters_dir = private_dir(out / "letters")
    written: list[OutputFile] = []
    letters: dict[int, str] = {}
    for person in scope.people:
        if person.contact is None:
            continue
        blocks = _letter(catalog, scope, incident, person, incident.special, named)
        name = _letter_number(person)
        atomic_write_text(letters_dir / f"{name}.md", plain_markdown(blocks))
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
        plain_markdown(
            _regulator_report(
                catalog,
                scope,
                incident,
                found,
                deadlines,
                severity,
                others,
                residence,
                countries,
            )
        ),
    )
    written.append(OutputFile.of(report, out))
    source = catalog.source
    if scope.held_for_customers:
        controllers = out / "controllers.parquet"
        count = _write_controllers(controllers, scope, keys)
        written.append(OutputFile.of(controllers, out, rows=count))
    held: dict[str, JsonValue] = {
        name: {
            "customers": len(per),
            "rows": sum(per.values()),
            "end_users": sum(scope.end_users.get(name, {}).values()),
            "per_customer": [
                {
                    "customer": _customer_ref(keys, name, customer),
                    "end_users": scope.end_users.get(name, {}).get(customer, 0),
                    "rows": rows,
                }
                for customer, rows in sorted(per.items())
            ],
        }
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
            "nature": [n for n in NATURES if n in incident.nature],
        },
        counts=BreachCounts(
            people=len(scope.people),
            account_holders=scope.account_holders,
            without_account=scope.without_account,
            with_contact=len(letters),
            no_contact_channel=sum(p.contact is None for p in scope.people),
            rows=dict(scope.rows),
            rows_total=scope.total_rows,
            not_linked=dict(scope.not_linked),
            held_for_customers=held,
            others_named_in_text=others,
            time_undetermined=dict(scope.undetermined),
            rows_to_several_accounts=dict(scope.several_accounts),
            orphans_parent_missing=dict(scope.orphans),
            set_aside_shared_parent_key=dict(scope.set_aside),
            reached_by_weak_identifier=scope.weak_only,
            other_accounts_named=scope.referenced_total,
            other_accounts_named_per_table=dict(scope.referenced),
            nothing_leaked=scope.nothing_leaked,
            rows_nothing_leaked=dict(scope.rows_nothing_leaked),
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
        data_files=data_files or {},
    )
    manifest = _signed(manifest, keys)
    atomic_write_text(out / "scope.json", manifest.model_dump_json(indent=2) + "\n")
    return BreachOutput(out, manifest, len(letters))


def _signed(manifest: BreachManifest, keys: Keys) -> BreachManifest:
    return manifest.model_copy(update={"mac": manifest_mac(keys, manifest.model_dump(mode="json"))})


def export_digests(catalog: Catalog, keys: Keys) -> dict[str, dict[str, str]]:
    """Per table of the catalog, each of its files: a keyed reference of its name (relative
    to the export root) and its SHA-256.

    Scope reads any table through the access search, so every table is recorded; confirm
    compares them to find an export changed since scope. A file's name is never kept: an
    export of one file per customer names them (`tickets/alice@example.com.jsonl`); its
    keyed reference (`file:` and 24 hex characters) tells the same files apart, and how
    many there are, without the name.
    """
    from dsar.keys import Purpose

    root = catalog.boundary
    out: dict[str, dict[str, str]] = {}
    for name in sorted(catalog.tables):
        files = {}
        for path in catalog.files(name):
            try:
                label = path.resolve().relative_to(root).as_posix()
            except ValueError:
                label = path.name
            ref = keys.keyed_hash(Purpose.AUDIT_REF, f"export-file={name}/{label}")[:24]
            files[f"file:{ref}"] = sha256_file(path)
        out[name] = dict(sorted(files.items()))
    return out


def _check_folder(folder: Path, manifest: BreachManifest, keys: Keys) -> list[tuple[str, str]]:
    """What does not match in the breach folder: its MAC, each file's checksum, extra files."""
    problem = mac_problem(
        keys,
        manifest.mac,
        lambda: manifest.model_dump(mode="json"),
        unsigned="scope.json carries no MAC: it was not written by scope",
        fails="scope.json was changed since scope (its MAC does not match)",
    )
    problems = [] if problem is None else [("mac", problem)]
    listed = {f.path: f for f in manifest.outputs}
    for rel, entry in listed.items():
        path = folder / rel
        if path.is_symlink() or not path.is_file():
            problems.append((rel, "missing, or not a plain file"))
        elif path.stat().st_size != entry.bytes or sha256_file(path) != entry.sha256:
            problems.append((rel, "changed since scope (checksum)"))
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel not in listed and rel not in ("scope.json", "letters"):
            what = "a folder" if path.is_dir() and not path.is_symlink() else "a file"
            problems.append((rel, f"{what} not written by scope"))
    for rel in ("affected.parquet", "controllers.parquet"):  # personal data: owner-only
        path = folder / rel
        if path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o077:
            problems.append((rel, "readable by others than its owner (it must be 0600)"))
    return problems


def _other_catalog(catalog: Catalog, manifest: BreachManifest) -> str | None:
    """Why `catalog` is not the one scope read (its SHA-256 in scope.json), if it is not: a
    catalog changed since (a table's identity removed, a description rewritten) would let a
    decision rest on another data map. None where scope read a catalog with no file (the
    Python API) or the catalog given has none."""
    recorded = next((i.sha256 for i in manifest.inputs if i.role == "catalog"), None)
    source = catalog.source
    if recorded is None or source is None:
        return None
    if sha256_file(source) != recorded:
        return (
            f"the catalog given ({source.name}) is not the one scope read: changed since, or"
            " another; confirm with the catalog scope read, or scope the breach again"
        )
    return None


def _check_export(catalog: Catalog, manifest: BreachManifest, keys: Keys) -> list[str]:
    """The tables whose files changed since scope (names only)."""
    if not manifest.data_files:
        return ["(scope.json records no data files: scope again)"]
    now = export_digests(catalog, keys)
    return sorted(
        t for t in set(now) | set(manifest.data_files) if now.get(t) != manifest.data_files.get(t)
    )


def _check_new_folder(out: Path) -> None:
    """Refuse an `out` that is a symbolic link, a file, a folder with files or someone
    else's folder; `out` new, or an empty folder of the user's own, is fine (the staging
    folder is renamed onto it, owner-only)."""
    from dsar.errors import UsageError

    if out.is_symlink():
        raise UsageError("--out", "--out is a symbolic link", "give a new folder, not a link")
    if out.exists():
        if not out.is_dir():
            raise OutputExistsError(str(out), "a file", "choose a new --out")
        if any(out.iterdir()):
            raise OutputExistsError(str(out), "a folder with files", "choose a new --out")
        if out.stat().st_uid != os.geteuid():
            raise UsageError(
                "--out", "--out is someone else's folder", "give a new folder of your own"
            )


def record_decision(
    folder: Path,
    *,
    notify_people: bool,
    by: str,
    reason: str,
    keys: Keys,
    catalog: Catalog,
    audit_log: Path,
    now: datetime | None = None,
) -> BreachManifest:
    """Record a person's decision on telling the people: in the audit log, then scope.json.

    The last step of `dsar.breach.confirm_breach` (`dsar.breach.run`), which first checks
    that the register holds this very scope; call that, not this, from outside.

    Before anything is recorded: scope.json's keyed MAC, every file of the folder (its
    checksum, nothing added), the export's files (unchanged since scope) and the audit log
    (intact, and no `breach.confirmed` entry for this breach id yet: a decision is taken
    once per breach, whatever folder or copy holds it).

    Raises:
        ManifestError: scope.json is missing, not a breach manifest, or the folder or the
            export changed since scope.
        UsageError: a decision is recorded already for this breach, or the reason or the
            decider is not acceptable (empty, too short, holding a personal value).
        RecordTamperedError: the audit log does not verify.
    """
    from dsar.errors import ManifestError, RecordTamperedError, UsageError
    from dsar.records.audit import AuditLog
    from dsar.records.breaches import BreachDeadline, decision_lock

    by, reason = by.strip(), " ".join(reason.split())
    check_decision_text(by, reason)
    path = folder / "scope.json"
    if folder.is_symlink() or path.is_symlink():
        raise ManifestError(path, [("", "a symbolic link: give the breach folder itself")])
    with decision_lock(audit_log):  # a confirm killed earlier: finished, or its files gone
        finish_decision(folder, keys, audit_log)
    try:
        manifest = BreachManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(
            path, [("", f"not a breach scope.json ({type(exc).__name__})")]
        ) from None
    problems = _check_folder(folder, manifest, keys)
    if problems:
        raise ManifestError(path, problems)
    if other := _other_catalog(catalog, manifest):
        raise ManifestError(path, [("inputs", other)])
    changed = _check_export(catalog, manifest, keys)
    if changed:
        raise ManifestError(
            path,
            [
                (t, "the export's files changed since scope: scope the breach again")
                for t in changed
            ],
        )
    audit = AuditLog(audit_log, keys)
    # two confirms of one breach: one records; a notice recorded meanwhile is seen here
    with decision_lock(audit_log):
        broken = audit.verify()
        if broken:  # a deleted breach.confirmed entry would allow a second decision
            raise RecordTamperedError(audit_log, [str(b) for b in broken])
        earlier = [
            e
            for e in audit.entries()
            if e.action == "breach.confirmed" and e.request == manifest.breach_id
        ]
        if earlier:
            raise UsageError(
                "--notify",
                f"{manifest.breach_id} has a decision already in the audit log (entry"
                f" {earlier[0].seq}, {earlier[0].at})",
                "keep it; record a change of mind as a new entry in the breach register",
            )
        people = {
            deadline.rule
            for d in manifest.deadlines
            if isinstance(d, dict) and (deadline := BreachDeadline.from_json(d)).is_people_notice
        }
        told = sorted(
            str(e.details.get("rule"))
            for e in audit.entries()
            if e.action == "breach.notified"
            and e.request == manifest.breach_id
            and e.details.get("rule") in people
        )
        if told and not notify_people:  # recorded while this confirm was being checked
            raise UsageError(
                "--notify",
                f"the people's notice of {manifest.breach_id} is recorded already"
                f" ({', '.join(told)}, dsar breach notified): not telling them contradicts it",
                "confirm --notify, or record why in the breach register",
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
        updated = _signed(
            manifest.model_copy(update={"decision": decision, "severity": severity}), keys
        )
        # the decided scope.json staged first, the audit entry, then the rename: a kill
        # between them leaves the staged file, which the next confirm finishes (the entry
        # written) or removes (not written), so the folder and the log never disagree
        staged = folder / DECIDED
        atomic_write_text(staged, updated.model_dump_json(indent=2) + "\n", fixed_tmp=True)
        audit.append(
            "breach.confirmed",
            request=manifest.breach_id,
            details={
                "notify_people": decision.notify_people,
                "follows_recommendation": decision.follows_recommendation,
                "scope_mac": manifest.mac,
            },
        )
        point("rename scope.json (decided)")
        staged.replace(path)
    return updated


DECIDED = ".scope.json.decided"
"""The decided scope.json `record_decision` stages before its audit entry."""


def finish_decision(folder: Path, keys: Keys, audit_log: Path) -> str | None:
    """Finish or undo a `record_decision` killed between its steps (under `decision_lock`).

    A staged decided scope.json (`DECIDED`) whose `breach.confirmed` entry the audit log
    holds (for this breach, on the very scope.json the folder holds, the same decision) is
    renamed over scope.json: the decision was recorded and the folder now says so. One
    whose entry is not there (killed before it) is removed, as is a temporary file of its
    write: nothing was decided. Returns what was done (None: nothing to do).
    """
    from dsar.io import tmp_name
    from dsar.records.audit import AuditLog
    from dsar.review.manifest import manifest_mac_matches

    staged, path = folder / DECIDED, folder / "scope.json"
    tmp_name(staged).unlink(missing_ok=True)
    if staged.is_symlink():
        staged.unlink()
        return "removed"
    if not staged.is_file():
        return None
    decided: BreachManifest | None
    current: BreachManifest | None
    try:
        decided = BreachManifest.model_validate_json(staged.read_text(encoding="utf-8"))
        current = BreachManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        decided = current = None
    entry = None
    if (
        decided is not None
        and current is not None
        and decided.decision is not None
        and current.decision is None
        and decided.breach_id == current.breach_id
        and manifest_mac_matches(keys, decided.model_dump(mode="json"))
    ):
        entry = next(
            (
                e
                for e in AuditLog(audit_log, keys).entries()
                if e.action == "breach.confirmed"
                and e.request == current.breach_id
                and e.details.get("scope_mac") == current.mac
                and e.details.get("notify_people") == decided.decision.notify_people
            ),
            None,
        )
    if entry is None:
        staged.unlink()
        return "removed"
    staged.replace(path)
    return "finished"


_NINO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![A-Za-z0-9])")
_SSN_SHAPE = re.compile(r"(?<![\d-])\d{3}[- ]\d{2}[- ]\d{4}(?![\d-])")
# nine digits right after the word SSN (or "social security"): a number written without dashes
_SSN_NAMED = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?)\W{0,4}\d{9}(?!\d)")
# RFC 5321 addresses the detectors leave: a quoted local part, an address literal
_EMAIL_RARE = re.compile(
    r'"[^"\s@][^"@]*"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|[^\s@<>()]+@\[[0-9A-Fa-f.:v]+\]'
)
# defanged writings: ann@example[.]com, ann[@]example.com, ann[at]example[dot]com
_DEFANG = (
    (re.compile(r"\s*[\[(\{]\s*(?:\.|dot)\s*[\])\}]\s*", re.I), "."),
    (re.compile(r"\s*[\[(\{]\s*(?:@|at)\s*[\])\}]\s*", re.I), "@"),
)


def readings(text: str) -> list[str]:
    """`text` in every form a reader or a renderer would take it as: as written,
    percent-decoded (`ann%40example.com`, twice: `%2540`), with HTML character references
    decoded (`ann&#64;example&#46;com`, which a Markdown viewer shows as an email; twice:
    `&amp;#64;`), and defanged writings read back (`ann@example[.]com`)."""
    import html
    from urllib.parse import unquote

    forms = [text]
    forms += [unquote(unquote(form)) for form in forms]
    forms += [html.unescape(html.unescape(form)) for form in forms]
    forms += [_undefang(form) for form in forms]
    return list(dict.fromkeys(forms))


def _undefang(text: str) -> str:
    for pattern, plain in _DEFANG:
        text = pattern.sub(plain, text)
    return text


def personal_values_in(text: str) -> list[str]:
    """The kinds of personal value the text engine's detectors find in `text` (no values),
    read in each of its `readings` (percent-decoded: `ann%40example.com` in a link is an
    email; HTML character references decoded: `ann&#64;example.com`; defanged), the shapes
    of a UK National Insurance number (`QQ 12 34 56 C`) and of a US Social Security number
    (`123-45-6789`, or nine digits after the word SSN: the shape, whether or not the number
    could be issued), and an email with a quoted local part or an address literal.
    """
    from dsar.text.contacts import emails, phones
    from dsar.text.detectors import cards, government_ids, ibans

    forms = readings(text)
    found = {
        span.entity
        for form in forms
        for find in (emails, phones, cards, ibans, government_ids)
        for span in find(form)
    }
    for form in forms:
        if _NINO.search(form):
            found.add("national insurance number")
        if _SSN_SHAPE.search(form) or _SSN_NAMED.search(form):
            found.add("social security number")
        if _EMAIL_RARE.search(form):
            found.add("EMAIL_ADDRESS")
    return sorted(found)


def check_decision_text(by: str, reason: str) -> None:
    """Refuse an empty decider, a reason under 3 characters, and either holding a personal
    value (an email, a phone, a card or bank number: the text engine's detectors, on the
    text as read, `screen_text`); the message names the option and the kind found, never
    the value."""
    from dsar.errors import UsageError

    if not by:
        raise UsageError("--by", "--by is empty", "name who decides: a name or a role (DPO)")
    if len(reason) < 3:
        raise UsageError("--reason", "--reason is too short", "say why, in words")
    if len(by) > 200 or len(reason) > 2000:
        raise UsageError(
            "--reason",
            "--by or --reason is too long",
            "keep --by under 200 characters and --reason under 2,000",
        )
    for option, text in (("--by", by), ("--reason", reason)):
        found = personal_values_in(screen_text(text))
        if found:
            raise UsageError(
                option,
                f"{option} holds what reads as personal data ({', '.join(found)}); it is kept"
                " in scope.json",
                "say why without anyone's address, number or card: refer to people by their"
                " P-number",
            )


def scope_parameters(scope: Scope) -> dict[str, JsonValue]:
    """The scope's spec without values, and where each table's time was read."""
    from dsar.breach.filters import spec_summary

    return {
        **spec_summary(scope.spec),
        "time_columns": dict(scope.time_columns),
    }
