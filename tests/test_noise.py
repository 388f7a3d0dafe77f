"""Differentially private aggregates: noise of the stated scale, contributions bounded,
cells of one person never released, every setting checked."""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from anonymize import run_aggregates
from anonymize.aggregate_spec import load_aggregate_spec
from dsar import Keys, ReleaseLog, open_engine
from dsar.catalog import Catalog, load_catalog
from dsar.errors import ConfigError
from dsar.review import verify_derived

CATALOG = """\
version: 1
controller: {name: Shop, contact: dpo@shop.example, supervisory_authority: CNIL}
tables:
  orders:
    path: orders.csv
    format: csv
    description: Orders.
    category: billing
    origin: provided
    purposes: [sell]
    legal_basis: contract
    source: the customer
    retention: {criteria: ten years}
    erasure: {action: delete}
    columns:
      order_id: {type: integer}
      customer: {identity: customer_id, type: string}
      region: {type: string}
      product: {type: string}
      amount: {type: float}
"""

SPEC = """\
version: 1
name: sales
table: orders
person: customer
min_count: 5
differential_privacy: {epsilon: EPS}
aggregates:
  - name: by_region
    group_by: [region]
    measures:
      - {name: buyers, op: count}
"""


def _orders(root: Path, regions: int, per_region: int, seed: int = 1) -> Catalog:
    """`per_region` customers in each region, each with 1-3 orders; and one lone customer."""
    rng = random.Random(seed)
    rows = []
    for r in range(regions):
        for c in range(per_region):
            for _ in range(rng.randint(1, 3)):
                rows.append((f"c{r}-{c}", f"R{r:03d}", rng.choice("ABC"), rng.uniform(1, 90)))
    rows.append(("lonely", "Atlantis", "A", 50.0))
    root.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=["customer", "region", "product", "amount"])
    frame.insert(0, "order_id", range(len(frame)))
    frame.to_csv(root / "orders.csv", index=False)
    (root / "catalog.yml").write_text(CATALOG)
    return load_catalog(root / "catalog.yml")


def _log(root: Path) -> ReleaseLog:
    return ReleaseLog(root / "releases.db", Keys(b"n" * 32))


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yml"
    path.write_text(text)
    return path


def _published(path: Path) -> list[dict[str, str | None]]:
    rows = duckdb.execute(f"SELECT * FROM read_csv('{path}', all_varchar=true)").fetchall()
    names = [c[0] for c in duckdb.execute(f"DESCRIBE SELECT * FROM read_csv('{path}')").fetchall()]
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_counts_carry_noise_of_the_stated_scale(tmp_path: Path) -> None:
    catalog = _orders(tmp_path / "data", regions=300, per_region=40)
    with open_engine(catalog) as engine:
        result = run_aggregates(
            _spec(tmp_path, SPEC.replace("EPS", "1.0")),
            engine,
            tmp_path / "o",
            release_log=_log(tmp_path),
        )
    rows = [r for r in _published(result.files["by_region"]) if r["region"] != "(total)"]
    errors = [int(str(r["buyers"])) - 40 for r in rows if str(r["region"]).startswith("R")]
    assert len(errors) == 300  # 40 people against a threshold near 15: all released
    # discrete Laplace of scale 1: mean 0, variance 2 e^-1/(1-e^-1)^2 (about 1.84); with 300
    # cells the estimate's standard error is about 0.24, so the bounds sit 3.5 and 4.8 away
    assert abs(statistics.mean(errors)) < 0.5
    assert 1.0 < statistics.variance(errors) < 3.0
    dp = result.manifest.differential_privacy
    assert dp is not None and dp.epsilon == 1.0 and dp.delta == 1e-6
    assert "OpenDP" in dp.mechanism
    table = dp.tables["by_region"]
    assert table.count_scale == 1.0
    assert table.release_threshold == pytest.approx(1 + 13.8155, abs=1e-3)


def test_a_cell_of_one_person_is_not_released(tmp_path: Path) -> None:
    catalog = _orders(tmp_path / "data", regions=3, per_region=30)
    spec = _spec(tmp_path, SPEC.replace("EPS", "2.0").replace("min_count: 5", "min_count: 2"))
    for attempt in range(20):
        with open_engine(catalog) as engine:
            log = ReleaseLog(tmp_path / f"r{attempt}.db", Keys(bytes([65 + attempt]) * 32))
            result = run_aggregates(spec, engine, tmp_path / f"o{attempt}", release_log=log)
        regions = {r["region"] for r in _published(result.files["by_region"])}
        assert "Atlantis" not in regions
        assert {"R000", "R001", "R002"} <= regions


def test_each_person_counts_in_at_most_max_groups(tmp_path: Path) -> None:
    """Every customer buys several products: with one group per person, the product counts add
    up to the people, not to the (customer, product) pairs."""
    catalog = _orders(tmp_path / "data", regions=40, per_region=20)
    text = SPEC.replace("EPS", "10").replace("group_by: [region]", "group_by: [product]")
    text = text.replace("{epsilon: 10}", "{epsilon: 10, keys: {product: [A, B, C]}}")
    with open_engine(catalog) as engine:
        result = run_aggregates(
            _spec(tmp_path, text), engine, tmp_path / "o", release_log=_log(tmp_path)
        )
    people, pairs = duckdb.execute(
        f"SELECT count(DISTINCT customer), count(DISTINCT (customer, product))"
        f" FROM read_csv('{tmp_path}/data/orders.csv')"
    ).fetchone() or (0, 0)
    counts = [int(str(r["buyers"])) for r in _published(result.files["by_region"])]
    assert sum(counts) == pytest.approx(people, abs=5)
    assert pairs > people + 100
    dp = result.manifest.differential_privacy
    assert dp is not None and dp.delta is None  # every cell declared: pure epsilon
    # the exact number of pairs cut is told to the person running it, never published
    assert f"by_region: {pairs - people} (person, cell) pairs" in " ".join(result.warnings)
    published = result.manifest.model_dump_json()
    assert str(pairs - people) not in published
    assert result.manifest.rows_in is None  # an exact count is not noise-protected
    assert all(i.sha256 is None for i in result.manifest.inputs if i.role == "source")


def test_sums_are_clamped_per_person_and_means_follow(tmp_path: Path) -> None:
    catalog = _orders(tmp_path / "data", regions=2, per_region=200)
    text = SPEC.replace("EPS", "10") + (
        "      - {name: revenue, op: sum, column: amount, bounds: [0, 10]}\n"
        "      - {name: basket, op: mean, column: amount, bounds: [0, 10]}\n"
    )
    with open_engine(catalog) as engine:
        result = run_aggregates(
            _spec(tmp_path, text), engine, tmp_path / "o", release_log=_log(tmp_path)
        )
    for row in _published(result.files["by_region"]):
        if row["region"] in ("R000", "R001"):
            # every customer spends more than 10 in all: clamped, each adds exactly 10
            assert float(str(row["revenue"])) == pytest.approx(2000, abs=60)
            assert float(str(row["basket"])) == pytest.approx(10, abs=0.5)
    dp = result.manifest.differential_privacy
    assert dp is not None
    assert dp.tables["by_region"].sum_scales == {
        "revenue": pytest.approx(3.0),
        "basket": pytest.approx(3.0),
    }


def test_a_noisy_run_passes_the_reviewers_check(tmp_path: Path) -> None:
    catalog = _orders(tmp_path / "data", regions=5, per_region=30)
    text = SPEC.replace("EPS", "1").replace("group_by: [region]", "group_by: [region, product]")
    text = text.replace("    measures:", "    margins: true\n    measures:")
    with open_engine(catalog) as engine:
        result = run_aggregates(
            _spec(tmp_path, text), engine, tmp_path / "o", release_log=_log(tmp_path)
        )
    report = verify_derived(result.folder)
    assert report.ok, report.findings


def test_declared_values_limit_a_column_even_when_others_come_from_the_data(
    tmp_path: Path,
) -> None:
    catalog = _orders(tmp_path / "data", regions=3, per_region=60)
    text = SPEC.replace("EPS", "10").replace("group_by: [region]", "group_by: [region, product]")
    text = text.replace("{epsilon: 10}", "{epsilon: 10, keys: {product: [A, B]}}")
    text = text.replace("min_count: 5", "min_count: 2")
    with open_engine(catalog) as engine:
        result = run_aggregates(
            _spec(tmp_path, text), engine, tmp_path / "o", release_log=_log(tmp_path)
        )
    products = {r["product"] for r in _published(result.files["by_region"])}
    assert products <= {"A", "B", "(total)"} and "A" in products
    assert any("product values not in" in w and "C" in w for w in result.warnings)


def test_delta_is_split_over_the_tables_whose_cells_come_from_the_data(tmp_path: Path) -> None:
    catalog = _orders(tmp_path / "data", regions=5, per_region=40)
    text = SPEC.replace("EPS", "1.0") + (
        "  - name: by_product\n    group_by: [product]\n    measures:\n"
        "      - {name: buyers, op: count}\n"
    )
    with open_engine(catalog) as engine:
        result = run_aggregates(
            _spec(tmp_path, text), engine, tmp_path / "o", release_log=_log(tmp_path)
        )
    dp = result.manifest.differential_privacy
    assert dp is not None and dp.delta == 1e-6
    scale = dp.tables["by_region"].count_scale
    assert scale == pytest.approx(2.0)  # epsilon 1 over two tables
    threshold = dp.tables["by_region"].release_threshold
    assert threshold == pytest.approx(1 + 2.0 * math.log(1 / 0.5e-6))  # delta over two tables


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("person: customer\n", ""), "needs the person column"),
        (("{epsilon: EPS}", "{epsilon: 1, keys: {country: [FR]}}"), "country is not a group"),
        (
            ("op: count}", "op: count}\n      - {name: revenue, op: sum, column: amount}"),
            "sum of amount under differential privacy needs bounds",
        ),
        (("{epsilon: EPS}", "{epsilon: 0}"), "greater than 0"),
    ],
)
def test_noise_problems(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    catalog = _orders(tmp_path / "data", regions=1, per_region=5)
    assert edit[0] in SPEC
    with pytest.raises(ConfigError, match=message):
        load_aggregate_spec(_spec(tmp_path, SPEC.replace(*edit).replace("EPS", "1")), catalog)


def test_bounds_without_noise_are_refused(tmp_path: Path) -> None:
    catalog = _orders(tmp_path / "data", regions=1, per_region=5)
    text = SPEC.replace("differential_privacy: {epsilon: EPS}\n", "") + (
        "      - {name: revenue, op: sum, column: amount, bounds: [0, 10]}\n"
    )
    with pytest.raises(ConfigError, match="bounds clamp values only under differential"):
        load_aggregate_spec(_spec(tmp_path, text), catalog)


@pytest.mark.parametrize("name", ["aggregate_accounts.yml", "aggregate_accounts_dp.yml"])
def test_the_example_aggregates_of_the_demo_pass_review(
    demo_export: Path, tmp_path: Path, name: str
) -> None:
    spec = Path(__file__).parents[1] / "examples" / name
    with open_engine(load_catalog(demo_export)) as engine:
        result = run_aggregates(spec, engine, tmp_path / "out", release_log=_log(tmp_path))
    assert not result.warnings  # the declared plans are the demo's plans
    assert verify_derived(result.folder).ok
    assert (result.manifest.differential_privacy is not None) == name.endswith("_dp.yml")
