"""Pattern detectors for personal data in free text: compiled once, checked by checksum.

Each detector finds candidates with one compiled regular expression and keeps those that
pass the check the format has: Luhn for payment cards, mod-97 for IBANs, the phone library's
"possible number" for international phones, octet ranges for IPv4, Python's `ipaddress` for
IPv6. Government IDs use Presidio's own recognizers (their patterns and checksums are right);
the rest replace Presidio's where it is wrong (its card pattern stops at 17 digits, its phone
recognizer drops numbers it does not rate valid).

Detectors return `Span`s and never log or raise with the text they read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import regex

# Entity types, with Presidio's names where Presidio has the entity.
PERSON = "PERSON"
EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"
CARD = "CREDIT_CARD"
IBAN = "IBAN_CODE"
IP = "IP_ADDRESS"
SECRET = "SECRET"  # noqa: S105 - an entity name, not a password
# national identifiers of the EU, the UK and the US that Presidio recognises, with a
# checksum or a distinctive shape; reported together as government IDs
GOVERNMENT_IDS = (
    "US_SSN",
    "US_ITIN",
    "UK_NHS",
    "UK_NINO",
    "ES_NIF",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "PL_PESEL",
    "FI_PERSONAL_IDENTITY_CODE",
)
PATTERN_ENTITIES = (EMAIL, PHONE, CARD, IBAN, IP, SECRET, *GOVERNMENT_IDS)
ENTITIES = (PERSON, *PATTERN_ENTITIES)
# masked to their last four characters in every bundle, even the person's own (CCPA
# regulations §7024(d): never disclose a financial account number or government ID)
FINANCIAL_AND_GOVERNMENT = frozenset({CARD, IBAN, *GOVERNMENT_IDS})


@dataclass(frozen=True, order=True)
class Span:
    """One detected entity: `text[start:end]` is of type `entity`, with a score in 0..1."""

    start: int
    end: int
    entity: str
    score: float = 1.0
    source: str = "pattern"

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


# -- secrets (also used by `dsar verify`) -------------------------------------------------

SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "Stripe-style live key": re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{8,}"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{8,}"),
    "Google OAuth token": re.compile(r"\bya29\.[A-Za-z0-9_-]{8,}"),
    "Shopify token": re.compile(r"\bshpat_[a-f0-9]{8,}"),
    "HubSpot token": re.compile(r"\bpat-[a-z0-9]+-[a-f0-9-]{8,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "bcrypt hash": re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{20,}"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    # the whole block, so that masking it leaves nothing of the key
    "private key": re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
        r"|[A-Za-z0-9+/=\s]*)"
    ),
}


def secrets(text: str) -> Iterator[Span]:
    for pattern in SECRET_PATTERNS.values():
        for m in pattern.finditer(text):
            yield Span(m.start(), m.end(), SECRET)


# -- email ----------------------------------------------------------------------------------

_EMAIL = regex.compile(
    r"(?<![\w.%+-])[\w.%+-]*\w@\w(?:[\w-]*\w)?(?:\.\w(?:[\w-]*\w)?)*\.\p{L}{2,}(?![\w-]|@)"
)


def emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), EMAIL)


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


# -- IP addresses --------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# after "IP:" or "IP-" too, but not inside a longer dotted or dashed number
_IPV4 = re.compile(rf"(?<![\w.])(?<!\d[:\-]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w-]|\.\d)")
_IPV6 = re.compile(
    rf"(?<![\w:.])(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:{_OCTET}(?:\.{_OCTET}){{3}}|[0-9A-Fa-f]{{1,4}}|:)?"
    r"(?:%\w+)?(?![\w:])"
)
# words that make a dotted quad a version or a product code, not an address (rv: Firefox's
# revision in every user agent, rv:1.9.1.20)
_NOT_AN_ADDRESS = re.compile(
    r"\b(?:version|ver\.?|v|build|firmware|release|sku|part|model|code|product|item|ref"
    r"|os|ios|android|windows|update|upgrade|patch|step|hotfix|section|chapter|clause"
    r"|rule|figure|fig|table|paragraph|article|art|rev|revision|rv)\s*[:#]?\s*$",
    re.IGNORECASE,
)


def ip_addresses(text: str) -> Iterator[Span]:
    if "." in text:
        for m in _IPV4.finditer(text):
            if not _NOT_AN_ADDRESS.search(text[max(0, m.start() - 20) : m.start()]):
                yield Span(m.start(), m.end(), IP)
    if "::" in text or text.count(":") >= 5:
        for m in _IPV6.finditer(text):
            value = m.group().split("%", 1)[0]
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                continue
            if ":" in value.strip(":"):
                yield Span(m.start(), m.start() + len(value), IP)


# -- phone numbers -------------------------------------------------------------------------

_PHONE = re.compile(
    r"(?<![\w@/+.,-])(?:\+|\b00)?\(?\d(?:(?:[ \u00a0.\-/]|\)\s?|\s?\(0?\)\s?|\s?\()?\d){6,17}"
    r"(?![\w@]|[.,:/-]\d)"
)
_PHONE_CUE = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|call|ring|reach|text|sms|whatsapp|number|contact"
    r"|fax|landline|on|at|ph|mob|m)\W{0,4}(?:(?:me|him|her|them|us)\W+)?(?:on|at)?\W{0,3}$",
    re.IGNORECASE,
)
_NOT_A_PHONE = re.compile(
    r"(?:\b(?:order|invoice|inv|ticket|ref|reference|sku|part|id|no|nr|account|acct|case|po"
    r"|tracking|serial|version|build|isbn|batch|lot|item|transaction|txn)|#)\W{0,3}$",
    re.IGNORECASE,
)
_PHONE_WORD = re.compile(
    r"\b(?:phone|mobile|mob|tel|telephone|cell|whatsapp|fax|landline|sms)\b\D{0,12}$",
    re.IGNORECASE,
)
_DATE_SHAPE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DOTTED_VERSION = re.compile(r"^[\d.]+$")  # with a one-digit group: a version, not a phone
_ONE_DIGIT_GROUP = re.compile(r"(?:^|\.)\d(?=\.|$)")


@cache
def _phonenumbers() -> Any:
    import phonenumbers

    return phonenumbers


def _international_possible(span: str) -> bool:
    pn = _phonenumbers()
    number = "+" + span[2:] if span.startswith("00") else span
    try:
        parsed = pn.parse(number, None)
    except pn.NumberParseException:
        return False
    return bool(pn.is_possible_number(parsed))


def phones(text: str) -> Iterator[Span]:
    for m in _PHONE.finditer(text):
        span = m.group()
        start = m.start()
        if span.startswith("(") and ")" not in span:
            span, start = span[1:], start + 1
        if span.endswith(")") and "(" not in span:
            span = span[:-1]
        digits = sum(ch.isdigit() for ch in span)
        before = text[max(0, start - 30) : start]
        if span.startswith(("+", "00")):
            if 8 <= digits <= 15 and _international_possible(span):
                yield Span(start, start + len(span), PHONE, 0.9)
            continue
        phone_word = bool(_PHONE_WORD.search(before))  # "mobile no.", "phone #:" beat "no."
        if not 7 <= digits <= 12 or (_NOT_A_PHONE.search(before) and not phone_word):
            continue
        if (
            _DATE_SHAPE.match(span)
            or _SSN_SHAPE.match(span)
            or _IPV4.search(span)
            or (_DOTTED_VERSION.match(span) and _ONE_DIGIT_GROUP.search(span))
        ):
            continue
        if re.search(r"[$€£¥]\s*$", before):
            continue
        separated = any(not ch.isdigit() for ch in span)
        cue = phone_word or bool(_PHONE_CUE.search(before))
        trunk = span[0] == "0" or span[0] == "("
        if (digits >= 9 and (separated or trunk)) or cue:
            score = 0.9 if cue else 0.7 if separated else 0.5
            yield Span(start, start + len(span), PHONE, score)


# -- government IDs (Presidio's recognizers, with their context words) ---------------------

_GOV_PREFILTER = re.compile(r"\d{3}|[A-Z]{2}\s?\d{2}\s?\d{2}", re.IGNORECASE)


@cache
def _government_recognizers() -> tuple[Any, ...]:
    from dsar.text.nlp import offline_presidio

    offline_presidio()
    from presidio_analyzer.predefined_recognizers import (
        EsNieRecognizer,
        EsNifRecognizer,
        FiPersonalIdentityCodeRecognizer,
        ItFiscalCodeRecognizer,
        NhsRecognizer,
        PlPeselRecognizer,
        UkNinoRecognizer,
        UsItinRecognizer,
        UsSsnRecognizer,
    )

    classes = (
        UsSsnRecognizer,
        UsItinRecognizer,
        NhsRecognizer,
        UkNinoRecognizer,
        EsNifRecognizer,
        EsNieRecognizer,
        ItFiscalCodeRecognizer,
        PlPeselRecognizer,
        FiPersonalIdentityCodeRecognizer,
    )
    return tuple(cls(supported_language="en") for cls in classes)


CONTEXT_BOOST = 0.35
NEAR_CONTEXT_BOOST = 0.5  # "ssn=123456789": the word right before the number
CONTEXT_FLOOR = 0.6  # a recognised ID shape with its context word is an ID


def government_ids(text: str) -> Iterator[Span]:
    if not _GOV_PREFILTER.search(text):
        return
    lowered = text.lower()
    for recognizer in _government_recognizers():
        for r in recognizer.analyze(text, recognizer.supported_entities, None):
            score = float(r.score)
            before = lowered[max(0, r.start - 40) : r.start]
            source = "pattern"
            if any(word.lower() in before for word in recognizer.context):
                near = any(word.lower() in before[-8:] for word in recognizer.context)
                boosted = score + (NEAR_CONTEXT_BOOST if near else CONTEXT_BOOST)
                score = min(1.0, max(boosted, CONTEXT_FLOOR))
                source = "context"
            yield Span(r.start, r.end, r.entity_type, score, source)


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
    EMAIL: "@",
    CARD: r"\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d\D?\d",
    IBAN: r"(?i)[a-z]{2}\d{2}",
    IP: r"\d\.\d|:[0-9A-Fa-f]*:",
    PHONE: r"\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d",
    SECRET: r"_live_|_test_|xox|ya29\.|shpat_|pat-|gh[pousr]_|\$2[aby]\$|AKIA|ASIA|PRIVATE KEY",
    "GOVERNMENT_ID": r"(?i)\d{3}|[a-z]{2}\s?\d{2}\s?\d{2}",
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
    """Overlapping spans settled by `rank` (the stronger claim wins), in text order."""
    chosen: list[Span] = []
    for s in sorted(spans, key=rank):
        if not any(s.overlaps(c) for c in chosen):
            chosen.append(s)
    return sorted(chosen)
