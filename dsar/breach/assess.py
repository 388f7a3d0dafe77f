"""What a breach exposed, of whom, and how severe it is: categories, residence, severity.

- Categories per leaked column, from the catalog: contact (email and phone identifiers,
  addresses), billing (and financial account numbers), credentials (secrets), free text,
  government IDs, special categories (stated by the company: the catalog has no such kind),
  and each table's own category (usage, logs, location, ...); rows and people per category.
- Others named in the leaked free text: found by the one text engine (`dsar.text`), counted
  as distinct people (a name with the address and phone next to it is one), never
  resolved, never kept.
- Severity in the ENISA method (2013): SE = DPC x EI + CB, each factor with the reason it
  took its value, and a recommendation on telling the people that a person confirms.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsar.breach.columns import (
    BILLING,
    CONTACT,
    CREDENTIALS,
    FREE_TEXT,
    GOVERNMENT_ID,
    READ_WORDS,
    SPECIAL,
    special_named,
    undeclared_named,
)
from dsar.catalog.models import Catalog, DataCategory, IdentityKind, PersonalKind
from dsar.subjects.identity import MatchRules, normalize

if TYPE_CHECKING:
    from dsar.breach.scope import Scope
    from dsar.text.engine import TextEngine
    from dsar.text.spans import Span


_CONTACT_KINDS = {PersonalKind.EMAIL, PersonalKind.PHONE, PersonalKind.ADDRESS}
_DIRECT = {IdentityKind.EMAIL, IdentityKind.PHONE}
_BEHAVIOURAL = {
    DataCategory.USAGE,
    DataCategory.LOGS,
    DataCategory.LOCATION,
    DataCategory.COMMUNICATIONS,
    DataCategory.MARKETING_PREFERENCES,
    DataCategory.THIRD_PARTY_PROFILE,
}


def column_categories(
    catalog: Catalog,
    table: str,
    column: str,
    by_values: Mapping[str, Mapping[str, str]] | None = None,
) -> set[str]:
    """The breach categories of one column (a column can be in several): what the catalog
    flags, what the column's name says it holds where the catalog does not flag it
    (`undeclared_named`: `ssn`, `card_number`, `iban`, `password`), and what its values in
    the rows in scope are where neither says (`by_values`: `Scope.by_values`, read by
    `read_from_values`)."""
    spec = catalog.tables[table].columns[column]
    found = {catalog.tables[table].column_category(column).value}
    if (undeclared := undeclared_named(catalog, table, column)) is not None:
        found.add(undeclared[0])
    if (read := (by_values or {}).get(table, {}).get(column)) is not None:
        found.add(read)
    if spec.identity in _DIRECT or spec.personal in _CONTACT_KINDS:
        found.add(CONTACT)
    if spec.personal is PersonalKind.FINANCIAL_ACCOUNT:
        found.add(BILLING)
    if spec.personal is PersonalKind.GOVERNMENT_ID:
        found.add(GOVERNMENT_ID)
    if spec.secret:
        found.add(CREDENTIALS)
    if spec.free_text:
        found.add(FREE_TEXT)
    if special_named(column) is not None:
        found.add(SPECIAL)
    return found


@dataclass(frozen=True)
class CategoryCount:
    """One category: its leaked columns (table.column), rows and people in scope."""

    columns: tuple[str, ...]
    rows: int
    people: int


def categories(
    scope: Scope,
    catalog: Catalog,
    *,
    special: bool = False,
    in_text: dict[str, InText] | None = None,
) -> dict[str, CategoryCount]:
    """Per breach category, the leaked columns, rows and people (from the catalog).

    `in_text`: categories the text engine found in the leaked free text (`NamedInText.found`:
    a card or IBAN is billing, a password or key credentials, an ID number a government ID,
    a health word special categories), counted as a column of that category would be: the
    free-text columns join its columns (marked `(in the text)`), its people are added, and
    its rows are at least the rows whose text holds it."""
    columns: dict[str, list[str]] = defaultdict(list)
    tables: dict[str, set[str]] = defaultdict(set)
    for table, leaked in scope.columns.items():
        for column in leaked:
            for category in column_categories(catalog, table, column, scope.by_values):
                columns[category].append(f"{table}.{column}")
                tables[category].add(table)
    if special:  # stated by the company: the data held special categories (Art. 9)
        for table, leaked in scope.columns.items():
            columns[SPECIAL] += [
                f"{table}.{c}" for c in leaked if f"{table}.{c}" not in columns[SPECIAL]
            ]
            tables[SPECIAL].add(table)
    out = {}
    for category in sorted(columns):
        rows = 0
        people: set[int] = set()
        for table in tables[category]:
            groups = scope.filled.get(table)
            if groups is None:  # not grouped (a scope built by hand): every row in scope
                rows += scope.rows.get(table, 0)
                people |= {p.number for p in scope.people if table in p.rows}
                continue
            mine = {c.split(".", 1)[1] for c in columns[category] if c.startswith(f"{table}.")}
            for held, (count, numbers) in groups.items():
                if held & mine:  # a row counts where one of the category's cells holds a value
                    rows += count
                    people |= numbers
        out[category] = CategoryCount(tuple(columns[category]), rows, len(people))
    for category, hit in sorted((in_text or {}).items()):
        had = out.get(category)
        marked = tuple(f"{c} (in the text)" for c in hit.columns)
        if had is None:
            out[category] = CategoryCount(marked, hit.rows, len(hit.people))
            continue
        theirs = _category_people(scope, tables[category], columns[category])
        out[category] = CategoryCount(
            had.columns + marked, max(had.rows, hit.rows), len(theirs | hit.people)
        )
    return dict(sorted(out.items()))


def _category_people(scope: Scope, tables: set[str], columns: list[str]) -> set[int]:
    """The people of the rows in scope where one of `columns` (table.column) holds a value."""
    people: set[int] = set()
    for table in tables:
        groups = scope.filled.get(table)
        if groups is None:
            people |= {p.number for p in scope.people if table in p.rows}
            continue
        mine = {c.split(".", 1)[1] for c in columns if c.startswith(f"{table}.")}
        for held, (_, numbers) in groups.items():
            if held & mine:
                people |= numbers
    return people


def has_values(scope: Scope, table: str, column: str) -> bool:
    """Whether a leaked column holds a value (not null, not blank) in a row in scope."""
    groups = scope.filled.get(table)
    return groups is None or any(column in held for held in groups)


@dataclass(frozen=True)
class InText:
    """One category of data found in the leaked free text: where, in how many rows, whose."""

    columns: tuple[str, ...]  # table.column of the free-text columns that held it
    rows: int  # rows in scope whose free text holds it
    people: frozenset[int]  # the numbers of those rows' people


@dataclass(frozen=True)
class NamedInText:
    """What the text engine found in the leaked free text (counts only)."""

    others: int  # distinct people named who are not the row's own person
    texts: int  # texts naming anyone (a name, an address, a phone), the row's person included
    # categories a column of their own would have (billing, credentials, government_id,
    # special_categories) found in the text: counted as that column would be
    found: dict[str, InText] = field(default_factory=dict)

    def of_person(self, number: int) -> set[str]:
        """The categories found in the free text of a person's own rows in scope."""
        return {k for k, hit in self.found.items() if number in hit.people}


_SPECIAL_WORDS = re.compile(
    r"\b(?:hiv|aids|diagnos(?:ed|is|es)|cancer|tumou?r|chemo(?:therapy)?|diabet(?:es|ic)"
    r"|pregnan(?:t|cy)|miscarriage|abortion|depress(?:ion|ed)|anxiety disorder|bipolar"
    r"|schizophreni\w*|psychiatri\w*|mental health|hepatitis|epilep(?:sy|tic)|dementia"
    r"|alzheimer'?s|autism|autistic|disabilit(?:y|ies)|disabled|rehab|overdose|addiction"
    r"|medical (?:condition|record|history)|prescri(?:bed|ption)|medication|sick note"
    r"|sexual orientation|gay|lesbian|bisexual|transgender|trade union|union member"
    r"|criminal record|convicted|conviction)\b",
    re.IGNORECASE,
)
"""Words of special categories of data (Art. 9: health above all, sex life and orientation,
trade union membership) and of criminal records (Art. 10), in English: the leaked free
text holding one is counted as special categories (ENISA: sensitive data, DPC 4). A word
list, not a reading: a person confirms (the reason says it was a word found)."""


def special_words(text: str) -> bool:
    """Whether `text` holds a word of a special category of data (`_SPECIAL_WORDS`).

    Examples:
        >>> special_words("I was diagnosed with HIV last year"), special_words("refund")
        (True, False)
    """
    return _SPECIAL_WORDS.search(text) is not None


_NEAR = 60  # characters: a contact this close to a name in one text is taken to be theirs


def others_named(scope: Scope, text: TextEngine) -> int:
    """Distinct people named in the leaked free text who are not the row's own person (see
    `named_in_text`)."""
    return named_in_text(scope, text).others


def named_in_text(scope: Scope, text: TextEngine) -> NamedInText:
    """People named in the leaked free text: the distinct others, and the texts naming anyone.

    Names, email addresses and phone numbers found by the text engine; a mention of the
    row's person's own (their name or a part of it, an address or phone of theirs) is not
    counted. Counted as people, not mentions: within one text an address or a phone is
    taken to be the nearest name's (an address whose local part holds a word of a name is
    that name's first), so "Maria Lopez, maria@lopez.example, +34 612 345 678" is one
    person; with no name near, an address and a phone next to each other are one person's;
    a name, an address or a phone met again in another text is the same person.
    Two spellings of one name, or a contact far from any name, still count apart.
    """
    from dsar.text.spans import CARD, EMAIL, GOVERNMENT_IDS, IBAN, PERSON, PHONE, SECRET

    kind_of = {CARD: BILLING, IBAN: BILLING, SECRET: CREDENTIALS}
    kind_of |= dict.fromkeys(GOVERNMENT_IDS, GOVERNMENT_ID)
    wanted = [PERSON, EMAIL, PHONE, CARD, IBAN, SECRET, "GOVERNMENT_ID"]
    hits: dict[str, dict[tuple[str, int], int | None]] = defaultdict(dict)
    owners = {p.number: p for p in scope.people}
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    naming = 0
    for table, cells in scope.texts.items():
        texts = [t for t, _ in cells]
        width = max(1, len(_free_columns(scope, table)))  # cells per row, row by row
        for at, ((cell, owner), found) in enumerate(
            zip(cells, _with_names_in_capitals(text, texts, wanted), strict=True)
        ):
            if cell is None:
                continue
            for span in found:  # what a column of its own would be: counted as such
                if span.entity in kind_of:
                    hits[kind_of[span.entity]][(table, at // width)] = owner
            if special_words(cell):
                hits[SPECIAL][(table, at // width)] = owner
            spans = [s for s in found if s.entity in (PERSON, EMAIL, PHONE)]
            naming += bool(spans)
            person = owners.get(owner) if owner is not None else None
            names: list[tuple[int, int, tuple[str, str]]] = []
            contacts: list[tuple[int, int, tuple[str, str]]] = []
            for span in spans:
                value = cell[span.start : span.end]
                if span.entity == PERSON:
                    key = name_key(value)
                    if not key:  # a title alone ("Mr.")
                        continue
                    # their own name, or part of it ("Bob" in Bob Marsh's ticket)
                    if person is None or not any(
                        set(key.split()) <= set(name.split()) for name in person.names
                    ):
                        names.append((span.start, span.end, (PERSON, key)))
                    continue
                ident = IdentityKind.EMAIL if span.entity == EMAIL else IdentityKind.PHONE
                normal = normalize(ident, value, MatchRules())
                if normal is None:
                    continue
                if person is None or not any(
                    k.kind is ident and k.value == normal for k in person.keys
                ):
                    contacts.append((span.start, span.end, (ident.value, normal)))
            # within this text, a name another name of the text says more of stands in its
            # place: a one-word name ("Frank") is a node every text shares, so linking it to
            # this text's "Frank Fischer" would join every other Frank to him
            here: dict[tuple[str, str], tuple[str, str]] = {}
            local = functools.partial(_in_place, here)

            # "Fischer, Frank": a surname, a comma and a given name, in no list, is one
            # person, the "Frank Fischer" other texts write
            for surname, given in _surname_given(cell, names):
                whole = (PERSON_NODE, f"{given[1]} {surname[1]}")
                here[surname] = here[given] = whole
            names = [(s, e, local(n)) for s, e, n in names]
            # a part of a name met in the same text ("Smith", "Mr. Smith" beside "John
            # Smith") is that person, where one name holds it
            for part, whole in _parts_of_names([n for _, _, n in names]):
                here[part] = whole
            names = [(s, e, local(n)) for s, e, n in names]
            links: list[tuple[tuple[str, str], tuple[str, str]]] = []
            loose: list[tuple[int, int, tuple[str, str]]] = []
            for start, end, node in contacts:
                mine = _whose(start, end, node, names)
                if mine is None:
                    loose.append((start, end, node))
                    continue
                # an address whose local part spells a name's words (frank.fischer@ beside
                # "Fischer" and "Frank") is of every name it spells: a one-word name is
                # that address in this text, a longer one is linked to it
                for named in _spelled_by_local(node, names):
                    if " " in named[1]:
                        links.append((named, node))
                    elif named != node:
                        here[named] = node
                names = [(s, e, local(n)) for s, e, n in names]
                links.append((node, local(mine)))
            for _, _, node in names:
                find(node)
            for _, _, node in contacts:
                find(node)
            for a, b in links:
                a, b = local(a), local(b)
                if a != b:
                    parent[find(a)] = find(b)
            # contacts near no name: an address and a phone next to each other are one
            # person's where each is the other's nearest (two addresses and a phone are two)
            for start, end, node in loose:
                other = [c for c in loose if c[2][0] != node[0]]
                mine = _whose(start, end, node, other, by_local_part=False)
                if mine is None:
                    continue
                pair = next(c for c in other if c[2] == mine)
                same = [c for c in loose if c[2][0] == node[0]]
                if _whose(pair[0], pair[1], mine, same, by_local_part=False) == node:
                    parent[find(node)] = find(mine)
    in_text = {
        kind: InText(
            tuple(
                f"{t}.{c}" for t in sorted({t for t, _ in rows}) for c in _free_columns(scope, t)
            ),
            len(rows),
            frozenset(o for o in rows.values() if o is not None),
        )
        for kind, rows in sorted(hits.items())
    }
    return NamedInText(len({find(n) for n in parent}), naming, in_text)


def _free_columns(scope: Scope, table: str) -> tuple[str, ...]:
    """The leaked free-text columns of a table, in the order `Scope.texts` holds a row's
    cells."""
    return scope.text_columns.get(table, ())


_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mme", "mlle", "herr",
     "frau", "dhr", "mevr", "mevrouw", "meneer", "sr", "sra", "srta", "sig", "sig.ra"}
)  # fmt: skip


def name_key(value: str) -> str:
    """A name as compared: case-folded, one space between words, titles (Mr., Dr., Frau)
    and trailing punctuation left out.

    Examples:
        >>> name_key("Mr.  Smith"), name_key("Dr. Anna  de Vries,")
        ('smith', 'anna de vries')
    """
    words = [w.strip(".,;:!?'\"()") for w in value.casefold().split()]
    return " ".join(w for w in words if w and w not in _TITLES)


def _parts_of_names(nodes: list[tuple[str, str]]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """(part, whole) for each name of one text whose words all lie in one longer name of
    the same text ("smith" in "john smith"); a part two different names hold ("smith" beside
    "john smith" and "anna smith") stays apart: whose it is cannot be told."""
    keys = {n[1] for n in nodes}
    out = []
    for key in sorted(keys):
        words = set(key.split())
        holders = [k for k in keys if k != key and words < set(k.split())]
        widest = [h for h in holders if not any(set(h.split()) < set(o.split()) for o in holders)]
        if len(widest) == 1:
            out.append(((PERSON_NODE, key), (PERSON_NODE, widest[0])))
    return out


PERSON_NODE = "PERSON"  # dsar.text.spans.PERSON: the node kind of a name


_LIST_NEXT = re.compile(
    r"\s*(?:,|&|\band\b|\bor\b|\by\b|\bund\b|\ben\b|\bet\b)", re.IGNORECASE
)  # what follows a name in a list: a comma, "and" (y, und, en, et), "or", "&"


def _in_place(
    here: dict[tuple[str, str], tuple[str, str]], node: tuple[str, str]
) -> tuple[str, str]:
    """What stands in a node's place in one text (`here`: node -> the node said of it)."""
    while node in here:
        node = here[node]
    return node


def _surname_given(
    cell: str, names: list[tuple[int, int, tuple[str, str]]]
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Pairs of one-word names written "Surname, Given" (one person): the two with only a
    comma between them, neither in a list ("Anna, Bob and Carl" stays three)."""
    spans = sorted(names)
    out = []
    for (s1, e1, n1), (s2, e2, n2) in itertools.pairwise(spans):
        if " " in n1[1] or " " in n2[1] or cell[e1:s2].strip() != ",":
            continue
        before = cell[:s1].rstrip()
        if before.endswith(",") or _LIST_NEXT.match(cell, e2):
            continue
        out.append((n1, n2))
    return out


def _spelled_by_local(
    node: tuple[str, str], names: list[tuple[int, int, tuple[str, str]]]
) -> list[tuple[str, str]]:
    """The names of a text whose every word is a word of an email's local part that reads
    as a name (`frank.fischer` spells "frank" and "fischer")."""
    if node[0] != IdentityKind.EMAIL.value:
        return []
    local = node[1].split("@", 1)[0]
    if not _names_someone(local):
        return []
    words = set(re.split(r"[._-]+", local))
    return [n for _, _, n in names if set(n[1].split()) <= words]


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")  # a word of letters (O'BRIEN, JEAN-PIERRE)


def caps_runs(cell: str) -> list[tuple[int, int, str]]:
    """Runs of two or more words in capitals ("FRANK FISCHER"), each with the run written as
    running text with its names capitalised: a word of the name lists
    (`dsar.text.lexicon.is_name_word`) as a name is written (`str.title`), any other in
    lower case; the same length, so that a span found in it has the same character
    positions in `cell`.

    Examples:
        >>> caps_runs("cc FRANK FISCHER AND ANNA O'BRIEN today; the API is OK")
        [(3, 33, "Frank Fischer and Anna O'Brien")]
    """
    from dsar.text.lexicon import is_name_word

    runs: list[list[re.Match[str]]] = []
    for word in _WORD.finditer(cell):
        if len(word[0]) < 2 or not word[0].isupper():
            continue
        run = runs[-1] if runs else None
        if run is not None and not cell[run[-1].end() : word.start()].strip(" \t"):
            run.append(word)
        else:
            runs.append([word])
    out = []
    for run in runs:
        if len(run) < 2:
            continue
        start, end = run[0].start(), run[-1].end()
        titled = list(cell[start:end])
        for word in run:
            w = word[0].title() if is_name_word(word[0]) else word[0].lower()
            if len(w) != len(word[0]):  # a letter whose case changes its length: left as is
                continue
            titled[word.start() - start : word.end() - start] = w
        out.append((start, end, "".join(titled)))
    return out


def _with_names_in_capitals(
    text: TextEngine, texts: list[str | None], wanted: list[str]
) -> list[list[Span]]:
    """`text.analyze(texts, wanted)`, with the full names written in capitals ("FRANK
    FISCHER", which the name finder misses) found too: each run of two or more words in
    capitals is read again, for names only, as running text with the words of the name
    lists capitalised (`caps_runs`: "cc Frank Fischer and the team"); a name found there
    wholly inside the run, of two or more such words (a given name and a surname: a single
    word in capitals, "MARK IT PAID", is too often not a name), overlapping no name found
    before, is added at the same character positions. Everything else in the texts is read
    as the engine reads it."""
    from dsar.text.spans import PERSON

    found = text.analyze(texts, wanted)
    if PERSON not in wanted:
        return found
    runs = {i: caps_runs(t) for i, t in enumerate(texts) if t is not None}
    again = [i for i, r in runs.items() if r]
    if not again:
        return found
    titled: list[str] = []
    for i in again:
        chars = list(texts[i] or "")
        for start, end, name in runs[i]:
            chars[start:end] = name
        titled.append("".join(chars))
    for i, cell, spans in zip(again, titled, text.analyze(titled, [PERSON]), strict=True):
        names = [s for s in found[i] if s.entity == PERSON]
        added = [
            s
            for s in spans
            if s.entity == PERSON
            and any(start <= s.start and s.end <= end for start, end, _ in runs[i])
            and sum(w[:1].isupper() for w in cell[s.start : s.end].split()) >= 2
            and not any(s.overlaps(n) for n in names)
        ]
        found[i] = found[i] + added
    return found


def _names_someone(local: str) -> bool:
    """Whether an email's local part reads as a person's name (`jan.devries`,
    `sofia_rossi`): two or more words of letters."""
    parts = [p for p in re.split(r"[._-]+", local) if p]
    return len(parts) >= 2 and all(p.isalpha() and len(p) > 1 for p in parts)


def _whose(
    start: int,
    end: int,
    node: tuple[str, str],
    names: list[tuple[int, int, tuple[str, str]]],
    *,
    by_local_part: bool = True,
) -> tuple[str, str] | None:
    """The name (or contact) in the same text a contact is taken to be of: one whose word
    its email's local part holds, else the nearest within `_NEAR` characters (None: none
    near, or an email whose local part names someone none of `names` is: `jan.devries@`
    beside "Sofia Rossi" is Jan's, not Sofia's)."""
    if by_local_part and node[0] == IdentityKind.EMAIL.value:
        local = node[1].split("@", 1)[0]
        held = [n for _, _, n in names if any(len(w) > 1 and w in local for w in n[1].split())]
        if held:
            return held[0]
        if _names_someone(local):
            return None
    near = [
        (max(s - end, start - e, 0), n) for s, e, n in names if max(s - end, start - e) <= _NEAR
    ]
    return min(near)[1] if near else None


@dataclass(frozen=True)
class Factor:
    """One factor of the ENISA score: its value and why it took it."""

    value: float
    reason: str


@dataclass(frozen=True)
class Circumstances:
    """What the company knows of how the breach happened (ENISA's CB)."""

    encrypted: bool = False  # the leaked copy was unintelligible (state-of-the-art encryption)
    known_recipients: bool = False  # confidentiality lost to known, trusted recipients only
    integrity: bool = False  # data altered
    availability: bool = False  # data lost or unavailable
    malicious: bool = False  # an attack, theft, intent to harm
    disclosed: bool = True  # confidentiality lost (--nature): False, integrity or availability only


@dataclass(frozen=True)
class Severity:
    """SE = DPC x EI + CB (ENISA 2013), its band and the recommendation."""

    dpc: Factor
    ei: Factor
    cb: tuple[Factor, ...]
    score: float
    band: str
    flags: tuple[str, ...]
    notify_people: bool
    recommendation: str
    confirmed: bool = False  # a person confirms the recommendation (dsar breach confirm)
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        """The severity for scope.json."""
        return {
            "method": "ENISA 2013: SE = DPC x EI + CB",
            "dpc": {"value": self.dpc.value, "reason": self.dpc.reason},
            "ei": {"value": self.ei.value, "reason": self.ei.reason},
            "cb": [{"value": f.value, "reason": f.reason} for f in self.cb],
            "score": self.score,
            "band": self.band,
            "flags": list(self.flags),
            "notify_people_recommended": self.notify_people,
            "recommendation": self.recommendation,
            "confirmed": self.confirmed,
        }


def band(score: float) -> str:
    """ENISA's bands: below 2 low, 2 to 3 medium, 3 to 4 high, 4 and above very high."""
    if score < 2:
        return "low"
    if score < 3:
        return "medium"
    if score < 4:
        return "high"
    return "very high"


def _in_text(count: CategoryCount) -> str:
    """A note for a category the text engine found in the leaked free text, else ''."""
    if not any(c.endswith(" (in the text)") for c in count.columns):
        return ""
    return " (found by the text engine in the leaked free text)"


def undeclared_lines(catalog: Catalog) -> list[str]:
    """For `dsar catalog check`: each column whose name says it holds a government ID, a
    card or bank account number, a secret or special categories of data (`ssn`, `iban`,
    `password`, `hiv_status`) that the catalog does not flag. Column names only: no value
    is read. A breach scores such a column by its name; access masks it once flagged."""
    lines = []
    for table, spec in catalog.tables.items():
        for column in spec.columns:
            named = undeclared_named(catalog, table, column)
            if named is not None:
                fix = {
                    GOVERNMENT_ID: "personal: government_id",
                    BILLING: "personal: financial_account",
                    CREDENTIALS: "secret: true",
                }[named[0]]
                lines.append(
                    f"{table}.{column} is named as {named[1]} but the catalog does not flag"
                    f" it: declare {fix} (access bundles then mask it, a breach scores it)"
                )
            elif not spec.columns[column].free_text and (what := special_named(column)):
                lines.append(
                    f"{table}.{column} is named as special categories of data ({what}):"
                    " a breach of it scores as such (DPC 4); say what it holds in its"
                    " description"
                )
    return lines


def _undeclared(
    catalog: Catalog,
    columns: tuple[str, ...],
    by_values: Mapping[str, Mapping[str, str]] | None = None,
    *,
    read: bool = False,
) -> list[str]:
    """The `table.column`s of a category count that the catalog does not flag, each with
    what it holds: read by their names (`undeclared_named`), or with `read` by their values
    in the rows in scope (`by_values`)."""
    out = []
    for entry in columns:
        table, dot, column = entry.partition(".")
        if not dot or entry.endswith(")") or column not in catalog.tables[table].columns:
            continue
        if read:
            if (category := (by_values or {}).get(table, {}).get(column)) is not None:
                out.append(f"{entry} ({READ_WORDS[category]}, read from its values)")
        elif (named := undeclared_named(catalog, table, column)) is not None:
            out.append(f"{entry} ({named[1]})")
    return out


def _by_name(
    catalog: Catalog,
    found: dict[str, CategoryCount],
    kinds: tuple[str, ...],
    by_values: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The reason's note for the categories `kinds` a column holds by its name or its
    values only (the catalog flags nothing on it)."""
    named = [c for k in kinds if k in found for c in _undeclared(catalog, found[k].columns)]
    read = [
        c
        for k in kinds
        if k in found
        for c in _undeclared(catalog, found[k].columns, by_values, read=True)
    ]
    note = ""
    if named:
        note += (
            f" (by the names of leaked column(s) the catalog does not flag: {', '.join(named)};"
            " a person confirms)"
        )
    if read:
        note += (
            " (read from the values in scope of leaked column(s) the catalog does not flag:"
            f" {', '.join(read)}; a person confirms)"
        )
    return note


def _dpc(
    found: dict[str, CategoryCount],
    catalog: Catalog,
    by_values: Mapping[str, Mapping[str, str]] | None = None,
) -> Factor:
    if SPECIAL in found:
        columns = found[SPECIAL].columns
        named = [c for c in columns if _named_column(c)]
        stated = [c for c in columns if not c.endswith(" (in the text)") and c not in named]
        how = [
            *(["stated"] if stated else []),
            *(
                [f"leaked column(s) named as such: {', '.join(named)}; a person confirms"]
                if named
                else []
            ),
            *(["words of them found in the leaked free text"] if _in_text(found[SPECIAL]) else []),
        ]
        return Factor(4, f"special categories of data ({'; '.join(how)}): sensitive, DPC 4")
    if CREDENTIALS in found:
        return Factor(
            3,
            "credentials (secrets) leaked" + _in_text(found[CREDENTIALS])
            + _by_name(catalog, found, (CREDENTIALS,), by_values)
            + ": whoever holds them can take over accounts, DPC 3",
        )  # fmt: skip
    if BILLING in found or GOVERNMENT_ID in found:
        where = "".join(
            sorted({_in_text(found[k]) for k in (BILLING, GOVERNMENT_ID) if k in found})
        )
        where += _by_name(catalog, found, (BILLING, GOVERNMENT_ID), by_values)
        return Factor(3, f"financial data (billing, account or ID numbers){where}: DPC 3")
    behavioural = sorted(c for c in found if c in {b.value for b in _BEHAVIOURAL})
    if behavioural or FREE_TEXT in found:
        what = ", ".join(behavioural + ([FREE_TEXT] if FREE_TEXT in found else []))
        return Factor(2, f"behavioural data ({what}): DPC 2")
    return Factor(1, "simple data (account and contact details): DPC 1")


def _named_column(column: str) -> bool:
    """Whether `table.column` of a category count is a column named as special data."""
    _, dot, name = column.partition(".")
    return bool(dot) and not column.endswith(")") and special_named(name) is not None


def _ei(
    catalog: Catalog, scope: Scope, circumstances: Circumstances, named: NamedInText | None
) -> Factor:
    if circumstances.encrypted:
        return Factor(0.25, "the leaked copy was encrypted (unintelligible): EI negligible")
    if named is not None and (named.texts or named.others):
        return Factor(
            1,
            f"the leaked free text names people ({named.texts} text(s) with a name, an address"
            f" or a phone; {named.others} other(s) named): EI maximum",
        )
    # a column empty in every row in scope leaked nothing
    leaked = {t: [c for c in cols if has_values(scope, t, c)] for t, cols in scope.columns.items()}
    direct = [
        f"{t}.{c}"
        for t, cols in leaked.items()
        for c in cols
        if catalog.tables[t].columns[c].identity in _DIRECT
        or catalog.tables[t].columns[c].personal in {PersonalKind.NAME, *_CONTACT_KINDS}
    ]
    if direct:
        return Factor(1, f"names or contact details leaked ({len(direct)} column(s)): EI maximum")
    # a national ID number is issued to one named person, a full card or bank account number
    # to one named holder: the number identifies them directly (ENISA: EI maximum)
    numbers = {
        GOVERNMENT_ID: "government ID numbers (issued to one named person)",
        BILLING: "card or bank account numbers (each names one holder at the bank)",
    }
    kinds = {PersonalKind.GOVERNMENT_ID: GOVERNMENT_ID, PersonalKind.FINANCIAL_ACCOUNT: BILLING}
    held = {
        kinds[kind]
        for t, cols in leaked.items()
        for c in cols
        if (kind := catalog.tables[t].columns[c].personal) in kinds
    }
    # the same numbers in a column the catalog does not flag, read by its name (`ssn`)
    by_name: dict[str, list[str]] = defaultdict(list)
    for t, cols in leaked.items():
        for c in cols:
            undeclared = undeclared_named(catalog, t, c)
            if undeclared is not None and undeclared[0] in numbers:
                by_name[undeclared[0]].append(f"{t}.{c}")
    # and in one whose values in scope are such numbers (`Scope.by_values`)
    by_value: dict[str, list[str]] = defaultdict(list)
    for t, cols in leaked.items():
        for c in cols:
            if (read := scope.by_values.get(t, {}).get(c)) in numbers:
                by_value[str(read)].append(f"{t}.{c}")
    in_text = {k for k in numbers if named is not None and k in named.found}
    columns = set(by_name) | set(by_value)
    if held | in_text | columns:
        what = "; ".join(
            numbers[k]
            + (" in the leaked free text" if k in in_text - held - columns else "")
            + (
                f" (by the name of {', '.join(by_name[k])}, which the catalog does not flag)"
                if k in by_name and k not in held
                else ""
            )
            + (
                f" (read from the values of {', '.join(by_value[k])}, which the catalog does"
                " not flag)"
                if k in by_value and k not in held
                else ""
            )
            for k in sorted(held | in_text | columns)
        )
        return Factor(1, f"{what} leaked: they identify people directly: EI maximum")
    ids = [
        f"{t}.{c}"
        for t, cols in leaked.items()
        for c in cols
        if catalog.tables[t].columns[c].identity is not None
    ]
    if ids:
        return Factor(
            0.75, "account or device identifiers leaked (linkable to a person): EI significant"
        )
    if any(catalog.tables[t].columns[c].free_text for t, cols in leaked.items() for c in cols):
        return Factor(
            0.75,
            "free text leaked: what people write often names them or others (the text engine"
            " found no name in it): EI significant",
        )
    return Factor(
        0.5, "no identifier leaked; rows identify people only with other data: EI limited"
    )


def assess_severity(
    catalog: Catalog,
    scope: Scope,
    found: dict[str, CategoryCount],
    circumstances: Circumstances,
    named: NamedInText | None = None,
) -> Severity:
    """The ENISA severity of the breach and whether telling the people is recommended.

    The data processing context (DPC) counts the categories of `found` with a row in scope
    holding a value: a credentials or billing column empty in every row in scope leaked
    nothing of it and does not raise the score (the reason names such categories).

    `named`: what the text engine found in the leaked free text (`named_in_text`): a name,
    an address or a phone in it makes identification easy (EI maximum), as a leaked name
    or contact column does."""
    # a category whose leaked columns are empty in every row in scope leaked nothing of it
    held = {name: count for name, count in found.items() if count.rows}
    dpc, ei = _dpc(held, catalog, scope.by_values), _ei(catalog, scope, circumstances, named)
    if empty := sorted(set(found) - set(held)):
        dpc = Factor(
            dpc.value,
            f"{dpc.reason}; not counted: {', '.join(empty)} (leaked columns that hold no value"
            " in any row in scope)",
        )
    cb: list[Factor] = []
    if circumstances.disclosed:  # nothing disclosed (integrity or availability only): no CB
        cb.append(
            Factor(0.25, "confidentiality lost to known recipients")
            if circumstances.known_recipients
            else Factor(0.5, "confidentiality lost to unknown recipients")
        )
    if circumstances.integrity:
        cb.append(Factor(0.5, "integrity lost: data was altered"))
    if circumstances.availability:
        cb.append(Factor(0.5, "availability lost: data cannot be recovered or reached"))
    if circumstances.malicious:
        cb.append(Factor(0.5, "malicious intent (an attack or theft)"))
    score = round(dpc.value * ei.value + sum(f.value for f in cb), 2)
    flags = []
    if len(scope.people) > 100:
        flags.append(f"more than 100 people ({len(scope.people)})")
    if circumstances.encrypted:
        flags.append("data unintelligible (encrypted)")
    level = band(score)
    high = level in ("high", "very high")
    if circumstances.encrypted:
        notify = False
        advice = (
            "no notice to the people needed if the key was not compromised (Art. 34(3)(a));"
            " the authority is still told unless the breach is unlikely to result in a risk"
        )
    elif high:
        notify = True
        advice = f"{level} severity: tell the people without undue delay (Art. 34(1))"
    else:
        notify = False
        advice = (
            f"{level} severity: a notice to the people is not required by the score alone;"
            " record why in the breach register (Art. 33(5))"
        )
    undeclared = sorted(
        {
            c
            for count in held.values()
            for read in (False, True)
            for c in _undeclared(catalog, count.columns, scope.by_values, read=read)
        }
    )
    if undeclared:  # said with the recommendation: the console and the report show it
        advice += (
            f"; WARNING: the catalog does not flag leaked column(s) {', '.join(undeclared)}:"
            " scored by their names or values; declare them (personal: government_id or"
            " financial_account, secret: true; dsar catalog draft proposes them)"
        )
    return Severity(dpc, ei, tuple(cb), score, level, tuple(flags), notify, advice)


def residence_pairs(scope: Scope) -> list[tuple[str | None, str | None]]:
    """Each affected person's (country, state) as the catalog's columns give them."""
    return [(p.country, p.state) for p in scope.people]


def countries(scope: Scope) -> dict[str, int]:
    """People per country code ('unknown' where the data has none)."""
    counts = Counter((p.country or "unknown") for p in scope.people)
    return dict(sorted(counts.items()))
