"""Property: on any shop (keys colliding across tables), every customer's bundle holds
exactly the invoices, lines and notes a hand-written SQL join gives, row for row."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings, strategies as st

from dsar import SubjectRequest, answer_access_requests, load_catalog, parse_key
from tests.shop_fixture import CATALOG, STAFF, TRACKS
from tests.test_ownership import PRIMARY_KEYS, TRUTH


@st.composite
def shops(draw: st.DrawFn) -> tuple[int, list[int], list[int], list[int]]:
    """(customers, the customer of each invoice, the invoice of each line, the line of
    each note): ids from 1, so invoice 1, line 1 and customer 1 always collide."""
    customers = draw(st.integers(1, 5))
    invoices = draw(st.lists(st.integers(1, customers), max_size=8))
    lines = draw(st.lists(st.integers(1, len(invoices)), max_size=12)) if invoices else []
    notes = draw(st.lists(st.integers(1, len(lines)), max_size=8)) if lines else []
    return customers, invoices, lines, notes


def _write(
    root: Path, customers: int, invoices: list[int], lines: list[int], notes: list[int]
) -> Path:
    files = {
        "customers.csv": "CustomerId,Email,FirstName,SupportRepId\n"
        + "".join(f"{c},c{c}@example.com,Name {c},1\n" for c in range(1, customers + 1)),
        "invoices.csv": "InvoiceId,CustomerId,InvoiceDate,BillingAddress\n"
        + "".join(f"{i},{c},2025-01-0{1 + i % 9},Street {i}\n" for i, c in enumerate(invoices, 1)),
        "invoice_lines.csv": "InvoiceLineId,InvoiceId,TrackId,UnitPrice\n"
        + "".join(f"{n},{i},2,0.99\n" for n, i in enumerate(lines, 1)),
        "line_notes.csv": "NoteId,InvoiceLineId,Note\n"
        + "".join(f"{n},{line},note {n}\n" for n, line in enumerate(notes, 1)),
        "staff.csv": STAFF,
        "tracks.csv": TRACKS,
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "catalog.yml").write_text(CATALOG, encoding="utf-8")
    return root / "catalog.yml"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shops())
def test_every_bundle_equals_the_sql_join(
    shop: tuple[int, list[int], list[int], list[int]],
) -> None:
    customers, invoices, lines, notes = shop
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        catalog = load_catalog(_write(root, customers, invoices, lines, notes))
        requests = [
            SubjectRequest(f"AR-{c}", (parse_key(f"email=c{c}@example.com"),))
            for c in range(1, customers + 1)
        ]
        bundles = answer_access_requests(catalog, requests, root / "out")  # one batch
        for customer, bundle in enumerate(bundles, 1):
            assert not bundle.rejected
            for table, key in PRIMARY_KEYS.items():
                path = bundle.path / "data" / f"{table}.parquet"
                found = sorted(pq.read_table(path).column(key).to_pylist()) if path.exists() else []
                sql = TRUTH[table].format(root=root)
                truth = sorted(r[0] for r in duckdb.execute(sql, [customer]).fetchall())
                assert found == truth, (table, customer)
