"""A certificate is a typed manifest that a reviewer checks without the code that wrote it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dsar import load_catalog, open_engine, parse_key
from dsar.cli import app
from dsar.keys import Keys
from dsar.review import CertificateManifest, read_manifest, verify_certificate
from dsar.rights import apply_plan, plan_erasure
from dsar.subjects.identity import SubjectRequest

KEYS = Keys(b"c" * 40)


def _certificate(trap_catalog: Path, out: Path) -> Path:
    catalog = load_catalog(trap_catalog)
    request = SubjectRequest("ER-1", (parse_key("email=ann@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS)
        result = apply_plan(plan, catalog, engine, out=out, keys=KEYS, dry_run=False)
    assert result.certificate is not None
    return result.certificate


def test_a_certificate_reads_as_its_model_and_verifies(trap_catalog: Path, tmp_path: Path) -> None:
    path = _certificate(trap_catalog, tmp_path / "certs")
    cert = read_manifest(path, CertificateManifest)
    assert cert.kind.value == "erasure_certificate" and cert.request == "ER-1"
    assert [o.path for o in cert.outputs] == ["ER-1-erasure-certificate.md"]
    assert cert.erased and cert.files_replaced
    result = verify_certificate(path, trap_catalog.parent)
    assert result.ok, result.findings
    assert result.checked_files == 1
    ran = CliRunner().invoke(app, ["verify", str(path), "--export", str(trap_catalog.parent)])
    assert ran.exit_code == 3 and ": OK, NOT AUTHENTICATED (1 files" in ran.output  # no key


def test_an_edited_certificate_or_twin_is_found(trap_catalog: Path, tmp_path: Path) -> None:
    path = _certificate(trap_catalog, tmp_path / "certs")
    twin = path.with_suffix(".md")
    twin.write_text(twin.read_text().replace("deleted", "kept"))
    found = [str(f) for f in verify_certificate(path).findings]
    assert found == [
        "[checksum] ER-1-erasure-certificate.md: changed since the certificate was written"
    ]
    body = json.loads(path.read_text())
    body["files_replaced"][0]["rows_after"] = body["files_replaced"][0]["rows_before"] + 1
    body["surprise"] = 1
    path.write_text(json.dumps(body))
    found = [str(f) for f in verify_certificate(path).findings]
    assert any("surprise" in f for f in found)


def test_a_certificate_whose_change_was_undone_is_found(trap_catalog: Path, tmp_path: Path) -> None:
    path = _certificate(trap_catalog, tmp_path / "certs")
    for backup in trap_catalog.parent.glob("*.before-ER-1"):  # the originals put back
        backup.replace(backup.with_name(backup.name.removesuffix(".before-ER-1")))
    found = verify_certificate(path, trap_catalog.parent).findings
    assert found and all(f.check == "export" for f in found)
