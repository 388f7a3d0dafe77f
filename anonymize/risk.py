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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from dsar.engine.base import quote_identifier

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
    return ", ".join(quote_identifier(q) for q in qis) if qis else "1"


def class_sizes(con: duckdb.DuckDBPyConnection, relation: str, qis: Sequence[str]) -> str:
    """SQL of the classes: the quasi-identifier columns and `__n`, the class size."""
    return f"SELECT {_key(qis)}, count(*) AS __n FROM {relation} GROUP BY ALL"


def measure(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (),
) -> RiskReport:
    """Measure `relation` (a table name or a parenthesised SELECT) over its quasi-identifiers."""
    qis = list(quasi_identifiers)
    classes_sql = class_sizes(con, relation, qis)
    row = con.execute(
        f"SELECT coalesce(sum(__n), 0), count(*), coalesce(min(__n), 0) FROM ({classes_sql})"
    ).fetchone()
    assert row is not None
    rows, classes, k = int(row[0]), int(row[1]), int(row[2])
    bounds = [*SIZE_BUCKETS, None]
    histogram: dict[str, int] = {}
    for lo, hi in itertools.pairwise(bounds):
        assert lo is not None
        label = str(lo) if hi == lo + 1 else (f"{lo}-{hi - 1}" if hi else f"{lo}+")
        cond = f"__n >= {lo}" + (f" AND __n < {hi}" if hi else "")
        got = con.execute(
            f"SELECT coalesce(sum(__n), 0) FROM ({classes_sql}) WHERE {cond}"
        ).fetchone()
        histogram[label] = int(got[0]) if got else 0
    report = RiskReport(
        rows=rows,
        classes=classes,
        k=k,
        quasi_identifiers=tuple(qis),
        class_sizes=histogram,
        prosecutor_highest=1 / k if k else 0.0,
        prosecutor_average=classes / rows if rows else 0.0,
        journalist_highest=1 / k if k else 0.0,
        marketer=classes / rows if rows else 0.0,
    )
    for s in sensitive:
        report.l_distinct[s] = _l_distinct(con, relation, qis, s)
        report.l_entropy[s] = _l_entropy(con, relation, qis, s)
        report.t_closeness[s] = _t_closeness(con, relation, qis, s)
    return report


def _l_distinct(con: duckdb.DuckDBPyConnection, relation: str, qis: list[str], s: str) -> int:
    col = quote_identifier(s)
    got = con.execute(
        f"SELECT min(d) FROM (SELECT count(DISTINCT {col}) + max(CASE WHEN {col} IS NULL"
        f" THEN 1 ELSE 0 END) AS d FROM {relation} GROUP BY {_key(qis)})"
    ).fetchone()
    return int(got[0]) if got and got[0] is not None else 0


def _l_entropy(con: duckdb.DuckDBPyConnection, relation: str, qis: list[str], s: str) -> float:
    col = quote_identifier(s)
    key = _key(qis)
    got = con.execute(
        f"WITH c AS (SELECT {key}, {col} AS v, count(*) AS n FROM {relation} GROUP BY ALL),"
        f" e AS (SELECT -sum(n / t * ln(n / t)) AS h FROM"
        f" (SELECT *, sum(n) OVER (PARTITION BY {key}) AS t FROM c) GROUP BY {key})"
        " SELECT min(h) FROM e"
    ).fetchone()
    return round(math.exp(got[0]), 6) if got and got[0] is not None else 0.0


def _t_closeness(con: duckdb.DuckDBPyConnection, relation: str, qis: list[str], s: str) -> float:
    """Largest EMD between a class's distribution of `s` and the table's."""
    col = quote_identifier(s)
    key = _key(qis)
    kind = con.execute(f"SELECT typeof({col}) FROM {relation} LIMIT 1").fetchone()
    numeric = kind is not None and any(
        t in str(kind[0]) for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")
    )
    join_on = (
        " AND ".join(
            f"cls.{quote_identifier(x)} IS NOT DISTINCT FROM cv.{quote_identifier(x)}" for x in qis
        )
        or "TRUE"
    )
    # every (class, value) with the class's share and the table's share of the value
    shares = (
        f"WITH vals AS (SELECT {col} AS v, count(*) / sum(count(*)) OVER () AS p FROM"
        f" {relation} GROUP BY ALL),"
        f" cls AS (SELECT DISTINCT {key} FROM {relation}),"
        f" cv AS (SELECT {key}, {col} AS v, count(*) AS n FROM {relation} GROUP BY ALL),"
        f" q AS (SELECT cls.*, vals.v, vals.p, coalesce(cv.n, 0) / sum(coalesce(cv.n, 0))"
        f" OVER (PARTITION BY {', '.join(f'cls.{quote_identifier(x)}' for x in qis) or '1'})"
        f" AS qp FROM cls CROSS JOIN vals LEFT JOIN cv ON"
        f" {join_on}"
        " AND vals.v IS NOT DISTINCT FROM cv.v)"
    )
    group = ", ".join(quote_identifier(x) for x in qis) or "1"
    if numeric:
        m = con.execute(f"SELECT count(DISTINCT {col}) FROM {relation}").fetchone()
        steps = max(int(m[0]) - 1, 1) if m is not None else 1
        sql = (
            f"{shares}, r AS (SELECT {group}, abs(sum(qp - p) OVER (PARTITION BY {group}"
            f" ORDER BY v NULLS LAST ROWS UNBOUNDED PRECEDING)) AS d FROM q)"
            f" SELECT max(x) FROM (SELECT sum(d) / {steps} AS x FROM r GROUP BY {group})"
        )
    else:
        sql = (
            f"{shares} SELECT max(x) FROM (SELECT 0.5 * sum(abs(qp - p)) AS x FROM q"
            f" GROUP BY {group})"
        )
    got = con.execute(sql).fetchone()
    return round(float(got[0]), 6) if got and got[0] is not None else 0.0


def relation_of(path: str) -> str:
    """A DuckDB relation reading a file by its extension (parquet, csv, json, jsonl)."""
    literal = "'" + path.replace("'", "''") + "'"
    lower = path.lower()
    if lower.endswith(".parquet"):
        return f"read_parquet({literal})"
    if lower.endswith((".csv", ".tsv")):
        return f"read_csv({literal})"
    return f"read_json({literal})"
