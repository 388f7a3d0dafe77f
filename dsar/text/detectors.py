"""Pattern detectors for personal data in free text: compiled once, checked by checksum.

Each detector finds candidates with one compiled regular expression and keeps those that
pass the check the format has: Luhn for payment cards, mod-97 for IBANs, the phone library's
"possible number" for international phones, octet ranges for IPv4, Python's `ipaddress` for
IPv6 (emails, phones and IP addresses are in `contacts`). Government IDs use Presidio's own
patterns and checksums (`identifiers`, ported so that Presidio and spaCy are not imported),
and those of many more countries with python-stdnum's checksums; secrets are in `secrets`;
the rest replace Presidio's where it is wrong (its card pattern stops at 17 digits, its phone
recognizer drops numbers it does not rate valid).

Detectors return `Span`s and never log or raise with the text they read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from dsar.text.contacts import emails, ip_addresses, phones
from dsar.text.identifiers import RECOGNIZERS, digit_runs, national_ids
from dsar.text.secrets import KEY_PATTERNS, PREFILTER as SECRET_PREFILTER, secrets
from dsar.text.spans import (
    CARD,
    EMAIL,
    ENTITIES,
    FINANCIAL_AND_GOVERNMENT,
    GOVERNMENT_IDS,
    IBAN,
    IP,
    PATTERN_ENTITIES,
    PERSON,
    PHONE,
    SECRET,
    Span,
)

__all__ = [
    "CARD",
    "DETECTORS",
    "EMAIL",
    "ENTITIES",
    "FINANCIAL_AND_GOVERNMENT",
    "GOVERNMENT_IDS",
    "IBAN",
    "IP",
    "PATTERN_ENTITIES",
    "PERSON",
    "PHONE",
    "PREFILTERS",
    "SECRET",
    "SECRET_PATTERNS",
    "Span",
    "cards",
    "emails",
    "government_ids",
    "iban_valid",
    "ibans",
    "ip_addresses",
    "luhn",
    "phones",
    "resolve",
    "secrets",
]

# -- secrets (also used by `dsar verify`) -------------------------------------------------

# the shapes of keys and tokens (`dsar verify` searches bundles with them); `secrets` also
# finds passwords after their word and labelled high-entropy tokens (dsar/text/secrets.py)
SECRET_PATTERNS = KEY_PATTERNS


# -- payment cards ------------------------------------------------------------------------

_CARD_SEPARATORS = " .\\-/\u00a0"
# a run of digits with single separators; not inside a longer dotted, dashed or slashed number
# (after a comma it may start: "cards=4111...,5555..." holds two)
_CARD = re.compile(rf"(?<![\w+])(?<!\d[.\-/])\d(?:[{_CARD_SEPARATORS}]?\d)+(?!\w)")
_GROUP = re.compile(rf"\d+|[{_CARD_SEPARATORS}]")
_CARD_CUE = re.compile(
    r"\b(?:card|cards|visa|mastercard|amex|maestro|rupay|uatp|pan|cc|credit|debit)\b",
    re.IGNORECASE,
)
MAX_CARD_DIGITS = 19


def luhn(digits: str) -> bool:
    """True when a digit string passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_issuer(digits: str, cue: bool) -> bool:
    """The number starts like a payment card: ISO/IEC 7812 major industries 2-6 always (and
    the old 15-digit JCB 1800/2131); 1, 7, 8 and 9 (UATP, fleet, RuPay, national schemes)
    only beside a card word."""
    if digits[0] in "23456" or digits.startswith(("1800", "2131")):
        return True
    return cue and digits[0] != "0"


def _card_grouping(numbers: list[str]) -> bool:
    """Written as cards are: one run, or groups of four (Amex 4-6-5, a 19-digit card's last
    three); IP addresses, dates and phone numbers are grouped otherwise."""
    if len(numbers) == 1:
        return True
    return (
        len(numbers[0]) >= 4 and all(len(g) >= 4 for g in numbers[1:-1]) and len(numbers[-1]) >= 3
    )


def cards(text: str) -> Iterator[Span]:
    """Card numbers, found inside longer digit runs too ("exp 06/25 4111 1111 1111 1111"):
    every window of whole groups of 12 to 19 digits is tried, longest first, in linear time."""
    for m in _CARD.finditer(text):
        parts = [(g.start(), g.group()) for g in _GROUP.finditer(m.group())]
        numbers = [(m.start() + a, g) for a, g in parts if g[0].isdigit()]
        cue = bool(_CARD_CUE.search(text[max(0, m.start() - 30) : m.start()]))
        i = 0
        while i < len(numbers):
            found = None
            digits = ""
            for j in range(i, len(numbers)):
                digits += numbers[j][1]
                if len(digits) > MAX_CARD_DIGITS:
                    break
                group = [g for _, g in numbers[i : j + 1]]
                if (
                    len(digits) >= 12
                    and _card_grouping(group)
                    and _card_issuer(digits, cue)
                    and luhn(digits)
                ):
                    found = j  # keep looking: the longest valid window wins
            if found is None:
                i += 1
                continue
            start, last = numbers[i][0], numbers[found]
            yield Span(start, last[0] + len(last[1]), CARD)
            i = found + 1


# -- IBAN ----------------------------------------------------------------------------------

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){11,32}\b", re.IGNORECASE)


# IBAN length per country (SWIFT's IBAN registry); a candidate of another length is not one
IBAN_LENGTHS = {
    entry[:2]: int(entry[2:])
    for entry in """
    AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22
    DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21
    HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27
    MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24
    RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22
    VG24 XK20 YE30
    """.split()  # noqa: SIM905 - a table reads better as text
}


def iban_valid(value: str) -> bool:
    """ISO 13616: the country's IBAN length, then the first four characters moved to the
    end, letters to numbers, mod 97."""
    compact = re.sub(r"[ \-]", "", value).upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact.isalnum():
        return False
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def ibans(text: str) -> Iterator[Span]:
    """IBANs, compact, in groups, any case; two in a row are two."""
    pos = 0
    while (m := _IBAN.search(text, pos)) is not None:
        candidate = m.group()
        found = False
        # the pattern may run on into the next word or IBAN: shorten until valid
        while len(re.sub(r"[ \-]", "", candidate)) >= 15:
            end = m.start() + len(candidate)
            letters = [c for c in candidate if c.isalpha()]
            one_case = all(c.isupper() for c in letters) or all(c.islower() for c in letters)
            ends_word = end == len(text) or not text[end].isalnum()
            if one_case and ends_word and iban_valid(candidate):
                found = True
                break
            candidate = candidate[:-1].rstrip(" -")
        if found:
            yield Span(m.start(), m.start() + len(candidate), IBAN)
            pos = m.start() + len(candidate)
        else:
            pos = m.start() + 1


# -- government IDs (Presidio's patterns and checksums, with their context words) -------------

_GOV_PREFILTER = re.compile(r"\d[A-Z]?\d[A-Z]?\d|[A-Z]{2}\s?\d{2}\s?\d{2}", re.IGNORECASE)


CONTEXT_BOOST = 0.35
NEAR_CONTEXT_BOOST = 0.5  # "ssn=123456789": the word right before the number
CONTEXT_FLOOR = 0.6  # a recognised ID shape with its context word is an ID


def _whole_number(text: str, start: int, end: int) -> bool:
    """Not the first or last digits of a longer number: 11 of 12 digits are no PESEL."""
    glued_before = start > 0 and text[start - 1].isdigit() and text[start].isdigit()
    glued_after = end < len(text) and text[end].isdigit() and text[end - 1].isdigit()
    return not (glued_before or glued_after)


def government_ids(text: str) -> Iterator[Span]:
    if not _GOV_PREFILTER.search(text):
        return
    lowered = text.lower()
    runs = digit_runs(text)
    for recognizer in RECOGNIZERS:
        if not recognizer.may_match(text, runs[1]):
            continue
        context = [word.lower() for word in recognizer.context]
        for start, end, score in recognizer.analyze(text):
            # no SSN starts with 9 (area numbers 900-999 are never issued: those are ITINs)
            if not _whole_number(text, start, end) or (
                recognizer.entity == "US_SSN" and text[start] == "9"
            ):
                continue
            before = lowered[max(0, start - 40) : start]
            source = "pattern"
            if any(word in before for word in context):
                near = any(word in before[-8:] for word in context)
                boosted = score + (NEAR_CONTEXT_BOOST if near else CONTEXT_BOOST)
                score = min(1.0, max(boosted, CONTEXT_FLOOR))
                source = "context"
            yield Span(start, end, recognizer.entity, score, source)
    yield from national_ids(text, runs)  # many more countries, passports, licences


Detector = Callable[[str], Iterator[Span]]
DETECTORS: dict[str, Detector] = {
    EMAIL: emails,
    CARD: cards,
    IBAN: ibans,
    IP: ip_addresses,
    PHONE: phones,
    SECRET: secrets,
    "GOVERNMENT_ID": government_ids,
}
# which detectors a text can need, decided by one vectorised regex per detector over the
# whole Arrow array (RE2 syntax): most texts skip most detectors
PREFILTERS: dict[str, str] = {
    # "@" (or the full-width one), or an address written to dodge harvesters ("ann [at]
    # example [dot] com", "ann -at- example", "eva(a)example.se", "ana arroba ... ponto br")
    EMAIL: r"@|\x{ff20}|(?i:[\[({<]\s*(?:at|ät|arroba|arobase|snabel-a)\s*[\])}>]|\S\(a\)\S|-at-"
    r"|\s(?:at|arroba|arobase)\s+\S+\s+(?:dot|punkt|point|punto|ponto)\s"
    r"|[._+0-9-]\w*\s+(?:at|arroba|arobase)\s+\w[\w-]*\.\w)",
    CARD: r"\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d",
    IBAN: r"(?i)[a-z]{2}\d{2}",
    IP: r"\d\.\d|:[0-9A-Fa-f]*:",
    # six digits; or a short number after an extension's or pager's word ("ext. 42",
    # "x4471", "bleep 2231", "ring the ward on 2231"); or OCR's O and l among the digits
    PHONE: r"\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d"
    r"|(?i:ext|extn|extension|durchwahl|dw|nebenstelle|poste|ramal|interno|toestel|wew|anexo"
    r"|anknytning)\W{0,4}-?\s?\d\d|x\d{3}|(?i:bleep|pager|piepser|phone|tel|telephone"
    r"|telefon|mobile|cell|fax|ph|on)\W{1,5}\d[ .-]?\d[ .-]?\d[ .-]?\d"
    r"|\d[OoIl]|[OoIl]\d",
    SECRET: SECRET_PREFILTER,
    "GOVERNMENT_ID": r"(?i)\d[a-z]?\d[a-z]?\d|[a-z]{2}\s?\d{2}\s?\d{2}",
}
# when two pattern spans overlap, the stronger claim wins: a checksum beats a shape
PRIORITY = {SECRET: 0, IBAN: 1, CARD: 2, EMAIL: 3, IP: 5, PHONE: 6}
GOVERNMENT_PRIORITY = 4  # with a context word; without one, after a phone with a cue


def rank(span: Span) -> tuple[float, float, int]:
    """Which of two overlapping spans wins (lower first): a checksum beats a shape, a
    context word beats none, a longer span beats a shorter one."""
    if span.entity in GOVERNMENT_IDS:
        level = GOVERNMENT_PRIORITY if span.source == "context" else 6.5
    elif span.entity == PHONE:
        level = PRIORITY[PHONE] if span.score >= 0.9 else 7
    else:
        level = PRIORITY.get(span.entity, 9)
    return (level, -span.score, -(span.end - span.start))


def resolve(spans: Iterable[Span]) -> list[Span]:
    """Overlapping spans settled by `rank` (the stronger claim wins), in text order.

    The characters a chosen span holds are marked, so a text with thousands of names costs
    the spans' length, not the square of their number; an empty chosen span (rare) is
    checked against each candidate as before.
    """
    chosen: list[Span] = []
    empty: list[Span] = []
    taken = bytearray()
    for s in sorted(spans, key=rank):
        if len(taken) < s.end:
            taken.extend(bytes(s.end - len(taken)))
        if any(taken[s.start : s.end]) or any(s.overlaps(c) for c in empty):
            continue
        chosen.append(s)
        if s.start < s.end:
            taken[s.start : s.end] = b"\x01" * (s.end - s.start)
        else:
            empty.append(s)
    return sorted(chosen)
