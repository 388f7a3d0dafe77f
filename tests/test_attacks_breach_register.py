"""Attacks on the breach register (issue 26's second red team): a notice's history rewritten,
a decision recorded on a scope the register does not hold, a tampered breaches table that
`dsar audit verify` called intact, personal values in confirm's words in other scripts.

Each attack goes through the command line, on the small export of `test_attacks_breach`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.test_attacks_breach import _confirm, _confirmed, _lab, _manifest, _run, _scope


@pytest.fixture
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A breach BR-1 of 4 people (NL), discovered 2026-11-20 10:00 UTC, in a register."""
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 4)
    out, register = tmp_path / "BR", tmp_path / "records" / "requests.db"
    code, output = _scope(
        catalog, out, monkeypatch, "--malicious", "--id", "BR-1", "--register", str(register)
    )
    assert code == 0, output
    return out, catalog, register


def _audit(register: Path) -> list[dict[str, object]]:
    log = register.with_name(register.name + ".audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in log]


def _notified(register: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, str]:
    return _run(["breach", "notified", "BR-1", "--register", str(register), *extra], monkeypatch)


def _row(register: Path) -> dict[str, str]:
    db = sqlite3.connect(register)
    try:
        (notified,) = db.execute("SELECT notified FROM breaches WHERE id = 'BR-1'").fetchone()
    finally:
        db.close()
    found: dict[str, str] = json.loads(notified)
    return found


# --- a recorded notice is never rewritten ------------------------------------------------


def test_a_second_notice_for_a_rule_is_refused_and_a_late_one_stays_late(
    registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, register = registered
    code, output = _notified(register, monkeypatch, "--rule", "gdpr-authority")
    assert code == 0, output
    first = _row(register)["gdpr-authority"]
    # the same rule again, dated within the 72 hours: the late notice would turn on-time
    code, output = _notified(
        register, monkeypatch, "--rule", "gdpr-authority", "--at", "2026-11-21T00:00:00"
    )
    assert code == 1 and "recorded already" in output and "never replaced" in output
    assert _row(register)["gdpr-authority"] == first
    notices = [e for e in _audit(register) if e["action"] == "breach.notified"]
    assert len(notices) == 1
    details = notices[0]["details"]
    assert isinstance(details, dict) and details == {"rule": "gdpr-authority", "at": first}


@pytest.mark.parametrize(
    ("at", "said"),
    [("2030-01-01T00:00:00", "in the future"), ("2026-11-19T00:00:00", "before BR-1 was")],
)
def test_a_notice_in_the_future_or_before_discovery_is_refused(
    at: str, said: str, registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, register = registered
    code, output = _notified(register, monkeypatch, "--rule", "gdpr-authority", "--at", at)
    assert code == 1 and said in output
    assert _row(register) == {}
    assert not [e for e in _audit(register) if e["action"] == "breach.notified"]


def test_a_notice_between_discovery_and_now_is_recorded_with_its_time_in_the_log(
    registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, register = registered
    code, output = _notified(
        register, monkeypatch, "--rule", "gdpr-authority", "--at", "2026-11-21T09:00:00"
    )
    assert code == 0, output
    assert _row(register) == {"gdpr-authority": "2026-11-21T09:00:00+00:00"}
    [entry] = [e for e in _audit(register) if e["action"] == "breach.notified"]
    assert entry["details"] == {"rule": "gdpr-authority", "at": "2026-11-21T09:00:00+00:00"}


def test_rows_that_are_no_notice_are_refused(
    registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _, register = registered
    rules = {d["rule"]: d for d in _manifest(out)["deadlines"]}  # type: ignore[attr-defined]
    assert "gdpr-register" in rules
    code, output = _notified(register, monkeypatch, "--rule", "gdpr-register")
    assert code == 1 and "is no notice" in output
    assert _row(register) == {}
    # the register's own duty is met by the row: it is never listed as a pending notice
    code, output = _run(
        ["requests", "list", "--register", str(register), "--today", "2026-11-21"], monkeypatch
    )
    assert code == 0, output
    code, output = _notified(register, monkeypatch, "--rule", "gdpr-authority")
    assert code == 0, output
    code, output = _run(
        ["requests", "list", "--register", str(register), "--today", "2026-11-21", "--all"],
        monkeypatch,
    )
    assert code == 0 and "no deadline pending" in output, output


def test_a_not_covered_place_is_no_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "TX"), ("NL", "")])
    out, register = tmp_path / "BR", tmp_path / "requests.db"
    code, output = _scope(catalog, out, monkeypatch, "--id", "BR-1", "--register", str(register))
    assert code == 0, output
    rules = {d["rule"] for d in _manifest(out)["deadlines"]}  # type: ignore[attr-defined]
    assert "not-covered-us-tx" in rules
    code, output = _notified(register, monkeypatch, "--rule", "not-covered-us-tx")
    assert code == 1 and "is no notice" in output
    assert _row(register) == {}


# --- `dsar audit verify` checks the breaches too -----------------------------------------


def _verify(register: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    return _run(["audit", "verify", "--register", str(register)], monkeypatch)


def _edit(register: Path, sql: str) -> None:
    db = sqlite3.connect(register)
    try:
        db.execute(sql)
        db.commit()
    finally:
        db.close()


@pytest.mark.parametrize(
    ("attack", "said"),
    [
        (
            'UPDATE breaches SET notified = \'{"gdpr-authority": "2026-11-21T00:00:00+00:00"}\'',
            "edited or added outside the workbench",
        ),
        ("DELETE FROM breaches WHERE id = 'BR-2'", "not in the register (BR-2)"),
        ("earlier copy", "not in the register (BR-2)"),
    ],
)
def test_audit_verify_finds_a_tampered_breaches_table(
    attack: str,
    said: str,
    registered: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, catalog, register = registered
    code, output = _run(
        [
            *("requests", "add", "--type", "access", "--jurisdiction", "gdpr"),
            *("--received", "2026-11-20", "--email", "ann@example.com"),
            *("--register", str(register)),
        ],
        monkeypatch,
    )
    assert code == 0, output
    earlier = register.read_bytes()
    code, output = _scope(
        catalog, tmp_path / "BR2", monkeypatch, "--id", "BR-2", "--register", str(register)
    )
    assert code == 0, output
    code, output = _verify(register, monkeypatch)
    assert code == 0 and "intact" in output, output
    if attack == "earlier copy":
        register.write_bytes(earlier)
    else:
        _edit(register, attack)
    code, output = _verify(register, monkeypatch)
    assert code == 1 and said in output and "intact" not in output, output


def test_audit_verify_finds_a_notice_time_that_differs_from_the_log(
    registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # an earlier copy put back after a notice: its seals verify, the log knows the notice
    _, _, register = registered
    earlier = register.read_bytes()
    code, output = _notified(register, monkeypatch, "--rule", "gdpr-authority")
    assert code == 0, output
    code, output = _verify(register, monkeypatch)
    assert code == 0, output
    register.write_bytes(earlier)
    code, output = _verify(register, monkeypatch)
    assert code == 1 and "differ from the audit log's" in output, output


# --- a decision rests on the scope the register holds ------------------------------------


def _narrowed(catalog: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    """BR-1 scoped again, narrowed to no one and encrypted: 'low', nobody to tell."""
    code, _ = _scope(
        catalog,
        out,
        monkeypatch,
        *("--id", "BR-1", "--encrypted", "--known-recipients", "--where", "user_id = nobody"),
        *extra,
    )
    return code


def test_a_refused_rescope_writes_no_folder_and_no_audit_entry(
    registered: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, catalog, register = registered
    before = _audit(register)
    again = tmp_path / "BR-again"
    code, output = _scope(
        catalog,
        again,
        monkeypatch,
        *("--id", "BR-1", "--encrypted", "--where", "user_id = nobody"),
        *("--register", str(register)),
    )
    assert code == 1 and "in the register already" in output and "--breach-id" not in output
    assert not (again / "scope.json").exists()
    assert not again.exists() or not any(again.iterdir())
    assert _audit(register) == before
    # and a folder left by such a scope (an older workbench) is no decision's ground
    assert _narrowed(catalog, again, monkeypatch) == 0
    code, output = _confirm(again, catalog, register, monkeypatch, reason="nobody reached")
    assert code == 1 and "not the scope the register holds for BR-1" in output
    assert _confirmed(register) == []


def test_a_folder_scoped_without_the_register_is_refused(
    registered: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = registered
    narrowed = tmp_path / "BR-narrowed"
    assert _narrowed(catalog, narrowed, monkeypatch) == 0
    code, output = _confirm(narrowed, catalog, register, monkeypatch, reason="nobody reached")
    assert code == 1 and "not the scope the register holds for BR-1" in output
    assert _confirmed(register) == []
    assert "decision" not in _manifest(narrowed) or _manifest(narrowed)["decision"] is None
    # the registered folder, and a copy of it, are the scope: one decision
    copy = tmp_path / "BR-copy"
    shutil.copytree(out, copy)
    code, output = _confirm(copy, catalog, register, monkeypatch, "--notify")
    assert code == 0, output
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "has a decision already" in output


def test_a_register_that_never_held_the_breach_takes_no_decision(
    registered: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = registered
    assert _confirm(out, catalog, register, monkeypatch, "--notify")[0] == 0
    other = tmp_path / "other" / "requests.db"
    code, output = _confirm(out, catalog, other, monkeypatch)
    assert code == 1 and "never registered" in output
    assert not other.exists()
    code, output = _run(
        [
            *("requests", "add", "--type", "access", "--jurisdiction", "gdpr"),
            *("--received", "2026-11-20", "--email", "ann@example.com"),
            *("--register", str(other)),
        ],
        monkeypatch,
    )
    assert code == 0, output
    code, output = _confirm(out, catalog, other, monkeypatch)
    assert code == 1 and "is not in the register" in output
    assert _confirmed(other) == []
    assert _manifest(out)["decision"]["notify_people"] is True  # type: ignore[index]


# --- confirm's screen reads other scripts' forms ------------------------------------------


@pytest.mark.parametrize(
    ("by", "reason", "said"),
    [
        (
            "\uff41\uff4c\uff49\uff43\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
            "the copy was deleted",
            "EMAIL_ADDRESS",
        ),
        ("DPO", "the affected person is alice@example\u3002com", "EMAIL_ADDRESS"),
        (
            "DPO",
            "call back on \u3007\u516d\u4e00\u4e8c\u4e09\u56db\u4e94\u516d\u4e03\u516b",
            "PHONE_NUMBER",
        ),
        (
            "DPO",
            "call back on +\u0663\u0661 \u0666\u0661\u0661 \u0661\u0661\u0661 \u0661\u0661\u0661",
            "PHONE_NUMBER",
        ),
    ],
)
def test_confirm_screens_full_width_ideographic_and_other_digits(
    by: str,
    reason: str,
    said: str,
    registered: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, catalog, register = registered
    before = (out / "scope.json").read_text()
    code, output = _confirm(out, catalog, register, monkeypatch, by=by, reason=reason)
    assert code == 1 and said in output and "Traceback" not in output
    assert (out / "scope.json").read_text() == before
    assert _confirmed(register) == []


def test_confirm_takes_words_in_other_scripts(
    registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = registered
    reason = (
        "\u6570\u636e\u5df2\u52a0\u5bc6\u3002\u4e09\u4e2a\u8868\u3002"  # encrypted. three tables.
    )
    code, output = _confirm(out, catalog, register, monkeypatch, by="DPO", reason=reason)
    assert code == 0, output
