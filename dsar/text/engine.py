"""The one free-text engine: find personal data in Arrow arrays of text, and replace it.

Used by access bundles (other people out; card numbers, IBANs and government IDs masked even
when they are the person's own), by `dsar verify` (the pattern detectors, as an independent
check) and by de-identified extracts (the redaction operator).

Built for throughput: identical texts are analysed once; one vectorised regex per detector
over the whole array decides which texts a detector needs to see; texts without a
capitalised word that could be a name skip the model; the model runs only its NER
component, in batches, across processes for large arrays; every pattern is compiled once.

Examples:
    >>> engine = TextEngine(nlp=None)
    >>> spans = engine.analyze(["card 4111 1111 1111 1111, mail ann@example.com"])[0]
    >>> [s.entity for s in spans]
    ['CREDIT_CARD', 'EMAIL_ADDRESS']
    >>> engine.redact(["card 4111 1111 1111 1111"]).texts.to_pylist()
    ['card **** **** **** 1111']
"""

from __future__ import annotations

import hashlib
import logging
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from itertools import accumulate
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dsar.errors import MissingKeyError
from dsar.keys import Keys, Purpose
from dsar.text.detectors import (
    CARD,
    DETECTORS,
    EMAIL,
    FINANCIAL_AND_GOVERNMENT,
    GOVERNMENT_IDS,
    IBAN,
    IP,
    PERSON,
    PHONE,
    PREFILTERS,
    SECRET,
    Span,
    resolve,
)
from dsar.text.names import NameFinder
from dsar.text.nlp import LazyModel, NlpSettings, model_available
from dsar.text.secrets import KEY_PREFILTER, secrets

log = logging.getLogger(__name__)

GOVERNMENT_ID = "GOVERNMENT_ID"  # a policy key that applies to every government ID type


class Operator(StrEnum):
    """What replaces a detected span."""

    REPLACE = "replace"  # <PERSON_1>: the same placeholder for the same value in one artifact
    MASK = "mask"  # every letter and digit but the last four replaced by '*'
    HASH = "hash"  # <PERSON:3f9a...>: a keyed hash (dsar.keys), the same across artifacts
    SURROGATE = "surrogate"  # a Faker value of the same kind, the same for the same value
    KEEP = "keep"  # left as it is


@dataclass(frozen=True)
class EntityRule:
    """How one entity type is treated: spans scoring below `threshold` are ignored."""

    operator: Operator = Operator.REPLACE
    threshold: float = 0.5


DEFAULT_RULES: Mapping[str, EntityRule] = {
    PERSON: EntityRule(Operator.REPLACE, 0.5),
    EMAIL: EntityRule(Operator.REPLACE, 0.5),
    PHONE: EntityRule(Operator.REPLACE, 0.5),
    IP: EntityRule(Operator.REPLACE, 0.5),
    CARD: EntityRule(Operator.MASK, 0.5),
    IBAN: EntityRule(Operator.MASK, 0.5),
    GOVERNMENT_ID: EntityRule(Operator.MASK, 0.5),
    SECRET: EntityRule(Operator.MASK, 0.5),
}


@dataclass(frozen=True)
class TextPolicy:
    """Per-entity operators and thresholds, and the company's own names never to touch.

    Attributes:
        rules: per entity type (or `GOVERNMENT_ID` for all government IDs) its rule;
            entity types not named use `DEFAULT_RULES`.
        allow: words and phrases never redacted (the company's products, its office, its
            own name), compared without regard to case.
    """

    rules: Mapping[str, EntityRule] = field(default_factory=dict)
    allow: frozenset[str] = frozenset()

    def rule(self, entity: str) -> EntityRule:
        for key in (entity, GOVERNMENT_ID if entity in GOVERNMENT_IDS else None):
            if key is not None and key in self.rules:
                return self.rules[key]
            if key is not None and key in DEFAULT_RULES:
                return DEFAULT_RULES[key]
        return EntityRule()

    def allowed(self, value: str) -> bool:
        folded = " ".join(value.split()).casefold()
        return folded in self._allow_folded

    @cached_property
    def _allow_folded(self) -> frozenset[str]:
        # folded once per policy, not once per span (it is asked for every span found)
        return frozenset(" ".join(a.split()).casefold() for a in self.allow)


def string_array(values: Sequence[str | None]) -> pa.Array:
    """An Arrow string array of `values`, built from its buffers.

    `pa.array` of a Python list imports pandas on its first call (0.4 s, a third of a cold
    engine's start); the buffers are the same, and building them is as fast.
    """
    try:
        encoded = [b"" if v is None else v.encode() for v in values]
    except UnicodeEncodeError:  # a lone surrogate: Arrow's own path says what is wrong
        return pa.array(values, pa.string())
    if sum(map(len, encoded)) >= 2**31:  # past 32-bit offsets
        return pa.array(values, pa.string())
    offsets = array("i", accumulate(map(len, encoded), initial=0))
    nulls = sum(v is None for v in values)
    validity = None
    if nulls:
        bits = bytearray((len(values) + 7) // 8)
        for i, v in enumerate(values):
            if v is not None:
                bits[i >> 3] |= 1 << (i & 7)
        validity = pa.py_buffer(bits)
    return pa.StringArray.from_buffers(
        len(values), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)), validity, nulls
    )


def _values(texts: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = string_array(list(texts))
    if pa.types.is_dictionary(texts.type):
        texts = texts.dictionary_decode()
    if (
        pa.types.is_null(texts.type)  # a column with no value at all
        or pa.types.is_large_string(texts.type)
        or pa.types.is_string_view(texts.type)
    ):
        texts = texts.cast(pa.string())
    if not pa.types.is_string(texts.type):
        raise TypeError(f"texts must be strings, not {texts.type}")
    return texts


def _normalised(entity: str, value: str) -> str:
    """The form under which two mentions are the same value (for consistent replacement)."""
    if entity in (PHONE, CARD, IBAN, *GOVERNMENT_IDS):
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    return " ".join(value.split()).casefold()


def mask(value: str, keep: int = 4) -> str:
    """Every letter and digit but the last `keep` replaced by '*'; separators kept."""
    alnum = [i for i, ch in enumerate(value) if ch.isalnum()]
    hide = set(alnum[:-keep] if keep else alnum)
    return "".join("*" if i in hide else ch for i, ch in enumerate(value))


class Replacements:
    """The values one artifact replaced, so the same value gets the same replacement.

    Placeholders count per entity type in the order values are first seen: the first
    person named is `<PERSON_1>` wherever they are named in this artifact.
    """

    def __init__(self, keys: Keys | None = None) -> None:
        self.keys = keys
        self._placeholders: dict[tuple[str, str], str] = {}
        self._counts: Counter[str] = Counter()
        self._surrogates: dict[tuple[str, str], str] = {}
        self._faker: Any = None

    def placeholder(self, entity: str, value: str) -> str:
        key = (entity, _normalised(entity, value))
        if key not in self._placeholders:
            self._counts[entity] += 1
            self._placeholders[key] = f"<{entity}_{self._counts[entity]}>"
        return self._placeholders[key]

    def hashed(self, entity: str, value: str) -> str:
        if self.keys is None:
            raise MissingKeyError(
                "the hash operator needs a key: pass Replacements(dsar.load_keys())"
            )
        digest = self.keys.keyed_hash(
            Purpose.EXTRACT_HASH, f"{entity}:{_normalised(entity, value)}"
        )
        return f"<{entity}:{digest[:16]}>"

    def surrogate(self, entity: str, value: str) -> str:
        key = (entity, _normalised(entity, value))
        if key not in self._surrogates:
            if self._faker is None:
                from faker import Faker

                self._faker = Faker()
            if self.keys is not None:
                seed_hex = self.keys.keyed_hash(Purpose.EXTRACT_PSEUDONYM, ":".join(key))
            else:  # consistent within this artifact only
                seed_hex = hashlib.sha256(f"{id(self)}:{key}".encode()).hexdigest()
            self._faker.seed_instance(int(seed_hex[:16], 16))
            self._surrogates[key] = _fake(self._faker, entity)
        return self._surrogates[key]


def _fake(faker: Any, entity: str) -> str:
    makers: dict[str, Callable[[], str]] = {
        PERSON: faker.name,
        EMAIL: faker.safe_email,
        PHONE: faker.phone_number,
        IP: faker.ipv4_private,
        CARD: faker.credit_card_number,
        IBAN: faker.iban,
        "US_SSN": faker.ssn,
        "FIRST_NAME": faker.first_name,
        "LAST_NAME": faker.last_name,
        "COMPANY": faker.company,
        "CITY": faker.city,
    }
    return str(makers.get(entity, lambda: f"<{entity}>")())


@dataclass
class Redacted:
    """Texts with spans replaced, and what was replaced (counts per entity, never values)."""

    texts: pa.Array
    counts: Counter[str]


KeepFn = Callable[[str, str], bool]
"""Called with (entity, value): True leaves the span as it is (the person's own email)."""


class TextEngine:
    """Finds and replaces personal data in free text.

    Args:
        settings: which spaCy model finds names (None: the default model when installed).
        policy: operators, thresholds and the allow-list.
        known_people: full names the company holds (found in any case, without NER).
        nlp: a loaded spaCy pipeline to use instead of `settings`; None: no model; left
            out: the configured model when installed, loaded by the first text that needs
            it (`LazyModel`), so an engine for texts without names never loads it.
        processes: worker processes for the model (default: 2 when enough sentences need
            it to pay for a second process, else 1).
    """

    def __init__(
        self,
        settings: NlpSettings | None = None,
        policy: TextPolicy | None = None,
        known_people: Iterable[str] = (),
        *,
        nlp: Any = ...,
        processes: int | None = None,
    ) -> None:
        self.settings = settings or NlpSettings()
        self.policy = policy or TextPolicy()
        if nlp is ...:
            model = self.settings.model
            nlp = LazyModel(model) if model_available(model) else None
        self.ner = nlp is not None
        self.names = NameFinder(
            nlp, known_people, self.policy.allow, self.policy.rule(PERSON).threshold
        )
        self.processes = processes

    def load_model(self) -> None:
        """Load the model now, not on the first text that needs it: for a caller that can
        overlap the load with other work (an access request loads it beside the scans)."""
        if isinstance(self.names.nlp, LazyModel):
            self.names.nlp.load()

    def with_known_people(self, known: Iterable[str]) -> TextEngine:
        """The same engine (model loaded once) knowing other people."""
        other = TextEngine.__new__(TextEngine)
        other.settings, other.policy, other.ner = self.settings, self.policy, self.ner
        other.processes = self.processes
        other.names = self.names.with_known(known)
        return other

    # -- finding ------------------------------------------------------------------------

    def analyze(
        self,
        texts: pa.Array | pa.ChunkedArray | Sequence[str | None],
        entities: Iterable[str] | None = None,
    ) -> list[list[Span]]:
        """The spans found in each text (above their threshold, allow-list applied), in order.

        Args:
            texts: strings (nulls give no spans).
            entities: limit to these entity types (`GOVERNMENT_ID` for all of them);
                default every type. Without PERSON the model is never run.
        """
        values = _values(texts)
        unique = pc.unique(pc.drop_null(values))
        found = self._analyze_unique(unique, self._wanted(entities))
        index = pc.index_in(values, value_set=unique).to_pylist()
        return [found[i] if i is not None else [] for i in index]

    def _wanted(self, entities: Iterable[str] | None) -> frozenset[str]:
        if entities is None:
            return frozenset({PERSON, *DETECTORS})
        return frozenset(entities)

    def _analyze_unique(self, unique: pa.Array, wanted: frozenset[str]) -> list[list[Span]]:
        texts: list[str] = unique.to_pylist()
        spans: list[list[Span]] = [[] for _ in texts]
        for name, detect in DETECTORS.items():
            wants_ids = name == GOVERNMENT_ID and bool(wanted & {GOVERNMENT_ID, *GOVERNMENT_IDS})
            if name not in wanted and not wants_ids:
                continue
            hits = pc.match_substring_regex(unique, PREFILTERS[name])
            if name == SECRET:  # and which of them can hold a key's shape, as one test too
                keys = pc.match_substring_regex(unique, KEY_PREFILTER).to_pylist()
                for i in pc.indices_nonzero(hits).to_pylist():
                    spans[i].extend(secrets(texts[i], keys=keys[i]))
                continue
            for i in pc.indices_nonzero(hits).to_pylist():
                spans[i].extend(detect(texts[i]))
        if PERSON in wanted:
            for i, people in enumerate(self.names.find(texts, processes=self.processes)):
                spans[i].extend(people)
        return [self._settle(t, s, wanted) for t, s in zip(texts, spans, strict=True)]

    def _settle(self, text: str, spans: list[Span], wanted: frozenset[str]) -> list[Span]:
        """Above threshold, not allowed, no overlaps: the stronger claim wins."""
        kept = [
            s
            for s in spans
            if s.score >= self.policy.rule(s.entity).threshold
            and (s.entity in wanted or (s.entity in GOVERNMENT_IDS and GOVERNMENT_ID in wanted))
            and not self.policy.allowed(text[s.start : s.end])
        ]

        return resolve(kept)

    # -- replacing ----------------------------------------------------------------------

    def redact(
        self,
        texts: pa.Array | pa.ChunkedArray | Sequence[str | None],
        *,
        replacements: Replacements | None = None,
        keep: KeepFn | None = None,
        entities: Iterable[str] | None = None,
        found: list[list[Span]] | None = None,
    ) -> Redacted:
        """Replace every span by its entity's operator.

        Args:
            texts: the strings to redact; nulls stay null.
            replacements: the artifact's record of replacements (pass the same one for
                every column of one artifact so a person keeps one placeholder).
            keep: leaves a span as it is when it returns True.
            entities: limit to these entity types.
            found: the spans of each text, when `analyze` ran already (in a worker process).
        """
        values = _values(texts)
        replacements = replacements or Replacements()
        hashing = [e for e, rule in self.policy.rules.items() if rule.operator is Operator.HASH]
        if hashing and replacements.keys is None:
            raise MissingKeyError(
                f"the hash operator ({', '.join(hashing)}) needs a key: pass"
                " Replacements(dsar.load_keys())"
            )
        if found is None:
            found = self.analyze(values, entities)
        counts: Counter[str] = Counter()
        out: list[str | None] = []
        for text, spans in zip(values.to_pylist(), found, strict=True):
            if text is None:
                out.append(None)
                continue
            replaced = [
                s
                for s in spans
                if s.start < s.end  # an empty span (from `found=`) replaces nothing
                and self.policy.rule(s.entity).operator is not Operator.KEEP
                and (keep is None or not keep(s.entity, text[s.start : s.end]))
            ]
            if not replaced:
                out.append(text)
                continue
            out.append(self._anonymize(text, replaced, replacements))
            counts.update(s.entity for s in replaced)
        return Redacted(string_array(out), counts)

    def _anonymize(self, text: str, spans: list[Span], r: Replacements) -> str:
        """`text` with each span replaced by its entity's operator (spans never overlap
        here, and adjacent ones stay apart: two names side by side are two people). The
        replacements are chosen in reading order, so that the first person named is
        PERSON_1. Spliced here, not by Presidio's anonymizer engine: importing it imports
        Presidio's analyzer and spaCy (1.2 s), to join strings."""
        pieces: list[str] = []
        last = 0
        for s in sorted(spans):
            value = text[s.start : s.end]
            operator = self.policy.rule(s.entity).operator
            pieces += [text[last : s.start], self._replace(operator, s.entity, value, r)]
            last = s.end
        pieces.append(text[last:])
        return "".join(pieces)

    @staticmethod
    def _replace(operator: Operator, entity: str, value: str, r: Replacements) -> str:
        if operator is Operator.MASK:
            return mask(value)
        if operator is Operator.HASH:
            return r.hashed(entity, value)
        if operator is Operator.SURROGATE:
            # a made-up card, IBAN or ID number could be someone's real one: masked instead
            return mask(value) if entity in FINANCIAL_AND_GOVERNMENT else r.surrogate(entity, value)
        return r.placeholder(entity, value)


def masked_in_full(entity: str) -> bool:
    """Card numbers, IBANs and government IDs: masked in a bundle even when the person's."""
    return entity in FINANCIAL_AND_GOVERNMENT
