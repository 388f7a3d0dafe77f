"""Property tests: invariants that must hold for any person in the demo export."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsar import Catalog, Engine, load_catalog, open_engine
from dsar.catalog import IdentityKind
from dsar.collect import collect
from dsar.identity import STRONG, MatchRules, SubjectRequest, make_key, normalize

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
