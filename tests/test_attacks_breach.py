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
    assert places == {"EU/EEA": 2, "US": 1, "US-CA": 1}


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
