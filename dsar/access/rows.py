"""The person's rows as the access statement shows them, and as CSV.

Columns are named in plain words from the catalog (its description of the column, or a
label made from the name: `last_login_at` -> "Last login at"), with what each holds and how
we got it. Nested values (a JSON object or list kept whole) become dotted columns,
`contact.phones[0]`, the paths `dsar verify` names. Every CSV cell passes the
spreadsheet-formula rule of `dsar.csvsafe`; the HTML renderer escapes every value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from dsar.access.render import Block, BlockKind
from dsar.catalog.models import (
    Catalog,
    Column,
    IdentityKind,
    Origin,
    PersonalKind,
    Table,
)
from dsar.copies import (
    MAX_SHOWN as MAX_SHOWN,
    cell as cell,
    csv_cell as csv_cell,
    csv_rows,
    flat_rows as flat_rows,
    shown_rows,
)

if TYPE_CHECKING:
    from dsar.rights.retention import HeldPast
    from dsar.subjects.identity import Provenance

OPEN_ROWS = 10  # a table with more rows than this is folded (<details>)

# Words of column names a person would not read as written
_WORDS = {
    "id": "ID",
    "ids": "IDs",
    "ip": "IP",
    "addr": "address",
    "ts": "time",
    "url": "URL",
    "uri": "URI",
    "api": "API",
    "vat": "VAT",
    "utc": "UTC",
    "sub": "subject",
    "dob": "date of birth",
    "iban": "IBAN",
    "sms": "SMS",
    "oauth": "OAuth",
    "ua": "user agent",
}

IDENTITY_WORDS = {
    IdentityKind.EMAIL: "your email address",
    IdentityKind.USER_ID: "your account ID",
    IdentityKind.CUSTOMER_ID: "your customer number",
    IdentityKind.PHONE: "your phone number",
    IdentityKind.DEVICE_ID: "your device",
    IdentityKind.COOKIE_ID: "a cookie in your browser",
    IdentityKind.OAUTH_SUBJECT: "your account ID at the service you sign in with",
    IdentityKind.IP_ADDRESS: "your IP address",
    IdentityKind.USERNAME: "your user name",
    IdentityKind.PERSON_ID: "your record's number",
}

_PERSONAL_WORDS = {
    PersonalKind.NAME: "a name",
    PersonalKind.EMAIL: "an email address",
    PersonalKind.PHONE: "a phone number",
    PersonalKind.USERNAME: "a user name",
    PersonalKind.ADDRESS: "a postal address",
    PersonalKind.IP_ADDRESS: "the IP address your device used",
    PersonalKind.DATE_OF_BIRTH: "a date of birth",
    PersonalKind.LOCATION: "a place",
    PersonalKind.FINANCIAL_ACCOUNT: "an account or card number, shown by its last four characters",
    PersonalKind.GOVERNMENT_ID: "a government ID number, shown by its last four characters",
}

_ORIGIN_WORDS = {
    Origin.PROVIDED: "given by you (or on your behalf)",
    Origin.OBSERVED: "recorded by us as you used the service",
    Origin.INFERRED: "worked out by us from other data",
}


def label(name: str) -> str:
    """A readable label for a column name: `last_login_at` -> "Last login at".

    Examples:
        >>> label("last_login_at"), label("ts"), label("userId"), label("contact.phones[0]")
        ('Last login at', 'Time', 'User ID', 'Contact: phones 1')
    """
    top, dot, rest = name.partition(".")
    parts = re.fullmatch(r"([^\[]*)((?:\[\d+\])*)", top)
    base, items = (parts[1], parts[2]) if parts else (top, "")
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", base).replace("-", " ").replace("_", " ")
    text = " ".join(_WORDS.get(w.lower(), w.lower()) for w in words.split()) or base or name
    text = text[0].upper() + text[1:]
    text += "".join(f" {int(i) + 1}" for i in re.findall(r"\[(\d+)\]", items))
    return f"{text}: {_lower_first(label(rest))}" if dot and rest else text


def _lower_first(text: str) -> str:
    """ "Phones 1" -> "phones 1", but "IP address" stays."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


SHORT = 40  # a column description up to this long heads its column; a longer one explains it


def heading(table: Table, name: str) -> str:
    """A column's heading: the catalog's description when it is short ("Login email"),
    else a label made from the name (`last_login_at` -> "Last login at")."""
    column = table.columns.get(name)
    text = (column.description or "").strip().rstrip(".") if column is not None else ""
    if text and len(text) <= SHORT and "(" not in text:
        return text[0].upper() + text[1:]
    return label(name)


def meaning(table: Table, name: str) -> str:
    """What a column holds, in plain words: the catalog's description (or the kind of data
    it declares) where its heading does not already say it, what we did to it for this
    copy, and how we got it."""
    column = table.columns.get(name.partition(".")[0].partition("[")[0])
    if column is None:
        return ""
    what = _what(column)
    parts = [] if what and heading(table, name).lower() == what.lower() else [what]
    if column.secret:
        parts.append("a password, key or token: shown only by its last four characters")
    if column.free_text:
        parts.append("free text: other people's details in it are removed")
    origin = column.origin or table.origin
    parts.append(_ORIGIN_WORDS[origin])
    category = (column.category or table.category).value.replace("_", " ")
    text = "; ".join(p for p in parts if p)
    return f"{text[0].upper()}{text[1:]} (category: {category})"


def _what(column: Column) -> str:
    if column.description:
        return column.description.rstrip(".")
    if column.identity is not None:
        return IDENTITY_WORDS[column.identity]
    if column.personal is not None:
        return _PERSONAL_WORDS[column.personal]
    return ""


def title(table: Table) -> str:
    """A table's title in plain words: its description without the closing full stop."""
    return table.description.strip().rstrip(".")


def known_as(catalog: Catalog, provenance: Iterable[Provenance]) -> tuple[str, ...]:
    """Each identifier as the person knows it, and where we found it: "your device
    dev_1, found in “What you did in the app”, in a record with your account ID u1"."""
    lines = []
    for p in provenance:
        what = f"{IDENTITY_WORDS[p.key.kind]} {p.key.value}"
        if p.note is not None:
            lines.append(f"{what}: {p.note}")
        elif p.table is None:
            lines.append(f"{what}, which you gave us in your request")
        else:
            spec = catalog.tables.get(p.table)
            place = f"“{title(spec)}”" if spec is not None else p.table
            via = ""
            if p.via is not None:
                via = f", in a record with {IDENTITY_WORDS[p.via.kind]} {p.via.value}"
            lines.append(f"{what}, found in {place}{via}")
    return tuple(lines)


def write_csv(path: Path, table: pa.Table) -> None:
    """The table as CSV, nested values flattened to dotted columns, every cell defused."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(csv_rows(table))


def past_retention(catalog: Catalog, name: str, held: HeldPast) -> list[str]:
    """What the statement says of a table's rows held past the retention it states: what
    the retention sweep (`dsar retention plan`) would delete of them, and what it keeps."""
    a, spec = held.action, catalog.tables[name]
    where = f"“{title(spec)}”"
    parent = f"“{title(catalog.tables[a.parent])}”" if a.parent in catalog.tables else ""
    lines = []
    own = a.expired - a.with_parent
    if own and a.period is not None and a.after is not None:
        lines.append(
            f"{own} of your {a.rows} records in {where} {_be(own)} older than the {a.period}"
            f" we promise (counted from {heading(spec, a.after)}, before {a.cutoff});"
            f" {_they(own)} being deleted."
        )
    if a.with_parent and parent:
        lines.append(
            f"{a.with_parent} of your {a.rows} records in {where} {_be(a.with_parent)} part"
            f" of records in {parent} that are past the time we keep them; {_they(a.with_parent)}"
            " being deleted with them."
        )
    if a.kept_with_parent and parent:
        lines.append(
            f"{a.kept_with_parent} of your {a.rows} records in {where}"
            f" {_be(a.kept_with_parent)} older than the {a.period} we promise, but part of"
            f" records in {parent} that the law requires us to keep: kept with them, for as"
            " long as those are kept."
        )
    return lines


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


def _they(n: int) -> str:
    return "it is" if n == 1 else "they are"


def records(
    catalog: Catalog,
    name: str,
    data: pa.Table | None,
    held: HeldPast | None,
    hole: str | None = None,
) -> list[Block]:
    """The person's rows of one table as a table (folded when long), a note on the rows
    held past retention (`held`), and what each column means. With `hole`, each cell of
    the data is `hole` instead (the statement's template, which the manifest records)."""
    if data is None:
        return []
    spec = catalog.tables[name]
    columns, rows = flat_rows(data.slice(0, MAX_SHOWN))
    cells = shown_rows(columns, rows)
    if hole is not None:
        cells = tuple(tuple(hole for _ in row) for row in cells)
    header = tuple(heading(spec, c) for c in columns)
    blocks = []
    past = set(held.positions) if held is not None else set()
    if held is not None:
        blocks.append(Block(BlockKind.P, " ".join(past_retention(catalog, name, held))))
    if past:
        header = ("Note", *header)
        cells = tuple(
            ("past the time we keep it: being deleted" if i in past else "", *row)
            for i, row in enumerate(cells)
        )
    n = data.num_rows
    if n == 1 and not past:  # one record: one line per column reads best
        blocks.append(
            Block(
                BlockKind.TABLE,
                header=("", "your record"),
                rows=tuple(zip(header, cells[0], strict=True)),
                data=True,
                table=name,
            )
        )
    else:
        fold = f"Show your {n} records" if n > OPEN_ROWS else ""
        blocks.append(
            Block(BlockKind.TABLE, header=header, rows=cells, summary=fold, data=True, table=name)
        )
    if n > MAX_SHOWN:
        blocks.append(
            Block(
                BlockKind.P,
                f"Shown above: the first {MAX_SHOWN} of your {n} records; all of them are in"
                f" data/{name}.csv.",
            )
        )
    blocks.append(
        Block(
            BlockKind.TABLE,
            header=("column", "what it means"),
            rows=tuple((heading(spec, c), meaning(spec, c)) for c in columns),
            summary="What each column means",
        )
    )
    return blocks
