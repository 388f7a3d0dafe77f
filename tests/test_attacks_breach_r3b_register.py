"""Red team 26 round 3, findings 8 and 11: a scope killed before its registration leaves a
finished-looking folder that `audit verify` calls intact; the report's period without its
zone; confirm accepting an added folder and a world-readable affected.parquet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_attacks_breach import KEY, _confirm, _confirmed, _lab, _manifest, _run, _scope

_KILLED = """
import os, signal, sys
import dsar.breach.run as run
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # as a kill -9 between writing and registering
run.register_scope = killed
from dsar.cli import app
sys.argv = ["dsar", *sys.argv[1:]]
app()
"""


def _scope_args(catalog: Path, out: Path, register: Path) -> list[str]:
    return [
        "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
        "--from", "2026-11-01", "--to", "2026-11-14", "--discovered", "2026-11-20T10:00Z",
        "--id", "BR-9", "--register", str(register), "--out", str(out),
    ]  # fmt: skip


def test_a_scope_killed_before_registration_leaves_no_finished_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    out, register = tmp_path / "BR", tmp_path / "records" / "requests.db"
    env = {**os.environ, "WORKBENCH_KEY": KEY, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED, *_scope_args(catalog, out, register)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    # no folder of letters under --out: the run never finished
    assert not (out / "scope.json").exists() and not (out / "letters").exists()
    # audit verify finds the breach.scoped entry with no registration
    code, output = _run(["audit", "verify", "--register", str(register)], monkeypatch)
    assert code == 1, output
    assert "BR-9" in output and "never registered" in output
    # the same --out serves the next run, which registers the breach
    code, output = _scope(catalog, out, monkeypatch, "--id", "BR-9", "--register", str(register))
    assert code == 0, output
    assert (out / "scope.json").is_file() and "registered BR-9" in output
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    code, output = _run(["audit", "verify", "--register", str(register)], monkeypatch)
    assert code == 0 and "intact" in output, output


def test_the_python_api_audit_log_without_a_register_is_no_unfinished_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.keys import load_keys
    from dsar.records.audit import AuditLog
    from dsar.records.breaches import _logged_breaches

    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    log = AuditLog(tmp_path / "audit.jsonl", load_keys(None))
    log.append("breach.scoped", request="BR-2", details={"register": False})
    log.append("breach.scoped", request="BR-3", details={"register": True})
    found = _logged_breaches(log)
    assert "BR-2" not in found and "scoped" in found["BR-3"]


def test_the_report_and_scope_json_say_the_period_in_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
            "--from", "2026-11-01T00:00+05:00", "--to", "2026-11-14T12:00-05:00",
            "--discovered", "2026-11-20T10:00Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    report = (out / "regulator-report.md").read_text()
    [period] = [line for line in report.splitlines() if "Period of the records" in line]
    assert "from 2026-10-31 19:00:00 UTC" in period
    assert "up to and including 2026-11-14 17:00:00 UTC" in period
    assert ".000001" not in period
    parameters = _manifest(out)["parameters"]
    assert isinstance(parameters, dict)
    assert parameters["from"] == "2026-10-31T19:00:00+00:00"
    assert str(parameters["to"]).endswith("+00:00")
    # a date --to: until before the next midnight, in UTC
    out2 = tmp_path / "BR2"
    code, output = _scope(catalog, out2, monkeypatch)
    assert code == 0, output
    report = (out2 / "regulator-report.md").read_text()
    assert "from 2026-11-01 00:00:00 UTC until before 2026-11-15 00:00:00 UTC" in report


@pytest.fixture
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    out, register = tmp_path / "BR", tmp_path / "records" / "requests.db"
    code, output = _scope(catalog, out, monkeypatch, "--malicious", "--register", str(register))
    assert code == 0, output
    return out, catalog, register


def test_confirm_refuses_an_added_folder(
    registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = registered
    (out / "sub").mkdir()
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "sub" in output and "not written by scope" in output, output
    assert _confirmed(register) == []
    (out / "sub").rmdir()
    (out / "letters" / "more").mkdir()
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "letters/more" in output, output


def test_confirm_refuses_a_world_readable_affected_parquet(
    registered: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = registered
    (out / "affected.parquet").chmod(0o644)
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "affected.parquet" in output and "0600" in output, output
    assert _confirmed(register) == []
    (out / "affected.parquet").chmod(0o600)
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 0, output
    assert json.loads((out / "scope.json").read_text())["decision"] is not None
