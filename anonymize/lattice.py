"""The generalisation lattice over staged rows: each searched column's values coded at every
level, and a node's equivalence classes computed from a more specific node's classes.

Level 0 of every searched column is its original value; level i is the policy's i-th entry
of `levels`. The rows are counted once, in DuckDB, per combination of the quasi-identifiers
(and of the sensitive columns, when l is a target); each column's distinct values are coded
0..n-1 and, per level, mapped to the code of their generalised value. From then on a node's
classes are a group-by in numpy over codes, and a node's classes are computed from those of a
node below it (fewer groups than the rows) by mapping each column's codes up to its level,
as ARX does from its snapshots.

A level must group the values of the level before it (months within years, prefix 3 within
prefix 4, bins of 10 within bins of 5): otherwise a coarser node could split a class and the
search's pruning would be wrong. The data decides: a level that splits a group of the one
before it on these rows is refused, naming both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from anonymize.criteria import ClassStats, Criterion
from anonymize.operators import Context, coarsen_sql
from anonymize.params import Coarsening, Generalize
from dsar.engine.base import quote_identifier
from dsar.errors import ConfigError, ConfigProblem, UnlistedValueError

Codes = npt.NDArray[np.int64]
LIMIT = 1 << 62  # the mixed-radix key of a group stays below this


@dataclass(frozen=True)
class Axis:
    """One searched column: the code of each original value at every level."""

    column: str
    maps: tuple[Codes, ...]  # level -> code of each original value (level 0: itself)
    sizes: tuple[int, ...]  # distinct codes at each level
    entropy: tuple[float, ...]  # ARX's non-uniform entropy of each level, in bits
    lowest: int  # the first level the search may choose (1: the original is never released)
    _up: dict[tuple[int, int], Codes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def height(self) -> int:
        return len(self.maps)

    def up(self, a: int, b: int) -> Codes:
        """The code at level b of each code at level a (a <= b: the levels nest)."""
        if (a, b) not in self._up:
            out = np.zeros(self.sizes[a], dtype=np.int64)
            out[self.maps[a]] = self.maps[b]
            self._up[(a, b)] = out
        return self._up[(a, b)]


@dataclass(frozen=True)
class Classes:
    """The groups of one node: codes of the searched columns at `levels`, the code of the
    other quasi-identifiers together, the sensitive columns' codes, and the rows of each."""

    levels: tuple[int, ...]
    codes: Codes  # (groups, searched columns)
    rest: Codes  # (groups,)
    sensitive: Codes  # (groups, sensitive columns)
    counts: Codes  # (groups,)

    def __len__(self) -> int:
        return len(self.counts)


@dataclass(frozen=True)
class Table:
    """The counted rows of one search: the axes, the groups at level 0 and their sizes."""

    axes: tuple[Axis, ...]
    bottom: Classes  # every axis at level 0
    rest_size: int
    sensitive_sizes: tuple[int, ...]
    people: bool = False  # the last sensitive code is the person: class sizes count people


def count_rows(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    searched: dict[str, Generalize],
    quasi_identifiers: list[str],
    sensitive: list[str],
    ctx: Context,
    source: str,
    withheld: frozenset[str],
    person: str | None = None,
) -> Table:
    """Count the staged rows per combination of values and code every searched column
    (`person`: also per person, coded as the last sensitive column, so that a class's size
    is its distinct people).

    Raises:
        UnlistedValueError: a hierarchy does not list a value of its column.
        ConfigError: a level splits a group of the level before it.
    """
    columns = list(searched)
    rest = [q for q in quasi_identifiers if q not in searched]
    sensitive = [*sensitive, person] if person is not None else sensitive
    keys = ", ".join(quote_identifier(c) for c in [*quasi_identifiers, *sensitive])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __freq AS SELECT {keys}{', ' if keys else ''}"
        f"count(*) AS __n FROM {relation} GROUP BY ALL"
    )
    try:
        ranks = [_rank([c]) + f" AS __c{i}" for i, c in enumerate(columns)]
        ranks.append((_rank(rest) if rest else "0") + " AS __rest")
        ranks += [_rank([s]) + f" AS __s{i}" for i, s in enumerate(sensitive)]
        quoted = ", ".join(quote_identifier(c) for c in columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __coded AS SELECT {', '.join(ranks)}, __n"
            f"{', ' + quoted if quoted else ''} FROM __freq"
        )
        names = [f"__c{i}" for i in range(len(columns))] + ["__rest", "__n"]
        names += [f"__s{i}" for i in range(len(sensitive))]
        got = _arrow(con, f"SELECT {', '.join(names)} FROM __coded")
        counts = _ints(got.column("__n"))
        codes = np.zeros((len(counts), len(columns)), dtype=np.int64)
        for i in range(len(columns)):
            codes[:, i] = _ints(got.column(f"__c{i}"))
        axes = tuple(
            _axis(con, i, c, searched[c], ctx, source, c in withheld, codes[:, i], counts)
            for i, c in enumerate(columns)
        )
        sens = np.zeros((len(counts), len(sensitive)), dtype=np.int64)
        for i in range(len(sensitive)):
            sens[:, i] = _ints(got.column(f"__s{i}"))
        rest_codes = _ints(got.column("__rest"))
        sizes = con.execute(
            "SELECT "
            + ", ".join(
                [
                    "coalesce(max(__rest), -1) + 1",
                    *(f"coalesce(max(__s{i}), -1) + 1" for i in range(len(sensitive))),
                ]
            )
            + " FROM __coded"
        ).fetchone()
        assert sizes is not None
    finally:
        con.execute("DROP TABLE IF EXISTS __coded")
        con.execute("DROP TABLE IF EXISTS __freq")
    bottom = Classes((0,) * len(columns), codes, rest_codes, sens, counts)
    return Table(axes, bottom, int(sizes[0]), tuple(int(s) for s in sizes[1:]), person is not None)


def _rank(columns: list[str]) -> str:
    order = ", ".join(f"{quote_identifier(c)} NULLS LAST" for c in columns)
    return f"(dense_rank() OVER (ORDER BY {order}) - 1)"


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> pa.Table:
    return con.sql(sql, params=list(params) or None).to_arrow_table()


def _ints(column: pa.ChunkedArray) -> Codes:
    return np.asarray(column.to_numpy(), dtype=np.int64)


def _axis(
    con: duckdb.DuckDBPyConnection,
    index: int,
    column: str,
    op: Generalize,
    ctx: Context,
    source: str,
    withheld: bool,
    raw: Codes,
    counts: Codes,
) -> Axis:
    """Code each distinct value of one column at every level of its `levels`."""
    levels = op.levels or []
    quoted = quote_identifier(column)
    exprs: list[str] = []
    params: list[object] = []
    for level in levels:
        got = coarsen_sql(quoted, level, ctx)
        assert got is not None  # ip levels are refused by the policy
        exprs.append(f"CAST({got[0]} AS VARCHAR)")
        params += got[1]
    for i, level in enumerate(levels, start=1):
        if isinstance(level, Coarsening) and level.hierarchy is not None:
            _check_listed(con, index, column, level.hierarchy, source, i)
    table = _arrow(
        con,
        f"SELECT {', '.join(exprs)} FROM (SELECT DISTINCT __c{index}, {quoted} FROM __coded)"
        f" ORDER BY __c{index}",
        params,
    )
    distinct = table.num_rows
    maps: list[Codes] = [np.arange(distinct, dtype=np.int64)]
    for i in range(len(levels)):
        encoded = pc.dictionary_encode(table.column(i), null_encoding="encode").combine_chunks()
        maps.append(np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64))
    for i in range(1, len(maps)):
        _check_nested(column, levels, i, maps[i - 1], maps[i], source)
    per_value = np.bincount(raw, weights=counts, minlength=distinct).astype(np.float64)
    sizes = tuple(int(m.max()) + 1 if len(m) else 0 for m in maps)
    entropy = tuple(_entropy(per_value, m, s) for m, s in zip(maps, sizes, strict=True))
    return Axis(column, tuple(maps), sizes, entropy, 1 if withheld else 0)


def _check_listed(
    con: duckdb.DuckDBPyConnection,
    index: int,
    column: str,
    hierarchy: dict[str, str],
    source: str,
    level: int,
) -> None:
    """A value the hierarchy does not list is an error, never a silent '*'."""
    values = con.execute(
        f"SELECT DISTINCT CAST({quote_identifier(column)} AS VARCHAR) AS v FROM __coded"
        " WHERE v IS NOT NULL AND NOT list_contains(?, v) ORDER BY v",
        [list(hierarchy)],
    ).fetchall()
    if values:
        raise UnlistedValueError(
            source,
            column,
            [str(v[0]) for v in values[: UnlistedValueError.SHOWN]],
            count=len(values),
            level=level,
        )


def _check_nested(
    column: str,
    levels: Sequence[Coarsening | str],
    i: int,
    finer: Codes,
    coarser: Codes,
    source: str,
) -> None:
    """Level i must give each group of level i-1 one value."""
    if not len(finer):
        return
    first = np.full(int(finer.max()) + 1, -1, dtype=np.int64)
    first[finer] = coarser
    split = int(np.count_nonzero(first[finer] != coarser))
    if not split:
        return
    below = "the original value" if i == 1 else _describe(levels[i - 2])
    raise ConfigError(
        source,
        [
            ConfigProblem(
                f"columns.{column}.levels.{i - 1}",
                f"{column}: level {i} ({_describe(levels[i - 1])}) splits groups of level"
                f" {i - 1} ({below}) on these rows, so a coarser choice could make a smaller"
                " class and the search could not prune",
                "give levels that each group the one before: day, month, year; prefix 4,"
                " 3, 2; bins of 5, 10, 20; bands whose bounds are some of the finer bands';"
                " hierarchies mapping each group of the level before to one group",
            )
        ],
        what="policy",
    )


def _describe(level: Coarsening | str) -> str:
    if isinstance(level, str):
        return level
    name = level.given()[0]
    return name if name == "hierarchy" else f"{name}: {getattr(level, name)}"


def _entropy(per_value: npt.NDArray[np.float64], codes: Codes, size: int) -> float:
    """ARX's non-uniform entropy of one column at one level: the sum over rows of
    log2(rows sharing the generalised value / rows sharing the original value)."""
    if not len(codes):
        return 0.0
    per_group = np.bincount(codes, weights=per_value, minlength=size)
    present = per_value > 0
    a = per_value[present]
    b = per_group[codes[present]]
    return float(np.sum(a * np.log2(b / a)))


def combine(columns: list[tuple[Codes, int]]) -> Codes:
    """One int64 key per row for several code columns (a mixed radix; re-coded densely when
    the product of the sizes would overflow)."""
    n = len(columns[0][0]) if columns else 0
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for values, size in columns:
        size = max(size, 1)
        if span * size >= LIMIT:
            uniq, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64)
            span = max(len(uniq), 1)
        key = key * size + values
        span *= size
    return key


def generalise(
    start: Classes,
    levels: tuple[int, ...],
    table: Table,
    criteria: tuple[Criterion, ...],
) -> tuple[Classes, ClassStats]:
    """The groups and the class statistics of the node `levels`, from a node below it."""
    axes = table.axes
    codes = start.codes.copy()
    for i, (a, b) in enumerate(zip(start.levels, levels, strict=True)):
        if a != b:
            codes[:, i] = axes[i].up(a, b)[codes[:, i]]
    sizes = [ax.sizes[b] for ax, b in zip(axes, levels, strict=True)]
    qi = [(codes[:, i], s) for i, s in enumerate(sizes)] + [(start.rest, table.rest_size)]
    needed = any(c.needs_sensitive for c in criteria) or table.people
    sensitive = needed and start.sensitive.shape[1] > 0
    if sensitive:
        sens = [(start.sensitive[:, j], s) for j, s in enumerate(table.sensitive_sizes)]
        _, first, inverse = np.unique(combine(qi + sens), return_index=True, return_inverse=True)
        counts = np.bincount(inverse, weights=start.counts).astype(np.int64)
        groups = Classes(levels, codes[first], start.rest[first], start.sensitive[first], counts)
        _, cls = np.unique(
            combine(
                [(groups.codes[:, i], s) for i, s in enumerate(sizes)]
                + [(groups.rest, table.rest_size)]
            ),
            return_inverse=True,
        )
        n_classes = int(cls.max()) + 1 if len(cls) else 0
        class_sizes = np.bincount(cls, weights=counts, minlength=n_classes).astype(np.int64)
        distinct = np.zeros((n_classes, len(table.sensitive_sizes)), dtype=np.int64)
        for j, s in enumerate(table.sensitive_sizes):
            pairs = np.unique(cls.astype(np.int64) * max(s, 1) + groups.sensitive[:, j])
            distinct[:, j] = np.bincount(pairs // max(s, 1), minlength=n_classes)
        if table.people:  # the last column counts the people of each class: its size
            return groups, ClassStats(distinct[:, -1].copy(), distinct[:, :-1])
        return groups, ClassStats(class_sizes, distinct)
    _, first, inverse = np.unique(combine(qi), return_index=True, return_inverse=True)
    counts = np.bincount(inverse, weights=start.counts).astype(np.int64)
    empty = np.zeros((len(first), 0), dtype=np.int64)
    groups = Classes(levels, codes[first], start.rest[first], empty, counts)
    return groups, ClassStats(counts, np.zeros((len(counts), 0), dtype=np.int64))


def lcm_of(heights: list[int]) -> int:
    """The common denominator of the levels' precisions (level / (height - 1))."""
    return math.lcm(*(max(h - 1, 1) for h in heights)) if heights else 1
