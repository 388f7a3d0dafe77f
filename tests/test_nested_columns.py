"""Nested columns (Parquet struct, list and map; JSON objects) under each role a catalog gives.

An identity on a nested value found nothing ("0 rows, verified"), a secret crashed the
bundle (struct cast to text), free text crashed it too (the name finder given a dict), and a
pseudonymizing erasure planned fine and failed at apply. Now: identity and pseudonymize are
refused by the catalog check and by every job, a secret is masked whole, free text is
redacted string by string with the value's shape kept; erasure, correction and breach scope
run or refuse with the fix.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dsar import load_catalog, open_engine
from dsar.access.answer import answer_access_requests
from dsar.engine import check_catalog
from dsar.errors import CatalogError, InternalError, UsageError
from dsar.review.bundle import verify_bundle
from dsar.subjects.identity import SubjectRequest, parse_key
from dsar.text.redact import _leaf_texts, _with_leaves

CATALOG = """\
version: 1
controller: {name: Example Ltd, contact: privacy@example.org, supervisory_authority: ICO}
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
      full_name: {personal: name, type: string}
  profiles:
    path: profiles.parquet
    format: parquet
    description: Profiles.
    category: account
    origin: provided
    purposes: [service]
    legal_basis: contract
    source: the person
    retention: {criteria: while open}
    erasure: PROFILES_ERASURE
    columns:
      user_id: {identity: user_id, references: accounts.user_id}
      profile: {PROFILE}
      emails: {EMAILS}
      attrs: {ATTRS}
  events:
    path: events.jsonl
    format: jsonl
    description: Events.
    category: usage
    origin: observed
    purposes: [service]
    legal_basis: contract
    source: the app
    retention: {criteria: while open}
    erasure: {action: delete}
    columns:
      user_id: {identity: user_id, type: string}
      meta: {META}
"""

PROFILE = pa.struct([("email", pa.string()), ("name", pa.string()), ("token", pa.string())])
# values that must never leave in clear when their column is secret, or, for other
# people's details, when it is free text
ANN_TOKEN = "tok_ANNSECRET77a1"
ANN_KEY = "sk_live_ANNKEY0042"
BOB = ("bob@example.com", "Bob Marsh", "+44 7700 900003")


def _export(root: Path, roles: dict[str, str], erasure: str = "{action: delete}") -> Path:
    """The export under `root`, its nested columns given `roles`; the catalog's path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "accounts.csv").write_text(
        "user_id,email,full_name\nu1,ann@example.com,Ann Lee\nu2,bob@example.com,Bob Marsh\n",
        encoding="utf-8",
    )
    pq.write_table(
        pa.table(
            {
                "user_id": pa.array(["u1", "u2", "u1"]),
                "profile": pa.array(
                    [
                        {"email": "ann@example.com", "name": "Ann Lee", "token": ANN_TOKEN},
                        {"email": BOB[0], "name": BOB[1], "token": "tok_BOB"},
                        None,
                    ],
                    PROFILE,
                ),
                "emails": pa.array([["ann@example.com", None, BOB[0]], [BOB[0]], []]),
                "attrs": pa.array(
                    [
                        [("note", f"call {BOB[1]} on {BOB[2]}"), ("api_key", ANN_KEY)],
                        [("note", "nothing")],
                        None,
                    ],
                    pa.map_(pa.string(), pa.string()),
                ),
            }
        ),
        root / "profiles.parquet",
    )
    events = [
        {"user_id": "u1", "meta": {"contact": "ann@example.com", "note": f"Ann wrote to {BOB[0]}"}},
        {"user_id": "u2", "meta": {"contact": BOB[0], "note": "hello"}},
    ]
    (root / "events.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in events), encoding="utf-8"
    )
    text = CATALOG.replace("PROFILES_ERASURE", erasure)
    for column in ("profile", "emails", "attrs", "meta"):
        text = text.replace(f"{{{column.upper()}}}", f"{{{roles.get(column, 'personal: name')}}}")
    path = root / "catalog.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _ann(catalog: Path, out: Path) -> Path:
    [bundle] = answer_access_requests(
        load_catalog(catalog),
        [SubjectRequest("AR-ANN", (parse_key("email=ann@example.com"),))],
        out,
    )
    assert not bundle.rejected, bundle.findings
    assert not verify_bundle(bundle.path).findings
    return bundle.path


def _every_file(bundle: Path) -> str:
    """Every file of the bundle as text (Parquet decoded, so a value is found however stored)."""
    parts = []
    for path in sorted(bundle.rglob("*")):
        if path.suffix == ".parquet":
            parts.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
        elif path.is_file() and path.suffix != ".zip":
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("column", "kind"),
    [("profile", "a struct"), ("emails", "a list"), ("attrs", "a map"), ("meta", "a struct")],
)
def test_an_identity_on_a_nested_column_is_refused_by_check_and_by_access(
    tmp_path: Path, column: str, kind: str
) -> None:
    catalog = _export(tmp_path / "x", {column: "identity: email"})
    message = rf"identity: email on '{column}', which the files hold as {kind}"
    with open_engine(kind="duckdb") as engine, pytest.raises(CatalogError) as caught:
        check_catalog(catalog, engine)
    [problem] = caught.value.problems
    table = "events" if column == "meta" else "profiles"
    assert problem.location.startswith(f"tables.{table}.columns.{column}.identity (line ")
    assert message.replace("\\", "") in problem.message
    assert "compare an identity column's whole value" in problem.message
    assert "export" in problem.fix and "instead of identity" in problem.fix
    # before, access answered from the other identity columns and said nothing of it
    with pytest.raises(CatalogError, match=message):
        answer_access_requests(
            load_catalog(catalog),
            [SubjectRequest("AR-X", (parse_key("email=ann@example.com"),))],
            tmp_path / "out",
        )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("how", ["jsonl read as text", "csv"])
def test_an_identity_holding_json_written_as_text_is_refused_by_check(
    tmp_path: Path, how: str
) -> None:
    """A JSON object read with `type: string`, or a CSV cell holding one, is text: the
    engines compare it whole, so an email inside it never matches (a silent miss)."""
    catalog = _export(tmp_path / "x", {"meta": "identity: email, type: string"})
    if how == "csv":
        text = catalog.read_text(encoding="utf-8")
        catalog.write_text(
            text.replace(
                "path: events.jsonl\n    format: jsonl", "path: events.csv\n    format: csv"
            ),
            encoding="utf-8",
        )
        events = tmp_path / "x" / "events.jsonl"
        rows = [json.loads(line) for line in events.read_text().splitlines()]
        with (tmp_path / "x" / "events.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["user_id", "meta"])
            writer.writerows([r["user_id"], json.dumps(r["meta"])] for r in rows)
        events.unlink()
    with open_engine(kind="duckdb") as engine, pytest.raises(CatalogError) as caught:
        check_catalog(catalog, engine)
    [problem] = caught.value.problems
    assert problem.location.startswith("tables.events.columns.meta.identity (line ")
    assert "JSON objects or arrays written as text (2 of 2 sampled)" in problem.message
    assert "as a column of its own" in problem.fix
    # a text identity holding plain values (and a bracket now and then) passes
    (tmp_path / "x" / "events.jsonl").write_text(
        "".join(
            json.dumps({"user_id": u, "meta": m}) + "\n"
            for u, m in [("u1", "ann@example.com"), ("u2", "[bob]"), ("u2", "bob@example.com")]
        ),
        encoding="utf-8",
    )
    if how != "csv":
        with open_engine(kind="duckdb") as engine:
            check_catalog(catalog, engine)


def test_a_pseudonymizing_erasure_of_a_nested_column_is_refused(tmp_path: Path) -> None:
    catalog = _export(
        tmp_path / "x", {}, erasure="{action: pseudonymize, columns: [profile, attrs]}"
    )
    with open_engine(kind="duckdb") as engine, pytest.raises(CatalogError) as caught:
        check_catalog(catalog, engine)
    found = sorted(p.message for p in caught.value.problems)
    assert len(found) == 2
    assert "erasure pseudonymizes 'attrs', which the files hold as a map" in found[0]
    assert "erasure pseudonymizes 'profile', which the files hold as a struct" in found[1]
    assert all("action: nullify" in p.fix for p in caught.value.problems)


def test_a_secret_nested_column_is_masked_whole_in_every_file(tmp_path: Path) -> None:
    roles = dict.fromkeys(("profile", "emails", "attrs", "meta"), "secret: true")
    bundle = _ann(_export(tmp_path / "x", roles), tmp_path / "out")
    rows = pq.read_table(bundle / "data" / "profiles.parquet").to_pylist()
    assert [r["profile"] for r in rows] == ["[secret profile, not shown]", None]
    assert [r["emails"] for r in rows] == ["[secret emails, not shown]"] * 2  # [] is a value
    assert [r["attrs"] for r in rows] == ["[secret attrs, not shown]", None]
    [event] = pq.read_table(bundle / "data" / "events.parquet").to_pylist()
    assert event["meta"] == "[secret meta, not shown]"
    everything = _every_file(bundle)
    for value in (ANN_TOKEN, ANN_KEY, ANN_TOKEN[-4:], ANN_KEY[-4:], BOB[0], BOB[1], "Ann wrote"):
        assert value not in everything
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["secrets_masked"] == {
        "profiles.profile": 1,
        "profiles.emails": 2,
        "profiles.attrs": 1,
        "events.meta": 1,
    }


def test_a_nested_secret_left_in_clear_is_a_verify_finding(tmp_path: Path) -> None:
    """The mask verify accepts is the whole-value one only: the struct itself is a finding."""
    roles = dict.fromkeys(("profile", "emails", "attrs", "meta"), "secret: true")
    bundle = _ann(_export(tmp_path / "x", roles), tmp_path / "out")
    path = bundle / "data" / "events.parquet"
    table = pq.read_table(path)
    table = table.set_column(1, "meta", pa.array(["[secret meta, shown]"]))
    pq.write_table(table, path)
    found = [f for f in verify_bundle(bundle).findings if f.check == "secrets"]
    assert [f.where for f in found] == ["data/events.parquet meta row 1"]


def test_free_text_in_a_nested_column_is_redacted_value_by_value_and_keeps_its_shape(
    tmp_path: Path,
) -> None:
    roles = dict.fromkeys(("profile", "emails", "attrs", "meta"), "free_text: true")
    bundle = _ann(_export(tmp_path / "x", roles), tmp_path / "out")
    source = pq.read_table(tmp_path / "x" / "profiles.parquet").schema
    table = pq.read_table(bundle / "data" / "profiles.parquet")
    for column in ("profile", "attrs"):
        assert table.schema.field(column).type.equals(source.field(column).type)
    assert pa.types.is_list(table.schema.field("emails").type)
    rows = table.to_pylist()
    profile = rows[0]["profile"]
    assert profile["email"] == "ann@example.com"
    assert profile["name"] == "Ann Lee"  # her own name (accounts.full_name) stays
    assert rows[0]["emails"][:2] == ["ann@example.com", None]
    assert rows[0]["emails"][2].startswith("<EMAIL_ADDRESS_")
    note = dict(rows[0]["attrs"])["note"]
    assert note.startswith("call <PERSON_") and "<PHONE_NUMBER_" in note
    assert rows[1] == {"user_id": "u1", "profile": None, "emails": [], "attrs": None}
    [event] = pq.read_table(bundle / "data" / "events.parquet").to_pylist()
    assert event["meta"]["contact"] == "ann@example.com"
    assert event["meta"]["note"].startswith("Ann wrote to <EMAIL_ADDRESS_")
    everything = _every_file(bundle)
    for value in BOB:
        assert value not in everything
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["redacted"]["profiles.emails"] == {"EMAIL_ADDRESS": 1}
    # the API key in the map's value is a secret to the text engine, as in any free text
    assert manifest["redacted"]["profiles.attrs"] == {"PERSON": 1, "PHONE_NUMBER": 1, "SECRET": 1}
    assert ANN_KEY not in everything


def test_a_card_number_inside_a_nested_column_is_masked(tmp_path: Path) -> None:
    """Cards and IBANs are masked in every text, the strings inside a nested value too
    (before, verify rejected such a bundle)."""
    masked = dict.fromkeys(("profile", "emails", "meta"), "personal: financial_account")
    catalog = _export(tmp_path / "x", masked)  # Bob's email there masked; attrs: a name
    path = tmp_path / "x" / "profiles.parquet"
    table = pq.read_table(path)
    cards = pa.array(
        [[("card", "4111 1111 1111 1111")], [], None], pa.map_(pa.string(), pa.string())
    )
    pq.write_table(table.set_column(3, "attrs", cards), path)
    bundle = _ann(catalog, tmp_path / "out")
    [row, _] = pq.read_table(bundle / "data" / "profiles.parquet").to_pylist()
    assert row["attrs"] == [("card", "**** **** **** 1111")]
    assert "4111 1111 1111 1111" not in _every_file(bundle)


NESTED = [  # (type, values, the values with their strings upper-cased)
    (
        pa.struct([("a", pa.string()), ("b", pa.int64())]),
        [{"a": "x", "b": 1}, None, {"a": None, "b": 2}],
        [{"a": "X", "b": 1}, None, {"a": None, "b": 2}],
    ),
    (pa.list_(pa.string()), [["x", None, "y"], [], None], [["X", None, "Y"], [], None]),
    (pa.large_list(pa.large_string()), [["x"], None], [["X"], None]),
    (
        pa.map_(pa.string(), pa.list_(pa.string())),
        [[("k", ["v", None])], None, []],
        [[("K", ["V", None])], None, []],
    ),
    (
        pa.list_(pa.struct([("m", pa.map_(pa.string(), pa.string()))])),
        [[{"m": [("k", "v")]}, None, {"m": None}], None],
        [[{"m": [("K", "V")]}, None, {"m": None}], None],
    ),
]


@pytest.mark.parametrize(("kind", "values", "expected"), NESTED)
def test_the_strings_of_a_nested_value_come_back_in_place(
    kind: pa.DataType, values: list[Any], expected: list[Any]
) -> None:
    whole = pa.array(values, kind)
    column = pa.chunked_array([whole.slice(1), whole.slice(0, 1)])  # chunks, offsets
    texts, plain = _leaf_texts(column)
    assert None not in texts.to_pylist()
    upper = pa.array([t.upper() for t in texts.to_pylist()], pa.string())
    rebuilt = _with_leaves(plain, kind, upper)
    assert rebuilt.type.equals(kind)
    assert rebuilt.to_pylist() == [*expected[1:], expected[0]]
    with pytest.raises(InternalError, match="more strings"):
        _with_leaves(plain, kind, pa.array([*upper.to_pylist(), "extra"], pa.string()))


def test_erasure_correction_and_breach_scope_on_nested_columns(tmp_path: Path) -> None:
    """Emptying a nested column erases it; correcting one is refused with the way out; a
    breach scope counts its categories (a secret one as credentials)."""
    from typer.testing import CliRunner

    from dsar.cli import app
    from dsar.keys import Keys
    from dsar.rights import apply_plan
    from dsar.rights.correction import plan_correction
    from dsar.rights.erasure import plan_erasure

    roles = {"profile": "secret: true", "attrs": "free_text: true"}
    catalog_path = _export(
        tmp_path / "x", roles, erasure="{action: nullify, columns: [profile, emails, attrs]}"
    )
    catalog = load_catalog(catalog_path)
    keys = Keys(b"k" * 40)
    ann = SubjectRequest("ER-ANN", (parse_key("email=ann@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, ann, keys=keys)
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=keys, dry_run=False)
    rows = pq.read_table(tmp_path / "x" / "profiles.parquet").to_pylist()
    assert [r["profile"] for r in rows] == [None, rows[1]["profile"], None]
    assert rows[1]["profile"]["email"] == BOB[0]
    assert [r["emails"] for r in rows] == [None, [BOB[0]], None]
    certificate = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "certs").iterdir())
    assert BOB[0] not in certificate and ANN_TOKEN not in certificate
    bob = SubjectRequest("RC-BOB", (parse_key(f"email={BOB[0]}"),))
    for target in ("profiles.emails", "profiles.attrs", "events.meta"):
        with open_engine(catalog) as engine, pytest.raises(UsageError, match="cannot be corrected"):
            plan_correction(catalog, engine, bob, {target: "[]"}, keys=keys)
    result = CliRunner().invoke(
        app,
        [
            "breach", "scope", "--catalog", str(catalog_path), "--table", "profiles",
            "--table", "events", "--discovered", "2026-12-01T10:00Z",
            "--out", str(tmp_path / "breach"),
        ],
        env={"WORKBENCH_KEY": "k" * 40, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "categories: account, credentials, free_text, usage" in result.output
    scoped = json.loads((tmp_path / "breach" / "scope.json").read_text(encoding="utf-8"))
    assert BOB[0] not in json.dumps(scoped) and "tok_BOB" not in json.dumps(scoped)
