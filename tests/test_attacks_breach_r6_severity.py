"""Red team 26 round 6, finding 2: a leaked column of SSNs, card numbers, IBANs or clear-text
passwords that the catalog does not flag (`{type: string}`) scored "low" (1.25, no notice to
the people), and so did `hiv_status`; `dsar catalog check` said "catalog OK" without a word.

Now a leaked column the catalog does not flag counts by its name as what it holds: a
government ID or a card or bank account number (DPC 3, EI maximum: each names one person),
a password or secret (credentials, DPC 3), a condition such as `hiv_status` (special
categories, DPC 4); each reason names the columns and says they were read by name, the
recommendation warns that the catalog does not flag them, and `catalog check` warns too.
A column typed as a time (`password_changed_at`) is no password.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.test_attacks_breach import _run

CATALOG = """\
version: 1
controller:
  name: Lab B.V.
  contact: privacy@lab.example
  dpo: dpo@lab.example
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
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
      email: {{identity: email, type: string, category: contact}}
      ssn: {ssn}
      password: {password}
      iban: {iban}
      card_number: {card}
      hiv_status: {{type: string}}
      password_changed_at: {{type: timestamp}}
      plan: {{type: string}}
"""

PLAIN = {"ssn": "{type: string}", "password": "{type: string}", "iban": "{type: string}"}
PLAIN["card"] = "{type: string}"
FLAGGED = {
    "ssn": "{type: string, personal: government_id}",
    "password": "{type: string, secret: true}",
    "iban": "{type: string, personal: financial_account}",
    "card": "{type: string, personal: financial_account}",
}
PEOPLE = 5
HEADER = ["user_id", "email", "ssn", "password", "iban", "card_number", "hiv_status"]
HEADER += ["password_changed_at", "plan"]


def _export(root: Path, flags: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(1, PEOPLE + 1):
            w.writerow(
                [
                    *(f"u{i}", f"p{i}@example.com", f"123-45-678{i}", f"hunter{i}"),
                    *("NL91ABNA0417164300", "4111111111111111", "positive" if i == 1 else ""),
                    *("2026-11-01T10:00:00Z", "basic"),
                ]
            )
    (root / "catalog.yml").write_text(CATALOG.format(**flags))
    return root / "catalog.yml"


def _severity(catalog: Path, out: Path, columns: str, mp: pytest.MonkeyPatch) -> dict[str, object]:
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "accounts",
            "--columns", columns, "--discovered", "2026-12-01T00:00Z", "--out", str(out),
        ],
        mp,
    )  # fmt: skip
    assert code == 0, output
    severity: dict[str, object] = json.loads((out / "scope.json").read_text())["severity"]
    severity["console"] = output
    return severity


def _reason(severity: dict[str, object], factor: str) -> str:
    part = severity[factor]
    assert isinstance(part, dict)
    return str(part["reason"])


def _value(severity: dict[str, object], factor: str) -> float:
    part = severity[factor]
    assert isinstance(part, dict)
    return float(part["value"])


@pytest.mark.parametrize(
    ("column", "category", "ei"),
    [("ssn", "government_id", 1.0), ("card_number", "billing", 1.0), ("iban", "billing", 1.0)],
)
def test_an_unflagged_id_or_card_column_scores_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, category: str, ei: float
) -> None:
    catalog = _export(tmp_path / "x", PLAIN)
    severity = _severity(catalog, tmp_path / "o", f"user_id,{column}", monkeypatch)
    assert _value(severity, "dpc") == 3
    assert _value(severity, "ei") == ei
    assert f"accounts.{column}" in _reason(severity, "ei")
    assert "does not flag" in _reason(severity, "ei")
    assert f"accounts.{column}" in _reason(severity, "dpc")
    assert severity["band"] == "high" and severity["notify_people_recommended"] is True
    console = str(severity["console"])
    assert category in console.split("categories: ", 1)[1].splitlines()[0]
    assert f"WARNING: the catalog does not flag leaked column(s) accounts.{column}" in console
    # no value of the column reaches the console or the scope
    assert "123-45-678" not in console and "4111111111111111" not in console


def test_an_unflagged_password_column_is_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "x", PLAIN)
    severity = _severity(catalog, tmp_path / "o", "user_id,password", monkeypatch)
    assert _value(severity, "dpc") == 3
    assert "credentials" in _reason(severity, "dpc")
    assert "accounts.password (a password or secret)" in _reason(severity, "dpc")
    assert "hunter" not in str(severity["console"])


def test_a_health_column_by_name_is_special_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "x", PLAIN)
    severity = _severity(catalog, tmp_path / "o", "user_id,hiv_status", monkeypatch)
    assert _value(severity, "dpc") == 4
    assert "accounts.hiv_status" in _reason(severity, "dpc")
    assert severity["band"] == "high"


def test_a_time_named_for_a_password_and_a_plain_column_stay_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "x", PLAIN)
    severity = _severity(catalog, tmp_path / "o", "user_id,password_changed_at,plan", monkeypatch)
    assert _value(severity, "dpc") < 3
    assert "does not flag" not in str(severity["console"])


def test_the_flagged_catalog_scores_the_same_without_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = "user_id,ssn,password,iban,card_number"
    plain = _severity(_export(tmp_path / "x", PLAIN), tmp_path / "o", columns, monkeypatch)
    flagged = _severity(_export(tmp_path / "y", FLAGGED), tmp_path / "p", columns, monkeypatch)
    assert (plain["score"], plain["band"]) == (flagged["score"], flagged["band"]) == (3.5, "high")
    assert "does not flag" not in str(flagged["console"])
    assert "does not flag" in str(plain["console"])


def test_catalog_check_warns_of_unflagged_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _run(["catalog", "check", str(_export(tmp_path / "x", PLAIN))], monkeypatch)
    assert code == 0, output
    for column, fix in [
        ("ssn", "personal: government_id"),
        ("password", "secret: true"),
        ("iban", "personal: financial_account"),
        ("card_number", "personal: financial_account"),
    ]:
        assert f"warning: accounts.{column} is named as" in output
        assert fix in output
    assert "warning: accounts.hiv_status is named as special categories" in output
    assert "password_changed_at" not in output and "accounts.plan" not in output
    code, output = _run(["catalog", "check", str(_export(tmp_path / "y", FLAGGED))], monkeypatch)
    assert code == 0 and "does not flag" not in output
