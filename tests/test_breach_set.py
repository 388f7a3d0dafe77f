"""The set search finds what the per-person search finds: the same people, numbered alike, with
the same identifiers, rows, contact, residence and names, the same rows linked to no one and
the same owners of the leaked texts (demo export, shop schema, the access traps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar import load_catalog, open_engine
from dsar.breach import Scope, ScopeSpec, Window, parse_where, scope_breach
from dsar.breach.scope import AffectedPerson
from dsar.breach.setsearch import supported
from dsar.errors import UsageError
from dsar.subjects.identity import MatchRules


def _person(p: AffectedPerson) -> tuple[object, ...]:
    return (
        p.number,
        sorted(map(str, p.keys)),
        p.account_holder,
        p.rows,
        str(p.contact),
        p.country,
        p.state,
        sorted(p.names),
    )


def _both(catalog: Path, spec: ScopeSpec, rules: MatchRules | None = None) -> tuple[Scope, Scope]:
    with open_engine(load_catalog(catalog)) as engine:
        assert supported(engine.catalog, spec.tables)  # the set search runs, not a fallback
        one = scope_breach(engine, spec, rules=rules, method="per-person")
        many = scope_breach(engine, spec, rules=rules, method="set")
    return one, many


def _assert_same(one: Scope, many: Scope) -> None:
    assert [_person(p) for p in many.people] == [_person(p) for p in one.people]
    assert many.rows == one.rows
    assert many.not_linked == one.not_linked
    assert many.texts == one.texts
    assert many.filled == one.filled  # rows and people per column holding a value
    assert many.held_for_customers == one.held_for_customers


DEMO = [
    ScopeSpec(("web_logs",), window=Window.parse("2026-11-01", "2026-11-14")),
    ScopeSpec(("web_logs",)),  # anonymous lines: a device seen with one account, or shared
    ScopeSpec(("usage_events", "integrations")),
    ScopeSpec(("support_tickets",), window=Window.parse("2026-01-01", "2026-06-30")),
    ScopeSpec(("invoices",), window=Window.parse("2026-03-01", "2026-03-31")),
    ScopeSpec(("accounts",), where=(parse_where("country = 'NL'"),)),
    ScopeSpec(("staff",)),  # people without an account
    ScopeSpec(("google_profiles", "marketing_preferences", "app_end_users")),
]


@pytest.mark.parametrize("spec", DEMO, ids=lambda s: "+".join(s.tables))
def test_demo_set_search_equals_per_person(demo_export: Path, spec: ScopeSpec) -> None:
    one, many = _both(demo_export, spec)
    assert one.people, "the case must reach someone"
    _assert_same(one, many)


def test_demo_set_search_follows_the_match_rules(demo_export: Path) -> None:
    rules = MatchRules(gmail_dots=True, plus_addressing=True)
    one, many = _both(demo_export, ScopeSpec(("support_tickets",)), rules)
    _assert_same(one, many)


def test_demo_anonymous_lines_reach_people_through_their_devices(demo_export: Path) -> None:
    one, many = _both(demo_export, ScopeSpec(("web_logs",)))
    _assert_same(one, many)
    assert many.not_linked  # anonymous lines on shared devices: no one's
    # a person reached through an anonymous line: more rows than their own account's lines
    with open_engine(load_catalog(demo_export)) as engine:
        signed = scope_breach(
            engine, ScopeSpec(("web_logs",), where=(parse_where("user_id like 'u%'"),))
        )
    signed_rows = {min(str(k) for k in p.keys): sum(p.rows.values()) for p in signed.people}
    assert any(
        sum(p.rows.values()) > signed_rows.get(min(str(k) for k in p.keys), 0) for p in many.people
    )


SHOP = [
    ScopeSpec(("invoice_lines",), window=Window.parse("2025-01-01", "2025-01-31")),
    ScopeSpec(("line_notes",)),  # two levels down to the invoice's customer
    ScopeSpec(("invoices", "line_notes"), window=Window.parse("2025-02-01", "2025-12-31")),
    ScopeSpec(("customers", "staff", "invoices", "invoice_lines", "line_notes")),
]


@pytest.mark.parametrize("spec", SHOP, ids=lambda s: "+".join(s.tables))
def test_shop_set_search_equals_per_person(tmp_path: Path, spec: ScopeSpec) -> None:
    from tests.shop_fixture import write_shop

    one, many = _both(write_shop(tmp_path / "shop"), spec)
    assert one.people
    _assert_same(one, many)


def test_generated_shop_schema_set_search_equals_per_person(tmp_path: Path) -> None:
    from datetime import date

    from dsar.demo.shop import generate_shop

    export = generate_shop(tmp_path / "shop", customers=120, as_of=date(2026, 11, 29))
    catalog = load_catalog(export.catalog_path)
    personal = tuple(n for n, t in catalog.tables.items() if t.personal)
    for name in personal:
        one, many = _both(export.catalog_path, ScopeSpec((name,)))
        _assert_same(one, many)


def test_traps_set_search_equals_per_person(trap_catalog: Path) -> None:
    # a shared family device (no one's), a stranger's device, Ann's own device
    for spec in (
        ScopeSpec(("logins",), window=Window.parse("2026-11-04", "2026-11-06")),
        ScopeSpec(("logins",)),
    ):
        one, many = _both(trap_catalog, spec)
        _assert_same(one, many)
        assert many.not_linked


def test_set_search_stops_at_max_identifiers_as_per_person(demo_export: Path) -> None:
    spec = ScopeSpec(("accounts",))
    with open_engine(load_catalog(demo_export)) as engine:
        for method in ("per-person", "set"):
            with pytest.raises(UsageError, match="raise --max-identifiers only if"):
                scope_breach(engine, spec, rules=MatchRules(max_identifiers=1), method=method)


def test_set_search_on_spark_finds_what_duckdb_finds(engine_kind: str, demo_export: Path) -> None:
    # web logs: one-identifier tables read distinct, anonymous lines reached through devices
    spec = ScopeSpec(("web_logs", "invoices"), window=Window.parse("2026-11-01", "2026-11-14"))
    catalog = load_catalog(demo_export)
    with open_engine(catalog) as engine:
        reference = scope_breach(engine, spec, method="per-person")
    with open_engine(catalog, engine_kind) as engine:
        found = scope_breach(engine, spec)
    _assert_same(reference, found)


def _components_by_search(edges: list[tuple[int, int]], size: int) -> list[int]:
    near: dict[int, set[int]] = {n: set() for n in range(size)}
    for a, b in edges:
        near[a].add(b)
        near[b].add(a)
    label = list(range(size))
    seen: set[int] = set()
    for start in range(size):  # in order: the first node of a component is its smallest
        if start in seen:
            continue
        todo, seen = [start], seen | {start}
        while todo:
            node = todo.pop()
            label[node] = start
            for other in near[node] - seen:
                seen.add(other)
                todo.append(other)
    return label


@pytest.mark.parametrize("seed", range(6))
def test_components_are_the_smallest_node_of_each_connected_part(seed: int) -> None:
    import itertools
    import random

    import numpy as np

    from dsar.breach.setsearch import components

    rng = random.Random(seed)
    size = rng.randint(1, 400)
    edges = [(rng.randrange(size), rng.randrange(size)) for _ in range(rng.randint(0, size))]
    # a long chain linked from its far end first, and a star around its largest node
    chain = list(range(size - 1, 0, -3))
    edges += list(itertools.pairwise(chain))
    edges += [(size - 1, n) for n in range(0, size, 7)]
    rng.shuffle(edges)
    src = np.array([a for a, _ in edges], dtype=np.int64)
    dst = np.array([b for _, b in edges], dtype=np.int64)
    assert components(src, dst, size).tolist() == _components_by_search(edges, size)


def test_the_set_search_logs_its_steps_by_table_never_a_value(
    demo_export: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    spec = ScopeSpec(("support_tickets",), window=Window.parse("2026-01-01", "2026-06-30"))
    with (
        caplog.at_level(logging.DEBUG, logger="dsar.breach"),
        open_engine(load_catalog(demo_export)) as engine,
    ):
        scope = scope_breach(engine, spec)
    steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("set search:")]
    assert any("read support_tickets" in m for m in steps) and any("bs_label" in m for m in steps)
    values = {k.value for p in scope.people for k in p.keys}
    assert values and not any(v in r.getMessage() for r in caplog.records for v in values)


ORDERS_CATALOG = """\
version: 1
controller:
  name: Example Ltd
  contact: privacy@example.org
  supervisory_authority: Information Commissioner's Office (UK)
tables:
  orders:
    path: orders.csv
    format: csv
    description: Orders.
    category: billing
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {criteria: six years}
    erasure: {action: delete}
    primary_key: [order_id]
    columns:
      order_id: {type: string}
      customer_id: {identity: customer_id, type: string}
      email: {identity: email, type: string}
      country: {type: string}
"""


def test_a_table_read_as_distinct_rows_describes_a_person_by_their_first_row(
    tmp_path: Path,
) -> None:
    # one customer who changed address and country back and forth, with no account: the
    # set search reads the orders as one row per distinct content, which must keep each
    # content's first order (o1, address b, DE), not its last (o2, address a, NL, comes
    # before o3, the last order with address b)
    (tmp_path / "catalog.yml").write_text(ORDERS_CATALOG, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,email,country\n"
        "o1,c1,b@example.org,DE\n"
        "o2,c1,A@example.org,NL\n"
        "o3,c1,b@example.org,DE\n"
        "o4,c2,c@example.org,FR\n",
        encoding="utf-8",
    )
    spec = ScopeSpec(("orders",), where=(parse_where("order_id = 'o3'"),))
    one, many = _both(tmp_path / "catalog.yml", spec)
    _assert_same(one, many)
    (person,) = many.people
    assert (str(person.contact), person.country) == ("email=b@example.org", "DE")


def test_e1_shape_rows_holding_a_value_are_the_same_people_both_ways(tmp_path: Path) -> None:
    from dsar.breach.assess import categories
    from tests.test_attacks_breach_categories26b import e1_shape

    catalog = e1_shape(tmp_path / "e1")
    spec = ScopeSpec(("tickets",), window=Window.parse("2026-11-01", "2026-11-14"))
    one, many = _both(catalog, spec)
    _assert_same(one, many)
    assert many.filled["tickets"]  # the tickets holding an address are some of them
    found = categories(many, load_catalog(catalog))
    assert (found["contact"].rows, found["contact"].people) == (3, 4)
    assert found == categories(one, load_catalog(catalog))
