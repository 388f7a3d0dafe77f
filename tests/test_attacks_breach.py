"""Attacks on `dsar breach scope` / `confirm` (issue 26's red team, findings 1 and 6 to 10).

Each test rebuilds the attack on a small hand-made export: accounts with a country and a
state, web logs that reach them, and a table held for customers as their processor.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar.breach.deadlines import residence
from dsar.breach.places import country_code, us_state_code
from dsar.cli import app
from dsar.errors import WorkbenchError

KEY = "k" * 64
CATALOG = """\
version: 1
controller:
  name: Lab B.V.
  contact: privacy@lab.example
  dpo: dpo@lab.example
  supervisory_authority: {authority}
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Your account.
    category: account
    origin: provided
    purposes: [service]
    legal_basis: contract
    source: the person
    retention: {{criteria: while open}}
    erasure: {{action: delete}}
    primary_key: [user_id]
    columns:
      user_id: {{identity: user_id, type: string}}
      customer_id: {{identity: customer_id, type: string}}
      email: {{identity: email, type: string, category: contact}}
      country: {{type: string, category: location}}
      state: {{type: string, category: location}}
      created_at: {{type: timestamp}}
  web_logs:
    path: web_logs.csv
    format: csv
    description: Web logs.
    category: logs
    origin: observed
    purposes: [security]
    legal_basis: legitimate_interests
    source: your browser
    retention: {{period: 30 days, after: ts}}
    erasure: {{action: delete}}
    columns:
      ts: {{type: timestamp}}
      user_id: {{identity: user_id, type: string, references: accounts.user_id}}
  end_users:
    path: end_users.csv
    format: csv
    description: End users of our customers' apps, held on their behalf.
    role: processor
    held_for: customer_id
    category: account
    origin: provided
    purposes: [provide the service to our customer]
    legal_basis: contract
    source: our customer
    retention: {{criteria: as instructed by our customer}}
    erasure: {{action: delete}}
    primary_key: [end_user_id]
    columns:
      end_user_id: {{type: string}}
      customer_id: {{type: string, references: accounts.customer_id}}
      email: {{identity: email, type: string, category: contact}}
      signed_up_at: {{type: timestamp}}
"""


def _lab(
    root: Path,
    places: list[tuple[str, str]],
    *,
    authority: str = "the authority",
) -> Path:
    """An export whose people u1.. live at `places` (country, state), each with a log line."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "customer_id", "email", "country", "state", "created_at"])
        for i, (country, state) in enumerate(places, 1):
            w.writerow([f"u{i}", f"c{i}", f"p{i}@example.com", country, state, "2025-01-01"])
    with (root / "web_logs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "user_id"])
        for i in range(1, len(places) + 1):
            w.writerow(["2026-11-05 10:00:00", f"u{i}"])
    with (root / "end_users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["end_user_id", "customer_id", "email", "signed_up_at"])
        for i in range(6):
            w.writerow([f"e{i}", f"c{i % 3 + 1}", f"end{i}@apps.example", "2026-11-05 10:00:00"])
    (root / "catalog.yml").write_text(CATALOG.format(authority=authority))
    return root / "catalog.yml"


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    result = CliRunner().invoke(app, args)
    if isinstance(result.exception, WorkbenchError):  # run_cli prints it, exit 1
        return 1, result.output + str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _scope(
    catalog: Path,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
    table: str = "web_logs",
) -> tuple[int, str]:
    return _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(catalog),
            "--table",
            table,
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-14",
            "--discovered",
            "2026-11-20T10:00Z",
            "--out",
            str(out),
            *extra,
        ],
        monkeypatch,
    )


def _manifest(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "scope.json").read_text())
    return data


def _rules(out: Path) -> dict[str, dict[str, object]]:
    deadlines = _manifest(out)["deadlines"]
    assert isinstance(deadlines, list)
    return {d["rule"]: d for d in deadlines}


# --- finding 1: countries and states written as names ------------------------------------


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("United Kingdom", "GB"),
        ("Netherlands", "NL"),
        ("The Netherlands", "NL"),
        ("NLD", "NL"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("United States of America", "US"),
        ("Ireland", "IE"),
        ("Éire", "IE"),
        ("Norway", "NO"),
        ("Norge", "NO"),
        ("uk", "GB"),
        ("gb", "GB"),
        ("GBR", "GB"),
        ("España", "ES"),
        ("Österreich", "AT"),
        (" fr ", "FR"),
    ],
)
def test_country_cells_written_as_names_and_codes_are_read(cell: str, code: str) -> None:
    assert country_code(cell) == code


@pytest.mark.parametrize(
    ("cell", "code"), [("California", "CA"), ("colorado", "CO"), ("NY", "NY"), ("tx", "TX")]
)
def test_us_states_written_as_names_and_codes_are_read(cell: str, code: str) -> None:
    assert us_state_code(cell) == code


@pytest.mark.parametrize(
    ("cell", "rule"),
    [
        ("Germany", "gdpr-authority"),
        ("Deutschland", "gdpr-authority"),
        ("United Kingdom", "uk-authority"),
        ("Netherlands", "gdpr-authority"),
        ("NLD", "gdpr-authority"),
        ("U.S.", "us-co"),
        ("Ireland", "gdpr-authority"),
        ("Norway", "gdpr-authority"),
    ],
)
def test_a_country_written_as_a_name_gets_its_deadline(
    cell: str, rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = "CO" if cell == "U.S." else ""
    catalog = _lab(tmp_path / "lab", [(cell, state)] * 3)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    rules = _rules(tmp_path / "BR")
    assert rules[rule]["applies"] == "yes" and rules[rule]["people"] == 3
    assert rules[rule]["due"] is not None


@pytest.mark.parametrize(("state", "rule"), [("California", "us-ca"), ("Colorado", "us-co")])
def test_a_state_written_as_a_name_gets_its_deadline(
    state: str, rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", state)] * 2)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert _rules(tmp_path / "BR")[rule]["applies"] == "yes"


def test_uk_and_gb_are_one_country(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _lab(tmp_path / "lab", [("UK", ""), ("gb", ""), ("United Kingdom", "")])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert _manifest(tmp_path / "BR")["countries"] == {"GB": 3}
    assert _rules(tmp_path / "BR")["uk-authority"]["people"] == 3


def test_an_unreadable_country_is_residence_unknown_with_a_warning_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cells = [("dave.private@gmail.com", ""), ("US", "Heidi Klum 12 Elm St"), ("Atlantis", "")]
    catalog = _lab(tmp_path / "lab", cells)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--residence-unknown", "GB")
    assert code == 0, output
    out = tmp_path / "BR"
    everything = output + "".join(
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()
    )
    for cell in ("dave.private", "Heidi", "Elm St", "Atlantis"):
        assert cell not in everything
    assert "2 person(s) have a country cell that names no country" in output
    assert "1 US resident(s) have a state cell that names no US state" in output
    manifest = _manifest(out)
    assert manifest["countries"] == {"US": 1, "unknown": 2}
    residence_read = manifest["residence"]
    assert isinstance(residence_read, dict)
    assert residence_read["unreadable_country"] == 2 and residence_read["unreadable_state"] == 1
    assert _rules(out)["uk-authority"]["people"] == 2  # the fallback takes them


def test_people_in_a_state_without_a_rule_get_a_notice_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "NY"), ("US", "Texas"), ("Switzerland", "")])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    rules = _rules(tmp_path / "BR")
    for place in ("US-NY", "US-TX", "CH"):
        row = rules[f"not-covered-{place.lower()}"]
        assert row["applies"] == "not_covered" and row["people"] == 1 and row["where"] == place
        assert f"live in {place}, which this tool holds no rule for" in output
    assert "New York" in str(rules["not-covered-us-ny"]["notify"])


def test_residence_reads_names_too() -> None:
    places = residence([("Deutschland", None), ("U.S.", "California"), ("x@y.example", None)])
    # the unreadable cell counts where the company says, and as no country ('?')
    assert places == {"EU/EEA": 2, "US": 1, "US-CA": 1, "?": 1}


# --- finding 9: cases that had no deadline row -------------------------------------------


def test_a_processor_table_lists_the_duty_to_tell_each_controller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="end_users")
    assert code == 0, output
    row = _rules(tmp_path / "BR")["gdpr-processor"]
    assert row["people"] == 3 and row["applies"] == "yes" and "33(2)" in str(row["source"])
    report = (tmp_path / "BR" / "regulator-report.md").read_text()
    assert "Controller: Lab B.V." not in report
    assert "Processor (for its customers, the controllers): Lab B.V." in report
    assert "Art. 33(2)" in report


def test_a_scope_reaching_no_one_still_goes_into_the_breach_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="accounts")
    assert code == 0, output
    assert _manifest(tmp_path / "BR")["counts"]["people"] == 0  # type: ignore[index]
    assert _rules(tmp_path / "BR")["gdpr-register"]["applies"] == "yes"
    assert "still recorded in the internal breach register (Art. 33(5))" in output


def test_an_eu_established_controller_with_only_us_residents_gets_the_gdpr_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    us = [("US", "NY")] * 2
    eu = _lab(tmp_path / "eu", us, authority="Autoriteit Persoonsgegevens (Netherlands)")
    code, output = _scope(eu, tmp_path / "BR-eu", monkeypatch)
    assert code == 0, output
    rules = _rules(tmp_path / "BR-eu")
    assert rules["gdpr-authority"]["people"] == 2 and rules["gdpr-authority"]["due"]
    assert _manifest(tmp_path / "BR-eu")["residence"]["established"] == "EU/EEA"  # type: ignore[index]
    # a controller with no known establishment: GDPR where people live only; stated, it applies
    elsewhere = _lab(tmp_path / "x", us)
    code, output = _scope(elsewhere, tmp_path / "BR-x", monkeypatch)
    assert code == 0, output
    assert "gdpr-authority" not in _rules(tmp_path / "BR-x")
    code, output = _scope(elsewhere, tmp_path / "BR-y", monkeypatch, "--established", "EU/EEA")
    assert code == 0, output
    assert _rules(tmp_path / "BR-y")["gdpr-authority"]["people"] == 2


# --- finding 6: confirm trusts nothing it did not write ----------------------------------


@pytest.fixture
def scoped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A scoped breach of 4 people (NL), its catalog and its register."""
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 4)
    out, register = tmp_path / "BR", tmp_path / "records" / "requests.db"
    code, output = _scope(catalog, out, monkeypatch, "--malicious", "--register", str(register))
    assert code == 0, output
    return out, catalog, register


def _confirm(
    out: Path,
    catalog: Path,
    register: Path,
    monkeypatch: pytest.MonkeyPatch,
    *decision: str,
    by: str = "DPO",
    reason: str = "logs only, access closed",
) -> tuple[int, str]:
    args = ["breach", "confirm", str(out), *(decision or ("--no-notify",)), "--by", by]
    args += ["--reason", reason, "--catalog", str(catalog), "--register", str(register)]
    return _run(args, monkeypatch)


def _confirmed(register: Path) -> list[dict[str, object]]:
    log = register.with_name(register.name + ".audit.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, log) if e["action"] == "breach.confirmed"]


def test_an_edited_scope_json_is_refused(
    scoped: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = scoped
    data = _manifest(out)
    severity = data["severity"]
    assert isinstance(severity, dict)
    severity.update(score=1.0, band="low", notify_people_recommended=False)
    (out / "scope.json").write_text(json.dumps(data, indent=2))
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "its MAC does not match" in output
    assert _confirmed(register) == []


def test_a_scope_json_without_its_mac_is_refused(
    scoped: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = scoped
    data = _manifest(out)
    data.pop("mac")
    (out / "scope.json").write_text(json.dumps(data, indent=2))
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "scope.json carries no MAC: it was not written by scope" in output
    assert _confirmed(register) == []


def test_a_decision_is_taken_once_per_breach_whatever_the_folder(
    scoped: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    out, catalog, register = scoped
    copy = tmp_path / "BR-copy"
    shutil.copytree(out, copy)
    code, output = _confirm(out, catalog, register, monkeypatch, "--notify")
    assert code == 0, output
    # the decision stripped from scope.json (the MAC no longer matches), or a copy confirmed
    data = _manifest(out)
    data.pop("decision")
    (out / "scope.json").write_text(json.dumps(data, indent=2))
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1
    code, output = _confirm(copy, catalog, register, monkeypatch, by="CFO")
    assert code == 1 and "has a decision already in the audit log" in output
    assert len(_confirmed(register)) == 1


def test_a_deleted_audit_entry_does_not_allow_a_second_decision(
    scoped: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    out, catalog, register = scoped
    copy = tmp_path / "BR-copy"
    shutil.copytree(out, copy)
    assert _confirm(out, catalog, register, monkeypatch, "--notify")[0] == 0
    log = register.with_name(register.name + ".audit.jsonl")
    lines = log.read_text().splitlines()
    log.write_text("".join(line + "\n" for line in lines if "breach.confirmed" not in line))
    code, output = _confirm(copy, catalog, register, monkeypatch)
    assert code == 1 and "keyed check" in output


@pytest.mark.parametrize("attack", ["contacts", "dropped", "letter", "added"])
def test_a_changed_file_of_the_folder_is_refused(
    attack: str, scoped: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    out, catalog, register = scoped
    affected = out / "affected.parquet"
    table = pq.read_table(affected)
    if attack == "contacts":
        contacts = table.column("contact").to_pylist()
        contacts[0], contacts[1] = contacts[1], contacts[0]
        index = table.column_names.index("contact")
        pq.write_table(table.set_column(index, "contact", [contacts]), affected)
    elif attack == "dropped":
        pq.write_table(table.slice(0, table.num_rows - 3), affected)
    elif attack == "letter":
        with (out / "letters" / "P-0001.md").open("a") as f:
            f.write("\nPlease confirm your card number by replying.\n")
    else:
        (out / "letters" / "P-0099.md").write_text("A letter scope never wrote.\n")
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and ("changed since scope" in output or "not written by scope" in output)
    assert _confirmed(register) == []


def test_an_export_changed_since_scope_is_refused(
    scoped: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = scoped
    with (catalog.parent / "web_logs.csv").open("a", newline="") as f:
        f.write("2026-11-06 09:00:00,u1\r\n")  # a new row in the window, after scope
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 1 and "web_logs" in output and "changed since scope" in output
    recorded = _manifest(out)["data_files"]
    assert isinstance(recorded, dict) and set(recorded) == {"accounts", "web_logs", "end_users"}


def test_an_honest_confirm_is_recorded_in_the_audit_log_and_scope_json(
    scoped: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, catalog, register = scoped
    code, output = _confirm(out, catalog, register, monkeypatch, "--notify")
    assert code == 0, output
    assert _manifest(out)["decision"]["notify_people"] is True  # type: ignore[index]
    [entry] = _confirmed(register)
    assert entry["request"] == _manifest(out)["breach_id"]


# --- finding 7: personal values and tracebacks in confirm's input ------------------------


@pytest.mark.parametrize(
    ("by", "reason", "said"),
    [
        ("DPO", "alice@example.com complained", "EMAIL_ADDRESS"),
        ("DPO", "called back on +31611111111", "PHONE_NUMBER"),
        ("DPO", "card 4111 1111 1111 1111 was seen", "CREDIT_CARD"),
        ("bob@example.com", "logs only, access closed", "EMAIL_ADDRESS"),
        ("DPO", "x", "--reason is too short"),
        ("", "logs only, access closed", "--by is empty"),
        ("   ", "logs only, access closed", "--by is empty"),
    ],
)
def test_confirm_refuses_personal_values_and_empty_input_without_a_traceback(
    by: str,
    reason: str,
    said: str,
    scoped: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, catalog, register = scoped
    before = (out / "scope.json").read_text()
    code, output = _confirm(out, catalog, register, monkeypatch, by=by, reason=reason)
    assert code == 1 and said in output and "Traceback" not in output
    for value in ("alice@", "31611111111", "4111", "bob@"):
        assert value not in output
    assert (out / "scope.json").read_text() == before
    assert _confirmed(register) == []


# --- finding 8: --out is a new, owner-only folder, never a link --------------------------


def test_an_existing_empty_open_folder_is_narrowed_to_the_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import stat

    catalog = _lab(tmp_path / "lab", [("NL", "")])
    out = tmp_path / "open"
    out.mkdir()
    os.chmod(out, 0o777)
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "letters").stat().st_mode) == 0o700


def test_an_out_that_is_a_symbolic_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    code, output = _scope(catalog, tmp_path / "link", monkeypatch)
    assert code == 1 and "symbolic link" in output
    assert list(real.iterdir()) == []


# --- finding 10: the window's end, the discovery time --------------------------------------


def test_a_to_time_is_inclusive_as_the_help_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.breach.filters import Window

    catalog = _lab(tmp_path / "lab", [("NL", "")])  # u1's log line is at 2026-11-05 10:00:00
    args = ["--from", "2026-11-05", "--to", "2026-11-05T10:00:00"]
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, *args)
    assert code == 0, output
    assert _manifest(tmp_path / "BR")["counts"]["people"] == 1  # type: ignore[index]
    one = Window.parse("2026-11-05T10:00:00Z", "2026-11-05T10:00:00Z")  # a single instant
    assert one.start is not None and one.end is not None and one.end > one.start


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("2099-01-01T00:00Z", "in the future"),
        ("1999-01-01T00:00Z", "before 25 May 2018"),
    ],
)
def test_an_implausible_discovery_time_is_refused(
    when: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--discovered", when)
    assert code == 1 and said in output
    assert not (tmp_path / "BR").exists()


def test_a_discovery_date_without_a_time_is_noticed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--discovered", "2026-11-20")
    assert code == 0, output
    assert "--discovered is a date without a time: taken as 00:00 UTC" in output


def test_the_country_table_agrees_with_cldr() -> None:
    babel = pytest.importorskip("babel")
    from babel.core import Locale

    from dsar.breach.country_names import ALPHA2

    english = Locale("en").territories
    assert babel is not None and len(ALPHA2) > 240
    for code in ("DE", "NL", "GB", "US", "IE", "NO", "JP", "BR"):
        assert country_code(english[code]) == code
        assert country_code(code.lower()) == code


# --- findings 2, 3, 5: times read as instants in UTC, unreadable times counted, NULLs ----


def _logs(catalog: Path, times: list[str]) -> None:
    """Rewrite the lab's web logs: u1, u2, ... each with one line at `times[i]`."""
    with (catalog.parent / "web_logs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "user_id"])
        for i, ts in enumerate(times, 1):
            w.writerow([ts, f"u{i}"])


def _people(out: Path) -> list[str]:
    import pyarrow.parquet as pq

    return sorted(pq.read_table(out / "affected.parquet").column("contact").to_pylist())


def test_offsets_in_csv_times_are_applied_the_window_is_in_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 5)
    _logs(
        catalog,
        [
            "2026-11-15 01:00:00+05:00",  # 14th 20:00Z: in
            "2026-10-31 20:00:00-05:00",  # 1st 01:00Z: in
            "2026-11-14 23:30:00-05:00",  # 15th 04:30Z: out
            "2026-11-01 00:30:00+02:00",  # 31 Oct 22:30Z: out
            "2026-11-05T10:00:00Z",  # in
        ],
    )
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert _people(tmp_path / "BR") == ["p1@example.com", "p2@example.com", "p5@example.com"]


def test_common_time_layouts_are_read_and_unreadable_or_empty_times_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 9)
    catalog.write_text(catalog.read_text().replace("ts: {type: timestamp}", "ts: {type: string}"))
    _logs(
        catalog,
        [
            "13/11/2026 10:00",  # day first (13 > 12 settles the column): in
            "05/11/2026",  # 5 Nov by the same column: in
            "1793869200",  # epoch seconds, 2026-11-05 09:00Z: in
            "1793869200000",  # epoch milliseconds: in
            "Nov 5, 2026",  # in
            "2026-10-25",  # out (a date after this run would be kept: no export holds it)
            "",  # empty: kept, undetermined
            "sometime in autumn",  # unreadable: kept, undetermined
            "05/12/2026",  # 5 Dec: out
        ],
    )
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    kept = [1, 2, 3, 4, 5, 7, 8]
    assert _people(tmp_path / "BR") == [f"p{i}@example.com" for i in kept]
    counts = _manifest(tmp_path / "BR")["counts"]
    assert counts["time_undetermined"] == {"web_logs": 2}  # type: ignore[index]
    assert "cannot be read (1)" in output and "empty (1)" in output
    report = (tmp_path / "BR" / "regulator-report.md").read_text()
    assert "time is empty or unreadable (kept in scope) | 2" in report


def test_day_and_month_that_no_value_tells_apart_are_refused_naming_the_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    catalog.write_text(catalog.read_text().replace("ts: {type: timestamp}", "ts: {type: string}"))
    _logs(catalog, ["05/11/2026", "2026-11-05"])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 1 and "web_logs.ts" in output and "05/11" not in output


def test_an_epoch_milliseconds_column_in_parquet_places_rows_by_magnitude(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    catalog = _lab(tmp_path / "lab", [("NL", "")] * 4)
    ms = [1793869200000, 1796547600000, 1736071200000, None]  # Nov 5, Dec 5, Jan 2025, none
    pq.write_table(
        pa.table({"ts": pa.array(ms, pa.int64()), "user_id": ["u1", "u2", "u3", "u4"]}),
        catalog.parent / "web_logs.parquet",
    )
    (catalog.parent / "web_logs.csv").unlink()
    text = catalog.read_text().replace(
        "path: web_logs.csv\n    format: csv", "path: web_logs.parquet\n    format: parquet"
    )
    catalog.write_text(text.replace("ts: {type: timestamp}", "ts: {description: epoch ms}"))
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert _people(tmp_path / "BR") == ["p1@example.com", "p4@example.com"]
    assert _manifest(tmp_path / "BR")["counts"]["time_undetermined"] == {"web_logs": 1}  # type: ignore[index]


def test_an_epoch_is_read_in_the_same_unit_as_text_and_as_a_number_column() -> None:
    """Seconds, milliseconds, microseconds, nanoseconds by magnitude: the text reading
    (`parse_times`) and the number column's SQL (`_epoch_sql`) agree on each unit."""
    from datetime import datetime, timedelta

    import duckdb
    import pyarrow as pa

    from dsar.breach.filters import Window
    from dsar.breach.times import _epoch_sql, parse_times

    moment = datetime(2026, 11, 5, 9, 0)
    numbers = [1793869200 * 10**e for e in (0, 3, 6, 9)]
    parsed = parse_times([str(n) for n in numbers], "t")
    assert [parsed[str(n)] for n in numbers] == [(moment, False)] * 4
    con = duckdb.connect()
    late = [n * 10 for n in numbers[:3]]  # in the same unit, years later (ns: past int64)
    table = pa.table({"t": pa.array(numbers + late, pa.int64())})
    con.register("t", table)
    params: list[object] = []
    window = Window(moment - timedelta(hours=1), moment + timedelta(hours=1))
    where = _epoch_sql("t", window, params)
    kept = con.execute(f"SELECT t FROM t WHERE {where} ORDER BY t", params).fetchall()
    assert [k[0] for k in kept] == numbers
    assert all(parse_times([str(n)], "t")[str(n)][0] != moment for n in late)


def test_not_equal_keeps_rows_whose_column_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.breach.filters import Condition, condition_sql

    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    with (catalog.parent / "web_logs.csv").open("a", newline="") as f:
        csv.writer(f).writerow(["2026-11-05 11:00:00", ""])  # an anonymous line
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--where", "user_id != 'u9'")
    assert code == 0, output
    assert _manifest(tmp_path / "BR")["counts"]["rows"] == {"web_logs": 3}  # type: ignore[index]
    from dsar.catalog.loader import load_catalog

    table = load_catalog(catalog).tables["web_logs"]
    assert "IS DISTINCT FROM" in condition_sql(table, Condition("user_id", "<>", "x"), [])


# --- the register from Python, and a notice recorded from the command line ---------------


def test_python_breach_scope_registers_and_notified_records_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from dsar.breach import Incident, ScopeSpec, Window, breach_scope
    from dsar.catalog.loader import load_catalog
    from dsar.engine import open_engine
    from dsar.keys import Keys
    from dsar.records.breaches import Breaches

    catalog = _lab(tmp_path / "lab", [("NL", "")])
    register = tmp_path / "requests.db"
    keys = Keys(KEY.encode())
    spec = ScopeSpec(("web_logs",), window=Window.parse("2026-11-01", "2026-11-14"))
    incident = Incident("BR-1", datetime(2026, 11, 20, 10, tzinfo=UTC), "a log exposed", "closed")
    with open_engine(load_catalog(catalog), "duckdb") as engine:
        result = breach_scope(engine, spec, incident, tmp_path / "BR", keys=keys, register=register)
    assert result.registered is not None and result.registered.id == "BR-1"
    with Breaches(register, keys) as book:
        assert "gdpr-authority" in {d.rule for d in book.get("BR-1").pending()}
    args = ["breach", "notified", "BR-1", "--register", str(register)]
    code, output = _run([*args, "--rule", "no-such-rule"], monkeypatch)
    assert code == 1 and "gdpr-authority" in output  # the error lists the breach's rules
    code, output = _run([*args, "--rule", "gdpr-authority"], monkeypatch)
    assert code == 0, output
    with Breaches(register, keys) as book:
        record = book.get("BR-1")
    assert "gdpr-authority" in record.notified
    assert "gdpr-authority" not in {d.rule for d in record.pending()}
    audit = (tmp_path / "requests.db.audit.jsonl").read_text()
    assert "breach.registered" in audit and "breach.notified" in audit


# --- finding 4: account holders joined through a shared or weaker identifier stay apart ---

TICKETS = """\
  tickets:
    path: tickets.jsonl
    format: jsonl
    description: Your support tickets.
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
      requester_email: {identity: email, type: string, category: contact}
      body: {free_text: true, type: string}
      created_at: {type: timestamp}
"""


def _ticket_lab(
    root: Path, places: list[tuple[str, str]], tickets: list[tuple[str | None, str | None]]
) -> Path:
    """`_lab` with a tickets table: (user_id, requester_email) per ticket, in the window."""
    catalog = _lab(root, places, authority="Autoriteit Persoonsgegevens (Netherlands)")
    catalog.write_text(catalog.read_text() + TICKETS)
    with (root / "tickets.jsonl").open("w") as f:
        for i, (user, email) in enumerate(tickets, 1):
            row = {"ticket_id": f"T{i}", "user_id": user, "requester_email": email}
            row |= {"body": "my order", "created_at": "2026-11-05T10:00:00Z"}
            f.write(json.dumps(row) + "\n")
    return catalog


def _share_inbox(catalog: Path, *users: int) -> None:
    accounts = (catalog.parent / "accounts.csv").read_text()
    for i in users:
        accounts = accounts.replace(f"p{i}@example.com", "team@example.com")
    (catalog.parent / "accounts.csv").write_text(accounts)


Found = tuple[int, list[str], dict[str, int], str, str | None, str | None]


def _both_searches_agree(catalog: Path, table: str) -> list[Found]:
    from dsar.breach import ScopeSpec, Window, scope_breach
    from dsar.catalog.loader import load_catalog
    from dsar.engine import open_engine

    spec = ScopeSpec((table,), window=Window.parse("2026-11-01", "2026-11-14"))
    found = []
    with open_engine(load_catalog(catalog), "duckdb") as engine:
        for method in ("per-person", "set"):
            scope = scope_breach(engine, spec, method=method)
            people: list[Found] = [
                (p.number, sorted(map(str, p.keys)), p.rows, str(p.contact), p.country, p.state)
                for p in scope.people
            ]
            found.append((people, scope.several_accounts, scope.texts, scope.not_linked))
    assert found[0] == found[1]
    return found[0][0]


def _affected(out: Path) -> list[dict[str, object]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, object]] = pq.read_table(out / "affected.parquet").to_pylist()
    return rows


def test_a_ticket_with_one_accounts_id_and_anothers_email_reaches_both_account_holders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # t_merge: bob (u2, California) filed a ticket giving carol's address (u3, New York)
    catalog = _ticket_lab(
        tmp_path / "lab", [("NL", ""), ("US", "CA"), ("US", "NY")], [("u2", "p3@example.com")]
    )
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="tickets")
    assert code == 0, output
    assert "2 people (2 account holders" in output
    assert "1 row(s) in scope reach more than one account holder" in output
    assert "join" not in output and "@" not in output
    people = _affected(tmp_path / "BR")
    assert sorted(str(p["contact"]) for p in people) == ["p2@example.com", "p3@example.com"]
    assert sorted(str(p["state"]) for p in people) == ["CA", "NY"]
    manifest = _manifest(tmp_path / "BR")
    counts = manifest["counts"]
    assert isinstance(counts, dict) and counts["rows_to_several_accounts"] == {"tickets": 1}
    assert {"us-ca", "not-covered-us-ny"} <= set(_rules(tmp_path / "BR"))
    assert len(list((tmp_path / "BR" / "letters").glob("*.md"))) == 2
    # each keeps their own identifiers: bob is not given carol's address, nor carol bob's id
    people_found = _both_searches_agree(catalog, "tickets")
    bob, carol = people_found
    assert "user_id=u2" in bob[1] and "email=p3@example.com" not in bob[1]
    assert "user_id=u3" in carol[1] and "user_id=u2" not in carol[1]


def test_a_team_inbox_shared_by_an_nl_and_a_gb_account_keeps_both_countries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # t_merge2: a ticket from the inbox two accounts (NL, GB) sign in with
    catalog = _ticket_lab(tmp_path / "lab", [("NL", ""), ("GB", "")], [(None, "team@example.com")])
    _share_inbox(catalog, 1, 2)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="tickets")
    assert code == 0, output
    assert "2 people (2 account holders" in output and "GB 1, NL 1" in output
    assert "1 row(s) in scope reach more than one account holder" in output
    assert "team@" not in output
    assert {"gdpr-authority", "uk-authority"} <= set(_rules(tmp_path / "BR"))
    assert sorted(str(p["country"]) for p in _affected(tmp_path / "BR")) == ["GB", "NL"]
    people = _both_searches_agree(catalog, "tickets")
    assert [p[4] for p in people] == ["NL", "GB"]
    assert all(p[3] == "email=team@example.com" for p in people)  # their own (shared) address


def test_an_account_reached_alone_is_not_joined_by_the_inbox_it_shares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", ""), ("GB", "")])
    _share_inbox(catalog, 1, 2)
    _logs(catalog, ["2026-11-05 10:00:00"])  # u1's line only
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert "1 people (1 account holders" in output and "countries: NL 1\n" in output
    assert "join" not in output and "more than one account holder" not in output
    assert "team@" not in output
    counts = _manifest(tmp_path / "BR")["counts"]
    assert isinstance(counts, dict) and counts["rows_to_several_accounts"] == {}
    assert len(_both_searches_agree(catalog, "web_logs")) == 1


def test_a_ticket_of_ones_own_id_and_address_is_one_person(tmp_path: Path) -> None:
    catalog = _ticket_lab(tmp_path / "lab", [("NL", ""), ("GB", "")], [("u1", "p1@example.com")])
    people = _both_searches_agree(catalog, "tickets")
    assert [(p[3], p[4]) for p in people] == [("email=p1@example.com", "NL")]


def test_two_accounts_sharing_an_inbox_each_in_scope_are_found_alike_by_both_searches(
    tmp_path: Path,
) -> None:
    # each account seeds a request of the per-person batch: there, one request can miss the
    # other account its shared inbox leads to (rows found for the other request first)
    places = [("NL", ""), ("GB", ""), ("DE", ""), ("FR", "")]
    catalog = _ticket_lab(tmp_path / "lab", places, [("u2", None), ("u3", None), ("u1", None)])
    _share_inbox(catalog, 2, 3)
    people = _both_searches_agree(catalog, "tickets")
    assert [(p[2], p[4]) for p in people] == [
        ({"tickets": 1}, "NL"),
        ({"tickets": 1}, "GB"),
        ({"tickets": 1}, "DE"),
    ]
