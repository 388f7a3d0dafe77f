"""How people are reached: email addresses, phone numbers and IP addresses in free text.

Each is found in the forms people write: addresses spelled out to dodge harvesters ("ann at
example dot com", "ann[at]example[dot]com", "jane dot doe at ...", "ann -at- example -dot-
com", "eva(a)example.se", "arroba"/"punkt", "ann @ example.com", "ann.lee @example.com"),
with an apostrophe ("o'brien@example.ie"), the full-width at sign, punycode and Unicode
domains; phones with their extension ("ext. 42", "x204", "Durchwahl -17", "(ext. 214)"),
which belongs to the span, the trunk prefix ("+44 (0)20", "+49-(0)30"), spaced separators
("089 / 12 34 56"), in CSV cells, wrapped over two lines, with OCR's O and l for 0 and 1
after a phone word, and short numbers a word calls phones ("bleep 4471", "ring the ward on
2231", "x4471"); IP addresses with their CIDR suffix and IPv6 zone id, IPv4-mapped and
embedded forms, and one-group IPv6 addresses (`::1`, `fe80::/10`). An address's port is
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

# written to dodge harvesters: "at" and "dot" in brackets, between dashes or as words ("ann
# at example dot com", "ann[at]example[dot]com", "ann -at- example -dot- com", "arroba",
# "punkt"), "(a)" glued between the parts (Nordic: "eva(a)example.se"), spaces around "@",
# a spelled dot in the local part too ("jane dot doe at ..."). A space before "@" alone is a
# mention ("cc @ann.lee") unless the local part looks like an address ("ann.lee @example.com")
_AT_WORDS = r"(?:at|@|\u00e4t|arroba|arobase|snabel-a)"
_AT = (
    rf"(?P<at>\s*[\[({{<]\s*{_AT_WORDS}\s*[\])}}>]\s*|(?<=\S)\(a\)(?=\S)|\s*-at-\s*"
    r"|\s+(?:at|arroba|arobase)\s+|\s*@\s+|\s+@)"
)
_DOT_WORDS = r"(?:dot|punkt|point|punto|ponto)"
_SPELLED = rf"(?:\s*[\[({{<]\s*(?:{_DOT_WORDS}|\.)\s*[\])}}>]\s*|\s*-dot-\s*|\s+{_DOT_WORDS}\s+)"
_DOT = rf"(?:{_SPELLED}|\.|\s+\.\s+)"
_OBFUSCATED = regex.compile(
    rf"(?P<local>{_LOCAL}){_AT}"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?P<tld>{_TLD}))(?![\w-]|@)",
    regex.IGNORECASE,
)
# the top-level domain must be a common one or a country's two letters
_COMMON_TLDS = frozenset(
    """
    com org net edu gov mil int info biz io co me app dev ai xyz online site shop store tech
    cloud email mail name pro mobi asia health clinic care hospital doctor dental healthcare
    museum jobs travel solutions agency company digital media news blog live life world global
    group team services center centre network systems software consulting law legal bank
    finance school academy education studio design art space website family social eu
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


_SPELLED_DOT = regex.compile(rf"{_SPELLED}|\s\.\s", regex.IGNORECASE)
_ADDRESS_LIKE = re.compile(r"[._+\d-]")
# only texts holding one of these can hold an obfuscated address
# (a plain "at" only before a word and a dot, written or spelled: most "at"s are not)
_MAYBE_OBFUSCATED = re.compile(
    rf"[\[({{<]\s*{_AT_WORDS}\s*[\])}}>]|\(a\)|-at-|@\s|\s@"
    rf"|\s(?:at|arroba|arobase)\s+[\w-]+(?:\s*\.|\s*[\[({{<-]?\s*{_DOT_WORDS}\b)",
    re.IGNORECASE,
)


def _obfuscated(m: regex.Match[str]) -> bool:
    """An obfuscated match is an address: a known top-level domain, and a plain "at" (or a
    space before "@" alone) only with a spelled-out dot or an address-like local part."""
    tld = m.group("tld").casefold()
    if len(tld) != 2 and tld not in _COMMON_TLDS and not tld.startswith("xn--"):
        return False
    at = m.group("at")
    local = m.group("local")
    if at.strip().casefold() in ("at", "arroba", "arobase"):
        if local.casefold() in _NOT_A_LOCAL_PART:
            return False
        return bool(_SPELLED_DOT.search(m.group("domain")) or _ADDRESS_LIKE.search(local))
    if at[:1].isspace() and not at[-1:].isspace() and at.strip() in ("@", "\uff20"):
        return bool(_ADDRESS_LIKE.search(local)) and "." in m.group("domain")
    return True


# the words of a local part spelled with dots ("jane dot doe at ..."), read back from "doe"
_SPELLED_LOCAL = regex.compile(rf"(?:(?<![\w.%+-])\w+{_SPELLED})+$", regex.IGNORECASE)


def emails(text: str) -> Iterator[Span]:
    if "\uff20" in text:  # the full-width at sign of CJK keyboards, read as "@"
        text = text.replace("\uff20", "@")
    found = [(m.start(), m.end()) for m in _EMAIL.finditer(text)]
    yield from (Span(a, b, EMAIL) for a, b in found)
    if _MAYBE_OBFUSCATED.search(text):
        for m in _OBFUSCATED.finditer(text):
            a, b = m.span()
            if _obfuscated(m) and not any(a < e and s < b for s, e in found):
                spelled = _SPELLED_LOCAL.search(text, max(0, a - 80), a)
                yield Span(spelled.start() if spelled else a, b, EMAIL, 0.9)


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

# the extension belongs to the number: "ext. 42", "x204", "Durchwahl -17", "poste 3", and in
# brackets: "(ext. 214)", "(x42)"
_EXTENSION_WORD = (
    r"(?i:ext|extn|extension|x|durchwahl|dw|nebenstelle|poste|ramal|interno|toestel|wew"
    r"|anexo|anknytning)"
)
_EXTENSION = (
    rf"(?P<ext>\s?\({_EXTENSION_WORD}\.?\s*[:#.]?\s*\d{{1,6}}\)"
    rf"|,?\s*{_EXTENSION_WORD}\.?\s*[:#.]?\s*-?\s*\d{{1,6}})"
)
# between two digits: one separator, a spaced dash or slash ("0171 - 2345678", "089 / 12 34"),
# a bracket, the trunk prefix "(0)" ("+44 (0)20", "+49-(0)30"), or one line break (a number
# wrapped in an OCR'd letter or a narrow column: kept only when the line's part is no phone)
_GAP = r"[ \u00a0]?"
_SEPARATOR = (
    rf"(?:{_GAP}[\-/\u2013]{_GAP}|[ \u00a0.]|\){_GAP}|[ \u00a0.\-]?\(0?\)[ \u00a0.\-]?"
    rf"|{_GAP}\(|[ \t]*\n[ \t]*)"
)
# never inside a word, an address or a longer number; a comma before it is a CSV cell's
# ("Anna,415-555-0132"), a comma after it too unless a decimal's ("1234567,89"). The digits
# are taken whole (an atomic group): a run that goes on into a word or a longer number gives
# no shorter match ("+48 512 345" out of "+48 512 345 678,5"), and a run holding two numbers
# is cut at its joint by `_phones`.
_PHONE = re.compile(
    rf"(?<![\w@/+.-])(?P<number>(?>(?:\(?\+|\b00)?\(?\d(?:{_SEPARATOR}?\d){{6,40}}))"
    rf"{_EXTENSION}?(?![\w@]|[.:/-]\d|,\d{{1,3}}\b)"
)
_PHONE_CUE = re.compile(
    r"(?:\b(?:phone|tel|telephone|mobile|cell|call|ring|reach|text|sms|whatsapp|number"
    r"|contact|fax|landline|on|at|ph|mob|m|p\u00e5|au|al|unter|op|na|pod)"
    r"|[\u260e\u260f\U0001f4de\U0001f4f1])"
    r"\W{0,4}(?:(?:me|him|her|them|us)\W+)?(?:(?:is|was|on|at)\b)?\W{0,3}$",
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
    r"(?:\b(?:phone|mobile|mob|tel|telephone|telefon|cell|whatsapp|fax|landline|sms|t\u00e9l"
    r"|t\u00e9l\u00e9phone|tel\u00e9fono|telefono|tlf|puhelin|handy|mobil|m\u00f3vil|movil"
    r"|celular|cellulare|portable|gsm|rufnummer|telefonnummer"
    r"|\u7535\u8bdd|\u624b\u673a|\u96fb\u8a71|\u643a\u5e2f|\u0442\u0435\u043b"
    r"|\u0442\u0435\u043b\u0435\u0444\u043e\u043d|\u0647\u0627\u062a\u0641)\b"
    r"|[\u260e\u260f\U0001f4de\U0001f4f1])\D{0,12}$",
    re.IGNORECASE,
)
_PHONE_ANYWHERE = re.compile(  # a text OCR's noise is read in: one that names a phone
    r"phone|\btel|mob|fax|cell|call|ring|contact|number|handy|whatsapp|\u260e|\U0001f4de",
    re.IGNORECASE,
)
_JOINT = re.compile(r"[ \t]*\n[ \t]*|[ \u00a0][\-/\u2013][ \u00a0]")  # between two numbers?
_LEADING_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}[ \u00a0](?=\d)")
_DATE_SHAPE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d ?[-/\u2013] ?(?:19|20)\d\d$")  # "2019 - 2023"
_DOTTED_VERSION = re.compile(r"^[\d.]+$")  # with a one-digit group: a version, not a phone
_ONE_DIGIT_GROUP = re.compile(r"(?:^|\.)\d(?=\.|$)")

# a short number is a phone only right after a word saying so: an extension alone ("ext.
# 4471", "x4471", "Durchwahl -17"), a pager ("bleep 2231"), "Tel.: 4471", "ring the ward on
# 2231"; the extension's word belongs to the span, as after a full number ("poste",
# "interno" and "anexo" only there: alone they are a workstation, a flat, an annex). Short
# runs of digits are found first, then the words before them read (cheaper than the words)
_SHORT_RUN = re.compile(r"\d(?:[ .\-]?\d){1,5}(?![\w@]|[.,:/-]?\d|\s\d)")
_SHORT_CUE = re.compile(
    r"(?:(?P<ext>\b(?:ext|extn|extension|durchwahl|dw|nebenstelle|ramal|toestel|wew"
    r"|anknytning)\.?\s*[:#.]?\s*-?\s*)"
    r"|\b(?:bleep|pager|piepser|phone|tel|telephone|telefon|mobile|fax|ph)\b\.?"
    r"\s*(?:no\.?|number|nr\.?|#)?\s*[:#.]?\s*"
    r"|\b(?P<on>call|ring|bleep|page|phone)\b(?:\s+\w+){0,3}?\s+on\s+)$",
    re.IGNORECASE,
)
_SHORT_STEMS = (
    "ext", "durchwahl", "dw", "nebenstelle", "ramal", "toestel", "wew", "anknytning",
    "bleep", "pager", "piepser", "phone", "tel", "mobile", "fax", "ph",
)  # fmt: skip
_YEAR = re.compile(r"^(?:19|20)\d\d$")

# OCR's letters for digits: O for 0, l and I for 1, only where they touch a digit
_OCR_LETTERS = re.compile(r"(?<=\d)[OoIl]+|[OoIl]+(?=\d)")
_OCR_HINT = re.compile(r"\d[OoIl]|[OoIl]\d")
_OCR_DIGITS = str.maketrans("OoIl", "0011")


@cache
def _phonenumbers() -> Any:
    import phonenumbers

    return phonenumbers


def _international_possible(span: str) -> bool:
    pn = _phonenumbers()
    number = span.lstrip("(").replace("\n", " ")
    number = "+" + number[2:] if number.startswith("00") else number
    try:
        parsed = pn.parse(number, None)
    except pn.NumberParseException:
        return False
    return bool(pn.is_possible_number(parsed))


def _phone(text: str, start: int, span: str, extension: str, wrapped: bool) -> Span | None:
    """The matched number as a phone, or None: an international number must be possible, a
    national one needs nine digits with separators or a trunk prefix, or a word before it.
    A number wrapped over two lines needs a phone word before it, or its country code."""
    if span.startswith("(") and ")" not in span:
        span, start = span[1:], start + 1
    if span.endswith(")") and "(" not in span:
        span, extension = span[:-1], ""
    end = start + len(span) + len(extension)
    digits = sum(ch.isdigit() for ch in span)
    before = text[max(0, start - 30) : start]
    if span.lstrip("(").startswith(("+", "00")):
        if 8 <= digits <= 15 and _international_possible(span):
            return Span(start, end, PHONE, 0.9)
        return None
    phone_word = bool(_PHONE_WORD.search(before))  # "mobile no.", "phone #:" beat "no."
    if not 7 <= digits <= 12 or (_NOT_A_PHONE.search(before) and not phone_word):
        return None
    if (
        _DATE_SHAPE.match(span)
        or _SSN_SHAPE.match(span)
        or _YEAR_RANGE.match(span)
        or IPV4.search(span)
        or (_DOTTED_VERSION.match(span) and _ONE_DIGIT_GROUP.search(span))
    ):
        return None
    if re.search(r"[$€£¥]\s*$", before):
        return None
    separated = any(not ch.isdigit() for ch in span)
    cue = phone_word or bool(extension) or bool(_PHONE_CUE.search(before))
    if wrapped and not cue:
        return None
    trunk = span[0] == "0" or span[0] == "("
    if (digits >= 9 and (separated or trunk)) or cue:
        return Span(start, end, PHONE, 0.9 if cue else 0.7 if separated else 0.5)
    return None


def _phones(scan: str, text: str) -> Iterator[Span]:
    """Phones matched in `scan` (the text, or the text with OCR's letters read as digits:
    the same length), judged on `text`."""
    pos = 0
    while (m := _PHONE.search(scan, pos)) is not None:
        number, start = m.group("number"), m.start()
        pos = m.end()
        joints = list(_JOINT.finditer(number))
        if joints:
            # two numbers side by side ("0161 496 0000 / 0161 496 0001", one a line) or one
            # number wrapped or spaced: the part before the joint first, if it is a phone
            cut = joints[0].start()
            head = _phone(text, start, number[:cut], "", False)
            pos = start + cut  # go on from the joint whatever the verdict
            if head is not None:
                yield head
                continue
            if len(joints) > 1:
                continue
            wrapped = "\n" in joints[0].group()
            whole = _phone(text, start, number, m.group("ext") or "", wrapped)
            if whole is not None:
                yield whole
                pos = m.end()
            continue
        found = _phone(text, start, number, m.group("ext") or "", False)
        if found is not None:
            yield found
        elif lead := _LEADING_DATE.match(number):  # "12.03.2026 0171 2345678"
            pos = start + lead.end()


def _short_phones(text: str, taken: list[Span]) -> Iterator[Span]:
    for m in _SHORT_RUN.finditer(text):
        start, end = m.span()
        digits = m.group()
        count = sum(ch.isdigit() for ch in digits)
        last, second = text[start - 1 : start], text[max(0, start - 2) : max(0, start - 1)]
        if last == "x":  # "x4471", never "2 x250" nor "0x4471"
            if (
                not 3 <= count == len(digits)
                or second.isalnum()
                or second in "._"
                or (second.isspace() and text[start - 3 : start - 2].isdigit())
            ):
                continue
            start -= 1
        elif last.isalnum() or (last and last in "_.,/:+") or (last == "-" and second.isalnum()):
            continue  # inside a word, an address or a longer number
        else:
            before = text[max(0, start - 28) : start].lower()
            if not (before.rstrip().endswith("on") or any(w in before for w in _SHORT_STEMS)):
                continue  # most short numbers: no word of _SHORT_CUE's near, no regex
            cue = _SHORT_CUE.search(text, max(0, start - 40), start)
            if cue is None:
                continue
            if cue.group("ext") is not None:
                start = cue.start("ext")
            elif count < 4 or (cue.group("on") and (count != len(digits) or _YEAR.match(digits))):
                continue
        if not any(s.start < end and start < s.end for s in taken):
            yield Span(start, end, PHONE, 0.9)


def phones(text: str) -> Iterator[Span]:
    found = list(_phones(text, text))
    if _OCR_HINT.search(text) and _PHONE_ANYWHERE.search(text):
        # read O as 0 and l as 1 where they touch digits; such a number needs a phone word
        fixed = _OCR_LETTERS.sub(lambda m: m.group().translate(_OCR_DIGITS), text)
        for span in _phones(fixed, fixed):
            noisy = fixed[span.start : span.end] != text[span.start : span.end]
            before = text[max(0, span.start - 30) : span.start]
            cue = _PHONE_WORD.search(before) or _PHONE_CUE.search(before)
            if noisy and cue and not any(span.overlaps(s) for s in found):
                found.append(span)
    found += list(_short_phones(text, found))
    yield from found
