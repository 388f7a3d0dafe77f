"""notebooks/06_breach.ipynb runs on the demo with papermill, shows no personal value, and
its summary agrees with the breach folder it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

pytest.importorskip("papermill")


def test_breach_notebook_runs_and_shows_no_one(tmp_path: Path) -> None:
    from tests.test_notebooks import _execute

    work = tmp_path / "work"
    executed = _execute("06_breach.ipynb", tmp_path, {"work_dir": str(work), "demo_users": 300})
    scratch = work / "06-breach"
    summary = json.loads((scratch / "summary.json").read_text())
    folder = scratch / summary["breach"]
    people = pq.read_table(folder / "affected.parquet")
    assert summary["people"] == people.num_rows > 0
    assert summary["letters"] == len(list((folder / "letters").glob("*.md")))
    assert summary["authority_due"]
    shown = json.dumps([c.get("outputs", []) for c in executed["cells"]]).lower()
    root = scratch / "demo-export"
    values = {
        str(v).strip().lower()
        for row in duckdb.execute(
            f"SELECT email, full_name, phone, user_id FROM read_csv('{root}/accounts.csv')"
        ).fetchall()
        for v in row
        if v is not None
    }
    assert not [v for v in values if v in shown], "the notebook shows a personal value"
