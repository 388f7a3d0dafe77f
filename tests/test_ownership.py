"""Child tables: rows with no person identifier belong to whoever owns their parent row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dsar import (
    CatalogError,
    SubjectRequest,
    answer_access_requests,
    apply_plan,
    load_catalog,
    open_engine,
    parse_key,
    plan_correction,
    plan_erasure,
    verify_bundle,
)
from dsar.keys import Keys
from tests.shop_fixture import CATALOG, write_shop

KEYS = Keys(b"k" * 40)

# the ground truth, written by hand in SQL over the files: a customer's lines are the lines
# of their invoices, a customer's notes the notes on those lines
TRUTH = {
    "invoices": "SELECT InvoiceId AS id FROM '{root}/invoices.csv' WHERE CustomerId = ?",
    "invoice_lines": "SELECT l.InvoiceLineId AS id FROM '{root}/invoice_lines.csv' l"
    " JOIN '{root}/invoices.csv' i USING (InvoiceId) WHERE i.CustomerId = ?",
    "line_notes": "SELECT n.NoteId AS id FROM '{root}/line_notes.csv' n"
    " JOIN '{root}/invoice_lines.csv' l USING (InvoiceLineId)"
    " JOIN '{root}/invoices.csv' i USING (InvoiceId) WHERE i.CustomerId = ?",
}
PRIMARY_KEYS = {"invoices": "InvoiceId", "invoice_lines": "InvoiceLineId", "line_notes": "NoteId"}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop")


def _truth(root: Path, table: str, customer: int) -> list[int]:
    sql = TRUTH[table].format(root=root)
    return sorted(r[0] for r in duckdb.execute(sql, [customer]).fetchall())


@pytest.mark.parametrize(
    ("customer", "email"),
    [(1, "luis@example.com"), (2, "leonie@example.com"), (3, "francois@example.com")],
)
def test_each_bundle_holds_exactly_the_rows_sql_gives(
    shop: Path, tmp_path: Path, customer: int, email: str
) -> None:
    request = SubjectRequest("AR-1", (parse_key(f"email={email}"),))
    [bundle] = answer_access_requests(load_catalog(shop), [request], tmp_path / "out")
    assert verify_bundle(bundle.path).ok
    for table, key in PRIMARY_KEYS.items():
        path = bundle.path / "data" / f"{table}.parquet"
        found = sorted(pq.read_table(path).column(key).to_pylist()) if path.exists() else []
        assert found == _truth(shop.parent, table, customer), table
    # integer keys collide across tables: staff member 1 is not customer 1's
    assert not (bundle.path / "data" / "staff.parquet").exists()
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    assert manifest["tables"]["line_notes"]["owned_through"] == {
        "column": "InvoiceLineId",
        "parent_table": "invoice_lines",
        "parent_column": "InvoiceLineId",
    }


def test_verify_finds_a_line_whose_invoice_is_not_in_the_bundle(shop: Path, tmp_path: Path) -> None:
    request = SubjectRequest("AR-1", (parse_key("email=luis@example.com"),))
    [bundle] = answer_access_requests(load_catalog(shop), [request], tmp_path / "out")
    folder = tmp_path / "tampered"
    shutil.copytree(bundle.path, folder)
    path = folder / "data" / "invoice_lines.parquet"
    lines = pq.read_table(path).to_pylist()
    lines.append({**lines[0], "InvoiceLineId": 1, "InvoiceId": 1})  # Leonie's invoice
    pq.write_table(pa.Table.from_pylist(lines, schema=pq.read_schema(path)), path)
    findings = [str(f) for f in verify_bundle(folder).findings]
    assert (
        "[linkage] data/invoice_lines.parquet row 4: its invoices row is not in the bundle"
        " (owned through invoices.InvoiceId)"
    ) in findings


def test_erasure_follows_ownership_with_each_tables_rule(shop: Path, tmp_path: Path) -> None:
    catalog = load_catalog(shop)
    request = SubjectRequest("ER-1", (parse_key("email=luis@example.com"),))
    with open_engine(catalog) as engine:
        # invoice 2 (2025-01-02) is past its 7 years, invoice 3 (2025-02-03) is not: the
        # lines and notes of invoice 3 are kept with it (tests/test_retained_children.py)
        plan = plan_erasure(
            catalog, engine, request, keys=KEYS, today=__import__("datetime").date(2032, 2, 1)
        )
        actions = {a.table: (a.action.value, a.rows, a.to_change) for a in plan.actions}
        assert actions["invoice_lines"] == ("delete", 3, 2)
        assert actions["line_notes"] == ("delete", 2, 1)
        assert actions["invoices"] == ("retain", 2, 1)  # kept for tax law until 2032-02-03
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    root = shop.parent
    left = duckdb.execute(f"SELECT InvoiceLineId FROM '{root}/invoice_lines.csv' ORDER BY 1")
    assert [r[0] for r in left.fetchall()] == [1, 2, 5, 6]  # Leonie's, François's, invoice 3's
    notes = duckdb.execute(f"SELECT NoteId FROM '{root}/line_notes.csv' ORDER BY 1")
    assert [r[0] for r in notes.fetchall()] == [1, 3, 4]
    invoices = duckdb.execute(f"SELECT count(*) FROM '{root}/invoices.csv'").fetchone()
    assert invoices == (3,)


def test_correction_reaches_only_the_persons_lines(shop: Path, tmp_path: Path) -> None:
    catalog = load_catalog(shop)
    request = SubjectRequest("CR-1", (parse_key("email=francois@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_correction(catalog, engine, request, {"line_notes.Note": "delivered"})
        assert plan.changes == 1
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", dry_run=False)
    notes = duckdb.execute(f"SELECT NoteId, Note FROM '{shop.parent}/line_notes.csv' ORDER BY 1")
    assert notes.fetchall() == [
        (1, "gift"),
        (2, "please wrap"),
        (3, "refund asked"),
        (4, "delivered"),
    ]


OWNERSHIP_MISTAKES = [
    (
        "unknown parent table",
        "owned_through: {column: InvoiceId, parent: invoices.InvoiceId}",
        "owned_through: {column: InvoiceId, parent: invoice.InvoiceId}",
        "tables.invoice_lines.owned_through.parent (line 71): unknown parent table 'invoice'\n"
        "    fix: did you mean 'invoices'?",
    ),
    (
        "parent column is not its key",
        "owned_through: {column: InvoiceId, parent: invoices.InvoiceId}",
        "owned_through: {column: InvoiceId, parent: invoices.CustomerId}",
        "tables.invoice_lines.owned_through.parent (line 71): invoices.CustomerId is not the"
        " primary key of invoices: a row could belong to the owners of several parent rows\n"
        "    fix: point at the parent's key and declare it: primary_key: [CustomerId]",
    ),
    (
        "unknown column of the child",
        "owned_through: {column: InvoiceId, parent: invoices.InvoiceId}",
        "owned_through: {column: InvoiceID, parent: invoices.InvoiceId}",
        "tables.invoice_lines.owned_through.column (line 71): owned_through.column names"
        " unknown column 'InvoiceID'\n    fix: did you mean 'InvoiceId'?",
    ),
    (
        "a child with its own identity column",
        "      InvoiceLineId: {type: integer}\n      InvoiceId: {type: integer}\n",
        "      InvoiceLineId: {type: integer}\n      InvoiceId: {type: integer, identity: user_id}\n",
        "tables.invoice_lines.owned_through (line 71): a table with identity columns is found"
        " through them, not through a parent\n    fix: remove owned_through, or the identity"
        " roles if its rows belong to the parent's owner (an order line, an attachment)",
    ),
    (
        "a parent that is not table.column",
        "owned_through: {column: InvoiceId, parent: invoices.InvoiceId}",
        "owned_through: {column: InvoiceId, parent: invoices}",
        "tables.invoice_lines.owned_through.parent (line 71): 'invoices' is not table.column\n"
        "    fix: write e.g. owned_through: {column: invoice_id, parent: invoices.invoice_id}",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [c[1:] for c in OWNERSHIP_MISTAKES],
    ids=[c[0] for c in OWNERSHIP_MISTAKES],
)
def test_ownership_mistakes_are_reported_with_the_fix(
    shop: Path, old: str, new: str, expected: str
) -> None:
    assert old in CATALOG
    shop.write_text(CATALOG.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(shop)
    assert [str(p) for p in info.value.problems] == [expected]


def _check(shop: Path) -> str:
    from typer.testing import CliRunner

    from dsar.cli import app

    result = CliRunner().invoke(app, ["catalog", "check", str(shop)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_reference_data_needs_no_legal_keys_and_is_never_searched(
    shop: Path, tmp_path: Path
) -> None:
    catalog = load_catalog(shop)
    assert not catalog.tables["tracks"].personal
    assert "warning" not in _check(shop)  # declared reference data: nothing to warn about
    frame = catalog.to_frame()
    assert frame.loc["tracks", "category"] == "reference data (no personal data)"
    assert frame.loc["tracks", "legal basis"] == "-"
    request = SubjectRequest("AR-1", (parse_key("email=luis@example.com"),))
    [bundle] = answer_access_requests(catalog, [request], tmp_path / "out")
    assert not (bundle.path / "data" / "tracks.parquet").exists()
    report = " ".join((bundle.path / "report.md").read_text().split())
    assert "- tracks (Our catalogue of tracks): reference data, no personal data" in report


def test_a_table_without_identity_or_owner_is_reported_as_never_searched(shop: Path) -> None:
    shop.write_text(
        CATALOG.replace(
            "    personal: false\n",
            "    category: usage\n    origin: provided\n    purposes: [sell music]\n"
            "    legal_basis: contract\n    source: us\n    retention: {criteria: while sold}\n"
            "    erasure: {action: delete}\n",
        )
    )
    assert (
        "warning: tables.tracks: no identity column and no owned_through: no request ever"
        " searches it"
    ) in _check(shop)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            "    personal: false\n    legal_basis: contract\n",
            "a reference table (personal: false) has no legal_basis\n    fix: remove it, or"
            " remove personal: false if it holds personal data",
        ),
        (
            "    personal: false\n    primary_key: [TrackId]\n    columns:\n"
            "      Buyer: {identity: email}\n",
            "a reference table (personal: false) holds no personal data, but Buyer says it"
            " does\n    fix: remove personal: false",
        ),
    ],
    ids=["a legal basis for reference data", "a person in reference data"],
)
def test_reference_data_that_is_not(shop: Path, new: str, expected: str) -> None:
    text = CATALOG.replace("    personal: false\n", new, 1)
    if "Buyer" in new:
        text = text.replace("    columns:\n      TrackId", "      TrackId", 1)
    shop.write_text(text)
    with pytest.raises(CatalogError) as info:
        load_catalog(shop)
    assert any(expected in str(p) for p in info.value.problems), [
        str(p) for p in info.value.problems
    ]


def test_invoice_lines_declared_as_customer_ids_are_flagged(shop: Path) -> None:
    """The first shortcut: the line's invoice id declared as the customer's id."""
    text = CATALOG.replace(
        "    owned_through: {column: InvoiceId, parent: invoices.InvoiceId}\n", ""
    ).replace(
        "      InvoiceId: {type: integer}\n      TrackId",
        "      InvoiceId: {type: integer, identity: customer_id, references: invoices.InvoiceId}\n"
        "      TrackId",
    )
    shop.write_text(
        text.replace(
            "    owned_through: {column: InvoiceLineId, parent: invoice_lines.InvoiceLineId}\n", ""
        )
    )
    output = _check(shop)
    assert (
        "warning: tables.invoice_lines.columns.InvoiceId: declared customer_id but references"
        " invoices.InvoiceId, which is not an identity column: its values are another kind of"
        " key and can collide"
    ) in output
    assert "write owned_through: {column: InvoiceId, parent: invoices.InvoiceId}" in output


def test_invoice_ids_declared_as_user_ids_are_flagged(shop: Path) -> None:
    """The second shortcut: invoice ids as user ids, colliding with staff member ids."""
    shop.write_text(
        CATALOG.replace(
            "      InvoiceId: {type: integer}\n      CustomerId: {identity: customer_id",
            "      InvoiceId: {type: integer, identity: user_id}\n      CustomerId: {identity:"
            " customer_id",
        )
    )
    assert (
        "warning: identity user_id: staff.StaffId and invoices.InvoiceId are both the key of"
        " their table and both user_id: their values can collide"
    ) in _check(shop)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      InvoiceId: {type: integer}\n      CustomerId",
            "      InvoiceId: {type: integer, identity: invoice_id}\n      CustomerId",
            "tables.invoices.columns.InvoiceId.identity (line 55): 'invoice_id' is not allowed"
            " here\n    fix: an identity is a person's identifier, one of: email, user_id,"
            " customer_id, phone, device_id, cookie_id, oauth_subject, ip_address, username,"
            " person_id; the key of a thing (an invoice, an order) is not: reach rows through it"
            " with the table's"
            " owned_through: {column: ..., parent: table.key}",
        ),
        (
            "    retention: {period: 7 years, after: LeftAt}",
            "    retention: {criteria: for the employment, then 7 years}",
            "tables.staff.retention.then 7 years (line 34): unknown key 'then 7 years'\n"
            "    fix: a comma inside {...} starts a new key: put the text that holds it in"
            ' quotes, e.g. criteria: "for the employment, then 7 years"',
        ),
    ],
    ids=["the id of a thing as an identity", "a comma in a flow mapping"],
)
def test_catalog_messages_for_real_schemas(shop: Path, old: str, new: str, expected: str) -> None:
    assert old in CATALOG
    shop.write_text(CATALOG.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(shop)
    assert expected in [str(p) for p in info.value.problems]


def test_the_report_says_where_it_looked_and_where_not(shop: Path, tmp_path: Path) -> None:
    request = SubjectRequest("AR-1", (parse_key("email=nobody@example.com"),))
    [bundle] = answer_access_requests(load_catalog(shop), [request], tmp_path / "out")
    report = " ".join((bundle.path / "report.md").read_text().split())
    assert "- invoice_lines (The lines of your invoices): through your rows of invoices" in report
    assert (
        "The data sets we did not search, and why: - tracks (Our catalogue of tracks):"
        " reference data, no personal data"
    ) in report


def test_retention_counts_from_an_end_that_may_not_have_come(shop: Path, tmp_path: Path) -> None:
    """Staff kept 7 years after they leave: one left in 2010 (past), one has not left."""
    from datetime import date

    from dsar import plan_retention

    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        sweep = plan_retention(catalog, engine, today=date(2026, 11, 29))
        [staff] = [a for a in sweep.actions if a.table == "staff"]
        assert (staff.rows, staff.expired) == (2, 1)  # the one still employed is kept
        request = SubjectRequest("ER-S", (parse_key("email=andrew@chinook.example"),))
        plan = plan_erasure(catalog, engine, request, keys=KEYS, today=date(2026, 11, 29))
    [action] = [a for a in plan.actions if a.table == "staff"]
    assert (action.retained, action.retained_open, action.to_change) == (1, 1, 0)
    assert "retain 1 row(s): 1 until their end date is known (employment law)" in plan.describe()


def test_asking_again_after_an_erasure_finds_what_was_kept(shop: Path, tmp_path: Path) -> None:
    """Luís's account is erased; his invoices are kept for the tax office and carry only his
    customer id. Asking again by email finds them through the ledger."""
    from datetime import date

    from dsar import Ledger

    ledger = Ledger(tmp_path / "ledger" / "ledger.db", KEYS)
    catalog = load_catalog(shop)
    erase = SubjectRequest("ER-1", (parse_key("email=luis@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, erase, keys=KEYS, today=date(2026, 11, 29))
        apply_plan(
            plan, catalog, engine, out=tmp_path / "c", keys=KEYS, dry_run=False, ledger=ledger
        )
    again = SubjectRequest("AR-2", (parse_key("email=luis@example.com"),))
    [blind] = answer_access_requests(load_catalog(shop), [again], tmp_path / "blind")
    assert blind.subject.rows == 0  # without the ledger: "we hold nothing about you"
    [bundle] = answer_access_requests(load_catalog(shop), [again], tmp_path / "out", ledger=ledger)
    assert sorted(
        pq.read_table(bundle.path / "data" / "invoices.parquet").column("InvoiceId").to_pylist()
    ) == [2, 3]
    report = " ".join((bundle.path / "report.md").read_text().split())
    assert "You asked us before to erase your data (ER-1)." in report
    assert "customer_id=1: recorded when your data was erased (request ER-1)" in report
    assert verify_bundle(bundle.path).ok


def test_identity_values_mostly_absent_from_their_home_are_flagged(shop: Path) -> None:
    """Line ids declared as customer ids: most of them are no customer's id."""
    text = CATALOG.replace(
        "    owned_through: {column: InvoiceLineId, parent: invoice_lines.InvoiceLineId}\n", ""
    ).replace(
        "      NoteId: {type: integer}", "      NoteId: {type: integer, identity: customer_id}"
    )
    shop.write_text(text)
    notes = shop.parent / "line_notes.csv"
    notes.write_text(notes.read_text().replace("\n1,", "\n11,").replace("\n2,", "\n12,"))
    assert (
        "warning: tables.line_notes.columns.NoteId: 3 of 4 distinct values are not in"
        " customers.CustomerId, the home of customer_id: probably another kind of key"
    ) in _check(shop)
