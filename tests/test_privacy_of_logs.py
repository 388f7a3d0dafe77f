"""Library code never logs personal data: run the flows with DEBUG logging and look."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dsar import check_against_files, inventory, load_catalog
from dsar.demo import generate
from dsar.engine import open_engine
from dsar.errors import ExportReadError
from tests.conftest import AS_OF


def test_no_personal_data_in_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    export = generate(tmp_path, users=40, seed=1, as_of=AS_OF)
    catalog = load_catalog(export.catalog_path)
    with open_engine(catalog) as engine:
        check_against_files(catalog, engine)
        inventory(catalog, engine)
        emails = engine.query("SELECT email, full_name FROM accounts")
        engine.query("SELECT * FROM accounts WHERE email = ?", [export.subject_email])
    dsar_records = [r for r in caplog.records if r.name.startswith(("dsar", "anonymize"))]
    text = "\n".join(r.getMessage() for r in dsar_records)
    for email, name in zip(emails.column(0).to_pylist(), emails.column(1).to_pylist(), strict=True):
        assert email not in text and name not in text


def test_read_errors_do_not_quote_the_row(tiny_catalog: Path) -> None:
    bad = "user_id,email,phone,full_name,signup_at\nu9,zed@secret.example,5,Zed Q,yesterday\n"
    (tiny_catalog.parent / "users.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(ExportReadError) as info, open_engine(load_catalog(tiny_catalog)) as e:
        e.query("SELECT * FROM users")
    message = str(info.value)
    assert "line 2" in message
    for value in ("zed@secret.example", "Zed Q", "yesterday"):
        assert value not in message


def test_access_logs_no_personal_data(
    trap_catalog: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from dsar.access.answer import answer_access_requests
    from dsar.subjects.identity import SubjectRequest, parse_key

    caplog.set_level(logging.DEBUG)
    request = SubjectRequest("AR-LOG", (parse_key("email=ann@example.com"),))
    answer_access_requests(load_catalog(trap_catalog), [request], tmp_path)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dsar"))
    assert "AR-LOG" in text  # the request is named by its reference...
    for value in ("ann@example.com", "Ann Lee", "u1", "d_ann", "900001", "Bob"):
        assert value not in text  # ...never by who it is about


def _sensitive_values(catalog_path: Path) -> tuple[set[str], set[str]]:
    """(personal values, secrets) of every table: emails, phones, names, IPs; tokens."""
    catalog = load_catalog(catalog_path)
    personal: set[str] = set()
    secrets: set[str] = set()
    with open_engine(catalog) as engine:
        for name, table in catalog.tables.items():
            for column, spec in table.columns.items():
                kind = spec.identity.value if spec.identity else None
                if not (spec.secret or spec.personal or kind in ("email", "phone")):
                    continue
                values = engine.query(
                    f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{name}"'
                ).column(0)
                found = {v for v in values.to_pylist() if v and len(v) >= 6}
                (secrets if spec.secret else personal).update(found)
    return personal, secrets


def test_every_command_at_debug_logs_no_personal_data_and_prints_no_secret(
    trap_catalog: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from dsar.cli import app

    personal, secrets = _sensitive_values(trap_catalog)
    assert personal and secrets
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("WORKBENCH_KEY", "k" * 40)
    cat, db = str(trap_catalog), str(tmp_path / "requests.db")
    ann = ["--email", "ann@example.com"]
    book = str(tmp_path / "l" / "l.db")
    register = ["--register", db]
    commands = [
        ["catalog", "check", cat],
        ["catalog", "show", cat],
        [
            "requests",
            "add",
            *register,
            "--type",
            "access",
            "--jurisdiction",
            "gdpr",
            "--received",
            "2026-11-20",
            "--verified",
            *ann,
        ],
        ["requests", "list", *register],
        ["requests", "show", "R-2026-0001", *register],
        [
            "access",
            "--catalog",
            cat,
            "--out",
            str(tmp_path / "b"),
            "--request",
            "R-2026-0001",
            *register,
        ],
        ["verify", str(tmp_path / "b" / "R-2026-0001")],
        ["erase", "plan", "--catalog", cat, *ann],
        ["correct", "plan", "--catalog", cat, *ann, "--set", "integrations.provider=X"],
        ["retention", "plan", "--catalog", cat, "--today", "2026-11-29"],
        ["ledger", "add", "--ledger", book, "--reason", "restricted", "--request", "R-1", *ann],
        ["ledger", "list", "--ledger", book],
        ["erase", "apply", "--catalog", cat, *ann, *register, "--out", str(tmp_path / "c")],
        ["audit", "verify", *register],
    ]
    outputs = []
    for args in commands:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    logs = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    leaked = sorted(
        line for line in logs.splitlines() if any(v in line for v in personal | secrets)
    )
    assert leaked == [], "personal data or secrets in the logs"
    printed = "\n".join(outputs)
    assert sorted(s for s in secrets if s in printed or s[-8:] in printed) == []
    # what is written to the side (certificates, the audit log) names no one either
    written = "".join(p.read_text() for p in (tmp_path / "c").iterdir())
    written += (tmp_path / "requests.db.audit.jsonl").read_text()
    assert sorted(v for v in personal | secrets if v in written) == []
