"""After the name finders: what is not a name after all, and every other mention of one that is.

- `vetoed`: a found name loses the greetings, titles and labels at its edges ("Guten Morgen",
  "Ihre Verwaltung" are nothing once "Guten", "Ihre" and the nouns go), and is dropped when it
  names a place or a company ("Victoria Station", "Johnson Controls", "Ogunleye & Partners",
  a brand named after its founder standing alone) or when, in a text that is not English, only
  the English model vouched for a word that no name list knows (a capitalised German noun).
- `mentions`: once a name is found, its other mentions in the same text are names too, in
  any case ("Olamide" after "Olamide Adeyemi", "TOM" and "tom" after "Tom"), the first name
  alone included ("bartosz" after the speaker "Bartosz"); a word that is also an everyday
  English word ("Hope", "Will", "Keys"; `lexicon.is_english_word`) is matched in lower case
  only where it was found in lower case or the text is written in lower case.
"""

from __future__ import annotations

import regex

from dsar.text.detectors import PERSON, Span
from dsar.text.lexicon import (
    STOP_WORDS,
    is_english_word,
    is_name_word,
    language_of,
    name_lexicon,
)

_PARTICLES = frozenset(
    """van von de der den du le la di da del della dos das ten ter bin binti bint ibn al el
    ní nic ó ui uí mac mc st y i""".split()  # noqa: SIM905 - a word list reads better as text
)
# last words that make a run a place, a room, a company or a product
_THING_WORDS = frozenset(
    """street st road rd avenue ave lane square park bridge station airport hospital clinic
    room hall building house tower centre center court place way drive close crescent
    terrace gardens estate campus college school university library museum theatre
    theater stadium arena hotel inn lodge controls motor motors freight sons brothers bros
    partners solicitors associates chambers trust fund foundation institute academy
    chair lamp rug table sofa desk valve pump engine series edition collection boardroom
    ward infirmary dental surgery pharmacy engineering builders merchants works mill farm
    garage cafe café restaurant bar pub shop store market service services center centre
    gmbh ag ltd inc llc plc co company group logistik logistics bank armchair stool bench
    bed cabinet wardrobe dresser couch ottoman recliner shelf shelving bookcase mirror
    clock vase mug kettle blender mattress cushion pillow curtain blind rail""".split()  # noqa: SIM905
)
_THING_BEFORE = regex.compile(
    r"(?:\b(?:room|station|hospital|hall|ward|building|street|avenue|bridge|airport|campus"
    r"|wing|block|suite|warehouse|depot|the)[^\S\n]+|[-–]|[/\\])$",
    regex.IGNORECASE,
)
_THING_AFTER = regex.compile(
    r"^[^\S\n]*(?:&|\+|and[^\S\n]+(?:sons|co|partners)\b)", regex.IGNORECASE
)
# "Marks & Spencer", "Procter & Gamble": the word before the ampersand is no given name
_AMPERSAND_BEFORE = regex.compile(r"(?<![\p{L}])(?P<word>\p{Lu}[\p{L}'\u2019-]+)[^\S\n]*&[^\S\n]*$")
# a log line's level before a capitalised word: a program's component ("WARN  Scheduler:")
_LOG_LEVEL_BEFORE = regex.compile(
    r"\b(?:INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL|CRITICAL|NOTICE)\]?[^\S\n]+(?:\[[^\]\n]*\][^\S\n]*)?$"
)
# companies and brands named after people: alone, they name the company
_BRANDS = frozenset(
    """ford dyson bosch siemens philips porsche ferrari lamborghini maserati bugatti dell
    boeing disney hilton marriott tesla chanel dior gucci prada hermès versace armani
    bentley cadbury heinz nestlé nestle michelin peugeot renault citroën citroen dodge
    chrysler chevrolet honda toyota suzuki yamaha kawasaki mercedes benz daimler audi opel
    miele braun kellogg kelloggs mcdonald mcdonalds wendy wendys hershey mars boots
    sainsbury sainsburys tesco lidl aldi ikea zara lego nike adidas puma reebok dunhill
    deloitte ernst accenture barclays lloyds hsbc schwab fargo morgan stanley goldman sachs
    jpmorgan chase merrill lynch wells johnson gillette colgate palmolive bayer merck pfizer
    roche novartis sanofi dupont hewlett packard compaq siemens bose marshall fender gibson
    casio seiko rolex cartier tiffany louis vuitton jaguar rover morris austin hoover
    dewalt makita stanley kenwood sony kodak xerox harrods selfridges wickes linde otto
    krause""".split()  # noqa: SIM905
)
_GERMANIC_NOUN = regex.compile(
    r"(?:ung|heit|keit|schaft|nis|tät|tion|ment|chen|lein|ei|ium|ismus|ling|ur|ät)$"
)
_MENTION_SOURCES = ("names", "ner", "list")
_THING_FIRST = frozenset(("spedition", "firma", "klinikum", "restaurant", "hotel", "café", "cafe"))
_NEXT_WORD = regex.compile(r"['\u2019]?s?[^\S\n]+(\p{L}+)")


_GIVEN_BEFORE = regex.compile(r"(?<![\p{L}])(\p{Lu}\p{Ll}+)[^\S\n]+$")
_AMPERSAND_NAME = regex.compile(r"[^\S\n]*&[^\S\n]*(\p{Lu}[\p{L}'\u2019-]+)")


# patterns compiled once (a string pattern is looked up in regex's cache at every call)
_SPLIT_COMMA = regex.compile(r"[\s,]+")
_NOT_SPACE_OR_COMMA = regex.compile(r"[^\s,]+")
_SPLIT_NAME = regex.compile(r"[\s,/]+")


def _person_after(text: str, end: int, firsts: frozenset[str]) -> bool:
    """True when a given name follows the ampersand ("Ravi & Priya"), not "& Sons"."""
    m = _AMPERSAND_NAME.match(text, end)
    return m is not None and m.group(1) in firsts


def _next_thing(text: str, end: int) -> bool:
    m = _NEXT_WORD.match(text, end)
    return m is not None and m.group(1).casefold() in _THING_WORDS


_COMPANY_AFTER = regex.compile(
    r"^[^\S\n]+(?:analytics|pay|labs|systems|solutions|technologies|group|bank|capital|partners"
    r"|consulting|software|cloud|health|insurance|airlines|motors?|studios?|media|digital"
    r"|holdings|ventures|foods|logistics|networks|security|services|gmbh|ltd|inc|llc|plc|corp"
    r"|controls|freight|street|road|station|room|hall|hospital|office|team|trial|app)\b",
    regex.IGNORECASE,
)


def vetoed(
    text: str, spans: list[Span], firsts: frozenset[str], lasts: frozenset[str]
) -> list[Span]:
    """The spans with greetings, titles and labels cut from their edges, less those that
    name a place, a company or (in a text that is not English) an unknown capitalised word."""
    lang = language_of(text)
    out = []
    for span in spans:
        if span.entity != PERSON or span.source == "known":
            out.append(span)
            continue
        trimmed = _trim(text, span)
        if trimmed is None:
            continue
        value = text[trimmed.start : trimmed.end]
        words = [w for w in _SPLIT_COMMA.split(value) if w]
        folded = [w.casefold().strip(".'\u2019") for w in words]
        if folded[0] in _THING_FIRST or (
            folded[-1] in _THING_WORDS
            and not _surname_thing(text, trimmed.start, words, span.source == "ner", firsts, lasts)
        ):
            continue
        if _NEXT_WORD.match(text, trimmed.end) and _next_thing(text, trimmed.end):
            continue  # "Mandela House", "St Thomas' Hospital", "Linde service"
        if all(f in _BRANDS for f in folded) and span.source != "shape":
            continue
        if _THING_AFTER.match(text[trimmed.end : trimmed.end + 12]) and not _person_after(
            text, trimmed.end, firsts
        ):
            continue
        before = text[max(0, trimmed.start - 40) : trimmed.start]
        if span.source != "shape" and _THING_BEFORE.search(before[-12:]):
            continue
        amp = _AMPERSAND_BEFORE.search(before)
        if span.source != "shape" and amp and amp.group("word") not in firsts:
            continue  # "Marks & Spencer", "Ernst & Young"; "Ravi & Priya" are two people
        if span.source in ("names", "ner") and _LOG_LEVEL_BEFORE.search(before):
            continue
        if lang != "en" and span.source in _MENTION_SOURCES and span.score < 0.9:
            known = any(w in firsts or w in lasts or is_name_word(w) for w in words)
            if not known or (
                len(words) == 1 and _GERMANIC_NOUN.search(folded[0]) and words[0] not in firsts
            ):
                continue
        out.append(trimmed)
    return out


# thing words that are common surnames too: after a given name, a person ("Matthew Lane")
_SURNAME_THINGS = frozenset(
    "hall lane park court house bridge mill mills farm ward field church castle hill wells".split()  # noqa: SIM905
)
_PLACE_BEFORE = regex.compile(r"\b(?:at|in|to|from|near|the|via|on|into|outside)[^\S\n]+$", regex.I)


def _surname_thing(
    text: str,
    start: int,
    words: list[str],
    ner: bool,
    firsts: frozenset[str],
    lasts: frozenset[str],
) -> bool:
    """A given name and a surname that is also a thing word ("Elaine Hall", "Matthew Lane"):
    a person (the surname known, or the model says so), unless a place word comes before it
    ("at Albert Hall")."""
    return (
        len(words) == 2
        and words[0] in firsts
        and (words[1] in lasts or ner or words[1].casefold() in _SURNAME_THINGS)
        and not _PLACE_BEFORE.search(text[max(0, start - 10) : start])
    )


def _trim(text: str, span: Span) -> Span | None:
    """The span less leading greetings, titles and labels (and lower-case words before a
    capitalised name); None when a label or a thing word ends it ("Victoria Station",
    "Customer Success Manager"): then it was never a person's name."""
    words = list(_NOT_SPACE_OR_COMMA.finditer(text[span.start : span.end]))
    value = text[span.start : span.end]
    for i, w in enumerate(words[1:], 1):
        # a name that ran on past a line break or a particle into a job title or a company
        # ("Declan Moriarty\nHead of Operations", "Jens Baumann von der Firma Otto"): cut there
        broke = "\n" in value[words[i - 1].end() : w.start()]
        if (broke or words[i - 1].group().casefold() in _PARTICLES) and (
            _stop(w.group()) or w.group().casefold() in _THING_WORDS | _THING_FIRST
        ):
            words = words[:i]
            break
    if len(words) > 1 and _stop(words[-1].group()) and span.source != "shape":
        return None
    capitalised = any(w.group()[:1].isupper() for w in words)
    while words and (
        _stop(words[0].group())
        or (
            capitalised
            and words[0].group()[:1].islower()
            and words[0].group().casefold() not in _PARTICLES
        )
    ):
        words.pop(0)
    while words and (_stop(words[-1].group()) or words[-1].group().casefold() in _PARTICLES):
        words.pop()
    if not words:
        return None
    start, end = span.start + words[0].start(), span.start + words[-1].end()
    if (start, end) == (span.start, span.end):
        return span
    return Span(start, end, span.entity, span.score, span.source)


def _stop(word: str) -> bool:
    folded = word.casefold().replace("i\u0307", "i").strip(".:;!?'\u2019\"")
    return folded in STOP_WORDS and folded not in _PARTICLES


def mentions(text: str, found: list[Span], threshold: float) -> list[Span]:
    """Other mentions of the names found (score at least `threshold`), the name's words alone
    included, in any case."""
    names = {text[s.start : s.end] for s in found if s.entity == PERSON and s.score >= threshold}
    if not names:
        return []
    forms: dict[str, bool] = {}  # form -> found in lower case
    for name in names:
        lower = name.islower()
        parts = [name, *_SPLIT_NAME.split(name)] if " " in name or "," in name else [name]
        for part in parts:
            part = part.strip(".'\u2019-")
            folded = part.casefold()
            if len(part) < 2 or folded in STOP_WORDS or folded in _PARTICLES:
                continue
            if len(part) < 3 and part.isascii():
                continue
            forms[part] = forms.get(part, False) or lower
    covered = bytearray(len(text) + 1)
    for s in found:
        if s.score >= threshold:
            covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    out = []
    for form in sorted(forms, key=len, reverse=True):
        cased = any(ch.isupper() or ch.islower() for ch in form)
        for start, end in _occurrences(text, form, cased):
            if covered[start] or covered[end - 1]:
                continue
            if _COMPANY_AFTER.match(text[end : end + 16]) or _THING_AFTER.match(
                text[end : end + 12]
            ):
                continue  # "Ada Analytics" after "Ada Nowak": the company
            seen = text[start:end]
            if seen != form and seen.islower() and not forms[form] and is_english_word(seen):
                continue  # "hope" after "Hope Addison", "keys" after "Keys": the word
            given = _GIVEN_BEFORE.search(text, max(0, start - 30), start)
            if given and " " not in form and given.group(1) in name_lexicon()[0]:
                continue  # "Albert Hall" after "Elaine Hall": another name, judged whole
            out.append(Span(start, end, PERSON, 0.6, "mention"))
            covered[start:end] = b"\x01" * (end - start)
    return out


def _occurrences(text: str, form: str, cased: bool) -> list[tuple[int, int]]:
    """Where `form` occurs in any case, as a whole word when it is written with letters that
    have case (a name in Han or Arabic script is found inside a run of its script). A plain
    search on the lower-cased text: a pattern compiled per name would cost more than the
    search (every text has its own names)."""
    low, f = text.lower(), form.lower()
    if len(low) != len(text) or len(f) != len(form):  # case mapping changed a length
        pattern = regex.escape(form)
        if cased:
            pattern = rf"(?<![\p{{L}}\p{{N}}_@.]){pattern}(?![\p{{L}}\p{{N}}_@])"
        return [m.span() for m in regex.finditer(pattern, text, regex.IGNORECASE)]
    out = []
    i = low.find(f)
    while i != -1:
        j = i + len(f)
        before = text[i - 1] if i else " "
        after = text[j] if j < len(text) else " "
        if not cased or (
            not (before.isalnum() or before in "_@.") and not (after.isalnum() or after in "_@")
        ):
            out.append((i, j))
        i = low.find(f, i + 1)
    return out
