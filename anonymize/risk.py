"""Re-identification risk of a table, measured in SQL over its quasi-identifiers.

An equivalence class is the set of rows sharing one combination of quasi-identifier values
(NULL is a value of its own). Where a table holds several rows per person and names the
person's column, a class's size is the number of distinct people in it, not its rows: 440
of 450 classes of a web log "k = 5" by rows held one user. A person whose rows fall in
several classes is as exposed as in their smallest. Measured here, all by DuckDB over the
file or relation:

- k-anonymity: the size (people) of the smallest class; and the distribution of sizes;
- uniqueness: the share of people alone in a class (in their smallest);
- l-diversity: the fewest distinct sensitive values in a class (distinct l), and the
  smallest exp(entropy) of a class's sensitive values (entropy l);
- t-closeness: the largest distance between a class's distribution of a sensitive value
  and the whole table's: the earth mover's distance with equal ground distance for text
  (half the L1 distance), and with ordered distance for numbers;
- re-identification risk, per person: prosecutor (the attacker knows the person is in the
  table): highest 1/smallest class, average over people of 1/(their smallest class), which
  is classes/rows when each row is a person; journalist (the attacker does not know):
  without a population table it cannot be lower than prosecutor risk, so the prosecutor
  figures bound it and are reported as such; marketer (re-identify as many as possible):
  the expected share of people re-identified, the same average.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from typing import Any

import duckdb

from anonymize.enforce import class_size
from dsar.engine.base import quote_identifier, sql_string

SIZE_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100)  # class-size histogram: 1, 2, 3-4, 5-9, ...


@dataclass(frozen=True)
class RiskReport:
    """The risk of one table over its quasi-identifiers (and sensitive columns)."""

    rows: int
    classes: int
    k: int  # smallest class, in people (0 for an empty table)
    quasi_identifiers: tuple[str, ...]
    class_sizes: dict[str, int]  # "1", "2", "3-4", ... -> people in classes of that size
    people: int = 0  # distinct people (the rows, when each row is a person)
    unique: float = 0.0  # share of people alone in a class
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
    person: str | None = None,
) -> RiskReport:
    """Measure `relation` (a table name or a parenthesised SELECT) over its quasi-identifiers.

    `person`: the column naming whose row it is, when people have several rows (None: each
    row is a person). The rows are read once per sensitive column, once for the classes and
    once for the people: each pass aggregates them to counts, and every measure is computed
    from those counts, which are far fewer than the rows. Each class gets a number, so the
    l and t measures group by one integer instead of every quasi-identifier.
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
        size = class_size(person) if person else "count(*)"
        group = " GROUP BY ALL" if qis else ""
        lead = f"{_key(qis)}, " if qis else ""
        body = f"SELECT {lead}count(*) AS __rows, {size} AS __n FROM {relation}{group}"
        con.execute(
            f"CREATE TEMP TABLE {classes} AS SELECT *, row_number() OVER () AS __cid FROM ({body})"
        )
        created.append(classes)
        numbered: dict[str, str] = {}
        for s, cv in per_value.items():
            name = f"{cv}_c"
            on = " AND ".join(
                f"v.{quote_identifier(q)} IS NOT DISTINCT FROM c.{quote_identifier(q)}" for q in qis
            )
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT c.__cid, v.__v, v.__n, c.__rows AS __t"
                f" FROM {cv} v JOIN {classes} c ON {on or 'TRUE'}"
            )
            created.append(name)
            numbered[s] = name
        report = _report(con, classes, qis, numbered)
        if person is None:
            return report
        return _per_person(con, relation, qis, person, report)
    finally:
        for name in created:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _report(
    con: duckdb.DuckDBPyConnection, classes: str, qis: list[str], per_value: dict[str, str]
) -> RiskReport:
    row = con.execute(
        f"SELECT coalesce(sum(__rows), 0), count(*) FILTER (WHERE __n > 0),"
        f" coalesce(min(__n) FILTER (WHERE __n > 0), 0), coalesce(sum(__n), 0),"
        f" coalesce(sum(__n) FILTER (WHERE __n = 1), 0) FROM {classes}"
    ).fetchone()
    assert row is not None
    rows, n_classes, k = int(row[0]), int(row[1]), int(row[2])
    people, alone = int(row[3]), int(row[4])
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
        people=people,
        unique=alone / people if people else 0.0,
        prosecutor_highest=1 / k if k else 0.0,
        prosecutor_average=n_classes / people if people else 0.0,
        journalist_highest=1 / k if k else 0.0,
        marketer=n_classes / people if people else 0.0,
    )
    for s, cv in per_value.items():
        report.l_distinct[s], report.l_entropy[s] = _l_diversity(con, cv)
        report.t_closeness[s] = _t_closeness(con, cv)
    return report


def _per_person(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    qis: list[str],
    person: str,
    report: RiskReport,
) -> RiskReport:
    """The measures that follow people across classes: each person is as exposed as in their
    smallest class (their distinct people), and counted once."""
    who = quote_identifier(person)
    lead = f"{_key(qis)}, " if qis else ""
    window = f"PARTITION BY {_key(qis)}" if qis else ""
    # rows of no known person are one person in each class (DISTINCT keeps one NULL), and
    # no one among the people counted
    # people per smallest class size, summed exactly (a float sum's order, which differs
    # between engines and threads, would change the last digits)
    sizes = con.execute(
        f"SELECT m, count(*)"
        f" FROM (SELECT {who}, min(p) AS m FROM (SELECT {who}, count(*) OVER ({window}) AS p"
        f" FROM (SELECT DISTINCT {lead}{who} FROM {relation})) WHERE {who} IS NOT NULL"
        f" GROUP BY {who}) GROUP BY m"
    ).fetchall()
    people = sum(int(n) for _, n in sizes)
    alone = sum(int(n) for m, n in sizes if int(m) == 1)
    risk = sum((Fraction(int(n), int(m)) for m, n in sizes), Fraction(0))
    average = float(risk / people) if people else 0.0
    return replace(
        report,
        people=people,
        unique=alone / people if people else 0.0,
        prosecutor_average=average,
        marketer=average,
    )


def _l_diversity(con: duckdb.DuckDBPyConnection, cv: str) -> tuple[int, float]:
    """Distinct l (the fewest values in a class) and entropy l (the smallest exp(H)), in one
    pass: H = ln(t) - sum(n ln n) / t over a class's value counts n, t their sum."""
    got = con.execute(
        f"SELECT min(d), min(h) FROM (SELECT count(*) AS d,"
        f" ln(any_value(__t)) - sum(__n * ln(__n)) / any_value(__t) AS h FROM {cv}"
        f" GROUP BY __cid)"
    ).fetchone()
    if not got or got[0] is None:
        return 0, 0.0
    return int(got[0]), round(math.exp(max(float(got[1]), 0.0)), 6)


def _t_closeness(con: duckdb.DuckDBPyConnection, cv: str) -> float:
    """Largest earth mover's distance between a class's distribution and the table's."""
    kind = con.execute(f"SELECT typeof(__v) FROM {cv} LIMIT 1").fetchone()
    numeric = kind is not None and any(
        t in str(kind[0]) for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")
    )
    tot = f"tot AS (SELECT __v, sum(__n) / (SELECT sum(__n) FROM {cv}) AS p FROM {cv} GROUP BY __v)"
    if not numeric:
        # equal ground distance: half the L1 distance, over the class's values plus the
        # values it lacks (each contributes its whole table share p)
        sql = (
            f"WITH {tot} SELECT max(0.5 * (s + 1)) FROM (SELECT sum(abs(__n / __t - p) - p) AS s"
            f" FROM {cv} c JOIN tot ON c.__v IS NOT DISTINCT FROM tot.__v GROUP BY __cid)"
        )
    else:
        m = con.execute(f"SELECT count(DISTINCT __v) FROM {cv}").fetchone()
        steps = max(int(m[0]) - 1, 1) if m is not None else 1
        # ordered distance: the running sum of (class share - table share) over the values
        # in order, for every value of the table (a class lacking a value has share 0)
        sql = (
            f"WITH {tot}, keys AS (SELECT DISTINCT __cid FROM {cv}),"
            f" g AS (SELECT k.__cid, tot.__v, tot.p, coalesce(c.__n / c.__t, 0) AS q"
            f" FROM keys k CROSS JOIN tot LEFT JOIN {cv} c ON c.__cid = k.__cid"
            f" AND c.__v IS NOT DISTINCT FROM tot.__v),"
            f" r AS (SELECT __cid, abs(sum(q - p) OVER (PARTITION BY __cid ORDER BY __v NULLS LAST"
            f" ROWS UNBOUNDED PRECEDING)) AS d FROM g)"
            f" SELECT max(x) FROM (SELECT sum(d) / {steps} AS x FROM r GROUP BY __cid)"
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
