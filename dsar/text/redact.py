"""Before a person's data leaves: mask secrets, redact other people from free text.

Secrets (tokens, API keys, password hashes) are never exported in clear: the person learns
what is held and its last four characters. Free text keeps the person's own words, but the
names, emails, phone numbers and IP addresses of anyone else are replaced with placeholders
that stay the same for the same person throughout the bundle (GDPR Art. 15(4): the copy must
not adversely affect others). Card numbers, IBANs and government IDs are masked to their
last four characters wherever they appear, even the person's own (CCPA regulations
§7024(d)). All of it goes through the one text engine (`dsar.text.engine`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dsar.catalog.models import Catalog, IdentityKind, PersonalKind
from dsar.engine.base import Engine, quote_identifier, sql_in
from dsar.errors import InternalError
from dsar.subjects.identity import Identity, MatchRules, normalize
from dsar.text.detectors import CARD, EMAIL, FINANCIAL_AND_GOVERNMENT, IBAN, IP, PHONE
from dsar.text.engine import Replacements, TextEngine, TextPolicy, mask
from dsar.text.names import candidates
from dsar.text.nlp import NlpSettings, model_available

# text in every column that is not free text: only numbers a checksum confirms are looked for
STRUCTURED_ENTITIES = (CARD, IBAN)
MASK_PREFIX = "[secret "
WARM_UP_TEXT = "Ann Example, ann@example.com, +44 20 7946 0958 or (212) 555-0100, SSN 536-22-8917."


def mask_secret_column(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """'[secret access_token, ends in 9f2c]' for every non-empty value; nulls stay null.

    A nested value (a struct, list or map) is masked whole, '[secret profile, not shown]':
    the last characters of a text made of several values would show one of them.
    """
    if pa.types.is_nested(column.type):
        hidden = pa.array(
            [None if v is None else f"{MASK_PREFIX}{name}, not shown]" for v in column.to_pylist()],
            pa.string(),
        )
        return pa.chunked_array([hidden], pa.string())
    text = pc.cast(column, pa.string())
    last4 = pc.utf8_slice_codeunits(text, start=-4)
    masked = pc.binary_join_element_wise(f"{MASK_PREFIX}{name}, ends in ", last4, "]", "")
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), text, masked)


@dataclass
class RedactionLog:
    """What was masked or redacted, for the report: counts only, never the values."""

    secrets: Counter[str] = field(default_factory=Counter)  # "table.column" -> values masked
    redacted: Counter[str] = field(default_factory=Counter)  # "table.column ENTITY" -> spans
    masked: Counter[str] = field(default_factory=Counter)  # "table.column ENTITY" -> numbers

    def by_column(self) -> dict[str, dict[str, int]]:
        """{'table.column': {'PERSON': 2, ...}}: other people's details replaced."""
        return _by_column(self.redacted)

    def masked_by_column(self) -> dict[str, dict[str, int]]:
        """{'table.column': {'CREDIT_CARD': 1}}: numbers masked to their last four."""
        return _by_column(self.masked)


def _by_column(counter: Counter[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for key, count in counter.items():
        col, entity = key.rsplit(" ", 1)
        out.setdefault(col, {})[entity] = count
    return out


class Redactor:
    """Masks secrets and redacts other people, with one text engine built on first use."""

    def __init__(
        self,
        catalog: Catalog,
        settings: NlpSettings | None = None,
        rules: MatchRules | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings or NlpSettings()
        self.rules = rules or MatchRules()
        self._engine: TextEngine | None = None
        self._known: set[str] | None = None

    @property
    def notice(self) -> str | None:
        """What the engine cannot do on this machine (no NER model), for the report."""
        if model_available(self.settings.model):
            return None
        return (
            f"spaCy model {self.settings.model or '(none)'!r} is not installed: names of"
            " people in free text are found only when the catalog knows them or a cue"
            ' ("my colleague", "Thanks,") marks them; emails, phones and other patterns'
            " are still found. Install it with pip install '.[ner]'."
        )

    def engine(self) -> TextEngine:
        """The text engine, built once (loading a spaCy model takes about a second)."""
        if self._engine is None:
            allow = {self.catalog.controller.name, *self.catalog.text_allow}
            self._engine = TextEngine(self.settings, TextPolicy(allow=frozenset(allow)))
        return self._engine

    def warm_up(self) -> None:
        """Build the engine and run it once, beside the scans.

        The first analysis loads what is loaded lazily (the name lists, phone number
        metadata; the spaCy model only if the bundle's own texts need it, after the scans:
        the demo person's do not). It first imports pandas, which pyarrow
        imports lazily on the first `pa.array` of a list: left to the scanning thread, that
        import would contend for the GIL and the import locks with this thread's imports and
        stall the scans for up to a second (measured).
        """
        import pandas  # noqa: F401

        self.engine().analyze([WARM_UP_TEXT])

    def apply(
        self, identity: Identity, tables: dict[str, pa.Table]
    ) -> tuple[dict[str, pa.Table], RedactionLog]:
        """Return the tables with secrets masked and other people redacted from free text."""
        record = RedactionLog()
        own = _OwnData.of(identity, tables, self.catalog, self.rules)
        if self._known is None:
            raise InternalError("Redactor.prepare must run before apply")
        engine = self.engine().with_known_people(self._known - own.names)
        replacements = Replacements()  # one placeholder per person across the whole bundle
        out = {}
        for name, table in tables.items():
            spec = self.catalog.tables[name]
            for col_name, col in spec.columns.items():
                if col_name not in table.column_names:
                    continue
                where = f"{name}.{col_name}"
                column = table.column(col_name)
                if col.secret:
                    new = mask_secret_column(column, col_name)
                    record.secrets[where] += table.num_rows - new.null_count
                elif col.personal in (PersonalKind.FINANCIAL_ACCOUNT, PersonalKind.GOVERNMENT_ID):
                    new = mask_column(column)
                    entity = (
                        "FINANCIAL_ACCOUNT"
                        if col.personal is PersonalKind.FINANCIAL_ACCOUNT
                        else "GOVERNMENT_ID"
                    )
                    record.masked[f"{where} {entity}"] += table.num_rows - new.null_count
                elif col.free_text or (
                    col.identity is None
                    and (_is_text(column.type) or pa.types.is_nested(column.type))
                ):
                    # a nested value: every string inside (struct fields, list elements, map
                    # keys and values) read as a cell of its own; the value keeps its shape
                    nested = pa.types.is_nested(column.type)
                    texts, values = _leaf_texts(column) if nested else (_as_text(column), [])
                    result = engine.redact(
                        texts,
                        replacements=replacements,
                        keep=own.is_own,
                        entities=None if col.free_text else STRUCTURED_ENTITIES,
                    )
                    if not sum(result.counts.values()):
                        continue
                    new = (
                        _with_leaves(values, column.type, result.texts) if nested else result.texts
                    )
                    for entity, n in result.counts.items():
                        target = (
                            record.masked if entity in FINANCIAL_AND_GOVERNMENT else record.redacted
                        )
                        target[f"{where} {entity}"] += n
                else:
                    continue
                index = table.schema.get_field_index(col_name)
                table = table.set_column(index, col_name, new)
            out[name] = table
        return out, record

    def free_texts(self, tables: dict[str, pa.Table]) -> list[str]:
        """The non-empty free-text values of one person's tables (of a nested free-text
        column, every string inside it)."""
        return [
            value
            for name, table in tables.items()
            for c, col in self.catalog.tables[name].columns.items()
            if col.free_text and c in table.column_names
            for value in _leaf_texts(table.column(c))[0].to_pylist()
            if value
        ]

    def prepare(self, engine: Engine, people: Iterable[dict[str, pa.Table]]) -> None:
        """Look up the known people named in everyone's free text at once (one query per
        name column for a whole batch, rather than one per person)."""
        texts = [t for tables in people for t in self.free_texts(tables)]
        self._known = self.known_people(engine, texts) if texts else set()

    def known_people(self, engine: Engine, texts: Iterable[str]) -> set[str]:
        """Names in `texts` that the catalog's name columns hold: people we know."""
        found: set[str] = set()
        for text in texts:
            for c in candidates(text):
                words = c.words
                for n in (2, 3, 4):
                    found.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        if not found:
            return set()
        # one statement over every name column of every table, so DuckDB runs them together
        params: list[object] = []
        parts = [
            f"SELECT {quote_identifier(c)} AS n FROM {quote_identifier(name)}"
            f" WHERE {sql_in(quote_identifier(c), sorted(found), params)}"
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


def _is_text(kind: pa.DataType) -> bool:
    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
        or (pa.types.is_dictionary(kind) and _is_text(kind.value_type))
    )


def _as_text(column: pa.ChunkedArray) -> pa.Array:
    """A free-text column that is not nested, as strings."""
    kind = column.type
    if _is_text(kind) or pa.types.is_null(kind):
        return column.combine_chunks()
    return pc.cast(column, pa.string()).combine_chunks()


def _leaf_texts(column: pa.ChunkedArray) -> tuple[pa.Array, list[Any]]:
    """Every string of a column, nested ones included (struct fields, list elements, map
    keys and values, in order), and the column's values as Python objects."""
    values = column.to_pylist()
    texts: list[str] = []
    for value in values:
        _collect(value, column.type, texts)
    return pa.array(texts, pa.string()), values


def _collect(value: Any, kind: pa.DataType, out: list[str]) -> None:
    if value is None:
        return
    if _is_text(kind):
        out.append(value)
    elif pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            sub = kind.field(index)
            _collect(value.get(sub.name), sub.type, out)
    elif pa.types.is_map(kind):
        for key, item in value:
            _collect(key, kind.key_type, out)
            _collect(item, kind.item_type, out)
    elif _is_list(kind):
        for item in value:
            _collect(item, kind.value_type, out)


def _with_leaves(values: list[Any], kind: pa.DataType, texts: pa.Array) -> pa.Array:
    """The values again, their strings replaced by `texts` in `_collect`'s order, as an
    array of the column's own type."""
    replaced = iter(texts.to_pylist())
    rebuilt = [_rebuild(value, kind, replaced) for value in values]
    if next(replaced, _END) is not _END:
        raise InternalError("a nested column gave back more strings than it holds")
    return pa.array(rebuilt, kind)


_END = object()


def _rebuild(value: Any, kind: pa.DataType, texts: Iterator[Any]) -> Any:
    if value is None:
        return None
    if _is_text(kind):
        return next(texts)
    if pa.types.is_struct(kind):
        return {
            kind.field(i).name: _rebuild(value.get(kind.field(i).name), kind.field(i).type, texts)
            for i in range(kind.num_fields)
        }
    if pa.types.is_map(kind):
        return [
            (_rebuild(key, kind.key_type, texts), _rebuild(item, kind.item_type, texts))
            for key, item in value
        ]
    if _is_list(kind):
        return [_rebuild(item, kind.value_type, texts) for item in value]
    return value


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
        or pa.types.is_list_view(kind)
        or pa.types.is_large_list_view(kind)
    )


def mask_column(column: pa.ChunkedArray) -> pa.Array:
    """Every value masked to its last four letters or digits; nulls stay null."""
    return pa.array([None if v is None else mask(str(v)) for v in column.to_pylist()], pa.string())


@dataclass(frozen=True)
class _OwnData:
    """The person's own emails, phones, names and IP addresses: kept in free text."""

    emails: frozenset[str]
    phones: frozenset[str]
    names: frozenset[str]
    name_words: frozenset[str]
    ips: frozenset[str]
    rules: MatchRules

    @classmethod
    def of(
        cls, identity: Identity, tables: dict[str, pa.Table], catalog: Catalog, rules: MatchRules
    ) -> _OwnData:
        names: set[str] = set()
        ips: set[str] = set()
        for name, table in tables.items():
            for col_name, col in catalog.tables[name].columns.items():
                if col_name not in table.column_names:
                    continue
                values = [str(v).strip() for v in table.column(col_name).to_pylist() if v]
                if col.personal is PersonalKind.NAME:
                    names.update(values)
                elif col.personal is PersonalKind.IP_ADDRESS:
                    ips.update(v.lower() for v in values)
        words = {w.lower() for n in names for w in n.split()}
        return cls(
            emails=frozenset(identity.values(IdentityKind.EMAIL)),
            phones=frozenset(identity.values(IdentityKind.PHONE)),
            names=frozenset(names),
            name_words=frozenset(words),
            ips=frozenset(ips),
            rules=rules,
        )

    def is_own(self, entity: str, span: str) -> bool:
        """True for the person's own details; never for card, bank or ID numbers."""
        if entity == EMAIL:
            return normalize(IdentityKind.EMAIL, span, self.rules) in self.emails
        if entity == PHONE:
            return normalize(IdentityKind.PHONE, span, self.rules) in self.phones
        if entity == IP:
            return span.strip().lower() in self.ips
        if entity in FINANCIAL_AND_GOVERNMENT:
            return False
        words = span.split()
        return bool(words) and all(w.lower().strip(".,;:") in self.name_words for w in words)
