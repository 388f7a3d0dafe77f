"""Shared fixtures: a tiny hand-made export in every format, and a generated demo export."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

AS_OF = date(2026, 11, 29)

VALID_CATALOG = """\
version: 1
controller:
  name: Example Ltd
  contact: privacy@example.com
  supervisory_authority: ICO (UK)
recipients:
  aws: {name: AWS, kind: processor, purpose: hosting, country: IE}
tables:
  users:
    path: users.csv
    format: csv
    description: Accounts.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    recipients: [aws]
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      phone: {identity: phone, type: string}
      full_name: {personal: name}
      signup_at: {type: timestamp}
  events:
    path: events.parquet
    format: parquet
    description: Usage events.
    category: usage
    origin: observed
    purposes: [analytics]
    legal_basis: legitimate_interests
    source: the app
    retention: {period: 2 years, after: ts}
    erasure: {action: nullify, columns: [user_id]}
    columns:
      ts: {}
      user_id: {identity: user_id, references: users.user_id}
      action: {}
  tickets:
    path: tickets.jsonl
    format: jsonl
    description: Support tickets.
    category: communications
    origin: provided
    purposes: [support]
    legal_basis: contract
    source: the person
    retention: {period: 3 years, after: created_at}
    erasure: {action: pseudonymize, columns: [body]}
    columns:
      ticket_id: {type: integer}
      user_id: {identity: user_id, references: users.user_id}
      body: {free_text: true}
      created_at: {type: timestamp}
  prefs:
    path: prefs.json
    format: json
    description: Marketing preferences.
    category: marketing_preferences
    origin: provided
    purposes: [direct marketing]
    legal_basis: consent
    source: the person
    retention: {criteria: while subscribed}
    erasure: {action: delete}
    columns:
      email: {identity: email}
      newsletter: {type: boolean}
"""


def table_yaml(
    name: str, path: str, fmt: str, columns: dict[str, str], csv: str | None = None
) -> str:
    """A catalog table entry (to append to VALID_CATALOG): a contract table deleted on
    erasure, with `columns` given as YAML flow values, e.g. {"email": "{identity: email}"}."""
    lines = [f"  {name}:", f"    path: {path}", f"    format: {fmt}"]
    if csv is not None:
        lines.append(f"    csv: {csv}")
    lines += [
        f"    description: The {name} table.",
        "    category: account",
        "    origin: provided",
        "    purposes: [provide the service]",
        "    legal_basis: contract",
        "    source: the person",
        "    retention: {criteria: while the account is open}",
        "    erasure: {action: delete}",
        "    columns:",
        *(f"      {column}: {spec}" for column, spec in columns.items()),
    ]
    return "\n".join(lines) + "\n"


def write_tiny_export(root: Path) -> Path:
    """Write the four files VALID_CATALOG describes, and the catalog; return its path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.csv").write_text(
        "user_id,email,phone,full_name,signup_at\n"
        "u1,ann@example.com,+441632960001,Ann Lee,2024-01-02 03:04:05\n"
        "u2,bob@example.com,007700900123,Bob Marsh,2024-02-03 04:05:06\n"
        "u3,joann@example.com,,Jo Ann,2024-03-04 05:06:07\n",
        encoding="utf-8",
    )
    pq.write_table(
        pa.table(
            {
                "ts": pa.array([1_700_000_000, 1_700_000_100, 1_700_000_200], pa.timestamp("s")),
                "user_id": ["u1", "u2", "u1"],
                "action": ["login", "login", "export"],
            }
        ),
        root / "events.parquet",
    )
    tickets = [
        {
            "ticket_id": 1,
            "user_id": "u1",
            "body": "Call Bob on 07700 900123",
            "created_at": "2025-01-01T10:00:00Z",
        },
        {"ticket_id": 2, "user_id": "u2", "body": "Hello", "created_at": "2025-02-01T10:00:00Z"},
    ]
    (root / "tickets.jsonl").write_text(
        "".join(json.dumps(t) + "\n" for t in tickets), encoding="utf-8"
    )
    prefs = [
        {"email": " Ann@Example.com ", "newsletter": True},
        {"email": "bob@example.com", "newsletter": False},
    ]
    (root / "prefs.json").write_text(json.dumps(prefs, indent=1), encoding="utf-8")
    path = root / "catalog.yml"
    path.write_text(VALID_CATALOG, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _private_working_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test runs in its own folder, so commands that write to their defaults (the
    register `requests.db`, `certificates/`) never write into the checkout."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    monkeypatch.delenv("WORKBENCH_REGISTER", raising=False)
    monkeypatch.delenv("WORKBENCH_LEDGER", raising=False)


ENGINE_KINDS = [pytest.param("duckdb"), pytest.param("spark", marks=pytest.mark.spark)]
"""Every engine, for `pytest.mark.parametrize("engine_kind", ENGINE_KINDS)` or the fixture."""


@pytest.fixture(params=ENGINE_KINDS)
def engine_kind(request: pytest.FixtureRequest) -> str:
    """Each engine in turn (Splink's per-backend style): a test taking it runs on DuckDB and
    on Spark in local mode. Spark is skipped only where pyspark is not installed; `make
    test` installs it, so CI runs both."""
    kind = str(request.param)
    if kind == "spark":
        pytest.importorskip("pyspark", reason="the spark extra is not installed")
    return kind


@pytest.fixture
def tiny_catalog(tmp_path: Path) -> Path:
    """Path of a valid catalog over a tiny export in all four formats."""
    return write_tiny_export(tmp_path / "export")


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated demo export (300 users, fixed date); returns the catalog path."""
    from dsar.demo import generate

    out = tmp_path_factory.mktemp("demo")
    return generate(out, users=300, seed=11, as_of=AS_OF).catalog_path


@pytest.fixture
def demo_copy(demo_export: Path, tmp_path: Path) -> Path:
    """A private copy of the demo export, for a test that changes files; the catalog path."""
    import shutil

    root = tmp_path / "demo"
    shutil.copytree(demo_export.parent, root)
    return root / "catalog.yml"


@pytest.fixture
def trap_catalog(tmp_path: Path) -> Path:
    """Path of the catalog of the access trap export (see tests/access_fixture.py)."""
    from tests.access_fixture import write_access_fixture

    return write_access_fixture(tmp_path / "traps")


def register_request(db: Path, kind: str, jurisdiction: str, received: str, email: str) -> str:
    """Register a request through the CLI (as an analyst would); return what it printed."""
    from typer.testing import CliRunner

    from dsar.cli import app

    result = CliRunner().invoke(
        app,
        [
            "requests",
            "add",
            "--register",
            str(db),
            "--type",
            kind,
            "--jurisdiction",
            jurisdiction,
            "--received",
            received,
            "--email",
            email,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output
