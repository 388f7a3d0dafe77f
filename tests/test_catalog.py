"""Catalog validation: a valid catalog loads; each broken one reports its exact problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsar.catalog import (
    Duration,
    ErasureAction,
    IdentityKind,
    catalog_json_schema,
    load_catalog,
)
from dsar.errors import CatalogError
from tests.conftest import VALID_CATALOG

SCHEMA_FILE = Path(__file__).parents[1] / "dsar" / "catalog" / "catalog.schema.json"


def test_valid_catalog_loads(tiny_catalog: Path) -> None:
    catalog = load_catalog(tiny_catalog)
    assert list(catalog.tables) == ["users", "events", "tickets", "prefs"]
    users = catalog.tables["users"]
    assert users.identity_columns() == {
        "user_id": IdentityKind.USER_ID,
        "email": IdentityKind.EMAIL,
        "phone": IdentityKind.PHONE,
    }
    assert catalog.tables["events"].retention.period == Duration(amount=2, unit="year")
    assert catalog.tables["tickets"].erasure.action is ErasureAction.PSEUDONYMIZE
    assert catalog.files("prefs") == [tiny_catalog.parent.resolve() / "prefs.json"]
    assert catalog.root == tiny_catalog.parent.resolve()


# (case, text to replace, replacement, the exact problem reported)
BROKEN = [
    (
        "unknown key, with suggestion",
        "      email: {identity: email, type: string}",
        "      email: {identiy: email, type: string}",
        "tables.users.columns.email.identiy (line 24): unknown key 'identiy'\n"
        "    fix: did you mean 'identity'? (allowed keys: category, description, free_text,"
        " identity, origin, personal, references, secret, type)",
    ),
    (
        "format not allowed",
        "format: parquet",
        "format: parquett",
        "tables.events.format (line 30): 'parquett' is not allowed here\n"
        "    fix: did you mean 'parquet'? (one of: csv, parquet, json, jsonl)",
    ),
    (
        "required key missing",
        "    legal_basis: consent\n",
        "",
        "tables.prefs.legal_basis (line 59): missing required key 'legal_basis'\n"
        "    fix: add 'legal_basis:' (The GDPR Art. 6 legal basis), one of: consent, contract,"
        " legal_obligation, vital_interests, public_task, legitimate_interests",
    ),
    (
        "retention without a unit",
        "period: 2 years",
        "period: 2",
        "tables.events.retention.period (line 37): period 2 has no unit\n"
        "    fix: write e.g. '2 days', '2 months' or '2 years'",
    ),
    (
        "retention with an unknown unit",
        "period: 3 years",
        "period: 3 decades",
        "tables.tickets.retention.period (line 52): period '3 decades' is not '<number> <unit>'\n"
        "    fix: write e.g. '30 days', '18 months' or '7 years' (units: days, weeks, months, years)",
    ),
    (
        "missing file",
        "path: tickets.jsonl",
        "path: ticket.jsonl",
        "tables.tickets.path (line 44): no file matches 'ticket.jsonl' (looked for {root}/ticket.jsonl)\n"
        "    fix: correct the path; it is relative to the folder that holds the catalog file",
    ),
    (
        "reference to an unknown table",
        "references: users.user_id}\n      action",
        "references: user.user_id}\n      action",
        "tables.events.columns.user_id.references (line 41): references unknown table 'user'\n"
        "    fix: did you mean 'users'?",
    ),
    (
        "reference to an unknown column",
        "references: users.user_id}\n      body",
        "references: users.userid}\n      body",
        "tables.tickets.columns.user_id.references (line 56): references unknown column 'userid'"
        " of table 'users'\n    fix: did you mean 'user_id'?",
    ),
    (
        "reference not table.column",
        "references: users.user_id}\n      action",
        "references: user_id}\n      action",
        "tables.events.columns.user_id.references (line 41): references 'user_id' must be"
        " 'table.column'\n    fix: write e.g. references: accounts.user_id",
    ),
    (
        "unknown recipient",
        "recipients: [aws]",
        "recipients: [aws, gcp]",
        "tables.users.recipients (line 17): unknown recipient 'gcp'\n"
        "    fix: define it under the top-level 'recipients:'",
    ),
    (
        "nullify without columns",
        "erasure: {action: nullify, columns: [user_id]}",
        "erasure: {action: nullify}",
        "tables.events.erasure (line 38): erasure action 'nullify' needs the columns to change\n"
        "    fix: write e.g. erasure: {action: nullify, columns: [email, full_name]}",
    ),
    (
        "erasure of an unknown column",
        "columns: [body]",
        "columns: [bdy]",
        "tables.tickets.erasure.columns (line 53): erasure.columns names unknown column 'bdy'\n"
        "    fix: did you mean 'body'?",
    ),
    (
        "retention counted from an unknown column",
        "after: ts}",
        "after: timestamp}",
        "tables.events.retention.after (line 37): retention.after names unknown column"
        " 'timestamp'\n    fix: name a column listed under this table's 'columns:'",
    ),
    (
        "retain without a legal basis",
        "erasure: {action: delete}\n    primary_key",
        "erasure: {action: retain}\n    primary_key",
        "tables.users.erasure (line 20): erasure action 'retain' needs legal_basis and reason\n"
        "    fix: write e.g. erasure: {action: retain, legal_basis: legal_obligation,"
        " reason: 'tax law', retain_for: 10 years}",
    ),
    (
        "a secret used as identity",
        "phone: {identity: phone, type: string}",
        "phone: {identity: phone, type: string, secret: true}",
        "tables.users.columns.phone (line 25): a secret column cannot be an identity column\n"
        "    fix: remove 'identity' (secrets are never used to find a person) or 'secret'",
    ),
    (
        "csv options on a parquet table",
        "format: parquet",
        "format: parquet\n    csv: {delimiter: ';'}",
        "tables.events (line 28): csv options given for a parquet table\n"
        "    fix: remove the 'csv:' block",
    ),
    (
        "processor table without held_for",
        "legal_basis: consent",
        "legal_basis: consent\n    role: processor",
        "tables.prefs.role (line 67): a processor table must say whom it is held for\n"
        "    fix: add held_for: <the column naming the customer>, e.g. held_for: customer_id",
    ),
    (
        "unknown identity kind",
        "email: {identity: email}",
        "email: {identity: e-mail}",
        "tables.prefs.columns.email.identity (line 71): 'e-mail' is not allowed here\n"
        "    fix: did you mean 'email'? (one of: email, user_id, customer_id, phone, device_id,"
        " cookie_id, oauth_subject, ip_address, username, person_id)",
    ),
    (
        "retention counted from a column that is not a date",
        "    retention: {period: 3 years, after: created_at}",
        "    retention: {period: 3 years, after: ticket_id}",
        "tables.tickets.retention.after (line 52): retention counts from 'ticket_id', an integer"
        " column: it must be a date or a timestamp\n"
        "    fix: name the date column retention counts from (when the row was created, issued,"
        " last used), or write retention: {criteria: ...} without a period",
    ),
    (
        "unsupported version",
        "version: 1",
        "version: 2",
        "version (line 1): '2' is not allowed here\n    fix: use one of: 1",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_broken_catalog_reports_exact_problem(
    tiny_catalog: Path, old: str, new: str, expected: str
) -> None:
    assert old in VALID_CATALOG
    tiny_catalog.write_text(VALID_CATALOG.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(tiny_catalog)
    expected = expected.replace("{root}", str(tiny_catalog.parent.resolve()))
    assert [str(p) for p in info.value.problems] == [expected]


def test_every_problem_is_reported_at_once(tiny_catalog: Path) -> None:
    text = VALID_CATALOG
    for _case, old, new, _ in (BROKEN[0], BROKEN[1], BROKEN[5], BROKEN[17]):
        text = text.replace(old, new, 1)
    tiny_catalog.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^4 problem\(s\) in catalog ") as info:
        load_catalog(tiny_catalog)
    locations = [p.location.split(" ")[0] for p in info.value.problems]
    assert locations == [
        "tables.users.columns.email.identiy",
        "tables.events.format",
        "tables.prefs.columns.email.identity",
        "tables.tickets.path",
    ]


def test_a_reference_to_a_table_with_errors_is_not_reported_twice(tiny_catalog: Path) -> None:
    tiny_catalog.write_text(VALID_CATALOG.replace("format: csv", "format: tsv", 1), "utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(tiny_catalog)
    assert len(info.value.problems) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: [1\n", r"line 2: not valid YAML: expected ',' or ']'"),
        ("- a\n- b\n", r"the file is not a YAML mapping"),
    ],
)
def test_unreadable_catalog(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"does not exist\n    fix: pass the path"):
        load_catalog(tmp_path / "nope.yml")


def test_glob_paths(tiny_catalog: Path) -> None:
    root = tiny_catalog.parent
    (root / "logs").mkdir()
    for day in ("01", "02"):
        (root / "logs" / f"events-{day}.parquet").write_bytes(
            (root / "events.parquet").read_bytes()
        )
    tiny_catalog.write_text(
        VALID_CATALOG.replace("path: events.parquet", "path: logs/*.parquet"), encoding="utf-8"
    )
    files = load_catalog(tiny_catalog).files("events")
    assert [f.name for f in files] == ["events-01.parquet", "events-02.parquet"]


def test_committed_json_schema_is_current() -> None:
    """The schema file editors use must match the models; regenerate with `dsar catalog schema`."""
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == catalog_json_schema()


def test_json_schema_describes_every_field() -> None:
    schema = catalog_json_schema()
    for name, definition in schema["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field} has no description"
    period = schema["$defs"]["Retention"]["properties"]["period"]
    assert any(opt.get("type") == "string" for opt in period["anyOf"])


CENSUS = """\
version: 1
controller: {name: Census Bureau, contact: dpo@census.example, supervisory_authority: DPC}
REQUESTS
tables:
  census:
    path: census.csv
    format: csv
    description: Survey answers, never linked to a person.
    category: account
    origin: provided
    purposes: [research]
    legal_basis: legitimate_interests
    source: the person
    retention: {criteria: for the study}
    erasure: {action: delete}
    columns:
      age: {type: integer}
      city: {type: string}
"""


def test_an_export_only_ever_de_identified_needs_no_made_up_identity(tmp_path: Path) -> None:
    from dsar import open_engine
    from dsar.subjects import SubjectRequest, collect, parse_key

    (tmp_path / "census.csv").write_text("age,city\n34,Cork\n51,Dublin\n", encoding="utf-8")
    catalog_file = tmp_path / "catalog.yml"
    catalog_file.write_text(CENSUS.replace("REQUESTS\n", ""), encoding="utf-8")
    with pytest.raises(CatalogError, match="no column has an identity role") as refused:
        load_catalog(catalog_file)
    assert "subject_requests: false" in str(refused.value)  # the fix names the way out
    catalog_file.write_text(CENSUS.replace("REQUESTS", "subject_requests: false"), encoding="utf-8")
    catalog = load_catalog(catalog_file)
    assert catalog.subject_requests is False
    request = SubjectRequest("R-1", (parse_key("email=ann@example.com"),))
    with (
        open_engine(catalog) as engine,
        pytest.raises(CatalogError, match="serves no subject requests"),
    ):
        collect(engine, catalog, [request])
