"""What publishing replaces in a text, what makes it hold a text back, and what it lists.

Detection is the text engine's (`dsar.text.TextEngine`), run with the pattern entities'
thresholds lowered to `FLOOR`: a span the engine declines by a close margin (scored at least
`FLOOR` but under its threshold) is not replaced but makes the text *unsure*. Around it,
publishing adds only what a corpus shows and one text does not:

- a name found anywhere in a thread is a name in every text of it (`thread_mentions`): the
  full name in any case, its given name or surname alone (capitalised where the word is
  also an everyday word: Will, Grant);
- the company's own identifiers (`CompanyIds`): the values of the catalog's identity and
  primary-key columns, and words of their shape ('u0000042', 'T-1234');
- tokens in URLs (`url_tokens`): query values and long path segments that mix letters and
  digits (reset links, signed downloads, invitations);
- a name-shaped run the engine did not take for a name although a word of it is a given
  name or surname of some locale's list: the text is unsure (`declined_names`);
- capitalised runs the engine left alone (`terms`): a company, a small place, a job title,
  listed for a reviewer when fewer than N texts of the corpus hold them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import regex

from dsar.text import EntityRule, Span, TextEngine, TextPolicy
from dsar.text.detectors import PATTERN_ENTITIES, PERSON
from dsar.text.lexicon import (
    STOP_WORDS,
    WORD_NAMES,
    is_english_word,
    is_name_word,
    name_lexicon,
)
from dsar.text.names import candidates

FLOOR = 0.35
"""Pattern spans scored from here up to their threshold make a text unsure."""
URL_TOKEN = "URL_TOKEN"  # noqa: S105 - an entity name
COMPANY_ID = "COMPANY_ID"
DECLINED_NAME = "DECLINED_NAME"
THREAD = "thread"


def publishing_engine(
    allow: Iterable[str] = (), known_people: Iterable[str] = (), **options: object
) -> TextEngine:
    """The text engine publishing uses: its default rules, with the pattern entities'
    thresholds at `FLOOR` so that a close decline is seen (and then held back, not
    replaced)."""
    rules = {e: EntityRule(threshold=FLOOR) for e in (*PATTERN_ENTITIES, "GOVERNMENT_ID")}
    policy = TextPolicy(rules=rules, allow=frozenset(allow))
    return TextEngine(policy=policy, known_people=known_people, **options)  # type: ignore[arg-type]


def split_sure(spans: Sequence[Span], threshold: float = 0.5) -> tuple[list[Span], list[Span]]:
    """(spans to replace, spans declined by a close margin)."""
    sure = [s for s in spans if s.entity == PERSON or s.score >= threshold]
    unsure = [s for s in spans if s.entity != PERSON and s.score < threshold]
    return sure, unsure


def overlaps(span: tuple[int, int], spans: Iterable[Span]) -> bool:
    a, b = span
    return any(s.start < b and a < s.end for s in spans)


def add_free(spans: list[Span], extra: Iterable[Span]) -> list[Span]:
    """`spans` with each of `extra` that overlaps none of them (nor an earlier extra; the
    longest first where two start together)."""
    out = list(spans)
    for s in sorted(extra, key=lambda s: (s.start, -s.end)):
        if not overlaps((s.start, s.end), out):
            out.append(s)
    return sorted(out)


# -- names across a thread ------------------------------------------------------------------

_WORD = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'\u2019-]*")


def name_tokens(value: str) -> tuple[str, ...]:
    """The words of a name as written ("Maria  Keller," -> ('Maria', 'Keller'))."""
    return tuple(_WORD.findall(value))


def full_names(texts: Sequence[str | None], found: Sequence[list[Span]]) -> set[str]:
    """The full names (two words or more, case-folded) found in `texts`."""
    out = set()
    for text, spans in zip(texts, found, strict=True):
        for s in spans:
            if s.entity == PERSON and text is not None:
                tokens = name_tokens(text[s.start : s.end])
                if len(tokens) > 1:
                    out.add(" ".join(t.casefold() for t in tokens))
    return out


def given_names(texts: Sequence[str | None], found: Sequence[list[Span]]) -> set[str]:
    """The given names (case-folded) that begin a name found in `texts`, where the name
    lists know them and they are no everyday word (Will, Hope): matched capitalised in every
    text of the corpus."""
    firsts = name_lexicon()[0]
    out = set()
    for text, spans in zip(texts, found, strict=True):
        for s in spans:
            if s.entity == PERSON and text is not None:
                tokens = name_tokens(text[s.start : s.end])
                word = tokens[0] if tokens else ""
                folded = word.casefold()
                if (
                    len(word) >= 3
                    and word.capitalize() in firsts
                    and folded not in WORD_NAMES
                    and folded not in STOP_WORDS
                ):
                    out.add(folded)
    return out


def thread_mentions(
    texts: Sequence[str | None],
    found: Sequence[list[Span]],
    corpus_names: Collection[str] = (),
    corpus_given: Collection[str] = (),
) -> list[list[Span]]:
    """Every mention, in every text of one thread, of a name found in any of them: the full
    names of the whole corpus (`corpus_names`, case-folded) in any case, its given names
    (`corpus_given`) capitalised, and the words of this thread's names alone: as written
    (capitalised), or in any case for a given name or a surname (4 letters or more) that is
    no everyday word; the surnames of the corpus's full names in any case in every text
    (red team 24c F2: "Sharon Flynn" ... "also flynn agreed"); and inside a file name or a
    handle ("invoice_marta_oyelaran.pdf", "@dorian"), every such word and the corpus's given
    names in any case, a run of them joined by '.', '_' or '-' one span."""
    firsts = name_lexicon()[0]
    cased: set[str] = set(corpus_given)  # words matched with their capital
    lower: set[str] = set()  # matched in any case
    surnames = surname_parts(corpus_names)  # in lower case (capitalised: publish_forms)
    for text, spans in zip(texts, found, strict=True):
        for s in spans:
            if s.entity != PERSON or text is None:
                continue
            for t in name_tokens(text[s.start : s.end]):
                folded = t.casefold()
                if len(t) < 3 or folded in STOP_WORDS:
                    continue
                cased.add(folded)
                if t.capitalize() in firsts and folded not in WORD_NAMES:
                    lower.add(folded)
                lower.update(p for p in _pieces(folded) if _rare_word(p))
    compound = lower | surnames | {g.casefold() for g in corpus_given} | cased
    out = []
    for text, spans in zip(texts, found, strict=True):
        if text is None:
            out.append(list(spans))
            continue
        words = [(m.start(), m.end(), m.group().casefold()) for m in _WORD.finditer(text)]
        extra = []
        for n in (4, 3, 2):
            for i in range(len(words) - n + 1):
                run = words[i : i + n]
                if " ".join(w for _, _, w in run) in corpus_names and all(
                    not text[a[1] : b[0]].strip() for a, b in itertools.pairwise(run)
                ):
                    extra.append(Span(run[0][0], run[-1][1], PERSON, 0.6, THREAD))
        for a, b, w in words:
            if (
                w in lower
                or (w in cased and text[a].isupper())
                or (w in surnames and text[a].islower())
            ):
                extra.append(Span(a, b, PERSON, 0.6, THREAD))
        extra += _in_compounds(text, compound)
        out.append(add_free(list(spans), extra))
    return out


def _pieces(word: str) -> list[str]:
    """A word and, where hyphenated, its parts ("oyelaran-brisk", "oyelaran", "brisk")."""
    parts = [p for p in word.split("-") if p]
    return [word, *parts] if len(parts) > 1 else [word]


def _rare_word(word: str) -> bool:
    """A name word matched in any case: 4 letters or more, no everyday word."""
    return (
        len(word) >= 4
        and word not in WORD_NAMES
        and word not in STOP_WORDS
        and not is_english_word(word)
    )


def surname_parts(corpus_names: Collection[str]) -> set[str]:
    """The surnames (last words, and their hyphenated parts) of the corpus's full names
    (case-folded) that are no everyday word: matched in lower case in every text (a
    capitalised surname alone is `publish_forms`'s)."""
    out: set[str] = set()
    for name in corpus_names:
        words = name.split()
        if len(words) > 1:
            out.update(p for p in _pieces(words[-1]) if _rare_word(p))
    return out


_COMPOUND = regex.compile(r"@?[\p{L}\p{M}\d]+(?:[._-][\p{L}\p{M}\d]+)*")
_SUB = regex.compile(r"[\p{L}\p{M}]+")


def _in_compounds(text: str, names: Collection[str]) -> list[Span]:
    """Name words inside a file name or a handle ("screenshot-dorian-fenwick.png",
    "@marta.oyelaran"), in any case: a run of them joined by one '.', '_' or '-' is one
    span."""
    out: list[Span] = []
    for m in _COMPOUND.finditer(text):
        token = m.group()
        subs = list(_SUB.finditer(token))
        if not token.startswith("@") and len(subs) < 2:
            continue
        hits = [
            (m.start() + s.start(), m.start() + s.end())
            for s in subs
            if len(s.group()) >= 3 and s.group().casefold() in names
        ]
        for a, b in hits:
            if out and out[-1].source == "compound" and a - out[-1].end == 1:
                last = out[-1]
                out[-1] = Span(last.start, b, PERSON, 0.6, "compound")
            else:
                out.append(Span(a, b, PERSON, 0.6, "compound"))
    return out


# -- the company's own identifiers ---------------------------------------------------------

_ID_TOKEN = re.compile(r"(?<![\w@.-])[A-Za-z0-9][A-Za-z0-9_.:-]*[A-Za-z0-9](?![\w@-])")
_ID_SHAPE = re.compile(r"^([A-Za-z]{1,6}[_-]?)(\d+)$")


@dataclass(frozen=True)
class CompanyIds:
    """The company's identifiers: exact values, and the shapes most of a column's values
    share ('u' and 7 digits; 'T-' and digits)."""

    values: frozenset[str]
    shapes: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def of(cls, columns: Iterable[Sequence[str]]) -> CompanyIds:
        """From each identifier column's distinct values (as text)."""
        values: set[str] = set()
        shapes: list[re.Pattern[str]] = []
        for column in columns:
            usable = [v for v in column if _usable(v)]
            values.update(usable)
            shape = _shape_of(usable)
            if shape is not None:
                shapes.append(shape)
        return cls(frozenset(values), tuple(shapes))

    def find(self, text: str) -> list[Span]:
        out = []
        for m in _ID_TOKEN.finditer(text):
            token = m.group()
            if token in self.values or any(s.fullmatch(token) for s in self.shapes):
                out.append(Span(m.start(), m.end(), COMPANY_ID, 1.0, "catalog"))
        return out

    @cached_property
    def _index(self) -> tuple[dict[str, str], dict[str, str], frozenset[str]]:
        """(value without separators, case-folded -> value; distinctive unique part ->
        value; prefixes, case-folded)."""
        compact: dict[str, str] = {}
        unique: dict[str, str] = {}
        prefixes: set[str] = set()
        for v in sorted(self.values):
            compact.setdefault(_compact(v), v)
            head, tail = id_parts(v)
            if head:
                prefixes.add(_compact(head))
            if tail and distinctive(tail):
                unique.setdefault(tail.casefold(), v)
        for prefix, _ in self._shape_prefixes:
            if prefix:
                prefixes.add(_compact(prefix))
        return compact, unique, frozenset(prefixes)

    @cached_property
    def _shape_prefixes(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """Each shape with its literal prefix ('u', 'T-')."""
        out = []
        for shape in self.shapes:
            m = re.match(r"^((?:[A-Za-z_]|\\[^A-Za-z0-9])*)", shape.pattern)
            out.append((m.group(1).replace("\\", "") if m else "", shape))
        return tuple(out)

    def variants(self, text: str) -> list[tuple[Span, str, int]]:
        """The company's ids written otherwise (red team s13, F4): in another case, with a
        separator changed, added or left out ('u 0000001', 'u-0000001', 'cus-3075e26a50'),
        or the prefix dropped where the unique part is distinctive alone ('3075e26a50',
        'user id 0000001'). Each as (span, the id as the export writes it (or as its
        shape would), how many of its last characters the unique part is)."""
        compact, unique, prefixes = self._index
        tokens = [(m.start(), m.end(), m.group()) for m in _ALNUM.finditer(text)]
        out: list[tuple[Span, str, int]] = []
        i = 0
        while i < len(tokens):
            a, b, word = tokens[i]
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            folded = word.casefold()
            if (
                nxt is not None
                and folded in prefixes
                and _ID_GAP.fullmatch(text[b : nxt[0]])
                and (hit := self._value(folded + nxt[2].casefold(), compact))
            ):
                out.append((Span(a, nxt[1], COMPANY_ID, 1.0, "catalog"), hit, len(nxt[2])))
                i += 2
                continue
            if hit := self._value(folded, compact):
                out.append((Span(a, b, COMPANY_ID, 1.0, "catalog"), hit, len(id_parts(hit)[1])))
            elif folded in unique:
                out.append((Span(a, b, COMPANY_ID, 1.0, "catalog"), unique[folded], len(word)))
            i += 1
        return out

    def _value(self, folded: str, compact: dict[str, str]) -> str | None:
        """The id (or a shape's writing of it) that `folded` (no separators) is."""
        if folded in compact:
            return compact[folded]
        if not any(c.isdigit() for c in folded):
            return None
        for prefix, shape in self._shape_prefixes:
            head = _compact(prefix)
            if folded.startswith(head) and shape.fullmatch(prefix + folded[len(head) :]):
                return prefix + folded[len(head) :]
        return None


_ALNUM = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?![A-Za-z0-9])")
_ID_GAP = re.compile(r"[ _.:#/-]{1,2}")
_ID_PARTS = re.compile(r"^([A-Za-z]{1,8}[_.:-]?)([A-Za-z0-9]*\d[A-Za-z0-9]*)$")


def _compact(value: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", value).casefold()


def id_parts(value: str) -> tuple[str, str]:
    """(prefix with its separator, unique part) of an id ('cus_', '3075e26a50'); ('', value)
    where it has no letter prefix."""
    m = _ID_PARTS.match(value)
    return (m.group(1), m.group(2)) if m else ("", value)


def distinctive(unique: str) -> bool:
    """Whether an id's unique part names it alone: six characters or more, a digit among
    them (a six-digit number is matched alone as an exact id is)."""
    return len(unique) >= 6 and any(c.isdigit() for c in unique)


def _usable(value: str) -> bool:
    """An identifier worth looking for in text: not a short number (invoice 12 would match
    every 12), not a word."""
    if len(value) < 3 or (value.isdigit() and len(value) < 6):
        return False
    return any(ch.isdigit() for ch in value)


def _shape_of(values: Sequence[str]) -> re.Pattern[str] | None:
    """The shape 90% of the values share, as a regex: a letter prefix and digits."""
    if len(values) < 5:
        return None
    sample = values[:5000]
    shapes: dict[str, list[int]] = {}
    for v in sample:
        m = _ID_SHAPE.match(v)
        if m:
            shapes.setdefault(m.group(1), []).append(len(m.group(2)))
    for prefix, lengths in shapes.items():
        if len(lengths) >= 0.9 * len(sample) and (len(prefix) >= 2 or min(lengths) >= 4):
            return re.compile(rf"{re.escape(prefix)}\d{{{min(lengths)},{max(lengths)}}}")
    return None


# -- tokens in URLs -------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`)\]]+", re.IGNORECASE)
_QUERY_VALUE = re.compile(r"[?&;][^=&#\s]+=([^&#\s]+)")
_SEGMENT = re.compile(r"/([A-Za-z0-9_-]{16,})")
_FRAGMENT = re.compile(r"#([A-Za-z0-9_=-]{12,})")


def url_tokens(text: str) -> list[Span]:
    """Query values, long path segments mixing letters and digits, and long fragments in a
    URL: where a reset link, a signed download or an invitation keeps its secret."""
    out = []
    for url in _URL.finditer(text):
        value, base = url.group().rstrip(".,;:!?"), url.start()
        for pattern in (_QUERY_VALUE, _FRAGMENT):
            for m in pattern.finditer(value):
                if len(m.group(1)) >= 4:
                    out.append(Span(base + m.start(1), base + m.end(1), URL_TOKEN, 1.0, "url"))
        host_end = value.find("/", value.find("//") + 2)
        for m in _SEGMENT.finditer(value, max(host_end, 0)):
            segment = m.group(1)
            if any(ch.isdigit() for ch in segment) and any(ch.isalpha() for ch in segment):
                out.append(Span(base + m.start(1), base + m.end(1), URL_TOKEN, 1.0, "url"))
    return out


# -- what the engine left --------------------------------------------------------------------


def terms(text: str, spans: Sequence[Span], allowed: Iterable[str] = ()) -> list[tuple[int, int]]:
    """Capitalised runs no span covers (a company, a place, a title), allowed names left out."""
    allow = {" ".join(a.split()).casefold() for a in allowed}
    out = []
    for c in candidates(text):
        if overlaps((c.start, c.end), spans) or " ".join(c.words).casefold() in allow:
            continue
        if all(w.casefold() in STOP_WORDS for w in c.words):
            continue
        out.append((c.start, c.end))
    return out


def declined_names(text: str, spans: Sequence[Span], allowed: Iterable[str] = ()) -> list[Span]:
    """Name-shaped runs no span covers, a word of which some locale lists as a given name or
    surname: a name the engine may have missed."""
    allow = {" ".join(a.split()).casefold() for a in allowed}
    out = []
    for c in candidates(text):
        if overlaps((c.start, c.end), spans) or " ".join(c.words).casefold() in allow:
            continue
        if any(is_name_word(w) and w.casefold() not in WORD_NAMES for w in c.words):
            out.append(Span(c.start, c.end, DECLINED_NAME, 0.0, "candidate"))
    return out
