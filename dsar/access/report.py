"""The access statement (GDPR Art. 15, CCPA right to know), generated from the catalog.

The report is built once as a list of blocks and rendered to Markdown and to a standalone
HTML page, so both always say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from dsar.access.render import Block, BlockKind, links_in
from dsar.access.rows import heading, known_as, label, past_retention, records, title
from dsar.catalog.models import Catalog, LegalBasis, Role, Table

if TYPE_CHECKING:
    import pyarrow as pa

    from dsar.rights.retention import HeldPast
    from dsar.subjects.identity import Provenance

LEGAL_BASIS_TEXT = {
    LegalBasis.CONSENT: "your consent (GDPR Art. 6(1)(a)); you can withdraw it at any time",
    LegalBasis.CONTRACT: "performing our contract with you (GDPR Art. 6(1)(b))",
    LegalBasis.LEGAL_OBLIGATION: "a legal obligation we are subject to (GDPR Art. 6(1)(c))",
    LegalBasis.VITAL_INTERESTS: "protecting vital interests (GDPR Art. 6(1)(d))",
    LegalBasis.PUBLIC_TASK: "a task in the public interest (GDPR Art. 6(1)(e))",
    LegalBasis.LEGITIMATE_INTERESTS: "our legitimate interests (GDPR Art. 6(1)(f)); you can"
    " object to this processing",
}

_NUMBER_NAMES = {
    "CREDIT_CARD": "payment card number",
    "IBAN_CODE": "IBAN",
    "FINANCIAL_ACCOUNT": "account number",
}


@dataclass(frozen=True)
class TableFacts:
    """What the report says about one table of the person's data."""

    name: str
    rows: int
    columns: tuple[str, ...]
    secrets_masked: int
    redacted: dict[str, dict[str, int]]
    file: str
    numbers_masked: dict[str, dict[str, int]] = field(default_factory=dict)
    data: pa.Table | None = None  # the rows as the bundle holds them (masked, redacted)
    past_retention: HeldPast | None = None  # what the retention sweep would delete of them


@dataclass(frozen=True)
class ReportInput:
    """Everything the access statement needs, gathered by the access job."""

    catalog: Catalog
    label: str
    created: datetime
    identifiers: tuple[str, ...]
    provenance: tuple[str, ...]
    tables: tuple[TableFacts, ...]
    held_as_processor: dict[str, int]  # table -> rows held for customers
    set_aside: dict[str, int]
    portability: tuple[str, ...]
    erased_before: tuple[str, ...] = ()  # earlier erasure requests of this person
    erasure_pending: tuple[tuple[str, date], ...] = ()  # requested, not complete: (id, day)
    accepted_warnings: tuple[str, ...] = ()  # catalog warnings accepted to answer, one line each
    found: tuple[Provenance, ...] = ()  # how each identifier was reached, in search order


def _recipients(catalog: Catalog, table: Table) -> list[str]:
    out = []
    for rid in table.recipients:
        r = catalog.recipients[rid]
        where = f", in {r.country}" if r.country else ""
        safeguard = f"; transfer safeguard: {r.transfer_safeguard}" if r.transfer_safeguard else ""
        out.append(f"{r.name} ({r.kind.value.replace('_', ' ')}: {r.purpose}{where}{safeguard})")
    return out


def _retention(table: Table) -> str:
    r = table.retention
    if r.period is not None and r.after is not None:
        named = label(r.after)
        text = f"{r.period} from {r.after}"
        if named.lower() != r.after.replace("_", " ").lower():
            text += f" ({named})"
        return f"{text}; {r.criteria}" if r.criteria else text
    return r.criteria or "not stated"


def build_blocks(data: ReportInput, hole: str | None = None) -> list[Block]:
    """The access statement as blocks; with `hole`, every cell of the person's rows is
    `hole` (the template the manifest records, see `dsar.access.rows.records`)."""
    cat, ctl = data.catalog, data.catalog.controller
    total = sum(t.rows for t in data.tables)
    b: list[Block] = [
        Block(BlockKind.H1, f"Your personal data held by {ctl.name}"),
        Block(
            BlockKind.P,
            f"Reference {data.label}, prepared {data.created:%Y-%m-%d %H:%M} UTC. This is"
            " our answer to your request to access your personal data (GDPR Art. 15;"
            " UK GDPR Art. 15; CCPA right to know).",
        ),
    ]
    if total:
        b.append(
            Block(
                BlockKind.P,
                f"We confirm that we process personal data about you: {total} records"
                f" in {len(data.tables)} data sets, listed below with your records. A copy"
                " of each is in the data folder of this bundle: as CSV (it opens in a"
                " spreadsheet), JSON and Parquet.",
            )
        )
    else:
        b.append(
            Block(
                BlockKind.P,
                "We searched every data set listed in our records of processing and"
                " found no personal data about you under the identifiers below.",
            )
        )
    b += [
        Block(BlockKind.H2, "How we found your data"),
        Block(
            BlockKind.P,
            "We searched with the identifiers you gave us and followed the links between"
            " our data sets. You are known to us by:",
        ),
        Block(BlockKind.UL, items=known_as(cat, data.found), data=True),
        Block(
            BlockKind.UL,
            items=data.provenance,
            summary="The search step by step, as our records note it",
            data=True,
        ),
        *_reach(data.catalog),
    ]
    for request, day in data.erasure_pending:
        b.append(
            Block(
                BlockKind.P,
                f"An erasure of your data was requested on {day.isoformat()} ({request}) and is"
                " not complete: the data below is still held. We will tell you when it is"
                " done.",
            )
        )
    if data.erased_before:
        b.append(
            Block(
                BlockKind.P,
                f"You asked us before to erase your data ({', '.join(data.erased_before)})."
                " We erased it, except what the law requires us to keep; what we kept is"
                " below, found through the identifiers we recorded when we erased the rest.",
            )
        )
    if data.tables:
        b += [
            Block(BlockKind.H2, "Summary"),
            Block(
                BlockKind.TABLE,
                header=("what it is", "records", "files"),
                rows=tuple(
                    (title(cat.tables[t.name]), str(t.rows), f"data/{t.name}.csv, .json, .parquet")
                    for t in data.tables
                ),
            ),
        ]
    held = [(f, f.past_retention) for f in data.tables if f.past_retention is not None]
    if held:
        b += [
            Block(BlockKind.H2, "Records we hold longer than we say"),
            Block(
                BlockKind.UL,
                items=tuple(line for f, h in held for line in past_retention(cat, f.name, h)),
            ),
        ]
    for facts in data.tables:
        t = cat.tables[facts.name]
        items = [
            f"What we hold: {facts.rows} record(s); categories: "
            + ", ".join(
                sorted(
                    {
                        t.column_category(c).value.replace("_", " ")
                        for c in facts.columns
                        if c in t.columns
                    }
                )
            ),
            f"Columns: {', '.join(heading(t, c) for c in facts.columns)}",
            f"Why we hold it: {'; '.join(t.purposes)}",
            f"Legal basis: {LEGAL_BASIS_TEXT[t.legal_basis]}",
            f"Who receives it: {'; '.join(_recipients(cat, t)) or 'no one outside our company'}",
            f"How long we keep it: {_retention(t)}",
            f"Where it comes from: {t.source}",
        ]
        if t.limited_use:
            items.append(
                "This data came from Google through Sign in with Google. Under Google's"
                " Limited Use rules we never use or share it for advertising."
            )
        if facts.secrets_masked:
            items.append(
                f"Credentials: {facts.secrets_masked} value(s) are shown only by their"
                " last four characters, so they cannot be misused if this copy is lost."
            )
        for col, counts in sorted(facts.redacted.items()):
            what = ", ".join(
                f"{n} {e.lower().replace('_', ' ')}(s)" for e, n in sorted(counts.items())
            )
            items.append(f"In {col} we removed other people's details ({what}) to protect them.")
        for col, counts in sorted(facts.numbers_masked.items()):
            what = ", ".join(
                f"{n} {_NUMBER_NAMES.get(e, 'government ID')}(s)" for e, n in sorted(counts.items())
            )
            items.append(
                f"In {col} we show {what} only by their last four characters: the law does"
                " not allow us to send account numbers or government IDs in full, even"
                " your own, in case this copy is lost or intercepted."
            )
        b += [
            Block(BlockKind.H2, f"{facts.name}: {t.description}"),
            Block(BlockKind.UL, items=tuple(items)),
            *records(cat, facts.name, facts.data, facts.past_retention, hole),
        ]
    if data.held_as_processor:
        b.append(Block(BlockKind.H2, "Data we hold on behalf of our customers"))
        for name, rows in sorted(data.held_as_processor.items()):
            t = cat.tables[name]
            b.append(
                Block(
                    BlockKind.P,
                    f"{name}: {t.description} We found {rows} record(s) matching you."
                    " We hold these for our customer, who decides about them (we act"
                    " as their processor). We have not included them here: please"
                    " ask the company whose app or service you use; we will help"
                    " them answer.",
                )
            )
    if data.set_aside:
        b += [
            Block(BlockKind.H2, "Records we could not attribute to you alone"),
            Block(
                BlockKind.P,
                "Some records are tied only to a device or number that more than one"
                " person used, or to a record number that records of others carry too."
                " To protect the others, they are not in this copy; our"
                " privacy team reviews them and will tell you what they contain.",
            ),
            Block(
                BlockKind.UL,
                items=tuple(f"{n}: {c} record(s)" for n, c in sorted(data.set_aside.items())),
            ),
        ]
    if data.portability:
        b += [
            Block(BlockKind.H2, "Portable copy"),
            Block(
                BlockKind.P,
                "The portability folder holds, in machine-readable form (JSON and CSV) for"
                " you to take to another service (GDPR Art. 20), the data we hold on your"
                " consent or to perform our contract with you, without what we inferred:"
                f" {', '.join(data.portability)}. What we recorded about your use of our"
                " services for other reasons (such as security logs) is in the data folder"
                " only.",
            ),
        ]
    dpo = f", or our data protection officer at {ctl.dpo}" if ctl.dpo else ""
    contact_links = links_in(ctl.contact) + (links_in(ctl.dpo) if ctl.dpo else ())
    b += [
        Block(BlockKind.H2, "Your rights"),
        Block(
            BlockKind.UL,
            items=(
                "Correct data that is wrong or incomplete (Art. 16).",
                "Have your data erased (Art. 17), except what the law requires us to keep.",
                "Restrict how we use your data (Art. 18).",
                "Receive your data in a portable form (Art. 20).",
                "Object to processing based on our legitimate interests, and at any time to direct"
                " marketing, including profiling for it (Art. 21).",
                "Withdraw consent at any time, without affecting what was done before.",
                "Opt out of the sale or sharing of your personal information (CCPA).",
                f"Complain to a supervisory authority: {ctl.supervisory_authority}.",
            ),
            links=links_in(ctl.supervisory_authority),
        ),
        Block(
            BlockKind.P, f"To use these rights, contact {ctl.contact}{dpo}.", links=contact_links
        ),
        Block(BlockKind.H2, "Automated decisions"),
        Block(BlockKind.P, ctl.automated_decisions),
        Block(BlockKind.H2, "About this copy"),
        Block(
            BlockKind.P,
            "manifest.json lists every file with its SHA-256 checksum, so you can check"
            " that nothing was changed. Timestamps are in UTC.",
        ),
    ]
    if data.accepted_warnings:
        b += [
            Block(
                BlockKind.P,
                "Our map of where your data is (the catalog) carried the warnings below when"
                " this copy was made: a data set is searched by an identifier that could also"
                " be another kind of key. We checked them and answered all the same; they are"
                " also listed in manifest.json.",
            ),
            Block(BlockKind.UL, items=data.accepted_warnings),
        ]
    return b


def _reach(catalog: Catalog) -> list[Block]:
    """Which data sets were searched, how, and which were not and why: a 'we found
    nothing' is only as good as the list of places looked in."""
    searched, not_searched = [], []
    for name, table in catalog.tables.items():
        if not table.personal:
            not_searched.append(
                f"{name} ({table.description.rstrip('.')}): reference data, no personal data"
            )
        elif table.role is Role.PROCESSOR:
            not_searched.append(
                f"{name} ({table.description.rstrip('.')}): held for our customers;"
                " searched only to tell you which customer to ask"
            )
        elif table.identity_columns():
            kinds = sorted({k.value.replace("_", " ") for k in table.identity_columns().values()})
            searched.append(f"{name} ({table.description.rstrip('.')}): by {', '.join(kinds)}")
        elif table.owned_through is not None:
            searched.append(
                f"{name} ({table.description.rstrip('.')}): through your rows of"
                f" {table.owned_through.parent_table}"
            )
        else:
            not_searched.append(
                f"{name} ({table.description.rstrip('.')}): it has no column that identifies"
                " a person, so no search can attribute its rows to you"
            )
    blocks = [
        Block(BlockKind.P, "The data sets we searched:"),
        Block(BlockKind.UL, items=tuple(searched)),
    ]
    if not_searched:
        blocks += [
            Block(BlockKind.P, "The data sets we did not search, and why:"),
            Block(BlockKind.UL, items=tuple(not_searched)),
        ]
    return blocks


def processor_rows(catalog: Catalog, held: dict[str, dict[str, int]]) -> dict[str, int]:
    """Rows per processor table, summed over customers (the report names no customer)."""
    return {t: sum(c.values()) for t, c in held.items() if catalog.tables[t].role is Role.PROCESSOR}
