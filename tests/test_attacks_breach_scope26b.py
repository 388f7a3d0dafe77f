"""Attacks on `dsar breach scope` from issue 26's second red team (26b): compact times,
open-ended windows, EU establishment read from the authority, EU territories coded apart,
personal values in --what/--measures.

Each test rebuilds the attack on the small hand-made export of test_attacks_breach.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_attacks_breach import _affected, _lab, _manifest, _people, _rules, _run, _scope


def _times(catalog: Path, times: list[str]) -> None:
    """The lab's web logs as text: u1, u2, ... each with one line at `times[i]`."""
    catalog.write_text(catalog.read_text().replace("ts: {type: timestamp}", "ts: {type: string}"))
    with (catalog.parent / "web_logs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "user_id"])
        for i, ts in enumerate(times, 1):
            w.writerow([ts, f"u{i}"])


# --- F4: compact YYYYMMDDhhmm[ss] times, and times no export can hold -------------------


def test_compact_text_times_are_read_as_clock_times_and_future_ones_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 7)
    _times(
        catalog,
        [
            "20261105103000",  # 5 Nov 10:30: in (was epoch ms, the year 2612: dropped)
            "202611051030",  # 5 Nov 10:30: in
            "20261025103000",  # 25 Oct: out
            "2612-11-05T10:00:00Z",  # centuries after this run: kept, undetermined
            "-1793869200",  # a negative epoch (before 1970): kept, undetermined
            "20261105103000.0",  # a float's text: in
            "1793869200000",  # epoch ms, 5 Nov: in
        ],
    )
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert _people(tmp_path / "BR") == [f"p{i}@example.com" for i in (1, 2, 4, 5, 6, 7)]
    assert _manifest(tmp_path / "BR")["counts"]["time_undetermined"] == {"web_logs": 2}  # type: ignore[index]
    assert "cannot be read (1)" in output and "after this run (1)" in output


def test_compact_number_times_in_parquet_are_read_and_future_epochs_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    catalog = _lab(tmp_path / "lab", [("NL", "")] * 7)
    numbers = [
        20261105103000,  # compact, 5 Nov: in
        202611051030,  # compact, 5 Nov: in
        20261025103000,  # compact, 25 Oct: out
        90000000000000,  # epoch ms in the year 4822 (no valid compact time): kept
        -1793869200,  # before 1970: kept
        1793869200000,  # epoch ms, 5 Nov: in
        1736071200000,  # epoch ms, Jan 2025: out
    ]
    pq.write_table(
        pa.table({"ts": pa.array(numbers, pa.int64()), "user_id": [f"u{i}" for i in range(1, 8)]}),
        catalog.parent / "web_logs.parquet",
    )
    (catalog.parent / "web_logs.csv").unlink()
    text = catalog.read_text().replace(
        "path: web_logs.csv\n    format: csv", "path: web_logs.parquet\n    format: parquet"
    )
    catalog.write_text(text.replace("ts: {type: timestamp}", "ts: {description: a time}"))
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert _people(tmp_path / "BR") == [f"p{i}@example.com" for i in (1, 2, 4, 5, 6)]
    assert _manifest(tmp_path / "BR")["counts"]["time_undetermined"] == {"web_logs": 2}  # type: ignore[index]


def test_a_typed_timestamp_in_the_far_future_is_kept_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    times = [dt.datetime(2026, 11, 5, 10), dt.datetime(2612, 11, 5), dt.datetime(2026, 10, 5)]
    pq.write_table(
        pa.table({"ts": pa.array(times, pa.timestamp("us")), "user_id": ["u1", "u2", "u3"]}),
        catalog.parent / "web_logs.parquet",
    )
    (catalog.parent / "web_logs.csv").unlink()
    text = catalog.read_text().replace(
        "path: web_logs.csv\n    format: csv", "path: web_logs.parquet\n    format: parquet"
    )
    catalog.write_text(text)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert _people(tmp_path / "BR") == ["p1@example.com", "p2@example.com"]
    assert _manifest(tmp_path / "BR")["counts"]["time_undetermined"] == {"web_logs": 1}  # type: ignore[index]


# --- F10: open-ended windows at the calendar's ends ------------------------------------


@pytest.mark.parametrize(
    "window",
    [
        ["--to", "9999-12-31"],
        ["--from", "0001-01-01"],
        ["--from", "0001-01-01", "--to", "9999-12-31"],
        ["--to", "9999-12-31T23:59:59.999999"],
    ],
)
@pytest.mark.parametrize("kind", ["timestamp", "string"])
def test_a_window_at_the_calendars_ends_is_open_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: list[str], kind: str
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    catalog.write_text(
        catalog.read_text().replace("ts: {type: timestamp}", f"ts: {{type: {kind}}}")
    )
    args = [
        "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
        "--discovered", "2026-11-20T10:00Z", "--out", str(tmp_path / "BR"), *window,
    ]  # fmt: skip
    code, output = _run(args, monkeypatch)
    assert code == 0, output
    assert _people(tmp_path / "BR") == ["p1@example.com", "p2@example.com"]


def test_a_from_before_the_calendar_is_refused_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    args = [
        "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
        "--from", "0001-01-01T00:00:00+05:00",
        "--discovered", "2026-11-20T10:00Z", "--out", str(tmp_path / "BR"),
    ]  # fmt: skip
    code, output = _run(args, monkeypatch)
    assert code == 1 and "--from lies outside the calendar" in output


# --- F12: an EU/EEA or UK controller named by an authority the tool did not know ---------


@pytest.mark.parametrize(
    ("authority", "rule"),
    [
        ("Berliner Beauftragte für Datenschutz und Informationsfreiheit", "gdpr-authority"),
        ("Datatilsynet", "gdpr-authority"),
        ("https://www.dataprotection.ie", "gdpr-authority"),
        ("ico.org.uk", "uk-authority"),
        ("Österreichische Datenschutzbehörde", "gdpr-authority"),
    ],
)
def test_an_eu_or_uk_authority_in_its_own_words_keeps_the_gdpr_rows(
    authority: str, rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "CO")] * 2, authority=authority)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--malicious")
    assert code == 0, output
    rules = _rules(tmp_path / "BR")
    assert rules[rule]["people"] == 2 and rules[rule]["due"]
    assert rules[rule.replace("authority", "register")]["applies"] == "yes"
    assert "WARNING: where the company is established" not in output


def test_a_swiss_authority_is_no_eu_establishment() -> None:
    from dsar.breach.places import authority_country

    assert authority_country("Eidgenössischer Datenschutz- und Öffentlichkeitsbeauftragter") == "CH"


def test_an_establishment_that_cannot_be_read_is_said_on_the_console_and_in_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "CO")] * 2, authority="Some Regulator")
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    assert "WARNING: where the company is established could not be read" in output
    report = (tmp_path / "BR" / "regulator-report.md").read_text()
    assert "WARNING: where the company is established could not be read" in report
    # stated, the warning goes
    code, output = _scope(catalog, tmp_path / "BR2", monkeypatch, "--established", "none")
    assert code == 0 and "where the company is established" not in output


# --- F5: EU territory coded apart, EL, ISO short names ----------------------------------


@pytest.mark.parametrize(
    "cell",
    ["RE", "Réunion", "GP", "MQ", "GF", "Guyane", "YT", "MF", "AX", "Åland", "EL", "Canarias"],
)
def test_people_in_eu_territory_coded_apart_get_the_gdpr_deadline(
    cell: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [(cell, "")] * 2)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, "--established", "none")
    assert code == 0, output
    rules = _rules(tmp_path / "BR")
    assert rules["gdpr-authority"]["people"] == 2 and rules["gdpr-authority"]["due"]
    assert not [r for r in rules if r.startswith("not-covered")]


@pytest.mark.parametrize(
    ("cell", "code"),
    [("Korea, Republic of", "KR"), ("EL", "GR"), ("Iran, Islamic Republic of", "IR")],
)
def test_iso_short_names_and_the_eu_code_for_greece_are_read(cell: str, code: str) -> None:
    from dsar.breach.places import country_code

    assert country_code(cell) == code


# --- F1: personal values in --what / --measures, copied into every letter ---------------


@pytest.mark.parametrize(
    ("option", "text", "secret"),
    [
        ("--what", "The laptop of Bob (bob@example.com) was stolen", "bob@example"),
        ("--what", "Bob's laptop, IBAN NL91ABNA0417164300, was stolen", "NL91ABNA"),
        ("--measures", "We called Alice at +31611111111", "31611111111"),
        ("--measures", "We wrote to ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｂｏｂ"),  # noqa: RUF001
        ("--what", "Card 4111 1111 1111 1111 was used", "4111"),
    ],
)
def test_a_personal_value_in_what_or_measures_is_refused_never_echoed(
    option: str, text: str, secret: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, option, text)
    assert code == 1
    assert f"{option} holds what reads as personal data" in output
    assert secret not in output
    assert not (tmp_path / "BR").exists()


def test_plain_what_and_measures_go_into_the_letters_as_sentences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    code, output = _scope(
        catalog,
        tmp_path / "BR",
        monkeypatch,
        "--what",
        "A laptop with 2 exports of 2026 was stolen",
        "--measures",
        "We wiped it remotely",
    )
    assert code == 0, output
    letters = sorted((tmp_path / "BR" / "letters").glob("*.md"))
    assert letters
    for letter in letters:
        body = letter.read_text()
        assert "A laptop with 2 exports of 2026 was stolen. We found out" in body
        assert "We wiped it remotely." in body


# --- F1 (F8): an account holder's own phone in a leaked row ------------------------------

PHONES = """\
  tickets:
    path: tickets.jsonl
    format: jsonl
    description: Tickets.
    category: communications
    origin: provided
    purposes: [support]
    legal_basis: contract
    source: the person
    retention: {period: 3 years, after: created_at}
    erasure: {action: delete}
    primary_key: [ticket_id]
    columns:
      ticket_id: {type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      email: {identity: email, type: string, category: contact}
      phone: {identity: phone, type: string, category: contact}
      created_at: {type: timestamp}
"""


def _phone_lab(root: Path, tickets: list[dict[str, str | None]]) -> Path:
    """Accounts u1..u4 (NL, DE, FR, BE) with a phone each, u1 and u2 sharing a landline."""
    import json

    catalog = _lab(root, [("NL", ""), ("DE", ""), ("FR", ""), ("BE", "")])
    text = catalog.read_text().replace(
        "      email: {identity: email, type: string, category: contact}\n      country:",
        "      email: {identity: email, type: string, category: contact}\n"
        "      phone: {identity: phone, type: string, category: contact}\n      country:",
        1,
    )
    # a Dutch company: the landline written locally (0200000001) is +31 20 000 0001 (a phone
    # is matched whole since red team 26c F1; a national writing is read in phone_region)
    text = text.replace("tables:\n", "phone_region: NL\ntables:\n", 1)
    catalog.write_text(text + PHONES)
    phones = ["+31200000001", "+31200000001", "+31200000003", "+31200000004"]
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "customer_id", "email", "phone", "country", "state", "created_at"])
        for i, (phone, country) in enumerate(zip(phones, ["NL", "DE", "FR", "BE"], strict=True), 1):
            w.writerow([f"u{i}", f"c{i}", f"p{i}@example.com", phone, country, "", "2025-01-01"])
    with (root / "tickets.jsonl").open("w") as f:
        for i, row in enumerate(tickets, 1):
            full = {"ticket_id": f"T{i}", "user_id": None, "email": None, "phone": None}
            f.write(json.dumps(full | row | {"created_at": "2026-11-05T10:00:00Z"}) + "\n")
    return catalog


def test_a_shared_landline_in_a_leaked_row_reaches_both_account_holders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _phone_lab(tmp_path / "lab", [{"phone": "+31 20 000 0001"}])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="tickets")
    assert code == 0, output
    assert "2 people (2 account holders" in output and "0 rows linked to no one" in output
    assert "2 account holder(s) reached only through a weak or shared identifier" in output
    assert "DE 1, NL 1" in output and "+31" not in output and "@" not in output
    counts = _manifest(tmp_path / "BR")["counts"]
    assert isinstance(counts, dict)
    assert counts["reached_by_weak_identifier"] == 2
    assert counts["rows_to_several_accounts"] == {"tickets": 1}
    assert sorted(str(p["country"]) for p in _affected(tmp_path / "BR")) == ["DE", "NL"]
    assert len(list((tmp_path / "BR" / "letters").glob("*.md"))) == 2


def test_a_requesters_ticket_giving_an_accounts_phone_reaches_that_account_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _phone_lab(tmp_path / "lab", [{"email": "req@example.net", "phone": "+31200000004"}])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="tickets")
    assert code == 0, output
    assert "2 people (1 account holders, 1 without an account)" in output
    contacts = sorted(str(p["contact"]) for p in _affected(tmp_path / "BR"))
    assert contacts == ["p4@example.com", "req@example.net"]
    assert _manifest(tmp_path / "BR")["counts"]["reached_by_weak_identifier"] == 1  # type: ignore[index]


def test_an_account_reached_by_its_id_and_its_phone_is_one_person_and_searches_agree(
    tmp_path: Path,
) -> None:
    from dsar.breach import ScopeSpec, Window, scope_breach
    from dsar.catalog.loader import load_catalog
    from dsar.engine import open_engine

    catalog = _phone_lab(
        tmp_path / "lab",
        [
            {"user_id": "u3", "phone": "+31200000003"},  # one's own id and phone: one person
            {"phone": "0200000001"},  # the shared landline, written locally
            {"email": "req@example.net", "phone": "+31200000004"},
            {"phone": "+31299999999"},  # no account's phone: no one
        ],
    )
    spec = ScopeSpec(("tickets",), window=Window.parse("2026-11-01", "2026-11-14"))
    found = []
    with open_engine(load_catalog(catalog), "duckdb") as engine:
        for method in ("per-person", "set"):
            s = scope_breach(engine, spec, method=method)
            people = [
                (p.number, sorted(map(str, p.keys)), p.rows, str(p.contact), p.country)
                for p in s.people
            ]
            found.append((people, s.several_accounts, s.not_linked, s.weak_only))
    assert found[0] == found[1]
    people, several, not_linked, weak_only = found[0]
    assert sorted(p[3] for p in people) == [
        "email=p1@example.com",
        "email=p2@example.com",
        "email=p3@example.com",
        "email=p4@example.com",
        "email=req@example.net",
    ]
    assert all(p[2] == {"tickets": 1} for p in people)
    assert several == {"tickets": 1} and not_linked == {"tickets": 1} and weak_only == 3


def test_access_still_does_not_hand_a_row_on_a_shared_phone(tmp_path: Path) -> None:
    from dsar.catalog.loader import load_catalog
    from dsar.catalog.models import IdentityKind
    from dsar.engine import open_engine
    from dsar.subjects.collect import collect
    from dsar.subjects.identity import MatchRules, SubjectRequest, make_key

    catalog = _phone_lab(tmp_path / "lab", [{"phone": "+31200000001"}])
    request = SubjectRequest("R", (make_key(IdentityKind.USER_ID, "u1"),))
    with open_engine(load_catalog(catalog), "duckdb") as engine:
        (data,) = collect(engine, engine.catalog, [request], MatchRules())
    assert "tickets" not in data.tables or data.tables["tickets"].num_rows == 0


# --- F14: a child row whose parent is missing ---------------------------------------------

ORDERS = """\
  orders:
    path: orders.csv
    format: csv
    description: Orders.
    category: billing
    origin: provided
    purposes: [billing]
    legal_basis: contract
    source: the person
    retention: {period: 7 years, after: ordered_at}
    erasure: {action: delete}
    primary_key: [order_id]
    columns:
      order_id: {type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      ordered_at: {type: timestamp}
  order_lines:
    path: order_lines.csv
    format: csv
    description: Order lines.
    category: billing
    origin: provided
    purposes: [billing]
    legal_basis: contract
    source: the person
    retention: {criteria: with the order}
    erasure: {action: delete}
    primary_key: [line_id]
    owned_through: {column: order_id, parent: orders.order_id}
    columns:
      line_id: {type: string}
      order_id: {type: string}
      item: {type: string}
"""


def test_an_order_line_of_a_missing_order_is_kept_and_linked_to_no_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", ""), ("DE", "")])
    catalog.write_text(catalog.read_text() + ORDERS)
    (catalog.parent / "orders.csv").write_text(
        "order_id,user_id,ordered_at\no1,u1,2026-11-05 10:00:00\no2,u2,2026-10-05 10:00:00\n"
    )
    (catalog.parent / "order_lines.csv").write_text(
        "line_id,order_id,item\nl1,o1,a\nl2,o2,b\nl3,o99,c\nl4,,d\n"  # l3, l4: no order
    )
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="order_lines")
    assert code == 0, output
    assert "1 people (1 account holders" in output and "3 rows in 1 table(s)" in output
    assert "2 rows linked to no one" in output and "(parent missing)" in output
    counts = _manifest(tmp_path / "BR")["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"order_lines": 3}
    assert counts["not_linked"] == {"order_lines": 2}
    assert counts["orphans_parent_missing"] == {"order_lines": 2}
    # a condition on the line applies to the orphans too
    code, output = _scope(
        catalog, tmp_path / "BR2", monkeypatch, "--where", "item = c", table="order_lines"
    )
    assert code == 0, output
    assert _manifest(tmp_path / "BR2")["counts"]["orphans_parent_missing"] == {"order_lines": 1}  # type: ignore[index]


# --- F10 (F7): a breach of data held for customers names the customers to tell ----------


def test_a_processor_breach_counts_end_users_per_customer_and_lists_the_customers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import pyarrow.parquet as pq

    catalog = _lab(tmp_path / "lab", [("NL", ""), ("DE", ""), ("FR", "")])
    with (catalog.parent / "end_users.csv").open("a", newline="") as f:
        csv.writer(f).writerow(["e9", "c1", "end0@apps.example", "2026-11-06 10:00:00"])
    code, output = _scope(catalog, tmp_path / "BR", monkeypatch, table="end_users")
    assert code == 0, output
    assert "no one reached" not in output
    assert "6 end user(s) of 3 customer(s) reached" in output and "@" not in output
    report = (tmp_path / "BR" / "regulator-report.md").read_text()
    assert "6 end users of 3 customers" in report
    held = _manifest(tmp_path / "BR")["counts"]["held_for_customers"]["end_users"]  # type: ignore[index]
    assert held["customers"] == 3 and held["rows"] == 7 and held["end_users"] == 6
    per = held["per_customer"]
    assert sorted((p["end_users"], p["rows"]) for p in per) == [(2, 2), (2, 2), (2, 3)]
    assert all(p["customer"].startswith("customer:") and "c1" not in p["customer"] for p in per)
    path = tmp_path / "BR" / "controllers.parquet"
    assert os.stat(path).st_mode & 0o777 == 0o600
    listed = pq.read_table(path).to_pylist()
    assert sorted((r["customer"], r["end_users"], r["rows"]) for r in listed) == [
        ("c1", 2, 3),
        ("c2", 2, 2),
        ("c3", 2, 2),
    ]
    assert {r["customer_ref"] for r in listed} == {p["customer"] for p in per}
