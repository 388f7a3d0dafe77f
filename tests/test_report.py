"""The access statement a person can read: their rows as tables, columns in plain words,
identifiers as they know them, links, a CSV of every table, rows held past retention; and
the person's own values never run as markup or as a spreadsheet formula."""

from __future__ import annotations

import csv
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from dsar import load_catalog, open_engine
from dsar.access.answer import answer_access_requests
from dsar.access.bundle import AccessBundle
from dsar.access.rows import csv_cell, flat_rows, label
from dsar.review.bundle import csv_formula_findings, verify_bundle
from dsar.review.manifest import BundleManifest, read_manifest
from dsar.rights import plan_retention
from dsar.subjects.identity import SubjectRequest, parse_key

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example/x","click")'
HASH = "pbkdf2_sha256$600000$s4lt$Zm9vYmFyYmF6cXV4cXV1eA"

CATALOG = """\
version: 1
controller:
  name: Example Ltd
  contact: privacy@example.org
  dpo: https://example.org/dpo
  supervisory_authority: Information Commissioner's Office (UK), ico.org.uk
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Your account.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    columns:
      user_id: {identity: user_id, type: string, description: Account id}
      email: {identity: email, type: string, description: Login email}
      full_name: {personal: name, type: string}
      company: {type: string}
      website: {type: string}
      password_hash: {secret: true, type: string}
      last_login_at: {type: timestamp, origin: observed}
  logins:
    path: logins.csv
    format: csv
    description: Sign-in logs.
    category: logs
    origin: observed
    purposes: [security]
    legal_basis: legitimate_interests
    source: your browser
    retention: {period: 30 days, after: ts}
    erasure: {action: delete}
    columns:
      ts: {type: timestamp}
      device_id: {identity: device_id, type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      delta: {type: integer}
  profile:
    path: profile.jsonl
    format: jsonl
    description: Your profile settings.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    columns:
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      settings: {description: 'Your settings, kept as you set them'}
"""

ACCOUNTS = f"""\
user_id,email,full_name,company,website,password_hash,last_login_at
u1,ann@example.com,"{SCRIPT}","{FORMULA.replace('"', '""')}",https://evil.example/login,{HASH},2026-12-01 09:30:00
u2,bob@example.com,Bob Marsh,Other Ltd,,x,2026-12-01 10:00:00
"""
# Ann's sign-ins: 5 older than the 30 days the catalog states (before 2026-11-06), 7 newer
OLD = ["2026-09-01", "2026-10-01", "2026-10-15", "2026-11-01", "2026-11-05"]
NEW = ["2026-11-06", "2026-11-10", "2026-11-20", "2026-11-25", "2026-12-01", "2026-12-02"]
LOGINS = (
    "ts,device_id,user_id,delta\n"
    + "".join(f"{day} 08:00:00,d_ann,u1,-5\n" for day in OLD + NEW)
    + "2026-12-05 08:00:00,d_ann,,-1\n"
)
PROFILE = [
    {"user_id": "u1", "settings": {"theme": "dark", "tags": ["work", "@SUM(1+1)"]}},
    {"user_id": "u2", "settings": {"theme": "light", "tags": []}},
]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    root.mkdir()
    (root / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (root / "logins.csv").write_text(LOGINS, encoding="utf-8")
    (root / "profile.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PROFILE), "utf-8")
    (root / "catalog.yml").write_text(CATALOG, encoding="utf-8")
    return root / "catalog.yml"


@pytest.fixture
def ann(export: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AccessBundle:
    caplog.set_level(logging.WARNING)
    request = SubjectRequest("AR-ANN", (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(load_catalog(export), [request], tmp_path / "out", now=NOW)
    assert not bundle.rejected, bundle.findings
    return bundle


def _page(bundle: AccessBundle) -> str:
    return (bundle.path / "report.html").read_text(encoding="utf-8")


def _csv(bundle: AccessBundle, table: str) -> list[dict[str, str]]:
    with (bundle.path / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_persons_values_appear_in_the_html_tables(ann: AccessBundle) -> None:
    page = _page(ann)
    assert "<td>ann@example.com</td>" in page  # one record: one line per column
    assert "<td>Login email</td>" in page  # the catalog's description heads its column
    assert "<td>Last login at</td><td>2026-12-01 09:30:00</td>" in page  # a label from the name
    assert "<th>Time</th>" in page and "<td>2026-11-25 08:00:00</td>" in page
    assert "<td>Settings: theme</td><td>dark</td>" in page  # nested, flattened
    assert "password_hash" not in page.split("<h2>accounts:")[1].split("</ul>")[0]


def test_the_identifiers_read_as_the_person_knows_them(ann: AccessBundle) -> None:
    page = _page(ann)
    assert "your email address ann@example.com, which you gave us in your request" in page
    assert (
        "your device d_ann, found in “Sign-in logs”, in a record with your account ID u1"
    ) in page
    # the technical trail stays, folded, for whoever checks the search
    assert "<summary>The search step by step, as our records note it</summary>" in page


def test_long_tables_fold_without_javascript(ann: AccessBundle) -> None:
    page = _page(ann)
    assert "<details><summary>Show your 12 records</summary>" in page
    assert "<script" not in page and "javascript:" not in page
    assert (
        "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'" in page
    )


def test_every_table_has_a_csv(ann: AccessBundle) -> None:
    manifest = read_manifest(ann.path / "manifest.json", BundleManifest)
    listed = {o.path: o for o in manifest.outputs}
    assert sorted(manifest.tables) == ["accounts", "logins", "profile"]
    for name, info in manifest.tables.items():
        entry = listed[f"data/{name}.csv"]
        assert (entry.table, entry.rows) == (name, info.rows)
        assert len(_csv(ann, name)) == info.rows
    [profile] = _csv(ann, "profile")
    assert profile == {
        "user_id": "u1",
        "settings.theme": "dark",
        "settings.tags[0]": "work",
        "settings.tags[1]": "'@SUM(1+1)",  # a formula in a nested list, defused
    }
    assert {r["delta"] for r in _csv(ann, "logins")} == {"-5", "-1"}  # numbers stay numbers


def test_a_script_in_the_persons_data_is_text_and_a_formula_never_runs(
    ann: AccessBundle,
) -> None:
    page = _page(ann)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    markdown = (ann.path / "report.md").read_text(encoding="utf-8")
    assert "\\<script\\>alert(1)\\</script\\>" in markdown  # no raw tag for a Markdown viewer
    [account] = _csv(ann, "accounts")
    assert account["company"] == "'" + FORMULA
    assert account["full_name"] == SCRIPT  # the CSV keeps the value; it runs nowhere
    for path in sorted((ann.path).rglob("*.csv")):
        assert csv_formula_findings(path, path.name) == []
    # a web address in the person's data is shown, never made a link
    assert "https://evil.example/login" in page and 'href="https://evil.example' not in page


def test_secrets_stay_masked_everywhere(ann: AccessBundle) -> None:
    for path in sorted(ann.path.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".md", ".csv", ".json"):
            assert HASH not in path.read_text(encoding="utf-8"), path.name
    [account] = _csv(ann, "accounts")
    assert account["password_hash"].startswith("[secret password_hash, ends in ")


def test_the_controllers_addresses_are_links(ann: AccessBundle) -> None:
    page = _page(ann)
    assert '<a href="mailto:privacy@example.org">privacy@example.org</a>' in page
    assert '<a href="https://example.org/dpo">https://example.org/dpo</a>' in page
    assert '<a href="https://ico.org.uk">ico.org.uk</a>' in page
    # what the law asks stays as it was
    markdown = (ann.path / "report.md").read_text(encoding="utf-8")
    for needed in (
        "Complain to a supervisory authority: Information Commissioner's Office (UK), ico.org.uk.",
        "How long we keep it: 30 days from ts (Time)",
        "Legal basis: our legitimate interests (GDPR Art. 6(1)(f))",
        "## Automated decisions",
    ):
        assert needed in markdown, needed


def test_rows_past_retention_are_listed_counted_and_flagged(
    ann: AccessBundle, export: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = _page(ann)
    said = (
        "5 of your 12 records in “Sign-in logs” are older than the 30 days we promise"
        " (counted from Time, before 2026-11-06); they are being deleted."
    )
    assert said in page
    assert "<h2>Records we hold longer than we say</h2>" in page
    marked = re.findall(
        r"<tr><td>past the time we keep it: being deleted</td><td>([^<]*)</td>", page
    )
    assert sorted(marked) == sorted(f"{day} 08:00:00" for day in OLD)
    # the analyst is told, with counts and table names only
    logged = [r.getMessage() for r in caplog.get_records("setup")]  # the fixture's run
    [warning] = [m for m in logged if "past the retention" in m]
    assert "holds 5 row(s) past the retention the catalog states (logins: 5)" in warning
    assert "dsar retention apply" in warning and "ann@" not in warning and "d_ann" not in warning
    # one computation: the sweep over the export counts the same rows (Ann's are all there is,
    # but for one line of no one's)
    catalog = load_catalog(export)
    with open_engine(catalog) as engine:
        sweep = plan_retention(catalog, engine, today=NOW.date())
    [logins] = [a for a in sweep.actions if a.table == "logins"]
    [held] = [h.action for h in ann.past_retention if h.action.table == "logins"]
    assert (held.expired, held.cutoff, held.period) == (logins.expired, logins.cutoff, "30 days")


def test_dsar_verify_passes_on_the_bundle(ann: AccessBundle) -> None:
    result = verify_bundle(ann.path)
    assert result.ok, [str(f) for f in result.findings]


def test_a_bundle_within_retention_says_nothing_about_it(
    export: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    request = SubjectRequest("AR-BOB", (parse_key("email=bob@example.com"),))
    [bob] = answer_access_requests(load_catalog(export), [request], tmp_path / "b", now=NOW)
    assert bob.past_retention == ()
    assert "longer than we say" not in _page(bob)
    assert not [r for r in caplog.records if "past the retention" in r.getMessage()]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("last_login_at", "Last login at"),
        ("ts", "Time"),
        ("userId", "User ID"),
        ("contact.phones[0]", "Contact: phones 1"),
        ("settings.ip_address", "Settings: IP address"),
    ],
)
def test_column_labels(name: str, text: str) -> None:
    assert label(name) == text


def test_flattening_keeps_each_column_in_place() -> None:
    table = pa.table(
        {
            "a": [1, 2],
            "n": pa.array(
                [{"x": "p", "y": None}, None], pa.struct([("x", pa.string()), ("y", pa.string())])
            ),
            "l": [["q"], ["r", "s"]],
            "z": ["-5", None],
        }
    )
    columns, rows = flat_rows(table)
    assert columns == ["a", "n.x", "n.y", "l[0]", "l[1]", "z"]
    assert rows[1] == {"a": 2, "l[0]": "r", "l[1]": "s", "z": None}
    assert [csv_cell(-5), csv_cell("-5"), csv_cell(float("-inf")), csv_cell(True)] == [
        "-5",
        "'-5",
        "'-inf",
        "yes",
    ]


def test_rows_owned_through_a_past_parent_are_counted_as_the_sweep_counts(tmp_path: Path) -> None:
    """The shop's invoice lines go with their invoices: over the three customers' bundles,
    the rows past retention add up to what `dsar retention plan` finds in the export."""
    from tests.shop_fixture import write_shop

    catalog = load_catalog(write_shop(tmp_path / "shop"))
    now = datetime(2032, 1, 15, tzinfo=UTC)  # invoices 1 and 2 (January 2025) are 7 years old
    emails = ["luis@example.com", "leonie@example.com", "francois@example.com"]
    requests = [SubjectRequest(f"AR-{i}", (parse_key(f"email={e}"),)) for i, e in enumerate(emails)]
    bundles = answer_access_requests(catalog, requests, tmp_path / "out", now=now)
    found: dict[str, list[int]] = {}
    for bundle in bundles:
        assert not bundle.rejected, bundle.findings
        for held in bundle.past_retention:
            a = held.action
            counts = found.setdefault(a.table, [0, 0])
            counts[0], counts[1] = counts[0] + a.expired, counts[1] + a.with_parent
    with open_engine(catalog) as engine:
        sweep = plan_retention(catalog, engine, today=now.date())
    expected = {a.table: [a.expired, a.with_parent] for a in sweep.actions if a.expired}
    expected.pop("staff")  # no customer's: the one who left in 2010
    assert found == expected == {"invoices": [2, 0], "invoice_lines": [4, 4], "line_notes": [2, 2]}
    page = " ".join((bundles[0].path / "report.html").read_text(encoding="utf-8").split())
    assert (
        "1 of your 2 records in “Your invoices” is older than the 7 years we promise (counted"
        " from Invoice date, before 2025-01-15); it is being deleted."
    ) in page
    assert (
        "2 of your 3 records in “The lines of your invoices” are part of records in “Your"
        " invoices” that are past the time we keep them; they are being deleted with them."
    ) in page


def test_dsar_access_warns_the_analyst(export: Path, tmp_path: Path) -> None:
    """On the command's output, as a person runs it: counts and table names, no value."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    args = ["--catalog", str(export), "--email", "ann@example.com", "--out", "bundles"]
    done = subprocess.run(
        [sys.executable, "-m", "dsar.cli", "access", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    # every sign-in is from late 2026: at least the five old ones are past 30 days by now
    found = re.search(r"WARNING: bundle \S+ holds (\d+) row\(s\) past the retention", done.stderr)
    assert found and int(found[1]) >= 5, done.stderr
    assert "(logins: " in done.stderr and "dsar retention apply" in done.stderr
    assert "ann@" not in done.stderr and "d_ann" not in done.stderr
