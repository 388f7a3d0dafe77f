"""`dsar catalog draft`: every decision has a confidence in [0, 1] with a one-line reason.

A clear-cut column (every sampled value an email, named so) is sure; an ambiguous one (a
column 92% emails, one half emails left unmarked, a link whose values fit two tables' keys)
is less sure and comes first in `Draft.confirm_first`; every decision the draft makes has a
confidence, written in its YAML comment; no reason holds a value.
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path
from typing import Any

import pytest

from dsar.draft import Confidence, Decision, Draft, draft, draft_catalog
from dsar.draft.confidence import share_floor
from dsar.text.engine import TextEngine
from tests.shop_fixture import write_shop

ROWS = 300


def _csv(path: Path, columns: dict[str, list[Any]]) -> None:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(names)
        out.writerows(zip(*(columns[n] for n in names), strict=True))


def _export(root: Path) -> Path:
    """Customers with a clean email column, a 92%-email column and a half-email column left
    unmarked; orders linked cleanly; stock whose item codes fit two warehouses' keys."""
    rng = random.Random(5)
    root.mkdir()
    ids = [f"c{i:05d}" for i in range(ROWS)]
    words = ("blue", "green", "later", "call back", "no answer", "pending review")

    def some_emails(share: float) -> list[object]:
        return [
            f"someone{i}@example.org" if rng.random() < share else rng.choice(words)
            for i in range(ROWS)
        ]

    _csv(
        root / "customers.csv",
        {
            "customer_id": ids,
            "email": [f"person{i}@example.org" for i in range(ROWS)],
            "backup_email": [
                f"alt{i}@example.org" if i % 25 else rng.choice(words) for i in range(ROWS)
            ],
            "remark": some_emails(0.5),
        },
    )
    _csv(
        root / "orders.csv",
        {
            "order_id": [f"o{i:06d}" for i in range(2 * ROWS)],
            "customer_id": [rng.choice(ids) for _ in range(2 * ROWS)],
            "placed_at": [f"2026-01-{1 + i % 28:02d} 10:00:00" for i in range(2 * ROWS)],
        },
    )
    codes = [f"IT-{i:04d}" for i in range(60)]
    for name in ("warehouse_north", "warehouse_south"):
        _csv(root / f"{name}.csv", {"item_code": codes, "shelf": [f"S{i % 7}" for i in range(60)]})
    _csv(
        root / "stock_moves.csv",
        {
            "move_id": [f"m{i:05d}" for i in range(200)],
            "item_code": [rng.choice(codes) for _ in range(200)],
            "quantity": [rng.randint(1, 9) for _ in range(200)],
        },
    )
    return root


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Draft:
    root = _export(tmp_path_factory.mktemp("conf") / "export")
    return draft(root, sample=ROWS, text_engine=TextEngine(nlp=None))


def _one(result: Draft, where: str, role: str) -> Decision:
    found = [d for d in result.decisions() if d.where == where and d.role == role]
    assert len(found) == 1, (where, role, [(d.where, d.role) for d in result.decisions()])
    return found[0]


def test_a_clear_cut_column_is_sure_and_a_mixed_one_less(result: Draft) -> None:
    clean = _one(result, "customers.email", "identity")
    mixed = _one(result, "customers.backup_email", "identity")  # 96% emails: still marked
    assert clean.what == mixed.what == "identity email"
    assert clean.confidence.value >= 0.95
    assert mixed.confidence.value < clean.confidence.value - 0.03
    assert "96% of 300 sampled values are emails" in mixed.confidence.reason


def test_a_column_half_emails_left_unmarked_is_a_decision_to_confirm(result: Draft) -> None:
    remark = result.tables["customers"].columns["remark"]
    assert not remark.has_role  # below the 90% that marks emails
    unsure = _one(result, "customers.remark", "no_role")
    assert 0.35 <= unsure.confidence.value <= 0.65
    assert "are emails, too few to mark it" in unsure.confidence.reason


def test_a_link_whose_values_fit_two_tables_is_less_sure(result: Draft) -> None:
    clean = _one(result, "orders.customer_id", "references")
    stock = result.tables["stock_moves"].columns["item_code"]
    assert stock.references is not None and stock.references.startswith("warehouse_")
    torn = _one(result, "stock_moves.item_code", "references")
    assert clean.confidence.value >= 0.9
    assert torn.confidence.value <= 0.5
    assert "as well: which one?" in torn.confidence.reason
    other = "warehouse_south" if "north" in stock.references else "warehouse_north"
    assert f"{other}.item_code" in torn.confidence.reason


def test_the_least_sure_come_first(result: Draft) -> None:
    ranked = result.confirm_first()
    values = [d.confidence.value for d in ranked]
    assert values == sorted(values)
    assert sorted(ranked, key=lambda d: (d.where, d.role)) == sorted(
        result.decisions(), key=lambda d: (d.where, d.role)
    )
    first = [d.where for d in result.confirm_first(3)]
    assert "customers.remark" in first or "stock_moves.item_code" in first
    assert result.confirm_first(3) == ranked[:3]
    order = {(d.where, d.role): i for i, d in enumerate(ranked)}
    assert (
        order[("stock_moves.item_code", "references")] < order[("orders.customer_id", "references")]
    )
    assert order[("customers.backup_email", "identity")] < order[("customers.email", "identity")]


def test_ties_keep_file_order(result: Draft) -> None:
    decisions = result.decisions()
    for a, b in zip(result.confirm_first(), result.confirm_first()[1:], strict=False):
        if a.confidence.value == b.confidence.value:
            assert decisions.index(a) < decisions.index(b)


def test_a_confidence_lies_in_zero_to_one() -> None:
    assert Confidence(0.97321, "r").value == 0.97
    for bad in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError, match="lies in"):
            Confidence(bad, "r")


def test_the_share_floor_grows_with_the_sample_and_the_share() -> None:
    assert share_floor(0, 0) == 0.0
    assert share_floor(5, 5) < share_floor(50, 50) < share_floor(500, 500) < 1.0
    assert share_floor(400, 500) < share_floor(450, 500) < share_floor(500, 500)
    assert 0.4 < share_floor(100, 200) < 0.5
    assert share_floor(200, 200) > 0.98


def _every_decision_has_a_confidence(result: Draft) -> None:
    for table in result.tables.values():
        assert "verdict" in table.confidence, table.name
        assert ("primary_key" in table.confidence) == (table.primary_key is not None), table.name
        assert ("owned_through" in table.confidence) == (table.owned_through is not None)
        assert ("retention" in table.confidence) == (table.retention_after is not None)
        for name, col in table.columns.items():
            where = f"{table.name}.{name}"
            assert ("identity" in col.confidence) == (col.identity is not None), where
            assert ("personal" in col.confidence) == (col.personal is not None), where
            assert ("secret" in col.confidence) == col.secret, where
            assert ("free_text" in col.confidence) == col.free_text, where
            assert ("references" in col.confidence) == (col.references is not None), where
    for d in result.decisions():
        assert 0.0 <= d.confidence.value <= 1.0
        assert d.confidence.reason and "\n" not in d.confidence.reason


def test_every_decision_has_one(result: Draft) -> None:
    _every_decision_has_a_confidence(result)


def test_every_decision_of_the_shop_has_one_and_ownership_carries_its_link(
    tmp_path: Path,
) -> None:
    write_shop(tmp_path / "shop")
    (tmp_path / "shop" / "catalog.yml").unlink()
    shop = draft(tmp_path / "shop", sample=100, text_engine=TextEngine(nlp=None))
    _every_decision_has_a_confidence(shop)
    owned = [t for t in shop.tables.values() if t.owned_through is not None]
    assert len(owned) >= 2  # lines through invoices, notes through lines
    for table in owned:
        own = table.confidence["owned_through"]
        assert own.value <= 1.0 and table.owned_through is not None
        assert f"found in {table.owned_through.target}" in own.reason
        parent = shop.tables[table.owned_through.parent]
        if parent.owned_through is not None:  # two levels: no surer than the level above
            assert own.value <= parent.confidence["owned_through"].value
            assert "is owned itself" in own.reason
    # a name's confidence reads the text engine's share from the finding's evidence
    first_name = shop.tables["customers"].columns["FirstName"].confidence["personal"]
    assert "distinct sampled values are people's names" in first_name.reason
    reference = [t for t in shop.tables.values() if not t.personal]
    assert reference and all("reference data" in t.verdict() for t in reference)


def test_the_yaml_gives_each_decision_its_confidence_and_the_least_sure_first(
    tmp_path: Path,
) -> None:
    root = _export(tmp_path / "export")
    result = draft_catalog(
        root, tmp_path / "draft.yml", sample=ROWS, text_engine=TextEngine(nlp=None)
    )
    text = (tmp_path / "draft.yml").read_text(encoding="utf-8")
    for d in result.decisions():
        line = f"# confidence {d.confidence.value:.2f} for "
        assert any(line in row and d.confidence.reason in row for row in text.splitlines()), d
    header = re.findall(r"^#   (\d\.\d\d)  (\S+): (.+)$", text, re.M)
    first = result.confirm_first(len(header))
    assert [(f"{d.confidence.value:.2f}", d.where, d.what) for d in first] == header
    # each comment sits above what it is about: the column line follows its comments
    lines = text.splitlines()
    at = next(i for i, row in enumerate(lines) if "for identity email: 100%" in row)
    following = next(row for row in lines[at:] if not row.strip().startswith("#"))
    assert following.strip().startswith("email:")


def test_no_reason_holds_a_value(result: Draft) -> None:
    values: set[str] = set()
    for table in result.tables.values():
        for column in table.profile.sample.column_names:
            values |= {str(v) for v in table.profile.values(column) if len(str(v)) >= 5}
    reasons = " ".join(d.confidence.reason for d in result.decisions())
    assert not [v for v in values if v in reasons]
