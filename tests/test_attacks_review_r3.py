"""Red team on `dsar verify` and the sign-off, round 3 (issue 25): the verify side, attacked again.

F3. A current certificate with its MAC removed and `format_version: 1` passed with the key as
    an old format (a notice), so recipients emptied and counts edited were signed off.
F4. The approved zip carried bytes verify never read: a zip comment, an entry comment, an
    extra field, bytes before the first entry, a directory entry named like an address, a
    duplicate entry whose first copy (the one `unzip -n` keeps) is another person's file.
F7. A device node, a FIFO, a socket or an empty folder in an artifact folder passed verify;
    the sign-off copied /dev/zero without limit and left its copy behind on a timeout.
F10. Without the key, a bundle whose MAC was stripped passed "OK" with exit 0 (audiences: 3).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dsar import load_catalog
from dsar.access.answer import answer_access_requests
from dsar.cli import app
from dsar.errors import UnreadableArtifactError
from dsar.keys import Keys
from dsar.review.bundle import verify_bundle
from dsar.review.certificate import verify_certificate
from dsar.review.signoff import verify_artifact
from dsar.review.snapshot import copy_artifact, odd_entries, stated_bytes
from dsar.review.unzip import MAX_UNPACKED_BYTES, layout_problems, unzip_bundle
from dsar.subjects.identity import SubjectRequest, parse_key

KEY = "q" * 40
KEYS = Keys(KEY.encode())
ADDRESS = b"other.person@example.org"


def _verify(*args: str | Path, key: str | None = KEY) -> tuple[int, str]:
    ran = CliRunner().invoke(app, ["verify", *map(str, args)], env={"WORKBENCH_KEY": key or ""})
    return ran.exit_code, ran.output


@pytest.fixture(scope="module")
def made(demo_export: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A bundle made with the key (folder and zip), and an erasure certificate, made once."""
    root = tmp_path_factory.mktemp("review-r3")
    shutil.copytree(demo_export.parent, root / "demo")
    catalog_path = root / "demo" / "catalog.yml"
    demo = json.loads((root / "demo" / "demo.json").read_text())
    catalog = load_catalog(catalog_path)
    person = SubjectRequest("AR-R3", (parse_key(f"email={demo['subject']['email']}"),))
    [bundle] = answer_access_requests(catalog, [person], root / "out", keys=KEYS)
    assert bundle.zip_path is not None
    args = ["--catalog", str(catalog_path), "--email", demo["subject"]["email"]]
    ran = CliRunner().invoke(
        app,
        ["erase", "apply", *args, "--out", str(root / "certs"), "--register", str(root / "r.db")],
        env={"WORKBENCH_KEY": KEY},
    )
    assert ran.exit_code == 0, ran.output
    (cert,) = (root / "certs").glob("*-erasure-certificate.json")
    return {"bundle": bundle.path, "zip": bundle.zip_path, "cert": cert, "catalog": catalog_path}


@pytest.fixture
def bundle(made: dict[str, Any], tmp_path: Path) -> Path:
    copy: Path = tmp_path / Path(made["bundle"]).name
    shutil.copytree(made["bundle"], copy)
    return copy


# ---- F3: a certificate without its MAC, its version set back ----------------------------


def _forged(cert: Path, tmp_path: Path, untyped: bool = False) -> Path:
    """The red team's forgery: MAC dropped, format 1, recipients emptied, counts edited."""
    body = json.loads(cert.read_text())
    del body["mac"]
    body["format_version"] = 1
    body["recipients_to_notify"] = []
    if untyped:
        for field in ("kind", "format_version", "created_at", "inputs", "outputs", "parameters"):
            body.pop(field, None)
        body = {"format": "privacy-workbench/erasure-certificate", **body}
    target = tmp_path / "certs" / cert.name
    shutil.copytree(cert.parent, target.parent)
    target.write_text(json.dumps(body, indent=2))
    return target


@pytest.mark.parametrize("untyped", [False, True])
def test_a_certificate_without_its_mac_is_a_finding_with_the_key(
    made: dict[str, Any], tmp_path: Path, untyped: bool
) -> None:
    forged = _forged(made["cert"], tmp_path, untyped)
    result = verify_certificate(forged, keys=KEYS)
    assert not result.ok
    assert any("no MAC although a key was given" in str(f) for f in result.findings)
    assert any("--accept-unsigned" in str(f) for f in result.findings)
    assert not verify_artifact(forged, keys=KEYS).ok  # what the sign-off runs on its copy
    code, out = _verify(forged, "--sign-off", "Ann Lee", "--role", "reviewer")
    assert code == 1 and "no sign-off recorded" in out, out
    # accepted as old on purpose: read, but NOT AUTHENTICATED (exit 3), never signed off
    accepted = verify_certificate(forged, keys=KEYS, accept_unsigned=True)
    assert accepted.ok and accepted.unauthenticated
    code, out = _verify(forged, "--accept-unsigned", "--sign-off", "Ann Lee", "--role", "reviewer")
    assert code == 3 and "OK, NOT AUTHENTICATED" in out, out
    assert "no sign-off recorded" in out
    code, out = _verify(forged.parent, "--accept-unsigned")  # the folder of certificates too
    assert code == 3 and "OK, NOT AUTHENTICATED" in out, out


def test_a_current_certificate_still_verifies_with_the_key(made: dict[str, Any]) -> None:
    result = verify_certificate(made["cert"], keys=KEYS)
    assert result.ok and not result.unauthenticated, result.findings
    code, out = _verify(made["cert"], "--export", made["catalog"].parent)
    assert code == 0 and ": OK (" in out, out


# ---- F4: the zip carries exactly the bundle's files, laid out as the writer lays them ----


def _rewrite(source: Path, target: Path, mode: str) -> Path:
    """The bundle's zip written again with one thing hidden in it (t_zip.py's six, and a
    suffix after the end record)."""
    other = b"user_id,email\nu9999999," + ADDRESS + b"\n"
    warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # the point of "dup"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        infos = zin.infolist()
        for i, info in enumerate(infos):
            data = zin.read(info)
            if mode == "dup" and info.filename.endswith("data/accounts.csv"):
                first = zipfile.ZipInfo(info.filename, info.date_time)
                first.external_attr = info.external_attr
                out.writestr(first, other)
            if mode == "entrycomment" and i == 0:
                info.comment = ADDRESS
            if mode == "link" and i == 0:  # a symbolic link's mode on a file's entry
                info.external_attr = 0o120777 << 16
            if mode == "extra" and i == 0:
                info.extra = struct.pack("<HH", 0xCAFE, len(ADDRESS)) + ADDRESS
            out.writestr(info, data)
        if mode == "dirent":
            top = infos[0].filename.split("/")[0]
            out.writestr(zipfile.ZipInfo(f"{top}/{ADDRESS.decode()}/"), b"")
        if mode == "comment":
            out.comment = ADDRESS
    if mode in ("prefix", "suffix"):
        data = target.read_bytes()
        target.write_bytes(ADDRESS + data if mode == "prefix" else data + ADDRESS)
    return target


def test_the_zip_the_writer_made_is_laid_out_as_it_writes(made: dict[str, Any]) -> None:
    assert layout_problems(made["zip"]) == []
    result = verify_bundle(made["zip"], keys=KEYS)
    assert result.ok and not result.unauthenticated, result.findings


def test_an_encrypted_zip_of_the_writer_is_laid_out_as_it_writes(bundle: Path) -> None:
    from dsar.access.bundle import _zip

    made = _zip(bundle, bundle.with_name("locked.zip"), "correct horse", bundle.name)
    assert layout_problems(made) == []
    assert verify_bundle(made, "correct horse", keys=KEYS).ok


def test_a_zip_tool_s_folder_entries_for_the_files_folders_pass(
    made: dict[str, Any], tmp_path: Path
) -> None:
    """`zip -r` and shutil.make_archive write an entry per folder: one a file lies in is no
    hiding place; an empty one (named like an address) is."""
    folder = made["bundle"]
    made_by_tool = shutil.make_archive(str(tmp_path / "R"), "zip", folder.parent, folder.name)
    assert layout_problems(Path(made_by_tool)) == []


@pytest.mark.parametrize(
    "mode", ["comment", "entrycomment", "extra", "prefix", "suffix", "dup", "dirent", "link"]
)
def test_a_zip_with_bytes_verify_does_not_read_is_a_finding(
    made: dict[str, Any], tmp_path: Path, mode: str
) -> None:
    hidden = _rewrite(made["zip"], tmp_path / "R.zip", mode)
    result = verify_bundle(hidden, keys=KEYS)
    assert not result.ok
    assert all(f.check == "zip" for f in result.findings), result.findings
    shown = " ".join(str(f) for f in result.findings)
    assert "other.person" not in shown and "accounts" not in shown  # positions, never names
    code, out = _verify(hidden)
    assert code == 1 and "other.person" not in out
    # the sign-off's check of the zip beside a folder unpacks it with unzip_bundle: refused
    with pytest.raises(UnreadableArtifactError, match="not laid out as the workbench writes"):
        unzip_bundle(hidden, tmp_path / "unzipped", None, MAX_UNPACKED_BYTES)
    assert not (tmp_path / "unzipped").exists() or not any((tmp_path / "unzipped").iterdir())


# ---- F7: only regular files, in folders that hold some --------------------------------


def _plant(bundle: Path, what: str) -> None:
    data = bundle / "data"
    if what == "fifo":
        os.mkfifo(data / "extra.csv")
    elif what == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(data / "s.sock"))
    elif what == "empty folder":
        (data / ADDRESS.decode()).mkdir()
    elif what == "device":
        try:
            os.mknod(data / "zero.parquet", 0o600 | 0o020000, os.makedev(1, 5))
        except PermissionError:
            pytest.skip("making a device node needs root")


@pytest.mark.parametrize("what", ["fifo", "socket", "empty folder", "device"])
def test_a_device_fifo_socket_or_empty_folder_is_a_finding(bundle: Path, what: str) -> None:
    _plant(bundle, what)
    result = verify_bundle(bundle, keys=KEYS)
    found = [str(f) for f in result.findings if f.check == "files"]
    assert found == [
        "[files] odd entry 1 of 1 (in data/): not a regular file: a device, FIFO, socket,"
        " link or a folder with no file (the workbench writes none); make the artifact again"
    ]
    code, out = _verify(bundle)
    assert code == 1 and "odd entry 1 of 1" in out and "other.person" not in out


@pytest.mark.parametrize("what", ["fifo", "socket", "device"])
def test_the_copy_refuses_what_is_not_a_regular_file_before_reading_it(
    bundle: Path, tmp_path: Path, what: str
) -> None:
    _plant(bundle, what)
    with pytest.raises(UnreadableArtifactError, match="a device, FIFO or socket"):
        copy_artifact(bundle, tmp_path / "copy", stated_bytes(bundle))


def test_the_copy_stops_at_the_bytes_the_manifest_states(bundle: Path, tmp_path: Path) -> None:
    stated = stated_bytes(bundle)
    assert stated == sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    copy_artifact(bundle, tmp_path / "whole", stated)  # the bundle as made: copied whole
    (bundle / "data" / "big.bin").write_bytes(bytes(1 << 20))  # unlisted, past the cap
    with pytest.raises(UnreadableArtifactError, match="more bytes than its manifest states"):
        copy_artifact(bundle, tmp_path / "copy", stated)
    assert odd_entries(bundle) == []  # a regular file: the unlisted-file check reports it


def test_a_terminated_verify_removes_its_temporary_folders() -> None:
    """SIGTERM (what `timeout` sends) unwinds through every `finally`: a sign-off's private
    copy in a TemporaryDirectory is removed."""
    from dsar.cli.subject import _stop_on_signals

    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        _stop_on_signals()
        made = tempfile.TemporaryDirectory(prefix="signoff-")
        left = Path(made.name)
        with pytest.raises(SystemExit) as stopped, made:
            os.kill(os.getpid(), signal.SIGTERM)
        assert stopped.value.code == 128 + signal.SIGTERM
        assert not left.exists()
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


# ---- F10: without the key, NOT AUTHENTICATED and exit 3, for every kind ----------------


def test_without_the_key_every_kind_exits_3(made: dict[str, Any], bundle: Path) -> None:
    manifest = bundle / "manifest.json"
    body = json.loads(manifest.read_text())
    del body["mac"]  # stripped: without the key nothing tells
    manifest.write_text(json.dumps(body, indent=2))
    for artifact in (bundle, made["zip"], made["cert"]):
        code, out = _verify(artifact, key=None)
        assert code == 3 and "OK, NOT AUTHENTICATED" in out, (artifact, out)
    code, out = _verify(bundle)  # with the key: the stripped MAC is a finding
    assert code == 1 and "no MAC although a key was given" in out
    code, out = _verify(made["zip"])
    assert code == 0 and ": OK (" in out, out


# ---- F9: what was typed is not echoed; a signer named by an address is refused ----------

TYPED = "jane.colleague@example.org"


def test_a_decisions_file_s_errors_do_not_echo_what_was_typed(tmp_path: Path) -> None:
    from dsar.errors import ConfigError
    from dsar.review.signoff import load_decisions

    path = tmp_path / "decisions.yml"
    path.write_text(
        f"items:\n  {TYPED}:\n    decision: {TYPED}\n    consent: not_asked\n"
        f"    {TYPED}: 1\n    duty_of_confidence: true\n    reasonable_without_consent: false\n"
        "    reason: a colleague named in passing\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_decisions(path)
    shown = str(raised.value)
    assert "jane" not in shown and "example.org" not in shown, shown
    assert "items.<an item>.decision (line 3)" in shown and "disclose, redact, withhold" in shown


def test_an_unknown_item_id_is_counted_not_echoed(bundle: Path) -> None:
    from dsar.errors import SignOffRefusedError
    from dsar.review.signoff import ThirdPartyDecision, _check_decisions

    decision = ThirdPartyDecision(
        decision="redact",
        consent="not_asked",
        duty_of_confidence=True,
        reasonable_without_consent=False,
        reason="a colleague named in passing",
    )
    with pytest.raises(SignOffRefusedError) as raised:
        _check_decisions(bundle, {TYPED: decision}, {"PERSON_1"})
    assert TYPED not in str(raised.value) and "item 1 of 1 in the file" in str(raised.value)


def test_a_request_or_a_signer_that_is_an_address_is_refused_unechoed(
    bundle: Path, tmp_path: Path
) -> None:
    from dsar.errors import UsageError
    from dsar.records.register import Register
    from dsar.review.signoff import sign_off

    db = tmp_path / "requests.db"
    args = ("--sign-off", "Ann Lee", "--role", "reviewer", "--register", db)
    for typed in (TYPED, "+31 6 12345678"):
        code, out = _verify(bundle, *args, "--request", typed)
        assert code == 2 and typed not in out and "--request holds an email" in out, out
    register = Register(db, KEYS)
    try:
        for typed in (TYPED, "0612345678", f"Jane <{TYPED}>"):
            with pytest.raises(UsageError) as raised:
                sign_off(bundle, typed, "reviewer", register=register)
            assert typed not in str(raised.value) and "jane" not in str(raised.value)
    finally:
        register.close()
    audit = db.with_name(db.name + ".audit.jsonl")
    assert not audit.exists() or "jane" not in audit.read_text()


def test_an_unsealed_audience_is_not_authenticated_even_with_the_key(
    demo_export: Path, tmp_path: Path
) -> None:
    """An audience without a MAC or a sent record (built from Python without a record, or
    its MAC and record stripped) has nothing the key can check: exit 3, never signed off."""
    from anonymize.audience import build_audience
    from dsar import open_engine
    from dsar.errors import SignOffRefusedError
    from dsar.records.register import Register
    from dsar.review.audience import verify_audience
    from dsar.review.signoff import sign_off

    spec = Path(__file__).parents[1] / "examples" / "audience_marketing.yml"
    with open_engine(load_catalog(demo_export)) as engine:
        build_audience(spec, engine, ["meta"], tmp_path / "audiences")
    result = verify_audience(tmp_path / "audiences", keys=KEYS)
    assert result.ok and result.unauthenticated, result.findings
    code, out = _verify(tmp_path / "audiences")
    assert code == 3 and "OK, NOT AUTHENTICATED" in out, out
    register = Register(tmp_path / "requests.db", KEYS)
    try:
        with pytest.raises(SignOffRefusedError, match="it is not authenticated: a manifest"):
            sign_off(tmp_path / "audiences", "Ann Lee", "reviewer", register=register)
    finally:
        register.close()
