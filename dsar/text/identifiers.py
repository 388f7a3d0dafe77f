"""Government IDs: Presidio's patterns, context words and checksums, without importing Presidio.

Ported from presidio-analyzer 2.2.366's recognizers for the nine IDs the workbench finds
(`UsSsnRecognizer`, `UsItinRecognizer`, `NhsRecognizer`, `UkNinoRecognizer`,
`EsNifRecognizer`, `EsNieRecognizer`, `ItFiscalCodeRecognizer`, `PlPeselRecognizer`,
`FiPersonalIdentityCodeRecognizer`) with `PatternRecognizer`'s rules: every pattern matched
case-insensitively, a checksum that passes scores 1.0, one that fails drops the match, and a
match inside a longer one of the same type with no higher score is dropped. Importing
Presidio's analyzer imports spaCy (1.2 s at every start); these few patterns do not need it.
One difference, the workbench's policy: an Italian fiscal code whose check character is
wrong is dropped (Presidio keeps it at 0.3). `tests/test_presidio_cases.py` runs Presidio's
own test cases for each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import regex

_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE  # Presidio's global flags


@dataclass(frozen=True)
class IdRecognizer:
    """One ID type: patterns with their scores, context words, a checksum."""

    entity: str
    patterns: tuple[tuple[str, float], ...]
    context: tuple[str, ...]
    # True: a valid ID (score 1.0); False: not one; None: the pattern's score stands
    validate: Callable[[str], bool | None] | None = None
    invalidate: Callable[[str], bool] | None = None

    @cached_property
    def _compiled(self) -> tuple[tuple[regex.Pattern[str], float], ...]:
        return tuple((regex.compile(p, _FLAGS), score) for p, score in self.patterns)

    def analyze(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of each match that survives its checks."""
        found: set[tuple[int, int, float]] = set()
        for pattern, base in self._compiled:
            for m in pattern.finditer(text):
                value = m.group()
                if not value:
                    continue
                score = base
                if self.validate is not None:
                    valid = self.validate(value)
                    if valid is not None:
                        score = 1.0 if valid else 0.0
                if self.invalidate is not None and self.invalidate(value):
                    score = 0.0
                if score > 0:
                    found.add((m.start(), m.end(), score))
        return _without_contained(found)


def _without_contained(found: set[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Presidio's `remove_duplicates`: a match inside another of no lower score goes."""
    kept: list[tuple[int, int, float]] = []
    for start, end, score in sorted(found, key=lambda r: (r[0], -(r[1] - r[0]), -r[2])):
        if not any(a <= start and end <= b and score <= s for a, b, s in kept):
            kept.append((start, end, score))
    return kept


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _ssn_invalid(value: str) -> bool:
    if len({c for c in value if c in ".- "}) > 1:
        return True
    digits = _digits(value)
    return (
        all(c == digits[0] for c in digits)
        or digits[3:5] == "00"
        or digits[5:] == "0000"
        or digits[:3] in ("000", "666")
        or digits in ("123456789", "987654320", "078051120")
    )


def _nhs_valid(value: str) -> bool:
    digits = _digits(value)
    return sum(int(c) * w for c, w in zip(digits, range(10, -1, -1), strict=False)) % 11 == 0


_CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _nif_valid(value: str) -> bool:
    value = value.replace("-", "").replace(" ", "").upper()
    return value[-1] == _CONTROL_LETTERS[int(_digits(value)) % 23]


def _nie_valid(value: str) -> bool:
    value = value.replace("-", "").replace(" ", "").upper()
    if not value[1:-1].isdigit() or value[:1] not in "XYZ" or not 8 <= len(value) <= 9:
        return False
    return value[-1] == _CONTROL_LETTERS[int(str("XYZ".index(value[0])) + value[1:-1]) % 23]


_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
), strict=True))  # fmt: skip
_EVEN = {c: (int(c) if c.isdigit() else ord(c) - ord("A")) for c in _ODD}


def _fiscal_code_valid(value: str) -> bool:
    """The check character (the workbench requires it; Presidio keeps a wrong one at 0.3)."""
    value = value.upper()
    body = value[:-1]
    total = sum(_ODD[c] for c in body[0::2]) + sum(_EVEN[c] for c in body[1::2])
    return value[-1] == chr(ord("A") + total % 26)


def _pesel_valid(value: str) -> bool:
    if len(value) != 11 or not value.isdigit():
        return False
    weighted = sum(int(d) * w for d, w in zip(value[:10], (1, 3, 7, 9) * 3, strict=False))
    return (10 - weighted % 10) % 10 == int(value[10])


_FI_CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900}


def _hetu_valid(value: str) -> bool:
    if len(value) != 11:
        return False
    century = _FI_CENTURY.get(value[6].upper(), 2000)
    try:
        datetime(century + int(value[4:6]), int(value[2:4]), int(value[0:2]))
    except ValueError:
        return False
    return (
        "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(value[0:6] + value[7:10]) % 31] == value[-1].upper()
    )


_ITIN_GROUP = r"(5\d|6[0-5]|7\d|8[0-8]|9([0-2]|[4-9]))"
_FISCAL_CODE = (
    r"(?i)((?:[A-Z][AEIOU][AEIOUX]|[AEIOU]X{2}"
    r"|[B-DF-HJ-NP-TV-Z]{2}[A-Z]){2}"
    r"(?:[\dLMNP-V]{2}(?:[A-EHLMPR-T](?:[04LQ][1-9MNP-V]|[15MR][\dLMNP-V]"
    r"|[26NS][0-8LMNP-U])|[DHPS][37PT][0L]|[ACELMRT][37PT][01LM]"
    r"|[AC-EHLMPR-T][26NS][9V])|(?:[02468LNQSU][048LQU]"
    r"|[13579MPRTV][26NS])B[26NS][9V])(?:[A-MZ][1-9MNP-V][\dLMNP-V]{2}"
    r"|[A-M][0L](?:[1-9MNP-V][\dLMNP-V]|[0L][1-9MNP-V]))[A-Z])"
)
_HETU = r"(\d{6})([-+ABCDEFYXWVU])(\d{3})([0123456789ABCDEFHJKLMNPRSTUVWXY])"

RECOGNIZERS = (
    IdRecognizer(
        "US_SSN",
        (
            (r"\b([0-9]{5})-([0-9]{4})\b", 0.05),
            (r"\b([0-9]{3})-([0-9]{6})\b", 0.05),
            (r"\b(([0-9]{3})-([0-9]{2})-([0-9]{4}))\b", 0.05),
            (r"\b[0-9]{9}\b", 0.05),
            (r"\b([0-9]{3})[- .]([0-9]{2})[- .]([0-9]{4})\b", 0.5),
        ),
        ("social", "security", "ssn", "ssns", "ssid"),
        invalidate=_ssn_invalid,
    ),
    IdRecognizer(
        "US_ITIN",
        (
            (
                rf"\b9\d{{2}}[- ]{_ITIN_GROUP}\d{{4}}\b|\b9\d{{2}}{_ITIN_GROUP}[- ]\d{{4}}\b",
                0.05,
            ),
            (rf"\b9\d{{2}}{_ITIN_GROUP}\d{{4}}\b", 0.3),
            (rf"\b9\d{{2}}[- ]{_ITIN_GROUP}[- ]\d{{4}}\b", 0.5),
        ),
        ("individual", "taxpayer", "itin", "tax", "payer", "taxid", "tin"),
    ),
    IdRecognizer(
        "UK_NHS",
        ((r"\b([0-9]{3})[- ]?([0-9]{3})[- ]?([0-9]{4})\b", 0.5),),
        ("national health service", "nhs", "health services authority", "health authority"),
        validate=_nhs_valid,
    ),
    IdRecognizer(
        "UK_NINO",
        (
            (
                r"\b(?!bg|gb|nk|kn|nt|tn|zz|BG|GB|NK|KN|NT|TN|ZZ)"
                r"([a-ceghj-pr-tw-zA-CEGHJ-PR-TW-Z]{1}[a-ceghj-npr-tw-zA-CEGHJ-NPR-TW-Z]{1})"
                r" ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?([a-dA-D]{1})\b",
                0.5,
            ),
        ),
        ("national insurance", "ni number", "nino"),
    ),
    IdRecognizer(
        "ES_NIF",
        ((r"\b[0-9]?[0-9]{7}[-]?[A-Z]\b", 0.5),),
        ("documento nacional de identidad", "DNI", "NIF", "identificación"),
        validate=_nif_valid,
    ),
    IdRecognizer(
        "ES_NIE",
        ((r"\b[X-Z]?[0-9]?[0-9]{7}[-]?[A-Z]\b", 0.5),),
        ("número de identificación de extranjero", "NIE"),
        validate=_nie_valid,
    ),
    IdRecognizer(
        "IT_FISCAL_CODE",
        ((_FISCAL_CODE, 0.3),),
        ("codice fiscale", "cf"),
        validate=_fiscal_code_valid,
    ),
    IdRecognizer(
        "PL_PESEL",
        ((r"[0-9]{2}([02468][1-9]|[13579][012])(0[1-9]|1[0-9]|2[0-9]|3[01])[0-9]{5}", 0.4),),
        ("PESEL",),
        validate=_pesel_valid,
    ),
    IdRecognizer(
        "FI_PERSONAL_IDENTITY_CODE",
        ((rf"\b{_HETU}\b", 0.5), (_HETU, 0.1)),
        ("hetu", "henkilötunnus", "personbeteckningen", "personal identity code"),
        validate=_hetu_valid,
    ),
)
