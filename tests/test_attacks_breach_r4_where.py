"""Red team 26 round 4, finding 5: `--where 'score > 3'` on a column the catalog gives no
type (or `type: string`) compared the cells as text ('10' < '3'): 0 rows where SQL on the
numbers gives 2, and `score < 3` 3 people where the truth is 1, with no warning. A number
compared with `<`, `<=`, `>`, `>=` now compares numbers where every cell of the column reads
as a number, and is refused where one does not; never silently text."""

from __future__ import annotations

import csv
import operator
from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _manifest, _run

SCORES = ["10", "25", "2", "3.5", ""]


def _scored_lab(root: Path, typing: str, scores: list[str]) -> Path:
    catalog = _lab(root, [("NL", "")] * len(scores))
    with (root / "web_logs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "user_id", "score"])
        for i, score in enumerate(scores, 1):
            w.writerow(["2026-11-05 10:00:00", f"u{i}", score])
    text = catalog.read_text()
    text = text.replace(
        "      ts: {type: timestamp}\n      user_id: {identity: user_id, type: string, references",
        f"      ts: {{type: timestamp}}\n      score: {typing}\n      user_id: {{identity:"
        " user_id, type: string, references",
    )
    catalog.write_text(text)
    return catalog


def _scope(catalog: Path, out: Path, where: str, mp: pytest.MonkeyPatch) -> tuple[int, str]:
    return _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
            "--where", where, "--discovered", "2026-11-20T10:00Z", "--out", str(out),
        ],
        mp,
    )  # fmt: skip


def _truth(where: str, scores: list[str]) -> int:
    op, value = where.split()[1], float(where.split()[2])
    compare = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}[op]
    return sum(1 for s in scores if s and compare(float(s), value))


@pytest.mark.parametrize("typing", ["{}", "{type: string}", "{type: integer}"])
@pytest.mark.parametrize("where", ["score > 3", "score < 3", "score >= 10", "score <= 3.5"])
def test_a_number_compares_numbers_on_an_untyped_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typing: str, where: str
) -> None:
    if typing == "{type: integer}":
        scores = [s.replace("3.5", "4") for s in SCORES]
        if where.endswith("3.5"):
            pytest.skip("an integer column holds no 3.5")
    else:
        scores = SCORES
    catalog = _scored_lab(tmp_path / "lab", typing, scores)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, where, monkeypatch)
    assert code == 0, output
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    expected = _truth(where, scores)
    assert counts["rows"] == {"web_logs": expected}, output
    assert counts["people"] == expected


def test_a_number_against_a_column_of_text_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _scored_lab(tmp_path / "lab", "{}", ["10", "high", "2"])
    code, output = _scope(catalog, tmp_path / "BR", "score > 3", monkeypatch)
    assert code != 0
    assert "number" in output and "score" in output
    assert not (tmp_path / "BR" / "scope.json").exists()


def test_text_against_text_still_compares_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _scored_lab(tmp_path / "lab", "{}", ["alpha", "delta", "kilo"])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, "score > c", monkeypatch)
    assert code == 0, output
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"web_logs": 2}
