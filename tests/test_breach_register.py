"""The register takes each scoped breach with its deadlines: `dsar requests list` shows it beside
the requests, an overdue notice flagged OVERDUE as an overdue request is, until the notice is
recorded; a hand edit of a breach's row is found."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar.cli import app
from dsar.errors import RecordTamperedError, UsageError, WorkbenchError
from dsar.keys import load_keys
from dsar.records.breaches import Breaches

KEY = "k" * 64
BREACH = "BR-20261127-1830"


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    result = CliRunner().invoke(app, args)
    if isinstance(result.exception, WorkbenchError):
        return 1, result.output + str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def register(demo_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "requests.db"
    code, output = _run(
        [
            *("requests", "add", "--type", "access", "--jurisdiction", "gdpr"),
            *("--received", "2026-11-20", "--email", "ann@example.com", "--register", str(path)),
        ],
        monkeypatch,
    )
    assert code == 0, output
    code, output = _run(
        [
            *("breach", "scope", "--catalog", str(demo_export), "--table", "invoices"),
            *("--from", "2026-03-01", "--to", "2026-03-31"),
            *("--discovered", "2026-11-27T18:30:00+00:00", "--register", str(path)),
            *("--out", str(tmp_path / "BR")),
        ],
        monkeypatch,
    )
    assert code == 0, output
    assert f"registered {BREACH}" in output
    return path


def _lines(output: str, marker: str) -> list[str]:
    return [line for line in output.splitlines() if marker in line]


def test_breach_is_in_the_register_with_its_deadlines(
    register: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    with Breaches(register, load_keys()) as book:
        record = book.get(BREACH)
    manifest = json.loads((register.parent / "BR" / "scope.json").read_text())
    assert record.people == manifest["counts"]["people"] > 0
    authority = next(d for d in record.deadlines if d.rule == "gdpr-authority")
    assert authority.due is not None
    assert authority.due.isoformat() == "2026-11-30T18:30:00+00:00"  # 72 hours, weekend too
    assert {d.rule for d in record.deadlines} == {d["rule"] for d in manifest["deadlines"]}
    entries = [
        json.loads(x)
        for x in register.with_name("requests.db.audit.jsonl").read_text().splitlines()
    ]
    assert [e["action"] for e in entries if e["request"] == BREACH] == [
        "breach.scoped",
        "breach.registered",
    ]


def test_overdue_notice_is_listed_where_overdue_requests_are(
    register: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the day after discovery: the authority's 72 hours are running, nothing overdue
    code, output = _run(
        ["requests", "list", "--register", str(register), "--today", "2026-11-28"], monkeypatch
    )
    assert code == 0, output
    [line] = _lines(output, BREACH)
    assert "OVERDUE" not in line and "next:" in line and "2026-11-30 18:30" in line
    assert "1 breach(es)" in output and "OVERDUE" not in output
    # a week later: the request is not due yet (a month), the breach's notice is overdue
    code, output = _run(
        ["requests", "list", "--register", str(register), "--today", "2026-12-04"], monkeypatch
    )
    [line] = _lines(output, BREACH)
    assert "OVERDUE" in line and "2026-11-30 18:30" in line
    assert "1 request(s)\n" in output
    assert "1 breach(es), 1 OVERDUE" in output
    # --due-within keeps an overdue breach, as it keeps overdue requests
    code, output = _run(
        [
            "requests",
            "list",
            "--register",
            str(register),
            "--today",
            "2026-12-04",
            "--due-within",
            "1d",
        ],
        monkeypatch,
    )
    assert _lines(output, BREACH)
    # the notice recorded: no longer overdue
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    with Breaches(register, load_keys()) as book:
        with pytest.raises(UsageError, match="no deadline of"):
            book.notified(BREACH, "no-such-rule")
        late = book.get(BREACH).overdue(datetime(2026, 12, 4, tzinfo=UTC))
        assert "gdpr-authority" in {d.rule for d in late}
        for deadline in late[:-1]:
            book.notified(BREACH, deadline.rule)
    code, output = _run(
        ["requests", "list", "--register", str(register), "--today", "2026-12-04"], monkeypatch
    )
    assert "1 breach(es), 1 OVERDUE" in output  # one notice still to give
    with Breaches(register, load_keys()) as book:
        book.notified(BREACH, late[-1].rule)
    code, output = _run(
        ["requests", "list", "--register", str(register), "--today", "2026-12-04"], monkeypatch
    )
    assert "OVERDUE" not in output


def test_a_hand_edited_breach_is_found(register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = sqlite3.connect(register)
    deadlines = json.loads(db.execute("SELECT deadlines FROM breaches").fetchone()[0])
    for d in deadlines:
        if d["due"]:
            d["due"] = "2027-01-01T00:00:00+00:00"  # pushed back, by hand
    db.execute("UPDATE breaches SET deadlines = ?", (json.dumps(deadlines),))
    db.commit()
    db.close()
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    with pytest.raises(RecordTamperedError):
        Breaches(register, load_keys())
    code, output = _run(["requests", "list", "--register", str(register)], monkeypatch)
    assert code == 1 and "breaches" in output


def test_a_breach_is_registered_once(register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    with Breaches(register, load_keys()) as book:
        record = book.get(BREACH)
        with pytest.raises(UsageError, match="in the register already"):
            book.add(
                BREACH,
                discovered=record.discovered,
                people=1,
                rows=1,
                severity="low",
                notify_people=False,
                deadlines=[],
                folder="x",
            )


def test_an_earlier_copy_put_back_is_found(register: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every seal of an earlier copy verifies; the audit log still knows the later breach
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    earlier = register.read_bytes()
    with Breaches(register, load_keys()) as book:
        record = book.get(BREACH)
        book.add(
            "BR-2",
            discovered=record.discovered,
            people=3,
            rows=4,
            severity="low",
            notify_people=False,
            deadlines=[d.as_json() for d in record.deadlines],
            folder="BR-2",
        )
    register.write_bytes(earlier)
    with pytest.raises(RecordTamperedError, match="BR-2"):
        Breaches(register, load_keys())
