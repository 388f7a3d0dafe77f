"""Red team 26 round 5, finding 7: a shared address (a bookkeeper's, on many customers'
tickets). Raised past the identifier limit, the bookkeeper's own leaked ticket (their address
alone, no account) reached every account that used the address, and not the one person whose
data it certainly held: the address's holder was not counted and got no letter. A row in scope
whose identifiers are on none of the joined accounts' rows is now also its own person's, one
without an account written to at that address (the accounts that used it are still reached,
conservatively). The refusal at the identifier limit now says that a shared address is a case
for raising it (breach scope keeps the account holders apart)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dsar import load_catalog, open_engine
from dsar.breach import ScopeSpec, scope_breach
from dsar.breach.filters import parse_where
from tests.test_attacks_breach import _run
from tests.test_attacks_breach_r5_contact import CATALOG

BOOKS = "books@accountant.test"


def _export(root: Path, accounts: int) -> Path:
    root.mkdir()
    with (root / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "phone", "country"])
        for i in range(1, accounts + 1):
            w.writerow([f"u{i}", f"p{i}@example.com", "", "NL"])
    with (root / "tickets.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket_id", "user_id", "requester_email", "requester_phone", "created_at"])
        for i in range(1, accounts + 1):
            w.writerow([f"t{i}", f"u{i}", BOOKS, "", "2026-11-05T10:00:00Z"])
        w.writerow(["t99", "", BOOKS, "", "2026-11-05T10:00:00Z"])  # the bookkeeper's own
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _scope(catalog: Path, out: Path, mp: pytest.MonkeyPatch, *extra: str) -> tuple[int, str]:
    return _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "tickets",
            "--where", "ticket_id = t99", "--discovered", "2026-11-20T18:30Z",
            "--out", str(out), *extra,
        ],
        mp,
    )  # fmt: skip


@pytest.mark.parametrize("accounts", [2, 40])
def test_the_shared_addresss_own_row_reaches_its_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accounts: int
) -> None:
    catalog = _export(tmp_path / "x", accounts)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--max-identifiers", "100")
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    holders = [p for p in people if p["account_holder"]]
    others = [p for p in people if not p["account_holder"]]
    assert len(holders) == accounts  # the accounts that used it: still reached
    assert [p["contact"] for p in others] == [BOOKS]
    assert sorted(p["contact"] for p in holders) == sorted(
        f"p{i}@example.com" for i in range(1, accounts + 1)
    )


def test_both_searches_add_the_holder(tmp_path: Path) -> None:
    catalog = _export(tmp_path / "x", 3)
    spec = ScopeSpec(("tickets",), where=(parse_where("ticket_id = t99"),))
    with open_engine(load_catalog(catalog)) as engine:
        for method in ("per-person", "set"):
            scope = scope_breach(engine, spec, method=method)
            assert scope.account_holders == 3, method
            assert scope.without_account == 1, method
            [books] = [p for p in scope.people if not p.account_holder]
            assert books.contact is not None and books.contact.value == BOOKS, method
            assert books.rows == {"tickets": 1}, method


def test_the_limits_refusal_names_the_shared_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "x", 40)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code != 0
    assert "an address several account holders share" in output
    assert "above 41" in output
    assert BOOKS not in output
