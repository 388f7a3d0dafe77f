"""`verify` catches a tampered or leaking bundle; each tamper is caught by the check meant for it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dsar import load_catalog
from dsar.access.answer import answer_access_requests
from dsar.cli import app
from dsar.errors import ManifestError, UnreadableArtifactError, WorkbenchError
from dsar.review.bundle import verify_bundle
from dsar.review.manifest import (
    ArtifactKind,
    ArtifactManifest,
    BundleManifest,
    OutputFile,
    ToolInfo,
    read_manifest,
    write_manifest,
)
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
    for entry in manifest["outputs"]:
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


def _formula_in_csv(bundle: Path) -> None:
    path = bundle / "portability" / "accounts.csv"
    lines = path.read_text().splitlines()
    lines[1] = '"=HYPERLINK(""http://x"")",' + lines[1].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    _rehash(bundle, "portability/accounts.csv")


TAMPERS: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "formula in a CSV",
        _formula_in_csv,
        r"\[formula\] portability/accounts.csv line 2 column 1: a cell a spreadsheet would run",
    ),
    ("edited file", _change_bytes, r"\[checksum\] data/prefs.json: SHA-256 differs"),
    ("unlisted file", _append_file, r"\[checksum\] unlisted file 1 of 1 \(in data/\): a file not"),
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
        "card number in clear",
        _set("tickets", "body", "refund 4111 1111 1111 1111 please"),
        r"\[numbers\] data/tickets.parquet body row 1: a payment card number in clear",
    ),
    (
        "IBAN in a column that is not free text",
        _set("tickets", "assigned_to", "NL91ABNA0417164300"),
        r"\[numbers\] data/tickets.parquet assigned_to row 1: a bank account number \(IBAN\) in clear",
    ),
    (
        "government ID in free text",
        _set("tickets", "body", "my SSN is 536-22-8917"),
        r"\[numbers\] data/tickets.parquet body row 1: a government ID \(US_SSN\) in clear",
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


def _edit_manifest(edit: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        manifest = json.loads((bundle / "manifest.json").read_text())
        edit(manifest)
        (bundle / "manifest.json").write_text(json.dumps(manifest))

    return tamper


def _write_manifest_text(text: str) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        (bundle / "manifest.json").write_text(text)

    return tamper


def _first_kind_to(manifest: dict[str, Any], key: str) -> None:
    ids = manifest["subject"]["identifiers"]
    ids[key] = ids.pop(next(iter(ids)))


# A broken manifest is one finding per problem, at its JSON location, and no other check runs.
MANIFEST_TAMPERS: list[tuple[str, Callable[[Path], None], list[str]]] = [
    (
        "no tables",
        _edit_manifest(lambda m: m.pop("tables")),
        ["[manifest] manifest.json tables: Field required"],
    ),
    (
        "a table without rows",
        _edit_manifest(lambda m: m["tables"]["accounts"].pop("rows")),
        ["[manifest] manifest.json tables.accounts.rows: Field required"],
    ),
    (
        "an unknown key",
        _edit_manifest(lambda m: m.__setitem__("files", [])),
        ["[manifest] manifest.json files: Extra inputs are not permitted"],
    ),
    (
        "another kind of artifact",
        _edit_manifest(lambda m: m.__setitem__("kind", "erasure_certificate")),
        ["[manifest] manifest.json kind: Input should be 'access_bundle'"],
    ),
    (
        "a checksum that is not a string",
        _edit_manifest(lambda m: m["outputs"][0].__setitem__("sha256", 12345)),
        ["[manifest] manifest.json outputs.0.sha256: Input should be a valid string"],
    ),
    (
        "a row count as text",
        _edit_manifest(lambda m: m["tables"]["logins"].__setitem__("rows", "4")),
        ["[manifest] manifest.json tables.logins.rows: Input should be a valid integer"],
    ),
    (
        "a file outside the bundle",
        _edit_manifest(lambda m: m["outputs"][0].__setitem__("path", "../catalog.yml")),
        [
            "[manifest] manifest.json outputs.0.path: Value error, must be a relative POSIX"
            " path inside the artifact, without '..'"
        ],
    ),
    (
        "an identifier where its kind should be",  # the bad key is a value: not quoted
        _edit_manifest(lambda m: _first_kind_to(m, "bob@example.com")),
        [
            "[manifest] manifest.json subject.identifiers.[key]: Input should be 'email',"
            " 'user_id', 'customer_id', 'phone', 'device_id', 'cookie_id', 'oauth_subject',"
            " 'ip_address', 'username' or 'person_id'"
        ],
    ),
    (
        "not JSON",
        _write_manifest_text('{"kind": "access_bundle",'),
        ["[manifest] manifest.json: Invalid JSON: EOF while parsing a value at line 1 column 25"],
    ),
    (
        "format version 1",
        _write_manifest_text(
            '{"format": "privacy-workbench/access-bundle", "format_version": 1, "files": []}'
        ),
        [
            "[manifest] manifest.json format_version: format version 1, from an earlier"
            " workbench; this check reads version 2: answer the request again to make a new"
            " bundle"
        ],
    ),
]


@pytest.mark.parametrize(
    ("tamper", "findings"),
    [t[1:] for t in MANIFEST_TAMPERS],
    ids=[t[0] for t in MANIFEST_TAMPERS],
)
def test_a_broken_manifest_is_a_finding_at_its_location(
    clean_bundle: Path, tmp_path: Path, tamper: Callable[[Path], None], findings: list[str]
) -> None:
    bundle = tmp_path / clean_bundle.name
    shutil.copytree(clean_bundle, bundle)
    tamper(bundle)
    result = verify_bundle(bundle)
    assert [str(f) for f in result.findings] == findings
    assert result.checked_files == 0  # verification stopped at the manifest


def test_manifest_round_trip_and_read_errors(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("x\n1\n")
    entry = OutputFile.of(tmp_path / "data" / "a.csv", tmp_path, rows=1, table="a")
    assert (entry.path, entry.bytes, entry.categories) == ("data/a.csv", 4, ())
    assert entry.sha256 == hashlib.sha256(b"x\n1\n").hexdigest()
    made = ArtifactManifest(
        kind=ArtifactKind.EXTRACT,
        format_version=1,
        tool=ToolInfo(name="privacy-workbench", version="0"),
        created_at=datetime(2026, 11, 29, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
        inputs=(),
        outputs=(entry,),
        parameters={"k": 5, "columns": ["age", "zip"]},
    )
    write_manifest(made, tmp_path / "manifest.json")
    text = (tmp_path / "manifest.json").read_text()
    assert text.endswith("}\n") and '"created_at": "2026-11-29T10:00:00Z"' in text
    assert read_manifest(tmp_path / "manifest.json", ArtifactManifest) == made
    assert made.created_at == datetime(2026, 11, 29, 10, tzinfo=UTC)
    with pytest.raises(
        ManifestError,
        match=r"manifest.json: 12 problem\(s\); was it written by this workbench\?\n"
        r"  - kind: Input should be 'access_bundle'\n  - format_version: Input should be 2\n",
    ) as caught:
        read_manifest(tmp_path / "manifest.json", BundleManifest)
    assert [loc for loc, _ in caught.value.problems] == [
        "kind",
        "format_version",
        "request",
        "subject",
        "match_rules",
        "controller",
        "tables",
        "secrets_masked",
        "redacted",
        "held_as_processor",
        "set_aside_for_review",
        "nlp_notice",
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
    ok = runner.invoke(app, ["verify", str(clean_bundle)])  # made and checked without a key
    assert ok.exit_code == 3, ok.output
    assert "OK, NOT AUTHENTICATED (25 files, 9 rows checked, no MAC" in ok.output  # 5 tables
    bundle = tmp_path / clean_bundle.name
    shutil.copytree(clean_bundle, bundle)
    _append_file(bundle)
    bad = runner.invoke(app, ["verify", str(bundle)])
    assert bad.exit_code == 1
    assert "[checksum] unlisted file 1 of 1 (in data/): a file not listed" in bad.output
    assert "extra.csv" not in bad.output  # a file's name can hold personal data


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
        "[checksum] unlisted file 1 of 1 (in data/): a file not listed in the manifest (its"
        " name is not shown: a name can hold personal data); remove it"
    ]
    assert result.bundle == tmp_path / "tampered.zip"


def test_an_encrypted_zip_needs_its_passphrase(
    clean_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = _zip(clean_bundle, tmp_path / "locked.zip", passphrase="correct horse")
    with pytest.raises(UnreadableArtifactError, match=r": it is encrypted; give its passphrase"):
        verify_bundle(locked)
    with pytest.raises(WorkbenchError, match=r"the passphrase does not open it"):
        verify_bundle(locked, "wrong")
    assert verify_bundle(locked, "correct horse").ok
    monkeypatch.setenv("BUNDLE_PASS", "correct horse")
    ok = CliRunner().invoke(app, ["verify", str(locked), "--passphrase-env", "BUNDLE_PASS"])
    assert ok.exit_code == 3, ok.output  # without the key: not authenticated
    assert "OK, NOT AUTHENTICATED (25 files, 9 rows checked, no MAC" in ok.output


@pytest.mark.parametrize("extra", ["../escape.txt", "other/manifest.json", "loose.txt"])
def test_a_zip_with_anything_outside_its_one_folder_is_refused(
    clean_bundle: Path, tmp_path: Path, extra: str
) -> None:
    odd = _zip(clean_bundle, tmp_path / "odd.zip", extra=extra)
    with pytest.raises(WorkbenchError, match=r"not a bundle zip"):
        verify_bundle(odd)
    assert not (tmp_path / "escape.txt").exists()


def _bomb(target: Path, size: int, name: str = "AR-V/data/zeros.bin") -> Path:
    """A zip of `size` zero bytes: a few kilobytes that unpack to `size`."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("AR-V/manifest.json", "{}")
        with archive.open(name, "w") as entry:
            for _ in range(size // (1 << 20)):
                entry.write(bytes(1 << 20))
    return target


def test_a_zip_declaring_more_than_the_limit_is_not_unpacked(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", 4 << 20)
    assert bomb.stat().st_size < 20_000
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(
        WorkbenchError,
        match=rf"^{re.escape(str(bomb))}: its entries declare 4,194,306 bytes unpacked, over the"
        r" limit of 1,000,000 \(max_unpacked_bytes\); not unpacked$",
    ):
        verify_bundle(bomb, max_unpacked_bytes=1_000_000, scratch=scratch)
    assert list(scratch.iterdir()) == []


def test_a_zip_compressed_like_a_bomb_is_not_unpacked(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", 11 << 20)  # over 10 MiB, about 1000:1
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(
        WorkbenchError,
        match=rf"^{re.escape(str(bomb))}: entry 2 is compressed more than"
        r" 200:1 \(11,534,336 bytes from [\d,]+\), like a zip bomb; not unpacked$",
    ):
        verify_bundle(bomb, scratch=scratch)
    assert list(scratch.iterdir()) == []


def test_an_entry_larger_than_it_declares_stops_and_is_removed(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "liar.zip", 2 << 20)
    data = bytearray(bomb.read_bytes())
    real = (2 << 20).to_bytes(4, "little")
    lie = (1000).to_bytes(4, "little")
    assert data.count(real) == 2  # the local header's and the central directory's size
    bomb.write_bytes(bytes(data).replace(real, lie))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(
        WorkbenchError,
        match=rf"^{re.escape(str(bomb))}: entry 2 is damaged or unpacks to"
        r" more than it declares \(BadZipFile\); nothing was kept$",
    ):
        verify_bundle(bomb, scratch=scratch)
    assert list(scratch.iterdir()) == []


def _nested_contact(bundle: Path) -> None:
    """A JSON object kept whole in a column: another person's phone and email inside it."""
    path = bundle / "data" / "tickets.parquet"
    table = pq.read_table(path)
    contact = {
        "phone": "+44 7700 900003",
        "emails": ["ann@example.com", "bob@example.com"],
        "seen": "2026-11-01 10:00:00",  # digits, but no field that says phone: no finding
        "notes": [{"text": "key sk_live_abcdefgh1234"}],
    }
    table = table.append_column("contact", pa.array([contact]))
    attrs = pa.array(
        [[("mobile", "+44 7700 900002"), ("bob@example.com", "x")]],
        pa.map_(pa.string(), pa.string()),
    )
    table = table.append_column("attrs", attrs)
    pq.write_table(table, path)
    _rehash(bundle, "data/tickets.parquet")


def test_values_inside_nested_columns_are_checked(clean_bundle: Path, tmp_path: Path) -> None:
    bundle = tmp_path / clean_bundle.name
    shutil.copytree(clean_bundle, bundle)
    _nested_contact(bundle)
    where = "data/tickets.parquet"
    found = [str(f) for f in verify_bundle(bundle).findings]
    # the Parquet file alone was edited: its CSV and JSON copies and the statement now differ
    assert {f.split("]")[0] for f in found} >= {"[copies", "[report"}
    assert [f for f in found if not f.startswith(("[copies]", "[report]"))] == [
        f"[secrets] {where} contact.notes[0].text row 1: looks like a Stripe-style live key in"
        " clear",
        f"[other people] {where} contact.phone row 1: a phone number that is not the person's",
        f"[other people] {where} contact.emails[1] row 1: an email address that is not the"
        " person's",
        f"[other people] {where} attrs[0].value row 1: a phone number that is not the person's",
        f"[other people] {where} attrs[1].key row 1: an email address that is not the person's",
    ]


def test_check_mac_says_what_is_taken_on_trust_or_finds_a_bad_mac() -> None:
    """The one keyed-MAC check of every verifier: without the key a notice naming what is
    taken on trust; with it, a finding unless the MAC verifies over the manifest's JSON;
    the manifest is read only when there is a MAC to check."""
    from dsar.keys import Keys
    from dsar.review.bundle import Verification
    from dsar.review.manifest import MAC_FAILS, check_mac, mac_problem, manifest_mac

    keys = Keys(b"m" * 40)
    body: dict[str, object] = {"kind": "x", "rows": 3}
    signed = {**body, "mac": manifest_mac(keys, body)}
    reads: list[int] = []

    def read(data: object) -> Callable[[], object]:
        def thunk() -> object:
            reads.append(1)
            return data

        return thunk

    def run(keys_given: Keys | None, mac: str | None, data: object) -> tuple[bool, Verification]:
        result = Verification(Path("m"))
        ok = check_mac(
            keys_given, mac, read(data), result, on_trust="X on trust", unsigned="why", where="w"
        )
        return ok, result

    ok, result = run(None, "abc", signed)
    assert not ok and result.unauthenticated and not result.findings and not reads
    assert result.notices == [
        "manifest.json is not authenticated (carries a MAC, but no key was given): X on trust;"
        " give the key (--key-file or $WORKBENCH_KEY) to check it"
    ]
    assert "(carries no MAC)" in run(None, None, signed)[1].notices[0]
    ok, result = run(keys, None, signed)
    assert not ok and not reads and not result.unauthenticated
    assert [str(f) for f in result.findings] == [
        "[manifest] w: no MAC although a key was given: why"
    ]
    for data in ({**signed, "rows": 4}, [signed], None):
        ok, result = run(keys, "abc", data)
        assert not ok and [f.message for f in result.findings] == [MAC_FAILS]
    ok, result = run(keys, "abc", signed)
    assert ok and not result.findings and not result.notices and not result.unauthenticated
    assert mac_problem(keys, None, read(signed), "u", "f") == "u"
    assert mac_problem(keys, "abc", read(body), "u", "f") == "f"
    assert mac_problem(keys, "abc", read(signed), "u", "f") is None
