"""Red team 26 round 4, finding 10: "people told" (`breach notified --rule gdpr-people`) and
"people not told" (`breach confirm --no-notify`) both recorded for one breach: the second
of the two is refused, in either order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _run, _scope


def _scoped(root: Path, mp: pytest.MonkeyPatch, breach: str) -> tuple[Path, str, Path]:
    catalog = _lab(root, [("NL", ""), ("DE", "")])
    register = str(root / "reg.db")
    out = root / "o"
    code, output = _scope(catalog, out, mp, "--id", breach, "--register", register)
    assert code == 0, output
    return catalog, register, out


def _confirm(
    catalog: Path, register: str, out: Path, flag: str, mp: pytest.MonkeyPatch
) -> tuple[int, str]:
    return _run(
        ["breach", "confirm", str(out), flag, "--by", "DPO", "--reason", "low risk, only logs",
         "--catalog", str(catalog), "--register", register],
        mp,
    )  # fmt: skip


def _notified(register: str, breach: str, mp: pytest.MonkeyPatch) -> tuple[int, str]:
    return _run(["breach", "notified", breach, "--rule", "gdpr-people", "--register", register], mp)


def test_no_notify_is_refused_once_the_people_were_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, register, out = _scoped(tmp_path, monkeypatch, "BR-A")
    code, output = _notified(register, "BR-A", monkeypatch)
    assert code == 0, output
    code, output = _confirm(catalog, register, out, "--no-notify", monkeypatch)
    assert code == 1 and "gdpr-people" in output and "contradicts" in output
    audit = (tmp_path / "reg.db.audit.jsonl").read_text()
    assert "breach.confirmed" not in audit
    code, output = _confirm(catalog, register, out, "--notify", monkeypatch)
    assert code == 0, output
    code, output = _run(["audit", "verify", "--register", register], monkeypatch)
    assert code == 0, output


def test_the_peoples_notice_is_refused_after_no_notify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, register, out = _scoped(tmp_path, monkeypatch, "BR-B")
    code, output = _confirm(catalog, register, out, "--no-notify", monkeypatch)
    assert code == 0, output
    code, output = _notified(register, "BR-B", monkeypatch)
    assert code == 1 and "not told" in output and "contradicts" in output
    assert "breach.notified" not in (tmp_path / "reg.db.audit.jsonl").read_text()
    # the authority's notice is no part of the decision
    code, output = _run(
        ["breach", "notified", "BR-B", "--rule", "gdpr-authority", "--register", register],
        monkeypatch,
    )
    assert code == 0, output


def test_a_notice_recorded_while_no_notify_is_checked_is_still_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the red team named: confirm read "nobody told" from the register, then
    `notified` recorded the people's notice before confirm took its lock. The check is made
    again under the lock both commands hold."""
    from dsar.records.breaches import Breaches

    catalog, register, out = _scoped(tmp_path, monkeypatch, "BR-C")
    code, output = _notified(register, "BR-C", monkeypatch)
    assert code == 0, output
    monkeypatch.setattr(Breaches, "people_told", lambda self, breach_id: [])  # read too early
    code, output = _confirm(catalog, register, out, "--no-notify", monkeypatch)
    assert code == 1 and "gdpr-people" in output and "contradicts" in output
    assert "breach.confirmed" not in (tmp_path / "reg.db.audit.jsonl").read_text()


def test_notified_waits_for_a_decision_being_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`notified` takes the lock `confirm` records its decision under: while it is held,
    the notice waits, and is then checked against the decision recorded meanwhile."""
    import threading

    from dsar.keys import load_keys
    from dsar.records.audit import AuditLog
    from dsar.records.breaches import decision_lock

    _scoped(tmp_path, monkeypatch, "BR-D")
    audit = tmp_path / "reg.db.audit.jsonl"
    result: list[tuple[int, str]] = []
    worker = threading.Thread(
        target=lambda: result.append(_notified(str(tmp_path / "reg.db"), "BR-D", monkeypatch))
    )
    with decision_lock(audit):  # as confirm holds it while it records its decision
        worker.start()
        worker.join(timeout=3)
        assert worker.is_alive() and not result  # the notice waits
        AuditLog(audit, load_keys()).append(
            "breach.confirmed", request="BR-D", details={"notify_people": False}
        )
    worker.join(timeout=60)
    assert result and result[0][0] == 1 and "not told" in result[0][1]
    assert "breach.notified" not in audit.read_text()
