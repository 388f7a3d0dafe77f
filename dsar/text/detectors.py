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
from collections.abc import Callable, Iterator
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
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
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

_CARD = re.compile(r"(?<![\w+.,-])\d(?:[ .\-]?\d)+(?![\w])")


def luhn(digits: str) -> bool:
    """True when a digit string passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_issuer(digits: str) -> bool:
    """The number starts like a card of a payment network (ISO/IEC 7812 major industry 2-6)."""
    return digits[0] in "23456" or digits.startswith(("1800", "2131"))  # old 15-digit JCB


def _card_grouping(numbers: list[str]) -> bool:
    """Written as cards are: one run, or groups of four (Amex 4-6-5, a 19-digit card's last
    three); IP addresses, dates and phone numbers are grouped otherwise."""
    if len(numbers) == 1:
        return True
    return (
        len(numbers[0]) >= 4 and all(len(g) >= 4 for g in numbers[1:-1]) and len(numbers[-1]) >= 3
    )


def cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        groups = re.split(r"([ .\-])", m.group())
        # the run may go on into an expiry date or a reference: try whole groups from the
        # start, longest first (separators are kept at odd positions of `groups`)
        for stop in range(len(groups), 0, -2):
            candidate = "".join(groups[:stop])
            digits = re.sub(r"\D", "", candidate)
            if len(digits) < 12:
                break
            numbers = groups[:stop:2]
            if (
                len(digits) <= 19
                and _card_grouping(numbers)
                and _card_issuer(digits)
                and luhn(digits)
            ):
                yield Span(m.start(), m.start() + len(candidate), CARD)
                break


# -- IBAN ----------------------------------------------------------------------------------

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}\b")


def iban_valid(value: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97."""
    compact = value.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        candidate = m.group()
        # the pattern may run on into a following word in capitals: shorten until valid
        while len(candidate.replace(" ", "")) >= 15:
            if iban_valid(candidate):
                yield Span(m.start(), m.start() + len(candidate), IBAN)
                break
            candidate = candidate[:-1].rstrip()


# -- IP addresses --------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.:-]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w-]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|:)?(?:%\w+)?(?![\w:])"
)
# words that make a dotted quad a version or a product code, not an address
_NOT_AN_ADDRESS = re.compile(
    r"\b(?:version|ver\.?|v|build|firmware|release|sku|part|model|code|product|item|ref"
    r"|os|ios|android|windows|update|upgrade|patch|step|hotfix|section|chapter|clause"
    r"|rule|figure|fig|table|paragraph|article|art|rev|revision)\s*[:#]?\s*$",
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
        if not 7 <= digits <= 12 or _NOT_A_PHONE.search(before):
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
        cue = bool(_PHONE_CUE.search(before))
        trunk = span[0] == "0" or span[0] == "("
        if (digits >= 9 and (separated or trunk)) or cue:
            score = 0.9 if cue else 0.7 if separated else 0.5
            yield Span(start, start + len(span), PHONE, score)


# -- government IDs (Presidio's recognizers, with their context words) ---------------------

_GOV_PREFILTER = re.compile(r"\d{3}|[A-Z]{2}\s?\d{2}\s?\d{2}")


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
                score = min(1.0, score + (NEAR_CONTEXT_BOOST if near else CONTEXT_BOOST))
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
    CARD: r"\d[ .\-]?\d[ .\-]?\d[ .\-]?\d[ .\-]?\d[ .\-]?\d[ .\-]?\d[ .\-]?\d[ .\-]?\d",
    IBAN: r"[A-Z]{2}\d{2}",
    IP: r"\d\.\d|:[0-9A-Fa-f]*:",
    PHONE: r"\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d[^A-Za-z]?\d",
    SECRET: r"_live_|_test_|xox|ya29\.|shpat_|pat-|gh[pousr]_|\$2[aby]\$|AKIA|ASIA|PRIVATE KEY",
    "GOVERNMENT_ID": r"\d{3}|[A-Z]{2}\s?\d{2}\s?\d{2}",
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
