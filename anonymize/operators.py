"""Column operators, registered by name: each turns one column of the source into the extract's.

Structured operators are SQL expressions that DuckDB runs over the source while it streams
(vectorised, multi-threaded); only what SQL cannot do runs in Python, once per distinct value
of an Arrow batch (Faker pseudonyms, IPv6 prefixes) or through the text engine (free text).
Every keyed operation goes through `dsar.keys`: the key itself never reaches SQL text or an
output.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
from abc import ABC
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from anonymize.parallel import Found, redact_policy
from anonymize.params import (
    TEXT_DATES,
    Coarsening,
    DateShift,
    Drop,
    Generalize,
    Hash,
    Keep,
    Mask,
    Pseudonym,
    Redact,
    Suppress,
    TopBottom,
)
from dsar.engine.base import quote_identifier
from dsar.errors import ExportDataError, InternalError, MissingKeyError, UnlistedValueError
from dsar.keys import KEY_ENV, MIN_KEY_LENGTH, Keys, Purpose
from dsar.text.engine import Replacements, TextEngine

Params = list[object]
PERSON_COLUMN = '"__person"'  # the person's id, selected for date shifts, never written
SHIFT_CACHE = 1_000_000  # people whose date offset is remembered across batches


@dataclass
class Context:
    """What operators share during one extract: the key, the person column, the column types,
    and one record of replacements so a value gets one pseudonym throughout the run."""

    keys: Keys | None
    person: str | None  # quoted SQL of the person column
    types: dict[str, str]  # column -> its Arrow type, as text
    replacements: Replacements = field(init=False)
    person_values: pa.Array | None = None  # the batch's person column (for date shifts)
    _engines: dict[tuple[str, tuple[str, ...], bool], TextEngine] = field(default_factory=dict)
    _hashers: dict[Purpose, Callable[[str], str]] = field(default_factory=dict)
    shifts: dict[int, dict[str, int]] = field(default_factory=dict)  # person -> seconds, per run
    found: Found = field(default_factory=dict)  # spans found by workers, for this batch
    column: str = ""  # the column the operator is running on
    link: str = ""  # the extract's link name: hashes are keyed by it (see `python_hash`)

    def __post_init__(self) -> None:
        self.replacements = Replacements(self.keys)

    def hasher(self, purpose: Purpose, what: str) -> Callable[[str], str]:
        """The fast keyed hash for a purpose, made once per run."""
        if purpose not in self._hashers:
            self._hashers[purpose] = self.need_keys(what).hasher(purpose)
        return self._hashers[purpose]

    def need_keys(self, what: str) -> Keys:
        if self.keys is None:
            raise MissingKeyError(
                f"the extract's {what} operator needs the secret key: set {KEY_ENV} or give"
                f" --key-file FILE (a secret of at least {MIN_KEY_LENGTH} characters)"
            )
        return self.keys

    def text_engine(self, names: str, allow: tuple[str, ...], model: bool = True) -> TextEngine:
        """One text engine per redaction setting (the model loads once per process; without
        `model`, an engine that only replaces what was found elsewhere)."""
        key = (names, allow, model)
        if key not in self._engines:
            policy = redact_policy(names, allow)
            self._engines[key] = (
                TextEngine(policy=policy) if model else TextEngine(policy=policy, nlp=None)
            )
        return self._engines[key]


class ColumnOperator(ABC):
    """One operator: SQL over the source column, or Python over a batch of its values."""

    name: ClassVar[str]

    def sql(self, column: str, spec: Any, ctx: Context) -> tuple[str, Params] | None:
        """SQL computing the output from `column` (quoted), with its parameters; None when
        the operator runs in Python on the column's values instead."""
        return None

    def python(self, values: pa.Array, spec: Any, ctx: Context) -> pa.Array:  # pragma: no cover
        raise NotImplementedError(self.name)


OPERATORS: dict[str, ColumnOperator] = {}


def register(cls: type[ColumnOperator]) -> type[ColumnOperator]:
    OPERATORS[cls.name] = cls()
    return cls


def operator_for(spec: Any) -> ColumnOperator:
    return OPERATORS[spec.op]


def _arrow_type(column: str, ctx: Context) -> str:
    """The Arrow type (as text) of a quoted column of the source."""
    return ctx.types.get(column[1:-1].replace('""', '"') if column.startswith('"') else column, "")


def _text(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


@register
class KeepOp(ColumnOperator):
    name = "keep"

    def sql(self, column: str, spec: Keep, ctx: Context) -> tuple[str, Params]:
        return column, []


@register
class DropOp(ColumnOperator):
    name = "drop"

    def sql(self, column: str, spec: Drop, ctx: Context) -> tuple[str, Params]:
        raise AssertionError("dropped columns are never selected")


@register
class SuppressOp(ColumnOperator):
    name = "suppress"

    def sql(self, column: str, spec: Suppress, ctx: Context) -> tuple[str, Params]:
        return "CAST(NULL AS VARCHAR)", []


@register
class HashOp(ColumnOperator):
    """Keyed HMAC-SHA256 once per distinct value of a batch (an id repeated in a foreign key
    is hashed once): faster per core than SQL's two SHA-256 calls per row (measured).

    Values are not remembered across batches: on this machine a lookup in a dict of a few
    hundred thousand ids costs as much as the HMAC itself (0.6 against 0.7 us, measured), so
    remembering saved nothing even when 84% of the values came back."""

    name = "hash"

    def python(self, values: pa.Array, spec: Hash, ctx: Context) -> pa.Array:
        digest = ctx.hasher(Purpose.EXTRACT_HASH, "hash")
        n, scope = spec.length, _scope(ctx.link)
        if spec.normalize:
            return _per_distinct(values, lambda v: digest(scope + v.strip(" ").lower())[:n])
        return _per_distinct(values, lambda v: digest(scope + v)[:n])


def _scope(link: str) -> str:
    return f"link:{link}\x1f" if link else ""


def python_hash(value: str, keys: Keys, spec: Hash, link: str = "") -> str:
    """The Python twin of the hash operator (a reviewer's check, and the tests').

    `link`: the extract's link name (its policy's `link:`, else its `name:`). Hashes are
    keyed by it, so two extracts join on a hashed column only when they share it: a red team
    joined two releases of k = 10 and 15 on the hashed user id into one of k = 1. Empty: the
    hash under the key alone (an operator run outside an extract)."""
    text = value.strip(" ").lower() if spec.normalize else value  # as SQL trim and lower
    return keys.keyed_hash(Purpose.EXTRACT_HASH, _scope(link) + text)[: spec.length]


@register
class MaskOp(ColumnOperator):
    name = "mask"

    def sql(self, column: str, spec: Mask, ctx: Context) -> tuple[str, Params]:
        v, n = _text(column), spec.keep_last
        tail = f"right({v}, {n})" if n else "''"
        # NULL stays NULL (greatest() would turn a missing value into an empty string)
        stars = f"repeat('*', greatest(length({v}) - {n}, 0))"
        return f"CASE WHEN {v} IS NULL THEN NULL ELSE {stars} || {tail} END", []


@register
class TopBottomOp(ColumnOperator):
    name = "top_bottom"

    def sql(self, column: str, spec: TopBottom, ctx: Context) -> tuple[str, Params]:
        expr, params = column, list[object]()
        if spec.top is not None:
            expr, params = f"least({expr}, ?)", [*params, spec.top]
        if spec.bottom is not None:
            expr, params = f"greatest({expr}, ?)", [*params, spec.bottom]
        # least() and greatest() skip NULLs: a missing value would be published as top
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE {expr} END", params


@register
class DateShiftOp(ColumnOperator):
    """One keyed offset per distinct person of a batch, added to the dates in Arrow.

    The offset is in seconds, so a timestamp's time of day moves with it (whole days would
    keep HH:MM:SS, which finds the person in the source); a date moves by the offset's
    nearest whole days, and so does a timestamp cut to its day (`truncate: day`)."""

    name = "date_shift"

    def python(self, values: pa.Array, spec: DateShift, ctx: Context) -> pa.Array:
        if ctx.person_values is None:
            raise InternalError(  # policy_problems refuses a date_shift without `person`
                "date_shift ran without the policy's person column; please report this"
            )
        digest = ctx.hasher(Purpose.EXTRACT_PSEUDONYM, "date_shift")
        persons = ctx.person_values.cast(pa.string())
        unique = pc.unique(pc.drop_null(persons))
        known = ctx.shifts.setdefault(spec.max_days, {})
        if len(known) > SHIFT_CACHE:
            known.clear()  # bounded memory on tables with millions of people
        offsets_list = []
        for p in unique.to_pylist():
            seconds = known.get(p)
            if seconds is None:
                seconds = _offset_seconds(digest("date-shift:" + p.strip(" ").lower()), spec)
                known[p] = seconds
            offsets_list.append(seconds)
        offsets = pa.array(offsets_list, pa.int64())
        seconds = pc.take(offsets, pc.index_in(persons, value_set=unique))  # null: no person
        days = pc.multiply(_nearest_days(seconds), DAY * 1_000_000).cast(pa.duration("us"))
        if pa.types.is_date(values.type):
            moved = pc.add(values.cast(pa.timestamp("us")), days)
            return pc.cast(moved, values.type)
        if pa.types.is_timestamp(values.type):
            unit = values.type.unit
            if spec.truncate == "day":  # the day alone: no time of day is published
                day = pc.floor_temporal(values, unit="day")
                return pc.cast(pc.add(day, days.cast(pa.duration(unit))), pa.date32())
            shift = pc.multiply(seconds, 1_000_000).cast(pa.duration("us"))
            return pc.add(values, shift.cast(pa.duration(unit)))
        raise ExportDataError(
            None,
            ctx.column,
            f"holds {values.type}, where date_shift needs dates or timestamps",
            "give the column its date type in the catalog, or choose another operator",
        )


DAY = 86_400


def _offset_seconds(digest: str, spec: DateShift) -> int:
    """The person's offset, in seconds, within max_days either way (48 bits of the digest)."""
    most = spec.max_days * DAY
    return int(digest[:12], 16) % (2 * most + 1) - most


def _nearest_days(seconds: pa.Array) -> pa.Array:
    """The whole days nearest an offset in seconds (a date's share of the person's offset)."""
    return pc.floor(pc.divide(pc.add(seconds.cast(pa.float64()), DAY / 2), DAY)).cast(pa.int64())


def python_shift_seconds(person: str, keys: Keys, spec: DateShift) -> int:
    """The Python twin of the date shift: the seconds one person's timestamps move."""
    digest = keys.keyed_hash(Purpose.EXTRACT_PSEUDONYM, "date-shift:" + person.strip(" ").lower())
    return _offset_seconds(digest, spec)


def python_shift_days(person: str, keys: Keys, spec: DateShift) -> int:
    """The Python twin of the date shift: the days one person's dates move (the nearest
    whole days of their offset in seconds)."""
    return (python_shift_seconds(person, keys, spec) + DAY // 2) // DAY


@register
class GeneralizeOp(ColumnOperator):
    name = "generalize"

    def sql(self, column: str, spec: Generalize, ctx: Context) -> tuple[str, Params] | None:
        if spec.levels:
            return column, []  # staged as it is: the search picks the level afterwards
        if spec.hierarchy is not None:
            return None  # in Python: a value the hierarchy does not list is an error
        return coarsen_sql(column, spec, ctx)

    def python(self, values: pa.Array, spec: Generalize, ctx: Context) -> pa.Array:
        if spec.hierarchy is not None:
            return _grouped(values, spec.hierarchy, ctx.column)
        bits = spec.ip or 24
        return _per_distinct(values, lambda v: _ip_prefix(v, bits))


def _grouped(values: pa.Array, hierarchy: dict[str, str], column: str) -> pa.Array:
    """Each value's group; NULL stays NULL; a value the hierarchy does not list is refused."""
    text = values.cast(pa.string())
    unique = pc.unique(pc.drop_null(text)).to_pylist()
    unlisted = sorted(v for v in unique if v not in hierarchy)
    if unlisted:
        raise UnlistedValueError(
            "<policy>", column, unlisted[: UnlistedValueError.SHOWN], count=len(unlisted)
        )
    return _per_distinct(values, hierarchy.__getitem__)


def coarsen_sql(column: str, level: Coarsening | str, ctx: Context) -> tuple[str, Params] | None:
    """SQL making `column` coarser one way (None for IP prefixes, done in Python)."""
    if isinstance(level, str):
        return "'*'", []  # STAR: the value withheld
    if level.to is not None:
        arrow_type = ctx.types.get(column.strip('"').replace('""', '"'), "")
        if is_text_type(arrow_type):
            return _text_date_sql(column, level.to), []
        truncated = f"date_trunc('{level.to}', {column})"
        # a DATE stays a DATE (DuckDB's date_trunc returns a timestamp)
        return (f"CAST({truncated} AS DATE)" if arrow_type.startswith("date") else truncated), []
    if level.bin is not None:
        return f"(floor({column} / ?) * ?)", [level.bin, level.bin]
    if level.bands is not None:
        return _bands(column, level.bands)
    if level.prefix is not None:
        return f"left({_text(column)}, {level.prefix})", []
    if level.hierarchy is not None:
        # only the search runs this, on DuckDB, after it checked every value is listed: an
        # unlisted one stops the query rather than becoming '*'
        params: Params = []
        whens = []
        for value, group in level.hierarchy.items():
            whens.append("WHEN ? THEN ?")
            params += [value, group]
        unlisted = "error('a value the hierarchy does not list')"
        return (
            f"(CASE WHEN {column} IS NULL THEN NULL ELSE CASE {_text(column)} {' '.join(whens)}"
            f" ELSE {unlisted} END END)"
        ), params
    return None  # ip: in Python


def is_text_type(arrow_type: str) -> bool:
    """An Arrow type (as text) of strings."""
    return arrow_type in ("string", "large_string", "string_view")


def parsed_date_sql(text: str, unit: str) -> str:
    """SQL of the timestamp a text date holds (one of `TEXT_DATES`), NULL where it holds none.

    DD/MM/YYYY and MM/DD/YYYY differ in the day and the month but not in the year: they are
    read for `unit` year alone (the policy check refuses a finer unit on them)."""
    t = f"trim({text})"
    parts = [f"TRY_CAST({t} AS TIMESTAMP)", f"try_strptime({t}, '%Y%m%d')"]
    if unit == "year":
        parts.append(
            f"CASE WHEN regexp_full_match({t}, '{DAY_MONTH_YEAR}') THEN"
            f" make_timestamp(CAST(right({t}, 4) AS BIGINT), 1, 1, 0, 0, 0.0) END"
        )
    return f"coalesce({', '.join(parts)})"


DAY_MONTH_YEAR = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}"  # DD/MM/YYYY or MM/DD/YYYY


def _text_date_sql(column: str, unit: str) -> str:
    """A text column's dates truncated to `unit`, as DATEs; a value in no format understood
    stops the run with a message naming the column (the policy check samples the column
    first, so this is for a value the sample did not see)."""
    text = _text(column)
    parsed = parsed_date_sql(text, unit)
    name = column[1:-1].replace('""', '"') if column.startswith('"') else column
    message = (
        f"a value of {name} is not a date in a format understood ({TEXT_DATES}): give the"
        " column a date type in the catalog, or convert it"
    ).replace("'", "''")
    return (
        f"(CASE WHEN {column} IS NULL THEN NULL WHEN {parsed} IS NULL THEN error('{message}')"
        f" ELSE CAST(date_trunc('{unit}', {parsed}) AS DATE) END)"
    )


def _bands(column: str, bands: list[float]) -> tuple[str, Params]:
    def label(x: float) -> str:
        return f"{x:g}"

    parts = [f"WHEN {column} < ? THEN '<{label(bands[0])}'"]
    params: Params = [bands[0]]
    for lo, hi in itertools.pairwise(bands):
        parts.append(f"WHEN {column} < ? THEN '{label(lo)}-{label(hi)}'")
        params.append(hi)
    return (
        f"(CASE {' '.join(parts)} WHEN {column} IS NOT NULL THEN '{label(bands[-1])}+' END)",
        params,
    )


def _ip_prefix(value: str, bits: int) -> str:
    """192.168.10.23 -> 192.168.10.0/24; IPv6 to its /48; anything else -> '*'."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return "*"
    prefix = bits if address.version == 4 else 48
    if address.version == 4 and bits == 48:
        prefix = 24
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@register
class PseudonymOp(ColumnOperator):
    name = "pseudonym"

    def python(self, values: pa.Array, spec: Pseudonym, ctx: Context) -> pa.Array:
        ctx.need_keys("pseudonym")
        # a name column and a name inside free text get the same surrogate (entity PERSON)
        entity = {"name": "PERSON", "email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER"}.get(
            spec.kind, spec.kind.upper()
        )
        return _per_distinct(values, lambda v: ctx.replacements.surrogate(entity, v))


@register
class RedactOp(ColumnOperator):
    name = "redact"

    def python(self, values: pa.Array, spec: Redact, ctx: Context) -> pa.Array:
        if spec.names != "placeholder":
            ctx.need_keys(f"redact with names: {spec.names}")
        found = ctx.found.pop(ctx.column, None)  # found by a worker process already
        # replacing only needs the policy: no model is loaded here when workers found it
        engine = ctx.text_engine(spec.names, tuple(spec.allow), model=found is None)
        return engine.redact(
            values.cast(pa.string()), replacements=ctx.replacements, found=found
        ).texts


def _per_distinct(values: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    """Apply `fn` once per distinct non-null value; nulls stay null. A nested value (a
    struct, list or map) is read as its JSON text, keys sorted."""
    if pa.types.is_nested(values.type):
        text = pa.array(
            [
                None if v is None else json.dumps(v, sort_keys=True, default=str)
                for v in values.to_pylist()
            ],
            pa.string(),
        )
    else:
        text = values.cast(pa.string())
    unique = pc.unique(pc.drop_null(text))
    mapped = pa.array([fn(v) for v in unique.to_pylist()], pa.string())
    return pc.take(mapped, pc.index_in(text, value_set=unique))


def select_list(columns: dict[str, Any], ctx: Context) -> tuple[list[str], Params, dict[str, Any]]:
    """The SELECT list for the source, its parameters, and the columns left for Python."""
    exprs: list[str] = []
    params: Params = []
    python: dict[str, Any] = {}
    if ctx.person is not None and any(isinstance(s, DateShift) for s in columns.values()):
        exprs.append(f"{ctx.person} AS {PERSON_COLUMN}")
    for name, spec in columns.items():
        if isinstance(spec, Drop):
            continue
        column = quote_identifier(name)
        result = operator_for(spec).sql(column, spec, ctx)
        if result is None:
            exprs.append(f"{column} AS {column}")
            python[name] = spec
        else:
            sql, p = result
            exprs.append(f"{sql} AS {column}")
            params += p
    return exprs, params, python


def apply_python(
    batch: pa.RecordBatch, python: dict[str, Any], ctx: Context, found: Found | None = None
) -> pa.RecordBatch:
    """Run the Python operators on one batch (`found`: its texts' spans, found elsewhere)."""
    if not python:
        return batch
    ctx.found = dict(found or {})
    arrays = list(batch.columns)
    names = list(batch.schema.names)
    hidden = PERSON_COLUMN.strip('"')
    ctx.person_values = batch.column(hidden) if hidden in names else None
    for name, spec in python.items():
        i = names.index(name)
        ctx.column = name
        arrays[i] = operator_for(spec).python(arrays[i], spec, ctx)
    if hidden in names:
        i = names.index(hidden)
        del arrays[i], names[i]
    return pa.RecordBatch.from_arrays(arrays, names=names)
