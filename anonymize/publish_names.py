"""Names as publishing replaces them: whole, in the order and form they are written.

The text engine sometimes takes only part of a name ("Karl Hale" -> "Hale", "Per Olof
Åkesson" -> "Olof Åkesson", "田中 由紀" -> "田中") or none of a name it does not know ("Jan
de Vries", "ANNA KOWALSKA"). Publishing then would print the rest of the real name beside
its surrogate, or the whole name. Here:

- `extend_names` grows each name span over the words beside it that belong to the name:
  a given name or surname some list holds (or a word of a full name found in the corpus),
  a particle between them (de, van, bin), an initial ("M. Vandenbergh", "Michelle V."),
  "Surname, Given" ("O'Neil, Shaun"), and a short word of a script without case beside a
  name of that script ("田中 由紀");
  and, red team 24c: a Han name found in part grown over the Han characters after it, up to
  four ("欧阳娜娜", "田中由紀"); an Arabic name over bint/ibn and an al- family name after it
  ("فاطمة بنت خالد الحربي"); a lower-case name over a lower-case hyphenated or listed
  surname ("dorian fenwick-hale"); "de los", "Ó", "Ní" between its words;
- `unsure_full_names` finds a full name no span covers, capitalised or in upper case, with
  a listed given name or surname, a particle between capitalised words ("Siobhán Ó
  Súilleabháin") or a listed given name beside a word no language lists ("Hope
  Summerfield"); a field label's words ("Caller: hope summerfield"); a word of a script
  without capitals after a word that introduces a name ("저는 김서연입니다"): the text is
  held back, not published;
- `layout` reads how a name is written (order, comma, initials), so that one person gets
  one surrogate whatever the form, written back in the original's form.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import regex

from anonymize.surrogates import fold_name, script_of
from dsar.text import Span
from dsar.text.detectors import PERSON
from dsar.text.lexicon import (
    STOP_WORDS,
    WORD_NAMES,
    is_english_word,
    is_name_word,
    name_lexicon,
)

UNSURE_NAME = "DECLINED_NAME"
PARTICLES = frozenset(
    [
        "de",
        "da",
        "das",
        "do",
        "dos",
        "di",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "vom",
        "zu",
        "ter",
        "ten",
        "le",
        "la",
        "du",
        "des",
        "bin",
        "ibn",
        "bint",
        "al",
        "el",
        "ben",
        "af",
        "av",
        "los",
        "las",
        "ó",
        "ní",
        "nic",
        "uí",
        "mhic",
        "ap",
        "abu",
        "بن",
        "بنت",
        "ابن",
        "أبو",
        "ابو",
        "بو",
    ]
)
# particles written with a capital inside a name ("Siobhán Ó Súilleabháin", "Nic Aodha")
_CASED_PARTICLES = frozenset(["ó", "ní", "nic", "uí", "mhic"])
_TOKEN = regex.compile(r"\p{Lu}\.|[\p{L}\p{M}](?:[\p{L}\p{M}]|['\u2019-](?!s\b)(?=\p{L}))*")
_SPACED_NAME_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL"})
_GAP = regex.compile(r"[ \t\u00a0]{1,3}|,[ \t\u00a0]{1,2}")
_SURNAME_SHAPE = regex.compile(r"(?:O['\u2019]|Mc|Mac|Fitz)\p{Lu}\p{L}+")


@dataclass(frozen=True)
class _Tok:
    start: int
    end: int
    text: str

    @property
    def initial(self) -> bool:
        return len(self.text) == 2 and self.text.endswith(".")

    @property
    def cased(self) -> bool:
        """Written with a capital (Title or UPPER)."""
        return self.text[:1].isupper()

    @property
    def caseless(self) -> bool:
        """A word of a script without case (Han, Arabic, ...)."""
        ch = self.text[:1]
        return ch.isalpha() and not ch.isupper() and not ch.islower()

    @property
    def spaced_caseless(self) -> bool:
        """A word of Han, kana or Hangul: such a word beside a name of them is its other
        part ("田中 由紀"); Arabic or Hebrew words beside a name are not."""
        return self.caseless and script_of(self.text) in _SPACED_NAME_SCRIPTS

    @property
    def particle(self) -> bool:
        return self.text.casefold() in PARTICLES


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def _gap(text: str, a: int, b: int) -> str | None:
    """The characters between two neighbouring tokens, when they may join a name (spaces on
    one line, or a comma and a space); else None."""
    between = text[a:b]
    if between and _GAP.fullmatch(between):
        return between
    return None


def _listed(word: str) -> bool:
    w = word if not word.isupper() else word.capitalize()
    return is_name_word(w) or is_name_word(word)


def given_listed(word: str) -> bool:
    """True when some list holds `word` as a given name."""
    return _given(word)


def _given(word: str) -> bool:
    firsts = name_lexicon()[0]
    return word in firsts or word.capitalize() in firsts


def _stop(word: str) -> bool:
    return word.rstrip(".").casefold() in STOP_WORDS


def _belongs(tok: _Tok, parts: Collection[str]) -> bool:
    """A word beside a name that is part of it: an initial, a listed name or a word of a
    corpus name, a surname's shape (O'Neil, McArdle); never a greeting, title or label."""
    if tok.initial:
        return True
    if not tok.cased or _stop(tok.text):
        return False
    return (
        _listed(tok.text)
        or fold_name(tok.text) in parts
        or bool(_SURNAME_SHAPE.fullmatch(tok.text))
    )


def corpus_parts(names: Iterable[str]) -> frozenset[str]:
    """The words (folded, two letters or more, no particle) of the corpus's full names."""
    return frozenset(
        fold_name(w)
        for n in names
        for w in n.split()
        if len(w) >= 2 and w.casefold() not in PARTICLES and w.casefold() not in STOP_WORDS
    )


def extend_names(text: str, spans: Sequence[Span], parts: Collection[str] = ()) -> list[Span]:
    """`spans` with each name span grown over the words beside it that belong to the name
    (see the module); spans of other kinds are never crossed."""
    toks = _tokens(text)
    others = [s for s in spans if s.entity != PERSON]
    out: list[Span] = []
    for s in sorted(spans):
        if s.entity != PERSON:
            continue
        inside = [i for i, t in enumerate(toks) if t.start < s.end and s.start < t.end]
        if not inside:
            out.append(s)
            continue
        lo, hi = inside[0], inside[-1]
        caseless = all(toks[i].spaced_caseless for i in inside)
        script = script_of(toks[lo].text) if all(toks[i].caseless for i in inside) else None
        changed = True
        while changed:
            changed = False
            for side in (-1, 1):
                got = _reach(text, toks, lo, hi, side, parts, others, caseless, script)
                if got is not None:
                    lo, hi, changed = (got, hi, True) if side < 0 else (lo, got, True)
        start = toks[lo].start if lo < inside[0] else s.start
        end = toks[hi].end if hi > inside[-1] else s.end
        end = _han_rest(text, start, end)
        out.append(Span(start, end, PERSON, s.score, s.source))
    merged: list[Span] = []
    for s in sorted(out):  # two names grown into each other are one
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, s.end), PERSON, last.score, last.source)
        else:
            merged.append(s)
    return sorted([*merged, *others])


def _reach(
    text: str,
    toks: list[_Tok],
    lo: int,
    hi: int,
    side: int,
    parts: Collection[str],
    others: Sequence[Span],
    caseless: bool,
    script: str | None = None,
) -> int | None:
    """The index of the token the name at toks[lo..hi] grows to on `side`, or None."""
    edge = lo if side < 0 else hi
    j = edge + side
    # particles between: "Jan de Vries", "Mohammed bin Salman", "Siobhán Ó Súilleabháin"
    while (
        0 <= j < len(toks)
        and toks[j].particle
        and (not toks[j].cased or toks[j].text.casefold() in _CASED_PARTICLES)
    ):
        j += side
    if not 0 <= j < len(toks):
        return None
    if any(o.start < toks[j].end and toks[j].start < o.end for o in others):
        return None
    steps = range(j, edge) if side < 0 else range(edge, j)
    gaps = [_gap(text, toks[k].end, toks[k + 1].start) for k in steps]
    if any(g is None for g in gaps):
        return None
    comma = any("," in g for g in gaps if g is not None)
    tok, name_tok = toks[j], toks[edge]
    if comma:  # "O'Neil, Shaun", "Vandenbergh, Michelle", "Misicher, E."
        if j != edge + side or lo != hi:  # one word each side, else a list of names
            return None
        if side < 0:
            ok = not tok.initial and _given(name_tok.text) and not _given(tok.text)
            return j if ok and _belongs(tok, parts) else None
        if tok.initial:
            return j
        ok = tok.cased and not _stop(tok.text) and _given(tok.text)
        return j if ok and not _given(name_tok.text) else None
    if caseless:
        return j if tok.spaced_caseless and len(tok.text) <= 4 else None
    if script == "ARABIC":  # "فاطمة بنت خالد الحربي": after bint/ibn, and an al- family name
        if not tok.caseless or script_of(tok.text) != script:
            return None
        after_particle = j != edge + side
        family = side > 0 and tok.text.startswith("ال") and len(tok.text) > 3
        return j if after_particle or family else None
    if tok.initial and side < 0 and j == edge - 1:
        return j  # "M. Vandenbergh"
    if tok.initial and side > 0:
        return j if j == edge + 1 else None  # "Michelle V."
    name_tok = toks[edge]
    if not name_tok.cased and not name_tok.caseless and not tok.cased:
        return j if _belongs_lower(tok, parts, side) else None  # "dorian fenwick-hale"
    return j if _belongs(tok, parts) else None


def _everyday(word: str) -> bool:
    folded = word.casefold()
    return folded in WORD_NAMES or folded in STOP_WORDS or is_english_word(folded)


def _belongs_lower(tok: _Tok, parts: Collection[str], side: int) -> bool:
    """A lower-case word beside a lower-case name that is part of it (red team 24c F2): a
    word of a corpus name, a hyphenated surname ("fenwick-hale"), a listed surname after
    it or a listed given name before it; never an everyday word."""
    word = tok.text
    pieces = [p for p in regex.split(r"['\u2019-]", word) if p]
    if tok.initial or len(word) < 3 or all(_everyday(p) for p in pieces):
        return False
    if fold_name(word) in parts:
        return True
    if "-" in word and all(len(p) >= 2 for p in pieces):
        return True
    if _everyday(word):
        return False
    return surname_listed(word) if side > 0 else _given(word)


# characters that end a Han name written without spaces: particles, verbs, titles
_HAN_STOPS = frozenset(
    "的是在和与了吗呢吧啊请给也都很你我他她们说先女小老经同学来去到对把被让叫向从跟这那有没不会要能可以为就还再已刚才一个号今昨明天"
)


def _han_rest(text: str, start: int, end: int) -> int:
    """The end of a Han name found in a run without spaces, grown over the Han characters
    after it up to four in all ("欧阳娜" in "欧阳娜娜的同事", "田中" in "田中由紀です"):
    a name's given name is not left beside its surrogate (red team 24c F1)."""
    name = text[start:end]
    if not name or any(script_of(c) != "CJK" for c in name):
        return end
    while end < len(text) and end - start < 4 and text[end] not in _HAN_STOPS:
        if script_of(text[end]) != "CJK" or not text[end].isalpha():
            break
        end += 1
    return end


def unsure_full_names(
    text: str, spans: Sequence[Span], allowed: Iterable[str] = (), parts: Collection[str] = ()
) -> list[Span]:
    """Full names no span touches, capitalised or in upper case ("Jan de Vries", "ANNA
    KOWALSKA"): two name words or more (particles between), with a listed given name or
    surname that is no everyday word, or a listed given name first and a particle or another
    listed name after it."""
    allow = {" ".join(a.split()).casefold() for a in allowed}
    toks = _tokens(text)
    runs: list[list[_Tok]] = []
    run: list[_Tok] = []
    for t in toks:
        usable = t.cased and not t.initial
        if run and (usable or t.particle):
            between = text[run[-1].end : t.start]
            if regex.fullmatch(r"[ \t\u00a0]{1,3}", between):
                run.append(t)
                continue
        if run:
            runs.append(run)
        run = [t] if usable else []
    if run:
        runs.append(run)
    out = []
    for r in runs:
        while r and (_stop(r[0].text) or r[0].particle):
            r = r[1:]
        while r and (_stop(r[-1].text) or r[-1].particle):
            r = r[:-1]
        words = [t for t in r if not t.particle or t.cased]
        if len(words) < 2:
            continue
        start, end = r[0].start, r[-1].end
        if any(s.start < end and start < s.end for s in spans):
            continue
        if " ".join(text[start:end].split()).casefold() in allow:
            continue
        plain = [w.text for w in words]
        rare_listed = any(
            (_listed(w) and fold_name(w) not in WORD_NAMES) or fold_name(w) in parts for w in plain
        )
        particle = any(t.particle for t in r)
        first_given = _given(plain[0]) and (
            particle or any(_listed(w) or not _everyday(w) for w in plain[1:])
        )  # "Hope Summerfield": a listed given name beside a word no language lists
        if rare_listed or first_given or particle:  # "Siobhán Ó Súilleabháin"
            out.append(Span(start, end, UNSURE_NAME, 0.0, "full name"))
    return out + _labelled(text, spans) + _cued(text, spans)


# a field label whose value is a person ("Caller: hope summerfield")
_LABEL = regex.compile(
    r"(?im)^[ \t>]*(?:caller|name|full name|contact|contact person|customer|client|requester"
    r"|requested by|reported by|raised by|submitted by|signed|signed by|sender|from|attn"
    r"|attention|agent|assignee|user|username|kontakt|nom|nombre|naam|ansprechpartner)"
    r"[ \t]*:[ \t]*([^\n,;(|<]+)"
)
_LETTERS = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'\u2019.-]*")


def _labelled(text: str, spans: Sequence[Span]) -> list[Span]:
    """A field label naming a person ("Caller:", "Name:") followed by words no name span
    covers, one of them no everyday word: the engine could not judge them (red team 24c F6)."""
    out = []
    for m in _LABEL.finditer(text):
        words = list(_LETTERS.finditer(m.group(1)))[:3]
        base = m.start(1)
        loose = [
            w
            for w in words
            if not overlaps_any(base + w.start(), base + w.end(), spans)
            and not _everyday(w.group().strip(".'-"))
            and len(w.group()) > 1
        ]
        if loose:
            out.append(
                Span(base + loose[0].start(), base + loose[-1].end(), UNSURE_NAME, 0.0, "label")
            )
    return out


# words that introduce a name in scripts without capitals ("저는", "मेरा नाम", "ผมชื่อ", "أنا")
_CUES = (
    "저는",
    "제 이름은",
    "이름은",
    "나는",
    "नाम",
    "मैं",
    "ชื่อ",
    "ผม",
    "ดิฉัน",
    "ฉัน",
    "أنا",
    "انا",
    "اسمي",
    "שמי",
    "אני",
    "我是",
    "我叫",
    "名叫",
    "私は",
    "わたしは",
)
_CUED = regex.compile(
    "(?:" + "|".join(regex.escape(c) for c in _CUES) + r")[\s,:،]*([\p{L}\p{M}]+)"
)
_UNCASED_NAME_SCRIPTS = frozenset(
    {"HANGUL", "DEVANAGARI", "THAI", "ARABIC", "HEBREW", "CJK", "HIRAGANA", "KATAKANA"}
)


def _cued(text: str, spans: Sequence[Span]) -> list[Span]:
    """A word of a script without capitals right after a word that introduces a name ("저는
    김서연입니다", "ผมชื่อ สมชาย ใจดี"), no name span on it: a name the engine could not
    judge (red team 24c F1)."""
    out = []
    for m in _CUED.finditer(text):
        a, b = m.start(1), m.end(1)
        if script_of(m.group(1)) not in _UNCASED_NAME_SCRIPTS:
            continue
        if not any(s.entity == PERSON and s.start < b and a < s.end for s in spans):
            out.append(Span(a, b, UNSURE_NAME, 0.0, "cue"))
    return out


def overlaps_any(a: int, b: int, spans: Sequence[Span]) -> bool:
    return any(s.start < b and a < s.end for s in spans)


@dataclass(frozen=True)
class Layout:
    """How a name is written: its words in given-first order (`words`, no initials), and
    for each written token, its role: a word (its index in `words`) or an initial of the
    given name (-1) or of the surname (-2); `comma`: written "Surname, Given"."""

    words: tuple[str, ...]
    tokens: tuple[tuple[int, int, int], ...]  # (start, end, role) in the written value
    comma: bool


def layout(value: str) -> Layout:
    """Read a written name: "Vandenbergh, Michelle" -> words (Michelle, Vandenbergh),
    comma; "M. Vandenbergh" -> words (Vandenbergh,), an initial of the given name first."""
    toks = _tokens(value)
    comma_at = value.find(",")
    comma = comma_at >= 0 and any(t.start > comma_at for t in toks)
    before = [t for t in toks if not comma or t.start < comma_at]
    after = [t for t in toks if comma and t.start > comma_at]
    ordered = (after + before) if comma else before
    words = tuple(t.text for t in ordered if not t.initial)
    roles = []
    index = {id(t): i for i, t in enumerate(t for t in ordered if not t.initial)}
    for t in toks:
        if t.initial:
            # an initial before the words is the given name's; after them, the surname's
            first_word = next((w for w in ordered if not w.initial), None)
            given_side = first_word is None or ordered.index(t) < ordered.index(first_word)
            roles.append((t.start, t.end, -1 if given_side else -2))
        else:
            roles.append((t.start, t.end, index[id(t)]))
    return Layout(words, tuple(roles), comma)


def surname_listed(word: str) -> bool:
    """True when some list holds `word` as a surname."""
    lasts = name_lexicon()[1]
    return word in lasts or word.capitalize() in lasts
