"""Red team, issue 27 round 2 (F1, F3, F5): polymorphic links, orphans, ids written as text.

F1: a Rails `<stem>_type` + `<stem>_id`, Django's `content_type` + `object_id` and
Salesforce's `WhoId` point at several tables: never one table's identity or link (a
customer's bundle held 40 of an agent's notifications). F3: one deleted user made
`orders.user_id` a self-reference and orders `personal: false` at 1.00. F5: ids written as
text ("17") or zero-padded ("00000042") did not link to integer keys.
"""

from __future__ import annotations

import csv
import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from dsar.draft import Draft, draft
from dsar.text.engine import TextEngine


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _draft(root: Path) -> Draft:
    return draft(root, sample=400, text_engine=TextEngine(nlp=None))


def _users(root: Path, n: int = 400, name: str = "users") -> None:
    root.mkdir(exist_ok=True)
    _csv(root / f"{name}.csv", [{"id": i, "email": f"u{i}@example.org"} for i in range(1, n + 1)])


def _orders(root: Path, users: int, orphans: list[int], rows: int = 1200) -> None:
    rng = random.Random(7)
    uid = [rng.randint(1, users) for _ in range(rows)]
    for i, orphan in enumerate(orphans):
        uid[10 * i + 3] = orphan  # users deleted since: their orders remain
    _csv(
        root / "orders.csv",
        [{"id": i, "user_id": u, "total": rng.randint(100, 9999)} for i, u in enumerate(uid, 1)],
    )


# ---- F3: orphans and self-references ------------------------------------------------


@pytest.mark.parametrize(
    ("users", "orphans"),
    [(400, [457]), (400, list(range(401, 409))), (3000, list(range(3001, 3009)))],
    ids=["one-orphan", "2%-orphans", "more-users-than-orders"],
)
def test_orphans_keep_the_link_to_people(tmp_path: Path, users: int, orphans: list[int]) -> None:
    root = tmp_path / "x"
    _users(root, users)
    _orders(root, users, orphans)
    d = _draft(root)
    orders = d.tables["orders"]
    user_id = orders.columns["user_id"]
    assert user_id.references == "users.id"
    assert user_id.identity is d.tables["users"].columns["id"].identity is not None
    assert orders.personal
    assert ("orders", "user_id", "users.id") in {(lk.child, lk.column, lk.target) for lk in d.links}
    said = " ".join(user_id.notes)
    assert "%" in said and " of " in said  # the share of orphans is said


def test_dense_integers_alone_make_no_self_reference(tmp_path: Path) -> None:
    """No users table: `orders.user_id` (1..400) lies within orders.id (1..1200), which says
    nothing; the table is not reference data, and the column is listed to confirm."""
    root = tmp_path / "x"
    root.mkdir()
    _orders(root, 400, [])
    d = _draft(root)
    orders = d.tables["orders"]
    assert orders.columns["user_id"].references is None
    assert orders.personal
    assert ("orders.user_id", "unlinked") in {(x.where, x.role) for x in d.confirm_first(5)}


def test_too_many_orphans_never_leave_people_rows_reference_data(tmp_path: Path) -> None:
    """A fifth of the users gone: no link, but never `personal: false` at high confidence."""
    root = tmp_path / "x"
    _users(root, 400)
    _orders(root, 400, list(range(401, 481)))  # 80 of ~400 distinct values
    d = _draft(root)
    orders = d.tables["orders"]
    assert orders.columns["user_id"].references is None
    assert orders.personal
    assert orders.columns["user_id"].confidence["unlinked"].value <= 0.3


@pytest.mark.parametrize("column", ["manager_id", "parent_id", "reply_to_id"])
def test_named_self_references_still_hold(tmp_path: Path, column: str) -> None:
    rng = random.Random(3)
    root = tmp_path / "x"
    root.mkdir()
    rows = [
        {"id": i, "email": f"e{i}@shop.example", column: rng.randint(1, 30) if i > 30 else ""}
        for i in range(1, 301)
    ]
    _csv(root / "staff.csv", rows)
    d = _draft(root)
    assert d.tables["staff"].columns[column].references == "staff.id"


# ---- F1: polymorphic links ----------------------------------------------------------


def _helpdesk(root: Path) -> None:
    rng = random.Random(5)
    _users(root, 400, "customers")
    _csv(root / "agents.csv", [{"id": i, "email": f"agent{i}@help.example"} for i in range(1, 11)])
    kinds = [rng.choice(["Customer", "Agent"]) for _ in range(1000)]
    _csv(
        root / "notifications.csv",
        [
            {
                "id": i,
                "recipient_type": k,
                "recipient_id": rng.randint(1, 400 if k == "Customer" else 10),
                "kind": rng.choice(["ticket_updated", "mention"]),
            }
            for i, k in enumerate(kinds, 1)
        ],
    )


def _unresolved(d: Draft, table: str, column: str) -> None:
    t = d.tables[table]
    col = t.columns[column]
    assert col.identity is None
    assert col.references is None
    assert (table, column) not in {(lk.child, lk.column) for lk in d.links}
    assert t.owned_through is None or t.owned_through.column != column
    assert col.confidence["unlinked"].value <= 0.2
    assert any("unresolved" in n for n in col.notes)
    assert (f"{table}.{column}", "unlinked") in {(x.where, x.role) for x in d.confirm_first(3)}
    assert t.personal


def test_a_rails_polymorphic_id_is_no_ones_identity(tmp_path: Path) -> None:
    root = tmp_path / "x"
    _helpdesk(root)
    d = _draft(root)
    _unresolved(d, "notifications", "recipient_id")
    assert any(
        "recipient_type" in n for n in d.tables["notifications"].columns["recipient_id"].notes
    )


def test_paper_trail_item_id_links_to_no_table(tmp_path: Path) -> None:
    """`versions.item_type` (User, Order) + `item_id`: was linked to order_items.id (0.89)."""
    rng = random.Random(9)
    root = tmp_path / "x"
    _users(root, 300)
    _orders(root, 300, [], rows=900)
    _csv(
        root / "order_items.csv",
        [{"id": i, "order_id": rng.randint(1, 900)} for i in range(1, 3001)],
    )
    kinds = [rng.choice(["User", "Order"]) for _ in range(800)]
    _csv(
        root / "versions.csv",
        [
            {
                "id": i,
                "item_type": k,
                "item_id": rng.randint(1, 300 if k == "User" else 900),
                "event": "update",
            }
            for i, k in enumerate(kinds, 1)
        ],
    )
    _unresolved(_draft(root), "versions", "item_id")


def test_a_django_generic_relation_owns_nothing(tmp_path: Path) -> None:
    rng = random.Random(2)
    root = tmp_path / "x"
    _users(root, 300, "auth_user")
    _csv(
        root / "django_admin_log.csv",
        [
            {
                "id": i,
                "content_type_id": rng.choice([4, 7, 12]),
                "object_id": rng.randint(1, 300),
                "action_flag": rng.randint(1, 3),
            }
            for i in range(1, 501)
        ],
    )
    _unresolved(_draft(root), "django_admin_log", "object_id")


def _sfid(rng: random.Random, prefix: str) -> str:
    return prefix + "5g00000" + "".join(rng.choices(string.ascii_letters + string.digits, k=8))


def test_salesforce_who_id_of_contacts_and_leads_is_unresolved(tmp_path: Path) -> None:
    rng = random.Random(4)
    root = tmp_path / "x"
    root.mkdir()
    contacts = [_sfid(rng, "003") for _ in range(300)]
    leads = [_sfid(rng, "00Q") for _ in range(200)]
    _csv(
        root / "Contact.csv",
        [{"Id": c, "Email": f"c{i}@example.org"} for i, c in enumerate(contacts)],
    )
    _csv(root / "Lead.csv", [{"Id": c, "Email": f"l{i}@example.net"} for i, c in enumerate(leads)])
    who = [rng.choice(contacts) if rng.random() < 0.97 else rng.choice(leads) for _ in range(900)]
    _csv(
        root / "Task.csv",
        [{"Id": _sfid(rng, "00T"), "WhoId": w, "Status": "Open"} for w in who],
    )
    _unresolved(_draft(root), "Task", "WhoId")


def test_a_type_column_of_one_kind_or_of_plain_words_is_no_polymorphism(tmp_path: Path) -> None:
    """`device_type` (ios, android) beside `device_id`, `owner_type` always `User`: not
    polymorphic, the link stands."""
    rng = random.Random(6)
    root = tmp_path / "x"
    _users(root, 300)
    _csv(
        root / "devices.csv",
        [
            {
                "id": 5000 + i,
                "owner_type": "User",
                "owner_id": rng.randint(1, 300),
                "device_type": rng.choice(["ios", "android"]),
                "device_id": f"d{rng.getrandbits(64):x}",
            }
            for i in range(600)
        ],
    )
    d = _draft(root)
    cols = d.tables["devices"].columns
    assert cols["owner_id"].references == "users.id"
    assert not any("unresolved" in n for c in cols.values() for n in c.notes)


# ---- F5: ids written as text ----------------------------------------------------------


def test_ids_written_as_text_link_and_a_request_reaches_their_rows(tmp_path: Path) -> None:
    """ahoy/Segment events write `"user_id": "17"`: linked to users.id (an integer), and
    `dsar access` by that user id receives exactly their events."""
    import yaml

    from dsar import load_catalog, open_engine
    from dsar.draft import draft_catalog
    from dsar.subjects.collect import collect
    from dsar.subjects.identity import SubjectRequest, parse_key
    from tests.test_catalog_draft import _filled

    rng = random.Random(8)
    root = tmp_path / "x"
    _users(root, 300)
    events: list[dict[str, int | str]] = [
        {"id": i, "user_id": str(rng.randint(1, 300)), "name": "page_view"} for i in range(1500)
    ]
    (root / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    out = tmp_path / "catalog.yml"
    d = draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    user_id = d.tables["events"].columns["user_id"]
    assert user_id.references == "users.id"
    kind = d.tables["users"].columns["id"].identity
    assert kind is not None and user_id.identity is kind
    assert d.tables["events"].personal
    out.write_text(yaml.safe_dump(_filled(yaml.safe_load(out.read_text())), sort_keys=False))
    catalog = load_catalog(out)
    with open_engine(catalog) as engine:
        [got] = collect(engine, catalog, [SubjectRequest("r", (parse_key(f"{kind.value}=17"),))])
    mine = sorted(int(e["id"]) for e in events if e["user_id"] == "17")
    assert mine and sorted(r["id"] for r in got.tables["events"].to_pylist()) == mine


def test_zero_padded_ids_are_flagged_not_linked_to_find_nothing(tmp_path: Path) -> None:
    """`loyalty_members.member_no` 00000042, `pos_transactions.member_no` 42: the same keys
    read as integers, but a request compares them as written and would find no
    transaction: flagged to confirm, never linked, and the table never reference data."""
    rng = random.Random(1)
    root = tmp_path / "x"
    root.mkdir()
    _csv(
        root / "loyalty_members.csv",
        [{"member_no": f"{i:08d}", "email": f"m{i}@example.org"} for i in range(1, 401)],
    )
    _csv(
        root / "pos_transactions.csv",
        [
            {"txn_id": 10 + i, "member_no": rng.randint(1, 400), "amount": i % 90}
            for i in range(1200)
        ],
    )
    d = _draft(root)
    pos = d.tables["pos_transactions"]
    member = pos.columns["member_no"]
    assert member.references is None and member.identity is None
    assert member.confidence["unlinked"].value <= 0.3
    assert any("written otherwise" in n for n in member.notes)
    assert pos.personal
