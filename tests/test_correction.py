"""Correction changes the person's rows only, shows the diff first, and refuses bad targets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar import load_catalog, open_engine
from dsar.cli import app
from dsar.errors import WorkbenchError
from dsar.keys import Keys
from dsar.records.audit import AuditLog
from dsar.rights import apply_plan, plan_correction
from dsar.subjects.identity import SubjectRequest, parse_key

ANN = SubjectRequest("CR-1", (parse_key("email=ann@example.com"),))
KEY = b"k" * 40
KEYS = Keys(KEY)


def test_correct_a_name(trap_catalog: Path, tmp_path: Path) -> None:
    catalog = load_catalog(trap_catalog)
    staff = hashlib.sha256((trap_catalog.parent / "staff.csv").read_bytes()).hexdigest()
    with open_engine(catalog) as engine:
        plan = plan_correction(catalog, engine, ANN, {"accounts.full_name": "Ann Smith"})
        assert plan.changes == 1 and plan.recipients == ("AWS",)
        diff = plan.diff["accounts"].to_pylist()
        assert [(r["full_name"], r["full_name (new)"]) for r in diff] == [("Ann Lee", "Ann Smith")]
        assert "Ann" not in plan.describe()  # counts, not values
        dry = apply_plan(plan, catalog, engine)  # dry run by default
        assert not dry.applied and dry.files == () and dry.certificate is None
        assert (
            engine.query("SELECT full_name FROM accounts WHERE user_id = 'u1'").column(0)[0].as_py()
            == "Ann Lee"
        )
        files = apply_plan(plan, catalog, engine, out=tmp_path, dry_run=False).files
        names = dict(
            zip(
                *engine.query("SELECT user_id, full_name FROM accounts ORDER BY user_id").columns,
                strict=True,
            )
        )
    assert [f.table for f in files] == ["accounts"]
    assert {k.as_py(): v.as_py() for k, v in names.items()} == {
        "u1": "Ann Smith",
        "u2": "Jo Ann Baker",
        "u3": "Bob Marsh",
        "u4": "Cara Diaz",
    }
    assert hashlib.sha256((trap_catalog.parent / "staff.csv").read_bytes()).hexdigest() == staff


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"accounts.nickname": "x"}, r"table accounts has no column 'nickname'; columns: user_id"),
        ({"payroll.name": "x"}, r"no controller table 'payroll'"),
        ({"integrations.access_token": "x"}, r"secrets and key columns cannot be corrected"),
        ({"accounts.user_id": "u9"}, r"secrets and key columns cannot be corrected"),
        ({"staff.full_name": "x"}, r"the person has no row in this table"),
        (
            {"prefs.newsletter": "perhaps"},
            r"prefs.newsletter: the new value is not a valid boolean",
        ),
    ],
)
def test_bad_corrections_are_refused(
    trap_catalog: Path, values: dict[str, str], message: str
) -> None:
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine, pytest.raises(WorkbenchError, match=message):
        plan_correction(catalog, engine, ANN, values)


def test_correct_command(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    runner = CliRunner()
    dry = runner.invoke(
        app,
        [
            "correct",
            "plan",
            "--catalog",
            str(trap_catalog),
            "--email",
            "ann@example.com",
            "--set",
            "accounts.full_name=Ann Smith",
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert "accounts.full_name: 1 row(s) change" in dry.output and "Ann Smith" in dry.output
    assert "dry run: nothing was changed" in dry.output
    done = runner.invoke(
        app,
        [
            "correct",
            "apply",
            "--catalog",
            str(trap_catalog),
            "--email",
            "ann@example.com",
            "--set",
            "accounts.full_name=Ann Smith",
            "--register",
            str(tmp_path / "requests.db"),
            "--out",
            str(tmp_path / "certs"),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "recipients to notify: AWS" in done.output
    assert f"dsar correct confirm --catalog {trap_catalog} CR-" in done.output
    [entry] = AuditLog(tmp_path / "requests.db.audit.jsonl", KEYS).entries()
    assert entry.action == "correction.applied" and entry.subject is not None


def test_the_diff_never_shows_a_secret(trap_catalog: Path) -> None:
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        tokens = engine.query("SELECT access_token FROM integrations").column(0).to_pylist()
        plan = plan_correction(catalog, engine, ANN, {"integrations.provider": "HubSpot"})
    [diff] = plan.diff.values()
    assert "access_token" not in diff.column_names and "provider (new)" in diff.column_names
    shown = repr(plan) + diff.to_pandas().to_string()
    assert not any(token[-8:] in shown for token in tokens if token)
    assert "HubSpot" not in repr(plan)  # the new value is the person's data: not in the repr
