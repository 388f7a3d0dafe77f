"""The demo export: deterministic, valid against its catalog, and as messy as real exports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsar import check_against_files, load_catalog
from dsar.demo import SCHEMAS, generate
from dsar.engine import Engine, open_engine
from dsar.errors import WorkbenchError
from tests.conftest import AS_OF


def _digests(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


@pytest.fixture(scope="module")
def engine(demo_export: Path) -> Engine:
    return open_engine(load_catalog(demo_export))


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", users=120, seed=3, as_of=AS_OF)
    b = generate(tmp_path / "b", users=120, seed=3, as_of=AS_OF)
    c = generate(tmp_path / "c", users=120, seed=4, as_of=AS_OF)
    assert _digests(a.root) == _digests(b.root)
    differ = {k for k, v in _digests(c.root).items() if _digests(a.root)[k] != v}
    assert differ >= {"accounts.csv", "web_logs.csv", "invoices.parquet"}


def test_every_table_in_every_format(demo_export: Path) -> None:
    catalog = load_catalog(demo_export)
    assert set(catalog.tables) == set(SCHEMAS)
    formats = {t.format.value for t in catalog.tables.values()}
    assert formats == {"csv", "parquet", "json", "jsonl"}
    meta = json.loads((demo_export.parent / "demo.json").read_text())
    assert meta["users"] == 300
    assert meta["as_of"] == AS_OF.isoformat()


def test_demo_catalog_matches_its_files(demo_export: Path) -> None:
    catalog = load_catalog(demo_export)
    with open_engine() as engine:
        check_against_files(catalog, engine)


def test_row_counts_match_demo_json(demo_export: Path, engine: Engine) -> None:
    meta = json.loads((demo_export.parent / "demo.json").read_text())
    assert {t: engine.count_rows(t) for t in engine.tables} == meta["rows"]
    assert meta["rows"]["accounts"] == 300


def _one(engine: Engine, sql: str, params: Sequence[object] | None = None) -> Any:
    return engine.query(sql, params or []).column(0)[0].as_py()


def test_identifiers_are_unique(engine: Engine) -> None:
    for table, column in [
        ("accounts", "user_id"),
        ("accounts", "email"),
        ("accounts", "customer_id"),
        ("invoices", "invoice_id"),
        ("integrations", "integration_id"),
        ("support_tickets", "ticket_id"),
        ("usage_events", "event_id"),
        ("google_profiles", "google_sub"),
        ("app_end_users", "end_user_id"),
    ]:
        dupes = _one(engine, f"SELECT count(*) - count(DISTINCT {column}) FROM {table}")
        assert dupes == 0, f"{table}.{column} has duplicates"


def test_planted_cases(engine: Engine) -> None:
    # users 1 and 2 share a device
    shared = _one(
        engine,
        "SELECT count(DISTINCT user_id) FROM usage_events WHERE device_id IN "
        "(SELECT device_id FROM usage_events WHERE user_id = 'u0000001')",
    )
    assert shared == 2
    # and someone used that laptop without signing in: a line for review, in no bundle
    anonymous_on_shared = _one(
        engine,
        "SELECT count(*) FROM web_logs WHERE user_id IS NULL AND device_id IN "
        "(SELECT device_id FROM web_logs WHERE user_id = 'u0000002')"
        " AND device_id IN (SELECT device_id FROM web_logs WHERE user_id = 'u0000001')",
    )
    assert anonymous_on_shared >= 1
    # user 4's email contains user 3's whole email
    e3 = _one(engine, "SELECT email FROM accounts WHERE user_id = 'u0000003'")
    e4 = _one(engine, "SELECT email FROM accounts WHERE user_id = 'u0000004'")
    assert isinstance(e3, str) and isinstance(e4, str) and e3 in e4 and e3 != e4
    # user 0 signed in with Google and has several devices
    assert _one(engine, "SELECT count(*) FROM google_profiles WHERE user_id = 'u0000000'") == 1
    assert (
        _one(engine, "SELECT count(DISTINCT device_id) FROM web_logs WHERE user_id = 'u0000000'")
        >= 2
    )
    assert _one(engine, "SELECT status FROM accounts WHERE user_id = 'u0000005'") == "closed"
    assert (
        _one(
            engine,
            "SELECT ads_personalization FROM marketing_preferences WHERE user_id = 'u0000006'",
        )
        is False
    )


def test_realistic_mess(engine: Engine) -> None:
    cutoff = datetime(AS_OF.year, AS_OF.month, AS_OF.day)
    checks = {
        "anonymous log lines tied to a device": "SELECT count(*) FROM web_logs WHERE user_id IS NULL AND device_id IS NOT NULL",
        "log lines older than 30 days": "SELECT count(*) FROM web_logs WHERE ts < ?",
        "invoices older than 7 years": "SELECT count(*) FROM invoices WHERE issued_at < ?",
        "an IP address shared by several people": "SELECT count(*) FROM (SELECT ip FROM web_logs WHERE user_id IS NOT NULL "
        "GROUP BY ip HAVING count(DISTINCT user_id) > 1)",
        "emails with spaces or upper case": "SELECT count(*) FROM marketing_preferences WHERE email <> lower(trim(email))",
        "plus-addressed emails": "SELECT count(*) FROM support_tickets WHERE requester_email LIKE '%+%@%'",
        "tickets naming other customers": "SELECT count(*) FROM support_tickets t JOIN accounts a ON t.user_id <> a.user_id "
        "AND contains(t.body, a.email)",
        "people opted out of marketing": "SELECT count(*) FROM marketing_preferences WHERE opted_out_at IS NOT NULL",
        "closed accounts": "SELECT count(*) FROM accounts WHERE status = 'closed'",
        "Google sign-ins": "SELECT count(*) FROM google_profiles",
        "end users who also hold an account": "SELECT count(*) FROM app_end_users e JOIN accounts a ON e.email = a.email",
    }
    params = {
        "log lines older than 30 days": [cutoff - timedelta(days=30)],
        "invoices older than 7 years": [cutoff - timedelta(days=7 * 365)],
    }
    for what, sql in checks.items():
        assert _one(engine, sql, params.get(what)) > 0, what


def test_secrets_look_like_secrets(engine: Engine) -> None:
    tokens = engine.query("SELECT access_token, api_key FROM integrations LIMIT 50")
    assert all(len(t) >= 40 for t in tokens.column("access_token").to_pylist())
    assert all(k.startswith("sk_live_") for k in tokens.column("api_key").to_pylist())


def test_too_few_users(tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match=r"--users must be at least 10 \(got 3\)"):
        generate(tmp_path, users=3)


def test_chunked_generation_matches_across_chunk_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Users are generated in chunks; the catalog stays valid and ids unique across chunks."""
    monkeypatch.setattr("dsar.demo.export.CHUNK", 50)
    export = generate(tmp_path, users=130, seed=5, as_of=AS_OF)
    catalog = load_catalog(export.catalog_path)
    with open_engine(catalog) as engine:
        check_against_files(catalog, engine)
        assert engine.count_rows("accounts") == 130
        assert _one(engine, "SELECT count(DISTINCT email) FROM accounts") == 130
        assert _one(engine, "SELECT count(DISTINCT device_id) FROM usage_events") > 130
