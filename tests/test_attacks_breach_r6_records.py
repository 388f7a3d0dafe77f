"""Red team 26 round 6, finding 1: a register put back from an earlier copy (the audit log
kept) took a second `breach notified` for a rule already notified, and `dsar requests list`
showed the notice already given as OVERDUE. The audit log is what was recorded: the second
notice is refused naming its entry, and the list counts the logged notice and says the
register disagrees with its audit log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _run, _scope


def _notices(register: Path) -> list[dict[str, object]]:
    log = register.with_name(register.name + ".audit.jsonl")
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    return [e for e in entries if e["action"] == "breach.notified"]


def _registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    register = tmp_path / "records" / "requests.db"
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--id", "BR-RB",
                          "--register", str(register))  # fmt: skip
    assert code == 0, output
    return register


def test_a_register_put_back_refuses_a_second_notice_for_a_logged_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = _registered(tmp_path, monkeypatch)
    backup = tmp_path / "backup.db"
    shutil.copy(register, backup)  # a backup taken after registration, before the notice
    notify = ["breach", "notified", "BR-RB", "--rule", "gdpr-authority", "--register",
              str(register)]  # fmt: skip
    code, output = _run(notify, monkeypatch)
    assert code == 0, output
    (first,) = _notices(register)
    shutil.copy(backup, register)  # the backup is put back; the audit log is kept

    code, output = _run(["requests", "list", "--register", str(register)], monkeypatch)
    assert code == 0, output
    assert "OVERDUE" not in output, output  # notified: neither pending nor late
    assert "disagrees with its audit log" in output and "gdpr-authority" in output, output
    assert f"audit entry {first['seq']}" in output, output

    code, output = _run(notify, monkeypatch)
    assert code == 1, output
    assert "recorded already" in output and f"audit entry {first['seq']}" in output, output
    assert "earlier copy" in output, output
    assert len(_notices(register)) == 1  # no second breach.notified for the rule


def test_a_register_in_step_with_its_log_reads_no_disagreement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = _registered(tmp_path, monkeypatch)
    code, output = _run(["breach", "notified", "BR-RB", "--rule", "gdpr-authority",
                         "--register", str(register)], monkeypatch)  # fmt: skip
    assert code == 0, output
    code, output = _run(["requests", "list", "--register", str(register), "--all"], monkeypatch)
    assert code == 0, output
    assert "BR-RB" in output and "disagrees" not in output, output
    code, output = _run(["audit", "verify", "--register", str(register)], monkeypatch)
    assert code == 0 and "intact" in output, output
