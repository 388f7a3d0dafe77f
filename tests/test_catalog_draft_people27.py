"""`dsar catalog draft` (red team 27, F4's tail): reference tables are not taken for people.

A people table needs evidence of people besides one contact per row: a column of names,
personal emails, many rows, or a link into its key from a person's role. Three offices with a
switchboard number each are no people table (their code no customer_id); a plan's support
mailbox repeated on every row is the company's address, not a person's identity. The same
rules keep small people tables that do show people: a few staff with their own emails, a few
agents linked from tickets by agent_id, B2B customers whose info@ addresses are each at their
own domain.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from dsar.catalog.models import IdentityKind
from dsar.draft import Draft, draft
from dsar.draft.people import company_mailboxes
from dsar.text.engine import TextEngine


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Draft:
    root = tmp_path_factory.mktemp("people27") / "export"
    root.mkdir()
    _csv(
        root / "users.csv",
        [
            {"user_id": 1000 + i, "email": f"person{i}@mail{i % 7}.example", "plan": "pro"}
            for i in range(60)
        ],
    )
    _csv(
        root / "offices.csv",
        [
            {"office": "AMS", "address": "Herengracht 12, 1015 BN Amsterdam", "phone": "+31 20 123 4567"},
            {"office": "BER", "address": "Unter den Linden 5, 10117 Berlin", "phone": "+49 30 1234567"},
            {"office": "PAR", "address": "12 Rue de Rivoli, 75001 Paris", "phone": "+33 1 23 45 67 89"},
        ],
    )  # fmt: skip
    _csv(
        root / "plans.csv",
        [
            {"plan": p, "price_eur": n, "support_email": "support@acme.example"}
            for p, n in (("free", 0), ("pro", 9), ("team", 29), ("enterprise", 99))
        ],
    )
    # small tables that do hold people
    _csv(
        root / "staff.csv",
        [{"staff_id": f"s{i}", "email": f"{n}@acme.example"} for i, n in enumerate(("ann", "bo", "cy"))],
    )  # fmt: skip
    _csv(
        root / "agents.csv",
        [{"agent_id": 700 + i, "phone": f"+31 6 1234 56{i:02d}"} for i in range(4)],
    )
    _csv(
        root / "tickets.csv",
        [{"ticket_id": 5000 + i, "agent_id": 700 + i % 4, "minutes": i % 9} for i in range(40)],
    )
    _csv(
        root / "vendors.csv",
        [{"vendor_no": f"V{i:03d}", "mail": f"info@vendor{i}.example"} for i in range(12)],
    )
    return draft(root, sample=200, text_engine=TextEngine(nlp=None))


def test_three_offices_are_no_people_table(drafted: Draft) -> None:
    offices = drafted.tables["offices"]
    assert offices.people is None
    assert offices.columns["office"].identity is None
    assert "not a people table" in " ".join(offices.notes)
    # its phones are kept, but first to confirm
    assert offices.confidence["verdict"].value <= 0.3
    assert any(d.where == "offices" for d in drafted.confirm_first(5))


def test_a_support_mailbox_on_every_plan_is_no_identity(drafted: Draft) -> None:
    plans = drafted.tables["plans"]
    col = plans.columns["support_email"]
    assert col.identity is None
    assert "company_contact" in col.confidence and "no_role" not in col.confidence
    assert "role mailboxes" in " ".join(col.notes)
    assert not plans.personal


def test_small_tables_that_show_people_stay_people(drafted: Draft) -> None:
    t = drafted.tables
    assert t["users"].people == "root"
    assert t["staff"].people == "root"  # personal emails, 3 rows
    assert t["agents"].people == "root"  # tickets link by agent_id
    assert t["tickets"].columns["agent_id"].identity is not None
    vendors = t["vendors"]
    assert vendors.columns["mail"].identity is IdentityKind.EMAIL  # info@ at 12 domains
    assert vendors.people == "root"
    assert t["agents"].columns["agent_id"].identity is not None


def test_role_mailboxes_at_one_domain_whatever_their_form() -> None:
    import pyarrow as pa

    from dsar.catalog.models import FileFormat
    from dsar.draft.model import ColumnDraft, TableDraft
    from dsar.draft.profile import ColumnProfile, TableProfile
    from dsar.draft.scan import FoundTable

    values = [
        "Support <support@shop.example>",
        "mailto:no-reply@shop.example",
        " INFO@shop.example.",
    ]
    profile = TableProfile(
        FoundTable("mails", "mails.csv", FileFormat.CSV, ()),
        3,
        {"sender": ColumnProfile("sender", "string", 3, 3)},
        pa.table({"sender": values}),
    )
    table = TableDraft(profile, {"sender": ColumnDraft("sender", None, IdentityKind.EMAIL)})
    company_mailboxes({"mails": table})
    assert table.columns["sender"].identity is None
    # a person's address among them: a person's column
    profile = TableProfile(
        profile.found,
        4,
        profile.columns,
        pa.table({"sender": [*values, "jan.jansen@shop.example"]}),
    )
    table = TableDraft(profile, {"sender": ColumnDraft("sender", None, IdentityKind.EMAIL)})
    company_mailboxes({"mails": table})
    assert table.columns["sender"].identity is IdentityKind.EMAIL
