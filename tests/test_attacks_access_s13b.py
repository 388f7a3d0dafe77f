"""Red team (access, session 13), findings 2 and 5: who owns a child row, and JSON types.

- F2: an `owned_through` parent key that is not unique (per-file invoice numbering in a
  multi-file table) gave another customer's invoice lines to the requester, and erasure
  deleted them; `catalog check --deep` said OK.
- F5: a JSON identity or ownership column holding numbers and strings was read as JSON text
  (`"042"` with its quotes): the person's string-valued rows were missed and left by erasure.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from dsar import (
    CatalogError,
    SubjectRequest,
    answer_access_requests,
    load_catalog,
    open_engine,
    parse_key,
    plan_erasure,
    verify_bundle,
)
from dsar.access.bundle import AccessBundle
from dsar.engine.inventory import check_catalog
from dsar.keys import Keys

KEYS = Keys(b"k" * 40)
CONTROLLER = {
    "name": "Acme B.V.",
    "contact": "privacy@acme.example",
    "dpo": "dpo@acme.example",
    "supervisory_authority": "Autoriteit Persoonsgegevens (Netherlands)",
    "automated_decisions": "No decisions are made solely by automated means.",
}


def _table(path: str, fmt: str, columns: dict[str, object], **extra: object) -> dict[str, object]:
    return {
        "path": path,
        "format": fmt,
        "description": "rows",
        "category": "account",
        "origin": "provided",
        "purposes": ["provide the service"],
        "legal_basis": "contract",
        "source": "the person",
        "retention": {"criteria": "while the account is open"},
        "erasure": {"action": "delete"},
        "columns": columns,
        **extra,
    }


def _write(root: Path, files: dict[str, str], tables: dict[str, object]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    catalog = root / "catalog.yml"
    catalog.write_text(yaml.safe_dump({"version": 1, "controller": CONTROLLER, "tables": tables}))
    return catalog


def _accounts(*rows: str) -> str:
    return "user_id,customer_id,email,full_name\n" + "".join(f"{r}\n" for r in rows)


ACCOUNTS = _table(
    "accounts.csv",
    "csv",
    {
        "user_id": {"identity": "user_id", "type": "string"},
        "customer_id": {"identity": "customer_id", "type": "string"},
        "email": {"identity": "email", "type": "string"},
        "full_name": {"personal": "name", "type": "string"},
    },
    primary_key=["user_id"],
)


@pytest.fixture
def per_file_numbering(tmp_path: Path) -> Path:
    """t07: each year's invoice file numbers from 1; Alice has 2025's invoice 1, Bob 2026's,
    and Alice's invoice 7 is hers alone."""
    return _write(
        tmp_path / "export",
        {
            "accounts.csv": _accounts(
                "u1,c1,alice@example.com,Alice Ant", "u2,c2,bob@example.com,Bob Bee"
            ),
            "invoices/2025.csv": "invoice_no,customer_id,amount\n1,c1,100\n7,c1,70\n",
            "invoices/2026.csv": "invoice_no,customer_id,amount\n1,c2,900\n",
            "lines/2025.csv": "line_id,invoice_no,item\nA1,1,widget\nA7,7,gadget\n",
            "lines/2026.csv": "line_id,invoice_no,item\nB1,1,prescription glasses\n",
        },
        {
            "accounts": ACCOUNTS,
            "invoices": _table(
                "invoices/*.csv",
                "csv",
                {
                    "invoice_no": {"type": "integer"},
                    "customer_id": {
                        "identity": "customer_id",
                        "type": "string",
                        "references": "accounts.customer_id",
                    },
                    "amount": {"type": "integer"},
                },
                primary_key=["invoice_no"],
            ),
            "invoice_lines": _table(
                "lines/*.csv",
                "csv",
                {
                    "line_id": {"type": "string"},
                    "invoice_no": {"type": "integer"},
                    "item": {"type": "string"},
                },
                primary_key=["line_id"],
                owned_through={"column": "invoice_no", "parent": "invoices.invoice_no"},
            ),
        },
    )


def _bundle_rows(
    catalog: Path, out: Path, key: str
) -> tuple[dict[str, list[object]], AccessBundle]:
    request = SubjectRequest("AR-1", (parse_key(key),))
    [bundle] = answer_access_requests(load_catalog(catalog), [request], out)
    rows = {
        p.stem: pq.read_table(p).column(0).to_pylist()
        for p in sorted((bundle.path / "data").glob("*.parquet"))
    }
    return rows, bundle


def test_f2_a_parent_key_two_parent_rows_hold_gives_its_lines_to_no_one(
    per_file_numbering: Path, tmp_path: Path
) -> None:
    rows, bundle = _bundle_rows(per_file_numbering, tmp_path / "out", "email=alice@example.com")
    assert rows["invoice_lines"] == ["A7"]  # not Bob's B1, and not A1 either: invoice 1 is two
    assert bundle.subject.set_aside == {"invoice_lines": 2}
    assert verify_bundle(bundle.path).ok
    bob, _ = _bundle_rows(per_file_numbering, tmp_path / "bob", "email=bob@example.com")
    assert "invoice_lines" not in bob  # Alice's A1 is not Bob's


def test_f2_erasure_does_not_delete_the_lines_of_a_shared_parent_key(
    per_file_numbering: Path,
) -> None:
    catalog = load_catalog(per_file_numbering)
    request = SubjectRequest("ER-1", (parse_key("email=alice@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS, today=date(2026, 12, 7))
    lines = next(a for a in plan.actions if a.table == "invoice_lines")
    assert (lines.rows, lines.to_change) == (1, 1)  # A7 only
    assert plan.set_aside == {"invoice_lines": 2}
    assert "parent key several parent rows hold" in plan.describe()


def test_f2_catalog_check_deep_reports_a_parent_key_that_is_not_unique(
    per_file_numbering: Path,
) -> None:
    catalog = load_catalog(per_file_numbering)
    with open_engine(catalog) as engine:
        check_catalog(per_file_numbering, engine)  # the shallow check reads no key
    with open_engine(catalog) as engine, pytest.raises(CatalogError) as caught:
        check_catalog(per_file_numbering, engine, deep=True)
    text = str(caught.value)
    assert "invoices.invoice_no, the parent key of 'invoice_lines', is not unique" in text
    assert "1 value(s) are held by 2 rows" in text
    assert "glasses" not in text and "c2" not in text  # counts only


def test_f2_two_parent_rows_of_the_same_person_keep_their_lines(tmp_path: Path) -> None:
    catalog = _write(
        tmp_path / "export",
        {
            "accounts.csv": _accounts("u1,c1,alice@example.com,Alice Ant"),
            "invoices/2025.csv": "invoice_no,customer_id\n1,c1\n",
            "invoices/2026.csv": "invoice_no,customer_id\n1,c1\n",
            "lines.csv": "line_id,invoice_no\nA1,1\nA2,1\n",
        },
        {
            "accounts": ACCOUNTS,
            "invoices": _table(
                "invoices/*.csv",
                "csv",
                {
                    "invoice_no": {"type": "integer"},
                    "customer_id": {"identity": "customer_id", "type": "string"},
                },
                primary_key=["invoice_no"],
            ),
            "invoice_lines": _table(
                "lines.csv",
                "csv",
                {"line_id": {"type": "string"}, "invoice_no": {"type": "integer"}},
                primary_key=["line_id"],
                owned_through={"column": "invoice_no", "parent": "invoices.invoice_no"},
            ),
        },
    )
    rows, bundle = _bundle_rows(catalog, tmp_path / "out", "email=alice@example.com")
    assert rows["invoice_lines"] == ["A1", "A2"]  # every holder of key 1 is hers
    assert not bundle.subject.set_aside


@pytest.fixture
def mixed_json(tmp_path: Path) -> Path:
    """t02 and t10: JSON fields holding a number in one record and strings in others."""
    tickets = [
        {"ticket_id": "t1", "user_id": 42, "body": "number 42"},
        {"ticket_id": "t2", "user_id": "042", "body": "string 042"},
        {"ticket_id": "t3", "user_id": 7.0, "body": "float 7.0"},
        {"ticket_id": "t4", "user_id": "Xk9aB", "body": "alice"},
    ]
    lines = [
        {"line_id": "L1", "invoice_no": "1"},
        {"line_id": "L2", "invoice_no": "01"},
        {"line_id": "L3", "invoice_no": 1},
        {"line_id": "L4", "invoice_no": "2"},
        {"line_id": "L5", "invoice_no": 10.0},
    ]
    return _write(
        tmp_path / "export",
        {
            "accounts.csv": _accounts(
                "Xk9aB,c1,alice@example.com,Alice Case",
                "42,c2,carol@example.com,Carol Int",
                "042,c3,dave@example.com,Dave Padded",
                "7,c4,erin@example.com,Erin Seven",
            ),
            "invoices.csv": "invoice_no,customer_id\n1,c1\n2,c2\n10,c1\n",
            "tickets.jsonl": "".join(json.dumps(t) + "\n" for t in tickets),
            "lines.jsonl": "".join(json.dumps(line) + "\n" for line in lines),
        },
        {
            "accounts": ACCOUNTS,
            "invoices": _table(
                "invoices.csv",
                "csv",
                {
                    "invoice_no": {"type": "integer"},
                    "customer_id": {"identity": "customer_id", "type": "string"},
                },
                primary_key=["invoice_no"],
            ),
            "tickets": _table(
                "tickets.jsonl",
                "jsonl",
                {
                    "ticket_id": {"type": "string"},
                    "user_id": {"identity": "user_id", "references": "accounts.user_id"},
                    "body": {"type": "string"},
                },
                primary_key=["ticket_id"],
            ),
            "invoice_lines": _table(
                "lines.jsonl",
                "jsonl",
                {"line_id": {"type": "string"}, "invoice_no": {}},
                primary_key=["line_id"],
                owned_through={"column": "invoice_no", "parent": "invoices.invoice_no"},
            ),
        },
    )


@pytest.mark.parametrize(
    ("key", "tickets"),
    [("user_id=042", ["t2"]), ("user_id=Xk9aB", ["t4"]), ("user_id=42", ["t1"])],
)
def test_f5_a_json_identity_of_mixed_types_is_read_as_the_text_it_holds(
    mixed_json: Path, tmp_path: Path, key: str, tickets: list[str]
) -> None:
    rows, bundle = _bundle_rows(mixed_json, tmp_path / "out", key)
    assert rows.get("tickets") == tickets  # 042 is not 42, and 7.0 is nobody's 7
    assert verify_bundle(bundle.path).ok


def test_f5_erasure_reaches_the_string_valued_json_rows(mixed_json: Path) -> None:
    catalog = load_catalog(mixed_json)
    request = SubjectRequest("ER-1", (parse_key("user_id=042"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS, today=date(2026, 12, 7))
    tickets = next(a for a in plan.actions if a.table == "tickets")
    assert (tickets.rows, tickets.to_change) == (1, 1)


def test_f5_child_keys_written_as_text_or_whole_floats_link_zero_padded_do_not(
    mixed_json: Path, tmp_path: Path
) -> None:
    rows, bundle = _bundle_rows(mixed_json, tmp_path / "out", "email=alice@example.com")
    assert rows["invoice_lines"] == ["L1", "L3", "L5"]  # "1", 1 and 10.0; never "01"
    assert verify_bundle(bundle.path).ok
    catalog = load_catalog(mixed_json)
    request = SubjectRequest("ER-1", (parse_key("email=alice@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS, today=date(2026, 12, 7))
    lines = next(a for a in plan.actions if a.table == "invoice_lines")
    assert (lines.rows, lines.to_change) == (3, 3)
