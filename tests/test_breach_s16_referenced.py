"""Red team 26 round 5, finding 17, in the records: the other account holders a leaked row
names (an invoice's recipient, a message's recipient) were counted on the console only. The
count (each account once over every table, and per table) is now in scope.json's counts and
in the regulator report's numbers, since the approximate number of data subjects (Art.
33(3)(a)) includes them; no letter is written to them (a person decides)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dsar import load_catalog, open_engine
from dsar.breach import ScopeSpec, scope_breach
from tests.test_attacks_breach import _manifest, _run
from tests.test_attacks_breach_r5_contact import CATALOG as BASE

_TABLE = """\
  {name}:
    path: {name}.csv
    format: csv
    description: {what}
    category: {category}
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {{period: 1 years, after: at}}
    erasure: {{action: delete}}
    primary_key: [{name}_id]
    columns:
      {name}_id: {{type: string}}
      {own}: {{identity: user_id, type: string, references: users.user_id}}
      {other}: {{type: string, references: users.user_id, description: the other person}}
      amount: {{type: string}}
      at: {{type: timestamp}}
"""

CATALOG = (
    BASE.split("  tickets:\n")[0]
    + _TABLE.format(
        name="invoices",
        what="Invoices one account pays another.",
        category="billing",
        own="payer_id",
        other="recipient_id",
    )
    + _TABLE.format(
        name="transfers",
        what="Transfers between accounts.",
        category="billing",
        own="sender_id",
        other="receiver_id",
    )
)

AT = "2026-11-05T10:00:00Z"


def _export(root: Path, transfers: list[tuple[str, str]]) -> Path:
    """Accounts u1..u5; u1 pays u2 and u3 (u3 twice); u4 pays u1 (a person reached)."""
    root.mkdir(parents=True)
    with (root / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "phone", "country"])
        for i in range(1, 6):
            w.writerow([f"u{i}", f"p{i}@example.com", "", "NL"])
    with (root / "invoices.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["invoices_id", "payer_id", "recipient_id", "amount", "at"])
        w.writerow(["i1", "u1", "u2", "10", AT])
        w.writerow(["i2", "u1", "u3", "20", AT])
        w.writerow(["i3", "u1", "u3", "30", AT])
        w.writerow(["i4", "u4", "u1", "40", AT])
    with (root / "transfers.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["transfers_id", "sender_id", "receiver_id", "amount", "at"])
        for i, (sender, receiver) in enumerate(transfers):
            w.writerow([f"x{i}", sender, receiver, "5", AT])
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _scope(catalog: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *tables: str) -> str:
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog),
            *(a for t in tables for a in ("--table", t)),
            "--from", "2026-11-01", "--to", "2026-11-30",
            "--discovered", "2026-11-20T18:30Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    return output


def test_the_accounts_a_leaked_invoice_names_are_in_scope_json_and_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "x", [])
    out = tmp_path / "BR"
    _scope(catalog, out, monkeypatch, "invoices")
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["people"] == 2  # the payers u1 and u4
    assert counts["other_accounts_named"] == 2  # u2 and u3 (twice named, once counted)
    assert counts["other_accounts_named_per_table"] == {"invoices": 2}
    assert counts["with_contact"] == 2  # the letters stay as they were: the payers only
    assert len(pq.read_table(out / "affected.parquet")) == 2
    report = (out / "regulator-report.md").read_text()
    numbers = report.split("Approximate numbers")[1].split("Categories of data")[0]
    assert "| other account holders the records name" in numbers
    assert "not among the people concerned | 2 |" in numbers
    assert "(2 + 2 = 4, before any others named in free text)" in numbers
    for value in ("u2", "u3", "p2@example.com", "p3@example.com"):
        assert value not in report
        assert value not in (out / "scope.json").read_text()


def test_an_account_two_tables_name_is_one_data_subject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # u3 is named by an invoice and by a transfer; u5 by a transfer only
    catalog = _export(tmp_path / "x", [("u1", "u3"), ("u4", "u5")])
    out = tmp_path / "BR"
    _scope(catalog, out, monkeypatch, "invoices", "transfers")
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["other_accounts_named_per_table"] == {"invoices": 2, "transfers": 2}
    assert counts["other_accounts_named"] == 3  # u2, u3, u5
    with open_engine(load_catalog(catalog)) as engine:
        for method in ("per-person", "set"):
            scope = scope_breach(engine, ScopeSpec(("invoices", "transfers")), method=method)
            assert scope.referenced_total == 3, method


def test_no_other_account_named_reads_zero_and_no_paragraph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every transfer's receiver is a person reached (a sender)
    catalog = _export(tmp_path / "x", [("u1", "u4"), ("u4", "u1")])
    out = tmp_path / "BR"
    _scope(catalog, out, monkeypatch, "transfers")
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["other_accounts_named"] == 0
    assert counts["other_accounts_named_per_table"] == {}
    report = (out / "regulator-report.md").read_text()
    assert "not among the people concerned | 0 |" in report
    assert "before any others named in free text" not in report
