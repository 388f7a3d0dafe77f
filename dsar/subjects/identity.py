"""Who is this person in our data? Identifier normalisation, identity kinds and match rules.

Identity kinds are split in two:

- **strong** kinds (email, user id, customer id, OAuth subject) name one person. A row that
  matches one of a person's strong identifiers belongs to that person, and its other strong
  identifiers join the person's set (the closure), so one email reaches every table.
- **weak** kinds (phone, device id, cookie id, IP address) can be shared: a family laptop,
  an office IP. They never add strong identifiers. A row matched only through a weak value
  belongs to the person only when it carries no one else's strong identifier and the value
  is never seen with anyone else's; otherwise it is set aside for review.

An IP address is a link only where the catalog marks a column `identity: ip_address`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from dsar.catalog.models import IdentityKind
from dsar.errors import IdentifierError, InternalError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from dsar.catalog.models import Catalog

STRONG = frozenset(
    {
        IdentityKind.EMAIL,
        IdentityKind.USER_ID,
        IdentityKind.CUSTOMER_ID,
        IdentityKind.OAUTH_SUBJECT,
        IdentityKind.USERNAME,
        IdentityKind.PERSON_ID,
    }
)
WEAK = frozenset(set(IdentityKind) - STRONG)
# A phone's key is its country calling code and national number ('+41612345606'), never a
# suffix: +41 61 234 56 06 (Basel) and +33 6 12 34 56 06 (a French mobile) share their last
# nine digits and are two people. A number written nationally ('030 123456') is read in the
# company's region (`MatchRules.phone_region`); with none it has no country and keeps its
# digits ('030123456'), meeting only the same national writing.
PHONE_MIN_DIGITS = 7  # a key with fewer digits is no usable number
# ... nor one that takes fewer digits from the text (a calling code put before '1234')
PHONE_TAIL_DIGITS = 5  # so every writing of a number ends with its key's last five digits
# The loose form: the last nine digits. For suppression only (an objector's national and
# international writings, and ledgers written under the nine-digit rule, still keep them
# out), never to find or hand over anyone's data.
PHONE_SUFFIX_DIGITS = 9

_GMAIL = ("gmail.com", "googlemail.com")


@dataclass(frozen=True)
class MatchRules:
    """How identifiers are compared. Provider rules are off unless the company turns them on.

    Attributes:
        gmail_dots: treat dots in a gmail.com local part as insignificant (Gmail does).
        plus_addressing: drop a `+tag` from every email's local part.
        max_identifiers: the most identifiers of one strong kind a person may have; a
            closure that grows past it stops with `OverMatchError` rather than exporting
            strangers (a shared billing address joining many accounts, say).
        phone_region: the company's default region (ISO 3166 code, e.g. 'DE'): a phone
            written nationally ('030 123456') is read as a number of that country
            ('+4930123456'), so that it meets its international writing. None: a national
            number has no country and meets only the same national writing.
    """

    gmail_dots: bool = False
    plus_addressing: bool = False
    max_identifiers: int = 25
    phone_region: str | None = None

    def __post_init__(self) -> None:
        if self.phone_region is not None:
            object.__setattr__(self, "phone_region", phone_region(self.phone_region).region)


@dataclass(frozen=True)
class PhoneRegion:
    """What reading a national number in one region needs, from phonenumbers' metadata.

    Attributes:
        region: the ISO 3166 code, upper case.
        calling_code: its country calling code ('49').
        national_prefix: the trunk prefix dropped before the national number ('0'; '1' in
            the US and Canada; '' where none is, as in Italy, whose numbers keep their 0).
        international_prefixes: what starts an international number dialled from there,
            longest first ('00' everywhere, and the region's own: '011' in the US).
    """

    region: str
    calling_code: str
    national_prefix: str
    international_prefixes: tuple[str, ...]


@lru_cache(maxsize=64)
def phone_region(region: str) -> PhoneRegion:
    """The calling code and prefixes of `region` (e.g. 'DE', 'us').

    Raises:
        UsageError: phonenumbers knows no such region.
    """
    from phonenumbers.phonemetadata import PhoneMetadata

    code = region.strip().upper()
    meta = PhoneMetadata.metadata_for_region(code) if code.isalpha() else None
    if meta is None or not meta.country_code:
        raise UsageError(
            "phone_region",
            f"{region!r} is no region phonenumbers knows",
            "give the company's country as an ISO 3166 code, e.g. DE, GB, US",
        )
    prefixes = {"00"}
    for prefix in (meta.international_prefix, meta.preferred_international_prefix):
        plain = (prefix or "").replace("~", "")
        if plain.isascii() and plain.isdigit():
            prefixes.add(plain)
    national = meta.national_prefix or ""
    return PhoneRegion(
        region=code,
        calling_code=str(meta.country_code),
        national_prefix=national if national.isascii() and national.isdigit() else "",
        international_prefixes=tuple(sorted(prefixes, key=lambda p: (-len(p), p))),
    )


def with_catalog_rules(rules: MatchRules | None, catalog: Catalog) -> MatchRules:
    """`rules` (default: the plain ones) with the catalog's `phone_region` where they name
    none: a `--phone-region` given on the command line wins."""
    rules = rules or MatchRules()
    region = catalog.phone_region
    if rules.phone_region is None and region:
        return replace(rules, phone_region=region)
    return rules


def rekey(key: SubjectKey, rules: MatchRules) -> SubjectKey:
    """A key normalised again under `rules`: a phone read without a region
    ('030123456') becomes its number in the rules' region ('+4930123456'); anything else,
    and a number already international, is unchanged (`normalize` is idempotent)."""
    if key.kind is not IdentityKind.PHONE or rules.phone_region is None:
        return key
    value = normalize(key.kind, key.value, rules)
    return key if value is None or value == key.value else SubjectKey(key.kind, value)


@dataclass(frozen=True, order=True)
class SubjectKey:
    """One identifier of a person, normalised: e.g. SubjectKey(EMAIL, 'ann@example.com')."""

    kind: IdentityKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind.value}={self.value}"


@dataclass(frozen=True)
class Provenance:
    """How an identifier was reached: given by the requester, or found in a row."""

    key: SubjectKey
    table: str | None = None
    column: str | None = None
    via: SubjectKey | None = None
    round: int = 0
    note: str | None = None  # how it was reached when not from a row (e.g. the ledger)

    def describe(self) -> str:
        """One line for a report or a notebook."""
        if self.note is not None:
            return f"{self.key}: {self.note}"
        if self.table is None:
            return f"{self.key}: given in the request"
        return f"{self.key}: {self.table}.{self.column}, in a row matched on {self.via}"


@dataclass(frozen=True)
class SubjectRequest:
    """The identifiers a requester gave, with a label for batch runs (e.g. a request id)."""

    label: str
    keys: tuple[SubjectKey, ...]


@dataclass
class Identity:
    """Everything one person is known by, and how each identifier was found."""

    request: SubjectRequest
    provenance: dict[SubjectKey, Provenance] = field(default_factory=dict)

    @property
    def keys(self) -> frozenset[SubjectKey]:
        """All identifiers of the person, strong and weak."""
        return frozenset(self.provenance)

    def values(self, kind: IdentityKind) -> set[str]:
        """The person's identifiers of one kind."""
        return {k.value for k in self.provenance if k.kind is kind}

    def add(self, prov: Provenance) -> bool:
        """Record an identifier; False when it was known already."""
        if prov.key in self.provenance:
            return False
        self.provenance[prov.key] = prov
        return True

    def to_frame(self) -> pd.DataFrame:
        """How each identifier was found, in the order of the search, for a notebook.

        The values are the person's identifiers: show them to the analyst answering the
        request, never log them.
        """
        import pandas as pd

        rows = [
            {
                "identifier": p.key.kind.value,
                "value": p.key.value,
                "found in": f"{p.table}.{p.column}" if p.table else "the request",
                "via": str(p.via) if p.via else "",
                "round": p.round,
            }
            for p in self.provenance.values()
        ]
        columns = ["identifier", "value", "found in", "via", "round"]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.sort_values(["round", "identifier"], ignore_index=True)


# digits a phone library reads as 0-9 (full-width, Arabic-Indic, extended Arabic-Indic,
# Devanagari): written as ASCII before the ASCII-only phone rule reads the number
OTHER_DIGITS = "".join(chr(zero + d) for zero in (0xFF10, 0x660, 0x6F0, 0x966) for d in range(10))
ASCII_DIGITS = "0123456789" * 4
_TO_ASCII = str.maketrans(OTHER_DIGITS, ASCII_DIGITS)
_EXTENSION_MARK = "[A-Za-z#;,]"  # what starts an extension: 'ext. 12', 'x12', '#12', ';12'
PHONE_EXTENSION = f"{_EXTENSION_MARK}.*$"  # an extension: cut off
# a number's extension as `phone_key` cuts it (red team 26 r5 F4): from the first letter, '#',
# ';' or ',' after a digit (a 'tel:' or 'Mobile' before the number is no extension); group 1
# is the number
PHONE_KEY_EXTENSION = f"(?s)^([^0-9]*[0-9][^A-Za-z#;,]*){_EXTENSION_MARK}.*$"
_TEL = re.compile(r"\s*tel:", re.IGNORECASE)
_MAILTO = re.compile(r"\s*mailto:", re.IGNORECASE)
_NAMED = re.compile(r"[^<>]*<([^<>]*)>\s*")  # 'Name <ann@x.com>', '<ann@x.com>'
_UNSAFE = re.compile(r"[\s<>\"(),;:\[\]\\]")  # nothing a platform hashes as an address
# a whole value in a pair of these is the address quoted: straight quotes, backticks, curly
# quotes (English, German, Swedish), guillemets either way round
_WRAPPERS = ('""', "''", "``", "\u201c\u201d", "\u2018\u2019", "\u201e\u201c", "\u201a\u2018",
             "\u201d\u201d", "\u2019\u2019", "\u00ab\u00bb", "\u00bb\u00ab", "\u2039\u203a",
             "\u203a\u2039")  # fmt: skip
# a quote-like character no address holds (curly quotes, guillemets): left after unwrapping,
# the value is not one address; a straight quote or a backtick is refused at either end only
# (inside a local part both are legal: o'brien@...)
_QUOTE_MARKS = re.compile(
    "[\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a]"
)
_EDGE_QUOTES = "'`"


def phone_text(value: str) -> str:
    """A raw phone as its digits would be read by a phone library (`people.phone_sql`'s
    Python twin): other scripts' digits as ASCII, a `tel:` prefix dropped, an extension
    (from the first letter, '#', ';' or ',') cut off. `normalize` then reads the number:
    '+44 7700 900123 ext. 45' is '+447700900123'."""
    text = _TEL.sub("", value.translate(_DROP_INVISIBLE).translate(_TO_ASCII), count=1)
    return re.sub(PHONE_EXTENSION, "", text)


def canonical_identifier(kind: IdentityKind, value: str) -> str:
    """The identifier as written when it is recorded (`dsar ledger add`, `Ledger.add`), read
    as an audience reads a list: a phone by `phone_text` (an extension cut off, other
    digits as ASCII, `tel:`); an address out of its wrapping (`mailto:`, `Name <...>`,
    `<...>`, a quoted local part or the whole address quoted: in double or single quotes,
    backticks, curly quotes or guillemets). `normalize` gives the form kept. A value recorded
    as typed would match nobody: it is refused instead, as is an address or phone holding a
    control character or U+FFFD, an address holding a curly quote or a guillemet left after
    unwrapping, or one starting or ending with a quote or a backtick.

    Raises:
        IdentifierError: the value cannot be read as one identifier of `kind` (the reason
            names the shape, never the value).
    """
    text = value.translate(_DROP_INVISIBLE).strip()
    if kind in (IdentityKind.PHONE, IdentityKind.EMAIL) and _unreadable_character(text):
        raise IdentifierError(
            kind.value,
            f"the {kind.value} given holds a control character or U+FFFD (a character lost in"
            " a conversion): not a value a platform or the export would hold; give it as"
            " typed by the person",
        )
    if kind is IdentityKind.PHONE:
        digits = re.sub(r"[^0-9]", "", phone_text(text))
        if len(digits) < 7:
            raise IdentifierError(
                "phone",
                "the phone given has fewer than 7 digits before any extension: not a number a"
                " platform or the export would hold",
            )
        return phone_text(text).strip()
    if kind is not IdentityKind.EMAIL:
        return text
    if _MAILTO.match(text):  # a link: its query (`?subject=...`) is no part of the address
        text = _MAILTO.sub("", text, count=1).split("?", 1)[0].strip()
    if named := _NAMED.fullmatch(text):
        text = named[1].strip()
    if len(text) > 1 and text[0] + text[-1] in _WRAPPERS:  # the whole address quoted
        text = text[1:-1].strip()
    local, at, domain = text.rpartition("@")
    if len(local) > 1 and local[0] == local[-1] == '"':  # a quoted local part
        local = local[1:-1]
    text = f"{local}{at}{domain}"
    if (
        not at
        or not local
        or not domain
        or "@" in local
        or _UNSAFE.search(text)
        or _QUOTE_MARKS.search(text)
        or text[0] in _EDGE_QUOTES
        or text[-1] in _EDGE_QUOTES
    ):
        raise IdentifierError(
            "email",
            "the email given is not one address (a space, a quote, a bracket or a second '@'"
            " is left after reading mailto:, <...> and a value wrapped in quotes, backticks,"
            " curly quotes or guillemets): give it as the person's mailbox, e.g."
            " name@example.com",
        )
    return text


def _unreadable_character(text: str) -> bool:
    """A control character (NUL, an escape, ...), a lone surrogate or U+FFFD (what a decoder
    writes for bytes it could not read) in `text`: no address or number holds one."""
    return any(c == "\ufffd" or unicodedata.category(c) in ("Cc", "Cs") for c in text)


def canonical_key(key: SubjectKey) -> SubjectKey:
    """`key` as `canonical_identifier` reads its value, normalised by the plain rules."""
    if key.kind not in (IdentityKind.EMAIL, IdentityKind.PHONE):
        return key
    return make_key(key.kind, key.value, canonical=True)


def parse_key(text: str, rules: MatchRules | None = None, *, canonical: bool = False) -> SubjectKey:
    """Parse 'TYPE=VALUE' (e.g. 'email=Ann@Example.com') into a normalised key; with
    `canonical`, the value read first by `canonical_identifier` (what a record keeps).

    Raises:
        IdentifierError: with the allowed types when TYPE is unknown or VALUE is empty.
    """
    kind_text, sep, value = text.partition("=")
    kinds = ", ".join(k.value for k in IdentityKind)
    if not sep:
        raise IdentifierError(
            "", f"an identifier must be written TYPE=VALUE (e.g. email=...); types: {kinds}"
        )
    try:
        kind = IdentityKind(kind_text.strip().lower())
    except ValueError:
        raise IdentifierError(
            kind_text, f"unknown identifier type {kind_text!r}; types: {kinds}"
        ) from None
    return make_key(kind, value, rules, canonical=canonical)


def make_key(
    kind: IdentityKind, value: str, rules: MatchRules | None = None, *, canonical: bool = False
) -> SubjectKey:
    """A normalised key; raises `IdentifierError` when the value normalises to nothing (or,
    with `canonical`, when `canonical_identifier` cannot read it)."""
    if canonical:
        value = canonical_identifier(kind, value)
    normal = normalize(kind, value, rules or MatchRules())
    if normal is None:
        raise IdentifierError(
            kind.value, f"the {kind.value} given is empty or not usable as an identifier"
        )
    return SubjectKey(kind, normal)


# Characters that do not show: soft hyphen, zero-width space and joiners, direction marks and
# embeddings, word joiner and invisible operators, byte-order mark. Pasted from a web page or
# a document, they make a stored identifier differ from what the person typed, so both sides
# drop them wherever they are. Look-alike letters (a Cyrillic a, U+0430) and full-width forms are
# not folded: a homograph is another address, and DuckDB has no NFKC to do it in SQL.
INVISIBLE = (
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))
# What Python's str.strip() removes; DuckDB's trim() alone removes only the space separators
_BLANKS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# DuckDB's lower() folds these to one character, where Python gives 'i' + a combining dot,
# and a final sigma ('ς') by context: folded first, both sides agree
_LOWER_AS_SQL = {0x130: "i", 0x3A3: "\u03c3"}


def lower_as_sql(text: str) -> str:
    """`text` lower-cased as DuckDB's lower() does (a dotted capital I to a plain i, a capital
    sigma to the medial form everywhere)."""
    return text.translate(_LOWER_AS_SQL).lower()


# A final sigma written as such ('οδος@', the correct lower case of 'ΟΔΟΣ@') is the medial
# one in an email: lower() gives the medial form everywhere, so both sides fold the final too
FINAL_SIGMA, MEDIAL_SIGMA = "\u03c2", "\u03c3"

# What a form, a helpdesk or an export writes where it has no identifier: never a person's,
# so never a match (a guest ticket with user_id 'none' is no one's). Compared in any case and
# width (`placeholder_text`); also any value of one character repeated (`_REPEATED`).
NONE_WORDS = frozenset(
    {
        "keine", "kein", "aucun", "aucune", "ninguno", "ninguna", "nessuno", "nessuna",
        "geen", "brak", "ingen", "nenhum", "nenhuma", "yok", "ei mitään", "nincs",
        "なし", "無し", "无", "無", "없음", "нет", "немає", "няма",
    }
)  # fmt: skip
"""'None' in other languages than English, as a form or an export writes it where it has no
value (compared in lower case): a placeholder on the request side and in the draft alike."""
PLACEHOLDERS = NONE_WORDS | frozenset(
    {
        "", "none", "null", "nil", "n/a", "na", "n.a.", "#n/a", "nan", "-", "--", "-1", "?",
        "0", "unknown", "undefined", "guest", "anonymous", "test", "(null)",
    }
)  # fmt: skip
# an email's local part that says there is no address ('none@example.com', 'noreply@...')
EMAIL_PLACEHOLDER_LOCALS = (PLACEHOLDERS - {"na", ""}) | {  # 'na@' may be someone's initials
    "noemail", "no-email", "no_email", "no.email", "nomail", "noreply", "no-reply",
    "donotreply", "do-not-reply",
}  # fmt: skip
# one character repeated: zeros at any length, with separators too ('0000000000', an
# advertising id refused by the person: '00000000-0000-...'), another digit from six
# ('999999'), anything else from three ('xxx'); an id like '11' or '777' stays an id
_ZEROS = "0[-0:. ]*"
# a device id shaped as a UUID (an IDFA, a GAID): RFC 9562 reads its hex digits in either case
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_REPEATED = re.compile(_ZEROS + r"|([1-9])\1{5,}|([^0-9])\2{2,}", re.DOTALL)
# a phone key of one digit repeated, or a calling code and zeros ('+4100000000')
_PHONE_PLACEHOLDER = r"\+?(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)|\+[1-9][0-9]{0,2}0{6,}"


def is_placeholder(text: str, words: frozenset[str] = PLACEHOLDERS) -> bool:
    """Whether a trimmed identifier (or an email's local part, with `words` the
    `EMAIL_PLACEHOLDER_LOCALS`) is a placeholder: one of `words` in any case or width, or
    one character repeated (`_REPEATED`), zeros with separators too."""
    if placeholder_text(text) in words:
        return True
    return _REPEATED.fullmatch(text) is not None


def placeholder_text(text: str) -> str:
    """`text` as placeholders are compared: full-width forms as ASCII, lower case."""
    return lower_as_sql(text.translate(_FOLD_WIDTH))


def _sql_placeholder(text_sql: str, words: frozenset[str] = PLACEHOLDERS) -> str:
    """SQL of `is_placeholder` over a trimmed VARCHAR expression (RE2 has no backreference:
    the repeat is tested as 'nothing left once its first character is removed'). Only a
    short value pays for the folding."""
    listed = ", ".join(_sql_text(w) for w in sorted(words))
    longest = max(map(len, words))

    def test(text: str) -> str:
        folded = f"lower(translate({text}, {_sql_text(FULL_WIDTH)}, {_sql_text(FULL_WIDTH_AS)}))"
        first = f"left({text}, 1)"
        return (
            f"(CASE WHEN length({text}) <= {longest} AND {folded} IN ({listed}) THEN true"
            f" WHEN {first} = '0' THEN regexp_matches({text}, '^{_ZEROS}\\z')"
            f" WHEN {first} <> right({text}, 1) THEN false"
            f" WHEN replace({text}, {first}, '') <> '' THEN false"
            f" WHEN {first} IN ('1', '2', '3', '4', '5', '6', '7', '8', '9')"
            f" THEN length({text}) >= 6"
            f" ELSE length({text}) >= 3 END)"
        )

    return sql_let(text_sql, test)


_SQL_NAME = re.compile(r'"[^"]*"|[A-Za-z_][A-Za-z_0-9]*')


def sql_let(value_sql: str, body: Callable[[str], str]) -> str:
    """SQL of `body` applied to `value_sql`, the value written once: a normalising step
    that reads its input several times (a CASE, a placeholder test) would otherwise copy
    the SQL of every step before it each time, and the text of a query normalising a few
    columns grew to 350 KB (seconds to parse and plan each). A lambda over a one-element
    list binds the value to a name (Spark: `transform(array(v), x -> ...)[0]`); a column
    or a name already bound is used as it is. About 15% slower per row than the copies,
    so the scans' filters (`for_match`) do without it."""
    if _SQL_NAME.fullmatch(value_sql):
        return body(value_sql)
    name = "__wb_" + hashlib.sha256(value_sql.encode()).hexdigest()[:12]
    return f"list_transform([{value_sql}], lambda {name}: {body(name)})[1]"


_EMAIL = re.compile(r"[^@]+@[^@]+")
_PLUS_TAG = re.compile(r"\+[^@]*@")
_GMAIL_ADDRESS = re.compile(r"([^@]*)@(?:" + "|".join(map(re.escape, _GMAIL)) + ")")

# Full-width ASCII (U+FF01-FF5E) and the ideographic full stops (U+3002, U+FF61) in an email:
# read as the ASCII they stand for (NFKC does it for the first, IDNA reads the full stops as
# dots). Only these: DuckDB has no NFKC, and both sides must fold the same characters.
FULL_WIDTH = "".join(map(chr, range(0xFF01, 0xFF5F))) + "\u3002\uff61"
FULL_WIDTH_AS = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + ".."
_FOLD_WIDTH = str.maketrans(FULL_WIDTH, FULL_WIDTH_AS)
# what wraps an address in a cell: quotes of every kind (straight, backtick, curly,
# guillemets), and what may follow it in a list (';', ',', a full stop)
EMAIL_QUOTES = "\"'`\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a"
EMAIL_TRAILING = ";,."
# the regular expressions of `email_text`, one text for Python and for SQL (RE2)
_RE_MAILTO = "mailto:([^?]*).*"  # a link: its query (`?subject=...`) is no part of the address
_RE_NAMED = "[^<>]*<([^<>]*)>"  # 'Ann Lee <ann@example.com>', '<ann@example.com>'
_RE_WRAPPED = f"[{EMAIL_QUOTES}]+(.*?)[{EMAIL_QUOTES}]+"  # the whole address quoted
_RE_QUOTED_LOCAL = '"([^"@]*)"@'  # '"ann"@example.com': a quoted local part
# plain ASCII with none of the characters `email_text` reads (every printable ASCII
# character but " ' ` , : ; < >): it only lower-cases the address and drops a final dot
_RE_PLAIN_EMAIL = r"[\x21\x23-\x26\x28-\x2b\x2d-\x39\x3d\x3f-\x5f\x61-\x7e]*"
_MAILTO_LINK = re.compile(_RE_MAILTO, re.DOTALL)
_NAMED_FORM = re.compile(_RE_NAMED, re.DOTALL)
_WRAPPED = re.compile(_RE_WRAPPED, re.DOTALL)
# the forms an address is read out of, in order: a link inside a display name too
# ('Ann <mailto:ann@example.com>'); before it was read there, the link's 'mailto:' stayed
_RE_EMAIL_FORMS = (_RE_MAILTO, _RE_NAMED, _RE_MAILTO, _RE_WRAPPED)
_RE_EMAIL_FORMS_BEFORE_NAMED_LINKS = (_RE_MAILTO, _RE_NAMED, _RE_WRAPPED)
_FORMS = {_RE_MAILTO: _MAILTO_LINK, _RE_NAMED: _NAMED_FORM, _RE_WRAPPED: _WRAPPED}
_QUOTED_LOCAL = re.compile(r"\A" + _RE_QUOTED_LOCAL)
_DROP_BLANKS = dict.fromkeys(map(ord, _BLANKS))


def email_text(value: str, forms: tuple[str, ...] = _RE_EMAIL_FORMS) -> str:
    """An email cell read as the address it holds, before the match rules (`sql_email_text`
    is its SQL twin): invisible characters dropped, full-width letters and full stops as
    ASCII (`FULL_WIDTH`), composed (NFC: 'jose' and a combining accent is 'josé'), lower
    case with a final sigma as the medial one ('οδος@' is 'οδοσ@', as 'ΟΔΟΣ@'), blanks
    trimmed and a trailing `;`, `,` or `.` cut; then `mailto:` (and its query) dropped, the
    address taken out of a display name (`Ann <ann@example.com>`, `Ann
    <mailto:ann@example.com>`), out of quotes around it
    (any kind: `EMAIL_QUOTES`) and out of a quoted local part; then every blank left removed
    (`ann\u00a0@example.com`) and a trailing `;`, `,` or `.` cut again. A value
    `canonical_identifier` reads gives the same text as what it reads it as."""
    text = value.translate(_DROP_INVISIBLE).translate(_FOLD_WIDTH)
    if "\x00" not in text:  # DuckDB's nfc_normalize stops at a NUL: both sides skip it there
        text = unicodedata.normalize("NFC", text)
    text = lower_as_sql(text).replace(FINAL_SIGMA, MEDIAL_SIGMA)
    text = text.lstrip(_BLANKS).rstrip(_BLANKS + EMAIL_TRAILING)
    for form in forms:
        if found := _FORMS[form].fullmatch(text):
            text = found[1]
    text = _QUOTED_LOCAL.sub(r"\1@", text, count=1)
    return text.translate(_DROP_BLANKS).rstrip(EMAIL_TRAILING)


def _email_key(text: str, rules: MatchRules) -> str | None:
    """An address read by `email_text`, under `rules`: None unless usable."""
    if rules.plus_addressing:
        text = _PLUS_TAG.sub("@", text, count=1)
    if rules.gmail_dots and (gmail := _GMAIL_ADDRESS.fullmatch(text)):
        text = gmail[1].replace(".", "") + "@gmail.com"
    if not _EMAIL.fullmatch(text):
        return None
    local = text.partition("@")[0]
    return None if is_placeholder(local, EMAIL_PLACEHOLDER_LOCALS) else text


def normalize(kind: IdentityKind, value: object, rules: MatchRules) -> str | None:
    """Normalise one identifier value exactly as `sql_normalize` does in SQL; None never matches.

    Every kind: invisible characters (`INVISIBLE`: a zero-width space, a soft hyphen) are
    removed and white space is trimmed. Emails are read by `email_text` (full-width letters,
    NFC, `mailto:`, `Name <...>`, quotes, blanks inside, a trailing `;`, `,` or `.`),
    lower-cased, need exactly one '@' with text on both sides, and follow `rules`; phones are
    read by `phone_key` (at least seven ASCII digits); IP addresses are lower-cased and read
    by `ip_text` (IPv6 as RFC 5952 writes it, an IPv4-mapped one as its IPv4 address).

    A placeholder never matches (None): a value of `PLACEHOLDERS` ('none', 'N/A', '0',
    'guest', in any case or width) or one character repeated ('0000000000', 'xxxxxx'); an
    email whose local part is one (`EMAIL_PLACEHOLDER_LOCALS`: 'none@...', 'noreply@...');
    a phone of one digit repeated, or a calling code and zeros.

    Examples:
        >>> normalize(IdentityKind.EMAIL, " Ann\u200b@Example.com ", MatchRules())
        'ann@example.com'
        >>> normalize(IdentityKind.EMAIL, "Ann Lee <mailto:Ann@Example.com>;", MatchRules())
        'ann@example.com'
    """
    if value is None:
        return None
    if kind is IdentityKind.PHONE:
        return phone_key(str(value), rules)
    if kind is IdentityKind.EMAIL:
        return _email_key(email_text(str(value)), rules)
    text = str(value).translate(_DROP_INVISIBLE).strip()
    if kind is IdentityKind.DEVICE_ID and _UUID.fullmatch(text):
        text = text.lower()  # an advertising id: iOS writes it in capitals, back ends not
    if kind is IdentityKind.IP_ADDRESS:
        text = ip_text(lower_as_sql(text))
        if text == "::":  # the unspecified address, written '0:0:0:0:0:0:0:0' too
            return None
    return None if is_placeholder(text) else text


# An IP address is kept in one form, so that every writing of it meets (red team 26 F9): an
# IPv6 address as RFC 5952 writes it (lower case, no group's leading zeros, the longest run
# of two or more zero groups, the first of equal ones, as '::'), and an IPv4-mapped one
# ('::ffff:192.0.2.1', '::ffff:c000:201') as its IPv4 dotted quad. An IPv4 address is kept
# as written: '192.000.002.001' may be read as octal ('010' is 8 to inet_aton), so it meets
# only itself; so is anything else (a zone '%eth0', brackets, a port, a prefix length).
# The regular expressions are one text for Python, RE2 and Java.
_HEXTET = "[0-9a-f]{1,4}"
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # no leading zero, as ipaddress
_RE_IPV4_TAIL = f"(.*:){_OCTET}\\.{_OCTET}\\.{_OCTET}\\.{_OCTET}"  # '::ffff:192.0.2.1'
_RE_IPV6 = (
    f"{_HEXTET}(?::{_HEXTET}){{7}}"  # eight groups, or fewer around one '::'
    f"|(?:{_HEXTET}(?::{_HEXTET})*)?::(?:{_HEXTET}(?::{_HEXTET})*)?"
)
_RE_IPV4_MAPPED = f"::ffff:({_HEXTET}):({_HEXTET})"
_RE_NOT_IPV6 = "[^0-9a-f:.]"
IPV6_MAX_LENGTH = 45  # '0000:0000:0000:0000:0000:ffff:255.255.255.255'
_IPV4_TAIL = re.compile(_RE_IPV4_TAIL)
_IPV6 = re.compile(_RE_IPV6)
_IPV4_MAPPED = re.compile(_RE_IPV4_MAPPED)
_HEX = "0123456789abcdef"


def ip_text(text: str) -> str:
    """A lower-case, trimmed IP address in its one form (`sql_ip_text` is its SQL twin):
    an IPv6 address compressed as RFC 5952 says, an IPv4-mapped one as its dotted quad;
    anything that is not an IPv6 address (an IPv4 one included) as it is.

    Examples:
        >>> ip_text("2001:0db8:0000:0000:0000:0000:0000:0001"), ip_text("::ffff:c000:201")
        ('2001:db8::1', '192.0.2.1')
        >>> ip_text("192.000.002.001")
        '192.000.002.001'
    """
    if ":" not in text or len(text) > IPV6_MAX_LENGTH or re.search(_RE_NOT_IPV6, text):
        return text
    spelled = text
    if tail := _IPV4_TAIL.fullmatch(text):  # the last two groups written as an IPv4 address
        high, low = int(tail[2]) * 256 + int(tail[3]), int(tail[4]) * 256 + int(tail[5])
        spelled = f"{tail[1]}{high:04x}:{low:04x}"
    # the groups it holds ('::' stands for the others); only read where '::' is
    groups = spelled.count(":") - spelled.startswith("::") - spelled.endswith("::")
    if not _IPV6.fullmatch(spelled) or ("::" in spelled and groups > 7):
        return text
    full = spelled.replace("::", ":" + "0:" * (8 - groups)).strip(":")
    padded = ":" + ":".join(format(int(g, 16), "x") for g in full.split(":")) + ":"
    for zeros in range(8, 1, -1):  # the longest run first, the first of equal ones
        run = ":0" * zeros + ":"
        if (at := padded.find(run)) >= 0:
            padded = padded[:at] + "::" + padded[at + len(run) :]
            break
    # the ':' put at either end goes, unless it is part of '::'
    if padded[1] != ":":
        padded = padded[1:]
    if padded[-2] != ":":
        padded = padded[:-1]
    if mapped := _IPV4_MAPPED.fullmatch(padded):
        value = int(mapped[1], 16) << 16 | int(mapped[2], 16)
        return ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))
    return padded


def sql_ip_text(text_sql: str) -> str:
    """SQL of `ip_text` over a lower-case, trimmed VARCHAR expression. A value with no ':'
    (an IPv4 address) pays for one `strpos` only."""

    def v6(text: str) -> str:
        tail = _sql_text(f"^{_RE_IPV4_TAIL}\\z")
        # once the tail is known to be an IPv4 address, a shorter expression reads its parts
        parts = _sql_text("^(.*:)([0-9]+)\\.([0-9]+)\\.([0-9]+)\\.([0-9]+)\\z")
        part = [f"regexp_extract({text}, {parts}, {i})" for i in range(1, 6)]
        octets = [f"lpad(hex(CAST({p} AS INTEGER)), 2, '0')" for p in part[1:]]
        spelled = (
            f"(CASE WHEN regexp_matches({text}, {tail}) THEN {part[0]} ||"
            f" lower({octets[0]} || {octets[1]} || ':' || {octets[2]} || {octets[3]})"
            f" ELSE {text} END)"
        )
        return sql_let(spelled, lambda s: _sql_ip_groups(text, s))

    def guarded(text: str) -> str:
        return (
            f"(CASE WHEN strpos({text}, ':') = 0 OR length({text}) > {IPV6_MAX_LENGTH}"
            f" OR regexp_matches({text}, '{_RE_NOT_IPV6}') THEN {text} ELSE {v6(text)} END)"
        )

    return sql_let(text_sql, guarded)


def _sql_ip_groups(text: str, spelled: str) -> str:
    """`ip_text`'s SQL from the groups on: `spelled` is `text` with an IPv4 tail as two
    groups; `text` is kept where `spelled` is no IPv6 address."""
    colons = f"(length({spelled}) - length(replace({spelled}, ':', '')))"
    groups = (
        f"({colons} - (CASE WHEN left({spelled}, 2) = '::' THEN 1 ELSE 0 END)"
        f" - (CASE WHEN right({spelled}, 2) = '::' THEN 1 ELSE 0 END))"
    )
    ipv6 = _sql_text(f"^(?:{_RE_IPV6})\\z")
    valid = f"regexp_matches({spelled}, {ipv6}) AND (strpos({spelled}, '::') = 0 OR {groups} <= 7)"
    full = f"trim(replace({spelled}, '::', ':' || repeat('0:', 8 - {groups})), ':')"
    padded = f"':' || regexp_replace({full}, '(^|:)0+([0-9a-f])', '\\1\\2', 'g') || ':'"

    def compress(p: str) -> str:
        cases = []
        for zeros in range(8, 1, -1):  # the longest run first, the first of equal ones
            run = ":0" * zeros + ":"
            # anchored, so that Spark (which replaces every match) cuts the first run only
            cut = f"regexp_replace({p}, '^(.*?){run}', '\\1::')"
            cases.append(f"WHEN strpos({p}, '{run}') > 0 THEN {cut}")
        text = f"(CASE {' '.join(cases)} ELSE {p} END)"
        # the ':' put at either end goes, unless it is part of '::'
        text = f"regexp_replace({text}, '^:([^:])', '\\1')"
        return sql_let(f"regexp_replace({text}, '([^:]):\\z', '\\1')", mapped)

    def mapped(ip: str) -> str:
        pattern = _sql_text(f"^{_RE_IPV4_MAPPED}\\z")
        hex8 = (
            f"lpad(regexp_extract({ip}, {pattern}, 1), 4, '0')"
            f" || lpad(regexp_extract({ip}, {pattern}, 2), 4, '0')"
        )

        def dotted(h: str) -> str:
            def digit(i: int) -> str:
                return f"(strpos('{_HEX}', substr({h}, {i}, 1)) - 1)"

            octets = [
                f"CAST(16 * {digit(2 * k + 1)} + {digit(2 * k + 2)} AS VARCHAR)" for k in range(4)
            ]
            return " || '.' || ".join(octets)

        return (
            f"(CASE WHEN regexp_matches({ip}, {pattern})"
            f" THEN {sql_let(hex8, dotted)} ELSE {ip} END)"
        )

    return f"(CASE WHEN {valid} THEN {sql_let(padded, compress)} ELSE {text} END)"


def _idna_domain(domain: str) -> tuple[str, str] | None:
    """A domain's (IDNA ASCII, Unicode) forms where they convert into each other both ways
    (`exämple.com` and `xn--exmple-cua.com`); None where it holds neither non-ASCII nor an
    `xn--` label, or where IDNA maps it to another name (`straße.de` to `strasse.de`: two
    domains under IDNA 2008) or cannot write it."""
    if domain.isascii() and "xn--" not in domain:
        return None
    try:
        ascii_form = domain.encode("idna").decode("ascii").lower()
        unicode_form = ascii_form.encode("ascii").decode("idna").lower()
    except UnicodeError:
        return None
    if domain not in (ascii_form, unicode_form) or ascii_form == unicode_form:
        return None
    return ascii_form, unicode_form


def idna_ascii(email: str) -> str:
    """A normalised email (`normalize`) with its domain in IDNA ASCII where the domain has
    two forms (`p@exämple.com` -> `p@xn--exmple-cua.com`): the one form under which the
    searches (`dsar.subjects.collect`, `dsar.breach.setsearch`) compare an address, so the
    Unicode and the ASCII writing of one mailbox reach the same person. SQL cannot convert
    IDNA: the searches look a value up under both forms (`email_forms`) and read what they
    find through this. Anything else is returned as it is.

    Examples:
        >>> idna_ascii("p10@exämple.com"), idna_ascii("ann@example.com")
        ('p10@xn--exmple-cua.com', 'ann@example.com')
    """
    if email.isascii() and "xn--" not in email:
        return email
    local, at, domain = email.rpartition("@")
    forms = _idna_domain(domain) if at and local else None
    return f"{local}@{forms[0]}" if forms else email


def email_forms(email: str) -> tuple[str, ...]:
    """The forms a normalised email may be written under in the export: itself and, where its
    domain has two IDNA forms, the other one (sorted).

    Examples:
        >>> email_forms("p10@xn--exmple-cua.com")
        ('p10@exämple.com', 'p10@xn--exmple-cua.com')
    """
    if email.isascii() and "xn--" not in email:
        return (email,)
    local, at, domain = email.rpartition("@")
    forms = _idna_domain(domain) if at and local else None
    if not forms:
        return (email,)
    return tuple(sorted({email, f"{local}@{forms[0]}", f"{local}@{forms[1]}"}))


def idna_key(key: SubjectKey) -> SubjectKey:
    """`key` with an email's domain in IDNA ASCII (`idna_ascii`); other kinds unchanged."""
    if key.kind is not IdentityKind.EMAIL:
        return key
    value = idna_ascii(key.value)
    return key if value == key.value else SubjectKey(key.kind, value)


_FULL_WIDTH_PLUS = "\uff0b"  # a phone library reads it as '+'
_TRUNK_MARK = "(0)"  # '+49 (0)30 123456': the trunk prefix shown, never dialled


def phone_key(value: str, rules: MatchRules) -> str | None:
    """A phone's key (`sql_phone_key` is its SQL twin): its country calling code and
    national number, ASCII digits only; `normalize` of a key is the key.

    - written with an international prefix ('+', or '00', or the region's own such as
      '011'; a '(0)' trunk marker dropped): '+' and its digits;
    - written nationally: with `rules.phone_region`, its trunk prefix dropped and the
      region's calling code put before it ('030 123456' in DE is '+4930123456'; Italy's
      numbers keep their 0); with no region, its digits as written ('030123456'), which no
      international number equals.

    None when the key holds fewer than seven digits, or is a placeholder (one digit
    repeated, '0000000000'; a calling code and zeros).

    Examples:
        >>> phone_key("+41 61 234 56 06", MatchRules()), phone_key("0033 612345606", MatchRules())
        ('+41612345606', '+33612345606')
        >>> phone_key("030 123456", MatchRules(phone_region="DE"))
        '+4930123456'
        >>> phone_key("030 123456", MatchRules())
        '030123456'
    """
    text = re.sub(PHONE_KEY_EXTENSION, r"\1", value)  # '+1 303 555 0101 x12': no digit of 12
    return _phone_key_of(text, rules)


def _phone_key_of(text: str, rules: MatchRules) -> str | None:
    """`phone_key` once its extension is cut (before b9ec3fb, of the text as written:
    `legacy_forms`)."""
    text = text.replace(_FULL_WIDTH_PLUS, "+").replace(_TRUNK_MARK, "")
    kept = re.sub(r"[^0-9+]", "", text)  # ASCII digits only, as in SQL
    digits = kept.replace("+", "")
    key, taken = _phone_key(kept, digits, rules)
    usable = len(key) - key.startswith("+") >= PHONE_MIN_DIGITS and taken >= PHONE_TAIL_DIGITS
    return key if usable and not re.fullmatch(_PHONE_PLACEHOLDER, key) else None


def _phone_key(kept: str, digits: str, rules: MatchRules) -> tuple[str, int]:
    """The key, and how many of its digits come from the text."""
    if kept.startswith("+"):
        return "+" + digits, len(digits)
    region = phone_region(rules.phone_region) if rules.phone_region else None
    for prefix in region.international_prefixes if region else ("00",):
        if digits.startswith(prefix):
            return "+" + digits[len(prefix) :], len(digits) - len(prefix)
    if region is None:
        return digits, len(digits)
    trunk = region.national_prefix
    if trunk and digits.startswith(trunk):
        digits = digits[len(trunk) :]
    return f"+{region.calling_code}{digits}", len(digits)


def phone_suffix(key: str) -> str:
    """The loose form of a phone's key: its last nine digits (`PHONE_SUFFIX_DIGITS`). For
    leaving people out only (suppression), never for finding whose data is whose."""
    return key.replace("+", "")[-PHONE_SUFFIX_DIGITS:]


def sql_phone_suffix(key_sql: str) -> str:
    """SQL of `phone_suffix` over a phone key expression (NULL stays NULL)."""
    return f"right(replace({key_sql}, '+', ''), {PHONE_SUFFIX_DIGITS})"


def sql_phone_key(
    raw_sql: str, rules: MatchRules, *, usable: bool = True, extension: bool = False
) -> str:
    """SQL of `phone_key` over a VARCHAR expression: the region's calling code and prefixes
    are constants, read from phonenumbers when the SQL is written. Without `usable`, a
    placeholder's key is left as it is (a filter: no identifier equals it). With
    `extension`, the key as it was before b9ec3fb, an extension's digits kept
    (`sql_legacy_forms` only)."""
    cut = (
        raw_sql
        if extension
        else f"regexp_replace({raw_sql}, {_sql_text(PHONE_KEY_EXTENSION)}, '\\1')"
    )
    text = f"replace(replace({cut}, '{_FULL_WIDTH_PLUS}', '+'), '{_TRUNK_MARK}', '')"
    kept = f"regexp_replace({text}, '[^0-9+]', '', 'g')"
    digits = f"replace({kept}, '+', '')"
    region = phone_region(rules.phone_region) if rules.phone_region else None
    n = f"length({digits})"

    def when(test: str, cut: int, added: int, key: str) -> str:
        """A branch whose key drops `cut` digits of the text and adds `added`."""
        least = max(PHONE_MIN_DIGITS - added, PHONE_TAIL_DIGITS) + cut
        return f"WHEN {test} THEN (CASE WHEN {n} >= {least} THEN {key} END)"

    cases = [when(f"left({kept}, 1) = '+'", 0, 0, f"'+' || {digits}")]
    for prefix in region.international_prefixes if region else ("00",):
        test = f"left({digits}, {len(prefix)}) = '{prefix}'"
        cases.append(when(test, len(prefix), 0, f"'+' || substr({digits}, {len(prefix) + 1})"))
    if region is None:
        cases.append(when("true", 0, 0, digits))
    else:
        code, trunk = region.calling_code, region.national_prefix
        if trunk:
            test = f"left({digits}, {len(trunk)}) = '{trunk}'"
            key = f"'+{code}' || substr({digits}, {len(trunk) + 1})"
            cases.append(when(test, len(trunk), len(code), key))
        cases.append(when("true", 0, len(code), f"'+{code}' || {digits}"))
    key = f"(CASE {' '.join(cases)} END)"
    if not usable:
        return key
    # a placeholder's key becomes '' and then NULL: the key is written once
    pattern = _sql_text(f"^(?:{_PHONE_PLACEHOLDER})$")
    return f"nullif(regexp_replace({key}, {pattern}, ''), '')"


def _sql_chars(chars: str) -> str:
    return " || ".join(f"chr({ord(c)})" for c in chars)


def _sql_text(text: str) -> str:
    """`text` (printable characters) as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_email_text(text_sql: str, forms: tuple[str, ...] = _RE_EMAIL_FORMS) -> str:
    """SQL of `email_text` over a VARCHAR expression: the same steps, the same regular
    expressions."""
    blanks = _sql_chars(_BLANKS)
    text = f"translate({text_sql}, {_sql_chars(INVISIBLE)}, '')"
    text = f"translate({text}, {_sql_text(FULL_WIDTH)}, {_sql_text(FULL_WIDTH_AS)})"
    text = f"(CASE WHEN regexp_matches({text}, '\\x00') THEN {text} ELSE nfc_normalize({text}) END)"
    text = f"translate(lower({text}), '{FINAL_SIGMA}', '{MEDIAL_SIGMA}')"
    text = f"rtrim(ltrim({text}, {blanks}), {blanks} || '{EMAIL_TRAILING}')"
    # (?s) and \z, not the 's' option and $: Spark's regular expressions read them alike
    for form in forms:
        pattern = _sql_text("(?s)^" + form + "\\z")
        text = f"regexp_replace({text}, {pattern}, '\\1')"
    text = f"regexp_replace({text}, {_sql_text('^' + _RE_QUOTED_LOCAL)}, '\\1@')"
    return f"rtrim(translate({text}, {blanks}, ''), '{EMAIL_TRAILING}')"


def _sql_email_key(expr: str, rules: MatchRules, *, for_match: bool) -> str:
    """SQL of `_email_key` over an address read by `sql_email_text`."""
    if rules.plus_addressing:
        expr = f"regexp_replace({expr}, '\\+[^@]*@', '@')"
    if rules.gmail_dots:
        expr = sql_let(
            expr,
            lambda e: (
                f"(CASE WHEN regexp_matches({e}, '^[^@]*@(gmail|googlemail)\\.com$')"
                f" THEN replace(split_part({e}, '@', 1), '.', '') || '@gmail.com' ELSE {e} END)"
            ),
        )
    if for_match:
        return expr

    def usable(email: str) -> str:
        local = _sql_placeholder(f"split_part({email}, '@', 1)", EMAIL_PLACEHOLDER_LOCALS)
        shaped = f"regexp_matches({email}, '^[^@]+@[^@]+$')"
        return f"(CASE WHEN {shaped} AND NOT {local} THEN {email} END)"

    return sql_let(expr, usable)


def sql_normalize(
    kind: IdentityKind, column_sql: str, rules: MatchRules, *, for_match: bool = False
) -> str:
    """The SQL expression that normalises a column exactly as `normalize` does.

    With `for_match`, the checks that only turn unusable values into NULL (placeholders
    too) are left out: such a value can never equal a normalised identifier, so a filter
    does not need them, and leaving them out makes a scan over millions of rows cheaper.
    """
    raw = _sql_raw(column_sql)
    if kind is IdentityKind.PHONE:
        return sql_phone_key(raw, rules, usable=not for_match)
    if kind is IdentityKind.EMAIL:
        # The usual address is plain ASCII with none of the characters `email_text` reads:
        # lower-cased, a final dot dropped. Only the others pay for the full reading (1 M
        # addresses: 0.10 s this test, 0.06 s the ASCII and ends test of other kinds).
        expr = (
            f"(CASE WHEN regexp_matches({raw}, '^{_RE_PLAIN_EMAIL}\\z')"
            f" THEN rtrim(lower({raw}), '.') ELSE {sql_email_text(raw)} END)"
        )
        return _sql_email_key(expr, rules, for_match=for_match)
    # The usual value is ASCII (no invisible character) and starts and ends with a visible
    # character: `normalize` leaves it as it is, and the test costs less than trim() alone.
    # Anything else is cleaned in full, which costs ten times more: only those rows pay.
    # (strlen counts bytes, length characters: equal only for ASCII; measured over 1.25 M
    # device ids: 0.030 s this test, 0.045 s trim(), 0.095 s a regular expression guard)
    text = _sql_trimmed(raw)
    if kind is IdentityKind.IP_ADDRESS:
        text = sql_ip_text(f"lower({text})")
    if kind is IdentityKind.DEVICE_ID:  # a UUID in lower case (red team 26 r5 F11)

        def uuid_lower(t: str) -> str:
            shaped = f"length({t}) = 36 AND regexp_matches({t}, {_sql_text(_UUID.pattern)})"
            return f"(CASE WHEN {shaped} THEN lower({t}) ELSE {t} END)"

        text = uuid_lower(text) if for_match else sql_let(text, uuid_lower)
    if for_match:
        return text

    def no_placeholder(t: str) -> str:
        unspecified = f" OR {t} = '::'" if kind is IdentityKind.IP_ADDRESS else ""
        return f"(CASE WHEN {_sql_placeholder(t)}{unspecified} THEN NULL ELSE {t} END)"

    return sql_let(text, no_placeholder)


def _sql_raw(column_sql: str) -> str:
    """A column as the VARCHAR `sql_normalize` reads."""
    # a JSON column (mixed value types, no declared type) is read as the text each value
    # holds: "042" as 042, not with its quotes; the branch is chosen when the query is planned
    return (
        f"(CASE WHEN typeof({column_sql}) = 'JSON'"
        f" THEN json_extract_string(to_json({column_sql}), '$')"
        f" ELSE CAST({column_sql} AS VARCHAR) END)"
    )


def _sql_trimmed(raw: str) -> str:
    """SQL of a raw value of a kind other than email and phone without its invisible
    characters, trimmed: `normalize`'s first step."""
    return (
        f"(CASE WHEN strlen({raw}) = length({raw}) AND ascii({raw}) > 32"
        f" AND ascii(right({raw}, 1)) > 32 THEN {raw}"
        f" ELSE trim(translate({raw}, {_sql_chars(INVISIBLE)}, ''), {_sql_chars(_BLANKS)}) END)"
    )


def sql_placeholder(kind: IdentityKind, column_sql: str, rules: MatchRules) -> str:
    """SQL: whether a cell holds a placeholder (`normalize` gives None for it as one): 'none',
    '0', 'N/A@', a phone of zeros. An empty or NULL cell is none; for `dsar catalog check`'s
    counts."""

    def placeholder(match: str) -> str:
        if kind is IdentityKind.PHONE:
            test = f"regexp_matches({match}, {_sql_text(f'^(?:{_PHONE_PLACEHOLDER})$')})"
        elif kind is IdentityKind.EMAIL:
            local = _sql_placeholder(f"split_part({match}, '@', 1)", EMAIL_PLACEHOLDER_LOCALS)
            test = f"{_sql_placeholder(match)} OR (strpos({match}, '@') > 0 AND {local})"
        elif kind is IdentityKind.IP_ADDRESS:
            test = f"{_sql_placeholder(match)} OR {match} = '::'"
        else:
            test = _sql_placeholder(match)
        return f"coalesce({match} <> '' AND ({test}), false)"

    return sql_let(sql_normalize(kind, column_sql, rules, for_match=True), placeholder)


# what may stand between the characters of an address as stored and still be read as it
# (blanks, invisible characters, quotes: anything but its own letters, digits, ':' and '.')
_IP_LOOSE = "[^0-9a-z:.]*"


def ip_pattern(values: Iterable[str]) -> str | None:
    """A regular expression (case-insensitive) that finds every raw IP address whose form
    (`ip_text`) may be in `values`: a superset, to be followed by the exact test, so that a
    scan reads the form of only the rows it finds (the IPv6 form costs about 15 times a
    lower-casing). None when a value is no address `ipaddress` reads (then every row is read).

    Every writing of an address ends with its last group that is not zero (with leading
    zeros, in any case) followed by zero groups only (written, or compressed as '::'), or
    with its last 32 bits as a dotted quad (an IPv4 address, an IPv4-mapped or any IPv6
    address with a dotted tail); anything not part of an address may stand between its
    characters.
    """
    loose = _IP_LOOSE

    def spread(text: str) -> str:
        return loose.join(re.escape(c) for c in text)

    alternatives = set()
    for value in values:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return None
        if "%" in value or ip_text(value) != value:
            return None  # a zone, or not a form the search compares: every row is read
        number = int(address)
        dotted = ".".join(str(number >> shift & 255) for shift in (24, 16, 8, 0))
        alternatives.add(f"(?:^|[^0-9]){spread(dotted)}{loose}$")
        if address.version == 4:
            number |= 0xFFFF << 32  # its IPv4-mapped IPv6 address
        groups = [number >> (16 * i) & 0xFFFF for i in range(8)]  # the last first
        last = next((g for g in groups if g), None)
        if last is None:
            return None  # the unspecified address: a placeholder, never searched
        # the last group not zero, in any case, with leading zeros, then only zero groups,
        # written or compressed ('1:0:0::', '1::')
        zeros = f"(?:0{loose})*"
        alternatives.add(f"(?:^|:){loose}{zeros}{spread(format(last, 'x'))}[^1-9a-z.]*$")
    if not alternatives:
        return None
    return "(?i)" + "|".join(f"(?:{a})" for a in sorted(alternatives))


def phone_pattern(values: Iterable[str]) -> str:
    """A regular expression that finds every raw phone whose key (`phone_key`) may be in
    `values`: a superset, to be followed by the exact test on the key.

    A key's digits end every writing of its number (only prefixes differ: '+', '00', a
    trunk prefix, a calling code), so the pattern looks for each key's last five digits
    (`PHONE_TAIL_DIGITS`) at the end of the number (before an extension, which the key cuts
    off), any separators (or a '(0)') between them.
    Searching the raw text with it, and reading the key of only the rows it finds, is about
    three times cheaper than reading every row's key.
    """
    between = r"(?:[^0-9]|\(0\))*"
    alternatives = []
    for value in sorted(values):
        digits = value.removeprefix("+")
        if not digits.isascii() or not digits.isdigit():
            raise InternalError("phone_pattern takes phone keys ('+' and digits, or digits)")
        # then nothing but non-digits, or an extension (cut from the key: a letter, '#',
        # ';' or ',' and whatever follows, 'x12', 'ext. 7')
        alternatives.append(
            between.join(digits[-PHONE_TAIL_DIGITS:]) + f"(?:[^0-9]*$|[^0-9]*{_EXTENSION_MARK})"
        )
    return "|".join(f"(?:{a})" for a in sorted(set(alternatives)))


def canonical_email(normalized: str) -> str:
    """A coarser form of a normalised email: every dot removed.

    Used only to fetch a superset of rows in one scan, so that variants found later (a
    Google profile with the dots of a gmail address moved) are answered from rows already
    read instead of another pass over the files; whether a row matches is still decided on
    the normalised value. Removing dots is nearly free in SQL, where a fuller canonical form
    (dropping +tags too) cost more per row than the rescans it saved.
    """
    return normalized.replace(".", "")


def sql_canonical_email(normalized_sql: str) -> str:
    """SQL for `canonical_email` of a normalised email expression."""
    return f"replace({normalized_sql}, '.', '')"


# ---- older normal forms -----------------------------------------------------------------
# A record that holds keyed references of identifiers and never the values (the suppression
# ledger) cannot be rebuilt when a normal form changes, as the identity index is (779ad20):
# a reference written under an older rule must still be recognised. Each form below is the
# identifier's EXACT key under the rule it was written by, the value as the export holds it
# read the old way, so the same person: a replay may find rows to erase by it, as well as
# leave people out. A looser form (a phone's last nine digits, an email folded) is not one of
# them: it only ever leaves out. A form is recognised for as long as records written before
# its commit may exist; none is ever written again.
_PHONE_EXTENSION_DIGITS = f"(?s)^[^0-9]*[0-9][^A-Za-z#;,]*{_EXTENSION_MARK}.*[0-9]"


def _old_phone(value: str, rules: MatchRules) -> str | None:
    """Before b9ec3fb: the key with an extension's digits glued on ('+1303555010112')."""
    return _phone_key_of(value, rules)


def _sql_old_phone(raw: str, rules: MatchRules) -> str:
    # only a value whose extension holds a digit keys otherwise than today
    return (
        f"(CASE WHEN regexp_matches({raw}, {_sql_text(_PHONE_EXTENSION_DIGITS)})"
        f" THEN {sql_phone_key(raw, rules, extension=True)} END)"
    )


def _old_device(value: str, rules: MatchRules) -> str | None:
    """Before 05fefaf: a device id as written, a UUID in capitals too."""
    text = value.translate(_DROP_INVISIBLE).strip()
    return None if is_placeholder(text) else text


def _sql_old_device(raw: str, rules: MatchRules) -> str:
    def old(t: str) -> str:  # only a UUID with a capital is read otherwise than today
        shaped = f"length({t}) = 36 AND regexp_matches({t}, {_sql_text(_UUID.pattern)})"
        return (
            f"(CASE WHEN {shaped} AND {t} <> lower({t}) AND NOT {_sql_placeholder(t)} THEN {t} END)"
        )

    return sql_let(_sql_trimmed(raw), old)


def _old_ip(value: str, rules: MatchRules) -> str | None:
    """Before 72241a4: an address lower-cased as written ('2001:db8:0:0:0:0:0:1',
    '::ffff:192.0.2.1')."""
    text = lower_as_sql(value.translate(_DROP_INVISIBLE).strip())
    return None if is_placeholder(text) else text


def _sql_old_ip(raw: str, rules: MatchRules) -> str:
    def old(t: str) -> str:  # an address without ':' (IPv4) is read as it was
        # and the unspecified address ('0:0::0') is a placeholder today in every writing
        return (
            f"(CASE WHEN strpos({t}, ':') > 0 AND regexp_matches({t}, '[1-9a-f]')"
            f" AND NOT {_sql_placeholder(t)} THEN {t} END)"
        )

    return sql_let(f"lower({_sql_trimmed(raw)})", old)


def _old_email(value: str, rules: MatchRules) -> str | None:
    """Before a link inside a display name was read ('Ann <mailto:ann@example.com>'): the
    address kept its 'mailto:' ('mailto:ann@example.com')."""
    return _email_key(email_text(value, _RE_EMAIL_FORMS_BEFORE_NAMED_LINKS), rules)


def _sql_old_email(raw: str, rules: MatchRules) -> str:
    # a plain address (`_RE_PLAIN_EMAIL`: no ':' or '<') is read alike by both rules
    old = _sql_email_key(
        sql_email_text(raw, _RE_EMAIL_FORMS_BEFORE_NAMED_LINKS), rules, for_match=False
    )
    today = _sql_email_key(sql_email_text(raw), rules, for_match=False)
    return (
        f"(CASE WHEN NOT regexp_matches({raw}, '^{_RE_PLAIN_EMAIL}\\z')"
        f" THEN nullif({old}, {today}) END)"
    )


@dataclass(frozen=True)
class LegacyForm:
    """A normal form an older rule gave an identity kind, still recognised in records.

    Attributes:
        kind: the identity kind.
        retired_by: the commit that changed the rule.
        python: the older form of a value as written (None: unusable under that rule).
        sql: its SQL over a raw VARCHAR expression: NULL wherever it cannot differ from
            today's form (a cheap test first, so that values read alike pay for no more).
    """

    kind: IdentityKind
    retired_by: str
    python: Callable[[str, MatchRules], str | None]
    sql: Callable[[str, MatchRules], str]


LEGACY_FORMS = (
    LegacyForm(IdentityKind.PHONE, "b9ec3fb", _old_phone, _sql_old_phone),
    LegacyForm(IdentityKind.DEVICE_ID, "05fefaf", _old_device, _sql_old_device),
    LegacyForm(IdentityKind.IP_ADDRESS, "72241a4", _old_ip, _sql_old_ip),
    LegacyForm(IdentityKind.EMAIL, "named-mailto", _old_email, _sql_old_email),
)


def legacy_forms(kind: IdentityKind, value: object, rules: MatchRules | None = None) -> list[str]:
    """The older normal forms (`LEGACY_FORMS`) of a value as written that differ from its
    form today (`normalize`): what a record written before each change holds for it.

    Examples:
        >>> legacy_forms(IdentityKind.PHONE, "+1 303 555 0101 x12")
        ['+1303555010112']
        >>> legacy_forms(IdentityKind.DEVICE_ID, "6F9619FF-8B86-D011-B42D-00CF4FC964FF")
        ['6F9619FF-8B86-D011-B42D-00CF4FC964FF']
        >>> legacy_forms(IdentityKind.PHONE, "+1 303 555 0101")
        []
    """
    if value is None:
        return []
    rules = rules or MatchRules()
    today = normalize(kind, value, rules)
    if today is None:  # unusable today (a placeholder, too few digits): it matches nobody
        return []
    found = (form.python(str(value), rules) for form in LEGACY_FORMS if form.kind is kind)
    return list(dict.fromkeys(f for f in found if f is not None and f != today))


def sql_legacy_forms(
    kind: IdentityKind, column_sql: str, rules: MatchRules | None = None
) -> list[str]:
    """SQL of each older normal form (`LEGACY_FORMS`) of a column: NULL wherever it cannot
    differ from `sql_normalize`'s form; an IP address's may still equal it (compare with
    today's form before hashing), and one may stand where today's form is NULL (a number
    of six digits and an extension): `legacy_forms` gives none there, so a search compares
    only where today's form is not NULL. Empty for a kind whose form never changed."""
    raw = _sql_raw(column_sql)
    return [form.sql(raw, rules or MatchRules()) for form in LEGACY_FORMS if form.kind is kind]


def older_writings(key: SubjectKey) -> list[str]:
    """Writings of a normalised identifier that today's rule reads as it and an older rule
    kept apart (`LEGACY_FORMS`), each in its older form: a UUID device id in capitals (as iOS
    writes it), an IPv6 address written out in full, with or without leading zeros, an IPv4
    address written IPv4-mapped. The same identifier today, so the same person; for a check
    given only the key (`Ledger.reasons`). A phone's older key cannot be told from today's
    (the extension is gone): give the number as written (`legacy_forms`).

    Examples:
        >>> older_writings(SubjectKey(IdentityKind.IP_ADDRESS, "2001:db8::1"))
        ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0:0:0:0:1']
    """
    value = key.value
    writings: list[str] = []
    if key.kind is IdentityKind.DEVICE_ID and _UUID.fullmatch(value):
        writings = [value.upper()]
    elif key.kind is IdentityKind.IP_ADDRESS and "%" not in value:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return []
        if address.version == 6:
            groups = address.exploded.split(":")
            writings = [address.exploded, ":".join(format(int(g, 16), "x") for g in groups)]
        else:
            writings = [f"::ffff:{value}"]
    mine = (w for w in writings if normalize(key.kind, w, MatchRules()) == value)
    return list(dict.fromkeys(f for w in mine for f in legacy_forms(key.kind, w)))
