"""Red team round 2 on `dsar verify` (issue 25): a bundle's CSV and JSON copies and its
statement are checked against its Parquet data; bundle manifests and published folders
carry a keyed MAC. Each test is one attack: files edited by hand, checksums (and counts)
written again without the key."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dsar import load_catalog
from dsar.access.answer import answer_access_requests
from dsar.access.rows import write_csv
from dsar.io import jsonable_rows
from dsar.keys import Keys
from dsar.review.bundle import Verification, verify_bundle
from dsar.review.manifest import manifest_mac
from dsar.review.published import verify_published
from dsar.subjects.identity import SubjectRequest, parse_key

KEYS = Keys(b"r" * 40)
THIRD = "mallory.stranger@example.net"  # a third party's address, put in by the attacker
NAME = "Jodie Wilkinson"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.access_fixture import write_access_fixture

    root = tmp_path_factory.mktemp("r2")
    catalog = load_catalog(write_access_fixture(root / "traps"))
    request = SubjectRequest("AR-R2", (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(catalog, [request], root / "out", keys=KEYS)
    assert not bundle.rejected
    return bundle.path


@pytest.fixture
def bundle(made: Path, tmp_path: Path) -> Path:
    copy = tmp_path / made.name
    shutil.copytree(made, copy)
    return copy


def _rehash(bundle: Path, rows: dict[str, int] | None = None) -> None:
    """Every checksum (and, given, a table's row counts) written again, as an attacker
    without the key can."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["outputs"]:
        data = (bundle / entry["path"]).read_bytes()
        entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
        if rows and entry["table"] in rows and entry["rows"] is not None:
            entry["rows"] = rows[entry["table"]]
    for table, n in (rows or {}).items():
        manifest["tables"][table]["rows"] = n
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _said(result: Verification) -> str:
    return "\n".join([*map(str, result.findings), *result.notices])


def _table_with_rows(bundle: Path) -> str:
    """A table of the bundle with at least two rows."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    return str(next(t for t, info in manifest["tables"].items() if info["rows"] >= 2))


def test_the_clean_bundle_passes_with_and_without_the_key(bundle: Path) -> None:
    assert verify_bundle(bundle, keys=KEYS).findings == []
    unkeyed = verify_bundle(bundle)
    assert unkeyed.ok and "not authenticated" in _said(unkeyed)


def test_another_persons_row_added_to_a_csv_copy_is_found(bundle: Path) -> None:
    """11_bundle_csv_row.sh A/B/F: a well-formed row appended to data/ and portability/."""
    for folder in ("data", "portability"):
        path = bundle / folder / "accounts.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        with path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow([THIRD if "email" in c else "x" for c in header])
    _rehash(bundle)
    found = [str(f) for f in verify_bundle(bundle).findings]
    assert any(
        f.startswith("[copies] data/accounts.csv: 2 rows, its Parquet twin has 1") for f in found
    )
    assert any(f.startswith("[copies] portability/accounts.csv") for f in found)
    assert THIRD not in "\n".join(found)


def test_a_third_party_put_in_a_csv_cell_is_found_at_its_line_and_column(bundle: Path) -> None:
    """11_bundle_csv_row.sh D: the row count unchanged, one cell rewritten."""
    path = bundle / "data" / "accounts.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[1][-1] = f"call {NAME} at {THIRD}"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    _rehash(bundle)
    found = [str(f) for f in verify_bundle(bundle).findings]
    column = len(rows[1])
    assert (
        f"[copies] data/accounts.csv line 2 column {column}: differs from its Parquet twin's row 1"
        in found
    )
    assert THIRD not in "\n".join(found) and NAME not in "\n".join(found)


def test_a_value_changed_in_a_json_copy_is_found(bundle: Path) -> None:
    path = bundle / "portability" / "accounts.json"
    rows = json.loads(path.read_text())
    key = next(k for k, v in rows[0].items() if isinstance(v, str))
    rows[0][key] = THIRD
    path.write_text(json.dumps(rows))
    _rehash(bundle)
    found = [str(f) for f in verify_bundle(bundle).findings]
    assert (
        "[copies] portability/accounts.json line 1 column 1: differs from its Parquet twin's row 1"
        in found
    )


def test_the_statement_edited_alone_is_found_without_the_key(bundle: Path) -> None:
    """17_report_edit.sh: a third party's name and email put into the statement, a retention
    note taken out, checksums written again."""
    for name in ("report.md", "report.html"):
        path = bundle / name
        text = path.read_text()
        assert "Timestamps are in UTC." in text
        path.write_text(text.replace("Timestamps are in UTC.", f"Ask {NAME} ({THIRD})."))
    _rehash(bundle)
    found = [str(f) for f in verify_bundle(bundle).findings]
    places = [f.split(" line ")[0] for f in found]
    assert places == ["[report] report.md", "[report] report.html"], found
    assert all("differs from the statement made again from the data" in f for f in found)
    assert THIRD not in "\n".join(found) and NAME not in "\n".join(found)


def _edit_statement_and_manifest(bundle: Path) -> None:
    """The statement and the manifest's record of it edited alike: only the MAC tells."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    blocks = manifest["statement"]["blocks"]
    block = next(b for b in blocks if "Timestamps are in UTC." in b["text"])
    block["text"] = block["text"].replace("Timestamps are in UTC.", f"Ask {NAME}.")
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for name in ("report.md", "report.html"):
        path = bundle / name
        path.write_text(path.read_text().replace("Timestamps are in UTC.", f"Ask {NAME}."))
    _rehash(bundle)


def test_the_statement_and_its_record_edited_alike_fail_the_mac(bundle: Path) -> None:
    _edit_statement_and_manifest(bundle)
    unkeyed = verify_bundle(bundle)
    assert unkeyed.ok and "manifest.json is not authenticated (carries a MAC" in _said(unkeyed)
    keyed = [str(f) for f in verify_bundle(bundle, keys=KEYS).findings]
    assert keyed == [
        "[manifest] manifest.json: its MAC fails under the key given: edited after it was"
        " written (or written under another key)"
    ]


def test_an_email_put_in_the_statements_record_is_found_without_the_key(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    block = next(b for b in manifest["statement"]["blocks"] if "Timestamps" in b["text"])
    block["text"] += f" Ask {THIRD}."
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    found = [str(f) for f in verify_bundle(bundle).findings]
    assert any(
        "an email address that is neither the person's nor the controller's" in f for f in found
    )


def test_the_statements_record_removed_is_a_finding(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    del manifest["statement"], manifest["mac"]
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    found = [str(f) for f in verify_bundle(bundle).findings]
    assert any(
        f.startswith("[report] manifest.json statement: the manifest records no statement")
        for f in found
    )
    keyed = [str(f) for f in verify_bundle(bundle, keys=KEYS).findings]
    assert any("no MAC although a key was given" in f for f in keyed)


def test_a_row_removed_from_every_copy_with_counts_rewritten(bundle: Path) -> None:
    """06_bundle_tamper.py A: a row dropped from the Parquet file, every copy made again with
    the writer's own code, checksums and counts rewritten: the statement still shows the row
    (found without the key), and with the key the manifest's MAC fails."""
    table = _table_with_rows(bundle)
    path = bundle / "data" / f"{table}.parquet"
    data = pq.read_table(path)
    kept = data.slice(0, data.num_rows - 1)
    pq.write_table(kept, path)
    write_csv(bundle / "data" / f"{table}.csv", kept)
    text = json.dumps(jsonable_rows(kept), indent=1, ensure_ascii=False, default=str) + "\n"
    (bundle / "data" / f"{table}.json").write_text(text, encoding="utf-8")
    shutil.rmtree(bundle / "portability", ignore_errors=True)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["outputs"] = [
        o for o in manifest["outputs"] if not o["path"].startswith("portability/")
    ]
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _rehash(bundle, {table: kept.num_rows})
    found = [str(f) for f in verify_bundle(bundle).findings]
    assert not any(f.startswith(("[copies]", "[rows]", "[checksum]")) for f in found)
    assert any(f.startswith("[report] manifest.json statement block") for f in found)
    keyed = [str(f) for f in verify_bundle(bundle, keys=KEYS).findings]
    assert any("its MAC fails under the key given" in f for f in keyed)


def test_a_manifest_signed_again_under_another_key_fails(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["mac"] = manifest_mac(Keys(b"z" * 40), manifest)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    assert not verify_bundle(bundle, keys=KEYS).ok


# published support requests (21_publish.py)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.test_publish import _publish

    result: Any = _publish(tmp_path_factory.mktemp("pub-r2"), keys=KEYS)
    return Path(result.folder)


def _rehash_published(folder: Path, rows_out: int | None = None) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["outputs"]:
        data = (folder / entry["path"]).read_bytes()
        entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
        if rows_out is not None and entry["path"] != manifest["review_file"]:
            entry["rows"] = rows_out
    if rows_out is not None:
        manifest["rows_out"] = rows_out
        manifest["rows_in"] = rows_out + manifest["held_back"]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_the_published_folder_passes_with_the_key(published: Path, tmp_path: Path) -> None:
    assert verify_published(published, keys=KEYS).findings == []
    assert "not authenticated" in _said(verify_published(published))


def test_published_rows_removed_with_counts_rewritten_fail_the_mac(
    published: Path, tmp_path: Path
) -> None:
    folder = tmp_path / published.name
    shutil.copytree(published, folder)
    data = next(p for p in folder.iterdir() if p.suffix == ".jsonl")
    lines = data.read_text().splitlines()
    data.write_text("\n".join(lines[:-1]) + "\n")
    (folder / "review.jsonl").write_text("")  # its listed spans too, counts set to match
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["replaced"], manifest["rare_terms"], manifest["held_back"] = {}, 0, 0
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _rehash_published(folder, len(lines) - 1)
    keyed = [str(f) for f in verify_published(folder, keys=KEYS).findings]
    assert (
        "[manifest] manifest.json: its MAC fails under the key given: edited after it was"
        " written (or written under another key)" in keyed
    )
    stripped = json.loads((folder / "manifest.json").read_text())
    del stripped["mac"]
    (folder / "manifest.json").write_text(json.dumps(stripped))
    keyed = [str(f) for f in verify_published(folder, keys=KEYS).findings]
    assert any("no MAC although a key was given" in f for f in keyed)


def test_a_report_that_is_not_utf8_is_a_finding_that_shows_none_of_it(bundle: Path) -> None:
    """A damaged statement (bytes that are not UTF-8) is a finding, never an exception whose
    text carries the report's content (the person's data) into a notebook's traceback."""
    page = bundle / "report.md"
    page.write_bytes(b"\xff\xfe" + page.read_bytes())
    _rehash(bundle)
    result = verify_bundle(bundle, keys=KEYS)
    assert not result.ok
    assert "not UTF-8" in _said(result)
    assert "ann@example.com" not in _said(result)
