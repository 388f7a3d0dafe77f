"""The lattice search: the least generalisation meeting k (and l) within the budget, checked
against a brute force over every node in pandas."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from anonymize import load_policy, run_extract
from dsar import open_engine
from dsar.catalog import load_catalog
from dsar.errors import ConfigError, PrivacyTargetError

CATALOG = """\
version: 1
controller: {name: Clinic, contact: dpo@clinic.example, supervisory_authority: DPC}
tables:
  visits:
    path: visits.parquet
    format: parquet
    description: Clinic visits.
    category: account
    origin: provided
    purposes: [care]
    legal_basis: contract
    source: the patient
    retention: {criteria: ten years}
    erasure: {action: delete}
    columns:
      patient: {identity: user_id, type: string}
      zip: {personal: address, type: string}
      birth_year: {type: integer}
      visited: {type: date}
      sex: {type: string}
      diagnosis: {type: string}
"""

POLICY = """\
version: 1
name: visits
table: visits
columns:
  patient: drop
  zip: {op: generalize, levels: [{prefix: 4}, {prefix: 3}, {prefix: 2}, '*']}
  birth_year: {op: generalize, levels: [{bin: 5}, {bin: 10}, {bin: 20}, '*']}
  visited: {op: generalize, levels: [{to: month}, {to: year}]}
  sex: keep
  diagnosis: keep
quasi_identifiers: [zip, birth_year, visited, sex]
sensitive: [diagnosis]
privacy: {k: K, l: L, max_suppression: BUDGET}
output: {path: visits.parquet}
"""

# level -> what it keeps; level 0 is the original value, level i the policy's i-th entry
ZIP = {1: 4, 2: 3, 3: 2, 4: 0}  # prefix length (0: withheld); zip is personal: no level 0
YEAR = {0: 1, 1: 5, 2: 10, 3: 20, 4: 0}  # bin width (1: the year itself, 0: withheld)
DATE = {0: 10, 1: 7, 2: 4}  # 'YYYY-MM-DD', 'YYYY-MM', 'YYYY'


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    return pd.DataFrame(
        {
            "patient": [f"pt-{i}" for i in range(n)],
            "zip": [f"{rng.choice([10, 11, 75, 94])}{rng.randint(0, 999):03d}" for _ in range(n)],
            "birth_year": [rng.randint(1940, 2005) for _ in range(n)],
            "visited": [date(2025, 1, 1) + timedelta(days=rng.randint(0, 700)) for _ in range(n)],
            "sex": [rng.choice("FM") for _ in range(n)],
            "diagnosis": [rng.choice(["flu", "asthma", "migraine", "fracture"]) for _ in range(n)],
        }
    )


def _setup(tmp_path: Path, frame: pd.DataFrame, k: int, l_: int | None, budget: float) -> Path:
    root = tmp_path / "clinic"
    root.mkdir(exist_ok=True)
    frame.to_parquet(root / "visits.parquet", index=False)
    (root / "catalog.yml").write_text(CATALOG)
    text = POLICY.replace("K,", f"{k},").replace("BUDGET", str(budget))
    text = text.replace("l: L, ", f"l: {l_}, " if l_ else "")
    (root / "policy.yml").write_text(text)
    return root


def _classes(frame: pd.DataFrame, levels: tuple[int, int, int]) -> pd.DataFrame:
    z, y, d = levels
    out = pd.DataFrame(
        {
            "zip": frame["zip"].str[: ZIP[z]] if ZIP[z] else "*",
            "year": (frame["birth_year"] // YEAR[y] * YEAR[y]).astype(str) if YEAR[y] else "*",
            "visited": frame["visited"].astype(str).str[: DATE[d]],
            "sex": frame["sex"],
            "diagnosis": frame["diagnosis"],
        }
    )
    return out.groupby(["zip", "year", "visited", "sex"]).agg(
        n=("diagnosis", "size"), l=("diagnosis", "nunique")
    )


def _brute_force(
    frame: pd.DataFrame, k: int, l_: int | None, budget: float
) -> tuple[float | None, tuple[int, ...] | None]:
    """The least precision loss (ARX's Prec: level / highest level, averaged) of a passing
    node, and the node the search must choose: of those with that loss, the fewest
    suppressed rows, then the least discernibility (None: no node passes)."""
    passing: list[tuple[float, int, int, tuple[int, ...]]] = []
    for levels in itertools.product(range(1, 5), range(5), range(3)):
        classes = _classes(frame, levels)
        failing = (classes["n"] < k) | ((classes["l"] < l_) if l_ else False)
        suppressed = int(classes.loc[failing, "n"].sum())
        if suppressed / len(frame) <= budget:
            kept = classes.loc[~failing, "n"]
            discernibility = int((kept * kept).sum()) + suppressed * len(frame)
            loss = (levels[0] / 4 + levels[1] / 4 + levels[2] / 2) / 3
            passing.append((round(loss, 9), suppressed, discernibility, levels))
    if not passing:
        return None, None
    best = min(passing)
    return best[0], best[3]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(40, 400),
    k=st.integers(2, 8),
    l_=st.sampled_from([None, 2]),
    budget=st.sampled_from([0.0, 0.02, 0.1]),
)
def test_the_search_finds_the_least_loss_the_brute_force_finds(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    n: int,
    k: int,
    l_: int | None,
    budget: float,
) -> None:
    tmp_path = tmp_path_factory.mktemp("search")
    frame = _rows(n, seed)
    root = _setup(tmp_path, frame, k, l_, budget)
    catalog = load_catalog(root / "catalog.yml")
    least, best = _brute_force(frame, k, l_, budget)
    if best is None:  # no combination passes: the run says so and writes nothing
        with (
            pytest.raises(PrivacyTargetError, match="no combination"),
            open_engine(catalog) as engine,
        ):
            run_extract(root / "policy.yml", engine, tmp_path / "out")
        return
    with open_engine(catalog) as engine:
        result = run_extract(root / "policy.yml", engine, tmp_path / "out")
    assert result.search is not None
    chosen = result.search.chosen
    assert chosen.precision_loss == pytest.approx(least)
    assert chosen.levels == best
    out = pq.read_table(result.file).to_pandas()
    sizes = out.groupby(["zip", "birth_year", "visited", "sex"], dropna=False).size()
    assert out.empty or sizes.min() >= k
    if l_:
        diverse = out.groupby(["zip", "birth_year", "visited", "sex"], dropna=False)["diagnosis"]
        assert out.empty or diverse.nunique().min() >= l_
    assert result.manifest.suppressed["k"] + result.manifest.suppressed["l"] <= budget * n
    assert set(result.manifest.generalisation) == {"zip", "birth_year", "visited"}


def test_the_manifest_names_the_levels_and_the_loss(tmp_path: Path) -> None:
    root = _setup(tmp_path, _rows(300, 3), 5, None, 0.05)
    with open_engine(load_catalog(root / "catalog.yml")) as engine:
        result = run_extract(root / "policy.yml", engine, tmp_path / "o")
    manifest = result.manifest
    assert manifest.generalisation["visited"] in ("original", "to: month", "to: year")
    assert manifest.generalisation["zip"].startswith(("prefix: ", "*"))  # personal: never original
    loss = manifest.information_loss
    assert 0 < loss["precision_loss"] <= 1
    assert loss["lattice_nodes"] == 4 * 5 * 3  # zip's original value is not a choice
    assert 1 <= loss["nodes_evaluated"] <= 60
    assert loss["average_class_size"] >= 1
    assert loss["non_uniform_entropy"] > 0 and loss["discernibility"] > 0


def test_when_no_level_is_enough_the_run_says_what_the_best_would_cost(tmp_path: Path) -> None:
    root = _setup(tmp_path, _rows(30, 1), 40, None, 0.0)  # 30 rows can never make k=40
    with (
        pytest.raises(PrivacyTargetError, match=r"no combination .* would suppress 30 of 30"),
        open_engine(load_catalog(root / "catalog.yml")) as engine,
    ):
        run_extract(root / "policy.yml", engine, tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("diagnosis: keep", "diagnosis: {op: generalize, levels: ['*']}"), "diagnosis has gen"),
        (("{prefix: 4}, ", "{ip: 24}, "), "ip is not available as a search level"),
        (("{prefix: 4}, ", "{prefix: 5}, "), "zip is personal data"),
        (("[{to: month}, {to: year}]", "[{bin: 2}]"), "bands and bins need numbers"),
        (("privacy: {k: 5, max_suppression: 0.05}", "privacy: {}"), "levels need a target"),
    ],
)
def test_level_problems(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    root = _setup(tmp_path, _rows(20, 1), 5, None, 0.05)
    text = (root / "policy.yml").read_text()
    assert edit[0] in text
    (root / "policy.yml").write_text(text.replace(*edit))
    with pytest.raises(ConfigError, match=message):
        load_policy(root / "policy.yml", load_catalog(root / "catalog.yml"))
