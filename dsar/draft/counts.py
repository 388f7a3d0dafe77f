"""Counts over every row, in one statement that reads each table once.

After the samples (`dsar.draft.profile`), one statement counts what the draft decides from
every row: each table's rows, the non-null values of every column, integer ranges, the
exact distinct values of the columns that may be keys, every candidate link (are the values
of `child.column` all within `parent.key`?) and how many of a table's sampled contacts
(emails, phones) another people table holds. Each table is scanned once, by one aggregate:
its counts, and the distinct values of each column a link check or a contact share needs,
kept as a list; the checks then join those lists (distinct values against distinct values),
not the tables' rows, and a parent's key is never read apart from its table's own scan. A
table sampled whole is scanned only where a check or a share needs its values. A text
placeholder (`-`, `none`, `keine`: `dsar.draft.profile.PLACEHOLDERS`) is counted as no value,
and the rows holding one apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dsar.draft.profile import TableProfile, placeholder_sql, real_sql
from dsar.engine.base import Engine, quote_identifier

_INTEGER = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_TEXT = ("string", "large_string")
# the most parts (a table's counts, a link check, a contact share) one statement holds: a
# statement of a few thousand nests past DuckDB's expression depth limit (1,000 levels)
_MOST_PARTS = 200


@dataclass(frozen=True)
class Check:
    """Are the values of `child.column` within `parent.key`? Counted over every row."""

    child: str
    column: str
    parent: str
    key: str
    # "": as the engine reads both; "integer": both read as integers ("007" is 7), for ids
    # written as text in one table; "text": both as written (as a request compares them)
    compare: str = ""


@dataclass(frozen=True)
class Share:
    """How many of `values` (a table's sampled contacts) `parent.column` holds, compared
    trimmed and case-folded."""

    parent: str
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Counted:
    """The counts: the profiles counted over every row; per check (distinct values of the
    column, of them found in the key); per share, the values found."""

    profiles: dict[str, TableProfile]
    found: dict[Check, tuple[int, int]]
    shared: dict[Share, int] = field(default_factory=dict)


def share(parent: str, column: str, values: Sequence[object]) -> Share:
    """The share to count for the sampled `values` against `parent.column`."""
    return Share(parent, column, tuple(sorted({str(v).strip().lower() for v in values})))


def count_tables(
    engine: Engine,
    profiles: Mapping[str, TableProfile],
    unique: Mapping[str, Sequence[str]],
    checks: Sequence[Check],
    shares: Sequence[Share] = (),
) -> Counted:
    """Counts over every row, each table scanned once, in one statement.

    Args:
        profiles: the sampled tables; those sampled whole are scanned only for the values of
            their checks and shares.
        unique: per table, the columns whose distinct values are counted exactly.
        checks: pairs whose values are checked.
        shares: contacts looked up in a table's column.
    """
    shares = list(dict.fromkeys(s for s in shares if s.values))
    plans: dict[str, _Scan] = {}
    for name, prof in profiles.items():
        scan = _Scan(
            prof,
            [] if prof.whole else list(unique.get(name, ())),
            [c.column for c in checks if c.child == name]
            + [c.key for c in checks if c.parent == name],
            [s.column for s in shares if s.parent == name],
        )
        if not prof.whole or scan.sets or scan.folded:
            plans[name] = scan
    if not plans:
        return Counted(dict(profiles), {})
    alias = {name: f"__a{i}" for i, name in enumerate(plans)}
    tables = [
        (f"(SELECT {s.fields()} FROM {alias[n]}) AS t{i}", {n})
        for i, (n, s) in enumerate(plans.items())
    ]
    links = []
    for j, check in enumerate(checks):
        child, parent = plans[check.child], plans[check.parent]
        value, key = "v", f"unnest({parent.set_of(check.key)})"
        if check.compare:
            cast = "HUGEINT" if check.compare == "integer" else "VARCHAR"
            value, key = (f"TRY_CAST(CAST({x} AS VARCHAR) AS {cast})" for x in (value, key))
        part = (
            f"(SELECT count(*) FROM (SELECT unnest({child.set_of(check.column)}) AS v FROM"
            f" {alias[check.child]}) WHERE {value} IN (SELECT {key} FROM"
            f" {alias[check.parent]})) AS f{j}"
        )
        links.append((part, {check.child, check.parent}))
    contacts = [
        (
            f"(SELECT count(*) FROM (SELECT unnest(CAST(? AS VARCHAR[])) AS v) WHERE v IN"
            f" (SELECT unnest({plans[s.parent].folded_of(s.column)}) FROM {alias[s.parent]}))"
            f" AS g{k}",
            {s.parent},
        )
        for k, s in enumerate(shares)
    ]
    values: list[object] = [list(s.values) for s in shares]

    def run(parts: Sequence[tuple[str, set[str]]], params: list[object]) -> dict[str, Any]:
        used = set().union(*(names for _, names in parts))
        withs = ", ".join(
            f"{alias[n]} AS MATERIALIZED ({s.sql()})" for n, s in plans.items() if n in used
        )
        select = ", ".join(part for part, _ in parts)
        return dict(engine.query(f"WITH {withs} SELECT {select}", params).to_pylist()[0])

    if len(tables) + len(links) + len(contacts) <= _MOST_PARTS:
        # one statement: each table scanned once
        got = run([*tables, *contacts, *links], values)
    else:
        # a wide export (hundreds of candidate links): a statement of thousands of parts
        # nests past DuckDB's limit, so the links are counted in batches, each reading the
        # tables its checks name (a table may be read once per batch)
        got = run([*tables, *contacts], values)
        for start in range(0, len(links), _MOST_PARTS):
            got |= run(links[start : start + _MOST_PARTS], [])
    counted = dict(profiles)
    for i, (name, scan) in enumerate(plans.items()):
        counted[name] = scan.read(got[f"t{i}"])
    found = {}
    for j, check in enumerate(checks):
        distinct = got[f"t{list(plans).index(check.child)}"][
            plans[check.child].set_name(check.column)
        ]
        found[check] = (int(distinct or 0), int(got[f"f{j}"] or 0))
    shared = {s: int(got[f"g{k}"] or 0) for k, s in enumerate(shares)}
    return Counted(counted, found, shared)


class _Scan:
    """One table's aggregate, its fields named by position (no value, no column name)."""

    def __init__(
        self, prof: TableProfile, unique: list[str], sets: list[str], folded: list[str]
    ) -> None:
        self.prof = prof
        self.order = list(prof.columns)
        self.sets = list(dict.fromkeys(sets))
        self.unique = [c for c in dict.fromkeys(unique) if c not in self.sets]
        self.folded = list(dict.fromkeys(folded))

    def set_of(self, column: str) -> str:
        return f"s{self.order.index(column)}"

    def set_name(self, column: str) -> str:
        return f"u{self.order.index(column)}"

    def folded_of(self, column: str) -> str:
        return f"h{self.order.index(column)}"

    def real(self, column: str) -> str:
        """The column's values, a placeholder read as NULL."""
        return real_sql(quote_identifier(column), self.prof.columns[column].arrow_type)

    def texts(self) -> list[int]:
        """The positions of the text columns, whose placeholders are counted."""
        return [i for i, p in enumerate(self.prof.columns.values()) if p.arrow_type in _TEXT]

    def sql(self) -> str:
        q = quote_identifier
        fields = ["count(*) AS n"]
        if not self.prof.whole:
            texts = self.texts()
            for i, (col, p) in enumerate(self.prof.columns.items()):
                fields.append(f"count({self.real(col)}) AS c{i}")
                if i in texts:
                    fields.append(f"count(*) FILTER (WHERE {placeholder_sql(q(col))}) AS p{i}")
                if p.arrow_type in _INTEGER:
                    fields += [f"min({q(col)}) AS lo{i}", f"max({q(col)}) AS hi{i}"]
        for col in self.unique:
            fields.append(f"count(DISTINCT {self.real(col)}) AS u{self.order.index(col)}")
        for col in self.sets:
            real = self.real(col)
            fields.append(
                f"list(DISTINCT {real}) FILTER (WHERE {real} IS NOT NULL)"
                f" AS s{self.order.index(col)}"
            )
        for col in self.folded:
            text = f"lower(trim(CAST({self.real(col)} AS VARCHAR)))"
            fields.append(
                f"list(DISTINCT {text}) FILTER (WHERE {text} IS NOT NULL)"
                f" AS h{self.order.index(col)}"
            )
        return f"SELECT {', '.join(fields)} FROM {q(self.prof.name)}"

    def fields(self) -> str:
        """The counts as a struct: the lists of values only by their lengths."""
        names = ["n"]
        if not self.prof.whole:
            texts = self.texts()
            for i, p in enumerate(self.prof.columns.values()):
                names.append(f"c{i}")
                if i in texts:
                    names.append(f"p{i}")
                if p.arrow_type in _INTEGER:
                    names += [f"lo{i}", f"hi{i}"]
        names += [f"u{self.order.index(c)}" for c in self.unique]
        packed = [f"{n} := {n}" for n in names]
        packed += [f"u{self.order.index(c)} := len(s{self.order.index(c)})" for c in self.sets]
        return f"struct_pack({', '.join(packed)})"

    def read(self, got: Mapping[str, int | None]) -> TableProfile:
        prof = self.prof
        columns = dict(prof.columns)
        for i, (col, p) in enumerate(prof.columns.items()):
            counted = got.get(f"u{i}")
            if prof.whole:
                distinct = p.distinct if counted is None else int(counted)
                columns[col] = replace(p, distinct=distinct)
                continue
            columns[col] = replace(
                p,
                non_null=int(got[f"c{i}"] or 0),
                placeholders=int(got.get(f"p{i}") or 0),
                distinct=None if counted is None else int(counted),
                low=got.get(f"lo{i}"),
                high=got.get(f"hi{i}"),
            )
        rows = int(got["n"] or 0) if not prof.whole else prof.rows
        return replace(prof, rows=rows, columns=columns, counted=True)
