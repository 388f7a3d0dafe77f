"""After the name finders: what is not a name after all, and every other mention of one that is.

- `vetoed`: a found name loses the greetings, titles and labels at its edges ("Guten Morgen",
  "Ihre Verwaltung" are nothing once "Guten", "Ihre" and the nouns go), and is dropped when it
  names a place or a company ("Victoria Station", "Johnson Controls", "Ogunleye & Partners",
  a brand named after its founder standing alone) or when, in a text that is not English, only
  the English model vouched for a word that no name list knows (a capitalised German noun),
  or when a chat speaker, a form's value, a greeting's addressee, a signature or a header
  holds only words no name list knows that read as labels (a role, desk, department, bot or
  acronym, or a common word of the text's language or English: "Housekeeping:", "Hola
  Compras,", "NOC:") and nothing elsewhere in the text vouches for them (a full name, an
  @mention, a title).
- `mentions`: once a name is found, its other mentions in the same text are names too, in
  any case ("Olamide" after "Olamide Adeyemi", "TOM" and "tom" after "Tom"), the first name
  alone included ("bartosz" after the speaker "Bartosz"), typed without its accents too
  ("bjorn" after "Björn", "ayse" after "Ayşe"); a word that is also an everyday
  English word ("Hope", "Will", "Keys"; `lexicon.is_english_word`) is matched in lower case
  only where it was found in lower case or the text is written in lower case.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

from dsar.text.detectors import PERSON, Span
from dsar.text.lexicon import (
    COMMON_ZIPF,
    GREETING_WORDS,
    ROLE_LABELS,
    STOP_WORDS,
    TITLE_WORDS,
    common_word,
    is_english_word,
    is_name_word,
    label_word,
    language_guess,
    language_of,
    listed_anywhere,
    name_lexicon,
    place_names,
    zipf,
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
    clock vase mug kettle blender mattress cushion pillow curtain blind rail
    blvd boulevard dock docks quay pier harbour harbor wharf terminal allee straße strasse
    platz gasse ufer damm chaussee laan straat plein gracht kade caddesi sokak bulvarı
    holding stiftung gruppe groep grupa kargo truck trucks tools mail electric supermarkt
    supermarkten supermarkets transporte spedition express haulage shipping distribution
    nv bv kg ohg spa srl sarl depot depots stores shops warehouse warehouses outlet
    outlets courier couriers transport transports superstore superstores""".split()  # noqa: SIM905
)
# job titles: a run that ends in one, or one word right before one, is a role, not a person
_ROLE_WORDS = frozenset(
    """manager coordinator director operator interviewer reviewer officer supervisor
    dispatcher analyst solicitor attorney counsel paralegal barrister notary""".split()  # noqa: SIM905
)
_ROLE_NEXT = regex.compile(r" (\p{L}+)")
# words that open a street's or a square's name in many languages ("Rua Augusta")
_STREET_FIRST = frozenset(
    """calle rua rue via viale piazza plaza praça avenida boulevard ulica aleja plac corso
    strada largo carrer paseo""".split()  # noqa: SIM905
)
_STREET_BEFORE = regex.compile(
    r"\b(?:Calle|Rua|Rue|Via|Viale|Piazza|Plaza|Praça|Avenida|Boulevard|Ulica|ul\.|Aleja"
    r"|Plac|Corso|Strada|Largo|Carrer|Paseo)[^\S\n]+$"
)
# articles that no person's name begins with ("Die Ware", "Het Magazijn", "Les Halles")
_ARTICLES_FIRST = frozenset(
    "die der den dem des het een ein eine einen einem einer les il gli los las una une".split()  # noqa: SIM905
)
# in German and Dutch every noun is capitalised: after an article it is a noun, not a name
_ARTICLE_BEFORE = regex.compile(
    r"(?<![\p{L}])(?:der|die|das|den|dem|des|ein|eine|einer|einem|einen|eines|zum|zur|vom"
    r"|beim|het|een|de|deze|dit|onze|uw|unsere|ihre|seine)[^\S\n]+$"
)
# a field for a party to a shipment or a call, a company as often as a person: its value is
# a person's name only when it starts with a given name (or a title vouches for it)
PARTY_LABEL_BEFORE = regex.compile(
    r"(?:^|\n)[^\S\n]*(?:caller|bill to|ship to|sold to|deliver to|remit to|consignee|shipper"
    r"|notify party|sender|recipient|absender|empfänger|auftraggeber|expéditeur|destinataire"
    r"|remitente|destinatario|mittente|afzender|ontvanger|nadawca|odbiorca)[^\S\n]*:[^\S\n]*$",
    regex.IGNORECASE,
)
_NOUN_PARTICLE_BEFORE = regex.compile(
    r"(?<![\p{L}])(?P<noun>\p{Lu}\p{Ll}{3,})[^\S\n]+(?:von|van|vom)[^\S\n]+$"
)
_LABEL_AFTER = regex.compile(r"(?:[^\S\n]+\p{Ll}{1,4})?[^\S\n]*:")
_LINE_START = regex.compile(r"(?:^|\n)[^\S\n]*$")
# a line's or a sentence's start, a chat line's time or a bullet before a word
_OPENING = regex.compile(r"(?:^|[.!?:;\n\-\u2013\u2014\u2022*>\[\](){}\"'|]|\d)[^\S\n]*$")
# a label of a few capitalised words before its colon ("Security Check:", "Next Steps:")
_LABEL_LINE_START = regex.compile(r"(?:^|\n)[^\S\n]*(?:\p{Lu}[\p{L}'-]*[^\S\n]+){1,2}$")
# what a company's or a product's name holds and a person's does not
_COMPANY_MARK = regex.compile(r"[&+\d@]")
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
_LOG_LEVELS = ("INFO", "WARN", "ERROR", "DEBUG", "TRACE", "FATAL", "CRITICAL", "NOTICE")


def _log_level_before(before: str) -> bool:
    """`_LOG_LEVEL_BEFORE.search(before)`, searched only where a level's word is."""
    return any(level in before for level in _LOG_LEVELS) and bool(_LOG_LEVEL_BEFORE.search(before))


# companies and brands named after people: alone, they name the company
_BRANDS = BRANDS = (
    frozenset(
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
    | frozenset(
        # products support tickets name, alone: a browser, an app, a device, not a person
        """safari chrome firefox notion slack zoom jira outlook excel windows android iphone ipad
    macbook kindle xbox playstation spotify netflix shopify salesforce hubspot zendesk
    freshdesk asana trello dropbox""".split()  # noqa: SIM905
    )
    | frozenset(
        # software a ticket names, capitalised: a framework, a database, a service
        """django redis kafka grafana kibana celery flask nginx apache postgres postgresql mongo
    mongodb elasticsearch kubernetes terraform ansible docker heroku vercel netlify sentry
    datadog prometheus jupyter numpy pandas hadoop airflow snowflake tableau looker figma
    github gitlab bitbucket confluence webpack laravel symfony wordpress drupal magento
    woocommerce mailchimp sendgrid twilio stripe klarna adyen paypal okta auth0 firebase
    supabase cloudflare akamai fastly splunk pagerduty opsgenie zapier airtable""".split()  # noqa: SIM905
    )
)
# companies and shops named after people, as a whole ("Albert Heijn", "Grant Thornton")
_BRAND_PHRASES = frozenset(
    ("albert heijn", "grant thornton", "ernst young", "hugo boss", "tommy hilfiger",
     "ralph lauren", "calvin klein", "john lewis", "marks spencer", "ted baker",
     "victoria beckham", "estée lauder", "estee lauder", "max mara", "jack wolfskin",
     "jack jones", "martin brower", "lincoln financial")
)  # fmt: skip
_GERMANIC_NOUN = regex.compile(
    r"(?:ung|heit|keit|schaft|nis|tät|tion|ment|chen|lein|ei|ium|ismus|ling|ur|ät)$"
)
_MENTION_SOURCES = ("names", "ner", "list")
_THING_FIRST = frozenset(
    """spedition firma klinikum restaurant hotel café cafe tienda loja boutique magasin negozio
    winkel sklep maison chez atelier bodega trattoria pizzeria boulangerie""".split()  # noqa: SIM905
)
_NEXT_WORD = regex.compile(r"['\u2019]?s?[^\S\n]+(\p{L}+)")


_GIVEN_BEFORE = regex.compile(r"(?<![\p{L}])(\p{Lu}\p{Ll}+)[^\S\n]+$")
_AMPERSAND_NAME = regex.compile(r"[^\S\n]*[&+][^\S\n]*(\p{L}[\p{L}'\u2019-]+)")


# patterns compiled once (a string pattern is looked up in regex's cache at every call)
_SPLIT_COMMA = regex.compile(r"[\s,]+")
_NOT_SPACE_OR_COMMA = regex.compile(r"[^\s,]+")
_SPLIT_NAME = regex.compile(r"[\s,/]+")


def _person_after(text: str, end: int, firsts: frozenset[str]) -> bool:
    """True when a given name follows the ampersand ("Ravi & Priya", "ravi + meg" in lower
    case), not "& Sons"."""
    m = _AMPERSAND_NAME.match(text, end)
    if m is None:
        return False
    word = m.group(1)
    return word in firsts or (word.islower() and word.capitalize() in firsts)


def _next_thing(text: str, end: int) -> bool:
    m = _NEXT_WORD.match(text, end)
    return m is not None and m.group(1).casefold() in _THING_WORDS


_COMPANY_AFTER = regex.compile(
    r"^[^\S\n]+(?:analytics|pay|labs|systems|solutions|technologies|group|bank|capital|partners"
    r"|consulting|software|cloud|health|insurance|airlines|motors?|studios?|media|digital"
    r"|holdings|ventures|foods|logistics|networks|security|services|gmbh|ltd|inc|llc|plc|corp"
    r"|controls|freight|street|road|station|room|hall|hospital|office|team|trial|app"
    r"|logística|logistica|logistique|logistik|transportes|consultores|consultoria)\b",
    regex.IGNORECASE,
)


def vetoed(
    text: str, spans: list[Span], firsts: frozenset[str], lasts: frozenset[str]
) -> list[Span]:
    """The spans with greetings, titles and labels cut from their edges, less those that
    name a place, a company or (in a text that is not English) an unknown capitalised word."""
    # the language is guessed only for a text with a name to vet (its lists load lazily)
    lang = "en"
    if any(s.entity == PERSON and s.source != "known" for s in spans):
        lang = language_of(text)
    guessed: list[str] = []  # the frequency rules' guess of the language, made once if needed
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
        if len(words) > 1 and words[0].islower() and words[1] in firsts:
            # "hier ist der Torsten", "Codice fiscale di Giulia": an article or a preposition
            # before a given name is no particle of it
            start = trimmed.start + value.index(words[1], len(words[0]))
            trimmed = Span(start, trimmed.end, trimmed.entity, trimmed.score, trimmed.source)
            value = text[trimmed.start : trimmed.end]
            words, folded = words[1:], folded[1:]
        if span.source in ("names", "ner") and len(words) >= 2:
            edged = _edges(text, trimmed, lang, firsts, lasts)
            if edged is not trimmed:
                trimmed = edged
                value = text[trimmed.start : trimmed.end]
                words = [w for w in _SPLIT_COMMA.split(value) if w]
                folded = [w.casefold().strip(".'\u2019") for w in words]
        if "\n" in value and span.source in ("names", "ner"):
            trimmed = _named_lines(text, trimmed, firsts, lasts)
            value = text[trimmed.start : trimmed.end]
            words = [w for w in _SPLIT_COMMA.split(value) if w]
            folded = [w.casefold().strip(".'\u2019") for w in words]
        if _unknown_in_its_script(words, span.source, firsts, lasts):
            continue
        if "\n" in value and folded[-1] in _THING_WORDS | _ROLE_WORDS:
            # a name that ran on over a line break into a role or a place: the first line
            cut = value.index("\n")
            head = value[:cut].rstrip()
            if not head.strip():
                continue
            trimmed = Span(
                trimmed.start, trimmed.start + len(head), span.entity, span.score, span.source
            )
            value = head
            words = [w for w in _SPLIT_COMMA.split(value) if w]
            folded = [w.casefold().strip(".'\u2019") for w in words]
        if len(words) > 2 and trimmed.source in _MENTION_SOURCES:
            trimmed, words, folded = _after_a_noun(text, trimmed, words, folded, firsts, lasts)
            value = text[trimmed.start : trimmed.end]
        if _not_a_person(text, trimmed, words, folded, lang, firsts, lasts):
            continue
        if folded[0] in _THING_FIRST or (
            folded[-1] in _THING_WORDS | _ROLE_WORDS
            and not _surname_thing(text, trimmed.start, words, span.source == "ner", firsts, lasts)
        ):
            continue
        if _NEXT_WORD.match(text, trimmed.end) and _next_thing(text, trimmed.end):
            continue  # "Mandela House", "St Thomas' Hospital", "Linde service"
        role = _ROLE_NEXT.match(text, trimmed.end)
        if len(words) == 1 and role and role.group(1).casefold() in _ROLE_WORDS:
            continue  # "Regional Manager", "Fleet Coordinator"
        if all(f in _BRANDS for f in folded) and span.source != "shape":
            continue
        if " ".join(f for f in folded if f not in ("&", "and")) in _BRAND_PHRASES:
            continue
        if _THING_AFTER.match(text[trimmed.end : trimmed.end + 12]) and not _person_after(
            text, trimmed.end, firsts
        ):
            continue
        before = text[max(0, trimmed.start - 40) : trimmed.start]
        if span.source != "shape" and _THING_BEFORE.search(before[-12:]):
            continue
        amp = _AMPERSAND_BEFORE.search(before) if "&" in before else None
        if span.source != "shape" and amp and amp.group("word") not in firsts:
            continue  # "Marks & Spencer", "Ernst & Young"; "Ravi & Priya" are two people
        if span.source in ("names", "ner") and _log_level_before(before):
            continue
        # "Herr Rechtsanwalt Brenninkmeyer": a title vouches for a surname no list knows
        previous = before.split()[-1:]
        titled = bool(previous) and previous[0].casefold().rstrip(".") in TITLE_WORDS
        if lang != "en" and span.source in _MENTION_SOURCES and span.score < 0.9 and not titled:
            known = any(w in firsts or w in lasts or is_name_word(w) for w in words)
            if not known or (
                len(words) == 1 and _GERMANIC_NOUN.search(folded[0]) and words[0] not in firsts
            ):
                continue
        if (
            len(words) == 1
            and words[0][:1].isupper()
            and trimmed.score < 0.9
            and not titled
            and _common_opening(text, words[0], span.source, before)
        ):
            continue  # a common word of the text's language opening a line or a sentence
            # ("[09:12] Hinweis:", "Dobra, to ja biorę", "Paz y tranquilidad"), uncorroborated
        if (
            trimmed.source in _LABEL_SOURCES
            and trimmed.score < 0.9
            and not titled
            and _label_not_name(text, trimmed, words, guessed)
        ):
            continue  # a role, a desk or a word where a person stands ("Housekeeping:",
            # "Hola Compras,", "Groeten,\nPlanning"), no name list's and not corroborated
        out.append(trimmed)
    return out


_LABEL_SOURCES = ("shape", "names", "ner")
# where the text's structure puts a person: a line's head (a time, a bullet, a quote mark
# before it) with a colon after (a speaker, a field's label), or alone on its line (a
# signature, an addressee); a field's value; a greeting's addressee
_LINE_HEAD = regex.compile(
    r"(?:^|\n)[^\S\n]*(?:[\[(]?\d[\d/.:,\-]*(?:[^\S\n]+\d[\d/.:,\-]*)?"
    r"(?:[^\S\n]?[AaPp]\.?[Mm]\.?)?[\])]?[^\S\n]*[-\u2013|]?[^\S\n]*)?(?:[-*\u2022>][^\S\n]*)?$"
)
_FIELD_HEAD = regex.compile(r"(?:^|\n)[^\S\n]*\p{L}[\p{L}\p{M} ./-]{0,30}[:\uff1a][^\S\n]*$")
_COLON_NEXT = regex.compile(r"[^\S\n]*[:\uff1a]")
_LINE_ENDS = regex.compile(r"[^\S\n]*[,.!]?[^\S\n]*(?:\n|$)")
_ADDRESSEE_ENDS = regex.compile(r"[^\S\n]*(?:[,!:;]|\n|$)")
_WORD_AFTER = regex.compile(r"[^\S\n]+(\p{Lu}[\p{L}\p{M}'\u2019-]*)")
_WORD_BEFORE = regex.compile(r"(\p{L}[\p{L}\p{M}'\u2019.-]*)[^\S\n]+$")


_TIME_WORDS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday today tomorrow tonight
    yesterday""".split()  # noqa: SIM905
)
# the words after a place that make it a branch, not a surname ("Tomás Porto branch")
_BRANCH_AFTER = regex.compile(
    r"[^\S\n]+(?:office|branch|team|site|store|shop|depot|hub|desk|warehouse|location)\b",
    regex.IGNORECASE,
)
_EDGE_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'\u2019-]*")


def _common_english(word: str) -> bool:
    """A capitalised word that no name list holds and that English uses at least 10 times
    in a million words ("Great", "Quick", "Tuesday", "Tenant" at 3.5 before a name)."""
    return (zipf(word, "en") or 0.0) >= COMMON_ZIPF


def _edges(text: str, span: Span, lang: str, firsts: frozenset[str], lasts: frozenset[str]) -> Span:
    """A run of a listed given name and a word beside it that no name list holds and that is
    a word, not a name: the given name alone. After it: a weekday or a common English word
    ("Ingrid Tuesday", "Thanks Dimitri Great job", "Hey Jonas Quick question"), a place
    before a branch's word ("Tomás Porto branch", "Priya Dubai office"). Before it: a noun,
    a role or a function word of the text's language ("Tenant Björn Lindqvist", "Hausmeister
    Klaus", "Mein Mann Jürgen" -> "Jürgen")."""
    words = list(_EDGE_WORD.finditer(text, span.start, span.end))
    if len(words) < 2:
        return span
    while len(words) >= 2 and words[1].group() in firsts:
        head = words[0].group()
        if len(head) < 3 or text.startswith(".", words[0].end()):
            break  # an initial ("R. Ahmed")
        folded = head.casefold()
        role = folded in ROLE_LABELS or _stop(head)
        if head in firsts or (head in lasts and not role):
            break
        if not (
            role or (zipf(head, "en") or 0.0) >= 3.5 or (lang != "en" and label_word(head, lang))
        ):
            break
        words.pop(0)
    if len(words) == 2 and words[0].group() in firsts:
        tail = words[1].group()
        listed = tail in firsts or tail in lasts
        if (
            (tail.casefold() in _TIME_WORDS)
            or (not listed and tail not in place_names() and _common_english(tail))
            or (tail in place_names() and _BRANCH_AFTER.match(text, span.end))
        ):
            words.pop()
    start, end = words[0].start(), words[-1].end()
    if (start, end) == (span.start, span.end):
        return span
    return Span(start, end, span.entity, span.score, span.source)


def _structural(text: str, span: Span) -> bool:
    """True when the span stands where a text's structure, not a sentence, names a person:
    found by the structural finders, or a line's head before a colon, a line alone, a
    field's value, or a greeting's addressee."""
    if span.source == "shape":
        return True
    before = text[max(0, span.start - 48) : span.start]
    head = _LINE_HEAD.search(before) is not None
    ends = _LINE_ENDS.match(text, span.end) is not None
    if head and (ends or _COLON_NEXT.match(text, span.end)):
        return True
    if ends and _FIELD_HEAD.search(before):
        return True
    return _greeted(before) and _ADDRESSEE_ENDS.match(text, span.end) is not None


def _label_not_name(text: str, span: Span, words: list[str], guessed: list[str]) -> bool:
    """A run where a chat speaker, a form's value, a greeting's addressee, a signature or a
    header's name stands, that no name list of any culture holds (accents aside: "Ayşe"),
    every word of which reads as a label (`lexicon.label_word`: a role, desk, department,
    bot or acronym, or a common word of the text's language or English), and that nothing
    else in the text vouches for (`_corroborated`). A rare word no list knows stays a name
    ("Tsion:", "Kanokwan:"). `guessed` holds the text's language once guessed."""
    content = [w.strip(".,:;!?'\u2019\"()") for w in words]
    content = [w for w in content if w and w.casefold() not in _PARTICLES]
    if not content or any(len(w) < 2 for w in content) or not _structural(text, span):
        return False  # an initial, or letters a scanner spaced out ("J O H N")
    if any(listed_anywhere(w) for w in content):
        return False
    if _TITLE_BEFORE.search(text, max(0, span.start - 24), span.start):
        return False  # "Gentile Sig.ra Colombo": a title vouches for a surname no list knows
    cheap = all(w.casefold() in ROLE_LABELS or w.casefold() in STOP_WORDS for w in content)
    if not cheap:
        if not guessed:
            guessed.append(language_guess(text))
        if not all(label_word(w, guessed[0]) for w in content):
            return False
    return not _corroborated(text, span, content)


def _corroborated(text: str, span: Span, words: list[str]) -> bool:
    """True when one of the words stands elsewhere in the text as a person's: after an @
    ("@gift"), after a title ("Sr. Planas"), or beside a name list's given name or surname
    ("Memory Chikwanha")."""
    firsts, lasts = name_lexicon()
    for word in words:
        pattern = rf"(?<![\p{{L}}\p{{N}}]){regex.escape(word)}(?![\p{{L}}\p{{N}}])"
        for m in regex.finditer(pattern, text, regex.IGNORECASE):
            s, e = m.span()
            if span.start <= s < span.end:
                continue
            if s and text[s - 1] == "@":
                return True
            prev = _WORD_BEFORE.search(text, max(0, s - 30), s)
            if prev is not None:
                p = prev.group(1)
                if p.casefold().rstrip(".") in TITLE_WORDS or (p[:1].isupper() and p in firsts):
                    return True
            nxt = _WORD_AFTER.match(text, e)
            if nxt is not None and (nxt.group(1) in lasts or nxt.group(1) in firsts):
                return True
    return False


def _named_lines(text: str, span: Span, firsts: frozenset[str], lasts: frozenset[str]) -> Span:
    """A run over line breaks keeps the lines that hold a word of a name list: a signature's
    name, not the department on the next line ("Agnieszka Wróblewska" / "Dział Obsługi"),
    nor a CSV cell on the line before. Unchanged when no line or every line holds one."""
    value = text[span.start : span.end]
    lines, at = [], 0
    for line in value.split("\n"):
        lines.append((at, at + len(line), line))
        at += len(line) + 1
    named = [
        any(w in firsts or w in lasts for w in _SPLIT_COMMA.split(line) if w)
        for _, _, line in lines
    ]
    if not any(named) or all(named):
        return span
    first = named.index(True)
    last = len(named) - 1 - named[::-1].index(True)
    a, b = lines[first][0], lines[last][1]
    a += len(value[a:b]) - len(value[a:b].lstrip())
    b -= len(value[a:b]) - len(value[a:b].rstrip())
    return Span(span.start + a, span.start + b, span.entity, span.score, span.source)


_CASED_NOT_LATIN = regex.compile(r"^[\p{Cyrillic}\p{Greek}\p{M}'\u2019-]+$")


def _unknown_in_its_script(
    words: list[str], source: str, firsts: frozenset[str], lasts: frozenset[str]
) -> bool:
    """A capitalised Cyrillic or Greek run found by capitalisation alone, no word of which a
    name list knows ("Груз", "Почта России"): the case says a sentence starts or a noun is
    stressed, not that a person is named; the script's own finder (shapes) reads declined
    names."""
    return (
        source in ("names", "ner")
        and bool(words)
        and all(_CASED_NOT_LATIN.match(w) for w in words)
        and not any(w in firsts or w in lasts or is_name_word(w) for w in words)
    )


def _after_a_noun(
    text: str,
    span: Span,
    words: list[str],
    folded: list[str],
    firsts: frozenset[str],
    lasts: frozenset[str],
) -> tuple[Span, list[str], list[str]]:
    """A run whose words before a lower-case particle no name list knows (articles aside)
    is a noun and its complement ("Kartons von Rittersport", "Urlaubsantrag von
    Heike"): what follows the particles is left to be judged alone."""
    for i, (w, f) in enumerate(zip(words, folded, strict=True)):
        if i == 0 or f not in _PARTICLES or not w.islower():
            continue
        head = [x for x, g in zip(words[:i], folded[:i], strict=True) if g not in _ARTICLES_FIRST]
        if all(g in _PARTICLES for g in folded[:i]):
            return span, words, folded  # "Van den Bergh", "De la Cruz": particles, no noun
        if any(x in firsts or x in lasts or is_name_word(x) for x in head):
            return span, words, folded
        j = i
        while j < len(words) and folded[j] in _PARTICLES:
            j += 1
        if j == len(words):
            return span, words, folded
        value = text[span.start : span.end]
        at, start = 0, span.start
        for k in range(j):
            at = value.index(words[k], at) + len(words[k])
        start = span.start + value.index(words[j], at)
        return (
            Span(start, span.end, span.entity, span.score, span.source),
            words[j:],
            folded[j:],
        )
    return span, words, folded


def _greeted(before: str) -> bool:
    """A greeting right before ("Hoi Allemaal", "Cześć Wszystkim")."""
    previous = before.split()[-1:]
    return bool(previous) and previous[0].casefold().strip(",.!") in GREETING_WORDS


def _common_opening(text: str, word: str, source: str, before: str) -> bool:
    """A capitalised word opening a line or a sentence of a text in another language than
    English that is a common word of that language (`lexicon.common_word`): "Uwaga",
    "Dobra", "Paz"; or one after a greeting that no name list holds ("Hoi Allemaal", "Cześć
    Wszystkim"; "Olá João" is greeted). Only where capitals and the model found it: a chat
    line's speaker or a form's field vouches for a name ("Paulo:", "Ayşe:", as common in
    Portuguese and Turkish text as words are)."""
    if source == "shape":
        return False
    listed = is_name_word(word)
    if not _OPENING.search(before) and (listed or not _greeted(before)):
        return False
    lang = language_guess(text)
    return lang != "en" and bool(common_word(word, lang, listed=listed))


def _not_a_person(
    text: str,
    span: Span,
    words: list[str],
    folded: list[str],
    lang: str,
    firsts: frozenset[str],
    lasts: frozenset[str],
) -> bool:
    """Uncorroborated runs that read as a street, a company, a noun or a phrase, not a
    person: a street's first word or a street before it ("Rua Augusta", "Via Garibaldi"),
    an article first ("Die Ware"), a particle first with no title or given name before it and
    no name after it ("de Zara" in Spanish, "von Aldi Nord"), a capitalised noun after an
    article in German or Dutch ("die Ware", "de Zending"), and a structural field's value
    holding an ampersand, a digit or a lower-case word ("Ben & Jerry's", "Counsel for
    Lincoln Electric")."""
    before = text[max(0, span.start - 24) : span.start]
    if folded[0] in _STREET_FIRST or _STREET_BEFORE.search(before):
        return True
    if folded[0] in _ARTICLES_FIRST:
        return True
    title: list[bool] = []  # whether a title stands before: searched once, when asked

    def titled() -> bool:
        if not title:
            title.append(bool(_TITLE_BEFORE.search(before)))
        return title[0]

    if folded[0] in _PARTICLES and not titled():
        given = _GIVEN_BEFORE.search(before)  # a given name before: "Luis de Zara"
        if not (given and given.group(1) in firsts):
            rest = [w for w, f in zip(words, folded, strict=True) if f not in _PARTICLES]
            if words[0][:1].islower() and lang != "en":
                return True  # "pedido de Zara", "Lieferung von Aldi"
            if span.source != "shape" and not any(is_name_word(w) for w in rest):
                return True  # "De Zending van Philips"; "De Groot" is a surname
    if (
        lang in ("de", "nl")
        and span.source in _MENTION_SOURCES
        and span.score < 0.9
        and words[0] not in firsts  # "hier ist der Torsten": a given name stays one
        and not titled()
        and _ARTICLE_BEFORE.search(before)
    ):
        return True
    if (
        span.source in ("names", "ner")
        and _LABEL_AFTER.match(text, span.end)
        and (_LINE_START.search(before) or _LABEL_LINE_START.search(before))
        and (
            not any(w in firsts or w in lasts for w in words)
            or (is_english_word(folded[-1]) and words[-1] not in firsts and words[-1] not in lasts)
        )
    ):
        return True  # a field's label ("Kategorie:", "Traité par :"), no name list's word
    if (
        len(words) > 1
        and span.source in _MENTION_SOURCES
        and folded[0] in _BRANDS
        and not any(w in lasts for w in words[1:])
    ):
        return True  # a brand and its product or branch ("Philips Sonicare", "Porsche Cayenne")
    if (
        span.source == "shape"
        and words[0] not in firsts
        and not titled()
        and PARTY_LABEL_BEFORE.search(text[max(0, span.start - 40) : span.start])
    ):
        return True  # "Caller: Kroger Receiving": a party's field, no given name first
    if span.source == "shape" and folded[0].rstrip(",") in _ROLE_WORDS:
        return True  # "Solicitor, Clifford Chance" under a signature: a role and a firm
    noun = (  # "von", "van" or "vom" before: searched only then
        _NOUN_PARTICLE_BEFORE.search(before)
        if len(words) == 1 and ("von" in before or "van" in before or "vom" in before)
        else None
    )
    if (
        noun is not None
        and span.source in _MENTION_SOURCES
        and words[0] not in firsts
        and not titled()
        and not is_name_word(noun.group("noun"))
    ):
        return True  # "Paletten von Bahlsen", "Vrachtwagen van Hema": a noun's complement
    if span.source == "shape":
        value = text[span.start : span.end]
        if (
            len(words) == 1
            and _GERMANIC_NOUN.search(folded[0])
            and not is_name_word(words[0])
            and len(folded[0]) > 7
        ):
            return True  # a noun in a field ("Ansprechpartner: Geschäftsführung")
        if _COMPANY_MARK.search(value):
            return True
        if (
            any(w[:1].islower() for w in words)
            and any(w[:1].isupper() for w in words)
            and any(
                f not in _PARTICLES and w[:1].islower() for w, f in zip(words, folded, strict=True)
            )
        ):
            return True
    return False


_TITLE_BEFORE = regex.compile(
    r"(?<![\p{L}])(?:Mr|Mrs|Ms|Mx|Dr|Prof|Herr|Frau|Fr|Hr|Sr|Sra|Srta|Mme|Mlle|M|Sig|Sig\.ra"
    r"|Dott|Avv|Ing|meneer|mevrouw|heer|mevr|dhr|Pan|Pani|Panie|Bey|Hanım|Avvocato|Egregio"
    r"|Herrn|Señor|Señora|Monsieur|Madame)\.?[^\S\n]+$",
    regex.IGNORECASE,
)


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
        first, tail = words[0].group(), words[-1].group().casefold().strip(".:;!?")
        greeted = _greeted(text[max(0, span.start - 24) : span.start])
        if not (
            len(words) == 2
            and _given_not_place(first)
            and (tail in ROLE_LABELS or (greeted and tail in GREETING_WORDS))
        ):
            return None  # "Merry Christmas", "Customer Success Manager"
        words = words[:1]  # "Hi Lara Welcome to...", "cc Amara Legal": the name before it
    capitalised = any(w.group()[:1].isupper() for w in words)
    while words and (
        (_stop(words[0].group()) and not _given_label(words))
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


# labels' words that are given names too ("Floor" in Dutch, "Bill", "Till" in German)
_LABEL_GIVEN = frozenset(("floor", "bill", "till", "august", "noël"))


def _given_not_place(word: str) -> bool:
    """A given name of the lists that names no place ("Lara", not "Jordan" or "Paris")."""
    return word in name_lexicon()[0] and word not in place_names() and not _stop(word)


def _given_label(words: list[regex.Match[str]]) -> bool:
    """A label's word that is also a given name, before a known surname ("Floor Hendriksen"
    under a Dutch sign-off): the name's first word, not a label."""
    if len(words) < 2:
        return False
    first, second = words[0].group(), words[1].group().rstrip(".,")
    firsts, lasts = name_lexicon()
    folded = first.casefold()
    return (
        (first in firsts or folded in _LABEL_GIVEN)
        and second in lasts
        and folded not in GREETING_WORDS
        and folded not in TITLE_WORDS
    )


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
            bare = _without_accents(part) if part[0] < "\u0250" else part  # Latin only
            if bare != part and len(bare) == len(part):
                # "bjorn", "ayse" after "Björn", "Ayşe": chat and mail are typed without them
                forms[bare] = forms.get(bare, False) or lower
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


@lru_cache(maxsize=4096)
def _without_accents(word: str) -> str:
    """`word` with the accents of its Latin letters taken off ("Björn" -> "Bjorn"), as far
    as each letter decomposes (a dotless i or an "ł" stays); other scripts unchanged."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFD", word)
        if not (unicodedata.category(ch) == "Mn" and ch < "\u0370")
    )


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
