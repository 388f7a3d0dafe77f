"""Red team (access, session 13), findings 1, 4, 6, 7 (and 8): who a person is.

- F1 (critical): a placeholder in a strong identity column (`user_id = none` or `0` on guest
  tickets) joined strangers: one guest got every other guest's tickets, and Dan's account
  through them; erasure deleted them.
- F7: a placeholder in a weak column (a customer's phone `0000000000`, also the withheld-caller
  value in call logs) gave every withheld caller's rows to that customer.
- F4: an anonymous row holding the requester's device and another person's cookie went to
  both people and was erased with the requester.
- F6: emails equal under NFC, or differing only by a final sigma, did not meet; F8: the
  bundle's own check read ß, a dotless i and a zero-width character otherwise than the search
  and rejected the person's own bundle.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from dsar import (
    SubjectRequest,
    answer_access_requests,
    load_catalog,
    open_engine,
    parse_key,
    plan_erasure,
    verify_bundle,
)
from dsar.access.bundle import AccessBundle
from dsar.catalog.models import IdentityKind
from dsar.errors import IdentifierError
from dsar.keys import Keys
from dsar.subjects.identity import MatchRules, normalize, sql_normalize

KEYS = Keys(b"k" * 40)
CONTROLLER = {
    "name": "Acme B.V.",
    "contact": "privacy@acme.example",
    "dpo": "dpo@acme.example",
    "supervisory_authority": "Autoriteit Persoonsgegevens (Netherlands)",
    "automated_decisions": "No decisions are made solely by automated means.",
}


def _table(path: str, columns: dict[str, object], **extra: object) -> dict[str, object]:
    return {
        "path": path,
        "format": "csv",
        "description": "rows",
        "category": "account",
        "origin": "provided",
        "purposes": ["provide the service"],
        "legal_basis": "contract",
        "source": "the person",
        "retention": {"criteria": "while the account is open"},
        "erasure": {"action": "delete"},
        "columns": columns,
        **extra,
    }


def _write(root: Path, files: dict[str, str], tables: dict[str, object]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    catalog = root / "catalog.yml"
    catalog.write_text(yaml.safe_dump({"version": 1, "controller": CONTROLLER, "tables": tables}))
    return catalog


def _ident(kind: str, **more: object) -> dict[str, object]:
    return {"identity": kind, "type": "string", **more}


ACCOUNTS = _table(
    "accounts.csv",
    {
        "user_id": _ident("user_id"),
        "email": _ident("email"),
        "phone": _ident("phone"),
        "full_name": {"personal": "name", "type": "string"},
    },
    primary_key=["user_id"],
)
STRANGERS = "".join(f"x{i},x{i}@example.net,,Xavier {i}\n" for i in range(40))


def _bundle(catalog: Path, out: Path, *keys: str) -> AccessBundle:
    request = SubjectRequest("AR-1", tuple(parse_key(k) for k in keys))
    [bundle] = answer_access_requests(load_catalog(catalog), [request], out, keys=KEYS)
    return bundle


def _rows(bundle: AccessBundle, table: str) -> list[object]:
    path = bundle.path / "data" / f"{table}.parquet"
    return pq.read_table(path).column(0).to_pylist() if path.is_file() else []


def _plan(catalog: Path, key: str) -> dict[str, tuple[int, int]]:
    cat = load_catalog(catalog)
    request = SubjectRequest("ER-1", (parse_key(key),))
    with open_engine(cat) as engine:
        plan = plan_erasure(cat, engine, request, keys=KEYS, today=date(2026, 12, 7))
    return {a.table: (a.to_change, a.unlinked) for a in plan.actions}


# ---- F1: placeholders in a strong column ------------------------------------------------


@pytest.fixture(
    params=[
        "none",
        "0",
        "N/A",
        "\uff2e\uff2f\uff2e\uff25",
        "0000000000",
        " null ",
        "Keine",
        "\u041d\u0415\u0422",
    ]
)
def guest_tickets(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """t04/t04b: Alice has an account and once wrote as a guest; two guests and Dan (who has
    an account) wrote as guests too, the helpdesk typing the same placeholder for each."""
    ph = request.param
    return _write(
        tmp_path / "export",
        {
            "accounts.csv": "user_id,email,phone,full_name\n"
            "u1,alice@example.com,,Alice Ant\nu4,dan@example.com,,Dan Dee\n" + STRANGERS,
            "tickets.csv": "ticket_id,user_id,requester_email,subject\n"
            "t1,u1,alice@example.com,my order\n"
            f'g0,"{ph}",alice@example.com,wrote as a guest\n'
            f'g1,"{ph}",guest1@example.org,my home address is 1 Elm St\n'
            f'g2,"{ph}",guest2@example.org,my bank is ING\n'
            f'g4,"{ph}",dan@example.com,dan as a guest\n'
            + "".join(f"k{i},x{i},x{i}@example.net,hi\n" for i in range(40)),
        },
        {
            "accounts": ACCOUNTS,
            "tickets": _table(
                "tickets.csv",
                {
                    "ticket_id": {"type": "string"},
                    "user_id": _ident("user_id", references="accounts.user_id"),
                    "requester_email": _ident("email"),
                    "subject": {"type": "string"},
                },
                primary_key=["ticket_id"],
            ),
        },
    )


def test_f1_a_placeholder_user_id_joins_no_guests(guest_tickets: Path, tmp_path: Path) -> None:
    guest = _bundle(guest_tickets, tmp_path / "g1", "email=guest1@example.org")
    assert _rows(guest, "tickets") == ["g1"]
    assert guest.subject.identity.values(IdentityKind.USER_ID) == set()
    assert _plan(guest_tickets, "email=guest1@example.org") == {"tickets": (1, 0)}


def test_f1_alice_gets_her_guest_ticket_but_not_dans_account(
    guest_tickets: Path, tmp_path: Path
) -> None:
    alice = _bundle(guest_tickets, tmp_path / "a", "email=alice@example.com")
    assert _rows(alice, "accounts") == ["u1"]
    assert _rows(alice, "tickets") == ["g0", "t1"]
    assert alice.subject.identity.values(IdentityKind.USER_ID) == {"u1"}
    assert verify_bundle(alice.path, keys=KEYS).ok
    plan = _plan(guest_tickets, "email=alice@example.com")
    assert plan == {"accounts": (1, 0), "tickets": (2, 0)}  # not Dan's account, no guest's


@pytest.mark.parametrize("given", ["user_id=none", "user_id=0", "user_id=N/A", "email=none@x.org"])
def test_f1_a_request_for_a_placeholder_is_refused(given: str) -> None:
    with pytest.raises(IdentifierError):
        parse_key(given)


# ---- F7: placeholders in a weak column --------------------------------------------------


def test_f7_a_phone_of_zeros_is_nobodys(tmp_path: Path) -> None:
    """t11: Bob typed 0000000000 at sign-up; the call log writes it for withheld callers."""
    catalog = _write(
        tmp_path / "export",
        {
            "accounts.csv": "user_id,email,phone,full_name\n"
            "u1,alice@example.com,+41 61 234 56 06,Alice Ant\n"
            "u2,bob@example.com,0000000000,Bob Bee\n" + STRANGERS,
            "calls.csv": "call_id,caller,device_id,note\n"
            "k01,+41 61 234 56 06,d1,alice called\n"
            "k08,0000000000,00000000-0000-0000-0000-000000000000,withheld: a stranger\n"
            "k09,000 000 0000,dz,withheld: another stranger\n",
            "app.csv": "event_id,user_id,device_id\n"
            "e1,u2,00000000-0000-0000-0000-000000000000\ne2,,00000000-0000-0000-0000-000000000000\n",
        },
        {
            "accounts": ACCOUNTS,
            "calls": _table(
                "calls.csv",
                {
                    "call_id": {"type": "string"},
                    "caller": _ident("phone"),
                    "device_id": _ident("device_id"),
                    "note": {"type": "string"},
                },
                primary_key=["call_id"],
            ),
            "app": _table(
                "app.csv",
                {
                    "event_id": {"type": "string"},
                    "user_id": _ident("user_id", references="accounts.user_id"),
                    "device_id": _ident("device_id"),
                },
                primary_key=["event_id"],
            ),
        },
    )
    bob = _bundle(catalog, tmp_path / "bob", "user_id=u2")
    assert _rows(bob, "calls") == []
    assert _rows(bob, "app") == ["e1"]  # his own event; not the anonymous one on the zero id
    assert bob.subject.identity.values(IdentityKind.PHONE) == set()
    assert bob.subject.identity.values(IdentityKind.DEVICE_ID) == set()
    # his own row's 0000000000 is no one's number, not another person's: the bundle is sent
    assert not bob.rejected, bob.findings
    assert verify_bundle(bob.path, keys=KEYS).ok
    assert _plan(catalog, "user_id=u2") == {"accounts": (1, 0), "app": (1, 0)}
    alice = _bundle(catalog, tmp_path / "alice", "user_id=u1")
    assert _rows(alice, "calls") == ["k01"]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        *[(IdentityKind.USER_ID, v) for v in ("none", "NULL", "nil", "n/a", "NA", "-", "--")],
        *[(IdentityKind.CUSTOMER_ID, v) for v in ("?", "0", "00", "xxxxxx", "Unknown", "")],
        *[(IdentityKind.USERNAME, v) for v in ("undefined", "Guest", "ANONYMOUS", "test")],
        # 'none' as a form in another language writes it (the draft reads them alike)
        *[(IdentityKind.USER_ID, v) for v in ("Keine", "AUCUN", "ninguno", "Geen", "brak")],
        *[
            (IdentityKind.CUSTOMER_ID, v)
            for v in ("なし", "无", "없음", "\u041d\u0435\u0442", "ei mitään")
        ],
        *[(IdentityKind.COOKIE_ID, v) for v in ("\uff4e\uff55\uff4c\uff4c", " \u200b ", "999999")],
        *[(IdentityKind.EMAIL, v) for v in ("none", "n/a@", "NONE@example.com", "noreply@x.io")],
        *[(IdentityKind.PHONE, v) for v in ("0000000000", "1111111", "+41 00 000 00 00")],
    ],
)
def test_f1_f7_placeholders_normalise_to_nothing_in_python_and_sql(
    kind: IdentityKind, value: str
) -> None:
    rules = MatchRules()
    assert normalize(kind, value, rules) is None
    sql = f"SELECT {sql_normalize(kind, 'v', rules)} FROM (SELECT ?::VARCHAR AS v)"
    assert duckdb.connect().execute(sql, [value]).fetchone() == (None,)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (IdentityKind.USER_ID, "7"),
        (IdentityKind.USER_ID, "11"),
        (IdentityKind.USER_ID, "777"),
        (IdentityKind.USER_ID, "x0"),
        (IdentityKind.USER_ID, "Xk9aB"),
        (IdentityKind.USERNAME, "keine_ahnung"),
        (IdentityKind.EMAIL, "na@example.com"),  # initials, not 'n/a'
        (IdentityKind.PHONE, "+41 61 234 56 06"),
    ],
)
def test_real_identifiers_that_look_short_still_match(kind: IdentityKind, value: str) -> None:
    assert normalize(kind, value, MatchRules()) is not None


# ---- F4: a weak-only row holding someone else's identifier ------------------------------


@pytest.fixture
def cookie_beside_device(tmp_path: Path) -> Path:
    """t05: row 9 is anonymous, with Alice's device dev_c and Bob's cookie ck_bob (row 10 is
    Bob's, with ck_bob); rows 6 and 7 put one cookie on Alice's device and on Bob's."""
    return _write(
        tmp_path / "export",
        {
            "accounts.csv": "user_id,email,phone,full_name\n"
            "u1,alice@example.com,,Alice Ant\nu2,bob@example.com,,Bob Bee\n" + STRANGERS,
            "events.csv": "event_id,user_id,device_id,cookie_id\n"
            "1,u1,dev_a,\n4,u1,dev_m,\n5,u1,dev_c,\n6,,dev_a,ck_x\n7,,dev_b,ck_x\n"
            "8,u2,dev_b,\n9,,dev_c,ck_bob\n10,u2,,ck_bob\n11,,dev_m,ck_m\n12,,dev_m,\n",
        },
        {
            "accounts": ACCOUNTS,
            "events": _table(
                "events.csv",
                {
                    "event_id": {"type": "integer"},
                    "user_id": _ident("user_id", references="accounts.user_id"),
                    "device_id": _ident("device_id"),
                    "cookie_id": _ident("cookie_id"),
                },
                primary_key=["event_id"],
                category="usage",
            ),
        },
    )


def test_f4_a_row_with_alices_device_and_bobs_cookie_goes_to_neither(
    cookie_beside_device: Path, tmp_path: Path
) -> None:
    alice = _bundle(cookie_beside_device, tmp_path / "a", "user_id=u1")
    bob = _bundle(cookie_beside_device, tmp_path / "b", "user_id=u2")
    # 11 (dev_m with a cookie seen nowhere else) and 12 are Alice's alone
    assert _rows(alice, "events") == [1, 4, 5, 11, 12]
    assert _rows(bob, "events") == [8, 10]
    assert alice.subject.set_aside == {"events": 2}  # 6 (ck_x is on Bob's device too) and 9
    assert bob.subject.set_aside == {"events": 2}  # 7 and 9
    assert verify_bundle(alice.path, keys=KEYS).ok and verify_bundle(bob.path, keys=KEYS).ok


def test_f4_erasure_unlinks_the_row_rather_than_deleting_it(cookie_beside_device: Path) -> None:
    # Alice's own rows 1, 4, 5, 11, 12 deleted; 6 and 9 keep Bob's side, her device emptied
    assert _plan(cookie_beside_device, "user_id=u1") == {"accounts": (1, 0), "events": (5, 2)}


# ---- F6 and F8: one address under NFC, a final sigma; the bundle's check agrees ---------


@pytest.fixture
def unicode_addresses(tmp_path: Path) -> Path:
    """t01: each account's address is written otherwise on its ticket."""
    people = [
        ("u1", "ΟΔΟΣ@example.gr", "οδος@example.gr"),  # the final sigma, written correctly
        ("u5", "jose\u0301@example.com", "jos\u00e9@example.com"),  # NFD and NFC
        ("u4", "straße@example.de", "STRAẞE@example.de"),
        ("u6", "\u0131van@example.com", "\u0131van@example.com"),  # a dotless i
        ("u2", "\u0130NC\u0130@example.com", "inci@example.com"),  # a dotted capital I
        ("u7", "ivan@example.com", "IVAN@example.com"),
        ("u9", "alice@example.com", "ali\u200bce@example.com"),  # a zero-width space
        ("u3", "strasse@example.de", "strasse@example.de"),
    ]
    return _write(
        tmp_path / "export",
        {
            "accounts.csv": "user_id,email,phone,full_name\n"
            + "".join(f"{u},{a},,Person {u}\n" for u, a, _ in people)
            + STRANGERS,
            "tickets.csv": "ticket_id,requester_email,body\n"
            + "".join(f"t{u},{t},hello\n" for u, _, t in people),
        },
        {
            "accounts": ACCOUNTS,
            "tickets": _table(
                "tickets.csv",
                {
                    "ticket_id": {"type": "string"},
                    "requester_email": _ident("email"),
                    "body": {"type": "string"},
                },
                primary_key=["ticket_id"],
                category="communications",
            ),
        },
    )


@pytest.mark.parametrize(
    "key",
    [
        "user_id=u1",
        "email=οδος@example.gr",
        "email=ΟΔΟΣ@example.gr",
        "user_id=u5",
        "email=jos\u00e9@example.com",
        "email=jose\u0301@example.com",
    ],
)
def test_f6_one_address_under_nfc_or_a_final_sigma_meets(
    unicode_addresses: Path, tmp_path: Path, key: str
) -> None:
    bundle = _bundle(unicode_addresses, tmp_path / "out", key)
    assert len(_rows(bundle, "accounts")) == 1 and len(_rows(bundle, "tickets")) == 1
    assert _rows(bundle, "tickets") == ["t" + _rows(bundle, "accounts")[0]]  # type: ignore[operator]
    assert verify_bundle(bundle.path, keys=KEYS).ok
    assert _plan(unicode_addresses, key) == {"accounts": (1, 0), "tickets": (1, 0)}


@pytest.mark.parametrize("user", ["u4", "u6", "u7", "u9", "u3", "u2"])
def test_f8_the_bundle_check_reads_cells_as_the_search_does(
    unicode_addresses: Path, tmp_path: Path, user: str
) -> None:
    bundle = _bundle(unicode_addresses, tmp_path / "out", f"user_id={user}")
    assert _rows(bundle, "tickets") == [f"t{user}"]  # straße is not strasse, a dotless i no i
    assert not bundle.rejected, bundle.findings
    assert verify_bundle(bundle.path, keys=KEYS).ok


# ---- catalog check: placeholders and values beside several accounts, counted ------------


def test_f1_catalog_check_counts_placeholders_and_values_beside_several_accounts(
    guest_tickets: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from dsar.cli import app

    shared = tmp_path / "export" / "tickets.csv"
    shared.write_text(shared.read_text() + "k90,x1,team@example.com,a\nk91,x2,team@example.com,b\n")
    result = CliRunner().invoke(app, ["catalog", "check", str(guest_tickets)])
    assert result.exit_code == 0, result.output
    assert "tables.tickets.columns.user_id: 4 row(s)" in result.output
    assert "identity-placeholder" in result.output
    # team@ beside x1 and x2; alice@ beside u1 only (the placeholder is no user id)
    assert "tables.tickets.columns.requester_email: 1 value(s)" in result.output
    assert "identity-shared-value" in result.output
    assert "team@" not in result.output and "x1" not in result.output  # counts only


@pytest.mark.parametrize(
    "value",
    ["jose\u0301@x.org", "\u0130\u0130\u00b7M\x00@x.org", "jose\u0301\x00@x.org", "ΟΔΟΣ@x.gr"],
)
def test_f6_python_and_sql_compose_alike_even_beside_a_nul(value: str) -> None:
    """DuckDB's nfc_normalize stops at a NUL (the rest of the cell was lost and the address
    read as none); both sides compose only a text without one."""
    rules = MatchRules()
    expr = sql_normalize(IdentityKind.EMAIL, "v", rules)
    expected = normalize(IdentityKind.EMAIL, value, rules)
    assert expected is not None
    # a list parameter keeps the NUL (a plain one is cut there by the client)
    got = duckdb.connect().execute(
        f"SELECT {expr} FROM (SELECT unnest(CAST(? AS VARCHAR[])) AS v)", [[value]]
    )
    assert got.fetchone() == (expected,)
