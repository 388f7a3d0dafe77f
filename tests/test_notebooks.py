"""Notebooks run top to bottom on the demo export, with papermill, and produce what they say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") for c in code), "clear outputs before committing"
    assert all(c.get("execution_count") is None for c in code)
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "one cell tagged 'parameters'"


def _execute(name: str, tmp_path: Path, parameters: dict[str, object]) -> dict[str, Any]:
    """Run a notebook with papermill in `tmp_path`; return the executed notebook as JSON."""
    import papermill as pm

    executed = tmp_path / f"executed-{name}"
    pm.execute_notebook(
        str(NOTEBOOKS / name),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    result: dict[str, Any] = json.loads(executed.read_text(encoding="utf-8"))
    return result


@pytest.mark.slow
def test_data_map_notebook(tmp_path: Path) -> None:
    out = tmp_path / "out"
    executed = _execute(
        "00_data_map.ipynb",
        tmp_path,
        {
            "demo_dir": str(tmp_path / "demo"),
            "demo_users": 200,
            "demo_seed": 3,
            "output_dir": str(out),
        },
    )
    inv = pd.read_csv(out / "inventory.csv").set_index("name")
    assert len(inv) == 10
    assert inv.loc["accounts", "rows"] == 200
    assert inv.loc["app_end_users", "role"] == "processor"
    images = [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert images, "the rows-per-table chart was drawn"


@pytest.mark.slow
def test_access_request_notebook(tmp_path: Path) -> None:
    from dsar.demo import generate
    from tests.conftest import AS_OF

    export = generate(tmp_path / "demo", users=200, seed=3, as_of=AS_OF)
    out = tmp_path / "bundles"
    _execute(
        "01_access_request.ipynb",
        tmp_path,
        {
            "catalog_path": str(export.catalog_path),
            "identifier": f"email={export.subject_email}",
            "request_label": "AR-NB",
            "out_dir": str(out),
        },
    )
    summary = json.loads((out / "AR-NB.summary.json").read_text())
    assert summary["verified"] is True
    assert summary["rows"] > 10
    assert summary["tables"]["accounts"] == 1
    assert (out / "AR-NB.zip").is_file()


@pytest.mark.slow
def test_erasure_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_KEY", raising=False)  # the notebook makes its demo key
    work = tmp_path / "work"
    _execute(
        "02_erasure_and_correction.ipynb",
        tmp_path,
        {
            "demo_dir": str(tmp_path / "demo"),
            "work_dir": str(work),
            "received": "2026-11-20",
            "apply": True,
        },
    )
    summary = json.loads((work / "summary.json").read_text())
    assert summary["applied"] is True and summary["changes"] > 0
    assert summary["audit_intact"] is True
    assert summary["ledger_entries"] > 0
    assert set(summary["statuses"].values()) == {"completed"}
    assert summary["corrected_rows"] == 1
    assert Path(summary["certificate"]).is_file()
    # run again: the demo key is reused, so the person keeps one reference in the log
    key = (work / "demo-secrets" / "key").read_text()
    _execute(
        "02_erasure_and_correction.ipynb",
        tmp_path,
        {"demo_dir": str(tmp_path / "demo2"), "work_dir": str(work), "received": "2026-11-21"},
    )
    assert (work / "demo-secrets" / "key").read_text() == key
    again = json.loads((work / "summary.json").read_text())
    assert again["applied"] is False and again["audit_intact"] is True  # apply defaults to False


@pytest.mark.slow
def test_deidentified_extract_notebook(tmp_path: Path) -> None:
    out = tmp_path / "extracts"
    executed = _execute(
        "03_deidentified_extract.ipynb",
        tmp_path,
        {
            "demo_dir": str(tmp_path / "demo"),
            "demo_users": 400,
            "output_dir": str(out),
            "k": 5,
            "max_suppression": 0.3,
        },
    )
    extract = pd.read_parquet(out / "accounts-extract" / "accounts.parquet")
    manifest = json.loads((out / "accounts-extract" / "manifest.json").read_text())
    qis = manifest["risk"]["quasi_identifiers"]
    assert qis == ["country", "plan", "signup_method", "created_at", "last_login_at"]
    assert extract.groupby(qis, dropna=False)["user_id"].nunique().min() == manifest["risk"]["k"]
    assert manifest["risk"]["k"] >= 5
    for gone in ("email", "password_hash", "company", "closed_at"):
        assert gone not in extract.columns
    assert manifest["classification"]["status"].startswith("insensitive: ")
    assert manifest["generalisation"]["created_at"] in ("to: month", "to: year", "*")
    assert 0 < manifest["information_loss"]["precision_loss"] <= 1
    u = manifest["uniqueness"]
    assert u["source"] == 1.0 and u["released"] == 0.0 and set(u["without"]) == set(qis)
    from dsar import verify_derived

    assert verify_derived(out / "accounts-extract").ok  # dsar verify passes the extract
    aggregates = pd.read_csv(out / "accounts-aggregates" / "by_country_plan.csv")
    assert (aggregates["count"].dropna() >= 10).all()
    noisy = json.loads((out / "accounts-aggregates-dp" / "manifest.json").read_text())
    assert noisy["differential_privacy"]["epsilon"] == 1.0
    assert noisy["release"]["entry"] == 2 and noisy["release"]["epsilon_spent"] == 1.0
    images = [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert images, "the class-size chart is drawn"


@pytest.mark.slow
def test_ad_audience_notebook(tmp_path: Path) -> None:
    out = tmp_path / "audiences"
    executed = _execute(
        "04_ad_audience.ipynb",
        tmp_path,
        {"demo_dir": str(tmp_path / "demo"), "demo_users": 400, "output_dir": str(out)},
    )
    written = pd.read_csv(out / "first" / "meta.csv")
    assert len(written) > 0
    removals = sorted((out / "withdrawals").glob("*.csv"))
    assert len(removals) == 3  # one per platform, each holding the person who objected
    assert all(p.read_text().count("\n") == 2 for p in removals)
    images = [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert images, "the funnel is drawn"
