"""An email written otherwise in a cell reaches its account holder in breach scoping and in
access (red team 26b F19, export e15): full-width, a no-break space inside, `mailto:`, a
display name, quotes, a list's separator after it. A different address still reaches no one
else (p1@example.com is not p1@example.co)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.test_attacks_breach import _run

CATALOG = """\
version: 1
controller:
  name: Acme B.V.
  contact: privacy@acme.test
  dpo: dpo@acme.test
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
  automated_decisions: No decisions are made solely by automated means.
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Accounts.
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
  tickets:
    path: tickets.jsonl
    format: jsonl
    description: Tickets.
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
      created_at: {type: timestamp}
"""
# the ticket cell of each account holder uN (the red team's e15 forms)
CELLS = {
    1: "  P1@EXAMPLE.COM\t",
    2: "p2@example.com.",
    3: "mailto:p3@example.com",
    4: "P Four <p4@example.com>",
    5: "p5@example.com\u200b",
    6: "p6\u00a0@example.com",
    7: "\uff50\uff17\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
    8: "p8@EXAMPLE.com",
    9: '"p9@example.com"',
    11: "p11@example.com;",
    12: "P12@Example.Com ",
}
OTHER = 16  # u16 holds p1@example.co: t1's p1@example.com is not theirs


@pytest.fixture
def e15(tmp_path: Path) -> Path:
    root = tmp_path / "e15"
    root.mkdir()
    emails = {n: f"p{n}@example.com" for n in CELLS} | {OTHER: "p1@example.co"}
    lines = ["user_id,email,country"] + [f"u{n},{e},NL" for n, e in emails.items()]
    (root / "accounts.csv").write_text("\n".join(lines) + "\n")
    rows = [
        {"ticket_id": f"t{n}", "email": cell, "created_at": "2026-11-05T00:00:00Z"}
        for n, cell in CELLS.items()
    ]
    (root / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def test_each_form_reaches_its_account_holder_in_breach_scope(
    e15: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "scope"
    args = ["breach", "scope", "--catalog", str(e15), "--table", "tickets"]
    code, output = _run(
        [*args, "--discovered", "2026-12-05T18:30Z", "--out", str(out)], monkeypatch
    )
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    # one person per ticket, each an account holder (so with a country), written to at the
    # address their account holds, never at the cell as written
    assert sorted(p["contact"] for p in people) == sorted(f"p{n}@example.com" for n in CELLS)
    assert all(p["account_holder"] and p["country"] == "NL" for p in people)
    assert all(p["rows_in_scope"] == 1 for p in people)
    assert "p1@example.co" not in {p["contact"] for p in people}
    assert "linked to no one" not in output or "0 rows linked to no one" in output


def _bundle_tickets(
    catalog: Path, out: Path, user: int, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    args = ["access", "--catalog", str(catalog), "--out", str(out), "--label", "R"]
    code, output = _run([*args, "--id", f"user_id=u{user}"], monkeypatch)
    assert code == 0, output  # the bundle verified (its own linkage check reads the forms)
    tickets = out / "R" / "data" / "tickets.parquet"
    return pq.read_table(tickets).column("ticket_id").to_pylist() if tickets.exists() else []


@pytest.mark.parametrize("user", sorted(CELLS))
def test_each_form_is_in_its_holders_access_bundle(
    e15: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: int
) -> None:
    assert _bundle_tickets(e15, tmp_path / "out", user, monkeypatch) == [f"t{user}"]


def test_a_different_address_gets_no_one_elses_row(
    e15: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _bundle_tickets(e15, tmp_path / "out", OTHER, monkeypatch) == []
