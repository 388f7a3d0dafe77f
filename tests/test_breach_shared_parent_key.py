"""Breach scoping checks that a parent key is unique before it gives a child row an owner,
as access does (`dsar.engine.ownership`, `collect._add_owned_rows`): with invoices numbered
per file, two customers each have an invoice 1; a line of invoice 1 in scope reaches neither
and is counted as set aside in scope.json, a line of an invoice only one of them has reaches
its customer."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar import load_catalog, open_engine
from dsar.subjects.collect import collect
from dsar.subjects.identity import MatchRules, SubjectRequest, parse_key
from tests.test_attacks_breach import _lab, _manifest, _scope

INVOICES = """\
  invoices:
    path: invoices/*.csv
    format: csv
    description: Invoices, one file a year, each numbered from 1.
    category: billing
    origin: provided
    purposes: [billing]
    legal_basis: contract
    source: the person
    retention: {period: 7 years, after: issued_at}
    erasure: {action: delete}
    primary_key: [invoice_no]
    columns:
      invoice_no: {type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      issued_at: {type: timestamp}
  invoice_lines:
    path: invoice_lines.csv
    format: csv
    description: Invoice lines.
    category: billing
    origin: provided
    purposes: [billing]
    legal_basis: contract
    source: the person
    retention: {criteria: with the invoice}
    erasure: {action: delete}
    primary_key: [line_id]
    owned_through: {column: invoice_no, parent: invoices.invoice_no}
    columns:
      line_id: {type: string}
      invoice_no: {type: string}
      item: {type: string}
"""


@pytest.fixture
def per_file_numbering(tmp_path: Path) -> Path:
    catalog = _lab(tmp_path / "lab", [("NL", ""), ("DE", "")])
    catalog.write_text(catalog.read_text() + INVOICES)
    folder = catalog.parent / "invoices"
    folder.mkdir()
    header = "invoice_no,user_id,issued_at\n"
    # u1's invoice 1 in one file and u2's invoice 1 in the other: one number, two customers
    (folder / "2025.csv").write_text(
        header + "1,u1,2026-11-03 10:00:00\n2,u1,2026-11-04 10:00:00\n"
    )
    (folder / "2026.csv").write_text(header + "1,u2,2026-11-02 10:00:00\n")
    (catalog.parent / "invoice_lines.csv").write_text(
        "line_id,invoice_no,item\nl1,1,a\nl2,2,b\n"  # l1: invoice 1 (whose?), l2: u1's
    )
    return catalog


def test_a_line_of_an_invoice_number_two_customers_hold_reaches_no_one(
    per_file_numbering: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _scope(per_file_numbering, tmp_path / "BR", monkeypatch, table="invoice_lines")
    assert code == 0, output
    counts = _manifest(tmp_path / "BR")["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"invoice_lines": 2}
    assert counts["people"] == 1  # u1, through invoice 2 only
    assert counts["not_linked"] == {"invoice_lines": 1}
    assert counts["set_aside_shared_parent_key"] == {"invoice_lines": 1}


def test_access_agrees_each_customer_gets_no_line_of_the_shared_number(
    per_file_numbering: Path,
) -> None:
    """The rule the breach search now follows is access's own."""
    catalog = load_catalog(per_file_numbering)
    requests = [SubjectRequest(u, (parse_key(f"user_id={u}"),)) for u in ("u1", "u2")]
    with open_engine(catalog) as engine:
        u1, u2 = collect(engine, catalog, requests, MatchRules())
    assert u1.tables["invoice_lines"].column("line_id").to_pylist() == ["l2"]
    assert "invoice_lines" not in u2.tables
    assert u1.set_aside["invoice_lines"] == u2.set_aside["invoice_lines"] == 1
