"""Access requests on an export full of traps: what must be found, and what must not leak."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dsar import load_catalog, open_engine
from dsar.access.answer import answer_access_requests
from dsar.access.batch import read_batch_requests
from dsar.catalog import IdentityKind
from dsar.errors import (
    AmbiguousIdentifierError,
    IdentifierError,
    InputFileError,
    OutputExistsError,
    OverMatchError,
    WorkbenchError,
)
from dsar.io import jsonable_rows
from dsar.review.bundle import verify_bundle
from dsar.review.manifest import BundleManifest, read_manifest
from dsar.subjects.collect import collect
from dsar.subjects.identity import MatchRules, SubjectRequest, make_key, parse_key
from tests.access_fixture import PREFS

GOLDEN = Path(__file__).parent / "golden" / "access_ann"


def _request(label: str, *texts: str) -> SubjectRequest:
    return SubjectRequest(label, tuple(parse_key(t) for t in texts))


def _rows(bundle: Path, table: str) -> list[dict[str, object]]:
    return jsonable_rows(pq.read_table(bundle / "data" / f"{table}.parquet"))


@pytest.fixture
def ann(trap_catalog: Path, tmp_path: Path, engine_kind: str) -> Path:
    """Ann's bundle, made on each engine in turn."""
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog, engine_kind) as engine:
        [bundle] = answer_access_requests(
            catalog,
            [_request("AR-ANN", "email= Ann@Example.com ")],
            tmp_path / "out",
            engine=engine,
        )
    return bundle.path


def test_golden_bundle(ann: Path) -> None:
    """The bundle's tables, compared through Arrow with the reviewed expected output.

    After an intended change, regenerate with UPDATE_GOLDEN=1 and review the diff.
    """
    manifest = read_manifest(ann / "manifest.json", BundleManifest)
    actual = {t: _rows(ann, t) for t in manifest.tables}
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for table, rows in actual.items():
            (GOLDEN / f"{table}.json").write_text(json.dumps(rows, indent=1) + "\n")
    expected = {p.stem: json.loads(p.read_text()) for p in sorted(GOLDEN.glob("*.json"))}
    assert actual == expected


def test_what_ann_gets_and_what_she_does_not(ann: Path) -> None:
    manifest = read_manifest(ann / "manifest.json", BundleManifest)
    assert sorted(manifest.tables) == ["accounts", "integrations", "logins", "prefs", "tickets"]
    assert [r["user_id"] for r in _rows(ann, "accounts")] == ["u1"]  # not joann, not staff
    logins = _rows(ann, "logins")
    assert {(r["device_id"], r["user_id"]) for r in logins} == {
        ("d_ann", "u1"),
        ("d_fam", "u1"),
        ("d_ann", None),
    }
    assert len(logins) == 4  # her own device's anonymous lines, incl. an empty user id
    assert all(r["user_id"] != "u3" for r in logins)  # Bob behind the same IP stays out
    assert manifest.set_aside_for_review == {"logins": 1}  # the family laptop's anonymous line
    assert [r["ticket_id"] for r in _rows(ann, "tickets")] == ["t1"]  # Bob's ticket naming Ann: no
    assert manifest.held_as_processor == {"end_users": 1}
    assert "end_users" not in manifest.tables and "staff" not in manifest.tables
    assert len(_rows(ann, "prefs")) == 2  # case and spaces differ; one row has only the email


def test_the_manifest_names_its_catalog_and_every_file(ann: Path, trap_catalog: Path) -> None:
    manifest = read_manifest(ann / "manifest.json", BundleManifest)
    assert (manifest.kind, manifest.format_version) == ("access_bundle", 2)
    [catalog] = manifest.inputs
    assert (catalog.role, catalog.name) == ("catalog", "catalog.yml")
    assert catalog.sha256 == hashlib.sha256(trap_catalog.read_bytes()).hexdigest()
    written = sorted(
        p.relative_to(ann).as_posix()
        for p in ann.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    assert sorted(o.path for o in manifest.outputs) == written
    by_path = {o.path: o for o in manifest.outputs}
    assert (by_path["data/logins.parquet"].rows, by_path["data/logins.parquet"].table) == (
        4,
        "logins",
    )
    assert (by_path["report.md"].rows, by_path["report.md"].categories) == (None, ())
    assert manifest.request.identifiers_given == ("email=ann@example.com",)


def test_other_people_are_redacted_and_secrets_masked(ann: Path) -> None:
    body = str(_rows(ann, "tickets")[0]["body"])
    for other in ("Bob Marsh", "bob@example.com", "900003"):
        assert other not in body
    for own in ("+44 7700 900001", "Ann Lee"):
        assert own in body
    token = _rows(ann, "integrations")[0]["access_token"]
    assert token == "[secret access_token, ends in ghij]"
    report = (ann / "report.md").read_text()
    assert "shown only by their last four characters" in report
    assert "we removed other people's details" in report


def test_report_states_what_the_law_asks(ann: Path) -> None:
    report = (ann / "report.md").read_text()
    for needed in [
        "## logins: Sign-in logs.",
        "Legal basis: our legitimate interests (GDPR Art. 6(1)(f))",
        "Who receives it: AWS (processor: hosting, in IE)",
        "How long we keep it: 30 days from ts",
        "Complain to a supervisory authority: Information Commissioner's Office (UK).",
        "## Automated decisions",
        "## Data we hold on behalf of our customers",
        "## Records we could not attribute to you alone",
        "## Portable copy",
    ]:
        assert needed in report, needed
    html = (ann / "report.html").read_text()
    assert "<h2>logins: Sign-in logs.</h2>" in html and "<script" not in html


def test_portability_holds_provided_data_only(ann: Path) -> None:
    portable = sorted(p.name for p in (ann / "portability").iterdir())
    # logins rest on legitimate interests, so they are not part of the portable copy
    assert "logins.json" not in portable
    assert {"accounts.json", "accounts.csv", "prefs.json", "tickets.json"} <= set(portable)


def test_bundle_verifies_and_zips(ann: Path) -> None:
    assert verify_bundle(ann).ok
    assert ann.with_suffix(".zip").is_file()


def test_bob_gets_his_rows_not_anns(trap_catalog: Path, engine_kind: str) -> None:
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog, engine_kind) as engine:
        [bob] = collect(engine, catalog, [_request("b", "email=bob@example.com")])
    assert sorted(r["user_id"] for r in bob.tables["logins"].to_pylist()) == ["u3", "u3"]
    assert bob.set_aside == {"logins": 1}
    assert bob.identity.values(IdentityKind.USER_ID) == {"u3"}


def test_batch_equals_one_by_one(trap_catalog: Path, engine_kind: str) -> None:
    catalog = load_catalog(trap_catalog)
    requests = [
        _request("a", "email=ann@example.com"),
        _request("b", "user_id=u3"),
        _request("c", "email=nobody@example.com"),
    ]
    with open_engine(catalog, engine_kind) as engine:
        together = collect(engine, catalog, requests)
        alone = [collect(engine, catalog, [r])[0] for r in requests]
    for t, a in zip(together, alone, strict=True):
        assert t.identity.keys == a.identity.keys
        assert {k: v.to_pylist() for k, v in t.tables.items()} == {
            k: v.to_pylist() for k, v in a.tables.items()
        }
        assert t.set_aside == a.set_aside


def test_unknown_person_gets_an_empty_verified_bundle(trap_catalog: Path, tmp_path: Path) -> None:
    catalog = load_catalog(trap_catalog)
    [bundle] = answer_access_requests(
        catalog, [_request("AR-0", "email=nobody@example.com")], tmp_path
    )
    assert bundle.subject.rows == 0
    assert "found no personal data about you" in (bundle.path / "report.md").read_text()
    assert verify_bundle(bundle.path).ok


def test_progress_names_each_step(trap_catalog: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    answer_access_requests(
        load_catalog(trap_catalog),
        [_request("AR-P", "email=ann@example.com")],
        tmp_path,
        progress=lines.append,
    )
    assert lines[0].startswith("opening ")
    assert any(line.startswith("round 1: ") for line in lines)
    assert lines[-1] == "redacting and writing AR-P"
    assert not any("ann@example.com" in line for line in lines)  # steps, never identifiers


def test_a_phone_finds_its_one_owner(trap_catalog: Path, engine_kind: str) -> None:
    """Written nationally, the number is read in the company's region (+44 7700 900001);
    without one it has no country, and meets no international number (it once matched on
    its last nine digits, which two countries' numbers can share: red team 26c F1)."""
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog, engine_kind) as engine:
        request = [_request("p", "phone=07700 900001")]
        [found] = collect(engine, catalog, request, MatchRules(phone_region="GB"))
        [alone] = collect(engine, catalog, request)
    assert found.identity.values(IdentityKind.USER_ID) == {"u1"}
    assert alone.identity.values(IdentityKind.USER_ID) == set() and not alone.tables


def test_a_shared_device_is_not_an_identity(trap_catalog: Path, engine_kind: str) -> None:
    catalog = load_catalog(trap_catalog)
    with (
        open_engine(catalog, engine_kind) as engine,
        pytest.raises(
            AmbiguousIdentifierError, match=r"the device_id given is linked to 2 different people"
        ),
    ):
        collect(engine, catalog, [_request("d", "device_id=d_fam")])


def test_a_closure_that_grows_too_large_stops(trap_catalog: Path) -> None:
    prefs = trap_catalog.parent / "prefs.jsonl"
    shared = [*PREFS, {"user_id": "u3", "email": "ann@example.com", "newsletter": True}]
    prefs.write_text("".join(json.dumps(r) + "\n" for r in shared), encoding="utf-8")
    catalog = load_catalog(trap_catalog)
    with (
        open_engine(catalog) as engine,
        pytest.raises(OverMatchError, match=r"grew to 2 of kind 'user_id' \(limit 1\)"),
    ):
        collect(
            engine, catalog, [_request("x", "email=ann@example.com")], MatchRules(max_identifiers=1)
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mail=ann@example.com", r"unknown identifier type 'mail'; types: email, user_id"),
        ("ann@example.com", r"an identifier must be written TYPE=VALUE"),
        ("email=  ", r"the email given is empty"),
    ],
)
def test_bad_identifiers(text: str, message: str) -> None:
    with pytest.raises(IdentifierError, match=message):
        parse_key(text)


@pytest.mark.parametrize(
    ("rules", "given", "expected"),
    [
        (MatchRules(), " A.Lee+News@GMail.com ", "a.lee+news@gmail.com"),
        (MatchRules(plus_addressing=True), "a.lee+news@gmail.com", "a.lee@gmail.com"),
        (MatchRules(gmail_dots=True), "a.lee@googlemail.com", "alee@gmail.com"),
        (MatchRules(gmail_dots=True), "a.lee@example.com", "a.lee@example.com"),
        (MatchRules(), "User@Example.co.uk.", "user@example.co.uk"),  # a fully qualified domain
        (MatchRules(plus_addressing=True), "a.lee+x@gmail.com.", "a.lee@gmail.com"),
    ],
)
def test_email_rules(rules: MatchRules, given: str, expected: str) -> None:
    assert make_key(IdentityKind.EMAIL, given, rules).value == expected


def test_existing_bundle_is_not_overwritten(ann: Path) -> None:
    catalog_path = ann.parents[1] / "traps" / "catalog.yml"
    with pytest.raises(
        OutputExistsError, match=r"exists already and is never overwritten; choose another --out"
    ):
        answer_access_requests(
            load_catalog(catalog_path), [_request("AR-ANN", "user_id=u1")], ann.parent
        )


def test_encrypted_zip(trap_catalog: Path, tmp_path: Path) -> None:
    import pyzipper

    [bundle] = answer_access_requests(
        load_catalog(trap_catalog),
        [_request("AR-Z", "user_id=u1")],
        tmp_path,
        passphrase="correct horse battery",
    )
    with pyzipper.AESZipFile(bundle.zip_path) as archive:
        archive.setpassword(b"correct horse battery")
        inside = BundleManifest.model_validate_json(archive.read("AR-Z/manifest.json"))
        assert inside == bundle.manifest and inside.request.label == "AR-Z"
        archive.setpassword(b"wrong")
        with pytest.raises(RuntimeError):
            archive.read("AR-Z/manifest.json")


def test_batch_csv(tmp_path: Path) -> None:
    path = tmp_path / "subjects.csv"
    path.write_text("request_id,email,user_id\nAR-1,ann@example.com,\nAR-2,,u3\n", "utf-8")
    requests = read_batch_requests(path)
    assert [(r.label, [str(k) for k in r.keys]) for r in requests] == [
        ("AR-1", ["email=ann@example.com"]),
        ("AR-2", ["user_id=u3"]),
    ]
    path.write_text("request_id,mail\nAR-1,ann@example.com\n", "utf-8")
    with pytest.raises(WorkbenchError, match=r"unknown column\(s\) mail"):
        read_batch_requests(path)
    path.write_text("request_id,email\nAR-1,\n", "utf-8")
    with pytest.raises(WorkbenchError, match=r"line 2: no identifier given"):
        read_batch_requests(path)


KINDS = ", ".join(sorted(k.value for k in IdentityKind))
NO_HEADER = (
    ": no header line; the first line must be a header naming the columns: request_id and"
    f" identifier types: {KINDS}"
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            None,
            ": no such file; --batch takes a CSV with a request_id column and one column per"
            " identifier type",
        ),
        (b"", NO_HEADER),
        (b"AR-1,ann@example.com\nAR-2,bob@example.com\n", NO_HEADER),  # values never quoted
        (b"request_id,ann@example.com\nAR-2,bob@example.com\n", NO_HEADER),
        (
            "request_id,email\nAR-1,jos\xe9@example.com\n".encode("latin-1"),
            ": not UTF-8 text; save the batch as CSV UTF-8 (a spreadsheet's Save As offers it)",
        ),
        (
            b'request_id,email\nAR-1,"' + b"x" * 200_000 + b'"\n',
            " line 2: not a readable CSV (field larger than field limit (131072)); save the"
            " batch as CSV from a spreadsheet, one request per line",
        ),
        ("folder", ": cannot read the batch file (Is a directory); give a CSV file you may read"),
    ],
    ids=["missing", "empty", "no header", "half a header", "Latin-1", "huge field", "a folder"],
)
def test_a_batch_file_that_cannot_be_read(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / "subjects.csv"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=rf"^{re.escape(f'{path}{message}')}$") as caught:
        read_batch_requests(path)
    assert "@example.com" not in str(caught.value)


def test_a_nested_column_is_json_text_in_the_portable_csv(
    trap_catalog: Path, tmp_path: Path
) -> None:
    nested = [
        {
            "user_id": "u1",
            "email": " ANN@Example.COM ",
            "newsletter": True,
            "contact": {"phone": "+44 7700 900001", "tags": ["news"]},
        },
        {
            "user_id": "u3",
            "email": "bob@example.com",
            "newsletter": False,
            "contact": {"phone": "+44 7700 900003", "tags": []},
        },
    ]
    prefs = trap_catalog.parent / "prefs.jsonl"
    prefs.write_text("".join(json.dumps(r) + "\n" for r in nested), encoding="utf-8")
    text = trap_catalog.read_text(encoding="utf-8")
    trap_catalog.write_text(
        text.replace(
            "newsletter: {type: boolean}\n", "newsletter: {type: boolean}\n      contact: {}\n"
        ),
        encoding="utf-8",
    )
    [bundle] = answer_access_requests(
        load_catalog(trap_catalog), [_request("AR-J", "email=ann@example.com")], tmp_path
    )
    assert not bundle.rejected, bundle.findings
    assert _rows(bundle.path, "prefs")[0]["contact"] == {
        "phone": "+44 7700 900001",
        "tags": ["news"],
    }
    assert (bundle.path / "portability" / "prefs.csv").read_text().splitlines()[1] == (
        '"u1"," ANN@Example.COM ",true,"{""phone"": ""+44 7700 900001"", ""tags"": [""news""]}"'
    )


# a UK company: Cy's landline written nationally (020 ...) is Ann's +44 20 ... (phone_region)
SHARED_PHONE_CATALOG = """\
version: 1
controller: {name: Example Ltd, contact: privacy@example.org, supervisory_authority: ICO}
phone_region: GB
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Accounts.
    category: account
    origin: provided
    purposes: [service]
    legal_basis: contract
    source: the person
    retention: {criteria: while open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      phone: {identity: phone, type: string}
  calls:
    path: calls.csv
    format: csv
    description: Calls to our support line.
    category: communications
    origin: observed
    purposes: [support]
    legal_basis: legitimate_interests
    source: our phone system
    retention: {criteria: 90 days}
    erasure: {action: delete}
    columns:
      phone: {identity: phone, type: string}
      user_id: {identity: user_id, type: string}
"""


@pytest.mark.parametrize(
    ("who", "kept", "set_aside"),
    [
        ("email=ann@example.com", 0, {"calls": 1}),  # her landline is also Cy's: not hers alone
        ("email=bob@example.com", 1, {}),
    ],
)
def test_a_phone_shared_in_one_table_sets_aside_anonymous_rows_in_another(
    tmp_path: Path, who: str, kept: int, set_aside: dict[str, int]
) -> None:
    (tmp_path / "accounts.csv").write_text(
        "user_id,email,phone\nu1,ann@example.com,+44 20 7946 0001\n"
        "u2,bob@example.com,+44 20 7946 0002\nu3,cy@example.com,020 7946 0001\n",
        "utf-8",
    )
    (tmp_path / "calls.csv").write_text("phone,user_id\n+442079460001,\n+442079460002,\n", "utf-8")
    (tmp_path / "catalog.yml").write_text(SHARED_PHONE_CATALOG, "utf-8")
    catalog = load_catalog(tmp_path / "catalog.yml")
    with open_engine(catalog) as engine:
        [person] = collect(engine, catalog, [_request("x", who)])
    calls = person.tables.get("calls")
    assert (calls.num_rows if calls is not None else 0) == kept
    assert person.set_aside == set_aside


def test_bundle_and_provenance_frames(trap_catalog: Path, tmp_path: Path) -> None:
    catalog = load_catalog(trap_catalog)
    [bundle] = answer_access_requests(
        catalog, [_request("AR-F", "email=ann@example.com")], tmp_path / "out"
    )
    frame = bundle.to_frame()
    assert dict(frame["records"]) == {n: t.num_rows for n, t in bundle.subject.tables.items()}
    assert frame["masked"].sum() == sum(bundle.manifest.secrets_masked.values())
    prov = bundle.subject.identity.to_frame()
    assert len(prov) == len(bundle.subject.identity.keys)
    assert prov.iloc[0].tolist() == ["email", "ann@example.com", "the request", "", 0]
    assert list(prov["round"]) == sorted(prov["round"])
