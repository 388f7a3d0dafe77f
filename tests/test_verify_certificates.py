"""`dsar verify` on certificates: an erasure on the demo export through the CLI verifies;
a changed byte, an added row, an edited count, a removed MAC, a wrong key, the person put back
each fail with a located finding and no personal value."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dsar import load_catalog, open_engine
from dsar.catalog.models import IdentityKind
from dsar.cli import app

KEY = "k" * 40
OTHER_KEY = "o" * 40


@pytest.fixture(scope="module")
def _erased_once(demo_export: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One `dsar erase apply` on a copy of the demo export, through the CLI: (a folder with
    the export in `demo` and the certificate in `certs`, the erased email)."""
    base = tmp_path_factory.mktemp("erased")
    shutil.copytree(demo_export.parent, base / "demo")
    email = _an_email(base / "demo" / "catalog.yml")
    args = ["--catalog", str(base / "demo" / "catalog.yml"), "--email", email]
    args += ["--out", str(base / "certs"), "--register", str(base / "requests.db")]
    ran = CliRunner().invoke(app, ["erase", "apply", *args], env={"WORKBENCH_KEY": KEY})
    assert ran.exit_code == 0, ran.output
    return base, email


@pytest.fixture
def erased(_erased_once: tuple[Path, str], tmp_path: Path) -> tuple[Path, Path, str]:
    """(catalog, certificate, the erased email) in a private copy of the erased export."""
    base = tmp_path / "erased"
    shutil.copytree(_erased_once[0], base)
    (cert,) = (base / "certs").glob("*-erasure-certificate.json")
    return base / "demo" / "catalog.yml", cert, _erased_once[1]


def _an_email(catalog_path: Path) -> str:
    catalog = load_catalog(catalog_path)
    table, column = next(
        (name, col)
        for name, t in catalog.tables.items()
        for col, kind in t.identity_columns().items()
        if kind is IdentityKind.EMAIL
    )
    with open_engine(catalog) as engine:
        rows = engine.query(f'SELECT "{column}" AS v FROM "{table}" WHERE "{column}" IS NOT NULL')
    return str(rows.column("v")[0].as_py())


def _verify(*args: str, key: str | None = KEY) -> tuple[int, str]:
    env = {"WORKBENCH_KEY": key} if key else {"WORKBENCH_KEY": ""}
    ran = CliRunner().invoke(app, ["verify", *args], env=env)
    return ran.exit_code, ran.output


def _first_file(catalog_path: Path, cert: Path) -> tuple[dict[str, object], Path]:
    body = json.loads(cert.read_text())
    change = body["files_replaced"][0]
    catalog = load_catalog(catalog_path)
    (path,) = [p for p in catalog.files(change["table"]) if p.name == change["file"]]
    return change, path


def _clean(output: str, email: str) -> None:
    assert email not in output and email.split("@")[0] not in output


def test_a_clean_certificate_verifies_with_the_key_and_the_catalog(
    erased: tuple[Path, Path, str],
) -> None:
    catalog, cert, email = erased
    body = json.loads(cert.read_text())
    assert body["format_version"] == 2 and body["mac"] and body["plan"]["sha256"]
    for table, entry in body["accounting"].items():
        assert entry["rows_before"] == entry["rows_after"] + entry["rows_removed"], table
    assert all(f["sha256_before"] != f["sha256_after"] for f in body["files_replaced"])
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 0, out
    assert ": OK (1 files" in out and "notice" not in out
    code, out = _verify(str(cert.parent), "--catalog", str(catalog))  # the folder
    assert code == 0, out
    _clean(out, email)


def test_without_the_key_or_the_export_it_says_what_was_not_checked(
    erased: tuple[Path, Path, str],
) -> None:
    catalog, cert, _ = erased
    code, out = _verify(str(cert), key=None)
    assert code == 3 and ": OK, NOT AUTHENTICATED (" in out  # exit 3 for every kind
    assert "not authenticated (carries a MAC, but no key was given)" in out
    assert "the export was not checked: give its catalog (--catalog)" in out
    code, out = _verify(str(cert), "--export", str(catalog.parent))  # files, not identities
    assert code == 0, out
    assert "reference was not looked for in the files: give the export's" in out


def test_a_changed_byte_of_any_rewritten_file_is_found(erased: tuple[Path, Path, str]) -> None:
    """One byte flipped in each rewritten file (Parquet, CSV, JSON lines): each is named, and
    one damaged past reading is said to be, not a crash."""
    catalog, cert, email = erased
    body = json.loads(cert.read_text())
    files = load_catalog(catalog)
    for change in body["files_replaced"]:
        (path,) = [p for p in files.files(change["table"]) if p.name == change["file"]]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 1
        path.write_bytes(bytes(data))
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1
    for change in body["files_replaced"]:
        where = f"[export] {change['file']} (table {change['table']}): changed since the erasure"
        assert where in out
    assert "Traceback" not in out
    _clean(out, email)


def test_an_added_row_is_found_with_the_rows_now(erased: tuple[Path, Path, str]) -> None:
    catalog, cert, email = erased
    body = json.loads(cert.read_text())
    change = next(f for f in body["files_replaced"] if f["file"].endswith(".parquet"))
    (path,) = [p for p in load_catalog(catalog).files(change["table"]) if p.name == change["file"]]
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), path)
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1
    assert (
        f"{change['file']} (table {change['table']}): changed since the erasure;"
        f" {change['rows_after'] + 1} row(s) now, {change['rows_after']} after it"
    ) in out
    _clean(out, email)


def test_the_person_put_back_is_found_by_keyed_reference(
    erased: tuple[Path, Path, str], demo_export: Path
) -> None:
    """The original file restored (the erasure undone): changed, and the person is there."""
    catalog, cert, email = erased
    body = json.loads(cert.read_text())
    deleted = {e["table"] for e in body["erased"] if e["action"] == "delete"}
    change = next(f for f in body["files_replaced"] if f["table"] in deleted)
    (path,) = [p for p in load_catalog(catalog).files(change["table"]) if p.name == change["file"]]
    original = demo_export.parent / path.relative_to(catalog.parent)
    shutil.copyfile(original, path)
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1
    assert f"[identifier] {change['file']} (table {change['table']}), column " in out
    assert "the erased person's keyed reference is still there" in out
    _clean(out, email)
    code, out = _verify(str(cert), "--catalog", str(catalog), key=OTHER_KEY)
    assert "[identifier]" not in out  # under another key, no reference matches


@pytest.mark.parametrize("field", ["rows_removed", "rows_after"])
def test_an_edited_count_is_found_with_and_without_the_key(
    erased: tuple[Path, Path, str], field: str
) -> None:
    catalog, cert, _ = erased
    body = json.loads(cert.read_text())
    table = next(iter(body["accounting"]))
    body["accounting"][table][field] += 1
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1
    assert "[manifest] mac: its MAC fails under the key given" in out
    assert f"[accounting] accounting.{table}.{field}" in out or (
        f"[accounting] accounting.{table}.rows_removed: rows before" in out
    )
    code, out = _verify(str(cert), key=None)  # the accounting alone still finds it
    assert code == 1 and f"[accounting] accounting.{table}." in out


def test_a_planned_table_left_unaccounted_is_found(erased: tuple[Path, Path, str]) -> None:
    """A table dropped from the files and the accounting alike, its plan kept: found."""
    _, cert, _ = erased
    body = json.loads(cert.read_text())
    table = body["files_replaced"][0]["table"]
    body["files_replaced"] = [f for f in body["files_replaced"] if f["table"] != table]
    del body["accounting"][table]
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert), key=None)
    assert code == 1
    assert f"[accounting] plan.changes.{table}: the plan changes" in out


def test_an_edited_file_count_with_its_table_kept_consistent_needs_the_key(
    erased: tuple[Path, Path, str],
) -> None:
    """Counts edited everywhere alike add up: only the MAC finds them."""
    catalog, cert, _ = erased
    body = json.loads(cert.read_text())
    change = body["files_replaced"][0]
    change["rows_before"] += 5
    entry = body["accounting"][change["table"]]
    entry["rows_before"] += 5
    entry["rows_removed"] += 5
    body["plan"]["changes"][change["table"]] += 5
    cert.write_text(json.dumps(body, indent=2))
    assert _verify(str(cert), key=None)[0] == 3  # consistent: OK, NOT AUTHENTICATED
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1 and "[manifest] mac: its MAC fails" in out


def test_a_removed_mac_or_a_wrong_key_fails(erased: tuple[Path, Path, str]) -> None:
    catalog, cert, _ = erased
    code, out = _verify(str(cert), "--catalog", str(catalog), key=OTHER_KEY)
    assert code == 1 and "[manifest] mac: its MAC fails under the key given" in out
    body = json.loads(cert.read_text())
    del body["mac"]
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1 and "[manifest] mac: no MAC although a key was given" in out


def test_a_format_1_certificate_is_read_and_says_what_it_cannot_check(
    erased: tuple[Path, Path, str],
) -> None:
    catalog, cert, _ = erased
    body = json.loads(cert.read_text())
    for field in ("plan", "accounting", "mac"):
        del body[field]
    body["format_version"] = 1
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert), "--catalog", str(catalog))  # with the key: a finding
    assert code == 1 and "--accept-unsigned" in out, out
    code, out = _verify(str(cert), "--catalog", str(catalog), "--accept-unsigned")
    assert code == 3 and ": OK, NOT AUTHENTICATED (" in out, out
    assert "written by an older version (format 1): not checkable for its MAC" in out
    body["format_version"] = 2  # a format 2 certificate without its plan is not one
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert))
    assert code == 1 and "names its plan and its accounting" in out


def test_correction_and_retention_certificates_verify_and_account(
    trap_catalog: Path, demo_copy: Path, tmp_path: Path
) -> None:
    """Every job's certificate is format 2 and verifies clean with the key and the catalog;
    a correction that claims to remove a row is a finding."""
    from dsar.keys import Keys
    from dsar.review import verify_certificate
    from dsar.rights import apply_plan, plan_correction, plan_retention
    from dsar.subjects.identity import SubjectRequest, parse_key
    from tests.conftest import AS_OF

    keys = Keys(KEY.encode())
    certs = []
    catalog = load_catalog(trap_catalog)
    ann = SubjectRequest("CR-1", (parse_key("email=ann@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_correction(catalog, engine, ann, {"accounts.full_name": "Ann Smith"})
        certs.append(
            (apply_plan(plan, catalog, engine, out=tmp_path, keys=keys, dry_run=False), catalog)
        )
    demo = load_catalog(demo_copy)
    with open_engine(demo) as engine:
        sweep = plan_retention(demo, engine, today=AS_OF)
        certs.append(
            (apply_plan(sweep, demo, engine, out=tmp_path, keys=keys, dry_run=False), demo)
        )
    for applied, cat in certs:
        assert applied.certificate is not None
        result = verify_certificate(applied.certificate, keys=keys, catalog=cat)
        assert result.ok and not result.notices, (result.findings, result.notices)
        body = json.loads(applied.certificate.read_text())
        assert body["format_version"] == 2 and body["accounting"]
    correction = certs[0][0].certificate
    assert correction is not None
    body = json.loads(correction.read_text())
    table = next(iter(body["accounting"]))
    body["accounting"][table]["rows_after"] -= 1
    body["accounting"][table]["rows_removed"] += 1
    correction.write_text(json.dumps(body))
    found = {str(f) for f in verify_certificate(correction).findings}
    assert f"[accounting] accounting.{table}.rows_removed: a correction removes no row" in found


def test_a_rewritten_file_damaged_past_reading_is_a_finding_not_a_crash(
    erased: tuple[Path, Path, str],
) -> None:
    catalog, cert, email = erased
    body = json.loads(cert.read_text())
    files = load_catalog(catalog)
    for change in body["files_replaced"]:
        if change["file"].endswith(".parquet"):
            (path,) = [p for p in files.files(change["table"]) if p.name == change["file"]]
            path.write_bytes(path.read_bytes()[:40])
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1 and "Traceback" not in out
    damaged = [f for f in body["files_replaced"] if f["file"].endswith(".parquet")]
    assert damaged
    for change in damaged:
        where = f"[export] {change['file']} (table {change['table']}): changed since the erasure"
        assert where in out
    assert "notice: the export cannot be read (ExportReadError): rows not counted" in out
    _clean(out, email)


def test_an_untyped_certificate_of_an_older_version_is_still_read(
    erased: tuple[Path, Path, str],
) -> None:
    """Before the typed manifest a certificate had a `format` and no `kind`: read, its files
    checked, and a notice of what it cannot be checked for; in a folder too."""
    catalog, cert, _ = erased
    body = json.loads(cert.read_text())
    for field in ("kind", "format_version", "created_at", "inputs", "outputs", "parameters"):
        del body[field]
    for field in ("plan", "accounting", "mac"):
        del body[field]
    body = {"format": "privacy-workbench/erasure-certificate", **body}
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert.parent), "--catalog", str(catalog), "--accept-unsigned")
    assert code == 3, out
    assert "written by an older version (an untyped certificate, before format 1)" in out
    change, path = _first_file(catalog, cert)
    path.write_bytes(path.read_bytes() + b"\n")
    code, out = _verify(str(cert), "--catalog", str(catalog))
    assert code == 1 and f"{change['file']} (table {change['table']}): changed since" in out


def test_another_artifacts_manifest_is_refused_in_one_line(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"kind": "extract", "format_version": 1}))
    ran = CliRunner().invoke(app, ["verify", str(manifest)], env={"WORKBENCH_KEY": KEY})
    assert ran.exit_code != 0
    assert "a manifest of kind 'extract' is not a certificate" in str(ran.exception)


def test_a_file_name_with_folders_or_a_pattern_is_not_followed(
    erased: tuple[Path, Path, str],
) -> None:
    """The certificate is untrusted: a replaced file's name is a name, never a path or a glob."""
    catalog, cert, _ = erased
    original = cert.read_text()
    body = json.loads(original)
    body["files_replaced"][0]["file"] = "../*"
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert), "--export", str(catalog.parent))
    assert code == 1 and "[manifest] files_replaced.0.file" in out
    assert "must be a file's name, without folders" in out
    body = json.loads(original)
    real = body["files_replaced"][0]["file"]
    body["files_replaced"][0]["file"] = real[:-1] + "?"  # would match the real file as a glob
    cert.write_text(json.dumps(body, indent=2))
    code, out = _verify(str(cert), "--export", str(catalog.parent))
    assert code == 1 and f"{real[:-1]}? (table " in out and "not found in the export" in out
