"""The other written forms of a value the engine found once in the corpus, and the kept
columns' screen (red team s13, F1 and F2).

A value replaced in one text must be replaced in every text, in every form it is written
in: percent-encoded (`karl.hale%40moonwells.co.uk`), in full-width or other compatibility
forms, with an invisible character inside a word (soft hyphen, zero-width space), in a
base64 run; a phone by its digits alone (`31612345678`, `0031 6 ...`); a card or IBAN
with other separators; a full name in "Surname, Given" order, and its surname alone where
it is capitalised and no everyday word. `Forms.find` returns those places as spans, each
with the original value it stands for (its surrogate is that value's).

Red team 24 round 3 (F3, F5, F7, F12) added: the company's ids (`Forms.ids`) in full-width
or other compatibility forms, written spaced out or split over a line break ("u 0 0 0 0 0 0
1", "u000\n0001", "3075 e26a 50"); a phone of the corpus written in number words ("zero
six one two ..."); an email written obfuscated ("name dot surname at provider dot com",
"name[at]provider[dot]nl", "(at)"), found as one address whatever a word of it is; and an
email in a hex run (replaced by the surrogate address, as a base64 run is).

A kept column (`--keep`) is published as it is, so it must hold no personal data:
`kept_findings` counts, per kind, the distinct values of a kept column the text engine
reads as personal (nested objects and lists read leaf by leaf), that are an original the
corpus's texts hold, or an identifier or name of the export. Counts and kinds only.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import regex

from anonymize.publish_find import CompanyIds, distinctive, id_parts
from dsar.text import Span, TextEngine
from dsar.text.detectors import PERSON
from dsar.text.lexicon import STOP_WORDS, WORD_NAMES

INVISIBLE = frozenset("\u00ad\u034f\u180e\u200b\u200c\u200d\u2060\ufeff")
"""Characters that do not render: inside a word they hide it from a plain match."""
BASE64 = "base64"
HEX = "hex"
EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"
NUMBERS = ("CREDIT_CARD", "IBAN_CODE")
FORM = "form"  # the spans' source

_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_EMAIL_SHAPE = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")
_WORD = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'\u2019-]*")
_PHONE_RUN = re.compile(r"\+?\(?\d[\d\s().\-/]*\d")
_NUMBER_RUN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[\s.\-/](?=[A-Za-z0-9]))*")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,4096}={0,2}")
_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){6,2048}(?![0-9A-Fa-f])")
PHONE_TAIL = 9  # a phone is matched on its last nine digits (any prefix, trunk, country)


def surname_word(word: str) -> bool:
    """Whether a full name's last word is matched alone: four letters or more, no everyday
    word, no greeting or title."""
    folded = word.casefold()
    return len(word) >= 4 and folded not in WORD_NAMES and folded not in STOP_WORDS


def phone_key(digits: str) -> str:
    return digits[-PHONE_TAIL:]


@dataclass(frozen=True)
class View:
    """A text folded for matching: percent-decoded, NFKC, case-folded, invisible characters
    dropped; each character with the source range it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def source(self, a: int, b: int) -> tuple[int, int]:
        return self.starts[a], self.ends[b - 1]


def view_of(text: str, invisible: str = "") -> View:
    """The view of `text`; an invisible character dropped, or read as `invisible` (a soft
    hyphen between two words: "Anna\u00adKowalska")."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit(piece: str, a: int, b: int) -> None:
        for c in piece:
            chars.append(c)
            starts.append(a)
            ends.append(b)

    i = 0
    while i < len(text):
        ch = text[i]
        if ch in INVISIBLE:
            emit(invisible, i, i + 1)
            i += 1
            continue
        if ch == "%":
            m = _PERCENT_RUN.match(text, i)
            if m:
                try:
                    decoded = bytes.fromhex(m.group().replace("%", "")).decode("utf-8")
                except UnicodeDecodeError:
                    decoded = ""
                if decoded:
                    emit(unicodedata.normalize("NFKC", decoded).casefold(), m.start(), m.end())
                    i = m.end()
                    continue
        emit(unicodedata.normalize("NFKC", ch).casefold(), i, i + 1)
        i += 1
    return View("".join(chars), tuple(starts), tuple(ends))


@dataclass(frozen=True)
class Found:
    """A place in a text where an original stands in another form: the span, the original
    value as first written (its surrogate's key), and how it is encoded ('' or base64)."""

    span: Span
    original: str
    encoding: str = ""
    tail: int = 0  # a company id's unique part: only its last `tail` characters are keyed


@dataclass
class Forms:
    """The corpus's originals, indexed for their other forms."""

    emails: dict[str, str] = field(default_factory=dict)  # folded -> written
    names: dict[str, str] = field(default_factory=dict)  # "given surname" folded -> written
    reversed_names: dict[str, str] = field(default_factory=dict)  # "surname given" -> written
    surnames: dict[str, str] = field(default_factory=dict)  # surname folded -> its full name
    phones: dict[str, str] = field(default_factory=dict)  # last nine digits -> written
    numbers: dict[str, tuple[str, str]] = field(default_factory=dict)  # compact -> kind, written
    ids: CompanyIds | None = None  # the company's ids (`--catalog`), found in other forms too

    @classmethod
    def of(
        cls,
        texts: Sequence[str | None],
        spans: Sequence[Sequence[Span]],
        ids: CompanyIds | None = None,
    ) -> Forms:
        """From the spans found in the corpus (the first writing of a value is its key), and
        the company's `ids`."""
        out = cls(ids=ids)
        for text, found in zip(texts, spans, strict=True):
            if not text:
                continue
            for s in found:
                value = text[s.start : s.end]
                if s.entity == EMAIL and "@" in value:
                    out.emails.setdefault(view_of(value).text.strip(), value)
                elif s.entity == PERSON:
                    words = [w.casefold() for w in _WORD.findall(value)]
                    if len(words) < 2 or len(words) > 4:
                        continue
                    full = " ".join(words)
                    out.names.setdefault(full, value)
                    out.reversed_names.setdefault(" ".join([words[-1], *words[:-1]]), value)
                    last = _WORD.findall(value)[-1]
                    if surname_word(last):
                        out.surnames.setdefault(last.casefold(), value)
                elif s.entity == PHONE:
                    digits = re.sub(r"\D", "", value)
                    if len(digits) >= 7:
                        out.phones.setdefault(phone_key(digits), value)
                elif s.entity in NUMBERS:
                    compact = re.sub(r"[^0-9A-Za-z]", "", value).upper()
                    if len(compact) >= 12:
                        out.numbers.setdefault(compact, (s.entity, value))
        return out

    def find(self, text: str) -> list[Found]:
        """The places in `text` where an original stands in another form."""
        view = view_of(text)
        out: list[Found] = []
        for m in _EMAIL_SHAPE.finditer(view.text):
            value = m.group().strip(".'")
            a, b = view.source(m.start(), m.start() + len(value))
            written = self.emails.get(value)
            if written is None and text[a:b].casefold() != value:
                written = value  # an address written encoded (%40, full-width): one anyway
            if written is not None:
                out.append(Found(Span(a, b, EMAIL, 1.0, FORM), written))
        out += self._names(text, view)
        if any(c in INVISIBLE for c in text):
            out += self._names(text, view_of(text, " "))
        out += self._obfuscated_emails(text, view)
        out += self._phones(text)
        out += self._spoken_phones(view)
        out += self._numbers(text)
        out += self._base64(text)
        out += self._hex(text)
        out += self._ids(text)
        return out

    def _obfuscated_emails(self, text: str, view: View) -> Iterator[Found]:
        """An address written with its at sign or dots spelled out ("marta dot oyelaran at
        gmail dot com", "marta[at]oyelaran[dot]nl", "m.duke (at) outlook.com"): one span,
        keyed on the address it spells (red team 24 r3, F5: a word of it replaced alone left
        the rest beside a surrogate, or not, as the draw fell)."""
        for m in _OBFUSCATED.finditer(view.text):
            value = deobfuscated(m)
            if value is None:
                continue
            a, b = view.source(m.start(), m.end())
            yield Found(Span(a, b, EMAIL, 1.0, FORM), self.emails.get(value, value))

    def _spoken_phones(self, view: View) -> Iterator[Found]:
        """A phone of the corpus written in number words ("zero six one two ...")."""
        if not self.phones:
            return
        for m in _SPOKEN_RUN.finditer(view.text):
            digits = spoken_digits(m.group())
            if digits is None:
                continue
            for i in range(max(len(digits) - PHONE_TAIL + 1, 1)):
                written = self.phones.get(digits[i : i + PHONE_TAIL])
                if written is not None:
                    a, b = view.source(m.start(), m.end())
                    yield Found(Span(a, b, PHONE, 1.0, FORM), written)
                    break

    def _hex(self, text: str) -> Iterator[Found]:
        """An address in a hex run (red team 24 r3, F12): the run is replaced by the
        surrogate address (as a base64 run is; the check decodes hex as it does base64)."""
        for m in _HEX_RUN.finditer(text):
            decoded = unhex_text(m.group())
            if decoded is None:
                continue
            for e in _EMAIL_SHAPE.finditer(unicodedata.normalize("NFKC", decoded).casefold()):
                value = e.group().strip(".'")
                written = self.emails.get(value, value)
                yield Found(Span(m.start(), m.end(), EMAIL, 1.0, FORM), written, HEX)
                break

    def _ids(self, text: str) -> Iterator[Found]:
        """The company's ids in the forms `CompanyIds.variants` does not read (red team 24
        r3, F3 and F7): in full-width or other compatibility forms (NFKC), and written with
        spaces, line breaks or other separators between its characters ("u 0 0 0 0 0 0 1",
        "u000\n0001", "3075 e26a 50"). Each is replaced whole by the id's surrogate."""
        if self.ids is None or not self.ids.values:
            return
        compact, unique, prefixes, longest = self._id_index
        tokens = id_tokens(text)
        for i in range(len(tokens)):
            joined = ""
            for j in range(i, len(tokens)):
                _, end, word = tokens[j]
                gap = gap_between(text, tokens[j - 1], tokens[j]) if j > i else ""
                if j > i and not _ID_GAP.fullmatch(gap):
                    break
                joined += word
                folded = joined.casefold()
                if len(folded) > longest:
                    break
                start = tokens[i][0]
                if not any(c.isdigit() for c in folded) or _plain(
                    text[start:end], j - i, tokens[i][2].casefold() in prefixes
                ):
                    continue
                written = compact.get(folded) or unique.get(folded)
                if written is None and any(s.fullmatch(joined) for s in self.ids.shapes):
                    written = joined
                if written is not None:
                    yield Found(Span(start, end, "COMPANY_ID", 1.0, FORM), written)

    @cached_property
    def _id_index(self) -> tuple[dict[str, str], dict[str, str], frozenset[str], int]:
        """(id without separators, case-folded -> id; distinctive unique part -> id; the
        ids' letter prefixes, case-folded; the longest id)."""
        compact: dict[str, str] = {}
        unique: dict[str, str] = {}
        prefixes: set[str] = set()
        for v in sorted(self.ids.values if self.ids is not None else ()):
            compact.setdefault(re.sub(r"[^0-9a-z]", "", v.casefold()), v)
            head, tail = id_parts(v)
            prefixes.add(re.sub(r"[^0-9a-z]", "", head.casefold()))
            if tail and distinctive(tail):
                unique.setdefault(tail.casefold(), v)
        longest = max((len(k) for k in compact), default=0)
        return compact, unique, frozenset(prefixes - {""}), longest

    def _names(self, text: str, view: View) -> Iterator[Found]:
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(view.text)]
        taken: set[int] = set()
        for n in (4, 3, 2):
            for i in range(len(words) - n + 1):
                if taken & set(range(i, i + n)):
                    continue
                run = words[i : i + n]
                gaps = [view.text[x[1] : y[0]] for x, y in itertools.pairwise(run)]
                if any(g.strip(" ,\t\n") or len(g) > 3 for g in gaps):
                    continue
                key = " ".join(w for _, _, w in run)
                written = self.names.get(key) if "," not in "".join(gaps) else None
                written = written or self.reversed_names.get(key)
                if written is not None:
                    a, b = view.source(run[0][0], run[-1][1])
                    taken |= set(range(i, i + n))
                    yield Found(Span(a, b, PERSON, 0.6, FORM), written)
        for i, (a, b, w) in enumerate(words):
            if i in taken or w not in self.surnames:
                continue
            start, end = view.source(a, b)
            if text[start].isupper():  # a capitalised surname, alone
                yield Found(Span(start, end, PERSON, 0.6, FORM), text[start:end])

    def _phones(self, text: str) -> Iterator[Found]:
        if not self.phones:
            return
        for m in _PHONE_RUN.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            for i in range(max(len(digits) - PHONE_TAIL + 1, 1)):
                written = self.phones.get(digits[i : i + PHONE_TAIL])
                if written is not None and len(digits) >= 7:
                    yield Found(Span(m.start(), m.end(), PHONE, 1.0, FORM), written)
                    break

    def _numbers(self, text: str) -> Iterator[Found]:
        if not self.numbers:
            return
        lengths = sorted({len(k) for k in self.numbers}, reverse=True)
        for m in _NUMBER_RUN.finditer(text):
            at = [m.start() + i for i, c in enumerate(m.group()) if c.isalnum()]
            compact = "".join(text[i].upper() if text[i].isascii() else "?" for i in at)
            i = 0
            while i < len(compact):
                hit = next(
                    (
                        n
                        for n in lengths
                        if i + n <= len(compact) and compact[i : i + n] in self.numbers
                    ),
                    0,
                )
                if hit:
                    kind, written = self.numbers[compact[i : i + hit]]
                    yield Found(Span(at[i], at[i + hit - 1] + 1, kind, 1.0, FORM), written)
                    i += hit
                else:
                    i += 1

    def _base64(self, text: str) -> Iterator[Found]:
        for m in _BASE64_RUN.finditer(text):
            decoded = unbase64_text(m.group())
            if decoded is None:
                continue
            for e in _EMAIL_SHAPE.finditer(unicodedata.normalize("NFKC", decoded).casefold()):
                value = e.group().strip(".'")
                written = self.emails.get(value, value)  # any address in base64 is one
                yield Found(Span(m.start(), m.end(), EMAIL, 1.0, FORM), written, BASE64)
                break


_PLAIN_GAP = re.compile(r"[A-Za-z]+[ _.:#/-]{1,2}[A-Za-z0-9]+")


def _plain(written: str, joins: int, prefixed: bool) -> bool:
    """Whether `CompanyIds.find` and `variants` read an id written so: one ASCII run, or a
    prefix and the rest across one or two separators ('u 0000001', 'cus-3075e26a50')."""
    if not written.isascii():
        return False
    return joins == 0 or (joins == 1 and prefixed and bool(_PLAIN_GAP.fullmatch(written)))


# -- the forms red team 24 r3 wrote (F5, F7, F12) -------------------------------------------

_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.)"
_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+|\s*@\s*)"
_LOCAL = r"[\w%+'-]+"
_LABEL = r"[\w](?:[\w-]*[\w])?"
_OBFUSCATED = regex.compile(
    rf"(?<![\w.%+'-])(?<!{_DOT})(?P<local>{_LOCAL}(?:{_DOT}{_LOCAL})*+)(?P<at>{_AT})"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?P<tld>[a-z]{{2,6}}))(?![\w@-]|\.\w)"
)
_SPELLED = regex.compile(r"\s+dot\s+|[\[({<]\s*(?:dot|at)\s*[\])}>]")
TOP_LEVEL = frozenset(
    re.findall(r"\w+", "com org net edu gov mil int info biz name pro mobi app dev io co me tv")
    + re.findall(r"\w+", "ai eu email mail online site tech cloud xyz")
)


def deobfuscated(m: regex.Match[str]) -> str | None:
    """The address an `_OBFUSCATED` match spells, case-folded, or None where it is no
    spelled-out address: a plain one (the engine's), a top-level domain that is none, or a
    bare " at " before a plain domain with nothing spelled out ("sign up at github.com")."""
    tld, local = m.group("tld"), m.group("local")
    if tld not in TOP_LEVEL and not (len(tld) == 2 and tld.isascii()):
        return None
    spelled = _SPELLED.search(m.group())
    if not spelled and "@" in m.group("at"):
        return None  # a plain address
    if not spelled and not regex.search(r"[._]", local):
        return None
    if not regex.match(r"[\w-]*[^\W\d_]", m.group("domain")):
        return None  # a domain's first label has a letter ("at 10.30 dot com" is a time)
    parts = [regex.sub(_DOT, ".", m.group(k)) for k in ("local", "domain")]
    return f"{parts[0]}@{parts[1]}"


_NUMBER_WORDS = {
    w: str(d)
    for d, w in enumerate(re.findall(r"\w+", "zero one two three four five six seven eight nine"))
}
_SPOKEN_RUN = regex.compile(
    r"(?<![\w])(?:zero|one|two|three|four|five|six|seven|eight|nine|\d+)"
    r"(?:[\s,.-]{1,3}(?:zero|one|two|three|four|five|six|seven|eight|nine|\d+))+(?![\w])"
)


def spoken_digits(run: str) -> str | None:
    """The digits of a run of number words and digits ("zero six one two ..."), where one
    word at least is spelled out and seven digits or more are read; else None."""
    words = regex.findall(r"[a-z]+|\d+", run)
    if not any(w in _NUMBER_WORDS for w in words):
        return None
    digits = "".join(_NUMBER_WORDS.get(w, w) for w in words)
    return digits if len(digits) >= 7 else None


def unhex_text(run: str) -> str | None:
    """A hex run as printable UTF-8 text (six characters or more), else None."""
    try:
        text = bytes.fromhex(run).decode("utf-8")
    except ValueError:
        return None
    return text if len(text) >= 6 and text.isprintable() else None


_ID_TOKEN = re.compile(r"[A-Za-z0-9]+")
_ID_GAP = re.compile(r"[\s_.:#/\-\u00ad\u200b\u200c\u200d\u2060\ufeff]{1,3}")


def id_tokens(text: str) -> list[tuple[int, int, str]]:
    """The runs of ASCII letters and digits of `text` read in NFKC (a full-width letter or
    digit as its ASCII one), each (start, end) in `text` and the run as read."""
    out: list[tuple[int, int, str]] = []
    start, word = -1, ""
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        if folded and _ID_TOKEN.fullmatch(folded) and folded.isascii():
            if start < 0:
                start = i
            word += folded
            continue
        if start >= 0:
            out.append((start, i, word))
        start, word = -1, ""
    if start >= 0:
        out.append((start, len(text), word))
    return out


def gap_between(text: str, left: tuple[int, int, str], right: tuple[int, int, str]) -> str:
    """What stands between two runs, in NFKC (a full-width low line is one)."""
    return unicodedata.normalize("NFKC", text[left[1] : right[0]])


def unbase64_text(run: str) -> str | None:
    """A base64 (standard or URL-safe) run as printable UTF-8 text, else None."""
    body = run.rstrip("=").replace("-", "+").replace("_", "/")
    if len(body) % 4 == 1:
        return None
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        text = data.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text if len(text) >= 6 and text.isprintable() else None


def rebase64(run: str, old: str, new: str) -> str:
    """`run` (base64 of a text) re-encoded with `old` replaced by `new` (any case)."""
    decoded = unbase64_text(run) or ""
    swapped = re.sub(re.escape(old), new.replace("\\", r"\\"), decoded, flags=re.IGNORECASE)
    url_safe = "-" in run or "_" in run
    encoded = base64.b64encode(swapped.encode("utf-8")).decode("ascii")
    if url_safe:
        encoded = encoded.replace("+", "-").replace("/", "_")
    return encoded if run.endswith("=") else encoded.rstrip("=")


def merge(spans: list[Span], found: Iterable[Found]) -> tuple[list[Span], dict[Span, Found]]:
    """`spans` with each form found added: a form that covers spans whole replaces them (the
    engine took "Anna" of "Anna\\u00adKowalska"), one that overlaps a span in part is
    left out."""
    out = list(spans)
    extra: dict[Span, Found] = {}
    for f in sorted(found, key=lambda f: (f.span.start, -f.span.end)):
        s = f.span
        inside = [t for t in out if s.start <= t.start and t.end <= s.end]
        partial = [t for t in out if t.start < s.end and s.start < t.end and t not in inside]
        if partial or (inside and all(t.start == s.start and t.end == s.end for t in inside)):
            continue
        out = [t for t in out if t not in inside]
        out.append(s)
        extra[s] = f
    return sorted(out), extra


# -- kept columns --------------------------------------------------------------------------


def leaf_strings(value: object) -> Iterator[str]:
    """The strings of a cell: itself, or every key and leaf of a nested object or list."""
    if value is None:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaf_strings(k)
            yield from leaf_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from leaf_strings(v)
    elif isinstance(value, str):
        if value.strip():
            yield value
    elif not isinstance(value, bool):
        yield str(value)


def kept_findings(
    values: Sequence[object],
    text_engine: TextEngine,
    entities: Collection[str],
    originals: Collection[tuple[str, str]],
    is_known: Iterable[tuple[str, object]] = (),
) -> Counter[str]:
    """Per kind, how many distinct strings of a kept column are personal data: what the
    engine reads (`entities`), an original of the corpus (kind, `surrogates.fold`ed; a
    phone on its last nine digits, a name as its words), or what `is_known` says (a kind,
    and a function of a string: whether the export holds it)."""
    from anonymize.surrogates import fold

    strings = sorted({s for v in values for s in leaf_strings(v)})
    phones = {phone_key(v) for k, v in originals if k == PHONE and len(v) >= 7}
    names = {v for k, v in originals if k == PERSON}
    checks = list(is_known)
    other = {k for k, _ in originals} - {PERSON, PHONE}
    kinds: Counter[str] = Counter()
    for text, spans in zip(strings, text_engine.analyze(strings, entities), strict=True):
        got = {s.entity for s in spans}
        words = " ".join(w.casefold() for w in _WORD.findall(text))
        digits = re.sub(r"\D", "", text)
        if words in names:
            got.add(PERSON)
        if len(digits) >= 7 and phone_key(digits) in phones:
            got.add(PHONE)
        got |= {k for k in other if (k, fold(k, text)) in originals}
        for kind, known in checks:
            if callable(known) and known(text):
                got.add(kind)
        kinds.update(got)
    return kinds
