"""Red team, issue 27 round 4, follow-up on findings 9 and 2 (`dsar catalog draft`), and the
table-unreached warning's advice.

9. Sakila's `store.manager_staff_id` was given identity `user_id`, so the store row counted as
   its manager's and `inventory` was owned through `store`: erasing a staff member deleted
   store 1 and its stock, and `catalog check` passed. A column naming a person by their role
   in an organisation's row (its manager, head, lead, contact person; a row other tables
   hang off, or a table named as an organisation) is no identity, and nothing is owned
   through it.
2. Magento's address table (a telephone per row) was a people table of its own, so its
   `parent_id` (every value a key of customer_entity) named "a second person" and a
   customer's own addresses were never reached. A leaf table whose complete link column lies
   in a people table's key, with contacts of another kind, is entries of that table's people.
4. `catalog check`'s table-unreached warning advised owned_through for a table that people's
   rows point at, which owned_through cannot reach: it now says what the draft says.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from dsar.catalog.models import IdentityKind, PersonalKind
from dsar.cli import app
from dsar.draft import Draft, draft
from dsar.text.engine import TextEngine
from tests.test_catalog_draft import _filled

runner = CliRunner()
FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Novak", "Silva", "Kim", "Berg"]
STREETS = ["Rose Lane", "Main Street", "Elm Road", "Kerkstraat", "Hauptstrasse"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _draft(root: Path) -> Draft:
    return draft(root, sample=400, text_engine=TextEngine(nlp=None))


def _email(i: int) -> str:
    return f"{FIRST[i % 10].lower()}.{LAST[i % 7].lower()}{i}@mail{i % 4}.example"


def _filled_draft(root: Path, out: Path) -> tuple[Path, str]:
    """Draft, fill every TODO as an analyst accepting the draft would, and check: the filled
    catalog and `catalog check`'s output (it must accept it)."""
    drafted = runner.invoke(app, ["catalog", "draft", str(root), "--out", str(out)])
    assert drafted.exit_code == 0, drafted.output
    filled = out.with_name("filled.yml")
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    filled.write_text(yaml.safe_dump(_filled(data), sort_keys=False), encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check", str(filled)])
    assert checked.exit_code == 0, checked.output
    return filled, checked.output


def _plan(catalog: Path, email: str) -> dict[str, int]:
    """`dsar erase plan`: rows of the person per table."""
    result = runner.invoke(app, ["erase", "plan", "--catalog", str(catalog), "--email", email])
    assert result.exit_code == 0, result.output
    rows: dict[str, int] = {}
    for line in result.output.splitlines():
        if "row(s) of the person" in line:
            table, count = line.split()[:2]
            rows[table] = int(count)
    return rows


# ---- 9: a store's manager ---------------------------------------------------------------


def _sakila(root: Path) -> dict[str, Any]:
    """Sakila's shape: staff 1..2 (one per store), store 1..2 (manager_staff_id), customer
    1..60 (store_id, address_id), inventory 1..100 (store_id), rental (customer, staff,
    inventory), address. Returns the truth."""
    rng = random.Random(27)
    _csv(
        root / "address.csv",
        [
            {"address_id": i, "address": f"{10 + i} {STREETS[i % 5]}", "postal_code": 10000 + i}
            for i in range(1, 65)
        ],
    )
    staff = [
        {"staff_id": s, "first_name": FIRST[s], "last_name": LAST[s],
         "email": f"{FIRST[s].lower()}.{LAST[s].lower()}@sakilastaff.example",
         "address_id": s, "store_id": s, "password": "8cb2237d0679ca88db6464eac60da96345513964"}
        for s in (1, 2)
    ]  # fmt: skip
    _csv(root / "staff.csv", staff)
    _csv(
        root / "store.csv",
        [{"store_id": s, "manager_staff_id": s, "address_id": 2 + s} for s in (1, 2)],
    )
    customers = [
        {"customer_id": c, "store_id": 1 + c % 2, "first_name": FIRST[c % 10],
         "last_name": LAST[(c // 10 + c) % 10], "email": _email(c), "address_id": 4 + c}
        for c in range(1, 61)
    ]  # fmt: skip
    _csv(root / "customer.csv", customers)
    inventory = [
        {"inventory_id": i, "film_id": rng.randint(1, 40), "store_id": 1 + i % 2}
        for i in range(1, 101)
    ]
    _csv(root / "inventory.csv", inventory)
    rentals = [
        {"rental_id": r, "inventory_id": rng.randint(1, 100), "customer_id": rng.randint(1, 60),
         "staff_id": rng.randint(1, 2), "rental_date": f"2025-0{1 + r % 9}-1{r % 10} 10:00:00"}
        for r in range(1, 301)
    ]  # fmt: skip
    _csv(root / "rental.csv", rentals)
    return {"staff": staff, "customers": customers, "rentals": rentals}


def test_f9_a_stores_manager_is_no_identity_and_nothing_is_owned_through_the_store(
    tmp_path: Path,
) -> None:
    _sakila(tmp_path)
    d = _draft(tmp_path)
    store, inventory = d.tables["store"], d.tables["inventory"]
    manager = store.columns["manager_staff_id"]
    assert manager.identity is None and manager.references == "staff.staff_id"
    assert "names the manager of an organisation's row" in " ".join(manager.notes)
    assert manager.confidence["no_identity"].value <= 0.6  # confirmed early
    assert store.owned_through is None and not store.identity_columns()
    assert not store.personal  # an organisation's rows
    assert "name a person only in a role (manager_staff_id)" in " ".join(store.notes)
    assert inventory.owned_through is None and not inventory.identity_columns()
    # the staff and customers are still found as before
    assert d.tables["staff"].columns["staff_id"].identity is not None
    rental = d.tables["rental"]
    assert rental.columns["customer_id"].identity is IdentityKind.CUSTOMER_ID


def test_f9_erasing_the_manager_deletes_no_store_and_no_stock_end_to_end(tmp_path: Path) -> None:
    """DuckDB: draft, fill, check, erase plan: the manager's erasure is their staff row only;
    a customer's is theirs and their rentals."""
    truth = _sakila(tmp_path / "export")
    filled, _ = _filled_draft(tmp_path / "export", tmp_path / "draft.yml")
    manager = truth["staff"][0]
    assert _plan(filled, manager["email"]) == {"staff": 1}
    customer = truth["customers"][4]
    rented = [r for r in truth["rentals"] if r["customer_id"] == customer["customer_id"]]
    assert _plan(filled, customer["email"]) == {"customer": 1, "rental": len(rented)}


def _two_tables(root: Path, parent: str, key: str, child: str, column: str) -> None:
    """A people table `parent` (60 people, emails) and `child` (10 rows naming one of the
    first 10 people in `column`), with `tasks` hanging off the child's rows."""
    _csv(
        root / f"{parent}.csv",
        [{key: i, "name": f"{FIRST[i % 10]} {LAST[i % 7]}", "email": _email(i)}
         for i in range(1, 61)],
    )  # fmt: skip
    _csv(
        root / f"{child}.csv",
        [{f"{child.rstrip('s')}_id": g, column: g, "title": f"Plan {g}"} for g in range(1, 11)],
    )
    _csv(
        root / "tasks.csv",
        [
            {"task_id": t, f"{child.rstrip('s')}_id": 1 + t % 10, "done": t % 2}
            for t in range(1, 81)
        ],
    )


def test_f9_a_crm_lead_and_a_projects_owner_keep_their_rows(tmp_path: Path) -> None:
    """`lead` is a role only where it does not name the people table (a CRM's leads are
    people: a campaign membership is the lead's), and an owner is no organisation role (a
    user's projects, and their tasks, are the user's)."""
    crm = tmp_path / "crm"
    _two_tables(crm, "leads", "lead_id", "campaign_members", "lead_id")
    members = _draft(crm).tables["campaign_members"]
    assert members.columns["lead_id"].identity is not None
    app_ = tmp_path / "app"
    _two_tables(app_, "users", "user_id", "projects", "owner_id")
    d = _draft(app_)
    assert d.tables["projects"].columns["owner_id"].identity is IdentityKind.USER_ID
    owned = d.tables["tasks"].owned_through
    assert owned is not None and owned.target == "projects.project_id"


def test_f9_a_teams_lead_and_a_departments_head_are_roles(tmp_path: Path) -> None:
    """`teams.lead_id -> users` (tasks hang off teams) and `departments.head_id -> users`
    (nothing hangs off it, but its name says an organisation): no identity, not owned."""
    teams = tmp_path / "teams"
    _two_tables(teams, "users", "user_id", "teams", "lead_id")
    d = _draft(teams)
    assert d.tables["teams"].columns["lead_id"].identity is None
    assert d.tables["tasks"].owned_through is None
    departments = tmp_path / "departments"
    _two_tables(departments, "users", "user_id", "departments", "head_id")
    (departments / "tasks.csv").unlink()
    d = _draft(departments)
    assert d.tables["departments"].columns["head_id"].identity is None
    assert d.tables["departments"].owned_through is None


# ---- 2: Magento's address book ----------------------------------------------------------


def _magento(root: Path) -> dict[str, Any]:
    """customer_entity (entity_id 1..50, email, names) and customer_address_entity (entity_id
    1..60, parent_id: the customer, names, street, telephone), Magento 2's column names;
    customer 5's addresses are rows 30 and 42, address row 5 is customer 7's."""
    rng = random.Random(2)
    customers = [
        {"entity_id": c, "website_id": 1, "email": _email(c), "firstname": FIRST[c % 10],
         "lastname": LAST[c % 7], "created_at": "2025-02-02 10:00:00"}
        for c in range(1, 51)
    ]  # fmt: skip
    _csv(root / "customer_entity.csv", customers)
    owners = [rng.choice([c for c in range(1, 51) if c != 5]) for _ in range(60)]
    owners[4], owners[29], owners[41] = 7, 5, 5
    addresses = [
        {"entity_id": a, "parent_id": owners[a - 1], "firstname": FIRST[owners[a - 1] % 10],
         "lastname": LAST[owners[a - 1] % 7], "street": f"{100 + a} {STREETS[a % 5]}",
         "city": "Calder", "telephone": f"(212) 555-{1000 + 37 * a}"}
        for a in range(1, 61)
    ]  # fmt: skip
    _csv(root / "customer_address_entity.csv", addresses)
    return {"customers": customers, "addresses": addresses}


def test_f2_an_address_book_is_its_owners_not_people_of_its_own(tmp_path: Path) -> None:
    _magento(tmp_path)
    d = _draft(tmp_path)
    book = d.tables["customer_address_entity"]
    assert book.people is None  # not a people table of its own
    kind = d.tables["customer_entity"].columns["entity_id"].identity
    assert kind is not None and book.columns["parent_id"].identity is kind
    assert book.columns["parent_id"].references == "customer_entity.entity_id"
    assert book.columns["entity_id"].identity is None  # its own key is no one's id
    phone = book.columns["telephone"]
    assert phone.identity is None and phone.personal is PersonalKind.PHONE
    assert "an address book entry is its owner's" in " ".join(book.notes)
    assert book.confidence["verdict"].value <= 0.6  # confirmed early
    assert d.tables["customer_entity"].people == "root"


def test_f2_a_customer_receives_their_own_addresses_end_to_end(tmp_path: Path) -> None:
    """DuckDB: draft, fill, check, access and erase plan for customer 5: rows 30 and 42,
    never row 5 (customer 7's)."""
    truth = _magento(tmp_path / "export")
    filled, _ = _filled_draft(tmp_path / "export", tmp_path / "draft.yml")
    fifth = truth["customers"][4]
    out = tmp_path / "bundles"
    access = runner.invoke(
        app,
        ["access", "--catalog", str(filled), "--email", fifth["email"], "--out", str(out),
         "--label", "AR-5"],
    )  # fmt: skip
    assert access.exit_code == 0, access.output
    with (out / "AR-5" / "data" / "customer_address_entity.csv").open(encoding="utf-8") as fh:
        got = sorted(int(r["entity_id"]) for r in csv.DictReader(fh))
    assert got == [30, 42]
    assert _plan(filled, fifth["email"]) == {"customer_entity": 1, "customer_address_entity": 2}


def test_f2_a_customer_list_with_a_sales_rep_stays_people_of_its_own(tmp_path: Path) -> None:
    """The rule needs a link naming the owner: `customers.sales_rep_id -> employees` (every
    customer has one) names a second person, so the customers (phones) stay a people table."""
    _csv(
        tmp_path / "employees.csv",
        [{"employee_id": e, "name": f"{FIRST[e]} {LAST[e % 7]}",
          "email": f"{FIRST[e].lower()}{e}@company.example"} for e in range(1, 6)],
    )  # fmt: skip
    _csv(
        tmp_path / "customers.csv",
        [{"customer_id": c, "name": f"{FIRST[c % 10]} {LAST[c % 7]}",
          "phone": f"+31 6 {12340000 + 17 * c}", "sales_rep_id": 1 + c % 5}
         for c in range(1, 61)],
    )  # fmt: skip
    d = _draft(tmp_path)
    customers = d.tables["customers"]
    assert customers.people == "root"
    assert customers.columns["phone"].identity is IdentityKind.PHONE
    assert customers.columns["sales_rep_id"].identity is None


# ---- 4: the table-unreached warning's advice --------------------------------------------


def test_the_unreached_warning_advises_as_the_draft_does(tmp_path: Path) -> None:
    """Sakila's address, which customers' and staff's rows point at: no owned_through advice
    (owned_through cannot reach it), the draft's advice instead."""
    _sakila(tmp_path / "export")
    _, said = _filled_draft(tmp_path / "export", tmp_path / "draft.yml")
    warning = said.split("warning: tables.address:")[1].split("code:")[0]
    assert "add owned_through" not in warning
    assert "other tables' rows point at it (customer, staff)" in warning
    assert "re-export it with its person's key" in warning


def test_the_unreached_warning_keeps_owned_through_where_the_table_links_to_a_person(
    tmp_path: Path,
) -> None:
    """An unreached table whose own column references a person's rows (the address book's
    parent_id, its identity removed) is still told owned_through."""
    _magento(tmp_path / "export")
    filled, _ = _filled_draft(tmp_path / "export", tmp_path / "draft.yml")
    data = yaml.safe_load(filled.read_text(encoding="utf-8"))
    data["tables"]["customer_address_entity"]["columns"]["parent_id"].pop("identity")
    filled.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check", str(filled)])
    assert checked.exit_code == 0, checked.output
    warning = checked.output.split("warning: tables.customer_address_entity:")[1]
    assert "add owned_through: {column: ..., parent: table.key}" in warning.split("code:")[0]
