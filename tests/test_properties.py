"""Property tests: invariants that must hold for any person in the demo export."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

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
    sql_normalize,
)
from tests.sql_keys import CONNECTION, macro, sql_keys

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


_PHONE_CHARS = st.text(alphabet="0123456789 +-().x\u0663\uff0b", max_size=20)
_REGIONS = st.sampled_from([None, "DE", "US", "IT", "AU", "HU", "RU"])


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    raw=st.lists(
        st.one_of(_PHONE_CHARS, st.sampled_from(["0049 (0)30 1234", "+49 30 1234", "0301234"])),
        min_size=1,
        max_size=8,
    ),
    picks=st.sets(st.integers(0, 7)),
    region=_REGIONS,
)
@example(raw=["10000x0"], picks={0}, region=None)  # an extension, cut from the key
@example(raw=["+1 303 555 0101 x12", "030 1234 ext. 7", "0301234#5"], picks={0, 1, 2}, region="US")
def test_phone_pattern_agrees_with_normalize_in_duckdb(
    raw: list[str], picks: set[int], region: str | None
) -> None:
    """The scans find phones with a regular expression on the raw text (cheaper than
    normalising every row), then test the key of the rows it found: the pattern must find
    every row `normalize` would (under any region: the index and the scans share it), and
    with the key test exactly those."""
    rules = MatchRules(phone_region=region)
    normal = [normalize(IdentityKind.PHONE, r, rules) for r in raw]
    wanted = {n for i in picks if i < len(raw) and (n := normal[i])}
    if not wanted:
        return
    key = f"{macro(IdentityKind.PHONE, rules, for_match=True)}(v)"
    found = CONNECTION.execute(
        f"SELECT list(v ORDER BY i) FILTER (WHERE regexp_matches(v, $2)),"
        f" list(v ORDER BY i) FILTER (WHERE regexp_matches(v, $2) AND {key} IN (SELECT"
        " unnest($3::VARCHAR[]))) FROM (SELECT unnest($1::VARCHAR[]) AS v,"
        " generate_subscripts($1::VARCHAR[], 1) AS i)",
        [raw, phone_pattern(wanted), sorted(wanted)],
    ).fetchone()
    assert found is not None
    superset, exact = found[0] or [], found[1] or []
    expected = sorted(r for r, n in zip(raw, normal, strict=True) if n in wanted)
    assert set(expected) <= set(superset)
    assert sorted(exact) == expected
    # a requester's number read with no region (`parse_key`), read again in the region
    # (`rekey`), is the key its rows have there
    for value in raw:
        if (plain := normalize(IdentityKind.PHONE, value, MatchRules())) is not None:
            again = normalize(IdentityKind.PHONE, plain, rules)
            assert again == normalize(IdentityKind.PHONE, value, rules), value


# pieces of identifiers as they are typed, pasted and exported: invisible characters, every
# kind of blank, letters whose lower case differs between Python and SQL ('İ', a final 'Σ')
_PIECES = st.sampled_from(
    [
        *("ann", "A.Nn", "+tag", "@", "@@", "gmail.com", "googlemail.com", "Example.COM", "."),
        *(" ", "\t", "\n", "\r", "\x1f", "\x85", "\xa0", "\u2007", "\u3000", "\u2028"),
        *("\u200b", "\u200d", "\u00ad", "\u2060", "\ufeff", "\u202e", "\u0430"),
        *(
            "İ",
            "Σ",
            "ΑΣ",
            "ß",
            "\ufb01",
            "\uff20",
            "\u0661\u0662\u0663",
            "0044 20 7946 0001",
            *("+", "00", "(0)", "\uff0b", "011", "0", "1", "06"),
            "::1",
            "FE80::1",
        ),
        # how an address is written in a cell: full-width, a link, a display name, quotes of
        # every kind, a list's separator, a quoted local part, a Unicode or IDNA domain
        *("\uff50\uff17", "\uff0e", "\u3002", "\uff61", "\uff1c", "\uff02", "mailto:", "MailTo:"),
        *("?subject=x", "P Four ", "<", ">", '"', "'", "`", "\u201c", "\u201d", "\u00ab"),
        *("\u00bb", ";", ",", "ex\u00e4mple.com", "xn--exmple-cua.com", "\u00e4"),
        # placeholders (never a match) and spellings one under NFC or a final sigma
        *("none", "N/A", "Null", "\uff2e\uff2f\uff2e\uff25", "0", "0000", "-", "xxx", "999999"),
        *("noreply", "Guest", "\u03c2", "e\u0301", "\u0301", "\u00e9", "\u212b", "0-0:0"),
    ]
)
_IDENTIFIER = st.one_of(
    st.lists(_PIECES, max_size=8).map("".join),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=16),
)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(
    values=st.lists(_IDENTIFIER, min_size=1, max_size=8),
    kind=st.sampled_from(list(IdentityKind)),
    plus=st.booleans(),
    dots=st.booleans(),
    region=_REGIONS,
)
def test_sql_normalize_agrees_with_normalize(
    values: list[str], kind: IdentityKind, plus: bool, dots: bool, region: str | None
) -> None:
    """Requests are normalised in Python, the files in SQL: a row is found only if both
    sides give the same text. With `for_match`, an unusable value may come out unchanged
    but never as a normalised identifier (a fixed point of `normalize`)."""
    rules = MatchRules(plus_addressing=plus, gmail_dots=dots, phone_region=region)
    rows = zip(
        sql_keys(kind, values, rules), sql_keys(kind, values, rules, for_match=True), strict=True
    )
    for value, (in_sql, for_match) in zip(values, rows, strict=True):
        expected = normalize(kind, value, rules)
        assert in_sql == expected, (kind, value)
        if expected is not None:
            assert for_match == expected, (kind, value)
        else:
            assert for_match is None or normalize(kind, for_match, rules) != for_match


@pytest.mark.parametrize(
    ("kind", "stored", "requested"),
    [
        (IdentityKind.EMAIL, "ann\u200b@example.com", "ann@example.com"),  # zero-width space
        (IdentityKind.EMAIL, "\ufeffAnn@Example.com\u00a0", "ann@example.com"),  # BOM, nbsp
        (IdentityKind.EMAIL, "an\u00adn@example.com", "ann@example.com"),  # soft hyphen
        (IdentityKind.USER_ID, "u1\u2060", "u1"),  # word joiner
        (IdentityKind.EMAIL, "\tann@example.com\r\n", "ann@example.com"),
        # the red team's e15 forms (issue 26b F19): the same address written otherwise
        (
            IdentityKind.EMAIL,
            "\uff41\uff4e\uff4e\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
            "ann@example.com",
        ),
        (IdentityKind.EMAIL, "ann\u00a0@example\u3002com", "ann@example.com"),
        (IdentityKind.EMAIL, "MAILTO:ann@example.com?subject=Hi", "ann@example.com"),
        (IdentityKind.EMAIL, "Ann Lee <ann@example.com>", "ann@example.com"),
        (IdentityKind.EMAIL, '"ann@example.com"', "ann@example.com"),
        (IdentityKind.EMAIL, "\u00abann@example.com\u00bb", "ann@example.com"),
        (IdentityKind.EMAIL, "ann@example.com; ", "ann@example.com"),
        (IdentityKind.EMAIL, '"ann"@example.com,', "ann@example.com"),
    ],
    ids=[
        *("zero-width", "bom-nbsp", "soft-hyphen", "word-joiner", "tab-crlf"),
        *("full-width", "nbsp-inside", "mailto", "display-name", "quoted", "guillemets"),
        *("list-separator", "quoted-local"),
    ],
)
def test_invisible_characters_do_not_hide_a_person(
    kind: IdentityKind, stored: str, requested: str
) -> None:
    import duckdb

    rules = MatchRules()
    key = make_key(kind, requested)
    found = duckdb.connect().execute(
        f"SELECT {sql_normalize(kind, '$1', rules, for_match=True)} = $2", [stored, key.value]
    )
    assert found.fetchone() == (True,)


@pytest.mark.parametrize(
    "stored",
    ["\u0430nn@example.com", "ann@ex\u0430mple.com", "ann@example.co", "ann@example.com.au"],
    ids=["cyrillic-a-local", "cyrillic-a-domain", "other-domain", "longer-domain"],
)
def test_look_alike_letters_are_another_identifier(stored: str) -> None:
    """A homograph is another address: folding it would hand one person's data to another."""
    normal = normalize(IdentityKind.EMAIL, stored, MatchRules())
    assert normal != "ann@example.com"


@pytest.mark.parametrize(
    "cell",
    [
        "Ann Lee <mailto:Ann@Example.com>",
        "Ann Lee <MAILTO:ann@example.com?subject=Hi>;",
        "<mailto:ann@example.com>",
        "\uff21nn <mailto:ann@example.com>",
    ],
)
def test_a_link_inside_a_display_name_is_the_address(cell: str) -> None:
    """'Ann <mailto:ann@example.com>' (a mail client's link pasted into a cell) is Ann's
    address: in Python, in the engine's SQL and in a bundle's own check (`dsar.review.bundle`),
    where its 'mailto:' once stayed and the row was nobody's."""
    from dsar.review.bundle import _norm
    from dsar.review.manifest import MatchRulesInfo

    rules = MatchRules()
    assert normalize(IdentityKind.EMAIL, cell, rules) == "ann@example.com"
    assert sql_keys(IdentityKind.EMAIL, [cell], rules) == ["ann@example.com"]
    info = MatchRulesInfo(gmail_dots=False, plus_addressing=False, phone_region=None)
    assert _norm("email", cell, info) == "ann@example.com"
