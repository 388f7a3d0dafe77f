"""Operators that would keep an identity whole, refused with the fix, from the policy and the
catalog alone (what only the data shows is `anonymize.sampling`'s).

The policy's own checks (`anonymize.policy`) keep identifiers, secrets and free text from
being released in clear. What they let through, found by trying (issue 22), is refused here:
a generalisation hierarchy whose group still carries a name, an identifier or a contact
value, in any form ("Lise Stook" -> "Lise Stook", "Lise_Stook", "stook, lise", "Stook"; a
phone's digits); a date of birth released finer than its year (the catalog's `personal:
date_of_birth`, or a column named like one in any of several languages: dob, bday, born,
birth_date, geboortedatum, fecha_nacimiento, date_naissance, geburtsdatum...), which an
attacker knows of nearly everyone. A date of birth under another name is found in the data
(`anonymize.sampling`).
"""

from __future__ import annotations

import re
import unicodedata
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
BIRTH_NAME = re.compile(
    r"(^|_)(dob|bday|b_day|born|born_on|born_at)(_|$)|birth_?(date|day|dt)|date_?of_?birth"
    r"|dt_?birth|geboorte_?datum|fecha_?(de_?)?nacimiento|date_?(de_?)?naissance"
    r"|geburts_?(datum|tag)|data_?(di_?|de_?)?nasc(ita|imento)|fodelse_?datum|syntyma_?aika"
    r"|data_?urodzenia|datum_?narozeni"
)
"""Column names of a date of birth, matched on the name folded to ASCII and lower case."""
DIGITS = 7  # a value's last digits a group may not carry: a subscriber number, an account's
LONG_DIGITS = 6  # values with fewer digits are compared by their words only


def is_birth_date(name: str, spec: Column) -> bool:
    """The catalog marks the column a date of birth, or its name says it is one."""
    return spec.personal is PersonalKind.DATE_OF_BIRTH or bool(BIRTH_NAME.search(_ascii(name)))


def identifying(spec: Column) -> bool:
    """A name, an identifier or a contact value: kept whole, it points at one person."""
    return spec.identity is not None or spec.personal in IDENTIFYING


def kept_whole(column: str, spec: Column, op: Any) -> tuple[str, str] | None:
    """Why an operator would keep a name, an identifier or a date of birth (None: it would
    not), from the policy and the catalog alone."""
    if is_birth_date(column, spec) and not year_or_coarser(op):
        return (
            f"{column} is a date of birth: {op.op} as written releases it finer than the year,"
            " which identifies nearly everyone (875 distinct days in 1,000 people)",
            "use {op: generalize, to: year} (or levels of year and '*'), or drop",
        )
    if identifying(spec) and isinstance(op, Generalize):
        carried = carried_by_hierarchy(op, surname=spec.personal is PersonalKind.NAME)
        if carried:
            return (
                f"{column} names or identifies a person: its hierarchy maps {carried} value(s)"
                " to a group that still carries them (the same words in another order, case,"
                " spelling or punctuation, the surname, or the same digits)",
                "map every value to a group (a team, a region, '*'), or use pseudonym, hash"
                " or drop",
            )
    return None


def year_or_coarser(op: Any) -> bool:
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


def carried_by_hierarchy(op: Generalize, surname: bool = False) -> int:
    """How many (value, group) pairs of an operator's hierarchies carry the value."""
    found = 0
    for i in range(len(op.levels or [op])):
        level = op.level(i)
        if isinstance(level, Coarsening) and level.hierarchy is not None:
            found += sum(carries(g, v, surname) for v, g in level.hierarchy.items())
    return found


def carries(group: str, value: str, surname: bool = False) -> bool:
    """The group still carries the value: every word of it (in any order, case, accents,
    punctuation or spacing), its surname (`surname`: the value is a person's name), or its
    last digits (a phone, an account or ID number).

    >>> carries("van_saksen, chloe", "Chloé van Saksen")
    True
    >>> carries("Amsterdam", "Chloé van Saksen")
    False
    """
    words, into = _words(value), _words(group)
    if not words:
        return False
    squashed = "".join(into)
    inside = [w in into or (len(w) >= 3 and w in squashed) for w in words]
    if all(inside):
        return True
    if surname and len(words) > 1 and inside[_surname(value, words)]:
        return True
    digits = re.sub(r"\D", "", value)
    return len(digits) >= LONG_DIGITS and digits[-DIGITS:] in re.sub(r"\D", "", group)


def _surname(value: str, words: list[str]) -> int:
    """The index of the surname's last word in `words`: before a comma ("Saksen, Chloé"),
    else the last word."""
    if "," in value:
        return len(_words(value.split(",", 1)[0])) - 1
    return len(words) - 1


def _ascii(value: str) -> str:
    """Folded to lower-case ASCII letters and digits (accents stripped)."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(value: str) -> list[str]:
    """The value's words, folded: punctuation, underscores and spacing are separators."""
    return [w for w in re.split(r"[\W_]+", _ascii(value)) if w]
