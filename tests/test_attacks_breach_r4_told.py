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
