"""`verify` catches a tampered or leaking bundle; each tamper is caught by the check meant for it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dsar import load_catalog
from dsar.access.answer import answer_access_requests
from dsar.cli import app
from dsar.errors import WorkbenchError
from dsar.review.bundle import verify_bundle
from dsar.subjects.identity import SubjectRequest, parse_key


@pytest.fixture(scope="module")
def clean_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.access_fixture import write_access_fixture

    root = tmp_path_factory.mktemp("verify")
    catalog = load_catalog(write_access_fixture(root / "traps"))
    request = SubjectRequest("AR-V", (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(catalog, [request], root / "out")
    return bundle.path


def _rehash(bundle: Path, rel: str) -> None:
    """Update the manifest as a careless tool would, so the deeper checks must catch it."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == rel:
            data = (bundle / rel).read_bytes()
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            entry["bytes"] = len(data)
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def _edit_table(bundle: Path, table: str, edit: Callable[[list[dict[str, object]]], None]) -> None:
    path = bundle / "data" / f"{table}.parquet"
    original = pq.read_table(path)
    rows = original.to_pylist()
    edit(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=original.schema), path)
    _rehash(bundle, f"data/{table}.parquet")


def _set(table: str, column: str, value: object, row: int = 0) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        _edit_table(bundle, table, lambda rows: rows[row].__setitem__(column, value))

    return tamper


def _append_file(bundle: Path) -> None:
    (bundle / "data" / "extra.csv").write_text("x\n1\n")


def _change_bytes(bundle: Path) -> None:
    path = bundle / "data" / "prefs.json"
    path.write_text(path.read_text().replace("true", "false"))


def _drop_section(bundle: Path) -> None:
    path = bundle / "report.md"
    path.write_text(path.read_text().replace("## logins:", "## sign-ins:"))
    _rehash(bundle, "report.md")


def _add_stranger_row(bundle: Path) -> None:
    _edit_table(
        bundle,
        "logins",
        lambda rows: rows.append(
            {"ts": "2026-11-01 10:05:00", "ip": "10.0.0.1", "device_id": "d_bob", "user_id": "u3"}
        ),
    )


def _drop_row_from_json_only(bundle: Path) -> None:
    path = bundle / "data" / "logins.json"
    rows = json.loads(path.read_text())
    path.write_text(json.dumps(rows[:-1]))
    _rehash(bundle, "data/logins.json")


TAMPERS: list[tuple[str, Callable[[Path], None], str]] = [
    ("edited file", _change_bytes, r"\[checksum\] data/prefs.json: SHA-256 differs"),
    ("unlisted file", _append_file, r"\[checksum\] data/extra.csv: file not listed"),
    (
        "token in clear",
        _set("integrations", "access_token", "xoxb-1111-2222-abcdefghij"),
        r"\[secrets\] data/integrations.parquet access_token row 1: a secret column holds a value",
    ),
    (
        "key pasted in text",
        _set("tickets", "body", "my key is sk_live_abcdefgh1234"),
        r"\[secrets\] data/tickets.parquet body row 1: looks like a Stripe-style live key",
    ),
    (
        "another person's email",
        _set("tickets", "body", "ask bob@example.com"),
        r"\[other people\] data/tickets.parquet body row 1: an email address that is not",
    ),
    (
        "another person's phone",
        _set("tickets", "body", "call +44 7700 900003"),
        r"\[other people\] data/tickets.parquet body row 1: a phone number that is not",
    ),
    (
        "someone else's row",
        _add_stranger_row,
        r"\[linkage\] data/logins.parquet row 5: no identity column holds",
    ),
    (
        "JSON and Parquet disagree",
        _drop_row_from_json_only,
        r"\[rows\] data/logins.json: JSON row count differs",
    ),
    (
        "table missing from the report",
        _drop_section,
        r"\[report\] report.md: table 'logins' has data but no section",
    ),
]


def test_clean_bundle_passes(clean_bundle: Path) -> None:
    result = verify_bundle(clean_bundle)
    assert result.ok, result.findings
    assert result.checked_rows == 9


@pytest.mark.parametrize(
    ("tamper", "finding"), [t[1:] for t in TAMPERS], ids=[t[0] for t in TAMPERS]
)
def test_tampering_is_found(
    clean_bundle: Path, tmp_path: Path, tamper: Callable[[Path], None], finding: str
) -> None:
    bundle = tmp_path / clean_bundle.name
    shutil.copytree(clean_bundle, bundle)
    tamper(bundle)
    result = verify_bundle(bundle)
    assert not result.ok
    assert any(re.search(finding, str(f)) for f in result.findings), [
        str(f) for f in result.findings
    ]
    # findings never quote the values they found
    assert not any("bob@example.com" in str(f) or "sk_live" in str(f) for f in result.findings)


def test_verify_command(clean_bundle: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(clean_bundle)])
    assert ok.exit_code == 0, ok.output
    assert "OK (20 files, 9 rows checked)" in ok.output
    bundle = tmp_path / clean_bundle.name
    shutil.copytree(clean_bundle, bundle)
    _append_file(bundle)
    bad = runner.invoke(app, ["verify", str(bundle)])
    assert bad.exit_code == 1
    assert "[checksum] data/extra.csv: file not listed in the manifest" in bad.output


def test_verify_refuses_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code != 0


def _zip(folder: Path, target: Path, passphrase: str | None = None, extra: str = "") -> Path:
    import pyzipper

    with pyzipper.AESZipFile(
        target, "w", encryption=pyzipper.WZ_AES if passphrase else None
    ) as archive:
        if passphrase:
            archive.setpassword(passphrase.encode())
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
        if extra:
            archive.writestr(extra, "x")
    return target


def test_the_zip_that_leaves_is_verified_as_it_is(clean_bundle: Path, tmp_path: Path) -> None:
    # the zip the bundle writer made
    made = clean_bundle.with_suffix(".zip")
    assert verify_bundle(made).ok
    # a zip of a tampered copy is caught like the folder
    bundle = tmp_path / clean_bundle.name
    shutil.copytree(clean_bundle, bundle)
    _append_file(bundle)
    result = verify_bundle(_zip(bundle, tmp_path / "tampered.zip"))
    assert [str(f) for f in result.findings] == [
        "[checksum] data/extra.csv: file not listed in the manifest"
    ]
    assert result.bundle == tmp_path / "tampered.zip"


def test_an_encrypted_zip_needs_its_passphrase(
    clean_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = _zip(clean_bundle, tmp_path / "locked.zip", passphrase="correct horse")
    with pytest.raises(WorkbenchError, match=r"is encrypted: give its passphrase"):
        verify_bundle(locked)
    with pytest.raises(WorkbenchError, match=r"the passphrase does not open it"):
        verify_bundle(locked, "wrong")
    assert verify_bundle(locked, "correct horse").ok
    monkeypatch.setenv("BUNDLE_PASS", "correct horse")
    ok = CliRunner().invoke(app, ["verify", str(locked), "--passphrase-env", "BUNDLE_PASS"])
    assert ok.exit_code == 0, ok.output
    assert "OK (20 files, 9 rows checked)" in ok.output


@pytest.mark.parametrize("extra", ["../escape.txt", "other/manifest.json", "loose.txt"])
def test_a_zip_with_anything_outside_its_one_folder_is_refused(
    clean_bundle: Path, tmp_path: Path, extra: str
) -> None:
    odd = _zip(clean_bundle, tmp_path / "odd.zip", extra=extra)
    with pytest.raises(WorkbenchError, match=r"not a bundle zip"):
        verify_bundle(odd)
    assert not (tmp_path / "escape.txt").exists()
