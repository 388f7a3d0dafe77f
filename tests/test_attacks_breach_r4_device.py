"""Red team 26 round 4, finding 6 (MEDIUM): an anonymous support ticket holding only a device
reached no one when its table also had an email column (even an empty one), though the
device is seen with one account in the event log. A table with two or more strong columns is
searched first (it links the most identifiers), and was never searched again with what the
other tables revealed afterwards (the device, found in the events); access and breach
scoping both lost the ticket. Now the search goes back to those tables until nothing new is
learned, and breach's set search reproduces it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar import SubjectRequest, load_catalog, open_engine, parse_key
from dsar.subjects.collect import collect
from tests.test_attacks_breach import _run

DEVICE = "d7f3a9c2-1b4e-4f6a-9c3d-2e8b7a6f5d41"
TABLE = """\
  {name}:
    path: {path}
    format: {format}
    description: {name}
    category: {category}
    origin: observed
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {{criteria: while the account is open}}
    erasure: {{action: delete}}
    primary_key: [{key}]
    columns:
"""


def _export(root: Path, *, email_on_tickets: bool) -> Path:
    root.mkdir()
    (root / "accounts.csv").write_text(
        "user_id,email\nu1,ann@example.com\nu2,bob@example.com\nu3,cat@example.com\n"
    )
    (root / "events.csv").write_text(f"event_id,user_id,device_id\ne1,u2,{DEVICE}\n")
    (root / "tickets.jsonl").write_text(
        f'{{"ticket_id": "t7", "device_id": "{DEVICE}", "created_at": "2026-11-05T10:00:00Z",'
        ' "body": "hi"}\n'
        '{"ticket_id": "t8", "user_id": "u1", "created_at": "2026-11-06T10:00:00Z",'
        ' "body": "hello"}\n'
    )
    text = (
        "version: 1\ncontroller: {name: Lab B.V., contact: privacy@lab.example,"
        " dpo: dpo@lab.example, supervisory_authority: the authority}\ntables:\n"
    )
    text += TABLE.format(
        name="accounts", path="accounts.csv", format="csv", category="account", key="user_id"
    )
    text += "      user_id: {identity: user_id, type: string}\n"
    text += "      email: {identity: email, type: string, category: contact}\n"
    text += TABLE.format(
        name="events", path="events.csv", format="csv", category="usage", key="event_id"
    )
    text += "      event_id: {type: string}\n"
    text += "      user_id: {identity: user_id, type: string, references: accounts.user_id}\n"
    text += "      device_id: {identity: device_id, type: string}\n"
    text += TABLE.format(
        name="tickets",
        path="tickets.jsonl",
        format="jsonl",
        category="communications",
        key="ticket_id",
    )
    text += "      ticket_id: {type: string}\n"
    text += "      user_id: {identity: user_id, type: string, references: accounts.user_id}\n"
    if email_on_tickets:
        text += "      email: {identity: email, type: string, category: contact}\n"
    text += "      device_id: {identity: device_id, type: string}\n"
    text += "      created_at: {type: timestamp}\n"
    text += "      body: {free_text: true, type: string}\n"
    (root / "catalog.yml").write_text(text)
    return root / "catalog.yml"


@pytest.mark.parametrize("email_on_tickets", [True, False], ids=["with email", "without"])
def test_access_finds_the_ticket_through_the_device(tmp_path: Path, email_on_tickets: bool) -> None:
    catalog = load_catalog(_export(tmp_path / "x", email_on_tickets=email_on_tickets))
    with open_engine(catalog) as engine:
        [bob] = collect(engine, catalog, [SubjectRequest("A", (parse_key("user_id=u2"),))])
    assert bob.tables["tickets"].column("ticket_id").to_pylist() == ["t7"]


@pytest.mark.parametrize("email_on_tickets", [True, False], ids=["with email", "without"])
def test_breach_scope_reaches_the_devices_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, email_on_tickets: bool
) -> None:
    catalog = _export(tmp_path / "x", email_on_tickets=email_on_tickets)
    code, out = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "tickets",
            "--discovered", "2026-12-01T10:00Z", "--out", str(tmp_path / "scope"),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, out
    assert "2 people (2 account holders" in out and "0 rows linked to no one" in out, out
