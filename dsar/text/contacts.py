"""How people are reached: email addresses, phone numbers and IP addresses in free text.

Each is found in the forms people write: addresses spelled out to dodge harvesters ("ann at
example dot com", "ann[at]example[dot]com", "ann @ example.com") and with an apostrophe
("o'brien@example.ie"); phones with their extension ("ext. 42", "x204", "Durchwahl 12"),
which belongs to the span; IP addresses with their CIDR suffix and IPv6 zone id, IPv4-mapped
and embedded forms, and one-group IPv6 addresses (`::1`, `fe80::/10`). An address's port is
not part of it (Presidio's choice too: "[2001:db8::1]:8080" gives "2001:db8::1").

Detectors return `Span`s and never log or raise with the text they read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import regex

from dsar.text.spans import EMAIL, IP, PHONE, Span

# -- email ----------------------------------------------------------------------------------

# an apostrophe inside the local part (o'brien@), never at its start or end; a top-level
# domain of letters, or an internationalised one in punycode (xn--p1ai)
_APOSTROPHES = "['\u2019]"
_LOCAL = rf"(?<![\w.%+-])(?<!\w{_APOSTROPHES})(?:[\w.%+-]|(?<=\w){_APOSTROPHES}(?=\w))*\w"
_LABEL = r"\w(?:[\w-]*\w)?"
_TLD = r"(?:\p{L}{2,}|xn--[\p{L}\d-]*[\p{L}\d])"
_EMAIL = regex.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*\.{_TLD}(?![\w-]|@)")

# written to dodge harvesters: "at" and "dot" in brackets or as words, spaces around "@"
# (a space before "@" alone is a mention: "cc @ann.lee")
_AT = r"(?P<at>\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+at\s+|\s*@\s+)"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.)"
_OBFUSCATED = regex.compile(
    rf"(?P<local>{_LOCAL}){_AT}(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?P<tld>{_TLD}))"
    r"(?![\w-]|@)",
    regex.IGNORECASE,
)
# the top-level domain must be a common one or a country's two letters
_COMMON_TLDS = frozenset(
    """
    com org net edu gov mil int info biz io co me app dev ai xyz online site shop store tech
    cloud email mail name pro mobi asia
    """.split()  # noqa: SIM905 - a list of words reads better as text
)
# words that stand before a plain "at" in ordinary sentences ("find me at example dot com"
# is a web address, "ann at example dot com" an email address)
_NOT_A_LOCAL_PART = frozenset(
    """
    me us you him her them it i we they here there home work look looking meet meeting be is
    are was were stay staying live lives living available reach reached find found write
    email mail contact out up in on online visit visiting
    """.split()  # noqa: SIM905 - a list of words reads better as text
)


_SPELLED_DOT = re.compile(r"[\s\[({<]dot[\s\])}>]", re.IGNORECASE)
# only texts holding one of these can hold an obfuscated address
_MAYBE_OBFUSCATED = re.compile(r"[\[({<]\s*(?:at|@)\s*[\])}>]|\sat\s|@\s", re.IGNORECASE)


def _obfuscated(m: regex.Match[str]) -> bool:
    """An obfuscated match is an address: a known top-level domain, and a plain "at" only
    with a spelled-out dot or an address-like local part."""
    tld = m.group("tld").casefold()
    if len(tld) != 2 and tld not in _COMMON_TLDS and not tld.startswith("xn--"):
        return False
    if m.group("at").strip().casefold() == "at":
        spelled_dot = bool(_SPELLED_DOT.search(m.group("domain")))
        local = m.group("local")
        if local.casefold() in _NOT_A_LOCAL_PART:
            return False
        return spelled_dot or bool(re.search(r"[._+\d-]", local))
    return True


def emails(text: str) -> Iterator[Span]:
    found = [(m.start(), m.end()) for m in _EMAIL.finditer(text)]
    yield from (Span(a, b, EMAIL) for a, b in found)
    if _MAYBE_OBFUSCATED.search(text):
        for m in _OBFUSCATED.finditer(text):
            a, b = m.span()
            if _obfuscated(m) and not any(a < e and s < b for s, e in found):
                yield Span(a, b, EMAIL, 0.9)


# -- IP addresses --------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_V4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_V4_PREFIX = r"/(?:3[0-2]|[12]?\d)(?!\d)"  # CIDR: /0 to /32
_V6_PREFIX = r"/(?:12[0-8]|1[01]\d|[1-9]?\d)(?!\d)"  # /0 to /128
# after "IP:" or "IP-" too, but not inside a longer dotted or dashed number
IPV4 = re.compile(rf"(?<![\w.])(?<!\d[:\-]){_V4}(?:{_V4_PREFIX})?(?![\w-]|\.\d)")
# hex groups with "::" compression, an IPv4 tail (mapped, embedded), a zone id ("%eth0") and
# a prefix length; never glued to a word, never the start of a longer dotted number
_IPV6 = re.compile(
    rf"(?<![\w:.])(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:{_V4}|[0-9A-Fa-f]{{1,4}})?"
    rf"(?:%\w+)?(?:{_V6_PREFIX})?(?![\w:]|\.\d)"
)
# words that make a dotted quad a version or a product code, not an address (rv: Firefox's
# revision in every user agent, rv:1.9.1.20)
_NOT_AN_ADDRESS = re.compile(
    r"\b(?:version|ver\.?|v|build|firmware|release|sku|part|model|code|product|item|ref"
    r"|os|ios|android|windows|update|upgrade|patch|step|hotfix|section|chapter|clause"
    r"|rule|figure|fig|table|paragraph|article|art|rev|revision|rv)\s*[:#]?\s*$",
    re.IGNORECASE,
)
UNSPECIFIED_SCORE = 0.1  # "::" (and "::/0") names no machine: below every threshold


def ip_addresses(text: str) -> Iterator[Span]:
    if "." in text:
        for m in IPV4.finditer(text):
            if not _NOT_AN_ADDRESS.search(text[max(0, m.start() - 20) : m.start()]):
                yield Span(m.start(), m.end(), IP)
    if "::" in text or text.count(":") >= 5:
        for m in _IPV6.finditer(text):
            address = m.group().split("%", 1)[0].split("/", 1)[0]
            try:
                parsed = ipaddress.IPv6Address(address)
            except ValueError:
                continue
            score = UNSPECIFIED_SCORE if parsed.is_unspecified else 1.0
            yield Span(m.start(), m.end(), IP, score)


# -- phone numbers -------------------------------------------------------------------------

# the extension belongs to the number: "ext. 42", "x204", "Durchwahl 12", "poste 3"
_EXTENSION = (
    r"(?P<ext>,?\s*(?i:ext|extn|extension|x|durchwahl|dw|poste|ramal|interno|toestel|wew)"
    r"\.?\s*[:#.]?\s*\d{1,6})"
)
_PHONE = re.compile(
    r"(?<![\w@/+.,-])(?P<number>(?:\+|\b00)?\(?\d"
    r"(?:(?:[ \u00a0.\-/]|\)\s?|\s?\(0?\)\s?|\s?\()?\d){6,17})"
    rf"{_EXTENSION}?(?![\w@]|[.,:/-]\d)"
)
_PHONE_CUE = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|call|ring|reach|text|sms|whatsapp|number|contact"
    r"|fax|landline|on|at|ph|mob|m)\W{0,4}(?:(?:me|him|her|them|us)\W+)?"
    r"(?:(?:is|was|on|at)\b)?\W{0,3}$",
    re.IGNORECASE,
)
# an order's number is not a phone, nor is "account number: 12345678"
_NOT_A_PHONE = re.compile(
    r"(?:\b(?:order|invoice|inv|ticket|ref|reference|sku|part|id|no|nr|account|acct|case|po"
    r"|tracking|serial|version|build|isbn|batch|lot|item|transaction|txn)|#)"
    r"(?:\W{0,3}(?:number|num|no|nr|id)\b)?(?:\W{0,3}(?:is|was)\b)?\W{0,3}$",
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
        span = m.group("number")
        start = m.start()
        extension = m.group("ext") or ""
        if span.startswith("(") and ")" not in span:
            span, start = span[1:], start + 1
        if span.endswith(")") and "(" not in span:
            span, extension = span[:-1], ""
        end = start + len(span) + len(extension)
        digits = sum(ch.isdigit() for ch in span)
        before = text[max(0, start - 30) : start]
        if span.startswith(("+", "00")):
            if 8 <= digits <= 15 and _international_possible(span):
                yield Span(start, end, PHONE, 0.9)
            continue
        phone_word = bool(_PHONE_WORD.search(before))  # "mobile no.", "phone #:" beat "no."
        if not 7 <= digits <= 12 or (_NOT_A_PHONE.search(before) and not phone_word):
            continue
        if (
            _DATE_SHAPE.match(span)
            or _SSN_SHAPE.match(span)
            or IPV4.search(span)
            or (_DOTTED_VERSION.match(span) and _ONE_DIGIT_GROUP.search(span))
        ):
            continue
        if re.search(r"[$€£¥]\s*$", before):
            continue
        separated = any(not ch.isdigit() for ch in span)
        cue = phone_word or bool(extension) or bool(_PHONE_CUE.search(before))
        trunk = span[0] == "0" or span[0] == "("
        if (digits >= 9 and (separated or trunk)) or cue:
            score = 0.9 if cue else 0.7 if separated else 0.5
            yield Span(start, end, PHONE, score)
