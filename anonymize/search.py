"""The least generalisation that meets k (and l) within the suppression budget.

Each quasi-identifier given `levels` (fine to coarse) is one axis of a lattice; a node picks
one level per axis. In the spirit of ARX's optimal search: the rows are first counted once
per combination of raw quasi-identifier (and sensitive) values, and every node is evaluated
on those counts, far fewer than the rows. Generalising never splits a class, so a node that
meets the targets is met by every node above it: nodes above one that passes are never
evaluated, and the answer is the passing node with the least information loss among the
minimal ones.

Information loss is reported three ways: precision loss (Sweeney's Prec: per column, the
level's height over the hierarchy's, averaged; 0 keeps every value, 1 withholds all), the
discernibility metric (the sum of squared class sizes, a suppressed row counting as many as
there are rows), and the average class size over k (C_avg, 1 is ideal).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import duckdb

from anonymize.operators import Context, coarsen_sql
from anonymize.params import Coarsening, Generalize
from anonymize.policy import Policy
from dsar.engine.base import quote_identifier
from dsar.errors import ConfigError, ConfigProblem, PrivacyTargetError

MAX_NODES = 20_000  # a lattice larger than this is refused: give fewer levels


@dataclass(frozen=True)
class Node:
    """One evaluated choice of levels."""

    levels: tuple[int, ...]
    suppressed: int
    classes: int
    discernibility: int
    precision_loss: float


@dataclass(frozen=True)
class SearchResult:
    """The levels chosen and what they cost."""

    columns: tuple[str, ...]
    chosen: Node
    rows: int
    k: int
    lattice: int  # nodes in the lattice
    evaluated: int  # nodes whose classes were counted

    def levels(self) -> dict[str, int]:
        return dict(zip(self.columns, self.chosen.levels, strict=True))

    def average_class_size(self) -> float:
        kept = self.rows - self.chosen.suppressed
        return round(kept / self.chosen.classes / self.k, 6) if self.chosen.classes else 0.0

    def information_loss(self) -> dict[str, float]:
        return {
            "precision_loss": round(self.chosen.precision_loss, 6),
            "discernibility": float(self.chosen.discernibility),
            "average_class_size": self.average_class_size(),
            "lattice_nodes": float(self.lattice),
            "nodes_evaluated": float(self.evaluated),
        }


def describe(level: Coarsening | str) -> str:
    """A level as a policy writes it: 'to: month', 'bands: [18, 25]', '*'."""
    if isinstance(level, str):
        return level
    name = level.given()[0]
    return f"{name}: {getattr(level, name)}"


def search(
    con: duckdb.DuckDBPyConnection, relation: str, policy: Policy, ctx: Context, rows: int
) -> SearchResult:
    """Find the levels for `policy.searched()` columns, over the staged `relation`.

    Raises:
        PrivacyTargetError: no node meets the targets within the budget.
        ConfigError: the lattice is too large to search.
    """
    searched = policy.searched()
    columns = tuple(searched)
    sizes = [len(searched[c].levels or ()) for c in columns]
    lattice = 1
    for n in sizes:
        lattice *= n
    if lattice > MAX_NODES:
        raise ConfigError(
            "<policy>",
            [
                ConfigProblem(
                    "columns",
                    f"the generalisation levels make {lattice} combinations to search",
                    f"give fewer levels (at most {MAX_NODES} combinations)",
                )
            ],
            what="policy",
        )
    qis = policy.quasi_identifiers
    keys = ", ".join(quote_identifier(q) for q in [*qis, *policy.sensitive])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __freq AS SELECT {keys}, count(*) AS __n"
        f" FROM {relation} GROUP BY ALL"
    )
    passing: list[Node] = []
    evaluated = 0
    best_failing: Node | None = None
    for levels in sorted(itertools.product(*(range(n) for n in sizes)), key=lambda x: (sum(x), x)):
        if any(all(a >= b for a, b in zip(levels, p.levels, strict=True)) for p in passing):
            continue  # above a passing node: passes too, never minimal
        node = _evaluate(con, policy, ctx, columns, levels, sizes, rows)
        evaluated += 1
        if within_budget(node.suppressed, rows, policy.privacy.max_suppression):
            passing.append(node)
        elif best_failing is None or node.suppressed < best_failing.suppressed:
            best_failing = node
    con.execute("DROP TABLE IF EXISTS __freq")
    if not passing:
        assert best_failing is not None
        share = best_failing.suppressed / rows if rows else 0.0
        raise PrivacyTargetError(
            f"no combination of the generalisation levels meets k={policy.privacy.k}"
            + (f", l={policy.privacy.l}" if policy.privacy.l else "")
            + f" within the budget of {policy.privacy.max_suppression:.1%}: the best, "
            + ", ".join(
                f"{c} {describe(searched[c].level(i))}"
                for c, i in zip(columns, best_failing.levels, strict=True)
            )
            + f", would suppress {best_failing.suppressed} of {rows} rows ({share:.1%});"
            " add coarser levels (up to '*'), or raise max_suppression",
            target="k",
            required=policy.privacy.k,
            suppressed=best_failing.suppressed,
            rows=rows,
        )
    chosen = min(passing, key=lambda n: (n.precision_loss, n.suppressed, n.discernibility))
    return SearchResult(columns, chosen, rows, policy.privacy.k, lattice, evaluated)


def within_budget(suppressed: int, rows: int, budget: float) -> bool:
    """The one test of the suppression budget, for the search and the enforcement alike."""
    return suppressed / rows <= budget if rows else True


def generalised(policy: Policy, ctx: Context, result: SearchResult) -> tuple[list[str], list[Any]]:
    """`REPLACE` items (and their parameters) applying the chosen levels to a relation."""
    items: list[str] = []
    params: list[Any] = []
    searched = policy.searched()
    for column, index in result.levels().items():
        sql, p = _level_sql(column, searched[column], index, ctx)
        items.append(f"{sql} AS {quote_identifier(column)}")
        params += p
    return items, params


def _level_sql(column: str, op: Generalize, index: int, ctx: Context) -> tuple[str, list[Any]]:
    got = coarsen_sql(quote_identifier(column), op.level(index), ctx)
    assert got is not None  # ip levels are refused by the policy
    return got


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    ctx: Context,
    columns: tuple[str, ...],
    levels: tuple[int, ...],
    sizes: list[int],
    rows: int,
) -> Node:
    searched = policy.searched()
    exprs: list[str] = []
    params: list[Any] = []
    chosen = dict(zip(columns, levels, strict=True))
    for q in policy.quasi_identifiers:
        if q in chosen:
            sql, p = _level_sql(q, searched[q], chosen[q], ctx)
            exprs.append(f"CAST({sql} AS VARCHAR)")
            params += p
        else:
            exprs.append(quote_identifier(q))
    k, l_target = policy.privacy.k, policy.privacy.l
    diversity = [
        f"count(DISTINCT {quote_identifier(s)}) + max(CASE WHEN {quote_identifier(s)} IS NULL"
        " THEN 1 ELSE 0 END)"
        for s in policy.sensitive
    ]
    least_l = f"least({', '.join(diversity)})" if diversity and l_target else None
    fails = f"__n < {k}" + (f" OR __l < {int(l_target or 0)}" if least_l else "")
    groups = ", ".join(f"{e} AS __g{i}" for i, e in enumerate(exprs))
    got = con.execute(
        f"SELECT coalesce(sum(__n) FILTER (WHERE {fails}), 0),"
        f" count(*) FILTER (WHERE NOT ({fails})),"
        f" coalesce(sum(__n * __n) FILTER (WHERE NOT ({fails})), 0)"
        f" FROM (SELECT {groups}, sum(__n) AS __n"
        f"{', ' + least_l + ' AS __l' if least_l else ''} FROM __freq GROUP BY ALL)",
        params,
    ).fetchone()
    assert got is not None
    suppressed, classes, squares = int(got[0]), int(got[1]), int(got[2])
    precision = sum((i + 1) / n for i, n in zip(levels, sizes, strict=True)) / len(levels)
    return Node(levels, suppressed, classes, squares + suppressed * rows, precision)
