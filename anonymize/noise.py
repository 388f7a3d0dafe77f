"""Differentially private aggregates, through OpenDP.

Instead of suppressing small cells and their complements, every published number carries
noise calibrated to what one person can change:

1. **Contributions are bounded.** Each person counts in at most `max_groups_per_person` cells
   of a table (their other cells dropped, in an order that depends on nobody else's data), and their
   value in a cell (their rows' sum) is clamped to the measure's `bounds`.
2. **Noise.** Counts of people get discrete Laplace noise of scale m/ε (m the groups per
   person, the L1 sensitivity), sums discrete Laplace noise on a fine grid (2^-24 of their
   sensitivity m·max(|lo|, |hi|), one grid step added to it), of scale sensitivity/ε. ε is
   split evenly over the tables of the run and, within a table, over the count and each sum
   or mean (a mean is its noisy sum over its noisy count). The noise is drawn by exact
   samplers from a keyed stream seeded by the table's query and the data's version
   (`anonymize.keyed_noise`, `anonymize.history`): the same spec on the same data gives the
   same answer, so repeating a run gains nothing. OpenDP cannot be seeded; it checks the
   calibration (each scale's privacy map) instead.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations, product
from typing import Any

from anonymize.aggregate_spec import AggregateRun, AggregateSpec, DifferentialPrivacy
from anonymize.keyed_noise import cell_stream, scale_at_least
from anonymize.suppression import Cells
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import InternalError, MissingDependencyError

MECHANISM = (
    "keyed discrete Laplace noise, built in (anonymize.keyed_noise): counts, and sums on a"
    " 2^-24 grid of their sensitivity, drawn by exact samplers from a keyed HMAC-SHA256 stream"
    " seeded by the query and the data version; each scale's privacy map checked with {checker}"
)
_GRID_BITS = 24


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
    """What made the noise, for the manifest and the summary: the built-in keyed sampler, and
    the OpenDP release that checked its calibration."""
    return MECHANISM.format(checker=_opendp_release())


def _opendp_release() -> str:
    """The OpenDP release, e.g. "OpenDP 0.16.0"; without the package's metadata (a copy
    vendored or installed without it), its module's version, else a line saying so."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"OpenDP {version('opendp')}"
    except PackageNotFoundError:
        pass
    try:
        import opendp
    except (ImportError, OSError):  # pragma: no cover - a run with noise has imported it
        return "OpenDP (not installed: install the dp extra)"
    found = getattr(opendp, "__version__", None)
    if found:
        return f"OpenDP {found}"
    return f"OpenDP (release not recorded: no package metadata for {opendp.__name__})"


def table_shares(run: AggregateRun, dp_spec: DifferentialPrivacy) -> dict[str, tuple[float, float]]:
    """Per table, its ε (the run's split evenly) and its δ (0 for a table whose cells are
    all declared: it is pure ε-DP)."""
    epsilon = dp_spec.epsilon / len(run.aggregates)
    found = [a for a in run.aggregates if not all(g in dp_spec.keys for g in a.group_by)]
    delta = dp_spec.delta / max(len(found), 1)  # each table whose cells come from the data
    return {a.name: (epsilon, delta if a in found else 0.0) for a in run.aggregates}


def noisy_tables(
    engine: Engine,
    relation: str,
    run: AggregateRun,
    dp_spec: DifferentialPrivacy,
    seeds: Mapping[str, bytes],
    relation_params: Sequence[object] = (),
) -> tuple[list[Cells], dict[str, TableNoise]]:
    """Every table of the run with noise (and its margins from the released cells); `seeds`
    gives each table's secret seed (`anonymize.history.query`); `relation_params`, the
    parameters of `relation` (the suppression ledger's condition)."""
    shares = table_shares(run, dp_spec)
    cells: list[Cells] = []
    report: dict[str, TableNoise] = {}
    for agg in run.aggregates:
        epsilon, delta = shares[agg.name]
        table, noise = _one_table(
            engine, relation, run, agg, dp_spec, epsilon, delta, seeds[agg.name], relation_params
        )
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
    seed: bytes,
    relation_params: Sequence[object] = (),
) -> tuple[Cells, TableNoise]:
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
    # in the order they appear: the clamps' bounds, then the relation's
    params: list[object] = [v for x in summed for v in (x.bounds or (0.0, 0.0))]
    params += relation_params
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
    count_scale = scale_at_least(m / share)
    _check_calibration(count_scale, m, share)
    noisy_counts = [
        int(true.get(c, {}).get("__n", 0))
        + cell_stream(seed, "count", *c).discrete_laplace(count_scale)
        for c in domain
    ]
    threshold = None if declared else 1 + float(count_scale) * math.log(m / delta)
    floor = max(run.min_count, threshold or 0)
    released = {c: n for c, n in zip(domain, noisy_counts, strict=True) if n >= floor}
    values: dict[tuple[Any, ...], dict[str, Any]] = {c: {} for c in released}
    scales: dict[str, float] = {}
    for i, x in enumerate(summed):
        lo, hi = x.bounds or (0.0, 0.0)
        sensitivity = m * max(abs(lo), abs(hi))
        grid = Fraction(2) ** (math.frexp(sensitivity or 1.0)[1] - _GRID_BITS)
        steps = int(Fraction(sensitivity) / grid) + 1  # the rounding adds at most one step
        scale = scale_at_least(steps / share)
        _check_calibration(scale, steps, share)
        scales[x.name] = float(scale * grid)
        for c in released:
            total = Fraction(float(true.get(c, {}).get(x.name) or 0.0))
            noise = cell_stream(seed, "sum", i, x.op, x.column, *c).discrete_laplace(scale)
            v = float((round(total / grid) + noise) * grid)
            values[c][x.name] = v if x.op == "sum" else v / released[c]
    for c, n in released.items():
        values[c].update({x.name: n for x in agg.measures if x.op == "count"})
    table = Cells(agg, dims, released, values, {})
    outside = {g: values for g, values in outside.items() if values}
    return table, TableNoise(epsilon, float(count_scale), scales, threshold, dropped, outside)


def _check_calibration(scale: Fraction, sensitivity: int, epsilon: float) -> None:
    """OpenDP's privacy map of the discrete Laplace at this scale: at most `epsilon` for
    `sensitivity` (the noise is sampled in `anonymize.keyed_noise`, the accounting is OpenDP's)."""
    dp = _opendp()
    measurement = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=float(scale)
    )
    if measurement.map(sensitivity) > epsilon * (1 + 1e-9):  # pragma: no cover - a bug
        raise InternalError(f"noise of scale {scale} is not {epsilon}-DP for {sensitivity}")


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
