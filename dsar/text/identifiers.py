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

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property

import regex

from dsar.text.spans import Span

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
    # what every match holds, so that a text without it skips the patterns: `digits`, the
    # fewest digits one run of digits (`digit_runs`) holds; `needs`, a shorter pattern
    digits: int = 0
    needs: str | None = None

    @cached_property
    def _compiled(self) -> tuple[tuple[regex.Pattern[str], float], ...]:
        return tuple((regex.compile(p, _FLAGS), score) for p, score in self.patterns)

    @cached_property
    def _needs(self) -> regex.Pattern[str] | None:
        return None if self.needs is None else regex.compile(self.needs, _FLAGS)

    def may_match(self, text: str, longest: int) -> bool:
        """False when no pattern can match `text`, whose longest run of digits holds
        `longest` (`digit_runs`): `analyze` would find nothing."""
        if longest < self.digits:
            return False
        return self._needs is None or self._needs.search(text) is not None

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
    if not all(c in _ODD for c in value):  # a digit of another script ("٣"): no fiscal code
        return False
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
        digits=9,
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
        digits=9,
    ),
    IdRecognizer(
        "UK_NHS",
        ((r"\b([0-9]{3})[- ]?([0-9]{3})[- ]?([0-9]{4})\b", 0.5),),
        ("national health service", "nhs", "health services authority", "health authority"),
        validate=_nhs_valid,
        digits=10,
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
        digits=6,
    ),
    IdRecognizer(
        "ES_NIF",
        ((r"\b[0-9]?[0-9]{7}[-]?[A-Z]\b", 0.5),),
        ("documento nacional de identidad", "DNI", "NIF", "identificación"),
        validate=_nif_valid,
        digits=7,
    ),
    IdRecognizer(
        "ES_NIE",
        ((r"\b[X-Z]?[0-9]?[0-9]{7}[-]?[A-Z]\b", 0.5),),
        ("número de identificación de extranjero", "NIE"),
        validate=_nie_valid,
        digits=7,
    ),
    IdRecognizer(
        "IT_FISCAL_CODE",
        ((_FISCAL_CODE, 0.3),),
        ("codice fiscale", "cf"),
        validate=_fiscal_code_valid,
        # 16 letters and digits in a row (letters may stand for its digits: no digit count)
        needs=r"[A-Z\d]{16}",
    ),
    IdRecognizer(
        "PL_PESEL",
        ((r"[0-9]{2}([02468][1-9]|[13579][012])(0[1-9]|1[0-9]|2[0-9]|3[01])[0-9]{5}", 0.4),),
        ("PESEL",),
        validate=_pesel_valid,
        digits=11,
    ),
    IdRecognizer(
        "FI_PERSONAL_IDENTITY_CODE",
        ((rf"\b{_HETU}\b", 0.5), (_HETU, 0.1)),
        ("hetu", "henkilötunnus", "personbeteckningen", "personal identity code"),
        validate=_hetu_valid,
        digits=6,
    ),
)


# -- national IDs of many countries, passports and driving licences ----------------------
#
# Each ID with an official checksum is checked by python-stdnum (the module named), or here
# where stdnum has none (Singapore NRIC/FIN, Russian SNILS). The policy: a number whose
# checksum fails is never an ID; one that passes is an ID on its own only when its shape is
# specific enough (long, or written with its separators: `123.456.789-09`), else only with a
# word naming it within a few words before (or right after, in brackets). A number without a
# checksum (passports, driving licences, Nigeria's NIN, Vietnam's CCCD) is an ID only right
# after a word naming it, with nothing but "no.", "number", ":" and the like between.


def _stdnum(module: str) -> Callable[[str], bool]:
    """python-stdnum's `is_valid` of one ID, imported when first used (0.2 s for them all)."""

    def valid(value: str) -> bool:
        checker = importlib.import_module(f"stdnum.{module}")
        try:
            return bool(checker.is_valid(value))
        except Exception:  # a checker that raises on a value it did not expect: not valid
            return False

    return valid


def _kr_rrn_date(value: str) -> bool:
    """A resident registration number's birth date (numbers issued since October 2020 have
    no check digit: with its word, the date is the check)."""
    from stdnum.kr import rrn

    try:
        rrn.get_birth_date(value)
    except Exception:
        return False
    return int(_digits(value)[7:9]) <= 96


def _nric_valid(value: str) -> bool:
    """Singapore NRIC/FIN: weights 2765432, an offset by series, a check letter per series."""
    value = value.upper()
    first, digits, check = value[0], value[1:8], value[8]
    total = sum(int(d) * w for d, w in zip(digits, (2, 7, 6, 5, 4, 3, 2), strict=True))
    total += {"T": 4, "G": 4, "M": 3}.get(first, 0)
    r = total % 11
    if first in "ST":
        return "JZIHGFEDCBA"[r] == check
    if first in "FG":
        return "XWUTRQPNMLK"[r] == check
    return first == "M" and "KLJNPQRTUWX"[10 - r] == check


def _snils_valid(value: str) -> bool:
    """Russia's SNILS: nine digits weighted 9..1, the sum mod 101 (100 reads 00)."""
    digits = _digits(value)
    if len(digits) != 11 or int(digits[:9]) <= 1001998:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(9, 0, -1), strict=True))
    return total % 101 % 100 == int(digits[9:])


def _spaced(ch: str) -> bool:
    """A letter of a script that puts spaces between words (not Chinese, Japanese, Korean)."""
    return ch.isalnum() and ord(ch) < 0x2E80


def _cue(*words: str) -> str:
    """Words (regular expressions) as one alternation; a word that starts or ends with a
    letter of an alphabet is matched as a whole word, CJK words anywhere."""

    def bounded(word: str) -> str:
        head = r"(?<![^\W_])" if _spaced(word[:1]) else ""
        tail = r"(?![^\W\d_])" if _spaced(word[-1:]) or word[-1:] == "." else ""
        return f"{head}{word}{tail}"

    return "|".join(bounded(w) for w in words)


@dataclass(frozen=True)
class NationalId:
    """One ID: how it is written, the words that name it, its checksum, when it stands alone."""

    entity: str
    shape: str
    words: tuple[str, ...]
    valid: Callable[[str], bool]  # the checksum (and the date, region... it encodes)
    alone: str | None = None  # the written form that is an ID without a word (when valid)
    loose: Callable[[str], bool] | None = None  # with its word, this weaker check will do
    digits: int = 7  # the fewest digits in a row it has (texts without such a run skip it)
    flags: int = regex.IGNORECASE

    @cached_property
    def pattern(self) -> regex.Pattern[str]:
        return regex.compile(rf"{_START}(?:{self.shape}){_END}", self.flags)

    @cached_property
    def cue(self) -> regex.Pattern[str]:
        words = (*self.words, *_GENERIC_ID_WORDS, *_SCHEME_ID_WORDS)
        return regex.compile(_cue(*words), regex.IGNORECASE)

    @cached_property
    def alone_pattern(self) -> regex.Pattern[str] | None:
        return None if self.alone is None else regex.compile(self.alone)


# a number starts and ends apart from other letters and digits ("12.345.678-9" is one RUT,
# the middle of a longer grouped number is no ID)
# (a letter of a script written without spaces, Chinese or Japanese, may touch it)
_ALNUM = r"[0-9A-Za-z\u00c0-\u024f\u0370-\u052f]"
_START = rf"(?<!{_ALNUM}|[/\\_]|\d[.\-]|[A-Za-z]-|\d[ ])"
_END = rf"(?!{_ALNUM}|_|[.\-/]{_ALNUM}|[ ]\d)"

# words that name an identity number whatever its country: with one of them, any ID shape
# whose checksum passes is an ID (never alone a company's "order ID")
_GENERIC_ID_WORDS = (
    r"national[\s_-]*id(?:entity|entification)?(?:[\s_-]*(?:no|number|card))?",
    r"(?:personal|citizen|resident|government)[\s_-]*(?:id|identity|identification)",
    r"identity[\s_-]*(?:no|number|card|document)",
    r"identification[\s_-]*(?:no|number)",
    r"id[\s_-]*(?:no\.?|nr\.?|number|num|card|#)",
    r"personal[\s_-]*number",
    r"tax[\s_-]*id(?:entification)?(?:[\s_-]*(?:no|number))?",
    "ausweisnummer",
    "personalausweis",
    "identifikationsnummer",
    "carte d'identité",
    "numéro d'identité",
    "numéro d'identification",
    "documento de identidad",
    "documento de identificação",
    "número de identificação",
    "número de identidad",
    "carta d'identità",
    "documento d'identità",
    "dowód osobisty",
    "numer dowodu",
    "identiteitsnummer",
    "identiteitskaart",
    "удостоверение личности",
    "идентификационный номер",
    "αριθμός ταυτότητας",
    "ταυτότητα",
    "身份證",
    "身分證",
    "신분증",
    "رقم الهوية",
    "الهوية الوطنية",
    "الرقم القومي",
    "بطاقة الهوية",
    "số định danh",
    "căn cước",
)
# words that name one country's ID card, whose number has a checksum: with them the checksum
# is still required (they name no ID without one)
_SCHEME_ID_WORDS = ("kimlik", "身份证", "居民身份", "주민등록", "マイナンバー", "個人番号")

NATIONAL_IDS = (
    NationalId(
        "BR_CPF",
        r"\d{3}\.?\d{3}\.?\d{3}[-.]?\d{2}",
        ("cpf", "cadastro de pessoas? f[ií]sicas?"),
        _stdnum("br.cpf"),
        alone=r"\d{3}\.\d{3}\.\d{3}-\d{2}",
        digits=11,
    ),
    NationalId(
        "BR_CNPJ",
        r"\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}",
        ("cnpj",),
        _stdnum("br.cnpj"),
        alone=r"\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}",
        digits=14,
    ),
    NationalId(
        "IN_AADHAAR",
        r"[2-9]\d{3}([ -]?)\d{4}\1\d{4}",
        ("aadhaa?r", "adhaar", "aadhar", "uidai", "uid", "आधार"),
        _stdnum("in_.aadhaar"),
        alone=r"\d{4}([ -])\d{4}\1\d{4}",
        digits=12,
    ),
    NationalId(
        "IN_PAN",
        r"[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z]",
        ("pan", "pan card", "permanent account number", "income tax"),
        _stdnum("in_.pan"),
        alone=r"[A-Z]{3}P[A-Z]\d{4}[A-Z]",  # a person's PAN, in capitals
        digits=4,
    ),
    NationalId(
        "CN_RESIDENT_ID",
        r"[1-9]\d{5}(?:18|19|20)\d{2}[01]\d[0-3]\d{4}[\dX]",
        ("居民身份证", "公民身份号码", "resident identity", "chinese id", "china id", "id"),
        _stdnum("cn.ric"),
        alone=r"[\s\S]+",  # 18 characters, a birth date, a region and a check character
        digits=17,
    ),
    NationalId(
        "KR_RRN",
        r"\d{2}[01]\d[0-3]\d-?[1-8]\d{6}",
        ("주민등록번호", "주민번호", "rrn", "resident registration", "id"),
        _stdnum("kr.rrn"),
        alone=r"\d{6}-\d{7}",
        loose=_kr_rrn_date,
        digits=13,
    ),
    NationalId(
        "JP_MY_NUMBER",
        r"\d{4}([ -]?)\d{4}\1\d{4}",
        ("マイナンバー", "個人番号", "my ?number", "individual number"),
        _stdnum("jp.in_"),
        digits=12,
    ),
    NationalId(
        "TR_NATIONAL_ID",
        r"[1-9]\d{10}",
        ("t\\.c\\.", "tc", "tckn", "tcno", "kimlik", "turkish id", "türk", "id"),
        _stdnum("tr.tckimlik"),
        digits=11,
    ),
    NationalId(
        "SE_PERSONNUMMER",
        r"(?:19|20)?\d{6}[-+]?\d{4}",
        ("personnummer", "personnr", "person(?:al)? identity number", "samordningsnummer"),
        _stdnum("se.personnummer"),
        digits=10,
    ),
    NationalId(
        "NO_FODSELSNUMMER",
        r"\d{6} ?\d{5}",
        ("fødselsnummer", "fodselsnummer", "f\\.nr\\.?", "fnr", "personnummer", "id"),
        _stdnum("no.fodselsnummer"),
        digits=11,
    ),
    NationalId(
        "DK_CPR",
        r"\d{6}-?\d{4}",
        ("cpr", "cpr-nr\\.?", "cpr-nummer", "personnummer"),
        _stdnum("dk.cpr"),  # a birth date only: the check digit was given up in 2007
        digits=10,
    ),
    NationalId(
        "NL_BSN",
        r"\d{4}\.\d{2}\.\d{3}|\d{3}[ .]\d{3}[ .]\d{3}|\d{9}",
        ("bsn", "burgerservicenummer", "sofinummer", "citizen service number"),
        _stdnum("nl.bsn"),
        digits=9,
    ),
    NationalId(
        "BE_NATIONAL_NUMBER",
        r"\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}\.?\d{2}",
        (
            "rijksregisternummer",
            "rijksregister",
            "numéro national",
            "registre national",
            "national (?:register )?number",
            "insz",
            "niss",
        ),
        _stdnum("be.nn"),
        alone=r"\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}",
        digits=11,
    ),
    NationalId(
        "FR_NIR",
        r"[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}",
        (
            "nir",
            "insee",
            "sécurité sociale",
            "securite sociale",
            "sécu",
            "carte vitale",
            "social security",
        ),
        _stdnum("fr.nir"),
        alone=r"[\s\S]+",  # 15 characters, a sex, a month and a two-digit key
        digits=13,
    ),
    NationalId(
        "DE_TAX_ID",
        r"[1-9]\d ?\d{3} ?\d{3} ?\d{3}",
        (
            "steuer-?id(?:-?nr\\.?)?",
            "steuerid",
            "steueridentifikationsnummer",
            "steuerliche identifikationsnummer",
            "idnr\\.?",
            "steuernummer",
        ),
        _stdnum("de.idnr"),
        digits=11,
    ),
    NationalId(
        "IE_PPS",
        r"\d{7}[A-W][A-IW]?",
        ("pps", "ppsn", "pps no", "personal public service"),
        _stdnum("ie.pps"),
        alone=r"\d{7}[A-W][A-IW]?",  # in capitals
        digits=7,
    ),
    NationalId(
        "PT_NIF",
        r"[1-35-9]\d{2} ?\d{3} ?\d{3}",
        ("nif", "contribuinte", "n\\.?º? de contribuinte", "nipc"),
        _stdnum("pt.nif"),
        digits=9,
    ),
    NationalId(
        "PT_CC",
        r"\d{8} ?\d ?[A-Z]{2}\d",
        ("cartão de cidadão", "cartao de cidadao", "cc"),
        _stdnum("pt.cc"),
        alone=r"\d{8} ?\d ?[A-Z]{2}\d",
        digits=9,
    ),
    NationalId(
        "CA_SIN",
        r"\d{3}([- ]?)\d{3}\1\d{3}",
        ("sin", "social insurance", "nas", "assurance sociale"),
        _stdnum("ca.sin"),
        digits=9,
    ),
    NationalId(
        "AU_TFN",
        r"\d{3} ?\d{3} ?\d{2,3}",
        ("tfn", "tax file number"),
        _stdnum("au.tfn"),
        digits=8,
    ),
    NationalId(
        "SG_NRIC_FIN",
        r"[STFGM]\d{7}[A-Z]",
        ("nric", "fin", "ic no\\.?", "ic number"),
        _nric_valid,
        alone=r"[STFGM]\d{7}[A-Z]",  # in capitals
        digits=7,
    ),
    NationalId(
        "RO_CNP",
        r"[1-9]\d{12}",
        ("cnp", "cod numeric personal", "cod numeric"),
        _stdnum("ro.cnp"),
        digits=13,
    ),
    NationalId(
        "CZ_BIRTH_NUMBER",
        r"\d{6}/?\d{3,4}",
        ("rodn[ée] [čc][íi]slo", r"r\.\s?[čc]\.", "rč", "birth number", "rodné č"),
        _stdnum("cz.rc"),  # a birth date and, since 1954, mod 11: never alone (order numbers)
        digits=9,
    ),
    NationalId(
        "TH_ID",
        r"\d([ -]?)\d{4}\1\d{5}\1\d{2}\1\d",
        ("เลขประจำตัวประชาชน", "บัตรประชาชน", "thai id", "citizen id", "เลขบัตร"),
        _stdnum("th.pin"),
        alone=r"\d([ -])\d{4}\1\d{5}\1\d{2}\1\d",
        digits=13,
    ),
    NationalId(
        "AE_EMIRATES_ID",
        r"784([ -]?)\d{4}\1\d{7}\1\d",
        ("emirates id", "eid", "رقم الهوية الإماراتية", "الهوية الإماراتية"),
        lambda value: _stdnum("luhn")(_digits(value)),
        alone=r"784([ -])\d{4}\1\d{7}\1\d",
        digits=15,
    ),
    # no check digit: the province (Pakistan) or the region code and birth date (Indonesia)
    NationalId(
        "PK_CNIC",
        r"[1-7]\d{4}-?\d{7}-?\d",
        ("cnic", "nicop", "شناختی کارڈ", "قومی شناختی", "computeri[sz]ed national identity"),
        _stdnum("pk.cnic"),
        digits=13,
    ),
    NationalId(
        "ID_NIK",
        r"\d{16}",
        ("nik", "ktp", "nomor induk kependudukan", "kartu tanda penduduk"),
        _stdnum("id.nik"),
        loose=lambda value: len(_digits(value)) == 16,
        digits=16,
    ),
    NationalId(
        "ZA_ID_NUMBER",
        r"\d{6} ?\d{4} ?\d{3}",
        ("south african id", "rsa id", "sa id", "id"),
        _stdnum("za.idnr"),
        digits=13,
    ),
    NationalId(
        "GR_AMKA",
        r"\d{11}",
        ("amka", "αμκα", "α\\.μ\\.κ\\.α\\.?"),
        _stdnum("gr.amka"),
        digits=11,
    ),
    NationalId(
        "MX_CURP",
        r"[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d",
        ("curp",),
        _stdnum("mx.curp"),
        alone=r"[A-Z0-9]{18}",  # in capitals
        digits=6,
    ),
    NationalId(
        "CL_RUT",
        r"\d{1,2}\.?\d{3}\.?\d{3}-?[\dK]",
        ("rut", "rol único"),
        _stdnum("cl.rut"),
        alone=r"\d{1,2}\.\d{3}\.\d{3}-[\dkK]",
        digits=8,
    ),
    NationalId(
        "IL_ID",
        r"\d{8,9}",
        ("teudat zehut", "zehut", "israeli id", "תעודת זהות", "ת\\.ז\\.?", 'ת"ז', "מספר זהות"),
        _stdnum("il.idnr"),
        digits=8,
    ),
    NationalId(
        "RU_INN",
        r"\d{12}|\d{10}",
        ("инн", "inn", "taxpayer"),
        _stdnum("ru.inn"),
        digits=10,
    ),
    NationalId(
        "RU_SNILS",
        r"\d{3}-?\d{3}-?\d{3}[ -]?\d{2}",
        ("снилс", "snils"),
        _snils_valid,
        alone=r"\d{3}-\d{3}-\d{3}[ -]\d{2}",
        digits=11,
    ),
)


@dataclass(frozen=True)
class LabelledId:
    """An ID without a checksum: whatever stands right after one of its words."""

    entity: str
    words: tuple[str, ...]

    @cached_property
    def cue(self) -> regex.Pattern[str]:
        return regex.compile(_cue(*self.words), regex.IGNORECASE)


LABELLED_IDS = (
    LabelledId(
        "PASSPORT",
        (
            "passports?",
            "reisepass(?:nummer)?",
            "pass-?nr\\.?",
            "passeport",
            "pasaporte",
            "passaporte",
            "passaporto",
            "paspoort",
            "paszport(?:u)?",
            "pasaport",
            "passi",
            "paspor",
            "паспорт(?:а|е)?",
            "διαβατηρίου",
            "διαβατήριο",
            "护照",
            "護照",
            "旅券",
            "パスポート",
            "여권",
            "جواز السفر",
            "جواز سفر",
            "hộ chiếu",
        ),
    ),
    LabelledId(
        "DRIVER_LICENSE",
        (
            "driver[’']?s?[\\s_-]*licen[cs]e",
            "driving[\\s_-]*licen[cs]e",
            "licen[cs]e[\\s_-]*(?:no\\.?|nr\\.?|number|#)",
            "dl",
            "führerschein(?:nummer)?",
            "fuehrerschein",
            "permis de conduire",
            "licencia de conduc(?:ir|ción|cion)",
            "carn[eé] de conducir",
            "carnet de conducir",
            "carteira de motorista",
            "carteira (?:nacional )?de habilita[çc][ãa]o",
            "cnh",
            "patente di guida",
            "rijbewijs(?:nummer)?",
            "prawo jazdy",
            "prawa jazdy",
            "ehliyet",
            "sürücü belgesi",
            "водительское удостоверение",
            "водительского удостоверения",
            "водительские права",
            "άδεια οδήγησης",
            "άδειας οδήγησης",
            "驾驶证",
            "駕駛執照",
            "駕照",
            "運転免許証?",
            "免許証",
            "운전면허증?",
            "giấy phép lái xe",
            "bằng lái(?: xe)?",
            "رخصة القيادة",
            "رخصة قيادة",
            "ajokortti",
            "körkort",
            "førerkort",
            "kørekort",
        ),
    ),
    LabelledId(
        "NATIONAL_ID",
        (
            *_GENERIC_ID_WORDS,
            "nin",
            "national identification number",
            "nida",
            "cccd",
            "căn cước(?: công dân)?",
            "cmnd",
            "chứng minh (?:nhân dân|thư)",
            "cni",
            "dni",
            "c[ée]dula(?: de (?:identidad|ciudadan[ií]a))?",
            "nüfus cüzdanı",
            "ausweis(?:-?nr\\.?)?",
            "sozialversicherungsnummer",
            "sv-nummer",
            "rentenversicherungsnummer",
            "número de (?:la )?seguridad social",
            "nuss",
            "pis",
            "rg",
            "在留カード",
            "الهوية",
            "ταυτότητας",
            "α\\.?δ\\.?τ\\.?",
            "ид\\.? номер",
        ),
    ),
)

# a company's own identifiers: "order ID", "customer ID no." name no person's identity
_COMPANY_WORD = regex.compile(
    r"(?:order|ticket|customer|client|user|account|invoice|tracking|shipment|booking"
    r"|transaction|session|request|employee|member|case|reference|ref|product|item|device"
    r"|vendor|supplier|merchant|app|job|task|batch|container|parcel|package|consignment"
    r"|waybill|driver|vehicle|truck|trailer|route|warehouse|sku|record|row|message|thread"
    r"|chat|event|file|document|doc|report|payment|refund|claim|policy|contract|quote)"
    r"[\s_-]*$",
    regex.IGNORECASE,
)
# between a word and its ID: "no.", "number", "is", ":" and the like, in several languages
_FILLER = regex.compile(
    r"(?:[\s:：=#№()\[\]'\"“”„«»,.\-–—]"
    r"|(?:numbers?|numéro|numero|número|nummer|numer|номер|αριθμός|num|nr|no|n[°º]"
    r"|is|was|es|est|ist|é|è|jest|to|ni|de|du|da|do|del|der|des|of|my|his|her|their|the"
    r"|your|our|card|details?|id|ID)(?![^\W\d_])"
    r"|號碼|号码|番号|번호|号|는|은|是|为|為|は|が)*",
    regex.IGNORECASE,
)
_ID_VALUE = regex.compile(
    rf"[A-Z]*\d[A-Z0-9]*(?:[-./][A-Z0-9]+)*(?:[ ]\d{{3,}}(?!{_ALNUM}))*(?!{_ALNUM}|_)",
    regex.IGNORECASE,
)
_DATE = regex.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_CONTEXT_BEFORE = 48  # characters before a number in which its word counts
LABELLED_SCORE = 0.85  # an ID that a word names, without a checksum to prove it
ALONE_SCORE = 0.85  # a specific shape whose checksum passes, without a word


def _is_cue(text: str, m: regex.Match[str]) -> bool:
    """Not a company's own ID ("order ID") named by a generic word."""
    word = m.group().lower()
    if not word.startswith(("id", "i.d")):
        return True
    return not _COMPANY_WORD.search(text[max(0, m.start() - 20) : m.start()])


class _Cues:
    """The words in one text that may name an ID, found by one scan when first asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            text = self.text
            if text.isascii() or not _CASE_UNSAFE.search(text):
                # the same matches, three times faster: a text whose letters all lower-case
                # one to one, as the matcher folds them, searched lower-cased for the words
                # (all in lower case) without folding each comparison
                found = _all_cues(folded=False).finditer(text.lower())
            else:
                found = _all_cues().finditer(text)
            self._starts = [m.start() for m in found]
        return self._starts

    def named(self, start: int, end: int, cue: regex.Pattern[str]) -> bool:
        """A word naming the ID within a few words before it, or right after it in brackets."""
        text = self.text
        for at in self.starts:
            if start - _CONTEXT_BEFORE <= at < start:
                m = cue.match(text, at, start)
                if m is not None and _is_cue(text, m):
                    return True
        after = regex.match(r"\s*[(\[,]\s*", text[end : end + 4])
        return after is not None and cue.match(text, end + after.end()) is not None


@cache
def _all_cues(folded: bool = True) -> re.Pattern[str]:
    """Where any word of any ID may start: one scan (each ID's own words are then tried
    there); the boundary once before the alternation keeps it fast (90 us a text).
    `folded=False`: the same words matched as written, for a lower-cased text (`_Cues`)."""
    words = {w for spec in (*NATIONAL_IDS, *LABELLED_IDS) for w in spec.words}
    words |= {*_GENERIC_ID_WORDS, *_SCHEME_ID_WORDS}
    spaced = sorted(w for w in words if _spaced(regex.sub(r"^\(\?:", "", w)[:1]))
    other = sorted(words - set(spaced))
    pattern = rf"(?<![^\W_])(?:{'|'.join(spaced)})|{'|'.join(other)}"
    if folded:
        return re.compile(pattern, re.IGNORECASE)
    for letter, also in _FOLDS_TO.items():  # letters the matcher folds to others' cases
        pattern = pattern.replace(letter, f"[{letter}{also}]")
    return re.compile(pattern)


# the word's letters that the matcher equates with other letters' lower case (the Turkish
# dotless i, U+0131, matches i and I); written outside brackets in the words
_FOLDS_TO = {"\u0131": "i"}


# Characters that do not lower-case one to one as the matcher folds case: the Turkish dotted
# and dotless i, the long s, the micro sign (a Greek mu to the matcher), Greek sigmas and
# symbol forms; and whatever lies outside the scripts checked. A text without any is searched
# lower-cased (`_Cues.starts`); tests/test_text_speed.py checks every character of the
# ranges kept against the words.
_CASE_UNSAFE = re.compile(
    "[\u00b5\u0130\u0131\u017f\u0345\u03a3\u03c2\u03c3\u03d0\u03d1\u03f0\u03f1"
    "\u03f5\u0530-\u058f\u0e80-\u1dff\u1f00-\u2fff\ua000-\uabff\ud7b0-\U0010ffff]"
)


_DIGIT_RUN = re.compile(r"\d(?:[ .\-/]?\d)*")


def digit_runs(text: str) -> tuple[int, int]:
    """The digits of `text` that stand in runs (digits joined by at most one space, dot,
    dash or slash), and the most one run holds: what an ID's `digits` is compared with."""
    runs = [sum(c.isdigit() for c in m.group()) for m in _DIGIT_RUN.finditer(text)]
    return sum(runs), max(runs, default=0)


def _plain_value(value: str) -> bool:
    """An ID's characters: five or more, three digits at least, not a date."""
    alnum = sum(c.isalnum() for c in value)
    digits = sum(c.isdigit() for c in value)
    return 5 <= alnum <= 25 and digits >= 3 and not _DATE.fullmatch(value)


def national_ids(text: str, runs: tuple[int, int] | None = None) -> Iterator[Span]:
    """The IDs of `NATIONAL_IDS` (checksum) and `LABELLED_IDS` (a word before them);
    `runs`: the text's `digit_runs`, when the caller has them."""
    total, longest = digit_runs(text) if runs is None else runs
    if total < 3:
        return
    cues = _Cues(text)
    for spec in NATIONAL_IDS:
        if spec.digits > longest:
            continue
        for m in spec.pattern.finditer(text):
            value = m.group()
            named = cues.named(m.start(), m.end(), spec.cue)
            if spec.valid(value):
                if named:
                    yield Span(m.start(), m.end(), spec.entity, 1.0, "context")
                elif spec.alone_pattern is not None and spec.alone_pattern.fullmatch(value):
                    yield Span(m.start(), m.end(), spec.entity, ALONE_SCORE, "pattern")
            elif named and spec.loose is not None and spec.loose(value):
                yield Span(m.start(), m.end(), spec.entity, LABELLED_SCORE, "context")
    for at in cues.starts:
        for labelled in LABELLED_IDS:
            cue = labelled.cue.match(text, at)
            if cue is None or not _is_cue(text, cue):
                continue
            filler = _FILLER.match(text, cue.end())
            begin = filler.end() if filler is not None else cue.end()
            if begin - cue.end() > 30:
                continue
            found = _ID_VALUE.match(text, begin)
            if found is not None and _plain_value(found.group()):
                yield Span(found.start(), found.end(), labelled.entity, LABELLED_SCORE, "context")
