"""Red team, issue 27 round 4, findings 1, 2, 9, 10b, 10c and 11 (`dsar catalog draft`): links.

1. Two marketing lists, each numbering its own subscribers 1..n under one column name
   (`email_subscribers.subscriber_id`, `sms_subscribers.subscriber_id`), no contact shared:
   the SMS list was linked to the email list by the shared name, and email subscriber 5's
   bundle held SMS subscriber 5's phone number. A table's own dense key is linked to another
   table's key only with corroboration: its name being that table's (`user_id` of users),
   sparse values in a sparse key, or contacts shared; else it is a question, at 0.3.
2. Magento: every table's key is `entity_id`, numbered 1..n: `customer_entity.entity_id` was
   linked to the address table's own key, so customer n received address row n. Never.
9. Sakila: `staff.store_id` (unique: one staff member a store) was taken for a second key of
   the staff people table, and `inventory.store_id` linked to it. A unique column that is
   itself a link to another table's key (store.store_id) is that table's key, not its own's.
10b. Order lines whose `product_id` lies in a products table's key are owned through the order.
10c. Magento's `sales_order_status_history.parent_id`, filled in every row and all in
   `sales_order.entity_id`, was taken for a self-reference (1..100 fits its own key 1..200).
11. `wp_posts.ID` (sparse) and `post_author` were linked to `wp_postmeta.meta_id` (a dense
   1..n key, which any set of small numbers fits; `post` of post_author is its own table's
   word, no abbreviation of postmeta); `sales_order.entity_id` to its history's `entity_id`.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dsar.cli import app
from dsar.draft import Draft, draft, draft_catalog
from dsar.text.engine import TextEngine
from tests.test_catalog_draft import _filled

runner = CliRunner()
FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Garcia", "Miller", "Rossi", "Dubois", "Novak", "Silva", "Kim", "Berg"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _draft(root: Path) -> Draft:
    return draft(root, sample=400, text_engine=TextEngine(nlp=None))


def _fill(tmp_path: Path, root: Path) -> Path:
    """Draft the export, fill every TODO as an analyst accepting the draft would, check it."""
    out = tmp_path / "catalog.yml"
    draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    for table in written["tables"].values():
        if table.get("retention", {}).get("criteria") == "TODO":
            table["retention"]["criteria"] = "while the account is open"
    filled = tmp_path / "filled.yml"
    filled.write_text(yaml.safe_dump(_filled(written), sort_keys=False), encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check", str(filled)])
    assert checked.exit_code == 0, checked.output
    return filled


def _bundle_bytes(tmp_path: Path, filled: Path, email: str) -> list[bytes]:
    bundles = tmp_path / "bundles"
    got = runner.invoke(
        app,
        ["access", "--catalog", str(filled), "--email", email, "--out", str(bundles),
         "--label", "AR-1"],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    files = [p.read_bytes() for p in bundles.rglob("*") if p.is_file()]
    assert files
    return files


# ---- 1: two lists, each numbering its own people ------------------------------------------


def _subscribers(root: Path, phone: str) -> list[str]:
    emails = [f"{FIRST[i % 10].lower()}.{i * 7 + 100}@mailbox.example" for i in range(1, 61)]
    _csv(
        root / "email_subscribers.csv",
        [
            {"subscriber_id": i, "email": e, "subscribed_at": f"2026-0{1 + i % 9}-11 08:00:00"}
            for i, e in enumerate(emails, 1)
        ],
    )
    phones = [31612345678 + 7919 * i for i in range(1, 46)]
    _csv(
        root / "sms_subscribers.csv",
        [
            {
                "subscriber_id": i,
                "phone": f"+{p}" if phone == "text" else p,
                "subscribed_at": f"2026-0{1 + i % 9}-21 09:30:00",
            }
            for i, p in enumerate(phones, 1)
        ],
    )
    return [str(p) for p in phones]


@pytest.mark.parametrize("phone", ["text", "integer"])
def test_f1_two_lists_numbering_their_own_subscribers_never_link(
    tmp_path: Path, phone: str
) -> None:
    _subscribers(tmp_path, phone)
    d = _draft(tmp_path)
    sms, mail = d.tables["sms_subscribers"], d.tables["email_subscribers"]
    assert not any(
        {lk.child, lk.parent} == {"sms_subscribers", "email_subscribers"} for lk in d.links
    )
    assert sms.columns["subscriber_id"].references is None
    assert mail.columns["subscriber_id"].references is None
    assert sms.people != "extension"
    # proposed as a question only, confirmed first, and the SMS list never reference data
    assert "unlinked" in sms.columns["subscriber_id"].confidence
    assert sms.columns["subscriber_id"].confidence["unlinked"].value <= 0.3
    assert sms.personal


def test_f1_the_email_subscribers_bundle_holds_no_sms_subscribers_phone(tmp_path: Path) -> None:
    root = tmp_path / "export"
    phones = _subscribers(root, "text")
    filled = _fill(tmp_path, root)
    email5 = f"{FIRST[5].lower()}.{5 * 7 + 100}@mailbox.example"
    for data in _bundle_bytes(tmp_path, filled, email5):
        assert phones[4].encode() not in data  # SMS subscriber 5's number
    plan = runner.invoke(app, ["erase", "plan", "--catalog", str(filled), "--email", email5])
    assert plan.exit_code == 0, plan.output
    assert not [x for x in plan.output.splitlines() if x.strip().startswith("sms_subscribers")]


def test_f1_a_table_keyed_by_a_shared_key_name_alone_is_a_question(tmp_path: Path) -> None:
    """A feedback table keyed by its own 1..45 subscriber_id: the name is no table's own."""
    _subscribers(tmp_path, "text")
    (tmp_path / "sms_subscribers.csv").unlink()
    _csv(
        tmp_path / "newsletter_feedback.csv",
        [{"subscriber_id": i, "rating": 1 + i % 5} for i in range(1, 46)],
    )
    d = _draft(tmp_path)
    feedback = d.tables["newsletter_feedback"]
    col = feedback.columns["subscriber_id"]
    assert col.references is None and col.identity is None
    assert "unlinked" in col.confidence
    assert feedback.personal  # never reference data


def test_f1_corroborated_one_to_one_links_stand(tmp_path: Path) -> None:
    """The key's name being the table's (user_profiles.user_id of users), or contacts
    shared (two contact lists holding the same emails), still make a one-to-one link."""
    _csv(
        tmp_path / "a" / "users.csv",
        [
            {"user_id": i, "email": f"u{i}@mail{i % 5}.example", "name": f"{FIRST[i % 10]} Berg"}
            for i in range(1, 61)
        ],
    )
    _csv(
        tmp_path / "a" / "user_profiles.csv", [{"user_id": i, "bio": i % 50} for i in range(1, 41)]
    )
    d = _draft(tmp_path / "a")
    assert d.tables["user_profiles"].columns["user_id"].references == "users.user_id"
    _csv(
        tmp_path / "b" / "crm_contacts.csv",
        [
            {"contact_id": i, "email": f"p{i}@mail{i % 5}.example", "name": f"{FIRST[i % 10]} Kim"}
            for i in range(1, 61)
        ],
    )
    _csv(
        tmp_path / "b" / "newsletter_contacts.csv",
        [
            {"contact_id": i, "email": f"p{i}@mail{i % 5}.example", "topic": i % 3}
            for i in range(1, 41)
        ],
    )
    d = _draft(tmp_path / "b")
    news = d.tables["newsletter_contacts"]
    assert news.columns["contact_id"].references == "crm_contacts.contact_id"
    assert news.people == "extension"


# ---- 2, 10c, 11: Magento, every key entity_id ---------------------------------------------


def _magento(root: Path) -> list[dict[str, Any]]:
    rng = random.Random(27)
    customers = [
        {
            "entity_id": i,
            "email": f"{FIRST[i % 10].lower()}.{LAST[i // 10 % 10].lower()}{i}@example.com",
            "firstname": FIRST[i % 10],
            "lastname": LAST[i // 10 % 10],
        }
        for i in range(1, 51)
    ]
    _csv(root / "customer_entity.csv", customers)
    _csv(
        root / "customer_address_entity.csv",
        [
            {
                "entity_id": i,
                "parent_id": 1 + (i * 7) % 50 if i > 10 else i + 20,
                "firstname": FIRST[(i * 3) % 10],
                "street": f"{100 + i * 13} Elm Street",
                "telephone": f"(212) 555-{1000 + i * 37}",
            }
            for i in range(1, 61)
        ],
    )
    _csv(
        root / "sales_order.csv",
        [
            {
                "entity_id": i,
                "customer_id": (c := rng.randint(1, 50)),
                "customer_email": customers[c - 1]["email"],
                "grand_total": f"{rng.randint(10, 300)}.00",
            }
            for i in range(1, 101)
        ],
    )
    _csv(
        root / "sales_order_status_history.csv",
        [
            {
                "entity_id": i,
                "parent_id": 1 + (i - 1) // 2,
                "status": "complete" if i % 2 else "processing",
                "created_at": f"2025-10-{1 + i % 28:02d} 13:00:00",
            }
            for i in range(1, 201)
        ],
    )
    return customers


def test_f2_entity_ids_each_numbering_their_own_rows_never_link(tmp_path: Path) -> None:
    _magento(tmp_path)
    d = _draft(tmp_path)
    for link in d.links:  # no table's own key is another's
        assert not (link.column == "entity_id" and link.key == "entity_id"), link
    for name in ("customer_entity", "customer_address_entity", "sales_order"):
        assert d.tables[name].columns["entity_id"].references is None, name
    assert d.tables["customer_entity"].people != "extension"


def test_f2_a_customer_never_receives_another_customers_address(tmp_path: Path) -> None:
    root = tmp_path / "export"
    customers = _magento(root)
    filled = _fill(tmp_path, root)
    data = b"".join(_bundle_bytes(tmp_path, filled, customers[4]["email"]))
    with (root / "customer_address_entity.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["parent_id"] != "5":
                assert row["street"].encode() not in data, row["entity_id"]
                assert row["telephone"].encode() not in data, row["entity_id"]


def test_f10c_a_parent_filled_in_every_row_is_the_other_tables_link(tmp_path: Path) -> None:
    """Magento's status history: parent_id filled in every row, all its values in
    sales_order's key, fits its own key 1..200 only by range: the order, no self-reference
    (and the address's parent_id, the customer)."""
    _magento(tmp_path)
    d = _draft(tmp_path)
    # the address's parent_id too (all in customer_entity's key, 1..50, and in its own)
    address = d.tables["customer_address_entity"].columns["parent_id"]
    assert address.references == "customer_entity.entity_id"
    # (the history, no person of its own, is then owned through the order)
    history = d.tables["sales_order_status_history"]
    owner = history.owned_through
    assert history.columns["parent_id"].references == "sales_order.entity_id" or (
        owner is not None and owner.column == "parent_id"
    )
    assert owner is None or owner.target == "sales_order.entity_id"
    assert "not a self-reference" in " ".join(history.columns["parent_id"].notes)


def test_f10c_a_parent_column_with_roots_stays_a_self_reference(tmp_path: Path) -> None:
    """Threaded comments: parent_id empty on the first comments, its values in its own key
    and in the posts' (by range): a self-reference, as before."""
    rng = random.Random(4)
    _csv(tmp_path / "posts.csv", [{"id": i, "title_len": i % 40} for i in range(1, 201)])
    _csv(
        tmp_path / "comments.csv",
        [
            {
                "id": i,
                "post_id": rng.randint(1, 200),
                "parent_id": "" if i <= 20 else rng.randint(1, 20),
                "body_len": i % 90,
            }
            for i in range(1, 151)
        ],
    )
    d = _draft(tmp_path)
    assert d.tables["comments"].columns["parent_id"].references == "comments.id"


# ---- 9: a store's key is no staff member's ------------------------------------------------


def test_f9_a_unique_link_is_no_second_key_of_its_people_table(tmp_path: Path) -> None:
    rng = random.Random(9)
    _csv(
        tmp_path / "staff.csv",
        [
            {"staff_id": 1, "first_name": "Mike", "email": "mike.h@sakilastaff.com", "store_id": 1},
            {"staff_id": 2, "first_name": "Jon", "email": "jon.s@sakilastaff.com", "store_id": 2},
        ],
    )
    _csv(tmp_path / "store.csv", [{"store_id": s, "manager_staff_id": s} for s in (1, 2)])
    _csv(
        tmp_path / "customer.csv",
        [
            {
                "customer_id": i,
                "store_id": 1 + i % 2,
                "first_name": FIRST[i % 10],
                "email": f"{FIRST[i % 10].lower()}.{i}@sakilacustomer.org",
            }
            for i in range(1, 61)
        ],
    )
    _csv(
        tmp_path / "inventory.csv",
        [
            {"inventory_id": i, "film_id": rng.randint(1, 40), "store_id": 1 + i % 2}
            for i in range(1, 101)
        ],
    )
    d = _draft(tmp_path)
    staff = d.tables["staff"].columns["store_id"]
    assert staff.identity is None
    assert staff.references == "store.store_id"
    for name in ("inventory", "customer"):
        col = d.tables[name].columns["store_id"]
        assert col.references == "store.store_id", name
        assert col.identity is None, name
    assert not any(lk.target == "staff.store_id" for lk in d.links)


# ---- 10b: order lines owned through their order --------------------------------------------


def test_f10b_a_product_id_in_a_products_key_leaves_order_lines_owned(tmp_path: Path) -> None:
    rng = random.Random(3)
    _csv(
        tmp_path / "customers.csv",
        [
            {"customer_id": i, "email": f"c{i}@mail{i % 5}.example", "name": f"{FIRST[i % 10]} Kim"}
            for i in range(1, 51)
        ],
    )
    _csv(
        tmp_path / "orders.csv",
        [
            {"order_id": i, "customer_id": rng.randint(1, 50), "total": i % 70}
            for i in range(1, 101)
        ],
    )
    _csv(
        tmp_path / "products.csv", [{"product_id": i, "title": f"Widget {i}"} for i in range(1, 31)]
    )
    _csv(
        tmp_path / "order_lines.csv",
        [
            {"line_id": i, "order_id": rng.randint(1, 100), "product_id": rng.randint(1, 30)}
            for i in range(1, 201)
        ],
    )
    d = _draft(tmp_path)
    lines = d.tables["order_lines"]
    assert lines.owned_through is not None and lines.owned_through.target == "orders.order_id"
    assert lines.columns["product_id"].references == "products.product_id"


# ---- 11: a dense key fits any small numbers -------------------------------------------------


def test_f11_own_keys_never_link_to_a_dense_key_by_range(tmp_path: Path) -> None:
    ids = list(range(101, 181)) + list(range(1, 21))
    _csv(
        tmp_path / "wp_users.csv",
        [
            {"ID": i, "user_login": f"member{i}", "user_email": f"m{i}@mail{i % 5}.example"}
            for i in range(1, 41)
        ],
    )
    _csv(
        tmp_path / "wp_posts.csv",
        [{"ID": i, "post_author": 1, "post_status": "wc-completed"} for i in ids],
    )
    _csv(
        tmp_path / "wp_postmeta.csv",
        [
            {
                "meta_id": m,
                "post_id": ids[(m - 1) // 4],
                "meta_key": f"_k{m % 4}",
                "meta_value": m % 13,
            }
            for m in range(1, 401)
        ],
    )
    d = _draft(tmp_path)
    posts = d.tables["wp_posts"]
    assert posts.columns["ID"].references is None
    assert posts.columns["post_author"].references != "wp_postmeta.meta_id"
    # one account on every row (an admin) is no row's own person: flagged, not an identity
    assert posts.columns["post_author"].identity is None
    assert d.tables["wp_postmeta"].columns["post_id"].references == "wp_posts.ID" or (
        d.tables["wp_postmeta"].owned_through is not None
    )
