"""Two releases joined on their keyed hashes.

The third red team of issue 22 made two honest extracts of the demo's accounts, one by
country, plan and sign-up method (k = 10), one by status and dates by year (k = 15), and
joined them on the hashed `user_id`, the same in every release made with the key: the joined
release had k = 1 (41 people alone). Hashes are now keyed by the extract's link name (its
`name:` unless the policy names a `link:`), so releases join only where their authors said so
and the join is theirs to measure.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import yaml

from anonymize.extract import run_extract
from anonymize.operators import python_hash
from anonymize.params import Hash
from dsar import Keys, load_catalog, open_engine

KEYS = Keys(b"release-attacks-key-0123456789abcdef0123")
DROPPED = [
    "customer_id",
    "email",
    "full_name",
    "phone",
    "company",
    "city",
    "signup_method",
    "password_hash",
    "account_manager_id",
    "status",
    "created_at",
    "closed_at",
    "last_login_at",
    "country",
    "plan",
]


def _extract(
    catalog: Path, out: Path, name: str, kept: dict[str, object], **extra: object
) -> set[str]:
    columns: dict[str, object] = dict.fromkeys(DROPPED, "drop")
    columns.update({"user_id": "hash", **kept})
    policy = {
        "version": 1,
        "name": name,
        "table": "accounts",
        "person": "user_id",
        "columns": columns,
        "privacy": {"k": 2, "max_suppression": 0.5},
        "output": {"path": "accounts.parquet"},
        **extra,
    }
    path = out.parent / f"{name}.yml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    with open_engine(load_catalog(catalog)) as engine:
        result = run_extract(path, engine, out, keys=KEYS)
    return {str(v) for v in pq.read_table(result.file).column("user_id").to_pylist()}


def test_two_releases_share_no_hash_unless_they_share_a_link(
    demo_copy: Path, tmp_path: Path
) -> None:
    by_place = _extract(demo_copy, tmp_path / "a", "by-place", {"country": "keep", "plan": "keep"})
    by_time = _extract(
        demo_copy,
        tmp_path / "b",
        "by-time",
        {"status": "keep", "created_at": {"op": "generalize", "to": "year"}},
    )
    assert len(by_place) > 100 and len(by_time) > 100
    assert not by_place & by_time  # the join on user_id finds nobody
    # the same policy run again gives the same hashes (a release is reproducible)
    again = _extract(demo_copy, tmp_path / "a2", "by-place", {"country": "keep", "plan": "keep"})
    assert again == by_place
    # a shared link name is the author's decision to let them join
    linked = _extract(
        demo_copy,
        tmp_path / "c",
        "by-time-linked",
        {"status": "keep", "created_at": {"op": "generalize", "to": "year"}},
        link="by-place",
    )
    assert len(linked & by_place) > 100
    # the reviewer's twin computes the same digests from the link name, and only from it
    rows = (demo_copy.parent / "accounts.csv").read_text().splitlines()[1:]
    users = [line.split(",")[0].strip('"') for line in rows]
    assert by_place <= {python_hash(u, KEYS, Hash(op="hash"), "by-place") for u in users}
    assert not by_place & {python_hash(u, KEYS, Hash(op="hash")) for u in users}
