"""The one-pass risk measure (`anonymize.risk.measure`, timed by `benchmarks/bench_risk.py`)
against an exact GROUP BY and an independent pandas count, on the benchmark's own table at
200,000 rows, with NULLs among the quasi-identifiers, the people and the sensitive values."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from anonymize.risk import MAX_VALUES, measure

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from bench_risk import QIS, group_by, make_rows


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("risk") / "rows.parquet"
    make_rows(path, 30_000)
    frame = duckdb.execute(
        "SELECT * REPLACE ("
        " CASE WHEN hash(person) % 50 = 0 THEN NULL ELSE person END AS person,"
        " CASE WHEN hash(person, year) % 97 = 0 THEN NULL ELSE plan END AS plan,"
        " CASE WHEN hash(person, plan) % 89 = 0 THEN NULL ELSE diagnosis END AS diagnosis),"
        " CASE WHEN hash(person, 1) % 61 = 0 THEN NULL ELSE CAST(hash(person, year) % 9 AS"
        " INTEGER) END AS score, CAST(hash(person, year, plan) % 500 AS INTEGER) AS wide"
        f" FROM read_parquet('{path}')"
    ).df()
    assert frame["person"].isna().sum() > 20 and frame["diagnosis"].isna().sum() > 20
    return frame


def _expected(frame: pd.DataFrame, s: str, ordered: bool) -> tuple[int, float, float]:
    """Distinct l, entropy l and t of `s`, counted by pandas ((class, value) counts pivoted
    to a class x value matrix, values in order, NULL last)."""
    values = frame[s].astype("float64" if ordered else "object").fillna(np.inf if ordered else "")
    counts = frame.assign(v=values).groupby([*QIS, "v"], dropna=False).size().unstack(fill_value=0)
    counts = counts[sorted(counts.columns)] if ordered else counts
    n = counts.to_numpy(dtype=float)
    rows = n.sum(axis=1, keepdims=True)
    least = int((n > 0).sum(axis=1).min())
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(n > 0, n * np.log(n), 0.0).sum(axis=1)
    entropy = float((np.log(rows[:, 0]) - plogp / rows[:, 0]).min())
    q = n / rows
    p = n.sum(axis=0) / n.sum()
    if ordered:
        steps = max(int(np.isfinite(np.array(counts.columns, dtype=float)).sum()) - 1, 1)
        far = float((np.abs(np.cumsum(q - p, axis=1)).sum(axis=1) / steps).max())
    else:
        far = float((0.5 * np.abs(q - p).sum(axis=1)).max())
    return least, math.exp(max(entropy, 0.0)), far


def test_k_l_t_and_people_agree_with_a_group_by_and_pandas(table: pd.DataFrame) -> None:
    con = duckdb.connect()
    con.register("t", table)
    report = measure(con, "t", QIS, ["diagnosis", "score", "wide"], person="person")
    # k and the classes: the benchmark's baseline, an exact GROUP BY (NULL people: one)
    k, classes = group_by(
        con,
        "(SELECT * REPLACE (coalesce(person, 'nobody (no person)') AS person) FROM t)",
    )
    assert (report.k, report.classes, report.rows) == (k, classes, len(table))
    # per sensitive column: a few values (counted in the classes' pass, 'score' numeric,
    # ordered) and 500 values (more than MAX_VALUES: a pass of its own)
    assert table["wide"].nunique() > MAX_VALUES >= table["score"].nunique(dropna=False)
    for s, ordered in (("diagnosis", False), ("score", True), ("wide", True)):
        least, entropy, far = _expected(table, s, ordered)
        assert report.l_distinct[s] == least, s
        assert report.l_entropy[s] == pytest.approx(entropy, abs=1e-5), s
        assert report.t_closeness[s] == pytest.approx(far, abs=1e-5), s
    # per person: their smallest class, in people (rows of no person count in the class)
    size = table.assign(who=table["person"].fillna("")).groupby(QIS, dropna=False)["who"]
    people = table[[*QIS, "person"]].join(
        size.nunique().rename("n"), on=QIS, how="left"
    )  # nunique counts the "" of NULL people as one person, as the workbench does
    smallest = people.dropna(subset=["person"]).groupby("person")["n"].min()
    assert report.people == len(smallest)
    assert report.unique == pytest.approx(float((smallest == 1).mean()))
    assert report.prosecutor_average == pytest.approx(float((1 / smallest).mean()))
    # without the per-person pass, k, l and t are the same
    fast = measure(con, "t", QIS, ["diagnosis"], person="person", per_person=False)
    assert (fast.k, fast.classes, fast.l_distinct, fast.t_closeness) == (
        report.k,
        report.classes,
        {"diagnosis": report.l_distinct["diagnosis"]},
        {"diagnosis": report.t_closeness["diagnosis"]},
    )
