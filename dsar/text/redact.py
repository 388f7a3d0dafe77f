"""Before a person's data leaves: mask secrets, redact other people from free text.

Secrets (tokens, API keys, password hashes) are never exported in clear: the person learns
what is held and its last four characters. Free text keeps the person's own words, but the
names, emails and phone numbers of anyone else are replaced (GDPR Art. 15(4): the copy must
not adversely affect others).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from dsar.catalog.models import Catalog, IdentityKind, PersonalKind
from dsar.engine.base import Engine, quote_identifier, sql_in
from dsar.errors import InternalError
from dsar.subjects.identity import Identity, MatchRules, normalize
from dsar.text.nlp import AnalyzerInfo, NlpSettings, build_analyzer, offline_presidio

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

ENTITIES = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER")
PHONE_SHAPED = r"(?<![\w+.])\+?\d[\d ().-]{7,18}\d(?![\w.])"
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
THRESHOLD = 0.35
# an email and phone numbers of two regions: makes Presidio load what it loads on first use
WARM_UP_TEXT = "Ann Example, ann@example.com, +44 20 7946 0958 or (212) 555-0100."
MASK_PREFIX = "[secret "
_WORD = r"[A-Z\u00c0-\u00d6\u00d8-\u00de][^\W\d_]*(?:['\u2019-][^\W\d_]+)?"
_PARTICLES = r"(?:\s+(?:van|de|der|den|von|du|le|la|di|da|del|ten|ter))*"
# Two or three capitalised words, with name particles between them: candidate names to look
# up in the catalog's name columns.
_CANDIDATE_NAME = re.compile(rf"\b{_WORD}(?:{_PARTICLES}\s+{_WORD}){{1,2}}\b")


def mask_secret_column(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """'[secret access_token, ends in 9f2c]' for every non-empty value; nulls stay null."""
    text = pc.cast(column, pa.string())
    last4 = pc.utf8_slice_codeunits(text, start=-4)
    masked = pc.binary_join_element_wise(f"{MASK_PREFIX}{name}, ends in ", last4, "]", "")
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), text, masked)


@dataclass
class RedactionLog:
    """What was masked or redacted, for the report: counts only, never the values."""

    secrets: Counter[str] = field(default_factory=Counter)  # "table.column" -> values masked
    redacted: Counter[str] = field(default_factory=Counter)  # "table.column ENTITY" -> spans

    def by_column(self) -> dict[str, dict[str, int]]:
        """{'table.column': {'PERSON': 2, ...}} for the report."""
        out: dict[str, dict[str, int]] = {}
        for key, count in self.redacted.items():
            col, entity = key.rsplit(" ", 1)
            out.setdefault(col, {})[entity] = count
        return out


class Redactor:
    """Masks secrets and redacts other people, with one offline analyzer built on first use."""

    def __init__(
        self,
        catalog: Catalog,
        settings: NlpSettings | None = None,
        rules: MatchRules | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings or NlpSettings()
        self.rules = rules or MatchRules()
        self._analyzer: AnalyzerEngine | None = None
        self._anonymizer: Any = None
        self._known: set[str] | None = None
        self.info: AnalyzerInfo | None = None

    def analyzer(self) -> AnalyzerEngine:
        """The Presidio analyzer, built once (loading a spaCy model takes about a second)."""
        if self._analyzer is None:
            self._analyzer, self.info = build_analyzer(self.settings)
        return self._analyzer

    def warm_up(self) -> None:
        """Build the analyzer and run it once.

        The first analysis loads what Presidio's recognizers load lazily (the public suffix
        list behind the email check, phone number metadata): about 0.3 s, better spent while
        the scans run than after them.

        Meant to run in a thread beside the scans. It first imports pandas, which pyarrow
        imports lazily on the first `pa.array` of a list: left to the scanning thread, that
        import would contend for the GIL and the import locks with this thread's imports and
        stall the scans for up to a second (measured).
        """
        import pandas  # noqa: F401

        self.analyzer().analyze(
            WARM_UP_TEXT, language=self.settings.language, entities=list(ENTITIES)
        )

    def apply(
        self, identity: Identity, tables: dict[str, pa.Table]
    ) -> tuple[dict[str, pa.Table], RedactionLog]:
        """Return the tables with secrets masked and other people redacted from free text."""
        record = RedactionLog()
        own = _OwnData.of(identity, tables, self.catalog, self.rules)
        texts = self.free_texts(tables)
        if self._known is None:
            raise InternalError("Redactor.prepare must run before apply")
        known = {n for n in self._known if any(n in t for t in texts)} - own.names
        out = {}
        for name, table in tables.items():
            spec = self.catalog.tables[name]
            for col_name, col in spec.columns.items():
                if col.secret:
                    index = table.schema.get_field_index(col_name)
                    masked = mask_secret_column(table.column(col_name), col_name)
                    table = table.set_column(index, col_name, masked)
                    record.secrets[f"{name}.{col_name}"] += table.num_rows - masked.null_count
                elif col.free_text:
                    index = table.schema.get_field_index(col_name)
                    values = [
                        self._redact(v, own, known, record, f"{name}.{col_name}") if v else v
                        for v in table.column(col_name).to_pylist()
                    ]
                    table = table.set_column(index, col_name, pa.array(values, pa.string()))
            out[name] = table
        return out, record

    def free_texts(self, tables: dict[str, pa.Table]) -> list[str]:
        """The non-empty free-text values of one person's tables."""
        return [
            value
            for name, table in tables.items()
            for c, col in self.catalog.tables[name].columns.items()
            if col.free_text
            for value in table.column(c).to_pylist()
            if value
        ]

    def prepare(self, engine: Engine, people: Iterable[dict[str, pa.Table]]) -> None:
        """Look up the known people named in everyone's free text at once (one query per
        name column for a whole batch, rather than one per person)."""
        texts = [t for tables in people for t in self.free_texts(tables)]
        self._known = self.known_people(engine, texts) if texts else set()

    def known_people(self, engine: Engine, texts: Iterable[str]) -> set[str]:
        """Names in `texts` that the catalog's name columns hold: people we know."""
        candidates: set[str] = set()
        for text in texts:
            for match in _CANDIDATE_NAME.finditer(text):
                words = match.group(0).split()
                candidates.add(" ".join(words))
                candidates.update(" ".join(words[i : i + 2]) for i in range(len(words) - 1))
                candidates.update(" ".join(words[i : i + 3]) for i in range(len(words) - 2))
        if not candidates:
            return set()
        # one statement over every name column of every table, so DuckDB runs them together
        params: list[object] = []
        parts = [
            f"SELECT {quote_identifier(c)} AS n FROM {quote_identifier(name)}"
            f" WHERE {sql_in(quote_identifier(c), sorted(candidates), params)}"
            for name, table in self.catalog.tables.items()
            if name in engine.tables
            for c, col in table.columns.items()
            if col.personal is PersonalKind.NAME
        ]
        if not parts:
            return set()
        sql = f"SELECT DISTINCT n FROM ({' UNION ALL '.join(parts)})"
        result = engine.query(sql, params)
        return {v for v in result.column("n").to_pylist() if v}

    def _redact(
        self, text: str, own: _OwnData, known: set[str], record: RedactionLog, where: str
    ) -> str:
        offline_presidio()
        from presidio_analyzer import Pattern, PatternRecognizer
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        # Presidio's phone recognizer only knows numbers valid in a few regions; anything
        # shaped like a phone number in free text is treated as one.
        ad_hoc: list[Any] = [
            PatternRecognizer(
                supported_entity="PHONE_NUMBER",
                name="phone_shaped",
                patterns=[Pattern("phone_shaped", PHONE_SHAPED, 0.5)],
            )
        ]
        if known:
            ad_hoc.append(
                PatternRecognizer(
                    supported_entity="PERSON", name="catalog_known_people", deny_list=sorted(known)
                )
            )
        results = self.analyzer().analyze(
            text,
            language=self.settings.language,
            entities=list(ENTITIES),
            score_threshold=THRESHOLD,
            ad_hoc_recognizers=ad_hoc or None,
        )
        others = [
            r
            for r in results
            if _plausible(r.entity_type, text[r.start : r.end])
            and not own.is_own(r.entity_type, text[r.start : r.end])
        ]
        if not others:
            return text
        for r in others:
            record.redacted[f"{where} {r.entity_type}"] += 1
        operators = {"DEFAULT": OperatorConfig("replace")}
        if self._anonymizer is None:
            self._anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]
        anonymized: Any = self._anonymizer.anonymize(text, cast(Any, others), operators)
        return str(anonymized.text)


def _plausible(entity: str, span: str) -> bool:
    """Drop phone hits that are not phone-sized (dates, amounts, IP addresses)."""
    if entity != "PHONE_NUMBER":
        return True
    digits = sum(ch.isdigit() for ch in span)
    return 9 <= digits <= 15 and not _IPV4.match(span.strip())


@dataclass(frozen=True)
class _OwnData:
    """The person's own emails, phones and names: kept in free text."""

    emails: frozenset[str]
    phones: frozenset[str]
    names: frozenset[str]
    name_words: frozenset[str]
    rules: MatchRules

    @classmethod
    def of(
        cls, identity: Identity, tables: dict[str, pa.Table], catalog: Catalog, rules: MatchRules
    ) -> _OwnData:
        names: set[str] = set()
        for name, table in tables.items():
            for col_name, col in catalog.tables[name].columns.items():
                if col.personal is PersonalKind.NAME:
                    names.update(str(v).strip() for v in table.column(col_name).to_pylist() if v)
        words = {w.lower() for n in names for w in n.split()}
        return cls(
            emails=frozenset(identity.values(IdentityKind.EMAIL)),
            phones=frozenset(identity.values(IdentityKind.PHONE)),
            names=frozenset(names),
            name_words=frozenset(words),
            rules=rules,
        )

    def is_own(self, entity: str, span: str) -> bool:
        if entity == "EMAIL_ADDRESS":
            return normalize(IdentityKind.EMAIL, span, self.rules) in self.emails
        if entity == "PHONE_NUMBER":
            return normalize(IdentityKind.PHONE, span, self.rules) in self.phones
        words = span.split()
        return bool(words) and all(w.lower().strip(".,;:") in self.name_words for w in words)
