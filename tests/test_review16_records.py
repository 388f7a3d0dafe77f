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


# --- F6: SQL applies an older form only where today's form is not NULL, as Python does ------

IP = IdentityKind.IP_ADDRESS
# cells today's rule reads as nobody (too few digits, a placeholder) whose older SQL form is
# not NULL: Python's `legacy_forms` gives none, so neither may an extract's condition
UNUSABLE = [
    (PHONE, "123456 x1234"),
    (EMAIL, "none <mailto:none@example.com>"),
    (IP, "::ffff:0.0.0.0"),
]


@pytest.mark.parametrize(("kind", "cell"), UNUSABLE, ids=[k.value for k, _ in UNUSABLE])
def test_sql_applies_no_older_form_where_today_s_form_is_null(
    tmp_path: Path, kind: IdentityKind, cell: str
) -> None:
    import duckdb

    from dsar.subjects.identity import (
        MatchRules,
        legacy_forms,
        normalize,
        sql_legacy_forms,
        sql_normalize,
    )
    from tests.test_ledger_older_rules import ACCOUNTS, EVENTS, _export, _left_in

    con = duckdb.connect()
    row = con.execute(
        f"SELECT {sql_normalize(kind, 'x', MatchRules())}, {', '.join(sql_legacy_forms(kind, 'x'))}"
        " FROM (SELECT CAST(? AS VARCHAR) AS x)",
        [cell],
    ).fetchone()
    assert row is not None and row[0] is None and normalize(kind, cell, MatchRules()) is None
    olds = [f for f in row[1:] if f is not None]
    assert olds and legacy_forms(kind, cell) == []  # the two sides differed here
    root = _export(tmp_path / "export")
    if kind is IP:
        table = "events"
        text = EVENTS.replace("2001:DB8:0:0:0:0:0:1", cell)
    else:
        table = "accounts"
        was = "+1 303 555 0101 x12" if kind is PHONE else "Ann Lee <MAILTO:Ann@Example.com>"
        text = ACCOUNTS.replace(was, cell)
    (tmp_path / "export" / f"{table}.csv").write_text(text)
    for old in olds:  # an entry under the form SQL worked out: it is nobody's, as in Python
        _old_entry(tmp_path / "ledger.db", SubjectKey(kind, old), Reason.OBJECTED_DIRECT_MARKETING)
    kept = _left_in(root, tmp_path / "ledger.db", table)
    assert kept.count("u1") == (2 if kind is IP else 1)


# --- F4: only audit entries that verify count as notices given ------------------------------


def _forge_notice(register: Path, line: str | None = None) -> int:
    """Append a `breach.notified` line nobody with the key wrote (or `line`, a replayed one):
    its number in the log."""
    import json

    log = register.with_name(register.name + ".audit.jsonl")
    lines = log.read_text().splitlines()
    if line is None:
        last = json.loads(lines[-1])
        forged = dict(last, seq=last["seq"] + 1, prev=last["hash"], hash="0" * 64)
        forged.update(action="breach.notified", request="BR-RB")
        forged["details"] = {"rule": "gdpr-authority", "at": "2026-11-21T09:00:00+00:00"}
        line = json.dumps(forged)
    with log.open("a") as handle:
        handle.write(line + "\n")
    return len(lines) + 1


@pytest.mark.parametrize("how", ["forged", "replayed"])
def test_an_unverifiable_notice_line_is_not_counted_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from dsar.keys import Keys
    from dsar.records.audit import AuditLog
    from tests.test_attacks_breach import KEY as BKEY, _run
    from tests.test_attacks_breach_r6_records import _registered

    register = _registered(tmp_path, monkeypatch)
    listing = ["requests", "list", "--register", str(register)]
    code, before = _run(listing, monkeypatch)
    assert code == 0 and "OVERDUE" in before and "BR-RB" in before, before
    if how == "replayed":  # a notice given, its verified line copied again at the end
        code, output = _run(["breach", "notified", "BR-RB", "--rule", "gdpr-authority",
                             "--register", str(register)], monkeypatch)  # fmt: skip
        assert code == 0, output
        log = AuditLog(register.with_name(register.name + ".audit.jsonl"), Keys(BKEY.encode()))
        verified, ignored = log.checked_entries()
        assert ignored == [] and verified[-1].action == "breach.notified"
        number = _forge_notice(register, log.path.read_text().splitlines()[-1])
        assert log.checked_entries() == (verified, [number])
        code, output = _run(listing, monkeypatch)
        assert code == 0 and "OVERDUE" not in output, output  # the real notice still counts
        assert f"line {number}" in output and "ignored" in output, output
        return
    number = _forge_notice(register)
    code, output = _run(listing, monkeypatch)
    assert code == 0, output
    assert "OVERDUE" in output, output  # the forged line gives no notice
    assert f"line {number}" in output and "ignored" in output, output
    code, output = _run(["breach", "notified", "BR-RB", "--rule", "gdpr-authority",
                         "--register", str(register)], monkeypatch)  # fmt: skip
    assert code == 0, output  # the real notice is recorded, not refused
