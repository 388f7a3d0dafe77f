"""Operators that would keep an identity whole, refused with the fix, from the policy and the
catalog alone (what only the data shows is `anonymize.sampling`'s).

The policy's own checks (`anonymize.policy`) keep identifiers, secrets and free text from
being released in clear. What they let through, found by trying (issue 22), is refused here:
a generalisation hierarchy that maps a name or an identifier to itself ("Lise Stook" ->
"Lise Stook"); a date of birth released finer than its year (the catalog's `personal:
date_of_birth`, or a column named like one: dob, date_of_birth, birth_date, born), which an
attacker knows of nearly everyone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from anonymize.params import Coarsening, Drop, Generalize, Suppress
from dsar.catalog.models import PersonalKind

if TYPE_CHECKING:
    from dsar.catalog.models import Column

IDENTIFYING = (
    PersonalKind.NAME,
    PersonalKind.EMAIL,
    PersonalKind.PHONE,
    PersonalKind.USERNAME,
    PersonalKind.ADDRESS,
    PersonalKind.FINANCIAL_ACCOUNT,
    PersonalKind.GOVERNMENT_ID,
)
"""Personal data that points at one person: no output level may keep it whole."""
BIRTH_NAME = re.compile(r"(^|_)(dob|born|born_on)$|birth_?date|date_?of_?birth|birthday")


def is_birth_date(name: str, spec: Column) -> bool:
    """The catalog marks the column a date of birth, or its name says it is one."""
    return spec.personal is PersonalKind.DATE_OF_BIRTH or bool(BIRTH_NAME.search(name.lower()))


def identifying(spec: Column) -> bool:
    """A name, an identifier or a contact value: kept whole, it points at one person."""
    return spec.identity is not None or spec.personal in IDENTIFYING


def kept_whole(column: str, spec: Column, op: Any) -> tuple[str, str] | None:
    """Why an operator would keep a name, an identifier or a date of birth (None: it would
    not), from the policy and the catalog alone."""
    if is_birth_date(column, spec) and not _year_or_coarser(op):
        return (
            f"{column} is a date of birth: {op.op} as written releases it finer than the year,"
            " which identifies nearly everyone (875 distinct days in 1,000 people)",
            "use {op: generalize, to: year} (or levels of year and '*'), or drop",
        )
    if identifying(spec) and isinstance(op, Generalize):
        same = sum(_to_itself(op.level(i)) for i in range(len(op.levels or [op])))
        if same:
            return (
                f"{column} names or identifies a person: its hierarchy maps {same} value(s) to"
                " themselves, which leaves them whole",
                "map every value to a group (a team, a region, '*'), or use pseudonym, hash"
                " or drop",
            )
    return None


def _year_or_coarser(op: Any) -> bool:
    """Every level an operator can release is a year, a short prefix of a date or '*'."""
    if isinstance(op, Drop | Suppress):
        return True
    if not isinstance(op, Generalize):
        return False
    for i in range(len(op.levels or [op])):
        level = op.level(i)
        if isinstance(level, str):
            continue  # '*'
        if level.to == "year" or (level.prefix is not None and level.prefix <= 4):
            continue
        return False
    return True


def _to_itself(level: Coarsening | str) -> int:
    if isinstance(level, str) or level.hierarchy is None:
        return 0
    return sum(1 for k, v in level.hierarchy.items() if _norm(k) == _norm(v))


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()
