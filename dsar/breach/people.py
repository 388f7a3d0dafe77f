"""One person a breach reached (`AffectedPerson`): its own module, so the searches and the
split of joined accounts (`dsar.breach.split`) share it with `dsar.breach.scope` without
importing each other."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from dsar.catalog.models import IdentityKind, Table
from dsar.errors import IdentifierError
from dsar.subjects.identity import SubjectKey, make_key


@dataclass
class AffectedPerson:
    """One person reached by the breach. Held in memory only; `number` is what outputs show.

    Attributes:
        number: 1, 2, ... in the order found (stable for one run).
        keys: the person's identifiers as access found them (never written but hashed).
        account_holder: the person has a row in an identity's home table (an account).
        rows: rows in scope per table.
        contact: the email (else phone) to send a notice to, if any.
        country: from the catalog's country column, where there is one.
        state: a US state or region column, where there is one.
        elsewhere: the other (country, state) pairs the person's rows hold (a German and a
            Colorado address): the person counts in each place as well (red team 26 r5 F18).
        names: the person's own names (so their own name in a text is not someone else).
    """

    number: int
    keys: frozenset[SubjectKey]
    account_holder: bool
    rows: dict[str, int] = field(default_factory=dict)
    contact: SubjectKey | None = None
    country: str | None = None
    state: str | None = None
    elsewhere: tuple[tuple[str | None, str | None], ...] = ()
    names: frozenset[str] = frozenset()


def contact_channel(
    keys: Collection[SubjectKey],
    *,
    holder: bool,
    address: SubjectKey | None = None,
    own_phones: Collection[SubjectKey] = (),
) -> SubjectKey | None:
    """Where a person's letter goes, one rule for both searches and the split of joined
    accounts (red team 26 r5 F1): `address`, the first address the search read on the
    person's own rows (an account holder's: on their account row only, never one another
    row holds, which may be someone else's); else, for an account holder, the smallest of
    their phones that is on their account row (`own_phones`), never one reached through
    another row; for someone without an account, the smallest of their addresses, else of
    their phones; else None: no contact channel, no letter.

    >>> from dsar.subjects.identity import SubjectKey
    >>> ann = SubjectKey(IdentityKind.PHONE, "+13035550101")
    >>> own = SubjectKey(IdentityKind.PHONE, "+13035550199")
    >>> contact_channel({ann, own}, holder=True, own_phones={own}) == own
    True
    >>> contact_channel({ann}, holder=True) is None
    True
    """
    if address is not None:
        return address
    phones = [k for k in keys if k.kind is IdentityKind.PHONE]
    if holder:
        phones = [k for k in phones if k in own_phones]
        return min(phones, key=str) if phones else None
    emails = [k for k in keys if k.kind is IdentityKind.EMAIL]
    return min(emails, key=str) if emails else (min(phones, key=str) if phones else None)


def first_address(table: Table, row: Mapping[str, object]) -> SubjectKey | None:
    """A row's first address, in `table`'s column order (a value that is no address, a
    placeholder, skipped): what `contact_channel` takes as a person's own address."""
    for column, kind in table.identity_columns().items():
        value = row.get(column)
        if kind is IdentityKind.EMAIL and value is not None:
            try:
                return make_key(kind, str(value))
            except IdentifierError:
                continue
    return None


def place_cell(value: object) -> str | None:
    """A country or state cell as a person's first one is read (trimmed, upper case); None
    where empty."""
    return None if value is None or str(value) == "" else str(value).strip().upper()


def other_places(
    pairs: Iterable[tuple[str | None, str | None]], country: str | None, state: str | None
) -> tuple[tuple[str | None, str | None], ...]:
    """The (country, state) pairs of a person's rows other than the one they are placed
    in, in one order (both searches give the same)."""
    return tuple(
        sorted(
            (p for p in set(pairs) if p != (country, state) and p != (None, None)),
            key=lambda p: (p[0] or "", p[1] or ""),
        )
    )
