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
