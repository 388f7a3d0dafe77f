"""Red team 26 round 6, follow-ups in dsar/breach.

F7: a full name written in capitals ("FRANK FISCHER") in the leaked free text was not
counted among the others named: the name finder reads capitalised words. The breach
counting now reads each run of words in capitals again with the name lists' words
capitalised, and takes a name of two or more such words found there; shouting without a
name stays no one.

The window's column: `run.breach_scope` called without the CLI kept no
`parameters.time_column_reasons`, and the report's period did not say which column it was
read on.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsar.breach.assess import caps_runs
from tests.test_attacks_breach import _run
from tests.test_attacks_breach_r6_counts import _others


@pytest.mark.parametrize(
    ("bodies", "expected"),
    [
        (["CC MARIA LOPEZ AND JOHN SMITH about the refund."], 2),
        (["FRANK FISCHER asked me to write.", "Frank Fischer called again."], 1),
        (["Frank Fischer and ANNA SCHMIDT asked."], 2),
    ],
)
def test_full_names_in_capitals_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bodies: list[str], expected: int
) -> None:
    assert _others(tmp_path, bodies, monkeypatch) == expected


def test_shouting_without_a_name_counts_no_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = [
        "PLEASE HELP ASAP, REFUND NOT RECEIVED",
        "URGENT: MY ORDER FROM AMAZON WAS DAMAGED",
        "THE BILL IS WRONG, MARK IT PAID",
        "I LIVE IN NEW YORK CITY",
    ]
    assert _others(tmp_path, bodies, monkeypatch) == 0


@pytest.mark.parametrize(
    "cell", ["cc FRANK FISCHER AND ANNA O'BRIEN today", "JEAN-PIERRE MÜLLER", "İSMAİL KAYA ASKED"]
)
def test_a_run_in_capitals_keeps_its_character_positions(cell: str) -> None:
    runs = caps_runs(cell)
    assert runs
    for start, end, titled in runs:
        assert len(titled) == end - start
        assert titled.casefold() == cell[start:end].casefold()
    assert any(titled != cell[start:end] for start, end, titled in runs)


def test_breach_scope_without_the_cli_keeps_and_reports_the_window_column(
    demo_export: Path, tmp_path: Path
) -> None:
    from dsar import load_catalog, open_engine
    from dsar.breach import Incident, ScopeSpec, Window, breach_scope
    from dsar.keys import Keys

    incident = Incident("BR-WIN", datetime(2026, 11, 27, tzinfo=UTC), "It leaked.", "Fixed.")
    spec = ScopeSpec(("support_tickets",), window=Window.parse("2026-01-01", "2026-03-31"))
    out = tmp_path / "out"
    with open_engine(load_catalog(demo_export)) as engine:
        breach_scope(engine, spec, incident, out, keys=Keys(b"k" * 64))
    reasons = json.loads((out / "scope.json").read_text())["parameters"]["time_column_reasons"]
    reason = "support_tickets.created_at: the catalog's retention.after"
    assert reasons == {"support_tickets": reason}
    report = (out / "regulator-report.md").read_text()
    [period] = [line for line in report.splitlines() if "Period of the records" in line]
    assert period.endswith(", read on support_tickets.created_at")
    assert f"Window of support_tickets read on: {reason}" in report


NOTES_CATALOG = """\
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
      notes: {notes}
"""
CARDS = ["4111 1111 1111 1111", "5500005555555559", "4012888888881881", "378282246310005"]


def _notes_severity(
    root: Path, notes: list[str], flags: str, mp: pytest.MonkeyPatch
) -> tuple[dict[str, object], str]:
    root.mkdir(parents=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "notes"])
        w.writerows((f"u{i}", f"p{i}@example.com", n) for i, n in enumerate(notes, 1))
    (root / "catalog.yml").write_text(NOTES_CATALOG.format(notes=flags))
    out = root / "BR"
    code, output = _run(
        ["breach", "scope", "--catalog", str(root / "catalog.yml"), "--table", "accounts",
         "--columns", "user_id,notes", "--discovered", "2026-12-01T00:00Z", "--out", str(out)],
        mp,
    )  # fmt: skip
    assert code == 0, output
    manifest = json.loads((out / "scope.json").read_text())
    return manifest["severity"], output + (out / "scope.json").read_text()


def test_an_unflagged_column_of_card_numbers_scores_as_cards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, said = _notes_severity(tmp_path / "a", CARDS, "{type: string}", monkeypatch)
    flagged, _ = _notes_severity(
        tmp_path / "b", CARDS, "{type: string, personal: financial_account}", monkeypatch
    )
    assert (plain["score"], plain["band"]) == (flagged["score"], flagged["band"])
    assert plain["band"] == "high" and plain["notify_people_recommended"] is True
    dpc, ei = plain["dpc"], plain["ei"]
    assert isinstance(dpc, dict) and isinstance(ei, dict)
    assert dpc["value"] == 3 and ei["value"] == 1
    assert "accounts.notes (card or bank account numbers, read from its values)" in dpc["reason"]
    assert "read from the values of accounts.notes" in ei["reason"]
    assert "WARNING: the catalog does not flag leaked column(s) accounts.notes" in said
    for card in CARDS:  # no value said
        assert card not in said and card.replace(" ", "") not in said


def test_an_unflagged_column_of_plain_notes_stays_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = ["call back", "VIP", "order 12345678", "4111 1111 1111 1111"]  # one card: not half
    plain, said = _notes_severity(tmp_path / "a", notes, "{type: string}", monkeypatch)
    dpc = plain["dpc"]
    assert isinstance(dpc, dict) and dpc["value"] < 3
    assert "does not flag" not in said
