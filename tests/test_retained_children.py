"""Children follow a retained parent: the lines of an invoice kept for tax are kept with it.

Erasure and the retention sweep leave the rows owned through retained parent rows (to any
depth) as they are, for as long as the parent is kept, and say so in the plan and the
certificate; once the parent rows are past retention the children go with them. A catalog
that asks to erase them all the same is warned about.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dsar import (
    CatalogError,
    SubjectRequest,
    apply_plan,
    load_catalog,
    open_engine,
    parse_key,
    plan_erasure,
    plan_retention,
)
from dsar.catalog.models import ErasureAction
from dsar.demo import generate_shop
from dsar.engine.guards import catalog_warnings
from dsar.keys import Keys
from dsar.rights.actions import TableAction
from dsar.rights.children import kept_words
from tests.shop_fixture import CATALOG, write_shop

KEYS = Keys(b"k" * 40)
LUIS = SubjectRequest("ER-1", (parse_key("email=luis@example.com"),))
# Luís (customer 1) has invoices 2 (2025-01-02) and 3 (2025-02-03), kept 7 years for tax;
# lines 3 and 4 on invoice 2, line 5 on invoice 3; notes 2 (on line 3) and 3 (on line 5)
OPT_IN = "{action: delete, even_if_parent_retained: true}"
LINES_RULE = "    erasure: {action: delete}\n    primary_key: [InvoiceLineId]\n"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop")


def _ids(root: Path, table: str, key: str) -> list[int]:
    rows = duckdb.execute(f"SELECT {key} FROM '{root}/{table}.csv' ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def _left(root: Path) -> tuple[list[int], list[int], list[int]]:
    """The invoices, lines and notes left in the shop's files."""
    return (
        _ids(root, "invoices", "InvoiceId"),
        _ids(root, "invoice_lines", "InvoiceLineId"),
        _ids(root, "line_notes", "NoteId"),
    )


def _opt_in(shop: Path) -> None:
    assert CATALOG.count(LINES_RULE) == 1
    shop.write_text(CATALOG.replace(LINES_RULE, LINES_RULE.replace("{action: delete}", OPT_IN)))


@pytest.mark.parametrize(
    ("today", "to_delete", "left"),
    [
        # both invoices within their 7 years: every line and note kept with them
        (date(2026, 11, 29), (0, 0, 0), ([1, 2, 3, 4], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4])),
        # invoice 2 past (until 2032-01-02), invoice 3 not (until 2032-02-03)
        (date(2032, 2, 1), (1, 2, 1), ([1, 3, 4], [1, 2, 5, 6], [1, 3, 4])),
        # both past: the children go with their parents
        (date(2032, 2, 4), (2, 3, 2), ([1, 4], [1, 2, 6], [1, 4])),
    ],
)
def test_erasure_keeps_the_children_of_retained_rows_only(
    shop: Path,
    tmp_path: Path,
    today: date,
    to_delete: tuple[int, int, int],
    left: tuple[list[int], list[int], list[int]],
) -> None:
    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, LUIS, keys=KEYS, today=today)
        actions = {a.table: a for a in plan.actions}
        planned = tuple(actions[t].to_change for t in ("invoices", "invoice_lines", "line_notes"))
        assert planned == to_delete
        assert actions["invoice_lines"].kept_with_parent == 3 - to_delete[1]
        assert actions["line_notes"].kept_with_parent == 2 - to_delete[2]
        # the row accounting checks the files against these counts
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    assert _left(shop.parent) == left


def test_the_plan_and_the_certificate_say_what_is_kept_and_until_when(
    shop: Path, tmp_path: Path
) -> None:
    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, LUIS, keys=KEYS, today=date(2026, 11, 29))
        text = plan.describe()
        result = apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    assert (
        f"  {'invoice_lines':<24} {3:>6} row(s) of the person: delete 0 row(s)\n"
        f"  {'':<24} {3:>6} row(s) kept with their 2 row(s) of invoices until 2032-02-03\n"
        f"  {'line_notes':<24} {2:>6} row(s) of the person: delete 0 row(s)\n"
        f"  {'':<24} {2:>6} row(s) kept with their 2 row(s) of invoice_lines until 2032-02-03\n"
    ) in text
    assert text.endswith("\n1 row(s) would change")  # the customer row only
    rows = {r["table"]: r for r in plan.table_rows()}
    assert (rows["invoice_lines"]["kept_with_parent"], rows["invoice_lines"]["kept_until"]) == (
        3,
        "2032-02-03",
    )
    assert rows["invoice_lines"]["changes"] == 0
    assert result.certificate is not None
    body = json.loads(result.certificate.read_text())
    assert body["kept_with_parent"] == [
        {
            "table": "invoice_lines",
            "rows": 3,
            "parent": "invoices",
            "parent_rows": 2,
            "until": "2032-02-03",
            "until_unknown": 0,
        },
        {
            "table": "line_notes",
            "rows": 2,
            "parent": "invoice_lines",
            "parent_rows": 2,
            "until": "2032-02-03",
            "until_unknown": 0,
        },
    ]
    lines = result.certificate.with_suffix(".md").read_text().splitlines()
    assert "- invoice_lines: 0 row(s) deleted" in lines
    assert (
        "- invoice_lines: 3 row(s) kept with their 2 row(s) of invoices until 2032-02-03" in lines
    )
    assert (
        "- line_notes: 2 row(s) kept with their 2 row(s) of invoice_lines until 2032-02-03" in lines
    )
    assert "luis" not in result.certificate.with_suffix(".md").read_text().lower()


def test_the_shop_demo_keeps_the_lines_of_retained_invoices_only(tmp_path: Path) -> None:
    as_of = date(2026, 11, 29)
    root = generate_shop(tmp_path / "shop", customers=80, as_of=as_of).root
    invoices, lines = f"'{root}/invoices.parquet'", f"'{root}/invoice_lines.parquet'"
    notes = f"read_json('{root}/line_notes.jsonl')"
    cutoff = "DATE '2019-11-29'"  # 7 years before: invoices from before it are past retention
    # a customer with lines on invoices on both sides of the cutoff
    [(customer,)] = duckdb.execute(
        f"SELECT i.CustomerId FROM {invoices} i JOIN {lines} l USING (InvoiceId)"
        " GROUP BY 1 HAVING bool_or(i.InvoiceDate < {c}) AND bool_or(i.InvoiceDate >= {c})"
        " ORDER BY 1 LIMIT 1".replace("{c}", cutoff)
    ).fetchall()

    def truth(old: bool) -> tuple[list[int], list[int]]:
        where = f"i.CustomerId = {customer} AND (i.InvoiceDate < {cutoff}) = {old}"
        found = duckdb.execute(
            f"SELECT l.InvoiceLineId FROM {lines} l JOIN {invoices} i USING (InvoiceId)"
            f" WHERE {where} ORDER BY 1"
        ).fetchall()
        found_notes = duckdb.execute(
            f"SELECT n.NoteId FROM {notes} n JOIN {lines} l USING (InvoiceLineId)"
            f" JOIN {invoices} i USING (InvoiceId) WHERE {where} ORDER BY 1"
        ).fetchall()
        return [r[0] for r in found], [r[0] for r in found_notes]

    (kept_lines, kept_notes), (old_lines, old_notes) = truth(False), truth(True)
    [(kept_invoices, until)] = duckdb.execute(
        f"SELECT count(DISTINCT i.InvoiceId), max(i.InvoiceDate) + INTERVAL 7 YEAR FROM"
        f" {invoices} i JOIN {lines} l USING (InvoiceId) WHERE i.CustomerId = {customer}"
        f" AND i.InvoiceDate >= {cutoff}"
    ).fetchall()
    catalog = load_catalog(root / "catalog.yml")
    request = SubjectRequest("ER-9", (parse_key(f"customer_id={customer}"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS, today=as_of)
        a = next(a for a in plan.actions if a.table == "invoice_lines")
        assert (a.rows, a.to_change, a.kept_with_parent) == (
            len(kept_lines) + len(old_lines),
            len(old_lines),
            len(kept_lines),
        )
        assert (a.parent, a.parent_rows, a.kept_until) == (
            "invoices",
            kept_invoices,
            str(until.date()),
        )
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    left_lines = {r[0] for r in duckdb.execute(f"SELECT InvoiceLineId FROM {lines}").fetchall()}
    left_notes = {r[0] for r in duckdb.execute(f"SELECT NoteId FROM {notes}").fetchall()}
    assert set(kept_lines) <= left_lines and not set(old_lines) & left_lines
    assert set(kept_notes) <= left_notes and not set(old_notes) & left_notes


def test_erasing_children_of_retained_parents_is_explicit_and_warned(
    shop: Path, tmp_path: Path
) -> None:
    _opt_in(shop)
    catalog = load_catalog(shop)
    [warning] = [w for w in catalog_warnings(catalog) if "even_if_parent_retained" in w.message]
    assert warning.location == "tables.invoice_lines.erasure"
    assert warning.message == (
        "even_if_parent_retained: erasure deletes rows whose invoices rows are retained"
        " (tax law), so the record kept under that obligation is left without them"
    )
    assert warning.fix == (
        "remove even_if_parent_retained: the rows are then kept with their invoices rows,"
        " unchanged, for as long as those are kept, and erased with them"
    )
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, LUIS, keys=KEYS, today=date(2026, 11, 29))
        actions = {a.table: a for a in plan.actions}
        lines = actions["invoice_lines"]
        assert (lines.to_change, lines.changed_anyway, lines.kept_with_parent) == (3, 3, 0)
        # the notes are kept with lines only: lines erased all the same take them along
        assert (actions["line_notes"].to_change, actions["line_notes"].kept_with_parent) == (2, 0)
        assert (
            f"  {'':<24} {3:>6} row(s) of 2 retained row(s) of invoices to be deleted all the"
            " same, as erasure.even_if_parent_retained asks"
        ) in plan.describe()
        result = apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    assert result.certificate is not None
    assert (
        "- invoice_lines: 3 row(s) of 2 retained row(s) of invoices deleted all the same, as"
        " erasure.even_if_parent_retained asks"
    ) in result.certificate.with_suffix(".md").read_text().splitlines()
    assert _left(shop.parent) == ([1, 2, 3, 4], [1, 2, 6], [1, 4])


def test_catalog_check_prints_the_warning_with_its_fix(shop: Path) -> None:
    from typer.testing import CliRunner

    from dsar.cli import app

    _opt_in(shop)
    result = CliRunner().invoke(app, ["catalog", "check", str(shop)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert (
        "tables.invoice_lines.erasure: even_if_parent_retained: erasure deletes rows whose"
        " invoices rows are retained (tax law)"
    ) in out
    assert "fix: remove even_if_parent_retained: the rows are then kept with their" in out


def test_the_setting_is_for_owned_tables_and_useless_without_a_retained_parent(
    shop: Path,
) -> None:
    rule = "    erasure: {action: delete}\n    primary_key: [CustomerId]\n"
    assert CATALOG.count(rule) == 1
    shop.write_text(CATALOG.replace(rule, rule.replace("{action: delete}", OPT_IN)))
    with pytest.raises(
        CatalogError, match=r"erasure.even_if_parent_retained is for a table owned through a"
    ):
        load_catalog(shop)
    invoices_rule = (
        "    erasure: {action: retain, legal_basis: legal_obligation, reason: tax law,"
        " retain_for: 7 years}\n    primary_key: [InvoiceId]\n"
    )
    assert CATALOG.count(invoices_rule) == 1
    text = CATALOG.replace(LINES_RULE, LINES_RULE.replace("{action: delete}", OPT_IN))
    shop.write_text(
        text.replace(invoices_rule, "    erasure: {action: delete}\n    primary_key: [InvoiceId]\n")
    )
    [warning] = [
        w for w in catalog_warnings(load_catalog(shop)) if "even_if_parent_retained" in w.message
    ]
    assert warning.message == (
        "erasure.even_if_parent_retained, but no table it is owned through retains its rows:"
        " the setting changes nothing"
    )


def test_a_child_that_nullifies_leaves_the_rows_of_retained_parents_unchanged(
    shop: Path, tmp_path: Path
) -> None:
    rule = "    erasure: {action: delete}\n    primary_key: [NoteId]\n"
    assert CATALOG.count(rule) == 1
    shop.write_text(
        CATALOG.replace(
            rule, rule.replace("{action: delete}", "{action: nullify, columns: [Note]}")
        )
    )
    before = (shop.parent / "line_notes.csv").read_text()
    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, LUIS, keys=KEYS, today=date(2026, 11, 29))
        notes = next(a for a in plan.actions if a.table == "line_notes")
        assert (notes.to_change, notes.kept_with_parent) == (0, 2)
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    assert (shop.parent / "line_notes.csv").read_text() == before


def test_the_sweep_keeps_the_children_of_retained_rows_and_deletes_them_with_their_parents(
    shop: Path, tmp_path: Path
) -> None:
    """Lines with a retention of their own (1 year) are kept with an invoice kept 7 years;
    once the invoices go, their lines and those lines' notes go with them."""
    rule = "    retention: {criteria: as long as the invoice}\n"
    assert CATALOG.count(rule) == 1
    shop.write_text(
        CATALOG.replace(rule, "    retention: {period: 1 year, after: AddedAt}\n").replace(
            "      UnitPrice: {type: decimal}\n",
            "      UnitPrice: {type: decimal}\n      AddedAt: {type: date}\n",
        )
    )
    lines = shop.parent / "invoice_lines.csv"
    added = {"1": "2025-01-01", "2": "2025-01-02", "3": "2025-02-03", "4": "2025-03-04"}
    rows = lines.read_text().splitlines()
    lines.write_text(
        "\n".join([rows[0] + ",AddedAt"] + [f"{r},{added[r.split(',')[1]]}" for r in rows[1:]])
        + "\n"
    )
    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        plan = plan_retention(catalog, engine, today=date(2027, 6, 1))
        actions = {a.table: a for a in plan.actions}
        assert (actions["invoice_lines"].expired, actions["invoice_lines"].kept_with_parent) == (
            0,
            6,
        )
        assert actions["line_notes"].expired == 0
        text = plan.describe()
        assert (
            f"  {'invoice_lines':<24} keep 1 year after AddedAt: 0 of 6 row(s) from before"
            " 2026-06-01 would be deleted; 6 past retention kept with their retained invoices"
            " rows"
        ) in text
        assert (
            f"  {'line_notes':<24} kept as long as its invoice_lines rows: 0 of 4 row(s) would"
            " be deleted"
        ) in text
        # invoices 1 to 3 are past their 7 years on 2032-02-10, invoice 4 is not
        plan = plan_retention(catalog, engine, today=date(2032, 2, 10))
        actions = {a.table: a for a in plan.actions}
        got = {t: (actions[t].expired, actions[t].with_parent) for t in actions}
        assert got["invoices"] == (3, 0)
        assert got["invoice_lines"] == (5, 0)  # past their own year, no longer kept
        assert got["line_notes"] == (3, 3)  # with their lines
        assert actions["invoice_lines"].kept_with_parent == 1
        result = apply_plan(plan, catalog, engine, out=tmp_path / "certs", dry_run=False)
    assert _left(shop.parent) == ([4], [6], [4])
    assert result.certificate is not None
    assert (
        "- line_notes: 3 of 4 row(s) deleted with their invoice_lines rows"
        in result.certificate.with_suffix(".md").read_text().splitlines()
    )


def test_the_sweep_agrees_with_erasure(shop: Path, tmp_path: Path) -> None:
    """After an erasure kept Luís's lines with his invoices, a sweep keeps them too, until
    the invoices go: then the lines and notes go with them, not left behind unreachable."""
    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, LUIS, keys=KEYS, today=date(2026, 11, 29))
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        sweep = plan_retention(catalog, engine, today=date(2026, 11, 29))
        assert {a.table: a.expired for a in sweep.actions if a.table != "staff"} == {
            "invoices": 0,
            "invoice_lines": 0,
            "line_notes": 0,
        }
        sweep = plan_retention(catalog, engine, today=date(2032, 2, 4))
        result = apply_plan(sweep, catalog, engine, out=tmp_path / "certs", dry_run=False)
    assert result.applied
    # invoices 1 to 3 (before 2025-02-04) go, and every line and note of them
    assert _left(shop.parent) == ([4], [6], [4])


def test_the_sweep_deletes_children_of_retained_rows_when_the_catalog_says_so(
    shop: Path, tmp_path: Path
) -> None:
    rule = "    retention: {criteria: as long as the invoice}\n"
    text = CATALOG.replace(rule, "    retention: {period: 1 year, after: AddedAt}\n").replace(
        "      UnitPrice: {type: decimal}\n",
        "      UnitPrice: {type: decimal}\n      AddedAt: {type: date}\n",
    )
    shop.write_text(text.replace(LINES_RULE, LINES_RULE.replace("{action: delete}", OPT_IN)))
    lines = shop.parent / "invoice_lines.csv"
    rows = lines.read_text().splitlines()
    lines.write_text("\n".join([rows[0] + ",AddedAt"] + [f"{r},2025-01-01" for r in rows[1:]]))
    catalog = load_catalog(shop)
    with open_engine(catalog) as engine:
        plan = plan_retention(catalog, engine, today=date(2027, 6, 1))
        actions = {a.table: a for a in plan.actions}
        assert (actions["invoice_lines"].expired, actions["invoice_lines"].kept_with_parent) == (
            6,
            0,
        )
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", dry_run=False)
    assert _left(shop.parent) == ([1, 2, 3, 4], [], [])


def _action(**counts: object) -> TableAction:
    fields: dict[str, object] = {
        "table": "invoice_lines",
        "action": ErasureAction.DELETE,
        "rows": 40,
        "to_change": 2,
        "parent": "invoices",
        "parent_rows": 7,
    }
    return TableAction(**(fields | counts))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("counts", "words"),
    [
        (
            {"kept_with_parent": 38, "kept_until": "2032-08-07"},
            "38 row(s) kept with their 7 row(s) of invoices until 2032-08-07",
        ),
        (
            {"kept_with_parent": 38, "kept_until": "2032-08-07", "kept_open": 8},
            "38 row(s) kept with their 7 row(s) of invoices (30 until 2032-08-07, 8 until their"
            " end date is known)",
        ),
        (
            {"kept_with_parent": 38, "kept_open": 38},
            "38 row(s) kept with their 7 row(s) of invoices, until their end date is known",
        ),
        (
            {"kept_with_parent": 38},
            "38 row(s) kept with their 7 row(s) of invoices, for as long as those are kept",
        ),
        ({}, None),
    ],
)
def test_the_words_for_rows_kept_with_their_parent(
    counts: dict[str, object], words: str | None
) -> None:
    assert kept_words(_action(**counts)) == words
