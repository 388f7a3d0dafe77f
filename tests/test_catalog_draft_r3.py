"""Red team, issue 27 round 3: the critical and high findings, each attacked.

1. Two people tables that each number their own people 1..n under one column name (a shop's
   customers.customer_id, a loyalty programme's loyalty_members.customer_id), no contact
   shared: two people tables with two kinds, never a profile extension or a link.
2. A row naming two people of one people table (messages.sender_id, recipient_id) never
   gets identity on both (the request's closure would join the two people): the sender is
   the row's person, the recipient a reference without identity, confirmed first.
3. A row with its own person column (likes.liker_id, reviews.reviewer_id) is that person's,
   never owned through the parent row (the liked article's author).
4. Compressed files (.csv.gz, .jsonl.gz, .json.gz) are read, never skipped silently.
5. A JSON object of records keyed by id (Firebase) is read as a table, the key a column.
6. A headerless CSV whose first line is two snake_case handles reads that line as data.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

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


def _draft(root: Path) -> Draft:
    return draft(root, sample=400, text_engine=TextEngine(nlp=None))


def _name(i: int) -> str:
    return f"{FIRST[i % 10]} {LAST[(i // 10 + i) % 10]}"


# ---- 1: two people tables numbering their own people -----------------------------------


def test_two_people_tables_numbering_their_own_people_never_link(tmp_path: Path) -> None:
    rng = random.Random(21)
    _csv(
        tmp_path / "customers.csv",
        [
            {"customer_id": i, "email": f"shop{i}@mail{i % 5}.example", "name": _name(i)}
            for i in range(1, 61)
        ],
    )
    members = {
        "customer_id": list(range(1, 91)),
        "email": [f"club{i}@post{i % 7}.example" for i in range(1, 91)],
        "name": [_name(i + 3) for i in range(1, 91)],
        "points": [rng.randint(0, 5000) for _ in range(90)],
    }
    pq.write_table(pa.table(members), tmp_path / "loyalty_members.parquet")
    _csv(
        tmp_path / "orders.csv",
        [{"order_id": i, "customer_id": rng.randint(1, 60), "total": i % 90} for i in range(300)],
    )
    d = _draft(tmp_path)
    customers, loyalty = d.tables["customers"], d.tables["loyalty_members"]
    assert customers.people == "root" and loyalty.people == "root"
    # no link between the two keys, in the draft or its links
    assert customers.columns["customer_id"].references is None
    assert not any({lk.child, lk.parent} == {"customers", "loyalty_members"} for lk in d.links)
    kinds = {customers.columns["customer_id"].identity, loyalty.columns["customer_id"].identity}
    assert None not in kinds and len(kinds) == 2  # each its own kind
    assert d.tables["orders"].columns["customer_id"].references == "customers.customer_id"


def test_a_profile_named_for_its_table_still_extends_it(tmp_path: Path) -> None:
    """The Django profile stays an extension: its user_id names auth_user."""
    _csv(
        tmp_path / "auth_user.csv",
        [{"id": i, "email": f"u{i}@mail{i % 5}.example", "name": _name(i)} for i in range(1, 81)],
    )
    _csv(
        tmp_path / "accounts_profile.csv",
        [{"id": i, "user_id": 81 - i, "email": f"p{i}@other{i % 3}.example"} for i in range(1, 81)],
    )
    d = _draft(tmp_path)
    assert d.tables["accounts_profile"].people == "extension"
    assert d.tables["accounts_profile"].columns["user_id"].identity is IdentityKind.USER_ID


# ---- 2 and 3: rows naming two people; rows with a person of their own -------------------


def _social(root: Path, liker: str = "liker_id") -> Draft:
    """users (60), admin_users (6), articles by users; messages between fixed pairs of
    users; likes of articles by users; reviews of articles by admins."""
    rng = random.Random(5)
    _csv(
        root / "users.csv",
        [
            {"id": i, "email": f"member{i}@mail{i % 5}.example", "name": _name(i)}
            for i in range(1, 61)
        ],
    )
    _csv(
        root / "admin_users.csv",
        [{"id": i, "email": f"{FIRST[i].lower()}@staff.example"} for i in range(1, 7)],
    )
    _csv(
        root / "articles.csv",
        [{"id": i, "author_id": rng.randint(1, 60), "words": i % 900} for i in range(1, 201)],
    )
    pairs = [(a, a + 1) for a in range(1, 60, 2)]
    msgs = []
    for i in range(1, 301):
        a, b = rng.choice(pairs)
        sender, recipient = (a, b) if i % 2 else (b, a)
        msgs.append({"id": i, "sender_id": sender, "recipient_id": recipient, "size": i % 70})
    _csv(root / "messages.csv", msgs)
    _csv(
        root / "likes.csv",
        [
            {"id": i, liker: rng.randint(1, 60), "article_id": rng.randint(1, 200)}
            for i in range(1, 501)
        ],
    )
    _csv(
        root / "reviews.csv",
        [
            {"id": i, "article_id": rng.randint(1, 200), "reviewer_id": rng.randint(1, 6)}
            for i in range(1, 151)
        ],
    )
    return _draft(root)


def test_a_row_naming_two_people_gets_one_identity(tmp_path: Path) -> None:
    d = _social(tmp_path)
    messages = d.tables["messages"]
    sender, recipient = messages.columns["sender_id"], messages.columns["recipient_id"]
    assert sender.identity is IdentityKind.USER_ID
    # the recipient: a reference without identity (two would join the pair), said, and
    # among the decisions to confirm first
    assert recipient.identity is None
    assert recipient.references == "users.id"
    assert "names a second person" in " ".join(recipient.notes)
    first = [(x.table, x.column) for x in d.confirm_first(limit=6)]
    assert ("messages", "recipient_id") in first


def test_a_row_with_its_own_person_is_never_owned_through_its_parent(tmp_path: Path) -> None:
    d = _social(tmp_path)
    likes, reviews = d.tables["likes"], d.tables["reviews"]
    assert likes.columns["liker_id"].identity is IdentityKind.USER_ID
    assert likes.owned_through is None
    # the reviewer is an admin (the 1..6 values fit every key; the tightest is admin_users)
    assert reviews.owned_through is None or reviews.owned_through.parent != "articles"


def test_an_unknown_person_column_blocks_ownership_through_the_parent(tmp_path: Path) -> None:
    """A person column whose name no rule knows (giver_id) is left unlinked: the table is
    then no one's (flagged), never the liked article's author's."""
    d = _social(tmp_path, liker="giver_id")
    likes = d.tables["likes"]
    assert likes.columns["giver_id"].identity is None
    assert "unlinked" in likes.columns["giver_id"].confidence
    assert likes.owned_through is None
    assert "may name the row's own person" in " ".join(likes.notes)
    assert likes.personal  # never reference data


# ---- 4 and 5: compressed files, a JSON object of records keyed by id -------------------


def test_compressed_and_keyed_records_are_listed_not_read(tmp_path: Path) -> None:
    people = [{"id": i, "email": f"p{i}@mail{i % 4}.example", "name": _name(i)} for i in range(50)]
    _csv(tmp_path / "customers.csv", people)
    lines = "".join(json.dumps(p) + "\n" for p in people)
    with gzip.open(tmp_path / "contacts.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(lines)
    with gzip.open(tmp_path / "leads.json.gz", "wt", encoding="utf-8") as fh:
        json.dump(people, fh)
    with gzip.open(tmp_path / "subscribers.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write("email\n" + "".join(f"{p['email']}\n" for p in people))
    keyed = {f"uid_{i:04d}": {"email": p["email"], "displayName": p["name"]} for i, p in
             enumerate(people)}  # fmt: skip
    (tmp_path / "firebase_users.json").write_text(json.dumps(keyed), encoding="utf-8")
    d = _draft(tmp_path)
    listed = {t.path for t in d.not_read}
    assert {"contacts.jsonl.gz", "leads.json.gz", "subscribers.csv.gz"} <= listed
    assert "firebase_users.json" in listed
    assert not any(path == "firebase_users.json" for path, _ in d.skipped)
    # the reasons name no value
    said = " ".join(t.reason for t in d.not_read)
    assert not any(str(p["email"]) in said or str(p["name"]) in said for p in people)
    assert "uid_" not in said


# ---- 6: a headerless CSV whose first line is two snake_case handles ---------------------


def test_handles_over_a_column_of_handles_are_a_row(tmp_path: Path) -> None:
    rng = random.Random(3)
    words = ["peer", "lene", "karl", "vogt", "jet", "ray", "mund", "dietz", "zoe", "tim"]

    def handle() -> str:
        return rng.choice(words) + rng.choice(words) + rng.choice(["", "", "08", "80", "_x"])

    lines = ["jonas_beckmann_84,lieselotte_vogt"]
    lines += [f"{handle()},{handle()}" for _ in range(200)]
    (tmp_path / "follow_graph.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    d = _draft(tmp_path)
    table = d.tables["follow_graph"]
    assert table.profile.rows == 201  # the first line is data
    assert "jonas_beckmann_84" not in table.columns
    assert "lieselotte_vogt" not in table.columns


def test_a_vocabulary_header_over_handles_stays_a_header(tmp_path: Path) -> None:
    rng = random.Random(4)
    rows = [
        {"user_name": f"anna_{rng.randrange(10**4)}", "city": rng.choice(["Leeds", "Porto"])}
        for _ in range(100)
    ]
    _csv(tmp_path / "members.csv", rows)
    d = _draft(tmp_path)
    assert "user_name" in d.tables["members"].columns
