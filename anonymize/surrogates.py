"""Keyed surrogates for published texts: a realistic value of the same kind and shape.

Every surrogate is chosen by a keyed HMAC of the normalised original, under a key of its
publication's own (`scoped_hasher`: the workbench key's `Purpose.PUBLISH_SURROGATE` subkey and
a fresh random publication id, or a series name given on purpose): the same value gets the
same surrogate throughout one publication, a surrogate means nothing outside it (red team
s14 F6: a name an attacker put in one publication decodes no other), and nobody without the
key can recompute the choice from a list of candidate names.

- Names are drawn from the name lists of the Faker locale that fits the original: its script
  (Cyrillic, Greek, Arabic, Han, Hangul, ...) and, for the Latin ones, the locales whose
  lists hold the original's given name and surname, else the text's language
  (`dsar.text.lexicon.language_of`). The surrogate is never the original, never close to it,
  never a name in the `forbidden` set (the export's people and the corpus's own names), and
  never one already given to someone else.
- Cards keep their length and first digit and are Luhn-valid; IBANs keep their country and
  length with valid check digits; IP addresses move to the documentation ranges (RFC 5737,
  RFC 3849), no group of the original kept; emails get a keyed local part of keyed words at a
  reserved domain (RFC 2606), no shape of the original's; a URL's slug keyed words of keyed
  lengths; phones, tokens, identifiers keep their separators, prefixes and length.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import importlib
import ipaddress
import pkgutil
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache

from dsar.keys import Keys, Purpose
from dsar.text import lexicon

RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
IPV4_DOCUMENTATION = ("192.0.2", "198.51.100", "203.0.113")
IPV6_DOCUMENTATION = "2001:db8"
JA_LATIN = "ja_JP_latin"  # ja_JP's romanised name lists
ARABIC_LATIN = "fr_DZ"  # Arabic names in Latin letters (Algerian lists: Ahmed, Benali)
# words that mark an Arabic name written in Latin letters: "bin Salman", "Al-Saud"
_ARABIC_MARKS = re.compile(r"(?i)^(?:bin|ibn|bint|binti|abu|umm|abd|abdul|abdel|(?:al|el)-.+)$")
MAX_DRAWS = 64
CLOSE = 0.8  # a surrogate this similar to its original (difflib's ratio) is drawn again
# locales for a text's language when no name list holds the name (`lexicon.language_of`)
LANGUAGE_LOCALES = {
    "en": "en_US",
    "de": "de_DE",
    "fr": "fr_FR",
    "es": "es_ES",
    "pt": "pt_PT",
    "it": "it_IT",
    "nl": "nl_NL",
    "pl": "pl_PL",
    "sv": "sv_SE",
    "tr": "tr_TR",
}
# the locale of a script when no list holds the name (Unicode script, as its character names
# start); the Latin script falls back to the text's language
SCRIPT_LOCALES = {
    "CYRILLIC": "ru_RU",
    "GREEK": "el_GR",
    "ARABIC": "ar_SA",
    "HEBREW": "he_IL",
    "DEVANAGARI": "hi_IN",
    "BENGALI": "bn_BD",
    "CJK": "zh_CN",
    "HIRAGANA": "ja_JP",
    "KATAKANA": "ja_JP",
    "HANGUL": "ko_KR",
    "THAI": "th_TH",
    "ARMENIAN": "hy_AM",
    "GEORGIAN": "ka_GE",
    "TAMIL": "ta_IN",
    "GUJARATI": "gu_IN",
    "PERSIAN": "fa_IR",
}


@dataclass(frozen=True)
class Locale:
    """One Faker locale's name lists, as written, and how it orders a full name."""

    code: str
    given: tuple[str, ...]
    given_female: frozenset[str]
    given_male: frozenset[str]
    family: tuple[str, ...]
    family_female: tuple[str, ...]
    family_male: tuple[str, ...]
    family_first: bool
    joined: bool  # no space between the parts (Chinese, Korean)
    script: str


def script_of(text: str) -> str:
    """The Unicode script of the first letter of `text` ('LATIN', 'CYRILLIC', 'CJK', ...)."""
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            return name.split(" ", 1)[0] if name else "LATIN"
    return "LATIN"


def _names(provider: object, attrs: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for attr in attrs:
        values = getattr(provider, attr, None)
        if isinstance(values, dict):  # some locales weight their names
            values = list(values)
        if isinstance(values, list | tuple):
            out += [v for v in values if isinstance(v, str) and v.strip() and " " not in v]
    return list(dict.fromkeys(out))


@cache
def locales() -> dict[str, Locale]:
    """Every Faker locale with name lists: the lists `dsar.text.lexicon` joins into one
    lexicon, kept apart here, since a surrogate is drawn from one culture's names."""
    import faker.providers.person as people

    found: dict[str, Locale] = {}
    for module in pkgutil.iter_modules(people.__path__):
        try:
            provider = importlib.import_module(f"{people.__name__}.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        female = _names(provider, ("first_names_female",))
        male = _names(provider, ("first_names_male",))
        given = _names(provider, ("first_names", "first_names_female", "first_names_male"))
        given = [g for g in given if g not in ("John", "Jane")] or given  # placeholders
        family = _names(provider, ("last_names",))
        family_female = _names(provider, ("last_names_female",))
        family_male = _names(provider, ("last_names_male",))
        family = family or family_male + family_female
        if len(given) < 20 or len(family) < 10:
            continue
        formats = [str(f) for f in getattr(provider, "formats", ()) or ()]
        first = formats[0] if formats else "{{first_name}} {{last_name}}"
        found[module.name] = Locale(
            code=module.name,
            given=tuple(given),
            given_female=frozenset(female),
            given_male=frozenset(male),
            family=tuple(family),
            family_female=tuple(family_female),
            family_male=tuple(family_male),
            family_first=first.lstrip("{").startswith("last_name"),
            joined="}}{{" in first,
            script=script_of(given[0]),
        )
    japanese = people.__name__ + ".ja_JP"
    try:  # Japanese names written in Latin letters get Japanese names in Latin letters
        ja = importlib.import_module(japanese).Provider
    except (ImportError, AttributeError):  # pragma: no cover - Faker ships ja_JP
        return found
    found[JA_LATIN] = Locale(
        code=JA_LATIN,
        given=tuple(_names(ja, ("first_romanized_names",))),
        given_female=frozenset(_names(ja, ("first_romanized_names_female",))),
        given_male=frozenset(_names(ja, ("first_romanized_names_male",))),
        family=tuple(_names(ja, ("last_romanized_names",))),
        family_female=(),
        family_male=(),
        family_first=False,
        joined=False,
        script="LATIN",
    )
    return found


@cache
def _membership() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Which locales list each given name and each surname (case-folded)."""
    given: dict[str, set[str]] = {}
    family: dict[str, set[str]] = {}
    for code, loc in locales().items():
        for g in loc.given:
            given.setdefault(g.casefold(), set()).add(code)
        for f in (*loc.family, *loc.family_female, *loc.family_male):
            family.setdefault(f.casefold(), set()).add(code)
    return (
        {k: frozenset(v) for k, v in given.items()},
        {k: frozenset(v) for k, v in family.items()},
    )


def locale_for(tokens: tuple[str, ...], language: str) -> Locale:
    """The locale a name most plausibly comes from: the locales listing most of its tokens,
    among those of its script; else its script's locale; else the text's language's."""
    all_locales = locales()
    script = script_of("".join(tokens))
    given, family = _membership()
    if script == "LATIN":
        if ARABIC_LATIN in all_locales and any(_ARABIC_MARKS.match(t) for t in tokens):
            return all_locales[ARABIC_LATIN]
        ja = all_locales.get(JA_LATIN)
        if ja is not None and len(tokens) > 1:
            ja_given, ja_family = set(ja.given), set(ja.family)
            if any(t in ja_given for t in tokens) and any(t in ja_family for t in tokens):
                return ja
    votes: dict[str, int] = {}
    for i, token in enumerate(tokens):
        folded = token.casefold()
        for code in given.get(folded, frozenset()) | family.get(folded, frozenset()):
            # the first token as a given name and the last as a surname count double
            weight = 2 if (i == 0 and code in given.get(folded, ())) else 1
            votes[code] = votes.get(code, 0) + weight
    votes = {c: v for c, v in votes.items() if all_locales[c].script == script}
    if votes:
        best = max(votes.values())
        preferred = LANGUAGE_LOCALES.get(language)
        tied = sorted(c for c, v in votes.items() if v == best)
        return all_locales[preferred if preferred in tied else tied[0]]
    fallback = SCRIPT_LOCALES if script != "LATIN" else LANGUAGE_LOCALES
    chosen = fallback.get(script if script != "LATIN" else language)
    if chosen is not None and chosen in all_locales:
        return all_locales[chosen]
    same = sorted(c for c, loc in all_locales.items() if loc.script == script)
    return all_locales[same[0] if same else "en_US"]


@dataclass(frozen=True)
class Name:
    """A surrogate name: its parts in the original's order, written joined (Chinese, Korean
    names in one word) or spaced."""

    parts: tuple[str, ...]
    joined: bool = False
    family_first: bool = False

    @property
    def given(self) -> str:
        return self.parts[-1] if self.family_first else self.parts[0]

    @property
    def family(self) -> str:
        return self.parts[0] if self.family_first else self.parts[-1]

    def written(self, original: str, parts: tuple[str, ...] | None = None) -> str:
        """The surrogate (or some of its parts) in the original's case."""
        text = ("" if self.joined else " ").join(self.parts if parts is None else parts)
        if original.islower():
            return text.lower()
        if original.isupper() and len(original) > 1:
            return text.upper()
        return text


def scoped_hasher(keys: Keys, scope: str) -> Callable[[str], str]:
    """A keyed hash (hex HMAC-SHA256) of one publication or series: under a subkey derived
    from the workbench key's `Purpose.PUBLISH_SURROGATE` subkey and `scope`
    ('publication:<random id>' or 'series:<name>'). Two scopes share nothing a person could
    learn in one and use in the other; the scope is recorded, the subkey never.

    Examples:
        >>> from dsar.keys import Keys
        >>> keys = Keys(b"k" * 32)
        >>> scoped_hasher(keys, "series:a")("x") == scoped_hasher(keys, "series:a")("x")
        True
        >>> scoped_hasher(keys, "series:a")("x") == scoped_hasher(keys, "series:b")("x")
        False
    """
    subkey = bytes.fromhex(keys.keyed_hash(Purpose.PUBLISH_SURROGATE, f"scope:{scope}"))
    base = hmac.new(subkey, digestmod=hashlib.sha256)

    def digest(message: str) -> str:
        h = base.copy()
        h.update(message.encode("utf-8"))
        return h.hexdigest()

    return digest


class Surrogates:
    """The surrogates of one publication run, keyed, remembered so that a value keeps its
    surrogate and no two values share one.

    Args:
        keys: the secret key (the choice is an HMAC under `Purpose.PUBLISH_SURROGATE`, or
            under the scope's subkey: `scoped_hasher`).
        forbidden: names (case-folded, spaces collapsed) a surrogate must never be: the
            export's people and every name found in the corpus.
        taken_ids: the company's identifiers a surrogate identifier must never be.
        originals: every original value of the corpus as (kind, `fold`ed value): a surrogate
            is never one of them.
        scope: the publication's or series' scope (`scoped_hasher`); None: the key's own
            subkey, the same surrogates in every publication (only for tests of the choice).
    """

    def __init__(
        self,
        keys: Keys,
        forbidden: Collection[str] = (),
        taken_ids: Collection[str] = (),
        originals: Collection[tuple[str, str]] = (),
        *,
        scope: str | None = None,
    ) -> None:
        self._hash = (
            keys.hasher(Purpose.PUBLISH_SURROGATE) if scope is None else scoped_hasher(keys, scope)
        )
        self.forbidden = frozenset(forbidden)
        self.taken_ids = taken_ids
        self.originals = originals
        self._people: dict[str, Name] = {}  # original key -> its surrogate
        self._given: set[str] = set()  # surrogates handed out (folded), for no collisions
        self._values: dict[tuple[str, str], str] = {}
        self._used: set[tuple[str, str]] = set()
        self.locales_used: dict[str, int] = {}

    @property
    def people(self) -> int:
        """People given a surrogate name so far: each full name once (in any case, order
        or accents), and each name written alone that is no word of a full name."""
        full = [k.split() for k in self._people if " " in k]
        words = {w for k in full for w in k}
        return len(full) + sum(1 for k in self._people if " " not in k and k not in words)

    def initial(self, word: str, avoid: str) -> str:
        """A keyed capital letter for an initial beside a surrogate ("M. Vandenbergh"),
        never the original's (`avoid`)."""
        letters = "ABCDEFGHIJKLMNOPRSTVW"
        for draw in range(MAX_DRAWS):
            letter = letters[self._number(f"initial:{fold_name(word)}", draw) % len(letters)]
            if letter != avoid.upper():
                return letter
        return "X"  # pragma: no cover - 64 draws

    def _number(self, message: str, draw: int) -> int:
        return int(self._hash(f"{message}#{draw}")[:16], 16)

    # -- names ---------------------------------------------------------------------------

    def person(self, tokens: tuple[str, ...], language: str) -> Name:
        """The surrogate of a person named by `tokens` (a full name or one word): a given
        name and a surname (or one of them, for one word) in the order the original's
        locale writes them."""
        key = person_key(tokens)
        if key in self._people:
            return self._people[key]
        loc = locale_for(tokens, language)
        roles = _roles(tokens, loc)
        for draw in range(MAX_DRAWS):
            parts = tuple(
                self._draw_name(loc, role, tokens, key, draw, i) for i, role in enumerate(roles)
            )
            full = " ".join(parts).casefold()
            joined = "".join(parts).casefold()
            if (
                full in self.forbidden
                or joined in self.forbidden
                or full in self._given
                or {p.casefold() for p in parts} & {t.casefold() for t in tokens}
                or _close(full, " ".join(t.casefold() for t in tokens))
            ):
                continue
            self._given.add(full)
            self._people[key] = Name(
                parts, loc.joined and len(tokens) == 1, loc.family_first and len(parts) > 1
            )
            self.locales_used[loc.code] = self.locales_used.get(loc.code, 0) + 1
            return self._people[key]
        raise RuntimeError("no surrogate name found")  # pragma: no cover - 64 draws

    def _draw_name(
        self, loc: Locale, role: str, tokens: tuple[str, ...], key: str, draw: int, i: int
    ) -> str:
        pool: tuple[str, ...]
        if role == "given":
            first = tokens[0] if not loc.family_first or len(tokens) == 1 else tokens[-1]
            pool = loc.given
            if first in loc.given_female and first not in loc.given_male:
                pool = tuple(sorted(loc.given_female))
            elif first in loc.given_male and first not in loc.given_female:
                pool = tuple(sorted(loc.given_male))
        else:
            pool = loc.family
            if loc.family_female and loc.family_male:  # surnames with a gender (Russian)
                female = tokens[0] in loc.given_female or tokens[-1] in loc.family_female
                pool = loc.family_female if female else loc.family_male
        return pool[self._number(f"name:{role}:{i}:{key}", draw) % len(pool)]

    # -- shapes ----------------------------------------------------------------------------

    def value(self, kind: str, original: str, normalised: str) -> str:
        """The surrogate of a non-name value of `kind` (an entity type of the text engine,
        or URL_TOKEN / COMPANY_ID), the same for the same normalised value."""
        key = (kind, normalised)
        if key in self._values:
            return self._values[key]
        maker = _MAKERS.get(kind, _shape)
        for draw in range(MAX_DRAWS):
            number = self._number(f"{kind}:{normalised}", draw)
            made = maker(original, _Stream(self._hash, f"{kind}:{normalised}:{draw}"), number)
            folded = fold(kind, made)
            if (
                folded == normalised
                or (kind, folded) in self._used
                or (kind, folded) in self.originals
            ):
                continue
            if kind == "COMPANY_ID" and made in self.taken_ids:
                continue
            self._used.add((kind, folded))
            self._values[key] = made
            return made
        raise RuntimeError("no surrogate value found")  # pragma: no cover


def fold_name(word: str) -> str:
    """A word of a name as a key: case-folded, accents removed ("Nägele" -> "nagele")."""
    bare = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in bare if not unicodedata.combining(ch)).replace("\u2019", "'")


def person_key(tokens: tuple[str, ...]) -> str:
    """The key of one person's name: its words folded (`fold_name`) and sorted, so that
    "Vandenbergh, Michelle" and "MICHELLE VANDENBERGH", "Nägele" and "Nagele" are one."""
    return " ".join(sorted(fold_name(t) for t in tokens))


def _roles(tokens: tuple[str, ...], loc: Locale) -> tuple[str, ...]:
    """Which parts a surrogate has, in the locale's order: given and family for a full name;
    for one word, what the word is (a given name unless only surname lists hold it)."""
    if len(tokens) > 1:
        return ("family", "given") if loc.family_first else ("given", "family")
    given, family = _membership()
    word = tokens[0].casefold()
    if script_of(word) in ("CJK", "HANGUL") and len(word) >= 2:
        return ("family", "given")  # "王伟", "김민준": one word, the whole name
    if word in family and word not in given:
        return ("family",)
    firsts, _ = lexicon.name_lexicon()
    return ("given",) if word in given or tokens[0] in firsts else ("family",)


def _close(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, a, b).ratio() >= CLOSE


def fold(kind: str, value: str) -> str:
    """The form under which two values of `kind` are the same (a phone's digits, an email in
    any case)."""
    if kind in ("EMAIL_ADDRESS", "URL_TOKEN", "SECRET", "COMPANY_ID", "IP_ADDRESS"):
        return value.casefold()
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


class _Stream:
    """Keyed pseudo-random digits and letters for one value's surrogate."""

    def __init__(self, hasher: Callable[[str], str], seed: str) -> None:
        self._hash, self._seed, self._block, self._buffer = hasher, seed, 0, ""

    def _take(self) -> int:
        if not self._buffer:
            self._buffer = self._hash(f"{self._seed}/{self._block}")
            self._block += 1
        out, self._buffer = int(self._buffer[:2], 16), self._buffer[2:]
        return out

    def digit(self) -> str:
        while (n := self._take()) >= 250:  # unbiased
            pass
        return str(n % 10)

    def letter(self) -> str:
        while (n := self._take()) >= 234:
            pass
        return chr(ord("a") + n % 26)

    def like(self, ch: str) -> str:
        """A keyed character of the same class as `ch` (digit, lower, upper; others kept)."""
        if ch.isdigit():
            return self.digit()
        if ch.isalpha() and ch.isascii():
            return self.letter().upper() if ch.isupper() else self.letter()
        if ch.isalpha():
            return self.letter()
        return ch


def _shape(original: str, stream: _Stream, _: int) -> str:
    """Every ASCII letter and digit replaced by a keyed one of its class; the rest kept."""
    return "".join(stream.like(ch) for ch in original)


_PREFIX = re.compile(r"^(?:[A-Za-z]{1,8}[_-])+|^[A-Za-z]{1,3}(?=\d)")


def _identifier(original: str, stream: _Stream, _: int) -> str:
    """A company identifier or a token: its prefix ('cus_', 'u', 'T-', 'sk_live_') kept, the
    rest keyed characters of the same classes."""
    m = _PREFIX.match(original)
    head = m.group() if m else ""
    return head + _shape(original[len(head) :], stream, 0)


def _phone(original: str, stream: _Stream, _: int) -> str:
    """The country code ('+31', '0031') and a leading trunk 0 or '(' kept, other digits keyed."""
    m = re.match(r"^\s*(?:\+\d{1,3}|00\d{1,3})?[\s.-]*\(?0?", original)
    head = m.group() if m else ""
    return head + "".join(stream.like(ch) for ch in original[len(head) :])


def luhn_digit(digits: str) -> str:
    """The check digit that makes `digits` + it pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    return len(digits) >= 12 and luhn_digit(digits[:-1]) == digits[-1]


def _card(original: str, stream: _Stream, _: int) -> str:
    """The same length, grouping and first digit (the network), Luhn-valid."""
    count = sum(ch.isdigit() for ch in original)
    first = next(ch for ch in original if ch.isdigit())
    body = first + "".join(stream.digit() for _ in range(count - 2))
    digits = body + luhn_digit(body)
    it = iter(digits)
    return "".join(next(it) if ch.isdigit() else ch for ch in original)


def iban_check(country: str, bban: str) -> str:
    """The two check digits of an IBAN (ISO 13616: mod 97)."""
    moved = bban + country + "00"
    number = "".join(str(int(ch, 36)) for ch in moved.upper())
    return f"{98 - int(number) % 97:02d}"


def iban_valid(iban: str) -> bool:
    text = re.sub(r"\s", "", iban).upper()
    if len(text) < 15 or not text[:2].isalpha():
        return False
    return iban_check(text[:2], text[4:]) == text[2:4]


def _iban(original: str, stream: _Stream, _: int) -> str:
    """The country and length kept, a keyed account part of the same classes, valid check
    digits; the original's grouping spaces kept."""
    compact = re.sub(r"\s", "", original).upper()
    country = compact[:2]
    bban = "".join(stream.like(ch).upper() for ch in compact[4:])
    digits = country + iban_check(country, bban) + bban
    it = iter(digits)
    return "".join(next(it) if not ch.isspace() else ch for ch in original)


_PORTED_V4 = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3})(:\d{1,5})$")
_BRACKETED = re.compile(r"^\[([^\]]+)\](:\d{1,5})?$")


def _ip_parts(original: str) -> tuple[str, str, str]:
    """An address and what stands around it that is no part of it: a bracket, a port (of
    an IPv4 address, or after an IPv6 one in brackets), a zone id, a prefix length. An
    unbracketed IPv6 address has no port: its last group is its own (red team 24c F13:
    "...:4e7a:0042/64" and "...:0042:8329" lost their last group to a port reading)."""
    text, prefix = original, ""
    if m := re.search(r"/\d{1,3}$", text):
        text, prefix = text[: m.start()], m.group()
    if m := _BRACKETED.match(text):
        address, zone, rest = m.group(1).partition("%")
        return "[", address, zone + rest + "]" + (m.group(2) or "") + prefix
    if m := _PORTED_V4.match(text):
        return "", m.group(1), m.group(2) + prefix
    address, zone, rest = text.partition("%")
    return "", address, zone + rest + prefix


def _ip(original: str, stream: _Stream, number: int) -> str:
    """An address of the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
    203.0.113.0/24; 2001:db8::/32), a port, zone or prefix length kept and no group of the
    original: an IPv6 address is all keyed groups, whatever its zero padding."""
    head, address, tail = _ip_parts(original)
    if address.count(":") > 1:
        groups = [f"{(number >> (16 * i)) & 0xFFFF:x}" for i in range(3)]
        return f"{head}{IPV6_DOCUMENTATION}:{groups[0]}::{groups[1]}:{groups[2]}{tail}"
    net = IPV4_DOCUMENTATION[number % 3]
    return f"{head}{net}.{1 + (number >> 8) % 254}{tail}"


def _pieces(stream: _Stream, count: int, low: int, high: int) -> list[str]:
    """`count` keyed lower-case words, each of a keyed length from `low` to `high`."""
    out = []
    for _ in range(count):
        size = low + int(stream.digit() + stream.digit()) % (high - low + 1)
        out.append("".join(stream.letter() for _ in range(size)))
    return out


def _email(original: str, stream: _Stream, number: int) -> str:
    """A keyed local part at a reserved domain (example.com/.org/.net), of no shape of the
    original's (red team 24c F8: "O'Brien.Kate" gave "Y'Kahgp.Dnvy", the lengths of an
    Irish surname and a given name, its apostrophe and capitals): one or two lower-case
    words of keyed lengths and a keyed separator."""
    words = _pieces(stream, 1 + int(stream.digit()) % 2, 3, 9)
    local = ".._"[int(stream.digit()) % 3].join(words)
    return f"{local}@{RESERVED_DOMAINS[number % 3]}"


def _url_token(original: str, stream: _Stream, number: int) -> str:
    """A token of a URL: a slug of words ("marta-oyelaran-brisk-4a2b1c") becomes keyed
    lower-case words of keyed lengths and count, joined by the slug's separator (red team
    24c F8: the original name's word lengths showed); a token of one piece keeps its
    length and its letters' and digits' places, in lower case (a random token's shape is
    no one's)."""
    separator = next((ch for ch in original if ch in "-_."), "")
    if separator and any(ch.isalpha() for ch in original):
        return separator.join(_pieces(stream, 2 + int(stream.digit()) % 3, 3, 8))
    return "".join(stream.like(ch.lower()) if ch.isalnum() else ch for ch in original)


_MAKERS: dict[str, Callable[[str, _Stream, int], str]] = {
    "EMAIL_ADDRESS": _email,
    "PHONE_NUMBER": _phone,
    "CREDIT_CARD": _card,
    "IBAN_CODE": _iban,
    "IP_ADDRESS": _ip,
    "SECRET": _identifier,
    "URL_TOKEN": _url_token,
    "COMPANY_ID": _identifier,
}


def is_documentation_ip(text: str) -> bool:
    """True for an address of the documentation ranges (what publishing writes)."""
    address = re.split(r"[/%]", text.strip(), maxsplit=1)[0]
    if address.count(":") == 1:
        address = address.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return ip in ipaddress.ip_network("2001:db8::/32")
    return any(ip in ipaddress.ip_network(f"{n}.0/24") for n in IPV4_DOCUMENTATION)
