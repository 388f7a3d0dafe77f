"""Red team 26 round 5, finding 10: a `confirm` killed after its audit entry and before its
rename left the audit log saying decided, scope.json saying not decided, and a hidden temp
file that made every later check of the folder fail. confirm now stages the decided
scope.json before its audit entry and renames it after; the next confirm finishes a staged
decision whose entry the log holds (and then says a decision is recorded), and removes one
whose entry was never written, so the folder and the log agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_attacks_breach import _confirm, _confirmed, _lab, _manifest, _scope


class _Killed(BaseException):
    """Stands for the SIGKILL: nothing after it runs, no handler catches it."""


def _scoped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    out, register = tmp_path / "BR", tmp_path / "records" / "requests.db"
    code, output = _scope(catalog, out, monkeypatch, "--id", "BR-1", "--register", str(register))
    assert code == 0, output
    return out, catalog, register


def _kill_on_replace(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    real = Path.replace

    def killed(self: Path, to: str | Path) -> Path:
        if Path(to) == target:
            raise _Killed
        return real(self, to)

    monkeypatch.setattr(Path, "replace", killed)


def _hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def test_killed_after_the_audit_entry_the_next_confirm_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = _scoped(tmp_path, monkeypatch)
    with monkeypatch.context() as patched:
        _kill_on_replace(patched, out / "scope.json")
        with pytest.raises(_Killed):
            _confirm(out, catalog, register, monkeypatch, "--no-notify")
    assert len(_confirmed(register)) == 1  # the log holds the decision
    assert _manifest(out)["decision"] is None

    code, output = _confirm(out, catalog, register, monkeypatch, "--notify")
    assert code == 1 and "has a decision already" in output, output
    decision = _manifest(out)["decision"]
    assert isinstance(decision, dict) and decision["notify_people"] is False
    assert _hidden(out) == []
    assert len(_confirmed(register)) == 1


def test_killed_before_the_audit_entry_nothing_is_decided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = _scoped(tmp_path, monkeypatch)
    from dsar.records.audit import AuditLog

    real = AuditLog.append

    def killed(self: AuditLog, action: str, *args: Any, **kwargs: Any) -> Any:
        if action == "breach.confirmed":
            raise _Killed
        return real(self, action, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(AuditLog, "append", killed)
        with pytest.raises(_Killed):
            _confirm(out, catalog, register, monkeypatch, "--no-notify")
    assert _confirmed(register) == [] and _manifest(out)["decision"] is None
    assert _hidden(out) == [".scope.json.decided"]  # staged, its entry never written

    code, output = _confirm(out, catalog, register, monkeypatch, "--notify")
    assert code == 0, output
    decision = _manifest(out)["decision"]
    assert isinstance(decision, dict) and decision["notify_people"] is True
    assert _hidden(out) == []
    [entry] = _confirmed(register)
    assert json.dumps(entry).count("notify_people") >= 1
