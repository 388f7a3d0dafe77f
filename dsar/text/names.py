"""People's names in free text: spaCy NER, the people the catalog knows, and a fallback.

The small English model misses names it has not seen (Irish, Vietnamese) or tags them as
organisations, and leaves a first name beside a tagged surname. Three sources are joined:

1. NER `PERSON` spans, with greetings the model swallows ("Call Trần Văn Hùng") cut off;
2. the full names the catalog holds (any case), found by exact lookup;
3. name-shaped words (capitalised, with particles such as "van der" or "Ní") that follow a
   person cue ("Hi", "Thanks,", "my colleague", "Mr."), precede a person verb ("called",
   "said"), sit beside an NER name, or pair a first name with a surname from Faker's name
   lists of many locales; ORG or GPE tags on such words are overruled.

Texts with no capitalised word beyond common sentence starters never reach the model.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import regex

from dsar.text.detectors import PERSON, Span

_UPPER_WORD = r"\p{Lu}[\p{Ll}\p{M}]*(?:['\u2019\-]\p{L}[\p{Ll}\p{M}]*)*\.?"
_PARTICLE = (
    r"(?:van|von|de|der|den|du|le|la|di|da|del|della|dos|das|ten|ter|bin|binti|ibn|al|el"
    r"|Ní|Nic|Ó|Ó|Ui|Uí|Mac|Mc|O'|St\.?)"
)
# one to four capitalised words, particles allowed between them
NAME_SHAPE = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}@._'-])(?:{_PARTICLE}\s+)?{_UPPER_WORD}"
    rf"(?:(?:\s+{_PARTICLE})*\s+{_UPPER_WORD}){{0,3}}(?![\p{{L}}\p{{N}}@])"
)
_WORD_SPLIT = regex.compile(r"\s+")
_CUE_BEFORE = regex.compile(
    r"(?:\b(?:hi|hello|hey|dear|thanks|thank you|thx|cheers|regards|best|sincerely|yours"
    r"|cc|bcc|from|by|to|with|for|and|or|ask|asked|tell|told|spoke to|talked to|call"
    r"|called|contact|ping|email|emailed|met|meet|colleague|coworker|co-worker|manager"
    r"|boss|wife|husband|partner|son|daughter|mother|father|friend|assistant|agent"
    r"|assigned to|assignee|owner|named|signed|mr|mrs|ms|miss|mx|dr|prof|sir|madam"
    r"|customer|client|user|admin|approved by|reported by|requested by|on behalf of"
    r"|attn|attention|name is|i am|i'm|this is)\s*[.,:;-]?\s*)$",
    regex.IGNORECASE,
)
_VERB_AFTER = regex.compile(
    r"^(?:'s\b|\s+(?:said|says|called|calls|wrote|writes|asked|asks|replied|mentioned"
    r"|confirmed|emailed|phoned|rang|reported|requested|approved|will|would|can|cannot"
    r"|can't|is|was|has|had|left|joined|needs|wants|set|changed|added|signed|logged"
    r"|tried|told|sent|and I|from)\b)",
    regex.IGNORECASE,
)
_TITLES = ("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Mx.", "Mr", "Mrs", "Ms", "Dr", "Prof", "Mx")
# capitalised words that start sentences, greet, or name things rather than people
COMMON_WORDS = frozenset(
    """
    a about after again all also am an and any are as at be because been before being
    best both but by can cannot could dear did do does done during each either else even
    every for from further had has have having he hello her here hers hey hi him his how
    however i if in into is it its just kind let like many may me might more most much
    must my no nor not now of off on once only or other our ours out over own please
    regards same she should since so some still such than thank thanks that the their
    theirs them then there these they this those through thx to too under until up us
    very was we were what when where which while who whom why will with would yes yet
    you your yours cheers sincerely ok okay sorry great good morning afternoon evening
    night today tomorrow yesterday team support all everyone folks guys everybody there
    sir madam customer client user admin agent billing sales account accounts invoice
    invoices order orders ticket tickets refund payment card bank iban phone email mail
    number call meeting note notes update status issue issues problem error bug login
    password reset urgent important fyi re fw fwd subject attached attachment see below
    above hope best wishes kind warm many note ps p.s monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september
    october november december mon tue wed thu fri sat sun jan feb mar apr jun jul aug
    sep sept oct nov dec company office hq headquarters street road avenue city country
    api app web server service services data export privacy request gdpr ccpa dsar eu uk
    us usa new old next last first second my our your their his her its via per new
    workspace project flow flows integration integrations webhook webhooks sync
    """.split()  # noqa: SIM905 - a word list reads better as text
)


@cache
def name_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """First names and surnames from Faker's name lists of many locales (about 30k)."""
    locales = """
        en_US en_GB en_IE ga_IE en_IN hi_IN de_DE de_AT fr_FR nl_NL nl_BE es_ES
        es_MX it_IT pl_PL pt_PT pt_BR vi_VN tr_TR sv_SE da_DK fi_FI no_NO cs_CZ
        ro_RO hu_HU yo_NG ar_AA fa_IR he_IL id_ID th_TH zh_TW el_GR ru_RU uk_UA
    """.split()  # noqa: SIM905
    firsts: set[str] = set()
    lasts: set[str] = set()
    for locale in locales:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except (ImportError, AttributeError):
            continue
        for attr, into in (
            ("first_names", firsts),
            ("first_names_male", firsts),
            ("first_names_female", firsts),
            ("last_names", lasts),
        ):
            values = getattr(provider, attr, None) or ()
            into.update(v for v in values if isinstance(v, str) and v[:1].isupper())
    common = {w.capitalize() for w in COMMON_WORDS}
    return frozenset(firsts - common), frozenset(lasts - common)


def _words(span: str) -> list[str]:
    return [w.rstrip(".") for w in _WORD_SPLIT.split(span) if w]


def _is_common(word: str) -> bool:
    return word.lower().rstrip(".") in COMMON_WORDS


@dataclass(frozen=True)
class Candidate:
    """A name-shaped run of words, trimmed of leading titles and common words."""

    start: int
    end: int
    words: tuple[str, ...]


def candidates(text: str) -> Iterator[Candidate]:
    """Name-shaped runs with leading common words (sentence starters, titles) cut off."""
    for m in NAME_SHAPE.finditer(text):
        start, value = m.start(), m.group()
        # drop leading common words and titles: "Thanks Aoife" -> "Aoife"
        while True:
            first, _, rest = value.partition(" ")
            if rest and (_is_common(first) or first in _TITLES):
                start += len(value) - len(rest.lstrip())
                value = rest.lstrip()
                continue
            break
        value = value.rstrip(".")
        words = tuple(_words(value))
        if not words or all(_is_common(w) for w in words) or value in _TITLES:
            continue
        yield Candidate(start, start + len(value), words)


def needs_ner(text: str) -> bool:
    """True when the text has a capitalised word that could be a name."""
    return any(True for _ in candidates(text))


class NameFinder:
    """Finds people's names; holds the spaCy model (loaded once) and the known names."""

    def __init__(self, nlp: Any | None, known: Iterable[str] = (), allow: Iterable[str] = ()):
        self.nlp = nlp
        self.known = frozenset(" ".join(n.split()).casefold() for n in known if n.strip())
        self._known_pattern = _known_pattern(self.known)
        self.allow = frozenset(a.casefold() for a in allow)

    def with_known(self, known: Iterable[str]) -> NameFinder:
        """The same finder (same model) with other known people."""
        finder = NameFinder(None, known, ())
        finder.nlp, finder.allow = self.nlp, self.allow
        return finder

    def find(
        self, texts: Sequence[str], processes: int = 1, batch_size: int = 64
    ) -> list[list[Span]]:
        """PERSON spans for each text."""
        ner: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        if self.nlp is not None:
            todo = [i for i, t in enumerate(texts) if needs_ner(t)]
            docs = self.nlp.pipe(
                (texts[i] for i in todo), batch_size=batch_size, n_process=processes
            )
            for i, doc in zip(todo, docs, strict=True):
                ner[i] = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        return [self._spans(t, e) for t, e in zip(texts, ner, strict=True)]

    def _spans(self, text: str, ents: list[tuple[int, int, str]]) -> list[Span]:
        people = [(s, e) for s, e, label in ents if label == "PERSON"]
        things = [(s, e) for s, e, label in ents if label in ("ORG", "GPE", "LOC", "NORP")]
        found: list[Span] = []
        if self._known_pattern is not None:
            for m in self._known_pattern.finditer(text):
                found.append(Span(m.start(), m.end(), PERSON, 1.0, "known"))
        firsts, lasts = name_lexicon()
        for c in candidates(text):
            if c.words[-1].casefold() in self.allow or " ".join(c.words).casefold() in self.allow:
                continue
            ner_person = any(s < c.end and c.start < e for s, e in people)
            ner_thing = any(s <= c.start and c.end <= e for s, e in things)
            cue = bool(_CUE_BEFORE.search(text[max(0, c.start - 24) : c.start]))
            verb = bool(_VERB_AFTER.match(text[c.end : c.end + 16]))
            lexicon = sum(w in firsts or w in lasts for w in c.words)
            pair = len(c.words) >= 2 and c.words[0] in firsts and lexicon >= 1
            score = 0.0
            if ner_person:
                score = 0.85
            elif pair and not ner_thing:
                score = 0.75
            elif cue and (lexicon or not ner_thing or len(c.words) >= 2):
                score = 0.7 if lexicon else 0.6
            elif verb and lexicon:
                score = 0.65
            elif pair:
                score = 0.55
            elif lexicon and len(c.words) >= 2 and not ner_thing:
                score = 0.5
            if score:
                found.append(Span(c.start, c.end, PERSON, score, "names"))
        # NER names the candidates did not cover (lower-case, or odd shapes)
        for s, e in people:
            if not any(f.start <= s and e <= f.end for f in found):
                value = text[s:e]
                words = _words(value)
                if words and not all(_is_common(w) for w in words):
                    found.append(Span(s, e, PERSON, 0.6, "ner"))
        return found


def _known_pattern(known: frozenset[str]) -> regex.Pattern[str] | None:
    """One case-insensitive pattern for the known full names (two words or more)."""
    names = sorted((n for n in known if " " in n), key=len, reverse=True)
    if not names:
        return None
    parts = [r"\s+".join(regex.escape(w) for w in n.split()) for n in names]
    return regex.compile(
        rf"(?<![\p{{L}}\p{{N}}])(?:{'|'.join(parts)})(?![\p{{L}}\p{{N}}])", regex.IGNORECASE
    )
