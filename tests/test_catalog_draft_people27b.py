"""`dsar catalog draft` (red team 27 round 2, F2, F4, F6): whose people tables.

A one-to-one profile (Django's accounts_profile, its user_id unique and a key of auth_user)
is the account's people, not people of its own: auth_user, which every other table's person
link points at, is the people table, and the profile is reached through its user_id. A
third people table (Salesforce's Lead beside User and Contact) gets an identity kind of its
own. People known only by a username (a forum's members) are people: the username is an
identity, their posts are theirs, and a city in their table is theirs.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from dsar.catalog.models import IdentityKind
from dsar.draft import Draft, draft
from dsar.text.engine import TextEngine

FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Novak", "Silva", "Kim", "Berg"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


@pytest.fixture(scope="module")
def django(tmp_path_factory: pytest.TempPathFactory) -> Draft:
    """auth_user; accounts_profile(id, user_id unique -> auth_user.id, in another order,
    phone, city); shop_order(user_id -> auth_user.id)."""
    rng = random.Random(9)
    root = tmp_path_factory.mktemp("people27b") / "django"
    root.mkdir()
    n = 120
    _csv(
        root / "auth_user.csv",
        [
            {
                "id": i,
                "username": f"{FIRST[i % 10].lower()}{LAST[i // 10 % 10].lower()}{i}",
                "email": f"user{i}@mail{i % 7}.example",
                "first_name": FIRST[i % 10],
                "last_name": LAST[i // 10 % 10],
                "date_joined": f"2024-01-{1 + i % 28:02d} 10:00:00",
            }
            for i in range(1, n + 1)
        ],
    )
    owners = rng.sample(range(1, n + 1), n)
    _csv(
        root / "accounts_profile.csv",
        [
            {"id": i, "user_id": owners[i - 1], "phone": f"06{rng.randrange(10**8):08d}",
             "city": rng.choice(["Leeds", "Porto", "Lyon", "Graz", "Turku", "Split"])}
            for i in range(1, n + 1)
        ],
    )  # fmt: skip
    _csv(
        root / "shop_order.csv",
        [{"id": 5000 + i, "user_id": rng.randint(1, n), "total": i % 90 + 5} for i in range(400)],
    )
    return draft(root, sample=500, text_engine=TextEngine(nlp=None))


def test_a_one_to_one_profile_is_the_accounts_people(django: Draft) -> None:
    t = django.tables
    user, profile = t["auth_user"], t["accounts_profile"]
    assert user.people == "root"
    assert user.columns["id"].identity is IdentityKind.USER_ID
    assert profile.people == "extension"
    # the profile's own row number is no one's id; its user_id is the account's
    assert profile.columns["id"].identity is None
    assert profile.columns["user_id"].identity is IdentityKind.USER_ID
    assert t["shop_order"].columns["user_id"].identity is IdentityKind.USER_ID
    assert "one row per person of auth_user" in " ".join(profile.notes)
    # a phone is never compared with emails
    assert not any("phone values are found in" in n for n in profile.notes)


def _person(i: int, domain: str) -> dict[str, Any]:
    first, last = FIRST[i % 10], LAST[(i // 10 + i) % 10]
    return {"FirstName": first, "LastName": last, "Email": f"{first}.{last}{i}@{domain}".lower()}


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Draft:
    """Salesforce-like: User (reps), Contact, Lead, Partner (a fourth people table), and
    CampaignMember holding a ContactId or a LeadId in each row."""
    rng = random.Random(4)
    root = tmp_path_factory.mktemp("people27b") / "crm"
    root.mkdir()
    users = [f"005A{i:011d}" for i in range(12)]
    _csv(root / "User.csv", [{"Id": u, **_person(i, "acme.example")} for i, u in enumerate(users)])
    contacts = [f"003B{i:011d}" for i in range(80)]
    _csv(
        root / "Contact.csv",
        [
            {"Id": c, **_person(i + 100, f"c{i % 9}.example"), "OwnerId": rng.choice(users)}
            for i, c in enumerate(contacts)
        ],
    )
    leads = [f"00QC{i:011d}" for i in range(60)]
    _csv(
        root / "Lead.csv",
        [
            {"Id": q, **_person(i + 300, f"l{i % 9}.example"), "OwnerId": rng.choice(users)}
            for i, q in enumerate(leads)
        ],
    )
    _csv(
        root / "Partner.csv",
        [{"Id": f"0PD{i:012d}", **_person(i + 600, f"p{i % 5}.example")} for i in range(30)],
    )
    members = []
    for i in range(240):
        contact = rng.random() < 0.5
        members.append(
            {
                "Id": f"00v{i:012d}",
                "CampaignId": f"701{rng.randrange(8):012d}",
                "ContactId": rng.choice(contacts) if contact else "",
                "LeadId": "" if contact else rng.choice(leads),
                "Status": "Sent",
            }
        )
    _csv(root / "CampaignMember.csv", members)
    return draft(root, sample=500, text_engine=TextEngine(nlp=None))


def test_a_third_people_table_gets_a_kind_of_its_own(crm: Draft) -> None:
    t = crm.tables
    kinds = {n: t[n].columns["Id"].identity for n in ("User", "Contact", "Lead")}
    assert None not in kinds.values()
    assert len(set(kinds.values())) == 3  # never shared: colliding keys never link
    assert kinds["Lead"] is IdentityKind.PERSON_ID
    member = t["CampaignMember"].columns
    # each row is a contact's or a lead's: both columns reach their person
    assert member["ContactId"].identity is kinds["Contact"]
    assert member["LeadId"].identity is kinds["Lead"]
    assert "never two" in " ".join(member["LeadId"].notes)


def test_a_people_table_left_without_a_kind_is_said_and_confirmed_first(crm: Draft) -> None:
    partner = crm.tables["Partner"]
    assert partner.people == "root"
    assert partner.columns["Id"].identity is None
    assert "no identity kind" in " ".join(partner.columns["Id"].notes)
    assert partner.confidence["verdict"].value <= 0.2
    assert any(d.where == "Partner" for d in crm.confirm_first(8))


def _handle(rng: random.Random, i: int) -> str:
    first, last = FIRST[i % 10].lower(), LAST[(i * 7) % 10].lower()
    return rng.choice([f"{first}{last}{i}", f"{first[0]}{last}", f"{last}_{first}{i % 97}"]) + (
        f".{i}" if i % 5 == 0 else str(i)
    )


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Draft:
    """members(username, city, joined_at, karma); posts(post_id, username, ...); plans and
    products keyed by codes and slugs that other tables reference (no people); a headerless
    file of handles."""
    rng = random.Random(6)
    root = tmp_path_factory.mktemp("people27b") / "forum"
    root.mkdir()
    names = [_handle(rng, i) for i in range(150)]
    _csv(
        root / "members.csv",
        [
            {"username": u, "city": rng.choice(["Leeds", "Porto", "Lyon", "Graz", "Turku"]),
             "joined_at": f"2024-0{1 + i % 9}-1{i % 9} 08:00:00", "karma": rng.randrange(5000),
             "plan": rng.choice(["free", "pro", "team"])}
            for i, u in enumerate(names)
        ],
    )  # fmt: skip
    _csv(
        root / "posts.csv",
        [
            {"post_id": i, "username": rng.choice(names), "score": rng.randrange(300),
             "product": rng.choice([f"red-shirt-{k}" for k in range(30)])}
            for i in range(1, 600)
        ],
    )  # fmt: skip
    _csv(
        root / "plans.csv",
        [{"plan": p, "price": n} for p, n in (("free", 0), ("pro", 9), ("team", 29))],
    )
    _csv(root / "products.csv", [{"slug": f"red-shirt-{k}", "price": 10 + k} for k in range(30)])
    with (root / "handles.csv").open("w", encoding="utf-8") as fh:  # no header line
        fh.writelines(
            f"{_handle(rng, 1000 + i)},{rng.choice(['active', 'churned'])}\n" for i in range(200)
        )
    return draft(root, sample=500, text_engine=TextEngine(nlp=None))


def test_people_known_by_username_are_people(forum: Draft) -> None:
    t = forum.tables
    members, posts = t["members"], t["posts"]
    assert members.people == "root" and members.personal
    assert members.columns["username"].identity is IdentityKind.USERNAME
    assert posts.personal
    assert posts.columns["username"].identity is IdentityKind.USERNAME
    # a city in a people table is the person's place
    assert members.columns["city"].personal is not None
    # codes and slugs that rows reference are no one's handle
    assert not t["plans"].personal and t["plans"].people is None
    assert not t["products"].personal and t["products"].people is None
    assert t["posts"].columns["product"].identity is None


def test_headerless_handles_are_never_reference_data(forum: Draft) -> None:
    handles = forum.tables["handles"]
    assert handles.personal
    col = handles.columns["column0"]
    assert col.personal is not None and col.identity is None
    assert col.confidence["personal"].value <= 0.4  # confirm whose


def test_an_accounts_username_is_an_identity_too(django: Draft) -> None:
    user = django.tables["auth_user"]
    assert user.columns["username"].identity is IdentityKind.USERNAME
    assert user.columns["email"].identity is IdentityKind.EMAIL
