"""One person a breach reached (`AffectedPerson`): its own module, so the searches and the
split of joined accounts (`dsar.breach.split`) share it with `dsar.breach.scope` without
importing each other."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dsar.subjects.identity import SubjectKey


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
