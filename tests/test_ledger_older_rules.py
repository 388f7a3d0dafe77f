"""Ledger entries written under older normal forms still match (identity.LEGACY_FORMS).

The ledger holds keyed references of normalised identifiers, never values, so it cannot be
rebuilt when a normal form changes. Three commits changed one: b9ec3fb cut a phone's
extension off its key (before: '+1 303 555 0101 x12' keyed '+1303555010112'), 05fefaf
lower-cased a device id shaped as a UUID (before: as written), 72241a4 wrote IPv6 as RFC 5952
and an IPv4-mapped address as its dotted quad (before: lower-cased as written). An entry
written before them (by an erasure, which records identifiers as the export held them) must
still find its person in a restored export (replay), leave them out of extracts, and answer
the Python checks; a person whose forms meet no entry is neither found nor left out.

Each entry is written as the old code wrote it: its old form computed here by hand, hashed
through the ledger's own reference function (`Ledger.add(..., as_found=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dsar import load_catalog, open_engine
from dsar.catalog import IdentityKind
from dsar.records.ledger import Ledger, Reason
from dsar.rights.erasure import replay_erasures
from dsar.subjects.identity import (
    MatchRules,
    SubjectKey,
    legacy_forms,
    normalize,
    older_writings,
    parse_key,
    sql_legacy_forms,
    sql_normalize,
)
from tests.test_identity_forms import CATALOG as _FORMS_CATALOG
from tests.test_ledger import KEYS

PHONE, DEVICE, IP = IdentityKind.PHONE, IdentityKind.DEVICE_ID, IdentityKind.IP_ADDRESS
EMAIL = IdentityKind.EMAIL
UUID = "6f9619ff-8b86-d011-b42d-00cf4fc964ff"  # u1's advertising id

ACCOUNTS = """\
user_id,email,phone,country
u1,Ann Lee <MAILTO:Ann@Example.com>,+1 303 555 0101 x12,US
u2,bob@example.com,+1 720 555 0199,US
u3,cy@example.com,+1 415 555 0123 ext. 7,US
"""
# u1's iPhone writes its advertising id in capitals, from an IPv6 address written out in full
# (or IPv4-mapped); u2's are other devices and addresses; u3 has none
EVENTS = """\
event_id,user_id,device_id,ip_address
e1,u1,6F9619FF-8B86-D011-B42D-00CF4FC964FF,2001:DB8:0:0:0:0:0:1
e2,u1,6F9619FF-8B86-D011-B42D-00CF4FC964FF,::FFFF:192.0.2.1
e3,u2,0f8fad5b-d9cb-469f-a165-70867728950e,2001:db8::2
e4,u2,A1B2C3D4-0000-4000-8000-00000000BEEF,198.51.100.7
"""


def _export(root: Path) -> Path:
    root.mkdir()
    (root / "accounts.csv").write_text(ACCOUNTS)
    (root / "events.csv").write_text(EVENTS)
    text = _FORMS_CATALOG.replace(
        "      country: {type: string, category: location}",
        "      phone: {identity: phone, type: string, category: contact}\n"
        "      country: {type: string, category: location}",
    )
    head, _, _ = text.partition("  tickets:\n")
    text = head + (
        "  events:\n"
        "    path: events.csv\n"
        "    format: csv\n"
        "    description: App events.\n"
        "    category: usage\n"
        "    origin: observed\n"
        "    purposes: [service]\n"
        "    legal_basis: contract\n"
        "    source: the app\n"
        "    retention: {criteria: while open}\n"
        "    erasure: {action: delete}\n"
        "    primary_key: [event_id]\n"
        "    columns:\n"
        "      event_id: {type: string}\n"
        "      user_id: {identity: user_id, type: string}\n"
        "      device_id: {identity: device_id, type: string}\n"
        "      ip_address: {identity: ip_address, type: string}\n"
    )
    (root / "catalog.yml").write_text(text)
    load_catalog(root / "catalog.yml")  # the fixture's catalog is valid
    return root / "catalog.yml"


@dataclass(frozen=True)
class Old:
    """One entry the old code wrote: the kind, the old form, and the commit retiring it."""

    kind: IdentityKind
    old: str  # by hand, as the old normalise read the export's cell
    today: str  # the same cell's form today
    retired_by: str


OLD = [
    # phone_key before b9ec3fb: every ASCII digit and '+', the extension's '12' glued on
    Old(PHONE, "+1303555010112", "+13035550101", "b9ec3fb"),
    # normalize before 05fefaf: a device id trimmed, as written
    Old(DEVICE, UUID.upper(), UUID, "05fefaf"),
    # normalize before 72241a4: an address lower-cased, as written
    Old(IP, "2001:db8:0:0:0:0:0:1", "2001:db8::1", "72241a4"),
    Old(IP, "::ffff:192.0.2.1", "192.0.2.1", "72241a4"),
    # email_text before a link inside a display name was read: its 'mailto:' stayed
    Old(EMAIL, "mailto:ann@example.com", "ann@example.com", "named-mailto"),
]
IDS = [f"{o.kind.value}-{o.retired_by}-{o.old}" for o in OLD]


def _old_entry(path: Path, old: Old, reason: Reason = Reason.ERASED) -> None:
    """The entry as an erasure wrote it before the change: the identifier as found."""
    book = Ledger(path, KEYS)
    try:
        book.add([SubjectKey(old.kind, old.old)], reason, "E-OLD", as_found=True)
    finally:
        book.close()


@pytest.mark.parametrize("old", OLD, ids=IDS)
def test_a_replay_finds_the_person_recorded_under_an_older_form(tmp_path: Path, old: Old) -> None:
    catalog = load_catalog(_export(tmp_path / "restored"))
    _old_entry(tmp_path / "ledger.db", old)
    book = Ledger(tmp_path / "ledger.db", KEYS)
    try:
        with open_engine(catalog) as engine:
            [found] = book.find_in_export(catalog, engine)
            # today's form: what the erasure then searches the export by
            assert found.label == "E-OLD" and found.keys == (SubjectKey(old.kind, old.today),)
            results = replay_erasures(book, catalog, engine, tmp_path / "certs", keys=KEYS)
            assert [r.plan.label for r in results] == ["E-OLD"]
            left = engine.query("SELECT user_id FROM accounts ORDER BY 1").column(0).to_pylist()
            events = engine.query("SELECT user_id FROM events ORDER BY 1").column(0).to_pylist()
    finally:
        book.close()
    assert left == ["u2", "u3"] and events == ["u2", "u2"]  # u1 erased, nobody else


def _left_in(catalog_path: Path, ledger: Path, table: str) -> list[str]:
    """The user ids an extract of `table` keeps, the ledger's people left out."""
    catalog = load_catalog(catalog_path)
    book = Ledger(ledger, KEYS)
    try:
        where, params = book.sql_excluding(
            catalog.tables[table], [Reason.OBJECTED_DIRECT_MARKETING], catalog=catalog
        )
    finally:
        book.close()
    with open_engine(catalog) as engine:
        rows = engine.query(f"SELECT user_id FROM {table} WHERE {where} ORDER BY 1", params)
    return [str(u) for u in rows.column(0).to_pylist()]


@pytest.mark.parametrize("old", OLD, ids=IDS)
def test_an_extract_leaves_out_the_objector_recorded_under_an_older_form(
    tmp_path: Path, old: Old
) -> None:
    catalog = _export(tmp_path / "export")
    _old_entry(tmp_path / "ledger.db", old, Reason.OBJECTED_DIRECT_MARKETING)
    table = "accounts" if old.kind in (PHONE, EMAIL) else "events"
    kept = _left_in(catalog, tmp_path / "ledger.db", table)
    if old.kind in (PHONE, EMAIL):
        assert kept == ["u2", "u3"]
    elif old.kind is IP:
        assert kept == ["u1", "u2", "u2"]  # the row from that address only
    else:
        assert kept == ["u2", "u2"]  # both rows from that device


def test_the_old_phone_key_s_last_nine_digits_leave_out_another_writing(tmp_path: Path) -> None:
    """The entry's `folded` suffix (the old key's last nine digits, as the old `add` kept it)
    meets the same number and extension written nationally: leaving out only."""
    root = _export(tmp_path / "export")
    accounts = ACCOUNTS.replace("+1 303 555 0101 x12", "(303) 555-0101 x12")
    (tmp_path / "export" / "accounts.csv").write_text(accounts)
    _old_entry(tmp_path / "ledger.db", OLD[0], Reason.OBJECTED_DIRECT_MARKETING)
    assert _left_in(root, tmp_path / "ledger.db", "accounts") == ["u2", "u3"]
    catalog = load_catalog(root)
    book = Ledger(tmp_path / "ledger.db", KEYS)
    try:
        with open_engine(catalog) as engine:  # the loose form never finds rows to erase
            assert book.find_in_export(catalog, engine, Reason.OBJECTED_DIRECT_MARKETING) == []
    finally:
        book.close()


def test_a_person_whose_forms_meet_no_entry_is_neither_found_nor_left_out(
    tmp_path: Path,
) -> None:
    """u3's number with its extension: its old key ('+14155550123' and '7') is no entry's; an
    entry under an old form of another number reaches nobody else."""
    catalog_path = _export(tmp_path / "export")
    book = Ledger(tmp_path / "ledger.db", KEYS)
    try:  # old forms of values the export does not hold
        book.add(
            [
                SubjectKey(PHONE, "+1415555012378"),  # u3's number with another extension
                SubjectKey(DEVICE, "0F8FAD5B-D9CB-469F-A165-70867728950F"),
                SubjectKey(IP, "2001:db8:0:0:0:0:0:3"),
            ],
            Reason.ERASED,
            "E-2",
            as_found=True,
        )
        catalog = load_catalog(catalog_path)
        with open_engine(catalog) as engine:
            assert book.find_in_export(catalog, engine) == []
        for table in ("accounts", "events"):
            where, params = book.sql_excluding(catalog.tables[table], [Reason.ERASED])
            with open_engine(catalog) as engine:
                kept = engine.query(f"SELECT count(*) FROM {table} WHERE {where}", params)
                total = engine.query(f"SELECT count(*) FROM {table}")
            assert kept.column(0)[0].as_py() == total.column(0)[0].as_py() > 0
    finally:
        book.close()


STRANGERS = {
    PHONE: "+1 720 555 0199",
    DEVICE: "0F8FAD5B-D9CB-469F-A165-70867728950E",
    IP: "::2",
    EMAIL: "Bob <mailto:bob@example.com>",
}


@pytest.mark.parametrize("old", OLD, ids=IDS)
def test_the_python_checks_find_an_entry_under_an_older_form(tmp_path: Path, old: Old) -> None:
    _old_entry(tmp_path / "ledger.db", old, Reason.OBJECTED_DIRECT_MARKETING)
    book = Ledger(tmp_path / "ledger.db", KEYS)
    try:
        today = SubjectKey(old.kind, old.today)
        written = {PHONE: "+1 303 555 0101 x12", EMAIL: "Ann Lee <MAILTO:Ann@Example.com>"}.get(
            old.kind
        )
        # a phone's key holds no extension today, an email's no link: the old key is known
        # from the value as written; a UUID or an address's old writing from today's form
        assert book.is_suppressed(today, written=written)
        assert book.reasons(today, written=written) == {Reason.OBJECTED_DIRECT_MARKETING}
        assert [e.request for e in book.entries_for(today, written=written)] == ["E-OLD"]
        assert not book.is_suppressed(today, Reason.ERASED, written=written)
        if old.kind is PHONE:  # another extension of the number was another key then
            assert not book.is_suppressed(today, written="+1 303 555 0101 x13")
        assert not book.is_suppressed(parse_key(f"{old.kind.value}={STRANGERS[old.kind]}"))
    finally:
        book.close()


# --- the forms themselves: Python and SQL read alike ------------------------------------------

CELLS = [
    (PHONE, "+1 303 555 0101 x12", ["+1303555010112"]),
    (PHONE, "tel:+44 7700 900123 ext. 45", ["+44770090012345"]),
    (PHONE, "(303) 555-0101 #5", ["30355501015"]),
    (PHONE, "+1 303 555 0101 ext.", []),  # an extension without a digit keyed as today
    (PHONE, "+1 303 555 0101", []),
    (DEVICE, " 6F9619FF-8B86-D011-B42D-00cf4fc964fF ", ["6F9619FF-8B86-D011-B42D-00cf4fc964fF"]),
    (DEVICE, "6f9619ff-8b86-d011-b42d-00cf4fc964ff", []),
    (DEVICE, "ABC-1", []),  # no UUID: as written, then as now
    (DEVICE, "00000000-0000-0000-0000-000000000000", []),  # a placeholder either way
    (IP, "2001:DB8:0:0:0:0:0:1", ["2001:db8:0:0:0:0:0:1"]),
    (IP, "::FFFF:C000:201", ["::ffff:c000:201"]),
    (IP, "2001:db8::1", []),
    (IP, "192.0.2.1", []),
    (IP, "0:0:0:0:0:0:0:0", []),  # the unspecified address: a placeholder today
    (EMAIL, "Ann Lee <MAILTO:Ann@Example.com>;", ["mailto:ann@example.com"]),
    (EMAIL, "<mailto:ann@example.com?subject=Hi>", ["mailto:ann@example.com?subject=hi"]),
    (EMAIL, "mailto:ann@example.com", []),  # a link alone was read then too
    (EMAIL, "Ann Lee <ann@example.com>", []),
    (EMAIL, "ann@example.com", []),
]


@pytest.mark.parametrize(("kind", "cell", "olds"), CELLS)
def test_legacy_forms_in_python_and_sql(kind: IdentityKind, cell: str, olds: list[str]) -> None:
    assert legacy_forms(kind, cell) == olds
    con = duckdb.connect()
    forms = sql_legacy_forms(kind, "x")
    row = con.execute(
        f"SELECT {sql_normalize(kind, 'x', MatchRules())}, {', '.join(forms)}"
        " FROM (SELECT CAST(? AS VARCHAR) AS x)",
        [cell],
    ).fetchone()
    assert row is not None and row[0] == normalize(kind, cell, MatchRules())
    assert [f for f in row[1:] if f is not None and f != row[0]] == olds


def test_a_kind_whose_form_never_changed_has_no_older_form() -> None:
    assert sql_legacy_forms(IdentityKind.USER_ID, "x") == []
    assert legacy_forms(IdentityKind.USER_ID, "U1") == []


FULL = "2001:0db8:0000:0000:0000:0000:0000:0001"


@pytest.mark.parametrize(
    ("key", "writings"),
    [
        (SubjectKey(DEVICE, UUID), [UUID.upper()]),
        (SubjectKey(IP, "192.0.2.1"), ["::ffff:192.0.2.1"]),
        (SubjectKey(IP, "2001:db8::1"), [FULL, "2001:db8:0:0:0:0:0:1"]),
        (SubjectKey(DEVICE, "abc-1"), []),
        (SubjectKey(PHONE, "+13035550101"), []),
    ],
)
def test_older_writings_are_today_s_identifier(key: SubjectKey, writings: list[str]) -> None:
    assert older_writings(key) == writings
    for writing in writings:  # each reads today as the key: the same identifier
        assert normalize(key.kind, writing, MatchRules()) == key.value
