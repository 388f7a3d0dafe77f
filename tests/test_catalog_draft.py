"""`dsar catalog draft`: a data map drafted from the files reproduces the hand-written ones.

Compared programmatically with the demo's and the shop's hand-written catalogs: identity
columns, references, ownership links and reference tables. Known differences are listed
in `DEMO_KNOWN` and `SHOP_KNOWN`, each with why the files cannot tell; any other difference
fails. Random exports with a known truth (hypothesis) check identity, links and ownership;
a draft is refused by `catalog check` until its TODOs are filled; nothing personal is
written or printed.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from dsar.catalog import load_catalog
from dsar.catalog.models import Catalog, IdentityKind
from dsar.cli import app
from dsar.demo import generate, generate_shop
from dsar.draft import Draft, draft, draft_catalog
from dsar.text.engine import TextEngine
from tests.shop_fixture import write_shop

runner = CliRunner()

# (table, column) -> (what the hand-written catalog says, what the draft says, why)
DEMO_KNOWN: dict[tuple[str, str, str], tuple[object, object, str]] = {
    ("app_end_users", "end_user_id", "identity"): (
        None,
        "person_id",
        "a third people table (one row per end user, with their own emails and phones) gets"
        " a key kind of its own (red team 27 round 2, F4); the hand catalog reaches end users"
        " by email and phone only, as the table is held for a customer (role: processor),"
        " which the files cannot tell",
    )
}
"""The demo draft matches the hand-written catalog on identity, references, ownership and
reference tables but for these. (app_end_users is held for customers, role: processor with
held_for: customer_id: the files cannot tell that; its customer_id names a second person and
gets no identity, since the table's own emails are not the accounts' emails.)"""

SHOP_KNOWN: dict[tuple[str, str, str], tuple[object, object, str]] = {}
"""The shop draft matches the hand-written catalog on identity, references, ownership and
reference tables. It adds primary keys to the reference tables (tracks, genres), which the
hand catalog leaves out: a unique non-null id column is a key whether or not a person is in
the table; primary keys are not compared."""


def _roles(catalog: Catalog) -> dict[tuple[str, str, str], object]:
    """Every compared fact: identity kind and references per column, ownership and
    reference data per table."""
    facts: dict[tuple[str, str, str], object] = {}
    for name, table in catalog.tables.items():
        facts[(name, "", "personal")] = table.personal
        own = table.owned_through
        facts[(name, "", "owned_through")] = (own.column, own.parent) if own else None
        for col, spec in table.columns.items():
            facts[(name, col, "identity")] = spec.identity.value if spec.identity else None
            facts[(name, col, "references")] = spec.references
    return facts


def _draft_roles(result: Draft) -> dict[tuple[str, str, str], object]:
    facts: dict[tuple[str, str, str], object] = {}
    for name, table in result.tables.items():
        facts[(name, "", "personal")] = table.personal
        own = table.owned_through
        facts[(name, "", "owned_through")] = (own.column, own.target) if own else None
        for col, spec in table.columns.items():
            facts[(name, col, "identity")] = spec.identity.value if spec.identity else None
            facts[(name, col, "references")] = spec.references
    return facts


def _differences(hand: Catalog, result: Draft) -> dict[tuple[str, str, str], tuple[object, object]]:
    want, got = _roles(hand), _draft_roles(result)
    return {
        key: (want.get(key), got.get(key))
        for key in sorted(set(want) | set(got))
        if want.get(key) != got.get(key)
    }


@pytest.fixture(scope="module")
def text_engine() -> TextEngine:
    return TextEngine()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("draft-demo") / "export"
    generate(root, users=120, seed=11)
    return root


def test_the_demo_draft_reproduces_the_hand_written_catalog(
    demo: Path, text_engine: TextEngine
) -> None:
    result = draft(demo, sample=400, text_engine=text_engine)
    diff = _differences(load_catalog(demo / "catalog.yml"), result)
    assert {k: v for k, v in diff.items() if k not in DEMO_KNOWN} == {}
    assert {k: (w, g) for k, (w, g, _why) in DEMO_KNOWN.items()} == diff


def test_the_shop_draft_reproduces_the_hand_written_catalog(
    tmp_path: Path, text_engine: TextEngine
) -> None:
    shop = generate_shop(tmp_path / "shop", customers=80, seed=3)
    result = draft(shop.root, sample=400, text_engine=text_engine)
    diff = _differences(load_catalog(shop.catalog_path), result)
    assert {k: (w, g) for k, (w, g, _why) in SHOP_KNOWN.items()} == diff


def test_the_small_shop_fixture_too(tmp_path: Path, text_engine: TextEngine) -> None:
    """Three customers, two staff: integer keys 1 and 2 are everywhere; the names decide."""
    catalog = write_shop(tmp_path / "shop")
    result = draft(tmp_path / "shop", sample=100, text_engine=text_engine)
    assert _differences(load_catalog(catalog), result) == {}


# ---- the TODO marker ------------------------------------------------------------------

_FILL: dict[str, Any] = {
    "name": "Example Ltd.",
    "contact": "privacy@example.invalid",
    "supervisory_authority": "ICO",
    "description": "what it holds",
    "category": "account",
    "origin": "provided",
    "purposes": "provide the service",
    "legal_basis": "contract",
    "recipients": [],
    "source": "the person",
    "period": "1 year",
    "criteria": "while the account is open",
    "action": "delete",
}


def _filled(node: Any, key: str = "") -> Any:
    """The draft with every TODO replaced by a plausible answer, as a person would."""
    if node == "TODO":
        return _FILL[key]
    if isinstance(node, dict):
        return {k: _filled(v, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_filled(v, key) for v in node]
    return node


def test_check_refuses_a_draft_until_its_todos_are_filled(demo: Path) -> None:
    out = demo / "draft.yml"
    result = runner.invoke(
        app, ["catalog", "draft", str(demo), "--out", str(out), "--sample", "300"]
    )
    assert result.exit_code == 0, result.output
    refused = runner.invoke(app, ["catalog", "check", str(out)])
    assert refused.exit_code == 1
    said = refused.output + str(refused.exception)
    assert "legal_basis of table 'accounts' is still TODO" in said
    assert "purposes of table 'invoices' is still TODO" in said
    assert "retention.period of table 'web_logs' is still TODO" in said
    assert "recipients of table 'support_tickets' is still TODO" in said
    assert "is not allowed here" not in said  # the TODO alone, not its echo
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    filled = demo / "filled.yml"
    filled.write_text(yaml.safe_dump(_filled(data), sort_keys=False), encoding="utf-8")
    accepted = runner.invoke(app, ["catalog", "check", str(filled)])
    assert accepted.exit_code == 0, accepted.output
    assert "catalog OK: 10 tables" in accepted.output


def test_a_single_todo_left_is_named(tmp_path: Path, text_engine: TextEngine) -> None:
    write_shop(tmp_path / "shop")
    out = tmp_path / "catalog.yml"
    draft_catalog(tmp_path / "shop", out, sample=100, text_engine=text_engine)
    data = _filled(yaml.safe_load(out.read_text(encoding="utf-8")))
    data["tables"]["invoices"]["legal_basis"] = "TODO"
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    refused = runner.invoke(app, ["catalog", "check", str(out)])
    assert refused.exit_code == 1
    said = refused.output + str(refused.exception)
    assert "1 problem(s)" in said
    assert "tables.invoices.legal_basis" in said
    assert "legal_basis of table 'invoices' is still TODO" in said
    assert "consent, contract, legal_obligation" in said  # the fix


# ---- nothing personal written or printed ---------------------------------------------


def _personal_values(catalog: Catalog) -> set[str]:
    """Every value of the export's identity, personal, secret and free-text columns."""
    import duckdb

    values: set[str] = set()
    for name, table in catalog.tables.items():
        cols = [
            c
            for c, s in table.columns.items()
            if s.identity or s.personal or s.secret or s.free_text
        ]
        for path in catalog.files(name):
            reader = {"csv": "read_csv", "parquet": "read_parquet"}.get(
                table.format.value, "read_json"
            )
            for col in cols:
                rows = duckdb.sql(
                    f"SELECT DISTINCT CAST(\"{col}\" AS VARCHAR) FROM {reader}('{path}')"
                )
                assert rows is not None
                values |= {str(r[0]).strip() for r in rows.fetchall() if r[0] is not None}
    return {v for v in values if len(v) >= 6}


def test_nothing_personal_is_written_or_printed(
    demo: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "catalog.yml"
    with caplog.at_level(logging.DEBUG):
        result = runner.invoke(app, ["catalog", "draft", str(demo), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = out.read_text(encoding="utf-8")
    said = result.output + caplog.text
    assert "profiled accounts" in said  # progress is shown
    personal = _personal_values(load_catalog(demo / "catalog.yml"))
    assert len(personal) > 500
    assert [v for v in personal if v in written] == []
    assert [v for v in personal if v in said] == []


# ---- random exports with a known truth -----------------------------------------------

_PEOPLE = ("members", "clients", "patients", "users", "subscribers", "drivers")
_THINGS = ("orders", "bookings", "visits", "tickets", "rentals", "loans")
_PARTS = ("items", "steps", "parts", "entries")
_REFS = ("plans", "products", "regions", "tiers")
_FORMATS = ("csv", "parquet", "jsonl", "json")


def _write(path: Path, fmt: str, columns: dict[str, list[Any]]) -> None:
    table = pa.table(columns)
    if fmt == "csv":
        pacsv.write_csv(table, path.with_suffix(".csv"))
    elif fmt == "parquet":
        pq.write_table(table, path.with_suffix(".parquet"))
    else:
        records = table.to_pylist()
        if fmt == "json":
            path.with_suffix(".json").write_text(json.dumps(records), encoding="utf-8")
        else:
            text = "".join(json.dumps(r) + "\n" for r in records)
            path.with_suffix(".jsonl").write_text(text, encoding="utf-8")


def _key(singular: str, camel: bool) -> str:
    return f"{singular.title()}Id" if camel else f"{singular}_id"


@st.composite
def exports(draw: st.DrawFn) -> dict[str, Any]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    people, thing = draw(st.sampled_from(_PEOPLE)), draw(st.sampled_from(_THINGS))
    part, ref = draw(st.sampled_from(_PARTS)), draw(st.sampled_from(_REFS))
    camel, text_keys = draw(st.booleans()), draw(st.booleans())
    n, m = draw(st.integers(8, 40)), draw(st.integers(10, 80))
    pk, tk, rk, qk = (_key(w[:-1], camel) for w in (people, thing, ref, part))
    ids: list[Any] = [f"p{i:05d}" for i in range(1, n + 1)] if text_keys else list(range(1, n + 1))
    refs = list(range(1, draw(st.integers(3, 9)) + 1))
    firsts = ("Anna", "Jan", "Sofia", "Lucas", "Emma", "Noah", "Mia", "Liam")
    tables = {
        people: {
            pk: ids,
            "email": [f"person{i}.{rng.randint(0, 999)}@example.org" for i in range(n)],
            "first_name": [rng.choice(firsts) for _ in range(n)],
        },
        thing: {
            tk: list(range(1, m + 1)),
            pk: [rng.choice(ids) for _ in range(m)],
            rk: [rng.choice(refs) for _ in range(m)],
            "amount": [rng.randint(1, 500) for _ in range(m)],
        },
        part: {
            qk: list(range(1, 2 * m + 1)),
            tk: [rng.randint(1, m) for _ in range(2 * m)],
            "quantity": [rng.randint(1, 3) for _ in range(2 * m)],
        },
        ref: {rk: refs, "label": [f"level {r}" for r in refs]},
    }
    formats = {name: draw(st.sampled_from(_FORMATS)) for name in tables}
    return {"tables": tables, "formats": formats, "names": (people, thing, part, ref),
            "keys": (pk, tk, rk, qk)}  # fmt: skip


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(export=exports())
def test_random_exports_give_identity_links_and_ownership(
    tmp_path_factory: pytest.TempPathFactory, export: dict[str, Any]
) -> None:
    root = tmp_path_factory.mktemp("random")
    for name, columns in export["tables"].items():
        _write(root / name, export["formats"][name], columns)
    result = draft(root, sample=200, text_engine=TextEngine(nlp=None))
    people, thing, part, ref = export["names"]
    pk, tk, rk, _qk = export["keys"]
    t = result.tables
    kind = t[people].columns[pk].identity
    assert kind is not None and kind.value in ("user_id", "customer_id")
    assert t[people].columns["email"].identity == IdentityKind.EMAIL
    assert t[thing].columns[pk].identity is kind
    assert t[thing].columns[pk].references == f"{people}.{pk}"
    assert t[thing].columns[rk].references == f"{ref}.{rk}"
    assert t[thing].columns[rk].identity is None
    own = t[part].owned_through
    assert own is not None and (own.column, own.target) == (tk, f"{thing}.{tk}")
    assert t[part].identity_columns() == {}
    assert not t[ref].personal
    assert all(tb.personal for name, tb in t.items() if name != ref)
