"""The least generalisation that meets k (and l) within the suppression budget.

Each quasi-identifier given `levels` is one axis of a lattice: level 0 is its original value,
level i the policy's i-th entry of `levels` (fine to coarse, each grouping the one before); a
node picks one level per axis. A column the catalog marks as personal data starts at level 1:
its original value is never a choice.

The loss minimised is ARX's precision (Prec): per column the level over the column's highest
level, averaged over the searched columns (0 keeps every value, 1 withholds all). Among nodes of
equal precision, the fewest suppressed rows, then the least discernibility, win. Reported
beside it, as ARX reports them: the discernibility metric (the sum of squared class sizes, a
suppressed row counting as many as there are rows), ARX's non-uniform entropy (per column and
row, log2 of the rows sharing the generalised value over those sharing the original; summed,
in bits; suppression not counted, as ARX's precomputed form), and the average class size over
k (C_avg, 1 is ideal).

The search, in the manner of ARX's Flash: the nodes are visited in order of precision, and the
first that meets the targets, with its ties, is the answer. The criteria are monotone
(`anonymize.criteria`), so a node that passes tags every node above it as passing, and one that
fails tags every node below it as failing: tagged nodes are never evaluated. After a failure,
a binary search up a path from the failed node (Flash's path check) finds the highest node of
the path that still fails, so one evaluation tags many nodes below. Each node's classes are
computed from the classes of a node below it already evaluated (`anonymize.lattice`), not from
the rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from anonymize.criteria import Criterion, criteria_of
from anonymize.lattice import Classes, Table, count_rows, generalise, lcm_of
from anonymize.operators import Context, coarsen_sql
from anonymize.params import Coarsening, Generalize
from anonymize.policy import Policy
from dsar.engine.base import quote_identifier
from dsar.errors import ConfigError, ConfigProblem, PrivacyTargetError

MAX_NODES = 20_000  # a lattice larger than this is refused: give fewer levels
CACHED_GROUPS = 2_000_000  # groups kept across evaluated nodes, to start later nodes from
UNKNOWN, PASSES, FAILS = 0, 1, 2


@dataclass(frozen=True)
class Node:
    """One evaluated choice of levels (0: the original value)."""

    levels: tuple[int, ...]
    suppressed: int
    classes: int
    discernibility: int
    precision_loss: float  # ARX's Prec, the loss minimised
    non_uniform_entropy: float = 0.0


@dataclass(frozen=True)
class SearchResult:
    """The levels chosen and what they cost."""

    columns: tuple[str, ...]
    chosen: Node
    rows: int
    k: int
    lattice: int  # nodes in the lattice
    evaluated: int  # nodes whose classes were computed

    def levels(self) -> dict[str, int]:
        """The level chosen per column: 0 is the original value, i the policy's i-th level."""
        return dict(zip(self.columns, self.chosen.levels, strict=True))

    def average_class_size(self) -> float:
        kept = self.rows - self.chosen.suppressed
        return round(kept / self.chosen.classes / self.k, 6) if self.chosen.classes else 0.0

    def information_loss(self) -> dict[str, float]:
        return {
            "precision_loss": round(self.chosen.precision_loss, 6),
            "discernibility": float(self.chosen.discernibility),
            "non_uniform_entropy": round(self.chosen.non_uniform_entropy, 3),
            "average_class_size": self.average_class_size(),
            "lattice_nodes": float(self.lattice),
            "nodes_evaluated": float(self.evaluated),
        }


def describe(op: Generalize, index: int) -> str:
    """Level `index` of a column as a manifest shows it: 'original', 'to: month',
    'bands: [18.0, 25.0]', '*', 'hierarchy: 74 values into 15 groups' (never a whole
    mapping)."""
    if index == 0:
        return "original"
    level = op.level(index - 1)
    if isinstance(level, str):
        return level
    name = level.given()[0]
    if level.hierarchy is not None:
        groups = len(set(level.hierarchy.values()))
        return f"hierarchy: {len(level.hierarchy)} values into {groups} groups"
    return f"{name}: {getattr(level, name)}"


def search(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    policy: Policy,
    ctx: Context,
    rows: int,
    *,
    withheld: Collection[str] = (),
    person: str | None = None,
) -> SearchResult:
    """Find the levels for `policy.searched()` columns, over the staged `relation`.

    Args:
        rows: the rows of `relation`, or its people when `person` is given.
        withheld: searched columns whose original value may not be released (personal
            data): their level 0 is left out of the lattice.
        person: the column naming whose rows they are, where people have several rows: a
            class's size is then its distinct people, and suppression is counted in people
            (a person in several failing classes counted in each: never fewer than are).

    Raises:
        PrivacyTargetError: no node meets the targets within the budget.
        UnlistedValueError: a hierarchy does not list a value of its column.
        ConfigError: the lattice is too large, or a level splits the groups of the one
            before it.
    """
    searched = policy.searched()
    columns = tuple(searched)
    heights = [len(searched[c].levels or ()) + 1 for c in columns]
    lows = [1 if c in withheld else 0 for c in columns]
    shape = tuple(h - lo for h, lo in zip(heights, lows, strict=True))
    lattice = int(np.prod(shape)) if shape else 1
    if lattice > MAX_NODES:
        raise ConfigError(
            policy.name,
            [
                ConfigProblem(
                    "columns",
                    f"the generalisation levels make {lattice} combinations to search",
                    f"give fewer levels (at most {MAX_NODES} combinations)",
                )
            ],
            what="policy",
        )
    criteria = criteria_of(policy)
    sensitive = policy.sensitive if any(c.needs_sensitive for c in criteria) else []
    table = count_rows(
        con,
        relation,
        searched,
        policy.quasi_identifiers,
        sensitive,
        ctx,
        policy.name,
        frozenset(withheld),
        person,
    )
    lattice_search = _Lattice(table, criteria, shape, lows, rows, policy.privacy.max_suppression)
    chosen = lattice_search.run()
    if chosen is None:
        best = lattice_search.best_failing
        assert best is not None
        share = best.suppressed / rows if rows else 0.0
        raise PrivacyTargetError(
            f"no combination of the generalisation levels meets k={policy.privacy.k}"
            + (f", l={policy.privacy.l}" if policy.privacy.l else "")
            + f" within the budget of {policy.privacy.max_suppression:.1%}: the best, "
            + ", ".join(
                f"{c} {describe(searched[c], i)}" for c, i in zip(columns, best.levels, strict=True)
            )
            + f", would suppress {best.suppressed} of {rows} {'people' if person else 'rows'}"
            f" ({share:.1%});"
            " add coarser levels (up to '*'), or raise max_suppression",
            target="k",
            required=policy.privacy.k,
            suppressed=best.suppressed,
            rows=rows,
        )
    return SearchResult(columns, chosen, rows, policy.privacy.k, lattice, lattice_search.evaluated)


def within_budget(suppressed: int, rows: int, budget: float) -> bool:
    """The one test of the suppression budget, for the search and the enforcement alike."""
    return suppressed / rows <= budget if rows else True


class _Lattice:
    """One search over the nodes of a lattice, with tags and the evaluated nodes' groups."""

    def __init__(
        self,
        table: Table,
        criteria: tuple[Criterion, ...],
        shape: tuple[int, ...],
        lows: list[int],
        rows: int,
        budget: float,
    ) -> None:
        self.table, self.criteria, self.shape = table, criteria, shape
        self.lows, self.rows, self.budget = np.array(lows, dtype=np.int64), rows, budget
        self.monotone = all(c.monotone for c in criteria)
        self.state = np.zeros(shape, dtype=np.int8)
        self.nodes: dict[tuple[int, ...], Node] = {}
        self.cache: list[Classes] = []  # evaluated nodes' groups, to start nodes above from
        self.cached = 0  # groups in the cache
        self.cached_levels = np.zeros((0, len(shape)), dtype=np.int64)
        self.evaluated = 0
        self.best_failing: Node | None = None
        heights = [ax.height for ax in table.axes]
        self.denominator = lcm_of(heights)
        self.weights = [self.denominator // max(h - 1, 1) for h in heights]
        if table.axes:
            self.start = generalise(table.bottom, tuple(lows), table, criteria)[0]
        else:
            self.start = table.bottom

    def run(self) -> Node | None:
        """The node of least precision meeting the criteria (ties: fewest suppressed, then
        least discernibility); None when none does."""
        top = tuple(n - 1 for n in self.shape)
        if self.monotone and self._check(top) is False:
            return None  # the top fails: so does every node below it, that is, every node
        grid = np.indices(self.shape).reshape(len(self.shape), -1).T
        cost = (grid + self.lows) @ np.array(self.weights, dtype=np.int64)
        order = np.argsort(cost, kind="stable")
        best_cost: int | None = None
        found: list[Node] = []
        for flat in order:
            if best_cost is not None and cost[flat] > best_cost:
                break
            at = tuple(int(x) for x in grid[flat])
            if self.state[at] == FAILS:
                continue
            if self._check(at) is False:
                if self.monotone:
                    self._climb(at)
                continue
            best_cost = int(cost[flat])
            found.append(self._node(at))
        if not found:
            return None
        return min(found, key=lambda n: (n.suppressed, n.discernibility, n.levels))

    def _check(self, at: tuple[int, ...]) -> bool:
        """Whether the node passes, from its tag or by evaluating it."""
        state = self.state[at]
        if state != UNKNOWN:
            return bool(state == PASSES)
        node = self._node(at)
        passes = self._passes(node)
        if self.monotone:
            if passes:
                self.state[tuple(slice(i, None) for i in at)] = PASSES
            else:
                self.state[tuple(slice(None, i + 1) for i in at)] = FAILS
        else:
            self.state[at] = PASSES if passes else FAILS
        return passes

    def _passes(self, node: Node) -> bool:
        passes = node.suppressed / self.rows <= self.budget if self.rows else True
        if not passes and (
            self.best_failing is None or node.suppressed < self.best_failing.suppressed
        ):
            self.best_failing = node
        return passes

    def _climb(self, at: tuple[int, ...]) -> None:
        """Flash's path check: up a path from a failing node to the top (one level of one
        column at a time, the cheapest in precision first), binary-search the highest node
        that still fails; what it finds tags the nodes below and above it."""
        path = [at]
        here = list(at)
        while True:
            steps = [i for i in range(len(here)) if here[i] + 1 < self.shape[i]]
            if not steps:
                break
            i = min(steps, key=lambda j: (self.weights[j], j))
            here[i] += 1
            path.append(tuple(here))
        lo, hi = 0, len(path) - 1  # path[lo] fails; path[hi], the top, passes
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._check(path[mid]):
                hi = mid
            else:
                lo = mid

    def _node(self, at: tuple[int, ...]) -> Node:
        """Evaluate one node (offsets from the lowest levels), from the smallest evaluated
        node below it."""
        levels = tuple(int(i + lo) for i, lo in zip(at, self.lows, strict=True))
        if levels in self.nodes:
            return self.nodes[levels]
        start = self.start
        if self.cache:
            below = np.flatnonzero((self.cached_levels <= np.array(levels)).all(axis=1))
            if len(below):
                start = self.cache[min(below, key=lambda i: len(self.cache[i]))]
        groups, stats = generalise(start, levels, self.table, self.criteria)
        self.evaluated += 1
        failing = np.zeros(len(stats.sizes), dtype=np.bool_)
        for criterion in self.criteria:
            failing |= criterion.failing(stats)
        sizes: npt.NDArray[np.int64] = stats.sizes
        suppressed = int(sizes[failing].sum())
        kept = sizes[~failing]
        precision = (
            sum(lv / (ax.height - 1) for lv, ax in zip(levels, self.table.axes, strict=True))
            / len(levels)
            if levels
            else 0.0
        )
        entropy = sum(ax.entropy[lv] for lv, ax in zip(levels, self.table.axes, strict=True))
        node = Node(
            levels,
            suppressed,
            len(kept),
            int(np.sum(kept * kept)) + suppressed * self.rows,
            precision,
            entropy,
        )
        self.nodes[levels] = node
        self._remember(groups)
        return node

    def _remember(self, groups: Classes) -> None:
        self.cache.append(groups)
        self.cached += len(groups)
        while len(self.cache) > 1 and self.cached > CACHED_GROUPS:
            self.cached -= len(self.cache.pop(0))
        self.cached_levels = np.array([c.levels for c in self.cache], dtype=np.int64)


def generalised(policy: Policy, ctx: Context, result: SearchResult) -> tuple[list[str], list[Any]]:
    """`REPLACE` items (and their parameters) applying the chosen levels to a relation (a
    column at level 0 keeps its original value and needs none)."""
    items: list[str] = []
    params: list[Any] = []
    searched = policy.searched()
    for column, index in result.levels().items():
        if index == 0:
            continue
        sql, p = _level_sql(column, searched[column].level(index - 1), ctx)
        items.append(f"{sql} AS {quote_identifier(column)}")
        params += p
    return items, params


def _level_sql(column: str, level: Coarsening | str, ctx: Context) -> tuple[str, list[Any]]:
    got = coarsen_sql(quote_identifier(column), level, ctx)
    assert got is not None  # ip levels are refused by the policy
    return got
