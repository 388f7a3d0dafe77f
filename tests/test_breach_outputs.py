"""`dsar breach scope`: the folder it writes, and that nothing personal leaves affected.parquet.

The people, their identifiers and names are read from the demo's files directly; none of
them may appear in scope.json, the regulator report, the letters, the console or the logs.
"""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dsar.breach import BreachManifest
from dsar.cli import app
from dsar.errors import WorkbenchError

KEY = "k" * 64


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    result = CliRunner().invoke(app, args)
    if isinstance(result.exception, WorkbenchError):  # run_cli prints it, exit 1
        return 1, result.output + str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _personal_values(root: Path) -> set[str]:
    """Every email, user id, phone, name and city of the accounts and tickets (hand-read)."""
    con = duckdb.connect()
    values: set[str] = set()
    for query in (
        f"SELECT user_id, email, full_name, phone, city FROM read_csv('{root}/accounts.csv')",
        f"SELECT requester_email FROM read_json_auto('{root}/support_tickets.jsonl')",
    ):
        for row in con.execute(query).fetchall():
            values.update(str(v).strip() for v in row if v is not None and len(str(v)) > 3)
    return values


@pytest.fixture
def breach(
    demo_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Path]:
    out = tmp_path / "BR-1"
    register = tmp_path / "records" / "requests.db"
    code, output = _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(demo_export),
            "--table",
            "support_tickets",
            "--table",
            "accounts",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--discovered",
            "2026-11-27T18:30:00+00:00",
            "--malicious",
            "--register",
            str(register),
            "--out",
            str(out),
        ],
        monkeypatch,
    )
    assert code == 0, output
    return out, output, register


def test_folder_holds_the_typed_manifest_people_report_and_letters(
    breach: tuple[Path, str, Path],
) -> None:
    out, _, _ = breach
    manifest = BreachManifest.model_validate_json((out / "scope.json").read_text())
    people = pq.read_table(out / "affected.parquet")
    assert manifest.counts.people == people.num_rows > 0
    assert manifest.counts.account_holders + manifest.counts.without_account == people.num_rows
    assert manifest.counts.rows_total == sum(manifest.counts.rows.values())
    # every person has a contact here, so a letter each, named by number only
    letters = sorted(p.name for p in (out / "letters").glob("*.md"))
    assert len(letters) == manifest.counts.with_contact == people.num_rows
    assert set(people.column("letter").to_pylist()) == {f"letters/{n}" for n in letters}
    for entry in manifest.outputs:  # each file listed with its checksum
        assert (out / entry.path).is_file()
    assert {"contact", "credentials", "free_text"} <= set(manifest.categories)
    assert manifest.severity["band"] == "very high"
    assert manifest.severity["confirmed"] is False
    assert manifest.tool.engine == "duckdb"
    due = {d["rule"]: d["due"] for d in manifest.deadlines if isinstance(d, dict)}
    assert due["gdpr-authority"] == "2026-11-30T18:30:00+00:00"  # Friday evening + 72 h
    report = (out / "regulator-report.md").read_text()
    for part in ("(a) Nature", "Approximate numbers", "(c) Likely consequences", "(d) Measures"):
        assert part in report
    letter = (out / "letters" / letters[0]).read_text()
    for part in ("What could happen", "What we did", "What you can do", "dpo@syncloop.io"):
        assert part in letter


def test_affected_file_is_owner_only_and_keyed(breach: tuple[Path, str, Path]) -> None:
    out, _, _ = breach
    mode = stat.S_IMODE((out / "affected.parquet").stat().st_mode)
    assert mode == 0o600
    people = pq.read_table(out / "affected.parquet")
    refs = [r for refs in people.column("refs").to_pylist() for r in refs]
    assert refs and all(r.startswith("ref:") and len(r) == 28 for r in refs)
    assert set(people.column("contact_kind").to_pylist()) == {"email"}


def test_nothing_personal_outside_the_affected_file(
    breach: tuple[Path, str, Path], demo_export: Path
) -> None:
    out, console, register = breach
    values = _personal_values(demo_export.parent)
    contacts = set(pq.read_table(out / "affected.parquet").column("contact").to_pylist())
    assert contacts <= {v.lower() for v in values}  # the check would see them
    texts = {
        "scope.json": (out / "scope.json").read_text(),
        "regulator-report.md": (out / "regulator-report.md").read_text(),
        "console": console.replace(str(out.parent), "TMP"),  # pytest-880 is no ticket
        "audit": register.with_name("requests.db.audit.jsonl").read_text(),
    }
    texts.update({p.name: p.read_text() for p in (out / "letters").iterdir()})
    for name, text in texts.items():
        folded = text.lower()
        leaked = sorted(v for v in values if v.lower() in folded)
        assert not leaked, f"{name} holds {len(leaked)} personal value(s)"


def test_audit_entry_records_the_breach(breach: tuple[Path, str, Path]) -> None:
    _, _, register = breach
    entry, registered = [
        json.loads(line)
        for line in register.with_name("requests.db.audit.jsonl").read_text().splitlines()
    ]
    assert registered["action"] == "breach.registered"  # the register's breach entry
    assert entry["action"] == "breach.scoped"
    assert entry["request"] == "BR-20261127-1830"
    assert entry["details"]["deadlines"]["gdpr-authority"] == "2026-11-30T18:30:00+00:00"


def test_logs_name_no_one(
    demo_export: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from dsar import load_catalog, open_engine
    from dsar.breach import Incident, ScopeSpec, Window, breach_scope
    from dsar.keys import Keys

    caplog.set_level(logging.DEBUG)
    from datetime import UTC, datetime

    incident = Incident("BR-LOG", datetime(2026, 11, 27, tzinfo=UTC), "It leaked.", "Fixed.")
    spec = ScopeSpec(("support_tickets",), window=Window.parse("2026-01-01", "2026-03-31"))
    with open_engine(load_catalog(demo_export)) as engine:
        breach_scope(engine, spec, incident, tmp_path / "out", keys=Keys(KEY.encode()))
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dsar"))
    assert "row(s) in scope" in text
    values = _personal_values(demo_export.parent)
    assert not [v for v in values if v.lower() in text.lower()]


def test_an_existing_folder_is_never_written_over(
    breach: tuple[Path, str, Path], demo_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _, _ = breach
    before = (out / "scope.json").read_bytes()
    code, output = _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(demo_export),
            "--table",
            "staff",
            "--discovered",
            "2026-11-27T18:30:00",
            "--out",
            str(out),
        ],
        monkeypatch,
    )
    assert code == 1 and "choose a new --out" in output
    assert (out / "scope.json").read_bytes() == before


def test_where_injection_is_refused_on_the_command_line(
    demo_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(demo_export),
            "--table",
            "accounts",
            "--where",
            "country = 'NL' OR 1=1",
            "--discovered",
            "2026-11-27T18:30:00",
            "--out",
            str(tmp_path / "x"),
        ],
        monkeypatch,
    )
    assert code == 1 and "is not 'column operator value'" in output
    assert not (tmp_path / "x").exists()


def test_encrypted_copy_needs_no_notice_to_people(
    demo_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "enc"
    code, output = _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(demo_export),
            "--table",
            "accounts",
            "--encrypted",
            "--discovered",
            "2026-11-27T18:30:00",
            "--out",
            str(out),
        ],
        monkeypatch,
    )
    assert code == 0, output
    severity = json.loads((out / "scope.json").read_text())["severity"]
    assert severity["ei"]["value"] == 0.25
    assert severity["notify_people_recommended"] is False
    assert "Art. 34(3)(a)" in severity["recommendation"]


def test_a_person_confirms_the_recommendation_once(
    breach: tuple[Path, str, Path], demo_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _, register = breach
    args = ["breach", "confirm", str(out), "--by", "DPO", "--register", str(register)]
    args += ["--catalog", str(demo_export)]
    code, output = _run(
        [*args, "--no-notify", "--reason", "tokens revoked within the hour"], monkeypatch
    )
    assert code == 0 and "AGAINST the recommendation" in output
    manifest = BreachManifest.model_validate_json((out / "scope.json").read_text())
    assert manifest.decision is not None and manifest.severity["confirmed"] is True
    assert manifest.decision.notify_people is False
    assert manifest.decision.follows_recommendation is False
    log = register.with_name("requests.db.audit.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["action"] == "breach.confirmed"
    code, output = _run([*args, "--notify", "--reason", "changed my mind"], monkeypatch)
    assert code == 1 and "has a decision already" in output
    again = BreachManifest.model_validate_json((out / "scope.json").read_text())
    assert again.decision == manifest.decision
