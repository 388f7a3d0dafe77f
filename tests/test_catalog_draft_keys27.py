"""Red team, issue 27 (F1, F2): keys named `id` in every table (Rails, Django) are no links
between tables, foreign keys named after their table (`customer`, `cust_id`) or a person's
role (`owner`, `actor`, `created_by`) are, and a column whose values all lie in a people
table's key never leaves its table `personal: false` unflagged."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from dsar.catalog.models import IdentityKind
from dsar.draft import Draft, draft
from dsar.text.engine import TextEngine


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _shop(root: Path, fk: dict[str, str], sample: int = 400) -> Draft:
    """Every table keyed `id` 1..n; foreign keys named by `fk` (customer_id or customer)."""
    rng = random.Random(5)
    root.mkdir()
    _csv(
        root / "customers.csv",
        [{"id": i, "email": f"c{i}@example.org", "city": "Utrecht"} for i in range(1, 301)],
    )
    _csv(
        root / "employees.csv",
        [{"id": i, "email": f"e{i}@shop.example"} for i in range(1, 41)],
    )
    _csv(
        root / "orders.csv",
        [
            {"id": i, fk["customer"]: rng.randint(1, 300), fk["employee"]: rng.randint(1, 40)}
            for i in range(1, 601)
        ],
    )
    _csv(
        root / "invoices.csv",
        [
            {"id": i, fk["order"]: o, "total": rng.randint(100, 9999)}
            for i, o in enumerate(rng.sample(range(1, 601), 300), 1)
        ],
    )
    _csv(
        root / "payments.csv",
        [
            {"id": i, fk["invoice"]: v, "amount": rng.randint(1, 99)}
            for i, v in enumerate(rng.sample(range(1, 301), 250), 1)
        ],
    )
    _csv(root / "products.csv", [{"id": i, "price": 3 * i} for i in range(1, 51)])
    return draft(root, sample=sample, text_engine=TextEngine(nlp=None))


RAILS = {"customer": "customer_id", "employee": "employee_id", "order": "order_id",
         "invoice": "invoice_id"}  # fmt: skip
BARE = {"customer": "customer", "employee": "employee", "order": "order", "invoice": "ref"}


@pytest.mark.parametrize("fk", [RAILS, BARE], ids=["customer_id", "customer"])
def test_a_tables_own_id_is_no_persons_id(tmp_path: Path, fk: dict[str, str]) -> None:
    d = _shop(tmp_path / "x", fk)
    t = d.tables
    links = {(lk.child, lk.column): lk.target for lk in d.links}
    for name in ("invoices", "payments", "products", "orders", "employees"):
        assert (name, "id") not in links, name
        assert t[name].columns["id"].references is None, name
    for name in ("invoices", "payments", "products", "orders"):
        assert t[name].columns["id"].identity is None, name
    assert t["customers"].columns["id"].identity is IdentityKind.CUSTOMER_ID
    assert t["employees"].columns["id"].identity is IdentityKind.USER_ID
    orders = t["orders"].columns
    assert orders[fk["customer"]].identity is IdentityKind.CUSTOMER_ID
    assert orders[fk["customer"]].references == "customers.id"
    assert orders[fk["employee"]].identity is None
    inv = t["invoices"].owned_through
    assert inv is not None and inv.target == "orders.id"
    assert all(table.personal for n, table in t.items() if n != "products")


def test_an_unnamed_column_of_a_persons_keys_is_flagged_not_linked(tmp_path: Path) -> None:
    """`payments.ref` (250 of 1..300) fits customers.id as well as invoices.id: not linked
    (no payment given to customer 5), but the table is not reference data, and it is
    listed to confirm."""
    d = _shop(tmp_path / "x", BARE)
    pay = d.tables["payments"]
    assert pay.columns["ref"].identity is None and pay.columns["ref"].references is None
    assert pay.personal
    assert pay.confidence["verdict"].value <= 0.3
    first = [(x.where, x.role) for x in d.confirm_first(8)]
    assert ("payments.ref", "unlinked") in first


@pytest.mark.parametrize("role", ["owner", "actor", "created_by"])
def test_user_ids_under_a_persons_role_are_links(tmp_path: Path, role: str) -> None:
    rng = random.Random(3)
    root = tmp_path / "x"
    root.mkdir()
    uids = rng.sample(range(1_000_000_000, 9_999_999_999), 250)
    _csv(root / "users.csv", [{"uid": u, "contact": f"u{u}@example.org"} for u in uids])
    _csv(
        root / "shares.csv",
        [{"share_id": 5000 + i, role: rng.choice(uids), "doc": i % 7} for i in range(800)],
    )
    t = draft(root, sample=400, text_engine=TextEngine(nlp=None)).tables
    shares = t["shares"]
    assert shares.columns[role].references == "users.uid"
    assert shares.columns[role].identity is t["users"].columns["uid"].identity is not None
    assert shares.personal


def test_bare_digit_ids_and_ssns_are_no_phones(tmp_path: Path) -> None:
    """F6: 10-digit user ids written as text and US social security numbers were drafted
    `identity: phone` (0.89), and Google's 21-digit `sub` user_id; phones are written with a
    + or separators, or sit in a column named as one."""
    import json

    rng = random.Random(11)
    root = tmp_path / "x"
    root.mkdir()
    uids = [str(u) for u in rng.sample(range(1_000_000_000, 9_999_999_999), 250)]
    users = [
        {
            "uid": u,
            "email": f"u{i}@example.org",
            "ssn": f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
            "sub": str(rng.randint(10**20, 10**21 - 1)),
            "tel": f"+31 6 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            "mobile": f"{rng.randint(2_000_000_000, 9_999_999_999)}",
        }
        for i, u in enumerate(uids)
    ]
    events = [{"event": i, "actor": rng.choice(uids), "what": "login"} for i in range(600)]
    (root / "users.jsonl").write_text("".join(json.dumps(r) + "\n" for r in users))
    (root / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in events))
    t = draft(root, sample=400, text_engine=TextEngine(nlp=None)).tables
    u = t["users"].columns
    assert u["uid"].identity is not IdentityKind.PHONE
    assert u["ssn"].identity is not IdentityKind.PHONE
    assert u["sub"].identity is IdentityKind.OAUTH_SUBJECT
    assert u["tel"].identity is IdentityKind.PHONE
    assert u["mobile"].identity is IdentityKind.PHONE  # bare digits, but named as a phone
    actor = t["events"].columns["actor"]
    assert actor.identity is not IdentityKind.PHONE
    assert actor.references == "users.uid"
    assert actor.identity is u["uid"].identity is not None


def test_a_tiny_sample_keeps_every_link(tmp_path: Path) -> None:
    """F11: `--sample 10` dropped the demo's customer_id links ("checked on every row"):
    the sample decides what to check, and a small one checks more, not fewer."""
    from dsar.demo import generate

    generate(tmp_path / "demo", users=300, seed=4)
    engine = TextEngine(nlp=None)

    def links(sample: int) -> set[tuple[str, str, str]]:
        d = draft(tmp_path / "demo", sample=sample, text_engine=engine)
        return {(lk.child, lk.column, lk.target) for lk in d.links}

    full = links(2000)
    assert ("invoices", "customer_id", "accounts.customer_id") in full
    assert links(10) == full
