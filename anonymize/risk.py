"""Re-identification risk of a table, measured in SQL over its quasi-identifiers.

An equivalence class is the set of rows sharing one combination of quasi-identifier values
(NULL is a value of its own). Measured here, all by DuckDB over the file or relation:

- k-anonymity: the size of the smallest class; and the distribution of class sizes;
- l-diversity: the fewest distinct sensitive values in a class (distinct l), and the
  smallest exp(entropy) of a class's sensitive values (entropy l);
- t-closeness: the largest distance between a class's distribution of a sensitive value
  and the whole table's: the earth mover's distance with equal ground distance for text
  (half the L1 distance), and with ordered distance for numbers;
- re-identification risk: prosecutor (the attacker knows the person is in the table):
  highest 1/smallest class, average classes/rows; journalist (the attacker does not know):
  without a population table it cannot be lower than prosecutor risk, so the prosecutor
  figures bound it and are reported as such; marketer (re-identify as many as possible):
  classes/rows.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from dsar.engine.base import quote_identifier, sql_string

SIZE_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100)  # class-size histogram: 1, 2, 3-4, 5-9, ...


@dataclass(frozen=True)
class RiskReport:
    """The risk of one table over its quasi-identifiers (and sensitive columns)."""

    rows: int
    classes: int
    k: int  # smallest class (0 for an empty table)
    quasi_identifiers: tuple[str, ...]
    class_sizes: dict[str, int]  # "1", "2", "3-4", ... -> rows in classes of that size
    l_distinct: dict[str, int] = field(default_factory=dict)  # per sensitive column
    l_entropy: dict[str, float] = field(default_factory=dict)
    t_closeness: dict[str, float] = field(default_factory=dict)
    prosecutor_highest: float = 0.0
    prosecutor_average: float = 0.0
    journalist_highest: float = 0.0  # bounded above by the prosecutor figure (no population)
    marketer: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["quasi_identifiers"] = list(self.quasi_identifiers)
        return out


def _key(qis: Sequence[str]) -> str:
    return ", ".join(quote_identifier(q) for q in qis)


def measure(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (),
) -> RiskReport:
    """Measure `relation` (a table name or a parenthesised SELECT) over its quasi-identifiers.

    The rows are read once per sensitive column (once when there is none): each pass
    aggregates them to (class, sensitive value) counts, and every measure is computed from
    those counts, which are far fewer than the rows.
    """
    qis = list(quasi_identifiers)
    tag = secrets.token_hex(4)
    created: list[str] = []
    try:
        per_value: dict[str, str] = {}
        for i, s in enumerate(sensitive):
            name = f"__cv_{tag}_{i}"
            group = f"{_key(qis)}, " if qis else ""
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT {group}{quote_identifier(s)} AS __v,"
                f" count(*) AS __n FROM {relation} GROUP BY ALL"
            )
            created.append(name)
            per_value[s] = name
        classes = f"__classes_{tag}"
        source = next(iter(per_value.values()), None)
        if qis:
            body = (
                f"SELECT {_key(qis)}, sum(__n) AS __n FROM {source} GROUP BY ALL"
                if source
                else f"SELECT {_key(qis)}, count(*) AS __n FROM {relation} GROUP BY ALL"
            )
        else:
            body = (
                f"SELECT sum(__n) AS __n FROM {source}"
                if source
                else f"SELECT count(*) AS __n FROM {relation}"
            )
        con.execute(f"CREATE TEMP TABLE {classes} AS {body}")
        created.append(classes)
        return _report(con, classes, qis, per_value)
    finally:
        for name in created:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _report(
    con: duckdb.DuckDBPyConnection, classes: str, qis: list[str], per_value: dict[str, str]
) -> RiskReport:
    row = con.execute(
        f"SELECT coalesce(sum(__n), 0), count(*) FILTER (WHERE __n > 0),"
        f" coalesce(min(__n) FILTER (WHERE __n > 0), 0) FROM {classes}"
    ).fetchone()
    assert row is not None
    rows, n_classes, k = int(row[0]), int(row[1]), int(row[2])
    bounds = [*SIZE_BUCKETS, None]
    labels: list[tuple[str, str]] = []
    for lo, hi in itertools.pairwise(bounds):
        assert lo is not None
        label = str(lo) if hi == lo + 1 else (f"{lo}-{hi - 1}" if hi else f"{lo}+")
        labels.append((label, f"__n >= {lo}" + (f" AND __n < {hi}" if hi else "")))
    sums = ", ".join(f"coalesce(sum(__n) FILTER (WHERE {cond}), 0)" for _, cond in labels)
    got = con.execute(f"SELECT {sums} FROM {classes}").fetchone()
    histogram = {label: int(v) for (label, _), v in zip(labels, got or (), strict=True)}
    report = RiskReport(
        rows=rows,
        classes=n_classes,
        k=k,
        quasi_identifiers=tuple(qis),
        class_sizes=histogram,
        prosecutor_highest=1 / k if k else 0.0,
        prosecutor_average=n_classes / rows if rows else 0.0,
        journalist_highest=1 / k if k else 0.0,
        marketer=n_classes / rows if rows else 0.0,
    )
    for s, cv in per_value.items():
        report.l_distinct[s] = _l_distinct(con, cv, qis)
        report.l_entropy[s] = _l_entropy(con, cv, qis)
        report.t_closeness[s] = _t_closeness(con, cv, qis)
    return report


def _group(qis: list[str]) -> str:
    return f" GROUP BY {_key(qis)}" if qis else ""


def _l_distinct(con: duckdb.DuckDBPyConnection, cv: str, qis: list[str]) -> int:
    got = con.execute(
        f"SELECT min(d) FROM (SELECT count(*) AS d FROM {cv}{_group(qis)})"
    ).fetchone()
    return int(got[0]) if got and got[0] is not None else 0


def _l_entropy(con: duckdb.DuckDBPyConnection, cv: str, qis: list[str]) -> float:
    part = f"PARTITION BY {_key(qis)}" if qis else ""
    got = con.execute(
        f"SELECT min(h) FROM (SELECT -sum(__n / t * ln(__n / t)) AS h FROM"
        f" (SELECT *, sum(__n) OVER ({part}) AS t FROM {cv}){_group(qis)})"
    ).fetchone()
    return round(math.exp(got[0]), 6) if got and got[0] is not None else 0.0


def _t_closeness(con: duckdb.DuckDBPyConnection, cv: str, qis: list[str]) -> float:
    """Largest earth mover's distance between a class's distribution and the table's."""
    kind = con.execute(f"SELECT typeof(__v) FROM {cv} LIMIT 1").fetchone()
    numeric = kind is not None and any(
        t in str(kind[0]) for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")
    )
    part = f"PARTITION BY {_key(qis)}" if qis else ""
    shares = (
        f"WITH tot AS (SELECT __v, sum(__n) / (SELECT sum(__n) FROM {cv}) AS p FROM {cv}"
        f" GROUP BY __v), cls AS (SELECT *, __n / sum(__n) OVER ({part}) AS q FROM {cv})"
    )
    if not numeric:
        # equal ground distance: half the L1 distance, over the class's values plus the
        # values it lacks (each contributes its whole table share p)
        sql = (
            f"{shares} SELECT max(0.5 * (s + 1)) FROM (SELECT sum(abs(q - p) - p) AS s FROM cls"
            f" JOIN tot ON cls.__v IS NOT DISTINCT FROM tot.__v{_group(qis)})"
        )
    else:
        m = con.execute(f"SELECT count(DISTINCT __v) FROM {cv}").fetchone()
        steps = max(int(m[0]) - 1, 1) if m is not None else 1
        keys = _key(qis)
        on = (
            " AND ".join(
                f"c.{quote_identifier(q)} IS NOT DISTINCT FROM k.{quote_identifier(q)}" for q in qis
            )
            or "TRUE"
        )
        select_keys = ", ".join(f"k.{quote_identifier(q)}" for q in qis)
        grid = (
            f", keys AS (SELECT DISTINCT {keys} FROM {cv})"
            if qis
            else ", keys AS (SELECT 1 AS __one)"
        )
        sql = (
            f"{shares}{grid}, g AS (SELECT {select_keys + ', ' if qis else ''}tot.__v, tot.p,"
            f" coalesce(c.q, 0) AS q FROM keys k CROSS JOIN tot LEFT JOIN cls c ON {on}"
            f" AND c.__v IS NOT DISTINCT FROM tot.__v),"
            f" r AS (SELECT {keys + ', ' if qis else ''}abs(sum(q - p) OVER"
            f" ({'PARTITION BY ' + keys if qis else ''} ORDER BY __v NULLS LAST"
            f" ROWS UNBOUNDED PRECEDING)) AS d FROM g)"
            f" SELECT max(x) FROM (SELECT sum(d) / {steps} AS x FROM r{_group(qis)})"
        )
    got = con.execute(sql).fetchone()
    return round(float(got[0]), 6) if got and got[0] is not None else 0.0


def relation_of(path: str) -> str:
    """A DuckDB relation reading a file by its extension (parquet, csv, json, jsonl)."""
    literal = sql_string(path)
    lower = path.lower()
    if lower.endswith(".parquet"):
        return f"read_parquet({literal})"
    if lower.endswith((".csv", ".tsv")):
        return f"read_csv({literal})"
    return f"read_json({literal})"
