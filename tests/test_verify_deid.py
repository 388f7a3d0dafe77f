"""`dsar verify` on a de-identified extract, attacked as the issue 22 red team attacked it
(briefed with README and SECURITY only): identifiers the residual scan missed in a released
cell, and a manifest edited to move a released column out of the quasi-identifiers."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from anonymize.extract import run_extract
from dsar import Keys, load_catalog, open_engine, verify_derived
from dsar.cli import app
from dsar.errors import ExtractRejectedError
from dsar.io import sha256_file
from dsar.review.derived import bare_number, source_identities
from dsar.review.manifest import ExtractManifest, sign_manifest, write_manifest
from tests.conftest import AS_OF

KEY = "v" * 40
KEYS = Keys(KEY.encode())
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0NDEyIn0.kX9wq2m4T8pLr7VbZs1nQe3yUa6dHc0fJg5oWi2xEtM"

POLICY = """\
version: 1
name: {name}
table: accounts
person: user_id
columns:
  user_id: hash
  customer_id: drop
  email: drop
  full_name: drop
  phone: drop
  company: drop
  country: keep
  city: drop
  plan: keep
  signup_method: keep
  password_hash: drop
  account_manager_id: drop
  status: keep
  created_at: {{op: generalize, to: year}}
  closed_at: drop
  last_login_at: drop
quasi_identifiers: [country, plan, signup_method, created_at]
insensitive: {{status: "an account state, known to nobody outside"}}
privacy: {{k: 1}}
output: {{path: accounts.{fmt}}}
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsar.demo import generate

    root = tmp_path_factory.mktemp("demo")
    return generate(root, users=300, seed=7, as_of=AS_OF).catalog_path


def _extract(catalog: Path, out: Path, fmt: str = "parquet", keys: Keys | None = KEYS) -> Path:
    policy = out.parent / f"{out.name}-{fmt}.policy.yml"
    policy.write_text(POLICY.format(name=f"accounts-{fmt}", fmt=fmt))
    with open_engine(load_catalog(catalog)) as engine:
        return run_extract(policy, engine, out, keys=keys).folder


@pytest.fixture(scope="module", params=["parquet", "csv"])
def clean(
    request: pytest.FixtureRequest, demo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return _extract(demo, tmp_path_factory.mktemp("clean"), request.param)


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return data


def _replace_column(folder: Path, column: str, values: list[object]) -> None:
    """Every row of `column` set to `values` (cycled), written as the extract writes its
    format, the manifest's checksum updated and signed again: what a policy that lets the
    values through would have produced."""
    entry = _manifest(folder)["outputs"][0]
    path = folder / entry["path"]
    table = pq.read_table(path) if path.suffix == ".parquet" else pcsv.read_csv(path)
    cells = [values[i % len(values)] for i in range(table.num_rows)]
    array = pa.array(cells)
    table = table.set_column(table.column_names.index(column), column, array)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pcsv.write_csv(table, path)
    manifest = ExtractManifest.model_validate(_manifest(folder))
    outputs = (
        manifest.outputs[0].model_copy(
            update={"sha256": sha256_file(path), "bytes": path.stat().st_size}
        ),
    )
    write_manifest(
        sign_manifest(manifest.model_copy(update={"outputs": outputs, "mac": None}), KEYS),
        folder / "manifest.json",
    )


def _found(folder: Path, **kwargs: Any) -> list[str]:
    return [str(f) for f in verify_derived(folder, keys=KEYS, **kwargs).findings]


# -- 1. the residual-identifier scan -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("07395114462", "phones"),  # a UK mobile without spaces (the demo writes these)
        ("+447395114462", "phones"),
        ("4155550132", "phones"),  # a bare 10-digit US number
        ('"john doe"@example.com', "emails"),  # a quoted local part
        ("john+@example.com", "emails"),  # a plus-tag the text engine's pattern stops at
        ("john+tag=x@example.com", "emails"),
        (JWT, "secrets"),
        ("123456789", "US SSN"),  # an SSN without dashes
    ],
)
def test_a_residual_identifier_in_a_released_cell_is_found(
    clean: Path, tmp_path: Path, value: str, what: str
) -> None:
    """Every row of a released column holds it: a CSV reader typed `07395114462` as the
    integer 7395114462 and `+447395114462` as a float, and the scan read text columns only."""
    folder = _copy(clean, tmp_path)
    assert verify_derived(folder, keys=KEYS).ok
    _replace_column(folder, "signup_method", [value])
    found = _found(folder)
    name = _manifest(folder)["outputs"][0]["path"]
    assert f"[personal data] {name} signup_method row 1: {what} in clear" in found
    assert not any(value in f for f in found)  # findings name places, never values


def test_an_integer_column_is_scanned_as_its_digits(clean: Path, tmp_path: Path) -> None:
    folder = _copy(clean, tmp_path)
    _replace_column(folder, "signup_method", [4155550132, 123456789])
    found = _found(folder)
    assert any("signup_method row 1: phones in clear" in f for f in found)
    assert any("signup_method row 2: US SSN in clear" in f for f in found)


NOT_IDENTIFIERS = [
    "be73645c0a1b2c3d",  # a keyed hash
    "9137164822041133",  # a keyed hash of digits only
    "2026",
    "12",
    "2026-10-11",
    "2026-10-11 11:16:34",
    "1700000000",  # a Unix time
    "12345678",  # a count
    "999999999",  # no SSN starts with 9
    "1234567890",
    "0.25",
]


def test_hashes_counts_years_and_dates_are_not_findings(clean: Path, tmp_path: Path) -> None:
    assert all(bare_number(v) is None for v in NOT_IDENTIFIERS)
    folder = _copy(clean, tmp_path)
    _replace_column(folder, "signup_method", list(NOT_IDENTIFIERS))
    assert _found(folder) == []


def test_a_value_of_the_sources_identity_columns_is_found(demo: Path, tmp_path: Path) -> None:
    """A 9-digit account number in no phone or SSN shape, and a user id in a sentence: only
    the source's identity values say what they are (matched, never printed)."""
    export = tmp_path / "export"
    shutil.copytree(demo.parent, export)
    accounts = export / "accounts.csv"
    frame = pd.read_csv(accounts, dtype=str, keep_default_na=False)
    number = "987654321"  # an area 9xx is no SSN, and no mobile of a plausible region
    assert bare_number(number) is None
    frame.loc[0, "phone"] = number
    frame.to_csv(accounts, index=False)
    user = str(frame.loc[5, "user_id"])
    folder = _extract(export / "catalog.yml", tmp_path / "out")
    _replace_column(folder, "signup_method", ["google", number, f"see {user}."])
    assert _found(folder) == []  # the shape alone says nothing
    with open_engine(load_catalog(export / "catalog.yml")) as engine:
        identities = source_identities(engine)
    found = _found(folder, identities=identities)
    first = found[0]
    assert first.startswith("[personal data] accounts.parquet signup_method row 2: a value of")
    assert "the source's accounts.phone (phone) in clear" in first
    assert not any(number in f or user in f for f in found)
    # the column of the user id alone
    _replace_column(folder, "signup_method", ["google", f"see {user}."])
    found = _found(folder, identities=identities)
    assert found == [
        "[personal data] accounts.parquet signup_method row 2: a value of the source's"
        " accounts.user_id (user_id) in clear"
    ]
    # dsar verify --catalog does the same
    result = CliRunner().invoke(
        app,
        ["verify", str(folder), "--catalog", str(export / "catalog.yml")],
        env={"WORKBENCH_KEY": KEY},
    )
    assert result.exit_code == 1 and "accounts.user_id (user_id) in clear" in result.output


def test_an_extract_with_a_residual_identifier_is_rejected(demo: Path, tmp_path: Path) -> None:
    """The extract checks itself: a kept column of bare UK mobiles (a catalog that gives the
    column no role) makes it `<name>.REJECTED`."""
    export = tmp_path / "export"
    shutil.copytree(demo.parent, export)
    accounts = export / "accounts.csv"
    frame = pd.read_csv(accounts, dtype=str, keep_default_na=False)
    frame["signup_method"] = "07395114462"
    frame.to_csv(accounts, index=False)
    with pytest.raises(ExtractRejectedError, match="signup_method row 1: phones in clear"):
        _extract(export / "catalog.yml", tmp_path / "out", "csv")
    assert (tmp_path / "out" / "accounts-csv.REJECTED").is_dir()
    assert not (tmp_path / "out" / "accounts-csv").exists()


# -- 2. the manifest's classification, authenticated ------------------------------------------


DECLASSIFIED = ("country", "signup_method", "created_at")


def _declassify(folder: Path, columns: tuple[str, ...] = DECLASSIFIED) -> int:
    """The attack: the released `columns` moved under `insensitive:` in the manifest, and k
    raised to what verify recomputes over the columns left (so every other check agrees).
    Returns the manifest's new k."""
    data = _manifest(folder)
    entry = data["outputs"][0]
    table = pq.read_table(folder / entry["path"]).to_pandas()
    qis = [q for q in data["risk"]["quasi_identifiers"] if q not in columns]
    k = int(table.groupby(qis, dropna=False)["user_id"].nunique().min())
    for column in columns:
        data["classification"][column] = "insensitive: edited"
    data["risk"]["quasi_identifiers"] = qis
    data["risk"]["k"] = k
    (folder / "manifest.json").write_text(json.dumps(data, indent=2))
    return k


def test_an_edited_classification_is_found_with_the_key(clean: Path, tmp_path: Path) -> None:
    if not clean.name.endswith("parquet"):
        pytest.skip("one format is enough")
    folder = _copy(clean, tmp_path)
    assert _manifest(folder)["mac"]  # written with the key
    before = verify_derived(folder, keys=KEYS)
    assert before.ok
    claimed = _manifest(folder)["risk"]["k"]
    k = _declassify(folder)
    assert k > claimed  # the edit raises the k verify recomputes
    found = _found(folder)
    assert found == [
        "[manifest] manifest.json: its MAC fails under the key given: edited after it was"
        " written (or written under another key)"
    ]
    # the MAC removed as well: still found
    data = _manifest(folder)
    del data["mac"]
    (folder / "manifest.json").write_text(json.dumps(data))
    assert any("no MAC although a key was given" in f for f in _found(folder))
    # another key: found
    other = _copy(clean, tmp_path / "other")
    assert not verify_derived(other, keys=Keys(b"w" * 40)).ok


def test_without_the_key_verify_says_the_classification_is_on_trust(
    clean: Path, tmp_path: Path
) -> None:
    if not clean.name.endswith("parquet"):
        pytest.skip("one format is enough")
    folder = _copy(clean, tmp_path)
    k = _declassify(folder)
    result = verify_derived(folder)
    assert result.ok  # nothing to check the MAC with: the edit itself is not a finding ...
    notices = "\n".join(result.notices)
    assert "manifest.json is not authenticated" in notices  # ... but it is said plainly
    table = pq.read_table(folder / "accounts.parquet").to_pandas()
    released = ["country", "plan", "signup_method", "status", "created_at"]
    every = int(table.groupby(released, dropna=False)["user_id"].nunique().min())
    assert every < k
    assert (
        f"accounts.parquet: k over all {len(released)} released columns is {every} (the"
        f" manifest says k = {k} over 1 quasi-identifier(s))" in notices
    )
    # the command line: without a key, OK, NOT AUTHENTICATED (exit 3); with the key, a finding
    runner = CliRunner()
    plain = runner.invoke(app, ["verify", str(folder)], env={"WORKBENCH_KEY": ""})
    assert plain.exit_code == 3 and "OK, NOT AUTHENTICATED" in plain.output, plain.output
    assert "not authenticated" in plain.output and f"is {every}" in plain.output
    keyed = runner.invoke(app, ["verify", str(folder)], env={"WORKBENCH_KEY": KEY})
    assert keyed.exit_code == 1 and "its MAC fails" in keyed.output


def test_an_extract_without_a_key_has_no_mac_and_says_so(demo: Path, tmp_path: Path) -> None:
    policy = POLICY.format(name="nokey", fmt="parquet").replace("user_id: hash", "user_id: drop")
    policy = policy.replace("person: user_id\n", "")
    path = tmp_path / "nokey.yml"
    path.write_text(policy)
    with open_engine(load_catalog(demo)) as engine:
        result = run_extract(path, engine, tmp_path / "out", keys=None)
    assert result.manifest.mac is None and _manifest(result.folder)["mac"] is None
    checked = verify_derived(result.folder)
    assert checked.ok and any("carries no MAC" in n for n in checked.notices)
    # with a key, a manifest without a MAC is not trusted
    assert any("no MAC although a key was given" in f for f in _found(result.folder))


def test_the_text_engine_masks_a_json_web_token_whole() -> None:
    """The shared detector: a JWT in free text (a logged request) is one SECRET span, header
    to signature, through the engine's prefilter too; "eyJ" alone is not one."""
    from dsar.text.detectors import SECRET, secrets
    from dsar.text.engine import TextEngine

    text = f"GET /api?token={JWT} HTTP/1.1"
    start = text.index(JWT)
    assert [(s.start, s.end, s.entity) for s in secrets(text)] == [
        (start, start + len(JWT), SECRET)
    ]
    [spans] = TextEngine(nlp=None).analyze([text], [SECRET])
    assert [(s.start, s.end) for s in spans] == [(start, start + len(JWT))]
    assert list(secrets("eyJ is how a JSON object starts in base64; eyJhbGci.x.y")) == []


@pytest.mark.parametrize("example", ["aggregate_accounts.yml", "aggregate_accounts_dp.yml"])
def test_an_aggregate_manifest_is_keyed_too(demo: Path, tmp_path: Path, example: str) -> None:
    """An aggregate run's manifest carries a MAC; its measures (counts, sums) are not read as
    phones, its groups are scanned as written; a lowered min_count is found with the key."""
    from anonymize.aggregate import run_aggregates
    from dsar import ReleaseLog

    spec = Path(__file__).parents[1] / "examples" / example
    with open_engine(load_catalog(demo)) as engine, ReleaseLog(tmp_path / "r.db", KEYS) as log:
        folder = run_aggregates(spec, engine, tmp_path / "out", release_log=log).folder
    assert _manifest(folder)["mac"]
    assert verify_derived(folder, keys=KEYS).ok
    data = _manifest(folder)
    data["min_count"] = max(0, data["min_count"] - 5)
    (folder / "manifest.json").write_text(json.dumps(data))
    assert any("its MAC fails" in f for f in _found(folder))
    without = verify_derived(folder)
    assert without.ok and any("not authenticated" in n for n in without.notices)


# -- 3. identifiers encoded, and hashed without the key (issue 22 point 4) ---------------------

EMAIL_SEEN = "jbrowne@gmail.com"


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("/unsubscribe?email=jbrowne%40gmail.com", "emails percent-encoded"),  # a web-log path
        ("/unsubscribe?email=jbrowne%2Btag%40gmail.com&x=1", "emails percent-encoded"),
        # a full-width at sign alone is read as written now (the text engine's own forms)
        ("jbrowne\uff20gmail.com", "emails in clear"),
        (  # every character full-width: found once NFKC-folded
            "\uff4a\uff42\uff52\uff4f\uff57\uff4e\uff45\uff20\uff47\uff4d\uff41\uff49\uff4c\uff0e\uff43\uff4f\uff4d",
            "emails in full-width or other compatibility forms",
        ),
        (base64.b64encode(EMAIL_SEEN.encode()).decode(), "emails in base64"),
        (f"/u/{base64.urlsafe_b64encode(EMAIL_SEEN.encode()).decode()}", "emails in base64"),
        (f"token {EMAIL_SEEN.encode().hex()} sent", "emails in hex"),
        (b"07395114462".hex(), "phones in hex"),
    ],
)
def test_an_encoded_identifier_in_a_released_cell_is_found(
    clean: Path, tmp_path: Path, value: str, what: str
) -> None:
    """The scan read each cell only as it stands: an address percent-encoded, in full-width
    forms, in base64 or in hex went through. The finding names the encoding, never the value."""
    folder = _copy(clean, tmp_path)
    _replace_column(folder, "signup_method", [value])
    found = _found(folder)
    name = _manifest(folder)["outputs"][0]["path"]
    assert f"[personal data] {name} signup_method row 1: {what}" in found
    assert not any(value in f or EMAIL_SEEN in f for f in found)


def test_keyed_hashes_and_plain_words_decode_to_nothing(
    demo: Path, clean: Path, tmp_path: Path
) -> None:
    """Hex digests of keyed hashes (in a hash column and in a kept one), and base64-looking
    words, are not findings, with the source's identity values too."""
    folder = _copy(clean, tmp_path)
    with open_engine(load_catalog(demo)) as engine:
        identities = source_identities(engine)
    assert verify_derived(folder, keys=KEYS, identities=identities).ok
    keyed = pq.read_table(folder / "accounts.parquet") if clean.name.endswith("parquet") else None
    hashes = (
        keyed.column("user_id").to_pylist()[:50]
        if keyed is not None
        else ["be73645c0a1b2c3d", "9137164822041133"]
    )
    words = ["Internationalisation", "abcdefghijklmnop", "deadbeefcafe", "2026-10-11T11:16:34Z"]
    _replace_column(folder, "signup_method", [*hashes, *words, *NOT_IDENTIFIERS])
    assert _found(folder, identities=identities) == []


def _sha256_16(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


UNKEYED: dict[str, Any] = {
    "sha256[:16] of the user ids": (lambda users, emails: [_sha256_16(u) for u in users], "sha256"),
    "md5 of the user ids": (
        lambda users, emails: [hashlib.md5(u.encode()).hexdigest() for u in users],
        "md5",
    ),
    "sha256[:16] of the lower-cased emails": (
        lambda users, emails: [_sha256_16(e.strip().lower()) for e in emails],
        "sha256",
    ),
    "base64 of sha1 of the user ids": (
        lambda users, emails: [
            base64.b64encode(hashlib.sha1(u.encode()).digest()).decode() for u in users
        ],
        "sha1",
    ),
}


@pytest.mark.parametrize("attack", list(UNKEYED))
@pytest.mark.parametrize("column", ["user_id", "signup_method"])
def test_an_unkeyed_hash_of_an_identity_value_is_found(
    demo: Path, clean: Path, tmp_path: Path, attack: str, column: str
) -> None:
    """The person's column (declared `hash`) or a kept one replaced by plain digests of the
    user ids or e-mails: hex of one length, so it passed as a keyed hash, and verify without
    the key said OK with notices only. With the source's identity values it is a finding."""
    source = pd.read_csv(demo.parent / "accounts.csv", dtype=str, keep_default_na=False)
    users = [u for u in source["user_id"] if u][:40]
    emails = [e.upper() for e in source["email"] if e][:40]  # hashed lower-cased by the attack
    make, algorithm = UNKEYED[attack]
    folder = _copy(clean, tmp_path)
    _replace_column(folder, column, make(users, emails))
    name = _manifest(folder)["outputs"][0]["path"]
    with open_engine(load_catalog(demo)) as engine:
        identities = source_identities(engine)
    result = verify_derived(folder, identities=identities)  # no key: what a reviewer may have
    found = [str(f) for f in result.findings]
    kind = "accounts.email (email)" if "emails" in attack else "accounts.user_id (user_id)"
    expected = (
        f"[personal data] {name} {column} row 1: an unkeyed hash of an identity value"
        f" ({algorithm} of the source's {kind}): reversible with a list of ids"
    )
    # base64 in the hash column is also not hex: that finding stood before
    assert expected in found
    assert all(f == expected or f.endswith("not a keyed hash") for f in found)
    assert not any(u in f for u in users for f in found)
    # without the key, the notice says what is taken on trust
    assert any("row counts and checksums" in n for n in result.notices)
    if column == "user_id" and attack == "md5 of the user ids":
        cli = CliRunner().invoke(
            app, ["verify", str(folder), "--catalog", str(demo)], env={"WORKBENCH_KEY": ""}
        )
        assert cli.exit_code == 1 and "an unkeyed hash of an identity value" in cli.output


def test_an_identity_value_encoded_is_found(demo: Path, clean: Path, tmp_path: Path) -> None:
    """A user id in base64 in a URL, matched against the source's identity values."""
    source = pd.read_csv(demo.parent / "accounts.csv", dtype=str, keep_default_na=False)
    user = str(source.loc[3, "user_id"])
    encoded = base64.b64encode(f"id={user}".encode()).decode()
    folder = _copy(clean, tmp_path)
    _replace_column(folder, "signup_method", ["google", f"/track?u={encoded}"])
    assert _found(folder) == []
    with open_engine(load_catalog(demo)) as engine:
        identities = source_identities(engine)
    name = _manifest(folder)["outputs"][0]["path"]
    assert _found(folder, identities=identities) == [
        f"[personal data] {name} signup_method row 2: a value of the source's"
        " accounts.user_id (user_id) in base64"
    ]


def test_an_extract_with_an_encoded_email_is_rejected(demo: Path, tmp_path: Path) -> None:
    """The extract's own check reads the decoded forms too."""
    export = tmp_path / "export"
    shutil.copytree(demo.parent, export)
    accounts = export / "accounts.csv"
    frame = pd.read_csv(accounts, dtype=str, keep_default_na=False)
    frame["signup_method"] = "/unsubscribe?email=jbrowne%40gmail.com"
    frame.to_csv(accounts, index=False)
    with pytest.raises(ExtractRejectedError, match="signup_method row 1: emails percent-encoded"):
        _extract(export / "catalog.yml", tmp_path / "out", "csv")


def test_digests_past_the_bound_are_said(
    demo: Path, clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory is bounded: past MAX_DIGESTS no more digests are computed, and verify says so
    (a user id hashed past the bound is not found)."""
    import dsar.review.derived as derived

    monkeypatch.setattr(derived, "MAX_DIGESTS", 8)
    with open_engine(load_catalog(demo)) as engine:
        identities = source_identities(engine)
    assert identities.digests_capped
    assert sum(len(v) for v in identities.digests.values()) == 8
    result = verify_derived(_copy(clean, tmp_path), keys=KEYS, identities=identities)
    assert result.ok
    assert any("unkeyed hashes of the first ones only" in n for n in result.notices)


def test_a_short_keyed_hash_equal_to_a_digest_by_chance_is_not_a_finding(
    demo: Path, clean: Path, tmp_path: Path
) -> None:
    """A keyed hash cut to 8 hex characters may equal an unkeyed digest's first 8 by chance
    (one cell in thousands against a big source): one such cell is no finding; a column of
    them, as an unkeyed `md5[:8]` of the user ids is, is one."""
    source = pd.read_csv(demo.parent / "accounts.csv", dtype=str, keep_default_na=False)
    users = [u for u in source["user_id"] if u][:40]
    unkeyed = [hashlib.md5(u.encode()).hexdigest()[:8] for u in users]
    keyed = [hashlib.sha256(f"{KEY}{u}".encode()).hexdigest()[:8] for u in users]
    with open_engine(load_catalog(demo)) as engine:
        identities = source_identities(engine)
    folder = _copy(clean, tmp_path)
    # one cell in 40 (cycled over the rows) equals a digest's first 8
    _replace_column(folder, "user_id", [unkeyed[0], *keyed[1:]])
    assert _found(folder, identities=identities) == []
    _replace_column(folder, "user_id", [*unkeyed])
    name = _manifest(folder)["outputs"][0]["path"]
    assert _found(folder, identities=identities) == [
        f"[personal data] {name} user_id row 1: an unkeyed hash of an identity value (md5 of"
        " the source's accounts.user_id (user_id)): reversible with a list of ids"
    ]
