"""Write a draft as catalog YAML: every decision with its evidence in a comment, every legal
field the files cannot tell left as TODO (which `dsar catalog check` refuses)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import yaml

from dsar.catalog.models import FileFormat
from dsar.catalog.todo import TODO
from dsar.draft.model import ColumnDraft, Confidence, Draft, TableDraft
from dsar.draft.scan import NotRead

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .:/()-]*$")
_TEXT_TYPES = (FileFormat.CSV, FileFormat.JSON, FileFormat.JSONL)


def scalar(value: object) -> str:
    """A YAML scalar that reads back as `value` (quoted where plain text would not)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    plain = _PLAIN.match(text) and text == text.strip() and ": " not in text and " #" not in text
    if plain and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(items: dict[str, object]) -> str:
    return "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in items.items()) + "}"


_CONFIRM_FIRST = 8  # decisions the header lists, the least sure first


def _comment(lines: list[str], notes: list[str], indent: str) -> None:
    lines += [f"{indent}# {n}" for n in notes]


def _sure(what: str, conf: Confidence | None, indent: str) -> list[str]:
    """A decision's confidence as a comment line: `# confidence 0.97 for what: reason`."""
    if conf is None:
        return []
    return [f"{indent}# confidence {conf.value:.2f} for {what}: {conf.reason}"]


def _confirm_first(draft: Draft) -> list[str]:
    first = draft.confirm_first(_CONFIRM_FIRST)
    if not first:
        return []
    return [
        f"# Confirm first (the {len(first)} least sure decisions; each has its confidence, in"
        " [0, 1], below):",
        *(f"#   {d.confidence.value:.2f}  {d.where}: {d.what}" for d in first),
    ]


def render(draft: Draft, export: str, prefix: str = ".") -> str:
    """The draft as catalog YAML text; `prefix`: the export folder relative to the folder
    the catalog is written to (then named as its `export_root`)."""
    today = datetime.now(UTC).date().isoformat()
    lines = [
        f"# Drafted by `dsar catalog draft` from {export} on {today}: {len(draft.tables)} tables,",
        f"# values classified on samples of up to {draft.sample:,} rows a table, keys and links",
        "# checked on every row. Every decision has its evidence in a comment (counts and",
        "# column names, no values). Confirm each; fill every TODO (what the files cannot",
        "# tell): `dsar catalog check` refuses this file while one is left.",
        *(f"# skipped {path}: {why}" for path, why in draft.skipped),
        *_not_read_header(draft),
        *_confirm_first(draft),
        "version: 1",
        *(
            [f"export_root: {scalar(prefix)}  # the export folder, from this file's"]
            if prefix != "."
            else []
        ),
        "",
        "controller:",
        f"  name: {TODO}  # the company's legal name",
        f"  contact: {TODO}  # where data-subject requests go",
        f"  supervisory_authority: {TODO}",
        "",
        "# recipients:  # processors and third parties the tables name, by id",
        "#   hosting: {name: ..., kind: processor, purpose: ..., country: ...}",
        "",
        "tables:",
    ]
    for table in draft.tables.values():
        lines += _table(table, prefix)
    for unread in draft.not_read:
        lines += _not_read_table(unread, prefix)
    return "\n".join(lines) + "\n"


def _not_read_header(draft: Draft) -> list[str]:
    if not draft.not_read:
        return []
    return [
        "#",
        f"# !!! NOT READ: {len(draft.not_read)} table(s) hold data this draft could not read;",
        "# !!! they may hold people. Each is written below with TODOs that `dsar catalog",
        "# !!! check` refuses until a person decides (re-export and draft again, or describe):",
        *(f"# !!!   {t.path}: {t.reason}" for t in draft.not_read),
        "#",
    ]


def _not_read_table(unread: NotRead, prefix: str) -> list[str]:
    path = unread.path if prefix == "." else f"{prefix}/{unread.path}"
    return [
        "",
        f"  {scalar(unread.name)}:",
        f"    # NOT READ: {unread.reason}",
        f"    path: {scalar(path)}",
        f"    format: {unread.format.value}",
        f"    description: {TODO}  # NOT READ by the draft: decide what it holds",
        f"    personal: {TODO}  # true or false, once a person has looked at the file",
        f"    columns: {TODO}  # describe every column, or re-export the file and draft again",
    ]


def _table(table: TableDraft, prefix: str) -> list[str]:
    prof = table.profile
    found = prof.found
    out = ["", f"  {scalar(table.name)}:"]
    _comment(
        out,
        [f"{prof.rows:,} rows, {len(prof.columns)} columns", *found.notes, *table.notes],
        "    ",
    )
    out += _sure(table.verdict(), table.confidence.get("verdict"), "    ")
    path = found.path if prefix == "." else f"{prefix}/{found.path}"
    out += [f"    path: {scalar(path)}", f"    format: {found.format.value}"]
    if found.csv:
        out.append(f"    csv: {_flow(found.csv)}  # the dialect DuckDB's sniffer found")
    out.append(f"    description: {TODO}  # what the table is, in words the person understands")
    if not table.personal:
        out.append("    personal: false")
    else:
        out += _legal(table)
    if table.primary_key is not None:
        out += _sure("the primary key", table.confidence.get("primary_key"), "    ")
        out.append(f"    primary_key: [{scalar(table.primary_key)}]")
    if table.owned_through is not None:
        own = table.owned_through
        out += _sure("owned_through", table.confidence.get("owned_through"), "    ")
        out.append(f"    owned_through: {_flow({'column': own.column, 'parent': own.target})}")
    out.append("    columns:")
    for col in table.columns.values():
        out += _column(col, typed=found.format in _TEXT_TYPES)
    return out


def _legal(table: TableDraft) -> list[str]:
    if table.retention_after is not None:
        retention = (
            f"    retention: {{period: {TODO}, after: {scalar(table.retention_after)}}}"
            f"  # proposed: counted from {table.retention_after}; or {{criteria: ...}}"
        )
    else:
        epoch = any(n.startswith("epoch time:") for n in table.notes)
        why = (
            "no date column; its epoch integers (see above) are no date the catalog counts from"
            if epoch
            else "no date column to count from"
        )
        retention = f"    retention: {{criteria: {TODO}}}  # {why}"
    return [
        f"    category: {TODO}  # account, contact, billing, credentials, usage, logs, location,"
        " communications, third_party_profile, marketing_preferences",
        f"    origin: {TODO}  # provided, observed or inferred",
        f"    purposes: [{TODO}]",
        f"    legal_basis: {TODO}  # consent, contract, legal_obligation, vital_interests,"
        " public_task, legitimate_interests",
        f"    recipients: {TODO}  # ids under recipients:, or [] for none",
        f"    source: {TODO}  # where the data comes from, e.g. the person",
        *_sure("the retention column", table.confidence.get("retention"), "    "),
        retention,
        f"    erasure: {{action: {TODO}}}  # delete, nullify, pseudonymize or retain",
    ]


def _column(col: ColumnDraft, typed: bool) -> list[str]:
    fields: dict[str, object] = {}
    if col.identity is not None:
        fields["identity"] = col.identity.value
    if col.personal is not None:
        fields["personal"] = col.personal.value
    if col.secret:
        fields["secret"] = True
    if col.free_text:
        fields["free_text"] = True
    if col.references is not None:
        fields["references"] = col.references
    if typed and col.kind is not None:
        fields["type"] = col.kind.value
    out = [f"      # {n}" for n in col.notes]
    if col.sensitive is not None:
        out.append(f"      # SENSITIVE: {col.sensitive}; confirm, and restrict who reads it")
    for role, conf in col.confidence.items():
        out += _sure(col.what(role), conf, "      ")
    out.append(f"      {scalar(col.name)}: {_flow(fields)}")
    return out
