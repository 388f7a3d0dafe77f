"""Breach scoping: the people a breach reaches are the people access would give those rows to.

Each case compares the affected people with a hand-written SQL join over the raw files (read
by DuckDB directly, not through the workbench), on the demo export and the shop schema
(owned child tables reach their owners), and on the access traps (a shared family device
reaches no one; an anonymous line on one person's own device reaches that person).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dsar import load_catalog, open_engine
from dsar.breach import Scope, ScopeSpec, Window, parse_where, scope_breach
from dsar.catalog.models import IdentityKind
from dsar.errors import UsageError


def _scope(catalog: Path, spec: ScopeSpec) -> Scope:
    with open_engine(load_catalog(catalog)) as engine:
        return scope_breach(engine, spec)


def _ids(scope: Scope, kind: IdentityKind) -> set[str]:
    """One identifier of `kind` per affected person (the smallest), as a set."""
    found = set()
    for person in scope.people:
        values = sorted(k.value for k in person.keys if k.kind is kind)
        if values:
            found.add(values[0])
    return found


def _sql(query: str) -> set[str]:
    return {str(r[0]) for r in duckdb.execute(query).fetchall()}


DEMO_CASES = [
    pytest.param(
        ScopeSpec(("support_tickets",), window=Window.parse("2026-01-01", "2026-06-30")),
        "SELECT DISTINCT user_id FROM read_json_auto('{root}/support_tickets.jsonl')"
        " WHERE created_at >= TIMESTAMP '2026-01-01' AND created_at < TIMESTAMP '2026-07-01'",
        id="tickets-half-year",
    ),
    pytest.param(
        ScopeSpec(("invoices",), window=Window.parse("2026-03-01", "2026-03-31")),
        "SELECT DISTINCT a.user_id FROM '{root}/invoices.parquet' i"
        " JOIN read_csv('{root}/accounts.csv') a ON a.customer_id = i.customer_id"
        " WHERE i.issued_at >= TIMESTAMP '2026-03-01' AND i.issued_at < TIMESTAMP '2026-04-01'",
        id="invoices-march-through-customer-id",
    ),
    pytest.param(
        ScopeSpec(("accounts",), where=(parse_where("country = 'NL'"),)),
        "SELECT user_id FROM read_csv('{root}/accounts.csv') WHERE country = 'NL'",
        id="accounts-where-country",
    ),
    pytest.param(
        ScopeSpec(("web_logs",), window=Window.parse("2026-11-01", "2026-11-14")),
        # rows with a user id, and anonymous rows on a device seen with exactly one user
        "WITH w AS (SELECT * FROM read_csv('{root}/web_logs.csv')"
        "  WHERE ts >= TIMESTAMP '2026-11-01' AND ts < TIMESTAMP '2026-11-15'),"
        " seen AS (SELECT device_id, min(user_id) AS u, count(DISTINCT user_id) AS n FROM"
        "  (SELECT device_id, user_id FROM read_csv('{root}/web_logs.csv') UNION ALL"
        "   SELECT device_id, user_id FROM '{root}/usage_events.parquet')"
        "  WHERE user_id IS NOT NULL AND device_id IS NOT NULL GROUP BY device_id)"
        " SELECT user_id FROM w WHERE user_id IS NOT NULL"
        " UNION SELECT s.u FROM w JOIN seen s USING (device_id)"
        " WHERE w.user_id IS NULL AND s.n = 1",
        id="web-logs-two-weeks-anonymous-lines",
    ),
]


@pytest.mark.parametrize(("spec", "query"), DEMO_CASES)
def test_demo_affected_people_equal_a_hand_join(
    demo_export: Path, spec: ScopeSpec, query: str
) -> None:
    scope = _scope(demo_export, spec)
    expected = _sql(query.format(root=demo_export.parent))
    assert expected, "the case must reach someone"
    assert _ids(scope, IdentityKind.USER_ID) == expected
    assert len(scope.people) == len(expected)  # one person per account, none merged
    assert scope.account_holders == len(expected)
    assert scope.without_account == 0


def test_demo_staff_are_people_without_an_account(demo_export: Path) -> None:
    scope = _scope(demo_export, ScopeSpec(("staff",)))
    staff = _sql(f"SELECT lower(trim(email)) FROM read_csv('{demo_export.parent}/staff.csv')")
    assert _ids(scope, IdentityKind.EMAIL) == staff
    assert scope.without_account == len(staff) and scope.account_holders == 0


SHOP_CASES = [
    pytest.param(
        ScopeSpec(("invoice_lines",), window=Window.parse("2025-01-01", "2025-01-31")),
        # lines have no date of their own: the window is read on their invoice
        "SELECT DISTINCT i.CustomerId FROM read_csv('{root}/invoice_lines.csv') l"
        " JOIN read_csv('{root}/invoices.csv') i USING (InvoiceId)"
        " WHERE i.InvoiceDate BETWEEN DATE '2025-01-01' AND DATE '2025-01-31'",
        4,  # the four lines of invoices 1 and 2
        id="lines-of-january-invoices",
    ),
    pytest.param(
        ScopeSpec(("line_notes",), where=(parse_where("Note like '%r%'"),)),
        "SELECT DISTINCT i.CustomerId FROM read_csv('{root}/line_notes.csv') n"
        " JOIN read_csv('{root}/invoice_lines.csv') l USING (InvoiceLineId)"
        " JOIN read_csv('{root}/invoices.csv') i USING (InvoiceId) WHERE n.Note LIKE '%r%'",
        3,
        id="notes-two-levels-down",
    ),
    pytest.param(
        ScopeSpec(("invoices", "line_notes"), window=Window.parse("2025-02-01", "2025-12-31")),
        "SELECT DISTINCT i.CustomerId FROM read_csv('{root}/invoices.csv') i"
        " WHERE i.InvoiceDate >= DATE '2025-02-01'",
        None,
        id="two-tables-one-window",
    ),
]


@pytest.mark.parametrize(("spec", "query", "rows"), SHOP_CASES)
def test_shop_owned_rows_reach_their_owners(
    tmp_path: Path, spec: ScopeSpec, query: str, rows: int | None
) -> None:
    from tests.shop_fixture import write_shop

    catalog = write_shop(tmp_path / "shop")
    scope = _scope(catalog, spec)
    expected = _sql(query.format(root=catalog.parent))
    assert expected
    assert _ids(scope, IdentityKind.CUSTOMER_ID) == expected
    assert len(scope.people) == len(expected)
    if rows is not None:
        assert scope.total_rows == rows
    assert not scope.not_linked


def test_traps_shared_device_reaches_no_one(trap_catalog: Path) -> None:
    # 2026-11-04..06: the family laptop's anonymous line (shared: no one's), a line with no
    # identifier, a stranger's device, and an anonymous line on Ann's own device (Ann's)
    scope = _scope(
        trap_catalog, ScopeSpec(("logins",), window=Window.parse("2026-11-04", "2026-11-06"))
    )
    assert scope.rows == {"logins": 4}
    assert _ids(scope, IdentityKind.USER_ID) == {"u1"}
    assert scope.not_linked == {"logins": 3}


@pytest.mark.parametrize(
    "text",
    [
        "status = 'x' OR 1=1",
        "1=1 OR status = 'x'",
        "status = x; DROP TABLE accounts",
        "status = 'x'; --",
        "status IN ('a', 'b')",
        "status ~ 'x'",
        "status = 'unclosed",
        "lower(status) = 'x'",
    ],
)
def test_where_refuses_anything_but_column_operator_value(text: str) -> None:
    with pytest.raises(UsageError, match="is not 'column operator value'"):
        parse_where(text)


def test_where_value_is_bound_never_interpolated(demo_export: Path) -> None:
    hostile = parse_where("country = 'NL'' OR ''1''=''1'")
    assert hostile.value == "NL' OR '1'='1"
    scope = _scope(demo_export, ScopeSpec(("accounts",), where=(hostile,)))
    assert scope.rows == {"accounts": 0} and not scope.people
    drop = parse_where("country = 'x''; DROP TABLE accounts; --'")
    assert _scope(demo_export, ScopeSpec(("accounts",), where=(drop,))).rows == {"accounts": 0}
    # the table is still there and whole
    assert _scope(demo_export, ScopeSpec(("accounts",))).rows["accounts"] == 300


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ScopeSpec(("nope",)), "unknown table 'nope'"),
        (ScopeSpec(("accounts",), where=(parse_where("secret_col = 1"),)), "no breached table has"),
        (ScopeSpec(("staff",), window=Window.parse("2026-01-01", None)), "no date or timestamp"),
        (ScopeSpec(("accounts",), columns=("nope",)), r"no breached table has column\(s\) nope"),
    ],
)
def test_spec_naming_what_the_catalog_lacks_is_refused(
    demo_export: Path, spec: ScopeSpec, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        _scope(demo_export, spec)


def test_others_named_in_text_are_counted_not_the_rows_own_person(
    trap_catalog: Path,
) -> None:
    from dsar.breach.assess import others_named
    from dsar.text.engine import TextEngine

    with open_engine(load_catalog(trap_catalog)) as engine:
        scope = scope_breach(engine, ScopeSpec(("tickets",)), accept_catalog_warnings=True)
    text = TextEngine(nlp=None, known_people=["Bob Marsh", "Ann Lee"])
    # Ann's ticket names Bob Marsh, his address and phone (hers is not counted, nor her name);
    # Bob's names Ann Lee and her address ("Bob" there is himself): two people, not five
    # mentions
    assert others_named(scope, text) == 2
    # the same texts with no owner: Bob Marsh (his address and phone), Ann Lee (her phone
    # beside her name, her address), and "Bob" (a name apart)
    scope.texts = {t: [(c, None) for c, _ in cells] for t, cells in scope.texts.items()}
    assert others_named(scope, text) == 3


def test_severity_factors_say_why(demo_export: Path) -> None:
    from dsar.breach.assess import Circumstances, assess_severity, categories

    catalog = load_catalog(demo_export)
    with open_engine(catalog) as engine:
        logs = scope_breach(engine, ScopeSpec(("usage_events",), columns=("ts", "action")))
        creds = scope_breach(engine, ScopeSpec(("integrations",)))
    found = categories(logs, catalog)
    low = assess_severity(catalog, logs, found, Circumstances(known_recipients=True))
    assert (low.dpc.value, low.ei.value) == (2, 0.5)  # behaviour, no identifier leaked
    assert "behavioural" in low.dpc.reason and "EI limited" in low.ei.reason
    assert low.score == 1.25 and low.band == "low" and not low.notify_people
    high = assess_severity(
        catalog, creds, categories(creds, catalog), Circumstances(malicious=True)
    )
    assert high.dpc.value == 3 and "credentials" in high.dpc.reason
    assert high.ei.value == 0.75  # user ids, no names or contacts
    assert high.score == 3.25 and high.band == "high" and high.notify_people
    assert any("more than 100 people" in f for f in high.flags) == (len(creds.people) > 100)


def test_tables_held_for_customers_are_counted_per_customer_never_resolved(
    demo_export: Path,
) -> None:
    scope = _scope(demo_export, ScopeSpec(("app_end_users",)))
    per_customer = _sql(
        "SELECT customer_id || ':' || count(*) FROM"
        f" read_csv('{demo_export.parent}/app_end_users.csv') GROUP BY customer_id"
    )
    held = scope.held_for_customers["app_end_users"]
    assert {f"{c}:{n}" for c, n in held.items()} == per_customer
    assert not scope.people  # their customers are the controllers: told, not resolved here


def test_a_window_given_with_a_time_zone_is_that_instant_in_utc() -> None:
    from datetime import datetime

    window = Window.parse("2026-11-01T10:00:00+02:00", "2026-11-02")
    assert window.start == datetime(2026, 11, 1, 8, 0)  # the export's times are UTC
    assert window.end == datetime(2026, 11, 3)  # a date --to is the whole day
    with pytest.raises(UsageError, match="ends before it starts"):
        Window.parse("2026-11-02", "2026-11-01")


def test_a_shared_identifier_stops_the_scope_naming_the_option(demo_export: Path) -> None:
    from dsar.subjects.identity import MatchRules

    spec = ScopeSpec(("support_tickets",), window=Window.parse("2026-01-01", "2026-06-30"))
    with (
        open_engine(load_catalog(demo_export)) as engine,
        pytest.raises(UsageError, match="raise --max-identifiers only if") as info,
    ):
        scope_breach(engine, spec, rules=MatchRules(max_identifiers=1))
    assert "B-" not in str(info.value)  # no internal request label


def test_every_engine_scopes_the_same_people(engine_kind: str, tmp_path: Path) -> None:
    from tests.shop_fixture import write_shop

    catalog = load_catalog(write_shop(tmp_path / "shop"))
    spec = ScopeSpec(
        ("invoice_lines", "line_notes"),
        window=Window.parse("2025-01-01", "2025-02-28"),
        where=(parse_where("line_notes.Note like '%r%'"),),
    )
    with open_engine(catalog, engine_kind) as engine:
        scope = scope_breach(engine, spec)
    # lines of invoices 1-3 (customers 2 and 1); notes on them matching: line 3's (customer 1)
    assert scope.rows == {"invoice_lines": 5, "line_notes": 2}
    assert _ids(scope, IdentityKind.CUSTOMER_ID) == {"1", "2"}
