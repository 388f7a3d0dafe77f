"""notebooks/00_data_map.ipynb on an export of headerless CSV files (red team 27, F8 via the
notebook): no value of the files appears in any output (the tables overview, the decisions to
confirm first, the diagram's labels, the summary), in the executed notebook, or in any file
the notebook writes (the saved draft).

Three shapes of headerless file: an email, a name and a place a line (the red team's); first
name, last name and a city out of five (values no column name has, repeated in their
column); a name, a tier and a sentence.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("papermill")


def _headerless(root: Path) -> list[list[str]]:
    """Write the three files; return every row written."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(7)
    rng = random.Random(7)
    files = {
        "contacts": [[fake.email(), fake.name(), fake.city()] for _ in range(300)],
        "people": [
            [fake.first_name(), fake.last_name(), rng.choice(("Amsterdam", "Berlin", "Paris"))]
            for _ in range(300)
        ],
        "notes": [
            [fake.name(), rng.choice(("gold", "silver", "bronze")), fake.sentence()]
            for _ in range(300)
        ],
    }
    root.mkdir(parents=True)
    for name, rows in files.items():
        text = "".join(",".join(r) + "\n" for r in rows)
        (root / f"{name}.csv").write_text(text, encoding="utf-8")
    return [r for rows in files.values() for r in rows]


def _leaks(values: set[str], text: str) -> list[str]:
    return sorted(v for v in values if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text))


def _outputs(executed: dict[str, Any]) -> str:
    """Every output's text (a figure's PNG left out: its labels are the draft's names)."""
    shown = []
    for cell in executed["cells"]:
        for out in cell.get("outputs", []):
            data = {k: v for k, v in out.get("data", {}).items() if k != "image/png"}
            shown.append(json.dumps({**out, "data": data}, ensure_ascii=False))
    return "\n".join(shown)


@pytest.mark.slow
def test_the_data_map_notebook_shows_no_value_of_a_headerless_csv(tmp_path: Path) -> None:
    from tests.test_notebooks import _execute, _images

    work = tmp_path / "work"
    rows = _headerless(work / "export")
    values = {v.strip() for r in rows for v in r if len(v.strip()) >= 4}
    assert any(v in values for v in ("Paris", "gold")), "values that repeat in a column"
    params = {"work_dir": str(work), "export_dir": str(work / "export"), "draft_sample": 200}
    executed = _execute("00_data_map.ipynb", tmp_path, params)
    shown = _outputs(executed)
    assert "contacts" in shown and "notes" in shown and "people" in shown
    assert "column0" in shown  # the engine's names for a headerless file's columns
    assert _leaks(values, shown) == []
    assert _images(executed), "the links diagram was drawn"
    written = sorted(p for p in work.rglob("*") if p.is_file() and "export" not in p.parts)
    assert work / "00-data-map" / "catalog.draft.yml" in written
    for path in written:
        assert _leaks(values, path.read_text(encoding="utf-8")) == [], path.name
    # the executed notebook, as saved, outside its outputs' figures
    saved = json.loads((tmp_path / "executed-00_data_map.ipynb").read_text(encoding="utf-8"))
    assert _leaks(values, _outputs(saved)) == []
    # and the rows are rows: the first line of each file is counted
    draft = (work / "00-data-map" / "catalog.draft.yml").read_text(encoding="utf-8")
    assert draft.count("# 300 rows, 3 columns") == 3
