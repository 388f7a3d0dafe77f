"""Review 16, records: the ledger's older forms found from the value as written (F2), the
breach register trusting only audit entries that verify (F4), and SQL agreeing with Python
on older forms where today's form is NULL (F6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.catalog import IdentityKind
from dsar.records.ledger import Ledger, Reason
from dsar.subjects.identity import SubjectKey
from tests.test_ledger import KEY, KEYS

PHONE, EMAIL = IdentityKind.PHONE, IdentityKind.EMAIL


def _old_entry(path: Path, key: SubjectKey, reason: Reason, request: str = "R-OLD") -> None:
    """An entry as the old code wrote it: the identifier under its older normal form."""
    book = Ledger(path, KEYS)
    try:
        book.add([key], reason, request, as_found=True)
    finally:
        book.close()


# --- F2: `ledger check` and erased_before pass the value as written -------------------------

CHECKS = [
    # a phone's older key kept its extension's digits; today's drops them
    (SubjectKey(PHONE, "+1303555010112"), ["--id", "phone=+1 303 555 0101 x12"]),
    # an email's older key kept a link's 'mailto:'
    (SubjectKey(EMAIL, "mailto:ann@example.com"), ["--email", "Ann Lee <mailto:Ann@Example.com>"]),
    (
        SubjectKey(EMAIL, "mailto:ann@example.com"),
        ["--id", "email=Ann Lee <mailto:Ann@Example.com>"],
    ),
]


@pytest.mark.parametrize(("old", "given"), CHECKS, ids=["phone-id", "email", "email-id"])
def test_ledger_check_finds_an_entry_under_the_older_form_of_the_value_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: SubjectKey, given: list[str]
) -> None:
    from typer.testing import CliRunner

    from dsar.cli import app

    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    book = tmp_path / "ledger.db"
    _old_entry(book, old, Reason.OBJECTED_DIRECT_MARKETING)
    found = CliRunner().invoke(app, ["ledger", "check", "--ledger", str(book), *given])
    assert found.exit_code == 1, found.output
    assert found.stdout.strip() == "objected_direct_marketing"
    # another extension of the number, another address: still nobody
    other = [given[0], given[1].replace("x12", "x13").replace("Ann@", "Bob@")]
    clean = CliRunner().invoke(app, ["ledger", "check", "--ledger", str(book), *other])
    assert clean.exit_code == 0 and "not in the ledger" in clean.stdout


def test_erased_before_finds_an_erasure_under_the_older_form_of_the_value_as_written(
    tmp_path: Path,
) -> None:
    from dsar import load_catalog, open_engine
    from tests.test_ledger_older_rules import _export

    catalog = load_catalog(_export(tmp_path / "export"))
    _old_entry(tmp_path / "ledger.db", SubjectKey(PHONE, "+1303555010112"), Reason.ERASED)
    today = SubjectKey(PHONE, "+13035550101")
    book = Ledger(tmp_path / "ledger.db", KEYS)
    try:
        with open_engine(catalog) as engine:
            found = book.erased_before([today], catalog, engine, written=["+1 303 555 0101 x12"])
            assert set(found) == {"R-OLD"}
            other = book.erased_before([today], catalog, engine, written=["+1 303 555 0101 x13"])
            assert other == {}
    finally:
        book.close()
