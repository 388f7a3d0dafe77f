"""Red team 26 round 6, findings 10 and 8 (counts and what the report and letters say).

F10: with `--columns phone`, every person whose ticket was in scope was counted, told and
sent a letter, though only one ticket held a phone: the others are reached but nothing of
theirs leaked. They are now counted apart (`counts.nothing_leaked`), and left out of the
people concerned, the letters, affected.parquet and the deadlines' numbers.

F8: the regulator report showed no countries, no US states and no count of account
holders reached only by a weak identifier (all in scope.json); a letter to someone with no
account opened "Dear customer".
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.test_attacks_breach import _manifest, _run

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
    retention: {criteria: while open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string, category: contact}
      country: {type: string, category: location}
      state: {type: string, category: location}
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
      email: {identity: email, type: string, category: contact}
      phone: {identity: phone, type: string, category: contact}
      created_at: {type: timestamp}
"""

# (user, email, country, state); the tickets' emails, phones (only t2 holds one)
ACCOUNTS = [
    ("u1", "ann@ex.example", "NL", ""),
    ("u2", "bob@ex.example", "US", "CO"),
    ("u3", "cem@ex.example", "US", "FL"),
]
TICKETS = [
    ("t1", "ann@ex.example", ""),
    ("t2", "bob@ex.example", "+31 20 123 4567"),
    ("t3", "zed@nowhere.example", "  "),  # no account, a blank phone
    ("t4", "cem@ex.example", ""),
]


def _export(root: Path) -> Path:
    root.mkdir(parents=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "country", "state"])
        w.writerows(ACCOUNTS)
    with (root / "tickets.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket_id", "email", "phone", "created_at"])
        w.writerows((*t, "2026-11-06T10:00:00Z") for t in TICKETS)
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _scope_tickets(
    catalog: Path, out: Path, mp: pytest.MonkeyPatch, *extra: str
) -> tuple[int, str]:
    return _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "tickets",
            "--discovered", "2026-12-01T00:00Z", "--out", str(out), *extra,
        ],
        mp,
    )  # fmt: skip


def _counts(out: Path) -> dict[str, object]:
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    return counts


def test_people_with_nothing_in_the_leaked_columns_are_counted_apart_and_not_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "lab")
    out = tmp_path / "BR"
    code, output = _scope_tickets(catalog, out, monkeypatch, "--columns", "phone")
    assert code == 0, output
    with_phone = sum(1 for _, _, phone in TICKETS if phone.strip())
    counts = _counts(out)
    assert counts["people"] == with_phone
    assert counts["nothing_leaked"] == len(TICKETS) - with_phone
    assert counts["rows_nothing_leaked"] == {"tickets": len(TICKETS) - with_phone}
    assert counts["rows_total"] == len(TICKETS)  # the rows in scope are still all counted
    letters = sorted((out / "letters").glob("*.md"))
    assert len(letters) == with_phone
    assert not any("no detail of yours held a value" in p.read_text() for p in letters)
    assert pq.read_table(out / "affected.parquet").num_rows == with_phone
    deadlines = _manifest(out)["deadlines"]
    assert isinstance(deadlines, list)
    authority = next(d for d in deadlines if d["rule"] == "gdpr-authority")
    assert authority["people"] == with_phone
    assert f"{len(TICKETS) - with_phone} person(s) reached by rows in scope" in output
    report = (out / "regulator-report.md").read_text()
    assert (
        "| people whose records are in scope but held no value in the leaked columns (not"
        f" counted above, no letter) | {len(TICKETS) - with_phone} |"
    ) in report
    assert f"| people concerned | {with_phone} |" in report


def test_every_person_counts_when_every_column_leaked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "lab")
    out = tmp_path / "BR"
    code, output = _scope_tickets(catalog, out, monkeypatch)
    assert code == 0, output
    counts = _counts(out)
    assert counts["people"] == len(TICKETS)
    assert counts["nothing_leaked"] == 0
    assert counts["rows_nothing_leaked"] == {}
    assert "reached by rows in scope that hold no value" not in output


def test_report_shows_the_countries_states_and_weak_reach_of_scope_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "lab")
    out = tmp_path / "BR"
    code, output = _scope_tickets(catalog, out, monkeypatch, "--from", "2026-11-01")
    assert code == 0, output
    manifest = _manifest(out)
    report = (out / "regulator-report.md").read_text()
    countries = manifest["countries"]
    assert isinstance(countries, dict) and countries
    assert "### Where the people concerned live" in report
    for code_, people in countries.items():
        assert f"| {code_} | {people} |" in report
    for state in ("CO", "FL"):
        assert f"| US, state {state} | 1 |" in report
    weak = _counts(out)["reached_by_weak_identifier"]
    assert (
        "| of whom account holders reached only through a weak or shared identifier of"
        f" theirs (a phone) in a record | {weak} |"
    ) in report
    assert "Window of tickets read on: tickets.created_at" in report
    residence = manifest["residence"]
    assert isinstance(residence, dict)
    assert f"Establishment: {residence['established']}" in report


def test_a_letter_to_someone_without_an_account_does_not_call_them_a_customer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "lab")
    out = tmp_path / "BR"
    code, output = _scope_tickets(catalog, out, monkeypatch)
    assert code == 0, output
    holders = pq.read_table(out / "affected.parquet").to_pylist()
    assert any(not p["account_holder"] for p in holders)
    for person in holders:
        letter = (out / str(person["letter"])).read_text()
        assert ("Dear customer," in letter) is bool(person["account_holder"])


# F7: others named in free text, counted per distinct person.
TEXT_CATALOG = CATALOG.replace(
    "      created_at: {type: timestamp}\n",
    "      body: {free_text: true, type: string}\n      created_at: {type: timestamp}\n",
)


def _others(root: Path, bodies: list[str], mp: pytest.MonkeyPatch) -> int:
    catalog = _export(root / "lab")
    catalog.write_text(TEXT_CATALOG)
    with (root / "lab" / "tickets.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket_id", "email", "phone", "body", "created_at"])
        w.writerows(
            (f"t{i}", "ann@ex.example", "", body, "2026-11-06T10:00:00Z")
            for i, body in enumerate(bodies, 1)
        )
    code, output = _scope_tickets(catalog, root / "BR", mp)
    assert code == 0, output
    others = _counts(root / "BR")["others_named_in_text"]
    assert isinstance(others, int)
    return others


@pytest.mark.parametrize(
    "bodies",
    [
        ["Please cc Fischer, Frank (frank.fischer@other.example)."],
        ["Frank Fischer called.", "Please cc Fischer, Frank (frank.fischer@other.example)."],
    ],
)
def test_a_surname_given_name_beside_its_address_is_one_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bodies: list[str]
) -> None:
    assert _others(tmp_path, bodies, monkeypatch) == 1


def test_names_in_a_list_stay_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _others(tmp_path, ["Anna, Bob and Carl asked for access."], monkeypatch) == 3


def test_a_name_in_capitals_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _others(tmp_path, ["FRANK FISCHER asked me to write."], monkeypatch) == 1
