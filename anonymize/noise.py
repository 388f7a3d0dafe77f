"""Differentially private aggregates, through OpenDP.

Instead of suppressing small cells and their complements, every published number carries
noise calibrated to what one person can change:

1. **Contributions are bounded.** Each person counts in at most `max_groups_per_person` cells
   of a table (their other cells dropped, in an order that depends on nobody else's data), and their
   value in a cell (their rows' sum) is clamped to the measure's `bounds`.
2. **Noise.** Counts of people get discrete Laplace noise of scale m/ε (m the groups per
   person, the L1 sensitivity), sums Laplace noise of scale m·max(|lo|, |hi|)/ε, both from
   OpenDP's vetted samplers. ε is split evenly over the tables of the run and, within a
   table, over the count and each sum or mean (a mean is its noisy sum over its noisy count).
3. **Which cells exist.** With every group column's values declared under `keys`, every
   combination is published, zeros included, and the run is ε-DP. Otherwise the cells come
   from the data, and a cell is released only when its noisy count reaches
   τ = 1 + b·ln(m/δ'), δ' = δ over the tables whose cells come from the data: a cell that
   exists because of one person is released with probability at most δ', and the run is
   (ε, δ)-DP. Declared values of some group columns still limit those columns' values.

Cells under `min_count` (after noise) are left out, and margins are sums of the released
cells, so they add up; both are post-processing and cost no privacy. Nothing exact about the
data is published: the manifest gives no row count and no checksum of the sources, and the
pairs cut by contribution bounding are told to the person running it, not published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations, product
from typing import Any

from anonymize.aggregate_spec import AggregateRun, AggregateSpec, DifferentialPrivacy
from anonymize.suppression import Cells
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import MissingDependencyError

MECHANISM = "discrete Laplace (counts), Laplace (sums); OpenDP {version}"


@dataclass(frozen=True)
class TableNoise:
    """What one table's noise was."""

    epsilon: float
    count_scale: float
    sum_scales: dict[str, float]
    threshold: float | None  # None: the cells are the declared keys
    people_left_out: int  # rows' people beyond max_groups_per_person (their extra cells)
    outside_keys: dict[str, list[str]]  # values found in the data but not declared (a warning
    # for the data team's console only: never published, it is not noise-protected)


def _opendp() -> Any:
    try:
        import opendp.prelude as dp
    except ImportError:  # pragma: no cover - the dp extra is installed by make test
        raise MissingDependencyError("OpenDP", "differential privacy", "dp") from None
    dp.enable_features("contrib")
    return dp


def mechanism() -> str:
    import opendp

    return MECHANISM.format(version=getattr(opendp, "__version__", "?"))


def noisy_tables(
    engine: Engine, relation: str, run: AggregateRun, dp_spec: DifferentialPrivacy
) -> tuple[list[Cells], dict[str, TableNoise]]:
    """Every table of the run with noise (and its margins from the released cells)."""
    epsilon = dp_spec.epsilon / len(run.aggregates)
    found = [a for a in run.aggregates if not all(g in dp_spec.keys for g in a.group_by)]
    delta = dp_spec.delta / max(len(found), 1)  # each table whose cells come from the data
    cells: list[Cells] = []
    report: dict[str, TableNoise] = {}
    for agg in run.aggregates:
        table, noise = _one_table(engine, relation, run, agg, dp_spec, epsilon, delta)
        cells.append(table)
        report[agg.name] = noise
        if agg.margins:
            cells += _margins(table)
    return cells, report


def _one_table(
    engine: Engine,
    relation: str,
    run: AggregateRun,
    agg: AggregateSpec,
    dp_spec: DifferentialPrivacy,
    epsilon: float,
    delta: float,
) -> tuple[Cells, TableNoise]:
    dp = _opendp()
    m = dp_spec.max_groups_per_person
    person = quote_identifier(str(run.person))
    dims = tuple(agg.group_by)
    groups = [f"CAST({quote_identifier(g)} AS VARCHAR) AS {quote_identifier(g)}" for g in dims]
    summed = [x for x in agg.measures if x.op != "count"]
    per_person = [
        f"least(greatest(coalesce(sum({quote_identifier(str(x.column))}), 0), ?), ?)"
        f" AS {quote_identifier('__s_' + x.name)}"
        for x in summed
    ]
    params: list[object] = [v for x in summed for v in (x.bounds or (0.0, 0.0))]
    keys = ", ".join(quote_identifier(g) for g in dims)
    order = f"hash(__p, {keys})" if keys else "1"
    sums = "".join(
        f", sum({quote_identifier('__s_' + x.name)}) FILTER (WHERE __r <= {m})"
        f" AS {quote_identifier('__s_' + x.name)}"
        for x in summed
    )
    sql = (
        f"WITH pc AS (SELECT {person} AS __p, {', '.join(groups) + ', ' if groups else ''}"
        f"{', '.join(per_person) + ', ' if per_person else ''}1 AS __one FROM {relation}"
        f" WHERE {person} IS NOT NULL GROUP BY ALL),"
        f" ranked AS (SELECT *, row_number() OVER (PARTITION BY __p ORDER BY {order}) AS __r"
        f" FROM pc)"
        f" SELECT {keys + ', ' if keys else ''}count(*) FILTER (WHERE __r <= {m}) AS __n{sums},"
        f" count(*) FILTER (WHERE __r > {m}) AS __dropped"
        f" FROM ranked{' GROUP BY ALL' if keys else ''}"
    )
    rows = engine.query(sql, params).to_pylist()
    dropped = sum(int(r["__dropped"]) for r in rows)
    true: dict[tuple[Any, ...], dict[str, float]] = {
        tuple(r[g] for g in dims): {"__n": r["__n"], **{x.name: r["__s_" + x.name] for x in summed}}
        for r in rows
        if r["__n"]
    }
    declared = all(g in dp_spec.keys for g in dims)
    outside = {
        g: sorted({str(c[i]) for c in true if str(c[i]) not in dp_spec.keys[g]})
        for i, g in enumerate(dims)
        if g in dp_spec.keys
    }
    if declared:
        domain = list(product(*(dp_spec.keys[g] for g in dims)))
    else:  # from the data, but only the declared values of the columns that have them
        allowed = {i: set(dp_spec.keys[g]) for i, g in enumerate(dims) if g in dp_spec.keys}
        domain = sorted(
            (c for c in true if all(str(c[i]) in vals for i, vals in allowed.items())),
            key=lambda k: tuple(str(v) for v in k),
        )
    share = epsilon / (1 + len(summed))
    count_scale = m / share
    count_noise = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=count_scale
    )
    assert count_noise.map(m) <= share * (1 + 1e-9)
    noisy_counts = count_noise([int(true.get(c, {}).get("__n", 0)) for c in domain])
    threshold = None if declared else 1 + count_scale * math.log(m / delta)
    floor = max(run.min_count, threshold or 0)
    released = {c: n for c, n in zip(domain, noisy_counts, strict=True) if n >= floor}
    values: dict[tuple[Any, ...], dict[str, Any]] = {c: {} for c in released}
    scales: dict[str, float] = {}
    for x in summed:
        lo, hi = x.bounds or (0.0, 0.0)
        scale = m * max(abs(lo), abs(hi)) / share
        scales[x.name] = scale
        noise = dp.m.make_laplace(
            dp.vector_domain(dp.atom_domain(T=float, nan=False)),
            dp.l1_distance(T=float),
            scale=scale,
        )
        noisy = noise([float(true.get(c, {}).get(x.name) or 0.0) for c in domain])
        for c, v in zip(domain, noisy, strict=True):
            if c in released:
                values[c][x.name] = v if x.op == "sum" else v / released[c]
    for c, n in released.items():
        values[c].update({x.name: n for x in agg.measures if x.op == "count"})
    table = Cells(agg, dims, released, values, {})
    outside = {g: values for g, values in outside.items() if values}
    return table, TableNoise(epsilon, count_scale, scales, threshold, dropped, outside)


def _margins(table: Cells) -> list[Cells]:
    """Every total line of a table, summed from its released cells (post-processing)."""
    out: list[Cells] = []
    dims = table.group_by
    ops = {x.name: x.op for x in table.spec.measures}
    for size in range(len(dims) - 1, -1, -1):
        for kept in combinations(range(len(dims)), size):
            counts: dict[tuple[Any, ...], int] = {}
            values: dict[tuple[Any, ...], dict[str, Any]] = {}
            for key, n in table.counts.items():
                total = tuple(key[i] for i in kept)
                counts[total] = counts.get(total, 0) + n
                acc = values.setdefault(total, {})
                for name, v in table.values[key].items():
                    acc[name] = acc.get(name, 0) + (v * n if ops[name] == "mean" else v)
            for total, acc in values.items():
                for x in table.spec.measures:
                    if x.op == "mean":
                        acc[x.name] = acc[x.name] / counts[total]
            if counts:
                out.append(Cells(table.spec, tuple(dims[i] for i in kept), counts, values, {}))
    return out
