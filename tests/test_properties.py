"""Property tests: invariants that must hold for any person in the demo export."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsar import Catalog, Engine, load_catalog, open_engine
from dsar.catalog import IdentityKind
from dsar.subjects.collect import collect
from dsar.subjects.identity import (
    STRONG,
    MatchRules,
    SubjectRequest,
    make_key,
    normalize,
    phone_pattern,
)

_cache: dict[str, tuple[Catalog, Engine]] = {}


def _demo(demo_export: Path) -> tuple[Catalog, Engine]:
    if "demo" not in _cache:
        catalog = load_catalog(demo_export)
        _cache["demo"] = (catalog, open_engine(catalog))
    return _cache["demo"]


@settings(
    derandomize=True,
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(user=st.integers(min_value=0, max_value=299))
def test_every_collected_row_links_to_the_person(demo_export: Path, user: int) -> None:
    catalog, engine = _demo(demo_export)
    request = SubjectRequest("p", (make_key(IdentityKind.USER_ID, f"u{user:07d}"),))
    [person] = collect(engine, catalog, [request])
    rules = MatchRules()
    assert person.identity.values(IdentityKind.USER_ID) == {f"u{user:07d}"}
    for name, table in person.tables.items():
        cols = catalog.tables[name].identity_columns()
        for row in table.to_pylist():
            keys = {(k, normalize(k, row[c], rules)) for c, k in cols.items()}
            mine = {(k.kind, k.value) for k in person.identity.keys}
            assert keys & mine, f"{name} row does not link to the person"
            strong = {(k, v) for k, v in keys if k in STRONG and v is not None}
            assert not strong or strong & mine, f"{name} row carries only someone else's ids"


@settings(
    derandomize=True,
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(a=st.integers(min_value=0, max_value=299), b=st.integers(min_value=0, max_value=299))
def test_batch_gives_each_person_what_they_get_alone(demo_export: Path, a: int, b: int) -> None:
    catalog, engine = _demo(demo_export)
    reqs = [
        SubjectRequest(str(i), (make_key(IdentityKind.USER_ID, f"u{u:07d}"),))
        for i, u in enumerate((a, b))
    ]
    together = collect(engine, catalog, reqs)
    for request, person in zip(reqs, together, strict=True):
        [alone] = collect(engine, catalog, [request])
        assert {k: v.num_rows for k, v in person.tables.items()} == {
            k: v.num_rows for k, v in alone.tables.items()
        }


_PHONE_CHARS = st.text(alphabet="0123456789 +-().x\u0663", max_size=20)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(raw=st.lists(_PHONE_CHARS, min_size=1, max_size=8), picks=st.sets(st.integers(0, 7)))
def test_phone_pattern_agrees_with_normalize_in_duckdb(raw: list[str], picks: set[int]) -> None:
    """The scans find phones with a regular expression on the raw text (cheaper than
    normalising every row): it must select exactly the rows `normalize` would."""
    import duckdb

    rules = MatchRules()
    normal = [normalize(IdentityKind.PHONE, r, rules) for r in raw]
    wanted = {n for i in picks if i < len(raw) and (n := normal[i])}
    if not wanted:
        return
    con = duckdb.connect()
    found = con.execute(
        "SELECT list(v ORDER BY i) FROM (SELECT unnest(?::VARCHAR[]) AS v,"
        " generate_subscripts(?::VARCHAR[], 1) AS i) WHERE regexp_matches(v, ?)",
        [raw, raw, phone_pattern(wanted)],
    ).fetchone()
    assert found is not None
    got = sorted(found[0] or [])
    assert got == sorted(r for r, n in zip(raw, normal, strict=True) if n in wanted)
