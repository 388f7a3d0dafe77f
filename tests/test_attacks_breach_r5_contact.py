"""Red team 26 round 5, finding 1 (HIGH): an account holder's letter went to a stranger's
phone. With no address on their own account row, the contact fell back to the smallest phone
of everything the closure reached (own ticket -> its requester address -> another ticket,
even one outside the window, holding another account's phone), before the account row's own
phone. An account holder's contact is now the email, else the phone, on their own account
row; without either, no contact channel (no letter)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dsar import load_catalog, open_engine
from dsar.breach import ScopeSpec, Window, scope_breach
from tests.test_attacks_breach import _manifest, _run

CATALOG = """\
version: 1
controller:
  name: Testco B.V.
  contact: privacy@testco.test
  dpo: dpo@testco.test
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
  automated_decisions: No decisions are made solely by automated means.
tables:
  users:
    path: users.csv
    format: csv
    description: Accounts.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string, category: contact}
      phone: {identity: phone, type: string, category: contact}
      country: {type: string}
  tickets:
    path: tickets.csv
    format: csv
    description: Support tickets.
    category: communications
    origin: provided
    purposes: [customer support]
    legal_basis: contract
    source: the person
    retention: {period: 3 years, after: created_at}
    erasure: {action: delete}
    primary_key: [ticket_id]
    columns:
      ticket_id: {type: string}
      user_id: {identity: user_id, type: string, references: users.user_id}
      requester_email: {identity: email, type: string, category: contact}
      requester_phone: {identity: phone, type: string, category: contact}
      created_at: {type: timestamp}
"""

ANN = "+13035550101"


def _export(root: Path, u3_email: str, u3_phone: str) -> Path:
    root.mkdir(parents=True)
    with (root / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "phone", "country"])
        w.writerow(["u1", "ann@example.com", ANN, "US"])
        w.writerow(["u3", u3_email, u3_phone, "US"])
    with (root / "tickets.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket_id", "user_id", "requester_email", "requester_phone", "created_at"])
        # u3's ticket in the window, filed from an address u3's account does not hold
        w.writerow(["t2", "u3", "zed@example.com", "", "2026-11-05T10:00:00Z"])
        # outside the window: an anonymous ticket from that address holding Ann's phone
        w.writerow(["t7", "", "zed@example.com", ANN, "2025-01-05T10:00:00Z"])
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


CASES = [
    ("", "", None),  # nothing of their own: no contact channel
    ("", "+13035550199", "+13035550199"),  # their own phone, though Ann's sorts first
    ("none@example.com", "n/a", None),  # placeholders are nothing of their own
    ("zoe@example.com", "", "zoe@example.com"),
]


@pytest.mark.parametrize(("email", "phone", "expected"), CASES)
def test_an_account_holders_contact_is_on_their_own_account_row(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    email: str,
    phone: str,
    expected: str | None,
) -> None:
    catalog = _export(tmp_path / "x", email, phone)
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "tickets",
            "--from", "2026-11-01", "--to", "2026-11-30",
            "--discovered", "2026-11-20T18:30Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    assert len(people) == 1
    contact = people[0]["contact"]
    assert contact != ANN
    assert (contact or None) == expected
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["no_contact_channel"] == (1 if expected is None else 0)


@pytest.mark.parametrize(("email", "phone", "expected"), CASES)
def test_both_searches_choose_the_account_rows_contact(
    tmp_path: Path, email: str, phone: str, expected: str | None
) -> None:
    catalog = _export(tmp_path / "x", email, phone)
    spec = ScopeSpec(("tickets",), window=Window.parse("2026-11-01", "2026-11-30"))
    with open_engine(load_catalog(catalog)) as engine:
        for method in ("per-person", "set"):
            scope = scope_breach(engine, spec, method=method)
            assert [p.account_holder for p in scope.people] == [True], method
            contact = scope.people[0].contact
            assert (None if contact is None else contact.value) == expected, method
