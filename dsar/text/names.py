"""People's names in free text: spaCy NER, the people the catalog knows, and a fallback.

The small English model misses names it has not seen (Irish, Vietnamese) or tags them as
organisations, and leaves a first name beside a tagged surname. Three sources are joined:

1. NER `PERSON` spans, with greetings the model swallows ("Call Trần Văn Hùng") cut off;
2. the full names the catalog holds (any case), found by exact lookup;
3. name-shaped words (capitalised, with particles such as "van der" or "Ní") that follow a
   person cue ("Hi", "Thanks,", "my colleague", "Mr."), precede a person verb ("called",
   "said"), sit beside an NER name, or pair a first name with a surname from Faker's name
   lists of many locales; ORG or GPE tags on such words are overruled.

Texts with no capitalised word beyond common sentence starters never reach the model, and
the model reads only a few words around the runs it must judge.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import regex

from dsar.text import lexicon
from dsar.text.detectors import PERSON, Span
from dsar.text.mentions import BRANDS, PARTY_LABEL_BEFORE, mentions, vetoed
from dsar.text.shapes import speakers, structural

# a capitalised word; an apostrophe inside (O'Brien) but not a possessive 's
_UPPER_WORD = r"\p{Lu}[\p{Ll}\p{M}]*(?:(?:['\u2019](?!s\b)|-)\p{L}[\p{Ll}\p{M}]*)*\.?"
_PARTICLE = (
    r"(?:van|von|de|der|den|du|le|la|di|da|del|della|dos|das|ten|ter|bin|binti|ibn|al|el"
    r"|Ní|Nic|Ó|Ui|Uí|Mac|Mc|O'|St\.?)"
)
# one to four capitalised words, particles allowed between them
# spaces between the words of a name; a line break too (a wrapped line must not leave a
# surname out), unless the next line opens with a field ("Date of birth:", "Country:")
_GAP = r"(?:[^\S\n]+|[^\S\n]*\n[^\S\n]*(?![\p{L}'-]+(?:[^\S\n]+[\p{L}'-]+)?[^\S\n]*:))"
NAME_SHAPE = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}@._'-])(?:{_PARTICLE}{_GAP})?{_UPPER_WORD}"
    rf"(?:(?:{_GAP}{_PARTICLE})*{_GAP}{_UPPER_WORD}){{0,3}}(?![\p{{L}}\p{{N}}@])"
)
_WORD_SPLIT = regex.compile(r"\s+")
_PARTICLE_WORDS = frozenset(
    "van von de der den du le la di da del della dos das ten ter bin binti ibn al el".split()  # noqa: SIM905
)
# words right before a name that make it a person's, even against the model's tag
_STRONG_CUES = (
    r"hi|hello|hey|dear|thanks|thank you|thx|cheers|regards|best|sincerely|yours|cc|bcc"
    r"|ask|asked|tell|told|spoke to|spoke with|talked to|call|called|contact|ping|email"
    r"|emailed|met|meet|colleague|coworker|co-worker|manager|boss|wife|husband|partner"
    r"|son|daughter|mother|father|friend|assistant|agent|assigned to|assignee|owner"
    r"|named|signed|mr|mrs|ms|miss|mx|dr|prof|sir|madam|approved by|reported by"
    r"|requested by|on behalf of|attn|attention|name is|i am|i'm|this is|per|probably"
    r"|on-call is|on call is|ask for|hand over to|handed to|escalated to|reach"
    # sign-offs in the languages support mail comes in (titles: _TITLE_BEFORE)
    r"|saludos|un saludo|atentamente|un abrazo|abrazos|besos|un beso|hasta pronto|groetjes"
    r"|hartelijke groet|hartelijke groeten|vriendelijke groet|vriendelijke groeten|liebe grüße"
    r"|lieben gruß|liebe grüsse|herzliche grüße|beste grüße|bisous|bises|à bientôt|un saluto"
    r"|saluti|a presto|baci|abraço|abraços|beijos|um abraço"
    r"|cordialement|bien à vous|grüße|viele grüße|mit freundlichen grüßen|cumprimentos"
    r"|atenciosamente|obrigad[oa]|grazie|cordiali saluti|distinti saluti|groeten"
    r"|met vriendelijke groet|pozdrawiam|hälsningar|mvh"
    # greetings before a name in other languages
    r"|hallo|hola|olá|ola|oi|hej|hoi|dag|beste|geachte|cześć|czesc|ciao|merhaba|salut|bonjour"
    r"|allo|allô|prezad[oa]|querid[oa]|estimad[oa]|car[oa]|gentile|liebe|lieber|bhai|didi"
    r"|γεια σου|καλησπέρα|καλημέρα|привет|здравствуйте|добрый день|مرحبا|שלום|namaste"
    r"|escriba a|escribe a|contacte a|contactar a|contacter|contactez|wenden sie sich an"
    r"|rivolgersi a|contattare|entre em contato com|falar com|hier spricht|je suis|soy|sono"
    r"|loop in|looped in|looping in|dm|dm'd|dmed"
)
# titles, as written (case matters: "Sr. Jones", not "SR: Database Migration")
_TITLE_BEFORE = regex.compile(
    r"\b(?:Sra|Srta|Sr|Mme|Mlle|Herr|Frau|Dott|Dña|Doña|Rev|Capt|Hon|Sgt|Fr|Sig|Sig\.ra|Sigra"
    r"|Dhr|Mevr|Mej|Drs|Ir|Avv|Dott\.ssa|[Hh]eer|[Mm]evrouw|[Mm]eneer|Herrn|Señor|Señora"
    r"|Senhor|Senhora|Monsieur|Madame|Signor|Signora)\.?[^\S\n]+$"
)
# a chat line's speaker: "[09:15] Oluwaseun: ..." (the run must be followed by a colon)
_SPEAKER_BEFORE = regex.compile(r"(?:^|\n)\s*\[\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?\]\s*$")
_COLON_AFTER = regex.compile(r"^\s*:\s")
# a form's field: "Name: Ana Silva", "Surname: Ahmed", at a line's start or after a separator,
# with its colon; the word before the label says whose name it is ("Company name:" is not)
_LABEL_BEFORE = regex.compile(
    r"(?:^|[\n,;(|/.:\u2013\u2014])[^\S\n]*(?:(?P<prefix>[\p{L}]+)[^\S\n-]*[-\s][^\S\n]*)?"
    r"(?P<label>name|full name|first name|forename|given name|surname|last name|family name"
    r"|child|parent|guardian|contact person|incident lead|account holder|cardholder"
    r"|card holder|patient|requester|requestor|approver|nombre|apellidos?|prénom|nom"
    r"|vorname|nachname|nome|cognome|driver|fahrer|chauffeur)[^\S\n]*[:=][^\S\n]*$",
    regex.IGNORECASE,
)
# a field that holds a company, a department, a subject or a product, in many languages:
# its value is no person's name unless a title or a greeting says so
_THING_LABEL_BEFORE = regex.compile(
    r"(?:^|\n)[^\S\n]*(?:company|company name|firma|firmenname|unternehmen|empresa|société"
    r"|societe|entreprise|raison sociale|azienda|ditta|società|bedrijf|bedrijfsnaam|organisation"
    r"|organization|organisatie|organização|department|dept|abteilung|afdeling|departamento"
    r"|dipartimento|subject|betreff|objet|onderwerp|asunto|oggetto|assunto|temat|konu|ämne"
    r"|product|produkt|producto|prodotto|produit|item|artikel|artículo|reference|ref"
    r"|summary|title|issue|issues|known issues|issue type|area|environment|browser|device"
    r"|platform|feature|topic|plan|subscription|tool|app|application"
    r"|po reference|category|kategorie|categoría|catégorie|component|komponente)"
    r"[^\S\n]*:[^\S\n]*$",
    regex.IGNORECASE,
)
_NOT_A_PERSON = frozenset(
    """company business product file project user brand trading display host domain team
    account app store shop street place city legal registered plan package server field
    column table workspace integration channel bucket database db event tag role group
    branch repo repository service device network wifi ssid folder variable key queue topic
    bank organisation organization org venue hotel cluster environment region merchant
    payee vendor supplier site instance pipeline job task model""".split()  # noqa: SIM905
)
# roles that name a thing as often as a person: their value must look like a person's name
_ROLE_LABELS = frozenset(
    ("child", "parent", "guardian", "patient", "requester", "requestor", "approver")
)
# chat speakers that are programs, not people
_BOTS = frozenset(
    """jenkins github gitlab sentry slackbot zendesk system bot alerts alert monitor
    reminder pagerduty datadog grafana jira confluence circleci travis dependabot renovate
    opsgenie statuspage notification notifications admin server cron webhook deploy build
    ci prometheus nagios zabbix teams outlook calendar workflow automation zapier trello
    asana notion intercom hubspot salesforce stripe twilio aws azure heroku vercel netlify
    cloudflare docker kubernetes terraform ansible bitbucket sonarqube snyk codecov""".split()  # noqa: SIM905
)
# words that often come before a name and as often before a place or a company
_WEAK_CUES = r"from|by|to|with|for|and|or|me or|me and|customer|client|user|admin"
_CUE_BEFORE = regex.compile(rf"\b(?:{_STRONG_CUES})\s*[.,:;-]?\s*$", regex.IGNORECASE)


def _reversed_alternatives(alternatives: str) -> str:
    """`alternatives` ("a|b[cd]e|...": letters, spaces and character classes only) with each
    written backwards ("a|e[cd]b|...")."""
    out = []
    for alternative in alternatives.split("|"):
        tokens = regex.findall(r"\[[^\]]*\]|[^\[\]]", alternative)
        assert "".join(tokens) == alternative
        out.append("".join(reversed(tokens)))
    return "|".join(out)


# `_CUE_BEFORE` read backwards from the end, matched once: searched forwards, the regex
# engine tries its 180 cues at every word boundary of the text before a run (7 us a run;
# this, 1 us). Both find the same: the cues are literals and classes, `\b` is symmetric,
# and the case folding is per character.
_CUE_REVERSED = regex.compile(
    rf"\s*[.,:;-]?\s*(?:{_reversed_alternatives(_STRONG_CUES)})\b", regex.IGNORECASE
)


def _cue_before(before: str) -> bool:
    """`_CUE_BEFORE.search(before)`, read from the end."""
    return _CUE_REVERSED.match(before[::-1]) is not None


_WEAK_CUE_BEFORE = regex.compile(rf"\b(?:{_WEAK_CUES})\s*[.,:;-]?\s*$", regex.IGNORECASE)
# what people do: after a name-shaped run, it is a person's name even against the model
_PERSON_VERB_AFTER = regex.compile(
    r"^(?:,[^\S\n]+(?:could|can|would|will|please|do|did|are|have)\b|[^\S\n]+(?:said|says|called"
    r"|calls|wrote|writes|asked|asks|replied|mentioned|confirmed|emailed|phoned|rang"
    r"|reported|requested|approved|joined|signed|logged|tried|told|sent|thinks|thought"
    r"|pasted|shared|uploaded|forwarded|paid|booked|ordered|cancelled|canceled|agreed"
    r"|prefers|noticed|complained|explained|insists|promised|wrote in|and I|presented"
    r"|here,)(?!\w))",
    regex.IGNORECASE,
)
# after a name-shaped run, as often after a thing: a person's only with a known name
_VERB_AFTER = regex.compile(
    r"^(?:['\u2019]s\b|\s+(?:and|or)\s+(?-i:\p{Lu})|\s+(?:will|would|can|cannot|can't|could|is"
    r"|was|has|had|left|needs|wants|set|changed|added|made|gave|got|lost|moved|posted"
    r"|submitted|spoke|from)\b)",
    regex.IGNORECASE,
)
# words right after a name-shaped run that make it a place, a company or a product
_THING_AFTER = regex.compile(
    r"^[^\S\n]+(?:office|offices|team|branch|site|store|shop|warehouse|airport|station|line"
    r"|pipeline|server|servers|cluster|plan|pilot|booking|hotel|dashboard|dashboards"
    r"|support|campus|region|hq|headquarters|cloud|api|app|instance|gmbh|ag|ltd|llc|inc"
    r"|plc|bv|b\.v\.|sa|sas|s\.p\.a\.|srl|oy|ab|as|corp|trial|account|integration"
    r"|workspace|vans|fleet|card|number|street|road|avenue|square|park|bridge|river"
    r"|ticket|tickets|issue|board|project|bin|shelf|room|building|floor|release|version"
    r"|county|province|state|city|university|hospital|school|bank|airlines)\b",
    regex.IGNORECASE,
)
# last words that make a name-shaped run a company or a product
_COMPANY_WORDS = frozenset(
    """analytics pay labs systems solutions technologies technology group bank capital
    partners consulting software cloud health insurance airlines motors studio studios
    media digital holdings ventures foods logistics networks security services gmbh ltd
    inc llc plc corp corporation company pharmaceuticals pharma traders industries
    enterprises international associates trust foundation university institute clinic
    hospital council ministry agency limited suite pro plus premium lite ultra sale
    financial finance energy telecom realty properties""".split()  # noqa: SIM905
)
_DETERMINER_BEFORE = regex.compile(
    r"\b(?:the|a|an|our|your|their|its|this|that|these|those)\s+$", regex.IGNORECASE
)
# a line that opens with a team's or a department's word: the rest of the line names the
# team ("Customer Success", "Equipe Loja Verde" under a sign-off)
_DEPARTMENT_BEFORE = regex.compile(
    r"(?:^|\n)[^\S\n]*(?:customer|client|team|equipe|équipe|equipo|service|support|agence"
    r"|agency|department|dept|ihr|your|the)[^\S\n]+$",
    regex.IGNORECASE,
)
# a greeting alone on its line ("Hi,\n"): the next line's first words are no addressee (a
# sign-off's line break is: "Thanks,\nDelphine")
_GREETING_LINE = regex.compile(
    r"\b(?:hi|hello|hey|dear|hallo|hola|olá|ola|oi|hej|hoi|bonjour|ciao|salut|merhaba|cześć"
    r"|morning|good morning|guten tag|buongiorno|buenos días)[^\S\n]*[,!.:;-]?[^\S\n]*\n\s*$",
    regex.IGNORECASE,
)
_LINE_END = regex.compile(r"[^\S\n]*(?:\n|$)")
# a preposition that puts what follows on a map, not in a person's hands
_IN_PLACE_BEFORE = regex.compile(
    r"\b(?:in|at|near|around|across|throughout|outside|inside|based in|located in)[^\S\n]+$",
    regex.IGNORECASE,
)
_NUMBER_AFTER = regex.compile(r"^[^\S\n]+[#]?\d")
_WORD_NAMES = lexicon.WORD_NAMES
_SENTENCE_START = regex.compile(r"(?:^|[.!?:;\n\-–—•*>\[\](){}\"'|]|\d)[^\S\n]*$")
# lower-case names: only a word the name lists know as a first name, beside a cue or a verb
# (a hyphenated given name is one word: "jun-seo", "anne-marie")
_LOWER_WORD = regex.compile(
    r"(?<![\p{L}\p{N}@._'-])\p{Ll}[\p{Ll}\p{M}]+(?:-\p{Ll}[\p{Ll}\p{M}]+)?(?![\p{L}\p{N}@])"
)
_TITLES = (
    *("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Mx.", "Mr", "Mrs", "Ms", "Dr", "Prof", "Mx"),
    *("Sra.", "Sr.", "Srta.", "Sra", "Sr", "Srta", "Mme", "Mlle", "Herr", "Frau", "Dott."),
    *("Mme.", "Mlle.", "Rev.", "Capt.", "Hon.", "Sgt.", "Rev", "Capt", "Hon", "Sgt"),
)
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
    visa mastercard amex maestro jcb unionpay paypal tel fax callback mobile hotfix
    step node
    pozdrawiam cordialement atenciosamente saludos saludo atentamente grazie mille
    obrigado obrigada vielen dank grüßen grüße freundlichen mit hälsningar groeten
    merci cordiali saluti distinti team equipo equipe équipe ufficio zespół das ihr
    cordiales klantenservice kundenservice servicio atención vendite wsparcia
    leider bitte anbei hiermit gerne außerdem jedoch allerdings malheureusement désolé
    lamentablemente desafortunadamente purtroppo helaas niestety tyvärr kindly faithfully
    i'm i've i'll i'd i’m i’ve i’ll i’d
    truly
    """.split()  # noqa: SIM905 - a word list reads better as text
)


# patterns compiled once (a string pattern is looked up in regex's cache at every call)
_COMMA_SPACE = regex.compile(r",\s")
_LETTERS = regex.compile(r"\p{L}+")


@cache
def name_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """First names and surnames of every Faker locale (`dsar.text.lexicon`), less the
    capitalised words that start sentences or name things here."""
    firsts, lasts = lexicon.name_lexicon()
    common = {w.capitalize() for w in COMMON_WORDS}
    return frozenset(firsts - common), frozenset(lasts - common)


# whitespace to `str.split` that `\s` is not (information separators): a text without them
# is split by `str.split` as by `_WORD_SPLIT`, ten times faster
_NOT_REGEX_SPACE = "\x1c\x1d\x1e\x1f"


def _split(value: str, maxsplit: int = -1) -> list[str]:
    r"""`value` split at runs of whitespace (`\s`), empty pieces at the ends left out."""
    if "\x1c" in value or "\x1d" in value or "\x1e" in value or "\x1f" in value:
        return [w for w in _WORD_SPLIT.split(value, maxsplit=max(maxsplit, 0)) if w]
    return value.split(None, maxsplit)


def _words(span: str) -> list[str]:
    return [w.rstrip(".") for w in _split(span)]


def _is_common(word: str) -> bool:
    return word.lower().rstrip(".") in COMMON_WORDS


_SENTENCE_WORD = regex.compile(r"\p{L}{3,}\.(?=\s)")
_ABBREVIATIONS = frozenset(
    """Rev Capt Hon Sgt Mme Mlle Gen Col Cmdr Sen Rep Gov Pres Prof Mrs Chas Wm Geo Thos Jas
    Jos Sra Srta Dott Dña Doña Lic Ing Arch Abs""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Candidate:
    """A name-shaped run of words, trimmed of leading titles and common words."""

    start: int
    end: int
    words: tuple[str, ...]


_LEADING_CUE = regex.compile(  # "Called Siobhán Kelly" at a sentence's start: the verb goes
    r"^(?:contact|contacted|call|called|ask|asked|per|ping|pinged|email|emailed|cc|bcc|attn"
    r"|tel|fax|dear|hi|hello|hey|thanks|tell|told|met|phoned|rang|remind|reminded|invite"
    r"|invited|welcome)[.,:]?$",
    regex.IGNORECASE,
)


def _greeting(word: str) -> bool:
    """A greeting in some language that is no given name ("Hallo", "Bonjour"; not "Dag")."""
    return word.casefold().rstrip(",.!") in lexicon.GREETING_WORDS and word not in name_lexicon()[0]


def candidates(text: str) -> Iterator[Candidate]:
    """Name-shaped runs with leading common words (sentence starters, titles) cut off, and
    cut where a sentence ends inside them ("Kalani Akana. Priya Raman": two candidates)."""
    for m in NAME_SHAPE.finditer(text):
        yield from _trimmed(m.start(), m.group())


def _trimmed(start: int, value: str) -> Iterator[Candidate]:
    # drop leading common words and titles: "Thanks Aoife" -> "Aoife"
    while True:
        parts = _split(value, maxsplit=1)  # a line break separates words too
        first, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        if rest and (
            _is_common(first) or first in _TITLES or _LEADING_CUE.match(first) or _greeting(first)
        ):
            start += len(value) - len(rest)
            value = rest
            continue
        break
    for ended in _SENTENCE_WORD.finditer(value) if "." in value else ():
        if ended.group()[:-1] in _ABBREVIATIONS:
            continue  # "Rev. Jane Okafor", "Chas. Dickens": not a sentence's end
        after = ended.end()
        while after < len(value) and value[after].isspace():
            after += 1
        yield from _trimmed(start + after, value[after:])  # the next sentence's name
        value = value[: ended.end() - 1]
        break
    value = value.rstrip(".")
    words = tuple(_words(value))
    if not words or all(_is_common(w) for w in words) or value in _TITLES:
        return
    if len(words) == 1 and (len(words[0]) < 2 or words[0].isupper()):
        return  # "C" of "C.F.", "GB", "EU": letters, codes, not names
    yield Candidate(start, start + len(value), words)


# endings of English words that names rarely have (a name with one is in the name lists)
_ENGLISH_ENDING = regex.compile(
    r"\p{Ll}{2}(?:ed|ing|ive|able|ible|ist|ists|ion|ions|ment|ments|ness|ity|ous|ful|less"
    r"|ance|ence|ship|ize|ise|ized|ised|ally|ary|ory|ure|ics|ware|wide)$"
)


_COMPOUND = regex.compile(r"\p{L}+(?:-\p{L}+)*-\p{Ll}{3,}(?:-\p{L}+)*")


def _english_looking(word: str) -> bool:
    """An everyday English word, a word with an English word's ending ("Upgradable"), or a
    compound with a lower-case part ("Enterprise-wide"; names capitalise theirs)."""
    return (
        lexicon.is_english_word(word.casefold())
        or bool(_ENGLISH_ENDING.search(word))
        or bool(_COMPOUND.fullmatch(word))
    )


PARALLEL_FROM = 4000  # sentences for the model before a second process pays for its start
_SENTENCE_END = regex.compile(r"(?<=[.!?])(?<!\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|St|Jr|Sr)\.)\s+")


MAX_SENTENCE = 5_000  # longer runs go to the model in pieces (spaCy refuses 1M characters)


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a title's full stop does not end one; a very long
    sentence is cut at spaces into pieces of at most `MAX_SENTENCE` characters."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        out += _pieces(text, start, m.start())
        start = m.end()
    out += _pieces(text, start, len(text))
    return out


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    while end - start > MAX_SENTENCE:
        cut = text.rfind(" ", start + MAX_SENTENCE // 2, start + MAX_SENTENCE)
        cut = cut if cut > start else start + MAX_SENTENCE
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


WINDOW = 6  # words either side of the runs the model must judge
_TOKEN = regex.compile(r"\S+")


def _window(text: str, a: int, b: int, inside: list[Candidate]) -> tuple[int, int]:
    """The part of the sentence text[a:b] the model needs to judge the runs `inside` it:
    from `WINDOW` words before the first to `WINDOW` words after the last. The model's
    verdict on a word depends on a few words around it (its convolutions see four tokens
    either side), and its time on the words it is given."""
    lo = min(c.start for c in inside)
    hi = max(c.end for c in inside)
    words = [m.span() for m in _TOKEN.finditer(text, a, b)]
    before = [s for s, _ in words if s < lo]
    after = [e for _, e in words if e > hi]
    start = before[-WINDOW] if len(before) >= WINDOW else a
    end = after[WINDOW - 1] if len(after) >= WINDOW else b
    return min(start, lo), max(end, hi)


class NameFinder:
    """Finds people's names; holds the spaCy model (loaded once) and the known names."""

    def __init__(
        self,
        nlp: Any | None,
        known: Iterable[str] = (),
        allow: Iterable[str] = (),
        threshold: float = 0.5,
    ):
        self.nlp = nlp
        self.known = frozenset(" ".join(n.split()).casefold() for n in known if n.strip())
        self._known_pattern = _known_pattern(self.known)
        self.allow = frozenset(a.casefold() for a in allow)
        self.threshold = threshold

    def with_known(self, known: Iterable[str]) -> NameFinder:
        """The same finder (same model) with other known people."""
        finder = NameFinder(None, known, (), self.threshold)
        finder.nlp, finder.allow = self.nlp, self.allow
        return finder

    def find(
        self, texts: Sequence[str], processes: int | None = None, batch_size: int = 256
    ) -> list[list[Span]]:
        """PERSON spans for each text.

        The model sees only a window (`WINDOW` words either side) around the capitalised
        runs whose verdict it could change (no cue, no person verb, not vetoed as a place or
        company, not decided by `_undecided`'s word lists), within their sentence, and each
        distinct window once: greetings and boilerplate repeat across texts.
        """
        ner: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        firsts, lasts = name_lexicon()
        shaped = [[(c, self._facts(t, c, firsts, lasts)) for c in candidates(t)] for t in texts]
        if self.nlp is not None:
            todo: dict[str, list[tuple[int, int]]] = {}
            for i, text in enumerate(texts):
                open_ = [c for c, f in shaped[i] if self._undecided(text, c, f)]
                if not open_:
                    continue
                for a, b in _sentences(text):
                    inside = [c for c in open_ if a <= c.start < b]
                    if inside:
                        a, b = _window(text, a, b, inside)
                        todo.setdefault(text[a:b], []).append((i, a))
            if processes is None:  # a second process pays for its start on large work only
                processes = 2 if len(todo) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1 else 1
            docs = self.nlp.pipe(todo, batch_size=batch_size, n_process=processes)
            for places, doc in zip(todo.values(), docs, strict=True):
                ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
                for i, a in places:
                    ner[i] += [(a + s, a + e, label) for s, e, label in ents]
        return [self._spans(t, e, c) for t, e, c in zip(texts, ner, shaped, strict=True)]

    def _undecided(self, text: str, c: Candidate, facts: Facts) -> bool:
        """True when what the model says about this run could change whether it is a name.

        A sentence's first word that no name list knows and that reads as an English word
        ("Flagged", "Pricing", "Instead") is decided without the model: not a name; a given
        name alone inside a sentence that is no English word and no place ("escalated it,
        Valentina knows") is decided without it too: a name, unless the rules say otherwise
        (a company's or a place's word after it)."""
        firsts, lasts = name_lexicon()
        if (
            len(c.words) == 1
            and c.words[0] not in firsts
            and c.words[0] not in lasts
            and _english_looking(c.words[0])
            and _SENTENCE_START.search(text[max(0, c.start - 24) : c.start])
        ):
            return False
        if (
            len(c.words) == 1
            and c.words[0] in firsts
            and not lexicon.is_english_word(c.words[0].casefold())
            and c.words[0] not in lexicon.place_names()
            and not _SENTENCE_START.search(text[max(0, c.start - 24) : c.start])
        ):
            return False  # a given name inside a sentence, neither a word nor a place
        if (
            c.words[0] not in firsts
            and c.words[-1] not in lasts
            and " ".join(c.words) in lexicon.place_names()
        ):
            return False  # a place no name list knows ("Cuxhaven", "Bad Kissingen")
        verdicts = {
            _score(facts, person, thing) >= self.threshold
            for person, thing in ((False, False), (True, False), (False, True))
        }
        return len(verdicts) > 1

    def _spans(
        self, text: str, ents: list[tuple[int, int, str]], shaped: list[tuple[Candidate, Facts]]
    ) -> list[Span]:
        people = [(s, e) for s, e, label in ents if label == "PERSON"]
        things = [(s, e) for s, e, label in ents if label in ("ORG", "GPE", "LOC", "NORP")]
        found: list[Span] = []
        if self._known_pattern is not None:
            for m in self._known_pattern.finditer(text):
                found.append(Span(m.start(), m.end(), PERSON, 1.0, "known"))
        firsts, lasts = name_lexicon()
        for c, facts in shaped:
            ner_person = any(s < c.end and c.start < e for s, e in people)
            ner_thing = any(s <= c.start and c.end <= e for s, e in things)
            score = _score(facts, ner_person, ner_thing)
            if score:
                found.append(Span(c.start, c.end, PERSON, score, "names"))
        found += structural(text)
        found += _unknown_names(text, shaped, found, self.threshold)
        found += _lower_case_names(text, firsts, found)
        found += _name_lists(text, firsts, found, things)
        # NER names the candidates did not cover (lower-case, or odd shapes)
        for s, e in people:
            # the rules above decided on every capitalised run; NER adds only the rest
            if not any(f.start < e and s < f.end for f in found) and not any(
                c.start < e and s < c.end for c, _ in shaped
            ):
                value = text[s:e]
                words = _words(value)
                name_like = (
                    any(ch.isupper() for ch in value)
                    and any(ch.islower() for ch in value)
                    and not any(ch.isdigit() for ch in value)
                )
                if words and name_like and not all(_is_common(w) for w in words):
                    found.append(Span(s, e, PERSON, 0.6, "ner"))
        found = _whole_inverted(text, vetoed(text, found, firsts, lasts))
        found = [f for f in found if not _product_name(text, f)]
        return found + mentions(text, found, self.threshold)

    def _facts(
        self, text: str, c: Candidate, firsts: frozenset[str], lasts: frozenset[str]
    ) -> Facts:
        """What the text around a run says, once: the verdict is then asked with and
        without the model's tags (`_score`) at no further cost."""
        name = " ".join(c.words)
        before = text[max(0, c.start - 24) : c.start]
        after = text[c.end : c.end + 24]
        # a field's label ends in its colon or equals sign (the search costs 4 us a run)
        label = _LABEL_BEFORE.search(before) if before.rstrip()[-1:] in (":", "=") else None
        label_ok = (
            label is not None and (label.group("prefix") or "").casefold() not in _NOT_A_PERSON
        )
        speaker = None
        if _SPEAKER_BEFORE.search(before) and _COLON_AFTER.match(after):
            word = c.words[-1].casefold()
            # who speaks on a chat line is a person, whatever the model says
            speaker = 0.8 if word not in _BOTS and not word.endswith("bot") else 0.0
        first_name = c.words[0] in firsts or all(p in firsts for p in c.words[0].split("-"))
        return Facts(
            allowed=name.casefold() in self.allow,
            strong_cue=_cue_before(before) and not _GREETING_LINE.search(before),
            blocked=bool(
                _DETERMINER_BEFORE.search(before)
                or _THING_LABEL_BEFORE.search(text[max(0, c.start - 40) : c.start])
                or (
                    c.words[0] not in firsts
                    and bool(PARTY_LABEL_BEFORE.search(text[max(0, c.start - 40) : c.start]))
                )
                or _THING_AFTER.match(after)
                or c.words[-1].casefold() in _COMPANY_WORDS
                or (len(c.words) == 1 and _NUMBER_AFTER.match(after))
                or (
                    len(c.words) == 1
                    and c.words[0] in lexicon.place_names()
                    and bool(_IN_PLACE_BEFORE.search(before))
                )  # "the server in Jordan", "our office at Chester"
                or (
                    c.words[0] not in firsts
                    and bool(_DEPARTMENT_BEFORE.search(before))
                    and bool(_LINE_END.match(after))
                )
                or all(
                    lexicon.is_english_word(w.casefold()) and w not in firsts and w not in lasts
                    for w in c.words
                )  # "Success", "Kindly Confirm Receipt": words, no name list's
                or (
                    len(c.words) == 1
                    and c.words[0] not in firsts
                    and c.words[0] not in lasts
                    and (
                        lexicon.is_english_word(c.words[0].casefold())
                        or bool(_ENGLISH_ENDING.search(c.words[0]))
                    )
                    and bool(_SENTENCE_START.search(before))
                )  # "Replacement requested by ...": a sentence's first word
            ),
            lexicon=sum(w in firsts or w in lasts for w in c.words),
            speaker=speaker,
            label=label_ok,
            role=label_ok and label is not None and label.group("label").casefold() in _ROLE_LABELS,
            title=bool(_TITLE_BEFORE.search(before)),
            weak_cue=bool(_WEAK_CUE_BEFORE.search(before)),
            person_verb=bool(_PERSON_VERB_AFTER.match(after)),
            verb=bool(_VERB_AFTER.match(after)),
            first_name=first_name,
            several=len(c.words) >= 2,
            one_word=sum(w.casefold() not in _PARTICLE_WORDS for w in c.words) == 1,
            beside_name=_beside_name(before, after),
            lone_first=len(c.words) == 1
            and first_name
            and c.words[0].casefold() not in _WORD_NAMES
            and not _SENTENCE_START.search(before),
        )


# what vouches for a one-word run the model alone calls a person: a verb of contact before
# it ("Will try Máire", "Rang Dafydd"), a name's word before it ("KIM Ji-ho"), a particle and a
# capitalised word after it ("Dafydd ap Gruffydd")
_CONTACT_BEFORE = regex.compile(
    r"\b(?:try|tried|call|called|ring|rang|phone|phoned|email|emailed|message|messaged|text"
    r"|texted|ping|pinged|ask|asked|tell|told|remind|reminded|cc|thank|thanked|meet|met"
    r"|spoke|spoken|talk|talked|visit|visited)[^\S\n]+$",
    regex.IGNORECASE,
)
_WORD_BEFORE = regex.compile(r"(?<![\p{L}])(\p{L}[\p{L}'\u2019-]*)[^\S\n]+$")
_PARTICLE_AFTER = regex.compile(
    r"^[^\S\n]+(?:ap|ab|ibn|bin|bint|de|da|di|van|von|del|mac|ó|ní)[^\S\n]+\p{Lu}"
)


def _beside_name(before: str, after: str) -> bool:
    if _CONTACT_BEFORE.search(before) or _PARTICLE_AFTER.match(after):
        return True
    if before.rstrip()[-1:].islower():
        return False  # the word before ends in a small letter: not written in capitals
    word = _WORD_BEFORE.search(before)
    return word is not None and word.group(1).isupper() and lexicon.is_name_word(word.group(1))


@dataclass(frozen=True)
class Facts:
    """The context of a name-shaped run that decides whether it is a person's name."""

    allowed: bool  # on the allow list
    strong_cue: bool  # "Hi", "Thanks", "Mr." before it
    blocked: bool  # a determiner before, a thing word or a number after, a company's word
    lexicon: int  # words the name lists know
    speaker: float | None  # a chat line's speaker (0.8; 0.0 for a bot)
    label: bool  # the value of a name field
    role: bool  # of a role field ("Patient:"), which holds a name only when it looks like one
    title: bool  # after a title ("Herr", "Sra.")
    weak_cue: bool
    person_verb: bool
    verb: bool
    first_name: bool
    several: bool
    lone_first: bool  # one known first name, no word, inside a sentence
    beside_name: bool = False  # a name's word or a particle beside it, or a contact verb before
    one_word: bool = False  # one word besides particles ("de Wit", "Van den Bergh")


def _score(f: Facts, ner_person: bool, ner_thing: bool) -> float:
    """How likely a name-shaped run is a person's name (0: not a name), given its context
    and whether the model tagged it a person or a place or organisation."""
    if f.allowed or (not f.strong_cue and f.blocked):
        return 0.0
    if f.speaker is not None:
        return f.speaker
    if f.label and (not f.role or f.lexicon or ner_person):
        return 0.7  # the value of a name field (a company's is vetoed above)
    if f.title and (f.lexicon or ner_person or not f.several or f.one_word):
        return (
            0.7  # "Sra. Luana Oliveira", "Herr Müller", "Mevr. de Wit"; not "Sr. Product Manager"
        )
    if (
        ner_person
        and not (f.several or f.lexicon or f.person_verb or f.verb or f.weak_cue)
        and not (f.strong_cue or f.title or f.label or f.beside_name)
    ):
        return 0.45  # one word no name list knows, only the model vouching: "Kafka", "Jira"
    if ner_person:
        return 0.85
    if f.strong_cue:
        return 0.7 if f.lexicon or f.several else 0.6
    if f.person_verb and (f.lexicon or f.several or not ner_thing):
        return 0.7
    if f.several and f.first_name and not ner_thing:
        return 0.75
    if (f.verb or f.weak_cue) and (f.first_name or (f.several and f.lexicon)):
        return 0.65
    if (f.verb or f.weak_cue) and f.several and not ner_thing:
        return 0.55
    if f.several and f.first_name:
        return 0.55
    if f.several and f.lexicon and not ner_thing:
        return 0.5
    if f.lone_first and not ner_thing:
        return 0.55  # a known first name inside a sentence: "escalated it, Valentina knows"
    return 0.0


# Names no list knows ("Bolormaa", "Tsetseg", "Abdiweli"): a capitalised word inside an
# English sentence that no name list of any culture holds, that is no word of any language
# wordfreq covers, no place, no product, and that stands where a person stands.
# before it: a verb of contact, or a preposition that a person follows as often as a thing
_UNKNOWN_CUE_BEFORE = regex.compile(
    r"\b(?:spoke|spoken|talked|talking|speaking|met|meet|meeting|ask|asked|asking|tell|told"
    r"|telling|call|called|calling|ring|rang|cc|ping|pinged|remind|reminded|thanks|thank you"
    r"|it's|it\u2019s|its|it is|this is|says|said"
    r"|thx|email|emailed|message|messaged|let|loop in|with|from|to|for|by|per|and|via)"
    r"[^\S\n]*[,:]?[^\S\n]*$",
    regex.IGNORECASE,
)
# the cues a thing follows as often as a person: a second signal must agree
_UNKNOWN_WEAK_BEFORE = regex.compile(
    r"\b(?:with|from|to|for|by|per|and|via|thanks to|thank you to|ask|asking|let)"
    r"[^\S\n]*[,:]?[^\S\n]*$",
    regex.IGNORECASE,
)
# a verb of contact before the preposition: "spoke with", "talked to", "check with"
_UNKNOWN_CONTACT_BEFORE = regex.compile(
    r"\b(?:spoke|spoken|speak|speaking|talk|talked|talking|met|meet|meeting|chat|chatted"
    r"|check|checked|checking|swapped|agreed|arranged|sit|sat)[^\S\n]+(?:with|to)[^\S\n]*$",
    regex.IGNORECASE,
)
# after it: what people do, not programs (a program "failed", "crashed", "is down")
_UNKNOWN_PERSON_AFTER = regex.compile(
    r"^(?:['\u2019]s[^\S\n]+(?:wife|husband|son|daughter|mother|father|shop|desk|team|account"
    r"|phone|email|number|address|manager|boss|office|car|family|brother|sister|colleague"
    r"|friend|kids?|children|parents|request|order|booking|name)\b"
    r"|(?:[^\S\n]+\([^)\n]{1,30}\))?[^\S\n]+(?:said|says|told|tells|asked|asks|called|calls|emailed|phoned|rang|replied"
    r"|wrote|writes|mentioned|confirmed|agreed|promised|complained|explained|thinks|thought"
    r"|knows|knew|wants|wanted|swapped|counted|signed|approved|handles|handled|covers|covered"
    r"|picked|dropped|finished|negotiated|reported|requested|opened|closed|left|joined"
    r"|booked|paid|ordered|cancelled|canceled|arrived|visited|brought|took|fixed|restarted"
    r"|know|join|joins|has[^\S\n]+(?:a|his|her)"
    r"|checked|noticed|needs|still[^\S\n]+needs|has[^\S\n]+(?:them|it|the)|is[^\S\n]+(?:sick|ill|off"
    r"|out|away|back|on[^\S\n]+(?:leave|holiday|vacation|call|shift)|travelling|traveling"
    r"|covering|at[^\S\n]+the)|was[^\S\n]+(?:late|rude|sick|here|there)|will[^\S\n]+"
    r"(?:email|call|send|bring|cover|arrive|confirm|reply|come|be[^\S\n]+back)|can[^\S\n]+"
    r"(?:step|approve|take|do|cover|help)|(?:from|at)[^\S\n]+"
    r"(?:the[^\S\n]+)?(?:\p{L}+[^\S\n]+)?(?:desk|office|pharmacy|billing|support|reception"
    r"|team|finance|accounts))(?![\p{L}]))",
    regex.IGNORECASE,
)
# parts of the names programs, services and connectors are given ("Helmfile", "Metabase")
_TECH_PART = regex.compile(
    r"(?i:ctl|db|sql|js|ify|ops|hub|lab|kit|cloud|base|flow|stack|ware|mail|pipe|box|desk"
    r"|sync|bot|api|app|tron|soft|byte|gram|cast|file|net|tube|pay|cart|shop|zilla|ly)$"
)
_CAMEL_PAIR = regex.compile(r"\p{Ll}\p{Lu}")
_NAME_PREFIX = regex.compile(r"^(?:Mc|Mac|Fitz|D[aeiu]|L[ae]|V[ao]n)(?=\p{Lu})")


def _camel(word: str) -> bool:
    """A capital inside a word ("BigQuery"), not after a name's prefix ("McAllister",
    "MacLeod", "DeShawn")."""
    return bool(_CAMEL_PAIR.search(_NAME_PREFIX.sub("", word)))


def _compound_word(word: str) -> bool:
    """Two English words of four letters or more run together ("Nextcloud", "Tailscale",
    "Mattermost"): a product's name, no person's ("Anahit" is no "ana" and "hit", "Lestrade"
    no "les" and "trade")."""
    low = word.casefold()
    for i in range(4, len(low) - 3):
        a, b = lexicon.zipf(low[:i], "en"), lexicon.zipf(low[i:], "en")
        if a and b and a >= 3.5 and b >= 3.5 and a + b >= 8.0:
            return True
    return False


@cache
def _zone_places() -> frozenset[str]:
    """The cities of the time-zone database ("Almaty", "Ulaanbaatar", "Thimphu")."""
    try:
        import zoneinfo

        zones = zoneinfo.available_timezones()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(
        part.replace("_", " ") for zone in zones for part in zone.split("/")[1:] if part
    )


def _unknown_word(word: str) -> bool:
    """A capitalised word no name list holds, rare or absent as a word in every language
    wordfreq covers, no place, no product, no acronym."""
    if (
        len(word) < 3
        or not word[:1].isupper()
        or word.isupper()
        or not word.isalpha()
        or _camel(word)
        or word.casefold() in BRANDS
        or word in lexicon.place_names()
        or word in _zone_places()
        or _TECH_PART.search(word)
        or _english_looking(word)
        or lexicon.listed_anywhere(word)
    ):
        return False
    if lexicon.word_anywhere(word) is not False:
        return False
    return not _compound_word(word)


_NOUNS_CAPITALISED = frozenset(("de", "lb"))  # languages that capitalise every noun
_PLACE_BEFORE = regex.compile(
    r"\b(?:in|at|near|to|from|via|into|across|around|outside|inside|through)[^\S\n]+$",
    regex.IGNORECASE,
)


def _product_name(text: str, span: Span) -> bool:
    """A one-word name that only the model or a cue vouched for, that no name list holds,
    and that is shaped as a program's or a service's name: a program's ending ("Helmfile",
    "Metabase"), two English words run together ("Fivetran" is not; "Mattermost" is), or
    camel case ("BigQuery"). Names have none of these shapes."""
    if span.source not in ("names", "ner") or span.score >= 0.9:
        return False
    value = text[span.start : span.end]
    if not value.isalpha() or not value[:1].isupper() or value.isupper():
        return False
    if lexicon.listed_anywhere(value):
        return False
    return bool(_TECH_PART.search(value) or _camel(value)) or _compound_word(value)


def _unknown_names(
    text: str, shaped: list[tuple[Candidate, Facts]], found: list[Span], threshold: float
) -> list[Span]:
    """Names no list knows inside a sentence (not German's, whose nouns are capitalised):
    one or two capitalised words that
    are no word of any language (`_unknown_word`), not a sentence's or a field's first
    word (unless a person's verb follows: "Litia asked for Friday off"), in a person's
    context: a verb of contact before ("spoke with Bolormaa", "ask Hery"), a person's verb
    or a possessive after ("Tsetseg will email", "Abdiweli's shop"), or both words of a
    full name unknown ("Selamawit Berhane"). A preposition a thing follows as often ("with",
    "to", "per") counts only with something after it too. Only what no other rule found."""
    out: list[Span] = []
    lang: str | None = None
    for c, facts in shaped:
        if facts.allowed or facts.blocked or facts.title or facts.label:
            continue
        if any(f.start < c.end and c.start < f.end and f.score >= threshold for f in found):
            continue
        words = list(c.words)
        while len(words) > 1 and _english_looking(words[0]):
            words.pop(0)  # "Passenger Lobsang Dorje": the noun before the name goes
        if len(words) > 2 or not all(_unknown_word(w) for w in words):
            continue
        if len(words) < len(c.words):
            c = Candidate(text.index(words[0], c.start), c.end, tuple(words))
        before = text[max(0, c.start - 24) : c.start]
        after = text[c.end : c.end + 48]
        person_after = bool(_UNKNOWN_PERSON_AFTER.match(after))
        opening = bool(_SENTENCE_START.search(before))
        if opening and not (person_after or len(c.words) == 2):
            continue
        cue = bool(_UNKNOWN_CUE_BEFORE.search(before)) and not opening
        weak = (
            cue
            and bool(_UNKNOWN_WEAK_BEFORE.search(before))
            and not _UNKNOWN_CONTACT_BEFORE.search(before)
        )
        if not (person_after or len(c.words) == 2 or (cue and not weak)):
            continue
        if not (person_after or (cue and not weak)) and _PLACE_BEFORE.search(before):
            continue  # "held at Laem Chabang", "shipped to Nuku Alofa": a place's two words
        if lang is None:
            lang = lexicon.language_of(text)
        if lang in _NOUNS_CAPITALISED:
            continue  # a German compound is a word no list holds ("Lieferverzögerung")
        out.append(Span(c.start, c.end, PERSON, 0.6, "names"))
    return out


def _whole_inverted(text: str, found: list[Span]) -> list[Span]:
    """A "Surname, Given" that the text's structure found (a mail header, a name column)
    stays one span: it gets the score of the stronger claims on its words ("Wójcik" alone,
    tagged by the model), which would otherwise win and split it. So does a name of several
    words the name lists found ("Trần Văn Hùng" over the structure's "Trần")."""
    out = []
    for span in found:
        value = text[span.start : span.end]
        if (span.source == "shape" and _COMMA_SPACE.search(value)) or (
            span.source == "names" and " " in value.strip()
        ):
            inner = [
                f.score
                for f in found
                if f is not span and span.start <= f.start and f.end <= span.end
            ]
            if inner and max(inner) > span.score:
                span = Span(span.start, span.end, span.entity, max(inner), span.source)
        out.append(span)
    return out


_NAME_LIST = regex.compile(
    r"(?<![\p{L}\p{N}])\p{Lu}\p{Ll}+(?:(?:,\s+|\s+(?:and|&)\s+|,\s+and\s+)\p{Lu}\p{Ll}+){2,}"
    r"(?![\p{L}\p{N}])"
)
_LIST_WORD = regex.compile(r"\p{Lu}\p{Ll}+")


NEAR = 60  # characters around a list of names where a person must have been found


def _name_lists(
    text: str, firsts: frozenset[str], found: list[Span], things: list[tuple[int, int]]
) -> list[Span]:
    """Lists of single names, "Gwen, Rhys, Owain and Carys": when at least two and half of
    the words are first names the lexicon knows, a person was found in or beside the list by
    another rule or the model, and the model takes few of its words for places or
    organisations, the others in the list are names too ("Paris, Lyon and Nice" is not)."""
    out: list[Span] = []
    placed = bytearray(len(text) + 1)  # characters the model calls a place: linear
    for s, e in things:
        placed[s:e] = b"\x01" * (e - s)
    person = bytearray(len(text) + 1)
    for f in found:
        if f.score >= 0.5:
            person[f.start : f.end] = b"\x01" * (f.end - f.start)
    for m in _NAME_LIST.finditer(text):
        words = [(w.start(), w.end()) for w in _LIST_WORD.finditer(text, m.start(), m.end())]
        named = sum(text[a:b] in firsts for a, b in words)
        if named * 2 < len(words) or named < 2:
            continue
        places = sum(bool(placed[a]) for a, _ in words)
        near = person[max(0, m.start() - NEAR) : m.end() + NEAR]  # a person in or beside it
        if places * 2 > named or not any(near):
            continue
        # a weaker claim on a word of the list (scored under the threshold) loses to this one
        out += [Span(a, b, PERSON, 0.6, "list") for a, b in words if not _is_common(text[a:b])]
    return out


# a surname's apostrophe after its particle ("o'neill", "d'souza"), not a contraction ("he's")
_PARTICLE_APOSTROPHE = regex.compile(r"(?:o|d|l|mc|dell)['\u2019]\p{L}{2}", regex.IGNORECASE)
_LOWER_NEXT = regex.compile(r"[^\S\n](\p{Ll}[\p{Ll}\p{M}'\u2019-]*\p{Ll})(?![\p{L}\p{N}@])")
# in a note written in lower case: what a person does after their name
_LOWER_PERSON_AFTER = regex.compile(
    r"^[^\S\n]+(?:is|was|has|had|will|would|can|could|did|does|said|says|took|takes|covers"
    r"|covering|gave|wants|needs|asked|asks|called|rang|restarted|fixed|sent|says|thinks"
    r"|replies|knows|owes|agrees|confirms|left|(?:already|just|still|also|never"
    r"|finally)[^\S\n]+\p{Ll}+"
    r"|on[^\S\n]+(?:leave|holiday|vacation|pto|call)|\p{Ll}+ed)\b|^['\u2019]s[^\S\n]"
)
_LOWER_AND = regex.compile(r"^[^\S\n]+(?:and|&|\+|or)[^\S\n]+(\p{Ll}+)\b")
_LOWER_CUE = regex.compile(
    r"\b(?:to|from|with|for|chase|remind|ping|ask|tell|cc|it's|its|it is|handover to"
    r"|hand over to|and|or|via|w/|ty|per|waiting on|try|let|thanks to|did|does|has|is|was"
    r"|are|were|call back|then|if|told|text|dm|message|friend|colleague)"
    r"[^\S\n]*[:,]?[^\S\n]*$"
)
# cues before a place as often as before a person: a given name that names a place is one
_PLACE_CUE = regex.compile(r"\b(?:to|from|in|at|via|for)[^\S\n]*$")
# a chat message's first words: an interjection, then whom it addresses ("ok, mira can you")
_INTERJECTIONS = frozenset(
    """ok okay sure yes yeah yep no nope nvm np thx thanks ty hey hi ja oui si sí da tak tamam
    evet sawa jo nee cool great""".split()  # noqa: SIM905
)
_OPENER = regex.compile(
    rf"[^\S\n]*(?:(?:{'|'.join(sorted(_INTERJECTIONS))})[^\S\n]*[,!.]?[^\S\n]+)?$",
    regex.IGNORECASE,
)
_ADDRESSED = regex.compile(
    r"(?:[^\S\n]*[,:][^\S\n]|[^\S\n]+(?:can|could|would|will|do|did|are|have|pls|please"
    r"|plz)\b)"
)
_SPEAKER_END = regex.compile(r"[^\S\n]*[:>][^\S\n]*")


def _messages(text: str) -> dict[int, int] | None:
    """In a chat transcript (a speaker found on some line: "[10:02] Ingrid:", "<ahmedk>",
    "Rosalind Achebe  9:41 AM"), where each line's message starts: after its speaker, or at
    the line's start (a Slack export's message lines). None when the text is no chat."""
    found = list(speakers(text))
    if not found:
        return None
    starts: dict[int, int] = {}
    for sp in found:
        line = text.rfind("\n", 0, sp.start) + 1
        end = _SPEAKER_END.match(text, sp.end)
        starts[line] = end.end() if end else sp.end
    return starts


def _message_lower(text: str, start: int, messages: dict[int, int]) -> tuple[int, bool]:
    """Where the message holding `start` begins, and whether it is written in lower case
    (speakers capitalised, messages not: the text as a whole is not in lower case)."""
    line = text.rfind("\n", 0, start) + 1
    body = messages.get(line, line)
    if body > start:
        body = line
    stop = text.find("\n", start)
    words = _LETTERS.findall(text, body, stop if stop != -1 else len(text))
    lower = len(words) >= 3 and sum(w.islower() for w in words) >= 0.85 * len(words)
    return body, lower


def _lower_case_names(text: str, firsts: frozenset[str], found: list[Span]) -> list[Span]:
    """Lower-case first names (and a surname after them) with a cue before or a verb after;
    in a note written in lower case, also before what a person does ("ahmed restarted"),
    after "to", "from", "for", and beside another name ("nadia and tom"). In a chat
    transcript, a message in lower case is read so too, and a first name that opens a
    message addresses someone ("mira can you...", "ok, wojtek, the parcel...")."""
    if not any(ch.islower() for ch in text):
        return []
    words = _LETTERS.findall(text)
    lower_style = len(words) >= 4 and sum(w.islower() for w in words) >= 0.85 * len(words)
    covered = bytearray(len(text) + 1)  # characters already in a name: linear, not quadratic
    for f in found:
        covered[f.start : f.end] = b"\x01" * (f.end - f.start)
    out: list[Span] = []
    messages: dict[int, int] | None = None
    chat: bool | None = None  # decided once, when a lower-case given name first needs it
    lang: str | None = None  # the text's language, guessed once when a rule needs it
    for m in _LOWER_WORD.finditer(text):
        word = m.group()
        if word in COMMON_WORDS or covered[m.start()] or not _given(word, firsts):
            continue
        if word not in lexicon.WORD_NAMES and lexicon.is_english_word(word):
            continue  # "ping", "long": a romanised name's syllable, in lower case a word
        styled, body = lower_style, -1
        if not lower_style:
            if chat is None:
                messages = _messages(text)
                chat = messages is not None
            if messages is not None:
                body, styled = _message_lower(text, m.start(), messages)
        end = m.end()
        nxt = _LOWER_NEXT.match(text, end)
        verb_next = _VERB_AFTER.match(text[end:]) or _PERSON_VERB_AFTER.match(text[end:])
        if nxt and nxt.group(1) not in COMMON_WORDS and not verb_next:
            surname = nxt.group(1)
            particle = _PARTICLE_APOSTROPHE.match(surname) is not None
            contraction = ("'" in surname or "\u2019" in surname) and not particle
            if contraction or lexicon.is_english_word(surname):
                pass  # "grant read access", "emeka beat me to it", "sipho he's", "aroha back"
            elif particle or lexicon.is_name_word(surname) or not styled:
                end = nxt.end()  # "olivia bennett", "sam o'neill"
        before = text[max(0, m.start() - 24) : m.start()]
        after = text[end : end + 24]
        two_words = end > m.end()
        ok = bool(_cue_before(before) or (two_words and _PERSON_VERB_AFTER.match(after)))
        if (
            not ok
            and body >= 0
            and styled
            and word not in lexicon.WORD_NAMES
            and word not in _INTERJECTIONS
            and _OPENER.fullmatch(text, body, m.start())
            and _ADDRESSED.match(text, end)
        ):
            ok = True  # "mira can you take it", "wojtek, paczka jest": whom the message asks
        if not ok and styled:
            plain = word not in lexicon.WORD_NAMES or two_words
            strong_after = _PERSON_VERB_AFTER.match(after) or regex.match(
                r"^[^\S\n]+is[^\S\n]+(?:covering|on|off|out|away)\b", after
            )
            place = (
                not two_words
                and word.capitalize() in lexicon.place_names()
                and _PLACE_CUE.search(before)
            )  # "moved to kenya"; "from marco rossi" is a person
            ok = bool(strong_after) or (
                plain
                and not place
                and bool(
                    _LOWER_PERSON_AFTER.match(after)
                    or _LOWER_CUE.search(before)
                    or _pair(_LOWER_AND.match(after), firsts)
                )
            )
        if not ok and (styled or messages is not None):
            # informal text (lower case, or a chat): a given name that is rare as a word in
            # English, in the text's language and elsewhere is a name without a cue
            # ("morning rahul!", "anyone seen niamh?"); "mira", "mei", "paz" are words
            if lang is None:
                lang = lexicon.language_guess(text)
            ok = bool(lexicon.rare_as_word(word, lang))
        if ok:
            out.append(Span(m.start(), end, PERSON, 0.55, "names"))
            covered[m.start() : end] = b"\x01" * (end - m.start())
    return out


def _given(word: str, firsts: frozenset[str]) -> bool:
    """A lower-case word the given-name lists know, with its accents or without them
    ("ciarán": the lists hold "Ciaran"; a word with accents is seldom English)."""
    if word.capitalize() in firsts:
        return True
    if "-" in word and "-".join(p.capitalize() for p in word.split("-")) in firsts:
        return True  # "anne-marie": the lists hold "Anne-Marie"
    if word.isascii():
        return False
    bare = "".join(
        ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn"
    )
    return bare != word and bare.isascii() and bare.capitalize() in firsts


def _pair(m: regex.Match[str] | None, firsts: frozenset[str]) -> bool:
    return m is not None and m.group(1).capitalize() in firsts


def _known_pattern(known: frozenset[str]) -> regex.Pattern[str] | None:
    """One case-insensitive pattern for the known full names (two words or more)."""
    names = sorted((n for n in known if " " in n), key=len, reverse=True)
    if not names:
        return None
    parts = [r"\s+".join(regex.escape(w) for w in n.split()) for n in names]
    return regex.compile(
        rf"(?<![\p{{L}}\p{{N}}])(?:{'|'.join(parts)})(?![\p{{L}}\p{{N}}])", regex.IGNORECASE
    )
