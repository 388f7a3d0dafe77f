"""Operators that would keep an identity whole, refused with the fix, from the policy and the
catalog alone (what only the data shows is `anonymize.sampling`'s).

The policy's own checks (`anonymize.policy`) keep identifiers, secrets and free text from
being released in clear. What they let through, found by trying (issue 22), is refused here:
a generalisation hierarchy whose group still carries a name, an identifier or a contact
value, in any form ("Lise Stook" -> "Lise Stook", "Lise_Stook", "stook, lise", "Stook"; a
phone's digits); a date of birth released finer than its year (the catalog's `personal:
date_of_birth`, or a column named like one in any of several languages: dob, bday, born,
birth_date, geboortedatum, fecha_nacimiento, date_naissance, geburtsdatum, d_o_b, nascita,
any name holding birth but a year, month or place of one: kid_birth...), which an attacker
knows of nearly everyone; a month or day of birth beside a year of birth (birth_year and
birth_month: the month of birth); an age in days, weeks or months (age_days) unless binned by
a year or more. A date of birth under another name is found in the data (`anonymize.sampling`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from anonymize.params import Coarsening, Drop, Generalize, Suppress
from dsar.catalog.models import PersonalKind

if TYPE_CHECKING:
    from collections.abc import Callable

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
    r"(^|_)(dob|d_o_b|bday|b_day|born|born_on|born_at|nascita)(_|$)|birth_?(date|day|dt)"
    r"|date_?of_?birth|dt_?birth|geboorte_?datum|fecha_?(de_?)?nacimiento|date_?(de_?)?naissance"
    r"|geburts_?(datum|tag)|data_?(di_?|de_?)?nasc(ita|imento)|fodelse_?datum|syntyma_?aika"
    r"|data_?urodzenia|datum_?narozeni"
)
"""Column names of a date of birth, matched on the name folded to ASCII and lower case."""
BIRTH_WORD = re.compile(r"birth|nascit|naissance|nacimiento|geboorte|geburt")
"""A name holding one of these is a date of birth (kid_birth, birth_of_child), unless it is
a year, a month or day of one (BIRTH_YEAR_NAME, BIRTH_PART_NAME) or a birth's other facts."""
BIRTH_YEAR_NAME = re.compile(
    r"birth_?(year|yr)|(year|yr)_?of_?birth|(^|_)yob(_|$)|geboorte_?jaar|anno_?(di_?)?nascita"
    r"|ano_?(de_?)?nacimiento|annee_?(de_?)?naissance|geburts_?jahr"
)
"""Column names of a year of birth."""
BIRTH_PART_NAME = re.compile(
    r"birth_?(month|mon|mth|mm|dd|dom)|(month|day)_?of_?birth|(^|_)(mob|dob_?(month|mon|mth"
    r"|day|dd|mm)|bday_?(month|day))(_|$)|geboorte_?maand|mese_?(di_?)?nascita"
    r"|mes_?(de_?)?nacimiento|mois_?(de_?)?naissance|geburts_?monat"
)
"""Column names of the month or day of a birth: beside its year, a date finer than it."""
BIRTH_OTHER = re.compile(
    r"birth_?(place|country|city|town|weight|name|order|rank|cert|sex|gender|nation)"
    r"|(place|country|city|town)_?of_?birth"
)
AGE_FINE_NAME = re.compile(
    r"(^|_)age_?(in_?)?(days?|weeks?|months?|d|w|mo|wk|wks|mos)(_|$)"
    r"|(^|_)(days?|weeks?|months?)_?(old|of_?age)(_|$)"
)
"""Column names of an age in days, weeks or months: finer than a year, a date of birth."""
PER_YEAR = {"d": 365, "w": 52, "m": 12}  # units of an age in a year, by the unit's initial
DIGITS = 7  # a value's last digits a group may not carry: a subscriber number, an account's
LONG_DIGITS = 6  # values with fewer digits are compared by their words only


def is_birth_date(name: str, spec: Column) -> bool:
    """The catalog marks the column a date of birth, or its name says it is one (any name
    holding birth, not a year, month or day of one, nor a place or weight)."""
    folded = _ascii(name)
    if spec.personal is PersonalKind.DATE_OF_BIRTH or BIRTH_NAME.search(folded):
        return True
    return bool(
        BIRTH_WORD.search(folded)
        and not BIRTH_YEAR_NAME.search(folded)
        and not BIRTH_PART_NAME.search(folded)
        and not BIRTH_OTHER.search(folded)
    )


def age_unit(name: str) -> str | None:
    """'d', 'w' or 'm' where the name says an age in days, weeks or months, else None."""
    found = AGE_FINE_NAME.search(_ascii(name))
    if found is None:
        return None
    unit = next(w for w in re.split(r"_+", found.group(0)) if w and w[0] in "dwm" and w != "of")
    return unit[0]


def coarser_than_a_year(op: Any, per_year: int) -> bool:
    """Every level an operator can release of an age counted `per_year` times a year bins it
    by a year or more ('*' too)."""
    return _every_level(op, lambda level: level.bin is not None and level.bin >= per_year)


def birth_part_problems(released: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A month or day of birth released beside a year of birth (birth_year + birth_month:
    the month of birth): (column, message, fix) for each."""
    years = [c for c in released if BIRTH_YEAR_NAME.search(_ascii(c))]
    if not years:
        return []
    return [
        (
            column,
            f"{column} is the month or day of a birth, released beside {years[0]} (its year):"
            " together they are a date of birth finer than the year",
            f"drop {column} (release the year of birth only)",
        )
        for column in released
        if BIRTH_PART_NAME.search(_ascii(column)) and column not in years
    ]


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
    unit = age_unit(column)
    if unit is not None and not coarser_than_a_year(op, PER_YEAR[unit]):
        return (
            f"{column} is an age finer than a year: {op.op} as written releases it, and with"
            " the extract's date it gives the date of birth",
            f"use {{op: generalize, bin: {PER_YEAR[unit]}}} (years), or drop",
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
    return _every_level(
        op, lambda level: level.to == "year" or (level.prefix is not None and level.prefix <= 4)
    )


def _every_level(op: Any, coarse: Callable[[Coarsening], bool]) -> bool:
    """Whether every level `op` can release is coarse enough: dropped or suppressed, '*', or a
    generalisation `coarse` accepts (any other operator releases the value: no)."""
    if isinstance(op, Drop | Suppress):
        return True
    if not isinstance(op, Generalize):
        return False
    levels = (op.level(i) for i in range(len(op.levels or [op])))
    return all(isinstance(level, str) or coarse(level) for level in levels)


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
