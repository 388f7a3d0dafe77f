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


@pytest.mark.parametrize("rows", [1, 190, 1960, 4000])  # v62 over half of a field
@pytest.mark.parametrize("person", [None, "person"])
def test_packed_value_counts_never_carry_into_the_next_value(rows: int, person: str | None) -> None:
    """The counts of a sensitive column's values share HUGEINT sums, each value a field as
    wide as the table's row count needs: a field filled to the last row (almost every row in
    one class, one value) must not spill into its neighbour, however many values share a
    sum (64 values: several sums)."""
    values = [f"v{j:02d}" for j in range(MAX_VALUES - 1)]  # with NULL: MAX_VALUES values
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT 'one' AS q, 'p' || (i % 3) AS person,"
        " CASE WHEN i = 0 AND ? > 1 THEN NULL ELSE 'v62' END AS s FROM range(?) r(i)",
        [rows, rows],
    )
    con.execute("INSERT INTO t SELECT 'two', 'p9', unnest(?)", [values])  # each value once
    report = measure(con, "t", ["q"], ["s"], person=person)
    # by hand: class one holds v62 (rows - 1 or 1 times) and NULL once when rows > 1
    table = con.execute("SELECT q, s FROM t").fetchall()
    whole: dict[str | None, int] = {}
    for _, v in table:
        whole[v] = whole.get(v, 0) + 1
    distances = []
    for cls in ("one", "two"):
        mine = [v for q, v in table if q == cls]
        share = {v: mine.count(v) / len(mine) for v in set(mine)}
        distances.append(
            0.5 * sum(abs(share.get(v, 0.0) - n / len(table)) for v, n in whole.items())
        )
    assert report.l_distinct["s"] == (2 if rows > 1 else 1)
    assert report.t_closeness["s"] == pytest.approx(max(distances), abs=1e-6)
