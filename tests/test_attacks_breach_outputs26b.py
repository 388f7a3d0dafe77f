"""Attacks on `dsar breach scope` / `confirm` from issue 26's second red team (26b), the rest:
the Python API's confirm, a killed scope, export file names in scope.json, names in leaked
text and severity, US residents with no state, categories per value, others named counted
as people, `--where` on a time column.

Each test rebuilds the attack on the small hand-made export of test_attacks_breach.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_attacks_breach import KEY, _confirm, _lab, _manifest, _rules, _scope
from tests.test_attacks_breach_register import _narrowed, registered

__all__ = ["registered"]  # the fixture, used below


# --- the Python API's confirm checks the register as the command line does --------------


def test_the_python_api_confirm_refuses_a_scope_the_register_does_not_hold(
    registered: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.breach import confirm_breach
    from dsar.catalog import load_catalog
    from dsar.errors import UsageError
    from dsar.keys import Keys

    out, catalog, register = registered
    narrowed = tmp_path / "BR-narrowed"
    assert _narrowed(catalog, narrowed, monkeypatch) == 0
    keys = Keys(KEY.encode())
    decide = {
        "notify_people": False,
        "by": "DPO",
        "reason": "nobody reached",
        "keys": keys,
        "catalog": load_catalog(catalog),
        "register": register,
    }
    with pytest.raises(UsageError, match="not the scope the register holds for BR-1"):
        confirm_breach(narrowed, **decide)  # type: ignore[arg-type]
    assert _manifest(narrowed)["decision"] is None
    # the registered folder takes the decision, screened as the command line screens it
    with pytest.raises(UsageError, match="--reason holds what reads as personal data"):
        confirm_breach(out, **(decide | {"reason": "told ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"}))  # type: ignore[arg-type]  # noqa: RUF001
    done = confirm_breach(out, **decide)  # type: ignore[arg-type]
    assert done.decision is not None and done.decision.notify_people is False


# --- export file names never reach scope.json ---------------------------------------------


def test_export_file_names_are_kept_as_keyed_references_and_confirm_still_checks_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    catalog.write_text(catalog.read_text().replace("path: web_logs.csv", "path: logs/*.csv"))
    logs = catalog.parent / "logs"
    logs.mkdir()
    (catalog.parent / "web_logs.csv").rename(logs / "ann.lee@example.com.csv")
    (logs / "b.csv").write_text("ts,user_id\n2026-10-01 10:00:00,u9\n")
    out, register = tmp_path / "BR", tmp_path / "requests.db"
    code, output = _scope(catalog, out, monkeypatch, "--id", "BR-1", "--register", str(register))
    assert code == 0, output
    text = (out / "scope.json").read_text()
    assert "ann.lee" not in text and "example.com" not in text and "b.csv" not in text
    files = _manifest(out)["data_files"]["web_logs"]  # type: ignore[index]
    assert len(files) == 2 and all(k.startswith("file:") and len(k) == 29 for k in files)
    # a file renamed since scope (same content) is a change confirm finds
    (logs / "b.csv").rename(logs / "c.csv")
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "web_logs" in output and "changed since scope" in output
    (logs / "c.csv").rename(logs / "b.csv")
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 0, output


# --- US residents with no state: the states not checked are said -------------------------


def test_us_residents_without_a_state_get_a_not_covered_row_and_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "")] * 3 + [("US", "CA")])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    rules = _rules(tmp_path / "BR")
    row = rules["not-covered-us-no-state"]
    assert row["applies"] == "not_covered" and row["people"] == 3 and row["due"] is None
    assert "3 affected people live in the US in a state the data does not hold" in output
    assert "other states' laws" in output
    assert "US (no state in the data)" in (tmp_path / "BR" / "regulator-report.md").read_text()
    # everyone's state known: no such row
    known = _lab(tmp_path / "known", [("US", "CA")] * 2)
    code, output = _scope(known, tmp_path / "BR2", monkeypatch)
    assert code == 0, output
    assert "not-covered-us-no-state" not in _rules(tmp_path / "BR2")


# --- names in leaked free text make identification easy; others counted as people --------

TICKETS = """\
  tickets:
    path: tickets.csv
    format: csv
    description: Support tickets.
    category: communications
    origin: provided
    purposes: [support]
    legal_basis: contract
    source: the person
    retention: {period: 3 years, after: created_at}
    erasure: {action: delete}
    primary_key: [ticket_id]
    columns:
      ticket_id: {type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      body: {free_text: true, type: string}
      created_at: {type: timestamp}
"""


def _tickets(catalog: Path, bodies: list[str]) -> None:
    """The lab with a tickets table: u1, u2, ... each wrote `bodies[i]` on 5 November."""
    catalog.write_text(catalog.read_text() + TICKETS)
    with (catalog.parent / "tickets.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket_id", "user_id", "body", "created_at"])
        for i, body in enumerate(bodies, 1):
            w.writerow([f"t{i}", f"u{i}", body, "2026-11-05 10:00:00"])


def test_leaked_free_text_naming_people_makes_identification_easy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    _tickets(
        catalog,
        [
            "Please tell Maria Lopez, maria@lopez.example, +34 612 345 678. Maria Lopez is"
            " my manager.",
            "The parcel did not arrive.",
        ],
    )
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--columns", "body", table="tickets")
    assert code == 0, output
    manifest = _manifest(out)
    severity = manifest["severity"]
    assert isinstance(severity, dict)
    assert severity["ei"]["value"] == 1 and "free text names people" in severity["ei"]["reason"]
    # Maria Lopez, twice, with her address and her phone: one person, not four
    assert manifest["counts"]["others_named_in_text"] == 1  # type: ignore[index]
    assert severity["score"] >= 2.5 and severity["band"] != "low"
    # free text in which the engine finds no one still weighs more than no identifier
    quiet = _lab(tmp_path / "quiet", [("NL", "")] * 2)
    _tickets(quiet, ["The parcel did not arrive.", "The app is slow."])
    code, output = _scope(
        quiet, tmp_path / "BR2", monkeypatch, "--columns", "body", table="tickets"
    )
    assert code == 0, output
    ei = _manifest(tmp_path / "BR2")["severity"]["ei"]  # type: ignore[index]
    assert ei["value"] == 0.75 and "free text leaked" in ei["reason"]


def test_columns_take_table_dot_column_as_where_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    _tickets(catalog, ["The parcel did not arrive.", "The app is slow."])
    out = tmp_path / "BR"
    code, output = _scope(
        catalog,
        out,
        monkeypatch,
        *("--table", "web_logs", "--columns", "tickets.user_id,web_logs.ts"),
        table="tickets",
    )
    assert code == 0, output
    assert _manifest(out)["columns"] == {"tickets": ["user_id"], "web_logs": ["ts"]}
    code, output = _scope(
        catalog, tmp_path / "BR2", monkeypatch, "--columns", "web_logs.body", table="tickets"
    )
    assert code == 1 and "no breached table has column(s) web_logs.body" in output


# --- --where on a time column: refused, pointing to --from/--to ---------------------------


@pytest.mark.parametrize(
    "where",
    [
        "ts >= 2026-11-10T00:00:00+05:00",  # the offset was dropped: 00:00 read as UTC
        "web_logs.ts < '2026-11-06'",
        "ts like '2026-11-%'",
    ],
)
def test_a_where_on_a_time_column_is_refused_for_from_and_to(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--where", where)
    assert code == 1 and "is on a time column (web_logs.ts)" in output and "--from/--to" in output
    assert where.split()[-1].strip("'") not in output  # the value is never echoed
    assert not (tmp_path / "BR" / "scope.json").exists()


def test_a_where_on_a_text_column_holding_the_windows_times_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    # ts as text (the retention column): an epoch cell compared as text was dropped
    catalog.write_text(catalog.read_text().replace("ts: {type: timestamp}", "ts: {type: string}"))
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--where", "ts > 2026-11-05")
    assert code == 1 and "is on a time column (web_logs.ts)" in output
    # a condition on another column still runs
    code, output = _scope(catalog, tmp_path / "BR2", monkeypatch, "--where", "user_id = u1")
    assert code == 0, output
    assert _manifest(tmp_path / "BR2")["counts"]["people"] == 1  # type: ignore[index]


# --- a killed scope leaves nothing that looks finished ------------------------------------

_KILLED = """\
import os, signal, sys
import dsar.breach.report as report
from dsar.cli import app

def killed(*args, **kwargs):  # the letters are written; the run is killed before the rest
    os.kill(os.getpid(), signal.SIGKILL)

report._write_affected = killed
app(sys.argv[1:], standalone_mode=True)
"""


def test_a_killed_scope_leaves_only_a_staging_folder_the_next_run_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess
    import sys

    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    runs = tmp_path / "breaches"
    out = runs / "BR-K"
    args = [
        *("breach", "scope", "--catalog", str(catalog), "--table", "web_logs"),
        *("--discovered", "2026-11-20T10:00Z", "--out", str(out)),
    ]
    env = {**os.environ, "WORKBENCH_KEY": KEY, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    done = subprocess.run(
        [sys.executable, "-c", _KILLED, *args], env=env, capture_output=True, timeout=300
    )
    assert done.returncode == -9, done.stderr.decode()
    assert not out.exists()  # no folder of finished-looking letters under --out
    [staging] = [p for p in runs.iterdir() if p.is_dir()]
    assert staging.name.startswith(".BR-K.partial-")
    assert sorted(p.name for p in (staging / "letters").iterdir())[:1] == ["P-0001.html"]
    # the next run in that folder removes the leftover and writes the scope whole
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert sorted(p.name for p in runs.iterdir()) == ["BR-K"]
    assert (out / "scope.json").is_file() and len(list((out / "letters").iterdir())) == 6
    assert out.stat().st_mode & 0o777 == 0o700
