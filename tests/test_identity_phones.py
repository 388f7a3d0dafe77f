"""Phones are matched as whole numbers, never on their last nine digits (red team 26c F1).

A Basel number +41 61 234 56 06 and a French mobile +33 6 12 34 56 06 share their last nine
digits: under the old rule `dsar access --id phone=+41612345606` handed over the French
person's account, and breach scoping told the French person of a Swiss caller's ticket. A
phone's key is now its country calling code and national number; a national writing is read
in the company's region (`phone_region`), or, without one, meets only itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from dsar.catalog import IdentityKind, load_catalog
from dsar.errors import UsageError, WorkbenchError
from dsar.subjects.identity import MatchRules, normalize
from tests.sql_keys import sql_key
from tests.test_attacks_breach import _run
from tests.test_identity_forms import CATALOG as _FORMS_CATALOG

PHONE = IdentityKind.PHONE


def _key(value: str, region: str | None = None) -> str | None:
    """The key in Python, checked against the SQL that reads the files."""
    rules = MatchRules(phone_region=region)
    key = normalize(PHONE, value, rules)
    assert sql_key(PHONE, value, rules) == key, (value, region)
    return key


@pytest.mark.parametrize("region", [None, "CH", "FR", "DE", "US", "GB"])
@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("+41 61 234 56 06", "+33 6 12 34 56 06"),  # Basel vs a French mobile
        ("+44 20 7946 0009", "+1 202 555 0107"),
        ("+41612345606", "0033612345606"),
        ("+44 20 2555 0107", "+1 (202) 555-0107"),
    ],
)
def test_numbers_of_two_countries_never_meet(one: str, other: str, region: str | None) -> None:
    assert _key(one, region) != _key(other, region)


@pytest.mark.parametrize(
    ("written", "region", "key"),
    [
        ("030 123456", "DE", "+4930123456"),
        ("+49 30 123456", None, "+4930123456"),
        ("+49 (0)30 123456", None, "+4930123456"),  # the trunk marker shown, never dialled
        ("0049 30 123456", None, "+4930123456"),
        ("\uff0b49 30 123456", None, "+4930123456"),  # a full-width plus
        ("06 1234 5678", "IT", "+390612345678"),  # Italy keeps its 0
        ("(202) 555-0107", "US", "+12025550107"),
        ("1 202 555 0107", "US", "+12025550107"),  # the US trunk prefix 1
        ("011 44 20 7946 0009", "US", "+442079460009"),  # the US international prefix
        ("0612345606", "FR", "+33612345606"),
        ("tel:+41 61 234 56 06", None, "+41612345606"),
    ],
)
def test_each_writing_of_a_number_reads_as_it(written: str, region: str | None, key: str) -> None:
    assert _key(written, region) == key


def test_without_a_region_a_national_number_meets_only_itself() -> None:
    national = _key("030 123456")
    assert national == _key("030-123-456") == "030123456"
    assert national != _key("+49 30 123456")
    assert _key("030 123456", "DE") == _key("+49 30 123456", "DE")


def test_an_unknown_region_is_refused() -> None:
    with pytest.raises(UsageError):
        MatchRules(phone_region="XX")
    assert MatchRules(phone_region="de").phone_region == "DE"


# --- end to end: the red team's x13 export -------------------------------------------------

ACCOUNTS = """\
user_id,email,phone,country
u1,ann@example.com,+33612345606,FR
u2,bob@example.com,+12025550107,US
u3,cy@example.com,+4930123456,DE
"""
TICKETS = [
    ("t1", "+41 61 234 56 06"),  # a Basel caller: same last nine digits as u1's mobile
    ("t2", "+44 20 2555 0107"),  # a London caller ending like u2's number
    ("t3", "030 123456"),  # u3's landline written nationally
]


def _x13(root: Path, region: str | None = None) -> Path:
    root.mkdir()
    (root / "accounts.csv").write_text(ACCOUNTS)
    rows = [
        {"ticket_id": t, "phone": p, "email": None, "created_at": "2026-11-02T10:00:00Z"}
        for t, p in TICKETS
    ]
    (root / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = _FORMS_CATALOG.replace(
        "      country: {type: string, category: location}",
        "      phone: {identity: phone, type: string, category: contact}\n"
        "      country: {type: string, category: location}",
    ).replace(
        "      email: {identity: email, type: string, category: contact}\n      created_at",
        "      email: {identity: email, type: string, category: contact}\n"
        "      phone: {identity: phone, type: string, category: contact}\n      created_at",
    )
    if region:
        text = text.replace("tables:\n", f"phone_region: {region}\ntables:\n", 1)
    (root / "catalog.yml").write_text(text)
    load_catalog(root / "catalog.yml")  # the fixture's catalog is valid
    return root / "catalog.yml"


def _bundle(
    catalog: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *ids: str
) -> dict[str, list[str]]:
    args = ["access", "--catalog", str(catalog), "--out", str(out), "--label", "R"]
    args += [a for i in ids for a in ("--id", i)]
    code, output = _run([*args, "--allow-empty"], monkeypatch)
    assert code == 0, output
    data = out / "R" / "data"
    return {
        p.stem: [str(v) for v in pq.read_table(p).column(0).to_pylist()]
        for p in sorted(data.glob("*.parquet"))
    }


def test_a_swiss_caller_gets_no_french_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _x13(tmp_path / "x13")
    got = _bundle(catalog, tmp_path / "out", monkeypatch, "phone=+41 61 234 56 06")
    assert "accounts" not in got  # u1's row (+33 6 12 34 56 06) is not theirs
    assert got == {"tickets": ["t1"]}  # their own ticket, nothing else
    got = _bundle(catalog, tmp_path / "out2", monkeypatch, "phone=+44 20 2555 0107")
    assert got == {"tickets": ["t2"]}  # never u2's (+1 202 555 0107)


def test_the_french_account_holder_gets_no_swiss_ticket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _x13(tmp_path / "x13")
    got = _bundle(catalog, tmp_path / "out", monkeypatch, "user_id=u1")
    assert got == {"accounts": ["u1"]}


def test_a_national_number_meets_its_account_in_the_catalogs_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _x13(tmp_path / "plain")
    assert _bundle(plain, tmp_path / "o1", monkeypatch, "user_id=u3") == {"accounts": ["u3"]}
    german = _x13(tmp_path / "de", region="DE")
    got = _bundle(german, tmp_path / "o2", monkeypatch, "user_id=u3")
    assert got == {"accounts": ["u3"], "tickets": ["t3"]}
    # the requester writes it nationally: read in the region too
    got = _bundle(german, tmp_path / "o3", monkeypatch, "phone=030 123456")
    assert got == {"accounts": ["u3"], "tickets": ["t3"]}
    # --phone-region on the command line, for a catalog without one
    args = ["access", "--catalog", str(plain), "--out", str(tmp_path / "o4"), "--label", "R"]
    code, output = _run([*args, "--id", "user_id=u3", "--phone-region", "DE"], monkeypatch)
    assert code == 0, output
    tickets = pq.read_table(tmp_path / "o4" / "R" / "data" / "tickets.parquet")
    assert tickets.column("ticket_id").to_pylist() == ["t3"]


def test_breach_scope_tells_no_stranger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _x13(tmp_path / "x13", region="DE")
    out = tmp_path / "scope"
    args = ["breach", "scope", "--catalog", str(catalog), "--table", "tickets"]
    code, output = _run(
        [*args, "--discovered", "2026-12-04T18:30Z", "--out", str(out)], monkeypatch
    )
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    holders = [p for p in people if p["account_holder"]]
    # only u3, reached through their own landline; never u1 (FR) nor u2 (US)
    assert [(p["country"], p["contact"]) for p in holders] == [("DE", "cy@example.com")]
    # F4: the two callers, known by their phone alone, are people without an account, and
    # F2: reached at their number as dialled from anywhere (E.164), never a nine-digit key
    callers = sorted((p["contact_kind"], p["contact"]) for p in people if not p["account_holder"])
    assert callers == [("phone", "+41612345606"), ("phone", "+442025550107")]
    assert "0 rows linked to no one" in output


def test_both_searches_reach_the_phone_only_callers(tmp_path: Path) -> None:
    """The set search and the per-person search (access itself) agree on the callers."""
    from dsar import open_engine
    from dsar.breach import ScopeSpec, scope_breach
    from tests.test_breach_set import _assert_same

    catalog = load_catalog(_x13(tmp_path / "x13"))
    with open_engine(catalog) as engine:
        one = scope_breach(engine, ScopeSpec(("tickets",)), method="per-person")
        many = scope_breach(engine, ScopeSpec(("tickets",)), method="set")
    _assert_same(one, many)
    reached = sorted((p.account_holder, str(p.contact)) for p in one.people)
    # no region: '030 123456' is nobody's account phone, so its caller stands alone too
    assert reached == [
        (False, "phone=+41612345606"),
        (False, "phone=+442025550107"),
        (False, "phone=030123456"),
    ]
    assert not one.not_linked


def test_a_device_alone_still_links_no_one(tmp_path: Path) -> None:
    from dsar import open_engine
    from dsar.breach import ScopeSpec, scope_breach

    root = tmp_path / "x13"
    catalog_path = _x13(root)
    text = catalog_path.read_text().replace(
        "      phone: {identity: phone, type: string, category: contact}\n      created_at",
        "      phone: {identity: device_id, type: string}\n      created_at",
    )
    catalog_path.write_text(text)
    with open_engine(load_catalog(catalog_path)) as engine:
        scope = scope_breach(engine, ScopeSpec(("tickets",)))
    assert not scope.people and scope.not_linked == {"tickets": 3}


def test_a_catalog_naming_no_known_region_is_refused(tmp_path: Path) -> None:
    catalog = _x13(tmp_path / "ok")
    bad = tmp_path / "bad.yml"
    bad.write_text(catalog.read_text().replace("tables:\n", "phone_region: Germany\ntables:\n", 1))
    with pytest.raises(WorkbenchError, match="phone_region"):
        load_catalog(bad)


# --- the identity index --------------------------------------------------------------------


def test_an_indexed_search_in_a_region_finds_the_national_writing(tmp_path: Path) -> None:
    """The index is built without a region: a phone is indexed by its key's last five digits,
    which end every writing of the number, so '030 123456' read in DE is found in it."""
    from dsar import open_engine
    from dsar.subjects.collect import collect
    from dsar.subjects.identity import SubjectRequest, parse_key
    from dsar.subjects.index import IdentityIndex
    from tests.test_index import KEYS

    catalog = load_catalog(_x13(tmp_path / "de", region="DE"))
    request = [SubjectRequest("R", (parse_key("phone=+49 30 123456"),))]
    with IdentityIndex(tmp_path / "index.db", KEYS) as index:
        with open_engine(catalog) as engine:
            index.build(catalog, engine)
        with open_engine(catalog, readers=index.readers(catalog)) as engine:
            files = index.files_for(catalog, engine)
            try:
                [person] = collect(engine, catalog, request, index=files)
            finally:
                files.close()
    found = {n: t.column(0).to_pylist() for n, t in person.tables.items()}
    assert found == {"accounts": ["u3"], "tickets": ["t3"]}


def test_an_index_built_under_the_nine_digit_rule_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from dsar.errors import KeySchemeError
    from dsar.subjects.index import IdentityIndex
    from tests.test_index import KEYS

    path = tmp_path / "index.db"
    IdentityIndex(path, KEYS).close()
    with sqlite3.connect(path) as db:  # as an index written before phones were whole
        db.execute("UPDATE meta SET value = 'index-hmac64/v2' WHERE key = 'scheme'")
    with pytest.raises(KeySchemeError):
        IdentityIndex(path, KEYS)


# --- suppression never narrower (the ledger, the sent record, audiences) -------------------


def _left_in(catalog_path: Path, ledger_path: Path) -> list[str]:
    """The accounts an extract keeps, with the ledger's people left out."""
    from dsar import open_engine
    from dsar.records.ledger import Ledger, Reason
    from tests.test_index import KEYS

    catalog = load_catalog(catalog_path)
    ledger = Ledger(ledger_path, KEYS)
    try:
        where, params = ledger.sql_excluding(
            catalog.tables["accounts"], [Reason.OBJECTED_DIRECT_MARKETING], catalog=catalog
        )
    finally:
        ledger.close()
    with open_engine(catalog) as engine:
        rows = engine.query(f"SELECT user_id FROM accounts WHERE {where} ORDER BY 1", params)
    return [str(u) for u in rows.column("user_id").to_pylist()]


@pytest.mark.parametrize(
    "objection",
    ["0612345606", "06 12 34 56 06", "+33 6 12 34 56 06", "0033612345606"],
)
def test_an_objector_is_left_out_under_any_writing_of_their_number(
    tmp_path: Path, objection: str
) -> None:
    """The French account holder objected, giving their mobile nationally or not, with no
    region set: the extract still leaves them out (a suffix match is right for leaving out)."""
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import parse_key
    from tests.test_index import KEYS

    catalog = _x13(tmp_path / "x13")
    ledger = tmp_path / "ledger.db"
    book = Ledger(ledger, KEYS)
    book.add([parse_key(f"phone={objection}")], Reason.OBJECTED_DIRECT_MARKETING, "R-1")
    book.close()
    assert _left_in(catalog, ledger) == ["u2", "u3"]


def test_a_ledger_written_under_the_nine_digit_rule_still_leaves_out(tmp_path: Path) -> None:
    from dsar.catalog import IdentityKind
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import SubjectKey
    from tests.test_index import KEYS

    catalog = _x13(tmp_path / "x13")
    ledger = tmp_path / "ledger.db"
    book = Ledger(ledger, KEYS)  # what the old rule recorded for +33 6 12 34 56 06
    legacy = SubjectKey(IdentityKind.PHONE, "612345606")
    book.add([legacy], Reason.OBJECTED_DIRECT_MARKETING, "R-1", as_found=True)
    book.close()
    assert _left_in(catalog, ledger) == ["u2", "u3"]


def test_an_erasure_replay_never_reaches_the_other_country(tmp_path: Path) -> None:
    """Finding rows to erase is exact: the Swiss caller's erasure finds their ticket only,
    never the French account sharing the last nine digits."""
    from dsar import open_engine
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import parse_key
    from tests.test_index import KEYS

    catalog = load_catalog(_x13(tmp_path / "x13"))
    book = Ledger(tmp_path / "ledger.db", KEYS)
    try:
        book.add([parse_key("phone=+41 61 234 56 06")], Reason.ERASED, "E-1")
        with open_engine(catalog) as engine:
            [found] = book.find_in_export(catalog, engine)
    finally:
        book.close()
    assert [k.value for k in found.keys] == ["+41612345606"]


def test_the_sent_record_finds_an_upload_recorded_under_the_nine_digit_rule(
    tmp_path: Path,
) -> None:
    from dsar.catalog import IdentityKind
    from dsar.records.sent import SentRecord
    from dsar.subjects.identity import SubjectKey, parse_key
    from tests.test_index import KEYS

    record = SentRecord(tmp_path / "sent.db", KEYS)
    try:
        # an upload recorded under the nine-digit rule (+33 6 12 34 56 06 as 612345606)
        record.record("meta", "a1", "r1", [("612345606", "h")], IdentityKind.PHONE)
        held = record.holding_any([parse_key("phone=+33 6 12 34 56 06")])
        assert held == [("meta", "a1")]
        assert record.holding_any([SubjectKey(IdentityKind.PHONE, "+41612345606")]) == [
            ("meta", "a1")
        ]  # a suffix withdraws too: in doubt, the upload goes
    finally:
        record.close()


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    value=st.text(alphabet="0123456789 +-()\uff0bx", max_size=18),
    region=st.sampled_from([None, "DE", "US", "IT", "AU", "HU"]),
)
def test_dsar_verify_restates_the_phone_rule(value: str, region: str | None) -> None:
    """A bundle's own check reads the person's phones by the rule its manifest states
    (`dsar.review.bundle._norm`, apart from the engine's code): the same key, or a phone of
    the person's own would be called someone else's and the bundle set aside."""
    from dsar.review.bundle import _norm
    from dsar.review.manifest import MatchRulesInfo

    info = MatchRulesInfo(gmail_dots=False, plus_addressing=False, phone_region=region)
    assert _norm("phone", value, info) == _key(value, region)
    for filler in ("1111111", "+41 00000000", "0000000"):  # no one's number, on both sides
        assert _norm("phone", filler, info) == _key(filler, region)
