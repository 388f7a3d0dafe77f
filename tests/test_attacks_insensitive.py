"""`insensitive:` cannot hide a value nobody else holds, and a hash cannot hide whose id it is.

The third red team of issue 22 declared unique numbers and times insensitive with plausible
reasons ("a member number, meaningless outside", "the offset is secret per customer") and
re-identified every person by joining the source on them: 400 of 400 shop members on an
integer member number, 1,000 of 1,000 demo accounts on `created_at`, 348 of 400 customers on
the gaps between their shifted order times. A column with no role that holds another table's
ids, released as `hash`, gave each the same keyed hash as the person it names: 1,164 of
1,170 hashed `usage_events.object_id` values were a user's own pseudonym (who invited whom).
Each attack is written out on the source, then the policy is shown refused before anything
is written.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pytest
import yaml

from anonymize.extract import run_extract
from dsar import Keys, load_catalog, open_engine
from dsar.errors import ConfigError

KEYS = Keys(b"insensitive-attacks-key-0123456789abcdef")

COLUMNS = {  # accounts, every column dropped but the few a test releases
    "user_id": "hash",
    "customer_id": "drop",
    "email": "drop",
    "full_name": "drop",
    "phone": "drop",
    "company": "drop",
    "country": "keep",
    "city": "drop",
    "plan": "keep",
    "signup_method": "drop",
    "password_hash": "drop",
    "account_manager_id": "drop",
    "status": "drop",
    "created_at": "drop",
    "closed_at": "drop",
    "last_login_at": "drop",
}


def _policy(tmp_path: Path, table: str, columns: Mapping[str, object], **extra: object) -> Path:
    policy = {
        "version": 1,
        "name": f"attack-{table}",
        "table": table,
        "person": "user_id",
        "columns": columns,
        "privacy": {"k": 2, "max_suppression": 0.9},
        "output": {"path": f"{table}.parquet"},
        **extra,
    }
    path = tmp_path / f"{table}.yml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def _refused(catalog: Path, policy: Path, out: Path, match: str) -> None:
    with open_engine(load_catalog(catalog)) as engine, pytest.raises(ConfigError, match=match):
        run_extract(policy, engine, out, keys=KEYS)
    assert not out.exists() or not any(out.rglob("*.parquet")), "nothing may be written"


def _alone(relation: str, column: str) -> tuple[int, int]:
    """(people alone on `column`'s value, people): the linkage on that column by itself."""
    got = duckdb.execute(
        f"SELECT count(*) FILTER (WHERE n = 1), count(*) FROM (SELECT user_id,"
        f" min(n) AS n FROM (SELECT user_id, count(DISTINCT user_id) OVER (PARTITION BY"
        f" {column}) AS n FROM {relation}) GROUP BY user_id)"
    ).fetchone()
    assert got is not None
    return int(got[0]), int(got[1])


def test_a_unique_timestamp_declared_insensitive_is_refused(
    demo_copy: Path, tmp_path: Path
) -> None:
    accounts = f"read_csv('{demo_copy.parent / 'accounts.csv'}')"
    alone, people = _alone(accounts, "created_at")
    assert alone >= 0.95 * people  # the attack: created_at alone finds almost everyone
    columns = {**COLUMNS, "created_at": "keep"}
    policy = _policy(
        tmp_path,
        "accounts",
        columns,
        insensitive={"created_at": "when the account was made: internal, never shown outside"},
    )
    _refused(
        demo_copy,
        policy,
        tmp_path / "out",
        r"created_at is unique to almost every person after keep",
    )


def test_a_unique_integer_declared_insensitive_is_refused(demo_copy: Path, tmp_path: Path) -> None:
    """A member number (an integer, unique, no role in the catalog): refused though the
    policy calls it meaningless outside."""
    path = demo_copy.parent / "accounts.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        row["member_no"] = str(100_000 + 7 * i)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    catalog = yaml.safe_load(demo_copy.read_text())
    catalog["tables"]["accounts"]["columns"]["member_no"] = {"type": "integer"}
    demo_copy.write_text(yaml.safe_dump(catalog, sort_keys=False))
    alone, people = _alone(f"read_csv('{path}')", "member_no")
    assert alone == people  # the attack: the number alone finds every member
    policy = _policy(
        tmp_path,
        "accounts",
        {**COLUMNS, "member_no": "keep"},
        insensitive={"member_no": "a sequential member number, meaningless to anyone outside"},
    )
    _refused(demo_copy, policy, tmp_path / "out", r"member_no is unique to almost every person")


def test_shifted_times_declared_insensitive_are_refused(demo_copy: Path, tmp_path: Path) -> None:
    """A per-person shift keeps the gaps between one person's events: the sequence finds
    them. Shifted times nobody else holds are refused, insensitive or not."""
    columns = {
        "event_id": "drop",
        "ts": {"op": "date_shift", "max_days": 30},
        "user_id": "hash",
        "device_id": "drop",
        "action": "keep",
        "object_type": "keep",
        "object_id": "drop",
    }
    policy = _policy(
        tmp_path,
        "usage_events",
        columns,
        insensitive={"ts": "shifted by an offset secret to each person, so nobody can match it"},
        sensitive=["action"],
    )
    _refused(
        demo_copy,
        policy,
        tmp_path / "out",
        r"ts under date_shift keeps the gaps between one person.s times",
    )


def test_a_hashed_column_holding_user_ids_is_refused(demo_copy: Path, tmp_path: Path) -> None:
    """`usage_events.object_id` (no role in the catalog) holds the invited user's id for
    `invite_member`: hashed under the extract key it is that user's pseudonym."""
    events = f"read_parquet('{demo_copy.parent / 'usage_events.parquet'}')"
    accounts = f"read_csv('{demo_copy.parent / 'accounts.csv'}')"
    got = duckdb.execute(
        f"SELECT count(DISTINCT e.object_id) FROM {events} e JOIN {accounts} a"
        " ON e.object_id = a.user_id"
    ).fetchone()
    assert got is not None and int(got[0]) >= 3  # the attack's links exist in the source
    columns = {
        "event_id": "drop",
        "ts": {"op": "generalize", "to": "year"},
        "user_id": "hash",
        "device_id": "drop",
        "action": "keep",
        "object_type": "keep",
        "object_id": "hash",
    }
    policy = _policy(
        tmp_path,
        "usage_events",
        columns,
        insensitive={"object_id": "a keyed hash of the object's own id: nobody can compute it"},
    )
    _refused(demo_copy, policy, tmp_path / "out", r"object_id holds accounts\.user_id values")
