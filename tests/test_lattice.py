"""The lattice search against a brute force over every node, on random tables with random
hierarchies, and against ARX on its own Adult benchmark; a value no hierarchy lists and
levels that do not nest are errors."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from anonymize import Policy, run_extract
from anonymize.operators import Context
from anonymize.search import search
from dsar import open_engine
from dsar.catalog import load_catalog
from dsar.engine import scratch_connection
from dsar.errors import ConfigError, PrivacyTargetError, UnlistedValueError
from tests import adult_fixture as adult

# -- random tables, random hierarchies ------------------------------------------------------


@st.composite
def _hierarchy(draw: st.DrawFn, values: int) -> list[Any]:
    """Levels 1.. of one column: each groups the groups of the level before; maybe '*' last."""
    group = list(range(values))  # each value's group at the level before
    out: list[Any] = []
    for depth in range(draw(st.integers(1, 3))):
        size = max(group) + 1
        coarser = [draw(st.integers(0, max(size - 2, 0))) for _ in range(size)]
        group = [coarser[g] for g in group]
        out.append({"hierarchy": {f"v{v}": f"L{depth}g{group[v]}" for v in range(values)}})
    if draw(st.booleans()):
        out.append("*")
    return out


@st.composite
def _case(draw: st.DrawFn) -> dict[str, Any]:
    columns = draw(st.integers(1, 3))
    sizes = [draw(st.integers(2, 7)) for _ in range(columns)]
    rows = draw(st.integers(1, 120))
    table: dict[str, list[str | None]] = {}
    for c, size in enumerate(sizes):
        choices: list[str | None] = [f"v{v}" for v in range(size)]
        if draw(st.booleans()):
            choices.append(None)  # a NULL is a value of its own, '*' at the top level
        table[f"q{c}"] = [draw(st.sampled_from(choices)) for _ in range(rows)]
    rest = draw(st.booleans())
    if rest:  # a quasi-identifier the search does not generalise
        table["other"] = [draw(st.sampled_from(["a", "b"])) for _ in range(rows)]
    table["s"] = [draw(st.sampled_from(["x", "y", "z", None])) for _ in range(rows)]
    return {
        "frame": pd.DataFrame(table),
        "levels": [draw(_hierarchy(size)) for size in sizes],
        "k": draw(st.integers(1, 6)),
        "l": draw(st.sampled_from([None, 2, 3])),
        "budget": draw(st.sampled_from([0.0, 0.05, 0.2])),
        "withheld": {f"q{c}" for c in range(columns) if draw(st.booleans())},
        "rest": rest,
    }


def _value(values: pd.Series, level: int, levels: list[Any]) -> pd.Series:
    if level == 0:
        return values
    step = levels[level - 1]
    if step == "*":
        return pd.Series(["*"] * len(values), index=values.index)
    return values.map(step["hierarchy"])  # NULL stays NULL


def _brute_force(case: dict[str, Any]) -> tuple[dict[tuple[int, ...], int], Any]:
    """Every node's suppressed rows, and the node of least precision that passes (ties:
    fewest suppressed, then least discernibility, then levels), or None."""
    frame: pd.DataFrame = case["frame"]
    searched = [c for c in frame.columns if c.startswith("q")]
    heights = [len(lv) + 1 for lv in case["levels"]]
    lows = [1 if c in case["withheld"] else 0 for c in searched]
    suppressed: dict[tuple[int, ...], int] = {}
    passing = []
    for node in itertools.product(*(range(lo, h) for lo, h in zip(lows, heights, strict=True))):
        out = pd.DataFrame(
            {
                c: _value(frame[c], lv, levels)
                for c, lv, levels in zip(searched, node, case["levels"], strict=True)
            }
        )
        keys = list(out.columns)
        if case["rest"]:
            out["other"] = frame["other"]
            keys.append("other")
        out["s"] = frame["s"]
        classes = out.groupby(keys, dropna=False)["s"].agg(n="size", l=lambda s: s.nunique(False))
        failing = classes["n"] < case["k"]
        if case["l"]:
            failing |= classes["l"] < case["l"]
        gone = int(classes.loc[failing, "n"].sum())
        suppressed[node] = gone
        if gone <= case["budget"] * len(frame):
            kept = classes.loc[~failing, "n"]
            loss = sum(lv / (h - 1) for lv, h in zip(node, heights, strict=True)) / len(node)
            square = int((kept * kept).sum()) + gone * len(frame)
            passing.append((round(loss, 9), gone, square, node))
    return suppressed, min(passing) if passing else None


def _policy(case: dict[str, Any]) -> Policy:
    frame: pd.DataFrame = case["frame"]
    columns: dict[str, Any] = dict.fromkeys(frame.columns, "keep")
    qis = []
    for c, levels in zip(
        [c for c in frame.columns if c.startswith("q")], case["levels"], strict=True
    ):
        columns[c] = {"op": "generalize", "levels": levels}
        qis.append(c)
    if case["rest"]:
        qis.append("other")
    privacy: dict[str, Any] = {"k": case["k"], "max_suppression": case["budget"]}
    if case["l"]:
        privacy["l"] = case["l"]
    return Policy.model_validate(
        {
            "version": 1,
            "name": "random",
            "table": "t",
            "columns": columns,
            "quasi_identifiers": qis,
            "sensitive": ["s"],
            "privacy": privacy,
            "output": {"path": "t.parquet"},
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_case())
def test_the_search_chooses_the_node_a_brute_force_over_the_lattice_chooses(
    case: dict[str, Any],
) -> None:
    suppressed, best = _brute_force(case)
    # monotone, suppression included: a coarser node never suppresses more rows
    for node, gone in suppressed.items():
        for i in range(len(node)):
            above = (*node[:i], node[i] + 1, *node[i + 1 :])
            assert suppressed.get(above, 0) <= gone
    frame: pd.DataFrame = case["frame"]
    con = scratch_connection()
    try:
        con.register("t", frame)
        policy, ctx = _policy(case), Context(None, None, {})
        if best is None:
            with pytest.raises(PrivacyTargetError, match="no combination"):
                search(con, "t", policy, ctx, len(frame), withheld=case["withheld"])
            return
        result = search(con, "t", policy, ctx, len(frame), withheld=case["withheld"])
    finally:
        con.close()
    chosen = result.chosen
    assert (round(chosen.precision_loss, 9), chosen.suppressed, chosen.discernibility) == best[:3]
    assert chosen.levels == best[3]
    assert result.evaluated <= result.lattice


# -- ARX's Adult benchmark ------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult_table() -> pd.DataFrame:
    return adult.frame()


@pytest.mark.parametrize(("target", "expected"), list(adult.ARX_OPTIMUM.items()))
def test_on_adult_the_search_finds_the_node_arx_finds(
    adult_table: pd.DataFrame,
    target: tuple[int, int | None, float],
    expected: tuple[tuple[int, ...], int],
) -> None:
    k, l_, budget = target
    policy = Policy.model_validate(adult.policy(k, l_, budget))
    con = scratch_connection()
    try:
        con.register("adult", adult_table)
        result = search(con, "adult", policy, Context(None, None, {}), adult.ROWS)
    finally:
        con.close()
    assert result.columns == adult.QUASI_IDENTIFIERS
    assert result.lattice == adult.LATTICE
    assert (result.chosen.levels, result.chosen.suppressed) == expected
    assert result.evaluated < adult.LATTICE // 4  # pruned: a few hundred of 4,320


def test_on_adult_the_extract_is_5_anonymous_at_arx_s_node(tmp_path: Path) -> None:
    """k = 5, no suppression: ARX's node (sex, age, race, marital-status, education,
    native-country, workclass, salary-class) = (0, 4, 1, 2, 3, 2, 0, 0): sex, workclass and
    salary as they are, age and race and marital status and education and country withheld
    ('*'), precision 0.625; the smallest class of the extract holds 5 rows or more."""
    catalog = load_catalog(adult.write_export(tmp_path / "export"))
    policy = tmp_path / "adult.yml"
    policy.write_text(yaml.safe_dump(adult.policy(5), sort_keys=False))
    with open_engine(catalog) as engine:
        result = run_extract(policy, engine, tmp_path / "out")
    assert result.search is not None
    assert result.search.chosen.levels == (0, 4, 1, 2, 3, 2, 0, 0)
    manifest = result.manifest
    assert manifest.generalisation["sex"] == "original"
    assert manifest.generalisation["age"] == "*"
    assert manifest.generalisation["education"] == "*"
    assert manifest.information_loss["precision_loss"] == 0.625
    assert manifest.rows_out == adult.ROWS and manifest.risk.k >= 5
    out = pq.read_table(result.file).to_pandas()
    assert out.groupby(list(adult.QUASI_IDENTIFIERS)).size().min() == manifest.risk.k


# -- hierarchies that do not fit the data -------------------------------------------------


def _one_column(levels: list[Any], values: list[str | None]) -> tuple[Policy, pd.DataFrame]:
    policy = Policy.model_validate(
        {
            "version": 1,
            "name": "p",
            "table": "t",
            "columns": {"city": {"op": "generalize", "levels": levels}},
            "quasi_identifiers": ["city"],
            "privacy": {"k": 2},
            "output": {"path": "t.parquet"},
        }
    )
    return policy, pd.DataFrame({"city": values})


def _search(policy: Policy, frame: pd.DataFrame) -> None:
    con = scratch_connection()
    try:
        con.register("t", frame)
        search(con, "t", policy, Context(None, None, {}), len(frame))
    finally:
        con.close()


def test_a_value_the_hierarchy_does_not_list_is_an_error_not_a_star() -> None:
    levels = [{"hierarchy": {"Dublin": "Ireland", "Cork": "Ireland"}}, "*"]
    policy, frame = _one_column(levels, ["Dublin", "Cork", "Lyon", "Paris", None, "Lyon"])
    with pytest.raises(UnlistedValueError, match=r"city holds 2 value\(s\) the hierarchy") as e:
        _search(policy, frame)
    assert isinstance(e.value, ConfigError)
    assert (e.value.column, e.value.values, e.value.level) == ("city", ("Lyon", "Paris"), 1)
    assert "columns.city.levels.0.hierarchy" in str(e.value)
    assert "give every value its group, e.g. 'Lyon': <group>" in str(e.value)


def test_levels_that_split_the_groups_of_the_level_before_are_refused() -> None:
    levels = [
        {"hierarchy": {"Dublin": "Ireland", "Cork": "Ireland", "Lyon": "France"}},
        {"hierarchy": {"Dublin": "north", "Cork": "south", "Lyon": "south"}},  # splits Ireland
    ]
    policy, frame = _one_column(levels, ["Dublin", "Cork", "Lyon"])
    with pytest.raises(ConfigError, match=r"city: level 2 \(hierarchy\) splits groups of level 1"):
        _search(policy, frame)


def test_a_column_with_one_hierarchy_refuses_a_value_it_does_not_list(tmp_path: Path) -> None:
    root = tmp_path / "export"
    root.mkdir()
    pd.DataFrame({"city": ["Dublin", "Cork", "Lyon"]}).to_parquet(root / "t.parquet", index=False)
    catalog_text = adult.CATALOG.replace("adult:", "t:").replace("adult.parquet", "t.parquet")
    columns = "      city: {type: string}\n"
    (root / "catalog.yml").write_text(catalog_text.replace("COLUMNS\n", columns))
    (root / "policy.yml").write_text(
        "version: 1\nname: one\ntable: t\ncolumns:\n"
        "  city: {op: generalize, hierarchy: {Dublin: Ireland, Cork: Ireland}}\n"
        "output: {path: t.parquet}\n"
    )
    with (
        open_engine(load_catalog(root / "catalog.yml")) as engine,
        pytest.raises(UnlistedValueError, match=r"city holds 1 value\(s\) .*: 'Lyon'"),
    ):
        run_extract(root / "policy.yml", engine, tmp_path / "out")
    assert not (tmp_path / "out" / "one").exists()
