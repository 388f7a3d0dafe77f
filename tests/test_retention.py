"""The retention sweep deletes exactly the rows past their retention period."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from dsar import load_catalog, open_engine
from dsar.cli import app
from dsar.keys import Keys
from dsar.rights import apply_plan, plan_retention
from tests.conftest import AS_OF


def test_sweep_deletes_only_expired_rows(demo_copy: Path, tmp_path: Path) -> None:
    catalog = load_catalog(demo_copy)
    cutoff = datetime(2026, 10, 30)
    with open_engine(catalog) as engine:
        before = {t: engine.count_rows(t) for t in engine.tables}
        recent = engine.query(
            "SELECT * FROM web_logs WHERE ts >= ? ORDER BY ts, ip", [cutoff]
        ).to_pylist()
        plan = plan_retention(catalog, engine, today=AS_OF)
        logs = next(a for a in plan.actions if a.table == "web_logs")
        assert logs.cutoff == date(2026, 10, 30) and logs.period == "30 days"
        assert 0 < logs.expired < logs.rows
        assert {a.table for a in plan.actions} == {
            "invoices",
            "support_tickets",
            "web_logs",
            "usage_events",
        }
        result = apply_plan(plan, catalog, engine, out=tmp_path / "certs", dry_run=False)
        certificate = result.certificate
        after = {t: engine.count_rows(t) for t in engine.tables}
        for action in plan.actions:
            assert after[action.table] == before[action.table] - action.expired
        for table in ("accounts", "staff", "marketing_preferences", "app_end_users"):
            assert after[table] == before[table]
        kept = engine.query("SELECT * FROM web_logs ORDER BY ts, ip").to_pylist()
        assert kept == recent
        assert engine.query("SELECT min(ts) FROM web_logs").column(0)[0].as_py() >= cutoff
        again = plan_retention(catalog, engine, today=AS_OF)
    assert certificate is not None and certificate.is_file()
    assert again.changes == 0


def test_retention_command_dry_run(demo_copy: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "retention",
            "plan",
            "--catalog",
            str(demo_copy),
            "--today",
            (AS_OF + timedelta(days=0)).isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "web_logs" in result.output and "dry run: nothing was changed" in result.output


def test_an_applied_sweep_is_audited_and_certified(demo_copy: Path, tmp_path: Path) -> None:
    from dsar import AuditLog

    audit = AuditLog(tmp_path / "audit.jsonl", Keys(b"k" * 40))
    catalog = load_catalog(demo_copy)
    with open_engine(catalog) as engine:
        plan = plan_retention(catalog, engine, today=AS_OF)
        result = apply_plan(
            plan, catalog, engine, out=tmp_path / "certs", dry_run=False, audit=audit
        )
    [entry] = audit.entries()
    assert entry.action == "retention.applied" and entry.request == plan.label
    assert entry.tables == {a.table: a.expired for a in plan.actions if a.expired}
    assert entry.details["files"] == len(result.files) > 0
    assert audit.verify() == []
    assert result.certificate is not None
    text = result.certificate.with_suffix(".md").read_text()
    logs = next(a for a in plan.actions if a.table == "web_logs")
    assert f"- web_logs: {logs.expired:,} of {logs.rows:,} row(s) from before {logs.cutoff}" in text
    frame = plan.to_frame()
    assert dict(zip(frame["table"], frame["changes"], strict=True))["web_logs"] == logs.expired
