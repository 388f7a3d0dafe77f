"""The `dsar` command line: demo, catalog check/show/schema, exit codes, and a light --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar.cli import app, main
from tests.conftest import VALID_CATALOG

runner = CliRunner()


def test_demo_command(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["demo", "--out", str(tmp_path), "--users", "50", "--seed", "2", "--as-of", "2026-11-29"],
    )
    assert result.exit_code == 0, result.output
    assert "demo export:" in result.output
    assert "as of 2026-11-29" in result.output
    assert (tmp_path / "catalog.yml").is_file()


def test_demo_rejects_a_bad_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--as-of", "29/11/2026"])
    assert result.exit_code == 2
    assert "is not a date; write YYYY-MM-DD" in result.output


def test_catalog_check_clean(tiny_catalog: Path) -> None:
    result = runner.invoke(app, ["catalog", "check", str(tiny_catalog)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "catalog OK: 4 tables, 4 files"


def test_catalog_check_deep_finds_a_bad_value_deep_in_a_file(
    tiny_catalog: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tiny_catalog.parent / "users.csv"
    users.write_text(users.read_text() + "u4,dee@example.com,,Dee,not-a-time\n", encoding="utf-8")
    assert runner.invoke(app, ["catalog", "check", str(tiny_catalog)]).exit_code == 0
    code, _, err = _run_main(["catalog", "check", "--deep", str(tiny_catalog)], monkeypatch, capsys)
    assert code == 1
    assert "tables.users: cannot read its files: line 5: Error when converting column" in err
    assert "dee@example.com" not in err


def _run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["dsar", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_catalog_check_reports_every_problem_and_exits_1(
    tiny_catalog: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny_catalog.write_text(
        VALID_CATALOG.replace("format: parquet", "format: parquett").replace(
            "path: tickets.jsonl", "path: nope.jsonl"
        ),
        encoding="utf-8",
    )
    code, out, err = _run_main(["catalog", "check", str(tiny_catalog)], monkeypatch, capsys)
    assert code == 1
    assert out == ""
    assert err.startswith("2 problem(s) in catalog ")
    assert "tables.events.format (line 30): 'parquett' is not allowed here" in err
    assert "tables.tickets.path (line 44): no file matches 'nope.jsonl'" in err


def test_catalog_check_compares_columns_with_files(
    tiny_catalog: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny_catalog.write_text(
        VALID_CATALOG.replace("      full_name: {personal: name}\n", ""), encoding="utf-8"
    )
    code, _, err = _run_main(["catalog", "check", str(tiny_catalog)], monkeypatch, capsys)
    assert code == 1
    assert "the file has column 'full_name' that the catalog lacks" in err


def test_catalog_show(tiny_catalog: Path) -> None:
    result = runner.invoke(app, ["catalog", "show", str(tiny_catalog)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["table", "format", "rows", "MB", "role", "category", "identity"]
    users = next(line for line in lines if line.startswith("users "))
    assert "user_id (user_id), email (email), phone (phone)" in users
    assert lines[-1] == "4 tables, 10 rows"


def test_catalog_show_json(tiny_catalog: Path) -> None:
    result = runner.invoke(app, ["catalog", "show", str(tiny_catalog), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["tickets"]["free_text"] == ["body"]
    assert rows["prefs"]["rows"] == 2


def test_catalog_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    result = runner.invoke(app, ["catalog", "schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["title"] == "Privacy Workbench catalog (data map)"


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from dsar.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'demo' in r.output and 'catalog' in r.output\n"
        "heavy = [m for m in ('presidio_analyzer', 'presidio_anonymizer', 'spacy', 'pyspark')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "dsar"
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "Privacy Workbench" in done.stdout


def test_access_command_writes_and_verifies(trap_catalog: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--email",
            "ann@example.com",
            "--out",
            str(tmp_path / "b"),
            "--label",
            "AR-7",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{tmp_path / 'b' / 'AR-7'}  (9 rows, verified)"


def test_access_command_batch(trap_catalog: Path, tmp_path: Path) -> None:
    batch = tmp_path / "subjects.csv"
    batch.write_text("request_id,email,user_id\nAR-1,ann@example.com,\nAR-2,,u3\n", "utf-8")
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--batch",
            str(batch),
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()] == [
        str(tmp_path / "b" / "AR-1"),
        str(tmp_path / "b" / "AR-2"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the person's --email or an --id TYPE=VALUE"),
        (["--id", "mail=x"], "unknown identifier type 'mail'"),
        (
            ["--email", "a@b.c", "--passphrase-env", "NOT_SET_ANYWHERE"],
            "environment variable NOT_SET_ANYWHERE is not set",
        ),
    ],
)
def test_access_command_bad_input(
    trap_catalog: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["access", "--catalog", str(trap_catalog), "--out", str(tmp_path), *args]
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_access_command_batch_file_missing(
    trap_catalog: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "nope.csv"
    args = ["access", "--catalog", str(trap_catalog), "--out", str(tmp_path / "b")]
    code, out, err = _run_main([*args, "--batch", str(missing)], monkeypatch, capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"error: {missing}: no such file; --batch takes a CSV with a request_id column and one"
        " column per identifier type\n"
    )


def test_a_key_given_but_unusable_is_an_error_in_both_command_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No job quietly runs without a key the user meant to give (planning and extracts
    work without one only when none is given)."""
    from dsar.cli.common import optional_keys
    from dsar.errors import MissingKeyError

    monkeypatch.delenv("WORKBENCH_KEY", raising=False)
    assert optional_keys(None) is None
    monkeypatch.setenv("WORKBENCH_KEY", "short")
    with pytest.raises(MissingKeyError, match="at least 32"):
        optional_keys(None)
    monkeypatch.setenv("WORKBENCH_KEY", "k" * 40)
    assert optional_keys(None) is not None
    with pytest.raises(MissingKeyError, match="does not exist"):
        optional_keys(tmp_path / "nope")


def test_a_ledger_named_to_leave_people_out_must_exist(tmp_path: Path) -> None:
    """A typo in --ledger opened a new, empty ledger and sent everyone (found by the red
    team on audiences); every command that reads a ledger to leave people out refuses."""
    from dsar.cli.common import existing_ledger
    from dsar.errors import MissingFileError
    from dsar.keys import Keys

    with pytest.raises(MissingFileError, match=r"the suppression ledger .*ledgr.db is not there"):
        existing_ledger(tmp_path / "ledgr.db", Keys(b"k" * 40), None)
    assert not (tmp_path / "ledgr.db").exists()
