"""Red team 26 round 5, finding 8: diagnoses and religions in ordinary text columns
(`diagnosis`, `religion`, not marked free text) scored "simple data, DPC 1", severity
medium, no notice recommended; the same bytes marked free text scored 5.0 very high. A
leaked column whose name says it holds special-category data (the words `dsar catalog
draft` flags SENSITIVE by) now counts as special categories (DPC 4), its reason naming the
column, for a person to confirm; gender and ordinary columns do not."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _manifest, _run

ROWS = [
    ("HIV positive", "Muslim", "f"),
    ("type 2 diabetes", "Jewish", "m"),
    ("severe depression", "Catholic", "f"),
]


def _special_lab(root: Path) -> Path:
    catalog = _lab(root, [("NL", "")] * len(ROWS))
    path = root / "accounts.csv"
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(rows[0] + ["diagnosis", "religion", "gender"])
        for row, extra in zip(rows[1:], ROWS, strict=True):
            w.writerow(row + list(extra))
    text = catalog.read_text()
    text = text.replace(
        "      created_at: {type: timestamp}\n  web_logs:",
        "      created_at: {type: timestamp}\n"
        + "      diagnosis: {type: string}\n      religion: {type: string}\n"
        + "      gender: {type: string}\n  web_logs:",
    )
    catalog.write_text(text)
    return catalog


def _scope(catalog: Path, out: Path, columns: str, mp: pytest.MonkeyPatch) -> dict[str, object]:
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "accounts",
            "--columns", columns, "--discovered", "2026-11-20T10:00Z", "--malicious",
            "--out", str(out),
        ],
        mp,
    )  # fmt: skip
    assert code == 0, output
    return _manifest(out)


@pytest.mark.parametrize("leaked", ["diagnosis", "religion"])
def test_a_column_named_as_special_data_counts_as_special_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, leaked: str
) -> None:
    catalog = _special_lab(tmp_path / "lab")
    manifest = _scope(catalog, tmp_path / "BR", f"user_id,email,{leaked}", monkeypatch)
    severity = manifest["severity"]
    assert isinstance(severity, dict)
    assert severity["dpc"]["value"] == 4, severity
    assert f"accounts.{leaked}" in severity["dpc"]["reason"]
    assert "a person confirms" in severity["dpc"]["reason"]
    assert severity["notify_people_recommended"] is True
    categories = manifest["categories"]
    assert isinstance(categories, dict) and "special_categories" in categories
    # no value of the column in scope.json
    text = (tmp_path / "BR" / "scope.json").read_text()
    assert not any(v in text for row in ROWS for v in row[:2])


def test_gender_and_ordinary_columns_stay_simple_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _special_lab(tmp_path / "lab")
    manifest = _scope(catalog, tmp_path / "BR", "user_id,email,gender", monkeypatch)
    severity = manifest["severity"]
    assert isinstance(severity, dict)
    assert severity["dpc"]["value"] == 1, severity
