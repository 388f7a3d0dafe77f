"""The second demo schema (an online music shop): 50 random customers' bundles equal the SQL
ground truth, row for row, child tables included; erasure too; the files are deterministic."""

from __future__ import annotations

import hashlib
import random
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dsar import (
    SubjectRequest,
    answer_access_requests,
    apply_plan,
    load_catalog,
    open_engine,
    parse_key,
    plan_erasure,
)
from dsar.demo import generate_shop
from dsar.keys import Keys

AS_OF = date(2026, 11, 29)
KEYS = Keys(b"k" * 40)

# written by hand over the files: what belongs to customer ?
TRUTH = {
    "customers": ("CustomerId", "SELECT CustomerId FROM '{r}/customers.csv' WHERE CustomerId = ?"),
    "invoices": ("InvoiceId", "SELECT InvoiceId FROM '{r}/invoices.parquet' WHERE CustomerId = ?"),
    "invoice_lines": (
        "InvoiceLineId",
        "SELECT l.InvoiceLineId FROM '{r}/invoice_lines.parquet' l"
        " JOIN '{r}/invoices.parquet' i USING (InvoiceId) WHERE i.CustomerId = ?",
    ),
    "line_notes": (
        "NoteId",
        "SELECT n.NoteId FROM read_json('{r}/line_notes.jsonl') n"
        " JOIN '{r}/invoice_lines.parquet' l USING (InvoiceLineId)"
        " JOIN '{r}/invoices.parquet' i USING (InvoiceId) WHERE i.CustomerId = ?",
    ),
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_shop(tmp_path_factory.mktemp("shop"), customers=300, as_of=AS_OF).catalog_path


def _truth(root: Path, table: str, customer: int) -> list[int]:
    sql = TRUTH[table][1].format(r=root)
    return sorted(r[0] for r in duckdb.execute(sql, [customer]).fetchall())


def test_fifty_random_customers_get_exactly_their_rows(shop: Path, tmp_path: Path) -> None:
    root = shop.parent
    customers = random.Random(11).sample(range(1, 301), 50)
    emails = dict(
        duckdb.execute(f"SELECT CustomerId, Email FROM '{root}/customers.csv'").fetchall()
    )
    requests = [SubjectRequest(f"AR-{c}", (parse_key(f"email={emails[c]}"),)) for c in customers]
    bundles = answer_access_requests(load_catalog(shop), requests, tmp_path / "out")
    assert not any(b.rejected for b in bundles)
    for customer, bundle in zip(customers, bundles, strict=True):
        for table, (key, _) in TRUTH.items():
            path = bundle.path / "data" / f"{table}.parquet"
            found = sorted(pq.read_table(path).column(key).to_pylist()) if path.exists() else []
            assert found == _truth(root, table, customer), (customer, table)
        # staff member n, track n and invoice n exist for every customer n: none leaks in
        assert not (bundle.path / "data" / "staff.parquet").exists()
        assert not (bundle.path / "data" / "tracks.parquet").exists()


def test_erasure_removes_exactly_one_customers_rows(shop: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "shop"
    shutil.copytree(shop.parent, root)
    catalog = load_catalog(root / "catalog.yml")
    lines_before = duckdb.execute(f"SELECT count(*) FROM '{root}/invoice_lines.parquet'")
    total_lines = lines_before.fetchone()[0]  # type: ignore[index]
    mine = _truth(root, "invoice_lines", 7)
    request = SubjectRequest("ER-7", (parse_key("customer_id=7"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS, today=AS_OF)
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    after = duckdb.execute(f"SELECT count(*) FROM '{root}/invoice_lines.parquet'").fetchone()
    # every invoice of customer 7 is within its 7 years: its lines are kept with it
    # (tests/test_retained_children.py: the lines of invoices past retention go)
    assert after == (total_lines,)
    assert mine and _truth(root, "invoice_lines", 7) == mine
    assert _truth(root, "customers", 7) == []
    assert len(_truth(root, "invoices", 7)) == len(_truth(shop.parent, "invoices", 7))  # kept


def test_the_shop_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    def digests(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}

    a = generate_shop(tmp_path / "a", customers=40, seed=3, as_of=AS_OF).root
    b = generate_shop(tmp_path / "b", customers=40, seed=3, as_of=AS_OF).root
    assert digests(a) == digests(b)
