"""Issue 26 red team 26b, F17: category counts are per value, not per column.

A breach category (contact, free text, ...) counts the rows in scope where one of its leaked
columns holds a value (not null, not blank), and those rows' people; a name or contact
column empty in every row in scope does not make identification easy (EI).

The export is the shape of the red team's e1: accounts, and tickets in two JSON-lines files
where most tickets carry a user id and no requester address.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_attacks_breach import _manifest, _run

CATALOG = """\
version: 1
controller:
  name: Acme B.V.
  contact: privacy@acme.test
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
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
      full_name: {personal: name, type: string}
      country: {type: string, category: location}
      created_at: {type: timestamp}
  tickets:
    path: tickets/*.jsonl
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
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      requester_email: {identity: email, type: string, category: contact}
      body: {free_text: true, type: string}
      created_at: {type: string}
"""

NAMES = ["alice", "bob", "carol", "dave", "team", "team", "gina", "hank"]

# e1's tickets (ticket id, user id, requester address, time): in the window 1-14 Nov are
# t1, t2 (empty time), t3 (unreadable time), t5, t6, t7 and t8; t4 is after it
TICKETS = [
    ("t1", None, "  ALICE@Example.COM ", "2026-11-10T10:00:00Z"),
    ("t2", "u2", None, ""),
    ("t3", "u3", None, "yesterday"),
    ("t4", "u4", None, "2026-11-14T23:30:00-05:00"),
    ("t5", None, "team@example.com", "2026-11-15T01:00:00+05:00"),  # u5 and u6's inbox
    ("t6", "u7", None, 1794268800),
    ("t7", "u8", None, "2026-10-31T23:59:59-01:00"),
    ("t8", None, "stranger@example.org", "2026-11-05T00:00:00Z"),
]


def e1_shape(root: Path, *, addresses: bool = True) -> Path:
    """The export; `addresses` False: every requester address null or blank."""
    (root / "tickets").mkdir(parents=True)
    lines = ["user_id,email,full_name,country,created_at"]
    for i, name in enumerate(NAMES, 1):
        lines.append(f"u{i},{name}@example.com,{name.title()} X,NL,2020-01-01T00:00:00Z")
    (root / "accounts.csv").write_text("\n".join(lines) + "\n")
    for part, tickets in (("a", TICKETS[:4]), ("b", TICKETS[4:])):
        with (root / "tickets" / f"{part}.jsonl").open("w") as f:
            for ticket, user, email, created in tickets:
                if not addresses:
                    user = user or "u1"
                    email = "   " if ticket == "t1" else None
                row = {
                    "ticket_id": ticket,
                    "user_id": user,
                    "requester_email": email,
                    "body": "x",
                    "created_at": created,
                }
                f.write(json.dumps(row) + "\n")
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _scope(catalog: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    code, output = _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(catalog),
            "--table",
            "tickets",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-14",
            "--discovered",
            "2026-11-20T18:30Z",
            "--out",
            str(out),
        ],
        monkeypatch,
    )
    assert code == 0, output
    return _manifest(out)


def test_contact_counts_the_rows_holding_an_address_and_their_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _scope(e1_shape(tmp_path / "e1"), tmp_path / "BR", monkeypatch)
    found = manifest["categories"]
    assert isinstance(found, dict)
    # 7 tickets in scope reach 8 people (t5's team inbox: u5 and u6); only t1 (u1), t5 (u5,
    # u6) and t8 (the stranger) hold an address: 3 rows, 4 people (was 7 rows, 8 people)
    assert found["communications"] == {
        "columns": ["tickets.ticket_id", "tickets.user_id", "tickets.body", "tickets.created_at"],
        "rows": 7,
        "people": 8,
    }
    assert found["contact"] == {"columns": ["tickets.requester_email"], "rows": 3, "people": 4}
    assert found["free_text"]["rows"] == 7
    severity = manifest["severity"]
    assert isinstance(severity, dict)
    assert severity["ei"]["value"] == 1  # addresses leaked
    assert "names or contact details leaked (1 column(s))" in severity["ei"]["reason"]


def test_an_empty_contact_column_does_not_make_identification_easy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _scope(e1_shape(tmp_path / "e1", addresses=False), tmp_path / "BR", monkeypatch)
    found = manifest["categories"]
    assert isinstance(found, dict)
    # the column leaked, but no address in it (null, or blank in t1)
    assert found["contact"] == {"columns": ["tickets.requester_email"], "rows": 0, "people": 0}
    assert found["communications"]["rows"] == 7
    severity = manifest["severity"]
    assert isinstance(severity, dict)
    # user ids leaked, no name or address: significant, not maximum (was 1, "contact details")
    assert severity["ei"]["value"] == 0.75, severity["ei"]
    assert "contact" not in severity["ei"]["reason"]
