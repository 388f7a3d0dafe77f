"""Hostile input: nothing written outside the folder given, nothing but the workbench's errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from typer.testing import CliRunner

from dsar.cli import app
from dsar.errors import UnsafeNameError
from dsar.io import output_path, plain_name
from dsar.keys import Keys

runner = CliRunner()

HOSTILE = [
    "../escaped",
    "../../x",
    "/tmp/absolute",
    "a/b",
    "a\\b",
    "C:\\x",
    "a\x00b",
    "x" * 101,
    ".hidden",
    "-flag",
    "a..b",
    "..",
    ".",
    "",
    "new\nline",
    "tab\tname",
    "spa ce",
    "ünïcode",
    "AR\u2215slash",  # division slash, looks like '/'
    "AR\u200bhidden",  # zero-width space
]


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_a_hostile_name_is_refused(text: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafeNameError, match=r"cannot name a file: use letters, digits"):
        output_path(tmp_path, text, "request label")


@pytest.mark.parametrize("text", ["AR-20261129-4f2a9c", "R-2026-0001", "a", "x" * 100, "v1.2_b"])
def test_a_plain_name_is_kept(text: str) -> None:
    assert plain_name(text) == text


@given(st.text(max_size=120))
def test_any_text_is_a_plain_name_inside_the_folder_or_refused(text: str) -> None:
    folder = Path("/srv/out")
    try:
        path = output_path(folder, text)
    except UnsafeNameError:
        return
    assert path.parent == folder and path.name == text and not text.startswith(".")


@pytest.mark.parametrize("label", ["../escaped", "../../x", "/tmp/abs-bundle", "a/b"])
def test_access_refuses_a_label_that_leaves_out(
    trap_catalog: Path, tmp_path: Path, label: str
) -> None:
    out = tmp_path / "deep" / "out"
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--out",
            str(out),
            "--email",
            "ann@example.com",
            "--label",
            label,
        ],
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, UnsafeNameError)
    assert label not in str(result.exception)  # the text given is never quoted back
    assert not (tmp_path / "deep").exists()  # refused before anything was written
    assert not Path("/tmp/abs-bundle").exists()


def test_a_batch_request_id_cannot_leave_out(trap_catalog: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text("request_id,email\nAR-1,ann@example.com\n../../x,bob@example.com\n")
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--out",
            str(tmp_path / "out"),
            "--batch",
            str(batch),
        ],
    )
    assert result.exit_code == 1
    assert "request_id on line 3 of batch.csv" in str(result.exception)
    assert not (tmp_path / "out").exists()


def test_a_formula_in_the_data_is_shown_not_run_in_the_portable_csv(
    trap_catalog: Path, tmp_path: Path
) -> None:
    import csv

    from dsar import answer_access_requests, load_catalog, parse_key, verify_bundle
    from dsar.subjects.identity import SubjectRequest

    accounts = trap_catalog.parent / "accounts.csv"
    hostile = '"=HYPERLINK(""http://evil.example"",""click"")"'
    accounts.write_text(accounts.read_text().replace("Ann Lee", hostile))
    catalog = load_catalog(trap_catalog)
    request = SubjectRequest("AR-F", (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(catalog, [request], tmp_path / "out")
    with (bundle.path / "portability" / "accounts.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["full_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert verify_bundle(bundle.path).ok  # and the JSON keeps the value as it is
    assert '"=HYPERLINK' in (bundle.path / "portability" / "accounts.json").read_text()


def test_a_denied_access_request_is_not_answered(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import register_request

    monkeypatch.setenv("WORKBENCH_KEY", "k" * 40)
    db = tmp_path / "requests.db"
    register_request(db, "access", "gdpr", "2026-11-20", "ann@example.com")
    denied = runner.invoke(
        app, ["requests", "update", "R-2026-0001", "--register", str(db), "--deny", "no_match"]
    )
    assert denied.exit_code == 0, denied.output
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--out",
            str(tmp_path / "out"),
            "--request",
            "R-2026-0001",
            "--register",
            str(db),
        ],
    )
    assert result.exit_code == 2
    assert "is denied (no_match)" in result.output
    assert not (tmp_path / "out").exists()


def test_a_table_name_that_is_not_plain_is_a_catalog_error(trap_catalog: Path) -> None:
    from dsar import CatalogError, load_catalog

    text = trap_catalog.read_text()
    trap_catalog.write_text(text.replace("  accounts:\n", "  ../../../escape:\n", 1))
    with pytest.raises(CatalogError) as info:
        load_catalog(trap_catalog)
    assert any(
        "a table name becomes a file name in bundles and extracts: it must be plain" in str(p)
        for p in info.value.problems
    )


def test_many_small_entries_that_add_up_to_a_bomb_are_refused(tmp_path: Path) -> None:
    import zipfile

    from dsar import WorkbenchError, verify_bundle

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(30):  # each entry under the per-entry floor, 30 MB in all
            archive.writestr(f"AR-1/data/part{i}.json", b"0" * 1_000_000)
    with pytest.raises(WorkbenchError, match=r"more than 200:1, like a zip bomb; not unpacked"):
        verify_bundle(bomb)


def test_a_damaged_bundle_is_findings_not_a_crash(trap_catalog: Path, tmp_path: Path) -> None:
    from dsar import answer_access_requests, load_catalog, parse_key, verify_bundle
    from dsar.subjects.identity import SubjectRequest

    request = SubjectRequest("AR-D", (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(load_catalog(trap_catalog), [request], tmp_path / "out")
    (bundle.path / "data" / "accounts.parquet").write_bytes(b"not parquet")
    (bundle.path / "data" / "accounts.json").write_bytes(b"\xff\xfe")
    (bundle.path / "portability" / "accounts.csv").write_bytes(b"\xff\xfe,x")
    findings = [str(f) for f in verify_bundle(bundle.path).findings]
    assert "[rows] data/accounts.parquet: not a readable Parquet file" in findings
    assert "[formula] portability/accounts.csv: not a readable UTF-8 CSV file" in findings


def test_an_emptied_audit_log_without_its_head_is_found(tmp_path: Path) -> None:
    from dsar import AuditLog

    log = AuditLog(tmp_path / "audit.jsonl", Keys(b"k" * 40))
    log.append("request.added", request="R-1")
    log.path.write_text("")
    log.head_path.unlink()
    assert [str(p) for p in log.verify()] == [f"line 0: the head file {log.head_path} is missing"]
