"""notebooks/00_data_map.ipynb with no catalog: it drafts the data map from the demo's files,
draws the links, lists the least sure decisions first, says what `dsar catalog check` still
refuses, and shows no personal value. (With a catalog: tests/test_notebooks.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsar.catalog import load_catalog

pytest.importorskip("papermill")


@pytest.mark.slow
def test_the_data_map_notebook_drafts_when_there_is_no_catalog(tmp_path: Path) -> None:
    from tests.test_catalog_draft import _personal_values
    from tests.test_notebooks import SMALL, _execute, _images, _markdown, _stderr

    work = tmp_path / "work"
    params = {"work_dir": str(work), **SMALL["00_data_map.ipynb"], "draft_from_files": True}
    executed = _execute("00_data_map.ipynb", tmp_path, params)
    drafted = work / "00-data-map" / "catalog.draft.yml"
    text = drafted.read_text(encoding="utf-8")
    assert "# Confirm first" in text and "# confidence " in text
    assert not (work / "00-data-map" / "inventory.csv").exists()  # no catalog, no inventory
    assert _images(executed), "the links were drawn"
    assert _stderr(executed) == []
    shown = json.dumps([c.get("outputs", []) for c in executed["cells"]])
    assert "accounts" in shown and "a people table (one row per person)" in shown
    summary = _markdown(executed)
    assert "tables** drafted from the files" in summary
    assert "decisions**" in summary and "TODOs** are filled" in summary
    assert "dsar catalog check refuses the draft" in shown
    # the least sure decision is listed, with its confidence, in the notebook
    _hash, sure, where, *_what = text.split("# Confirm first", 1)[1].splitlines()[1].split()
    assert f"{where.rstrip(':')}" in shown and sure in shown
    personal = _personal_values(load_catalog(work / "demo-export" / "catalog.yml"))
    assert len(personal) > 100
    assert [v for v in personal if v in shown] == []


@pytest.mark.slow
def test_an_export_without_a_catalog_is_drafted(tmp_path: Path) -> None:
    """`export_dir` with no catalog.yml: the shop's files (owned tables two levels deep,
    reference tables) are drafted; the diagram and the summary show ownership and reference."""
    from tests.shop_fixture import write_shop
    from tests.test_notebooks import _execute, _images, _markdown

    work = tmp_path / "work"
    write_shop(work / "shop")
    (work / "shop" / "catalog.yml").unlink()
    params = {"work_dir": str(work), "export_dir": str(work / "shop"), "draft_sample": 100}
    executed = _execute("00_data_map.ipynb", tmp_path, params)
    assert (work / "00-data-map" / "catalog.draft.yml").is_file()
    assert not (work / "demo-export").exists()  # no demo generated
    assert _images(executed)
    summary = _markdown(executed)
    assert "owned through another" in summary and "**no** table owned" not in summary
    assert "of reference data" in summary and "**no** table of reference" not in summary
