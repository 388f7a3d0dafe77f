"""Red team 26 round 5, finding 17: the other person of a leaked row (a message's recipient,
a ticket's agent), named through a column that `references:` an account table but is no
identity of the row (as the catalog guidance writes a row naming two people of one kind), was
neither reached nor counted. They are now counted per table (`Scope.referenced`, the people
reached left out) and the console warns, counts and tables only, so a person decides."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dsar import load_catalog, open_engine
from dsar.breach import ScopeSpec, scope_breach
from tests.test_attacks_breach import _run
from tests.test_attacks_breach_r5_contact import CATALOG as BASE

CATALOG = (
    BASE.split("  tickets:\n")[0]
    + """\
  messages:
    path: messages.csv
    format: csv
    description: Direct messages between users.
    category: communications
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {period: 1 years, after: sent_at}
    erasure: {action: delete}
    primary_key: [msg_id]
    columns:
      msg_id: {type: string}
      sender_id: {identity: user_id, type: string, references: users.user_id}
      recipient_id: {type: string, references: users.user_id, description: the other person}
      body: {free_text: true, type: string}
      sent_at: {type: timestamp}
"""
)


def _export(root: Path) -> Path:
    root.mkdir()
    with (root / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "phone", "country"])
        for i in range(1, 5):
            w.writerow([f"u{i}", f"p{i}@example.com", "", "NL"])
    with (root / "messages.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["msg_id", "sender_id", "recipient_id", "body", "sent_at"])
        w.writerow(["m1", "u1", "u2", "here is my new address", "2026-11-05T10:00:00Z"])
        w.writerow(["m2", "u1", "u3", "call me", "2026-11-05T10:00:00Z"])
        w.writerow(["m3", "u4", "u1", "ok", "2026-11-05T10:00:00Z"])  # u1: reached already
        w.writerow(["m4", "u4", "u3", "again", "2026-11-05T10:00:00Z"])
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def test_the_other_person_of_a_leaked_row_is_counted(tmp_path: Path) -> None:
    catalog = _export(tmp_path / "x")
    with open_engine(load_catalog(catalog)) as engine:
        for method in ("per-person", "set"):
            scope = scope_breach(engine, ScopeSpec(("messages",)), method=method)
            assert len(scope.people) == 2, method  # the senders u1 and u4
            assert scope.referenced == {"messages": 2}, method  # u2 and u3, once each


def test_the_console_warns_of_them_without_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "x")
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "messages",
            "--discovered", "2026-11-20T18:30Z", "--out", str(tmp_path / "BR"),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    assert "2 other account holder(s) are named by the rows in scope (messages 2)" in output
    assert "u2" not in output and "u3" not in output
