"""One IP address written in different forms meets itself, in Python and in SQL (red team 26,
finding 9): IPv6 in any case, with or without its groups' leading zeros, with any run of zero
groups written as '::' or in full; an IPv4-mapped IPv6 ('::ffff:192.0.2.1',
'::ffff:c000:201') and its IPv4 address. Access, erasure and breach scoping find the rows
stored in any of these forms, and no neighbouring address's row.

The oracle is Python's `ipaddress` (an independent reading of the same RFCs): every writing
it reads as one address normalises to that address's one form."""

from __future__ import annotations

import csv
import ipaddress
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from dsar import SubjectRequest, load_catalog, open_engine, parse_key, plan_erasure
from dsar.catalog.models import IdentityKind
from dsar.subjects.identity import MatchRules, ip_pattern, normalize, sql_normalize
from tests.sql_keys import CONNECTION, sql_keys
from tests.test_attacks_access_s13b import KEYS
from tests.test_attacks_breach import _run

IP = IdentityKind.IP_ADDRESS
RULES = MatchRules()


def _one_form(text: str) -> str | None:
    """The address's one form by `ipaddress`: RFC 5952's text, an IPv4-mapped address as
    its IPv4 address; None where `ipaddress` reads no address (or a zone, kept as written)."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id is not None:
            return None
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
    return str(ip)


_CON = CONNECTION


def _sql(values: list[str], *, for_match: bool = False) -> list[str | None]:
    return sql_keys(IP, values, RULES, for_match=for_match)


# (stored, its one form): the red team's forms first
FORMS = [
    ("2001:DB8::1", "2001:db8::1"),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("2001:db8:0:0::1", "2001:db8::1"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("::ffff:c000:201", "192.0.2.1"),
    ("0:0:0:0:0:FFFF:C000:0201", "192.0.2.1"),
    (" 192.0.2.1\u200b", "192.0.2.1"),
    # RFC 5952: the longest run of zeros, the first of equal ones, never a single group
    ("1:0:0:1:0:0:1:1", "1::1:0:0:1:1"),
    ("1:0:0:0:1:0:0:0", "1::1:0:0:0"),
    ("0:0:1:0:0:0:0:1", "0:0:1::1"),
    ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
    ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
    # an IPv4 tail on another prefix is hex: only the mapped prefix is an IPv4 address
    ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),
    ("::192.0.2.1", "::c000:201"),
    # kept as written: an IPv4 address with leading zeros (octal to inet_aton), a zone,
    # brackets, a port, a prefix length, what is no address
    ("192.000.002.001", "192.000.002.001"),
    ("::ffff:192.000.002.001", "::ffff:192.000.002.001"),
    ("FE80::1%eth0", "fe80::1%eth0"),
    ("[2001:db8::1]", "[2001:db8::1]"),
    ("192.0.2.1:443", "192.0.2.1:443"),
    ("2001:db8::/32", "2001:db8::/32"),
    ("1::2::3", "1::2::3"),
    ("1:2:3::4:5:6:7:8", "1:2:3::4:5:6:7:8"),
    ("1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"),
    ("12345::1", "12345::1"),
]


@pytest.mark.parametrize(("stored", "one"), FORMS, ids=[s for s, _ in FORMS])
def test_every_writing_of_an_address_is_its_one_form(stored: str, one: str) -> None:
    assert normalize(IP, stored, RULES) == one
    assert _sql([stored]) == [one]
    assert _sql([stored], for_match=True) == [one]
    assert normalize(IP, one, RULES) == one  # idempotent


@pytest.mark.parametrize("stored", ["::", "0:0:0:0:0:0:0:0", "0000::0", "::ffff:0:0", "0.0.0.0"])
def test_the_unspecified_address_in_any_form_is_no_ones(stored: str) -> None:
    assert normalize(IP, stored, RULES) is None
    assert _sql([stored]) == [None]


@st.composite
def _writing(draw: st.DrawFn) -> tuple[int, str]:
    """An IPv6 address (often with runs of zero groups, often IPv4-mapped) and one way of
    writing it: any case, leading zeros or not, any run of zero groups as '::', the last
    two groups as an IPv4 address."""
    groups = draw(
        st.lists(
            st.one_of(st.just(0), st.just(0), st.integers(0, 0xFFFF), st.sampled_from([1, 0xFFFF])),
            min_size=8,
            max_size=8,
        )
    )
    if draw(st.booleans()):  # IPv4-mapped, or near it
        groups[:6] = [0, 0, 0, 0, 0, draw(st.sampled_from([0xFFFF, 0xFFFF, 0, 0xFFFE]))]
    value = 0
    for g in groups:
        value = value << 16 | g
    texts = [
        format(g, "x").zfill(draw(st.integers(len(format(g, "x")), 4)))
        if draw(st.booleans())
        else format(g, "x")
        for g in groups
    ]
    tail = draw(st.booleans())
    if tail:
        texts[6:] = [".".join(str(b) for b in value.to_bytes(16, "big")[12:])]
    zeros = [i for i, g in enumerate(groups[: 6 if tail else 8]) if g == 0]
    squeeze: bool = draw(st.booleans())
    if zeros and squeeze:  # a run of zero groups (any, even one) as '::'
        start = draw(st.sampled_from(zeros))
        end = start
        limit = 6 if tail else 8
        while end + 1 < limit and groups[end + 1] == 0 and draw(st.booleans()):
            end += 1
        text = ":".join(texts[:start]) + "::" + ":".join(texts[end + 1 :])
    else:
        text = ":".join(texts)
    text = "".join(c.upper() if draw(st.booleans()) else c for c in text)
    return value, text


@settings(derandomize=True, max_examples=120, deadline=None)
@given(
    writings=st.lists(_writing(), min_size=1, max_size=30),
    junk=st.lists(st.text(alphabet="0123456789abcdefABCDEF:.%/ ", max_size=14), max_size=12),
)
def test_python_and_duckdb_read_every_writing_as_ipaddress_does(
    writings: list[tuple[int, str]], junk: list[str]
) -> None:
    """Python, DuckDB's SQL and `ipaddress` agree on every writing of an address; two
    writings meet exactly when they are one address (no false match); and on any other text
    Python and SQL agree."""
    texts = [t for _, t in writings] + junk
    in_sql = _sql(texts)
    for_match = _sql(texts, for_match=True)
    for text, got, matched in zip(texts, in_sql, for_match, strict=True):
        expected = normalize(IP, text, RULES)
        assert got == expected, text
        if expected is not None:
            assert matched == expected, text
    forms: dict[str | None, set[int]] = {}
    for value, text in writings:
        one = normalize(IP, text, RULES)
        oracle = ipaddress.IPv6Address(value)
        unspecified = oracle.ipv4_mapped == ipaddress.IPv4Address(0) or value == 0
        assert one == (None if unspecified else _one_form(text)), text
        assert _one_form(text) == _one_form(str(oracle))  # the writing is of that address
        forms.setdefault(one, set()).add(value)
    assert all(len(values) == 1 for one, values in forms.items() if one is not None)


@settings(derandomize=True, max_examples=120, deadline=None)
@given(
    writings=st.lists(_writing(), min_size=1, max_size=20),
    noise=st.sampled_from(["", " ", "\u200b", '"', "\u00a0"]),
)
def test_the_scan_prefilter_finds_every_writing_of_an_address(
    writings: list[tuple[int, str]], noise: str
) -> None:
    """A scan first looks for an address's last group or dotted quad in the raw text
    (`ip_pattern`), then reads the form of only those rows: whatever writing is stored (with
    blanks, an invisible character or quotes about it), the prefilter keeps it, in Python's
    and DuckDB's regular expressions alike."""
    import re

    for _, text in writings:
        one = normalize(IP, text, RULES)
        if one is None:
            continue
        pattern = ip_pattern([one])
        assert pattern is not None, one
        stored = f"{noise}{text}{noise}"  # quoted: a JSON column's raw text
        assert noise == '"' or normalize(IP, stored, RULES) == one
        assert re.search(pattern, stored), (stored, pattern)
        found = _CON.execute("SELECT regexp_matches(?, ?)", [stored, pattern]).fetchone()
        assert found == (True,), (stored, pattern)


def test_the_prefilter_is_no_filter_for_what_is_no_plain_address() -> None:
    assert ip_pattern(["fe80::1%eth0"]) is None  # a zone: kept as written
    assert ip_pattern(["192.000.002.001"]) is None  # leading zeros: kept as written
    assert ip_pattern(["2001:0db8::1"]) is None  # not a form the search compares
    pattern = ip_pattern(["192.0.2.1"])
    assert pattern is not None
    import re

    assert not re.search(pattern, "192.0.2.10") and not re.search(pattern, "::ffff:c000:202")


# --- the searches: access, erasure and breach scoping find every form -----------------
# --- the searches: access, erasure and breach scoping find every form -----------------

CATALOG = """\
version: 1
controller:
  name: Lab B.V.
  contact: privacy@lab.example
  dpo: dpo@lab.example
  supervisory_authority: the authority
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Your account.
    category: account
    origin: provided
    purposes: [service]
    legal_basis: contract
    source: the person
    retention: {criteria: while open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string, category: contact}
      last_ip: {identity: ip_address, type: string}
      country: {type: string, category: location}
  web_logs:
    path: web_logs.csv
    format: csv
    description: Web logs.
    category: logs
    origin: observed
    purposes: [security]
    legal_basis: legitimate_interests
    source: your browser
    retention: {period: 30 days, after: ts}
    erasure: {action: delete}
    primary_key: [line]
    columns:
      line: {type: string}
      ts: {type: timestamp}
      ip: {identity: ip_address, type: string}
"""
# u1's address and u2's, each in its red team forms; u3's a neighbour of both
ACCOUNTS = [("u1", "192.0.2.1"), ("u2", "2001:db8::1"), ("u3", "2001:db8::10")]
LOG_IPS = {
    "u1": ["192.0.2.1", "::ffff:192.0.2.1", "::FFFF:C000:0201", "0:0:0:0:0:ffff:c000:201"],
    "u2": ["2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8:0:0::1"],
    "u3": ["2001:db8:0:0:0:0:0:10", "192.0.2.10", "::ffff:192.0.2.10", "192.000.002.001"],
}


@pytest.fixture
def ip_lab(tmp_path: Path) -> Path:
    root = tmp_path / "ip_lab"
    root.mkdir()
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "last_ip", "country"])
        for user, ip in ACCOUNTS:
            w.writerow([user, f"{user}@example.com", ip, "NL"])
    with (root / "web_logs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["line", "ts", "ip"])
        for user, ips in LOG_IPS.items():
            for j, ip in enumerate(ips):
                w.writerow([f"{user}-{j}", "2026-11-05 10:00:00", ip])
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _lines(user: str) -> list[str]:
    return [f"{user}-{j}" for j in range(len(LOG_IPS[user]))]


@pytest.mark.parametrize(
    ("given", "user"),
    [("192.0.2.1", "u1"), ("::ffff:c000:201", "u1"), ("2001:0DB8::0001", "u2")],
)
def test_access_by_ip_finds_every_form_and_no_neighbour(
    ip_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, user: str
) -> None:
    out = tmp_path / "out"
    args = ["access", "--catalog", str(ip_lab), "--out", str(out), "--label", "R"]
    code, output = _run([*args, "--id", f"ip_address={given}"], monkeypatch)
    assert code == 0, output  # the bundle verified: its own linkage check reads the forms
    logs = pq.read_table(out / "R" / "data" / "web_logs.parquet").column("line").to_pylist()
    assert sorted(logs) == _lines(user)


def test_erasure_by_ip_plans_every_form_and_no_neighbour(ip_lab: Path) -> None:
    catalog = load_catalog(ip_lab)
    request = SubjectRequest("ER-1", (parse_key("ip_address=192.0.2.1"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS, today=date(2026, 12, 7))
    rows = {a.table: a.rows for a in plan.actions}
    assert rows["web_logs"] == len(LOG_IPS["u1"])
    assert plan.data is not None
    lines = plan.data.tables["web_logs"].column("line").to_pylist()
    assert sorted(lines) == _lines("u1")


def test_breach_scope_reaches_the_holder_of_every_form(
    ip_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "scope"
    args = ["breach", "scope", "--catalog", str(ip_lab), "--table", "web_logs"]
    code, output = _run(
        [*args, "--discovered", "2026-12-05T18:30Z", "--out", str(out)], monkeypatch
    )
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    reached = {p["contact"]: p["rows_in_scope"] for p in people}
    # u3's own address is in one form only; its neighbours (.10, leading zeros) are no one's
    assert reached == {
        "u1@example.com": len(LOG_IPS["u1"]),
        "u2@example.com": len(LOG_IPS["u2"]),
        "u3@example.com": 1,
    }


@pytest.mark.spark
def test_spark_reads_every_form_as_duckdb_does(tmp_path: Path) -> None:
    """The SQL canonicaliser translated for Spark (`dsar.engine.spark_sql`) gives the same
    form as DuckDB's and as Python's."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from tests.conftest import write_tiny_export

    catalog = load_catalog(write_tiny_export(tmp_path / "tiny"))
    values = [s for s, _ in FORMS] + ["::", "0:0:0:0:0:0:0:0", "::ffff:0:0", "1:0:0:1:0:0:1:1"]
    expr = sql_normalize(IP, "v", RULES)
    sql = f"SELECT v, {expr} AS n FROM (SELECT unnest(CAST(? AS VARCHAR[])) AS v)"
    got = {}
    for kind in ("duckdb", "spark"):
        with open_engine(catalog, kind) as engine:
            got[kind] = dict(zip(*engine.query(sql, [values]).to_pydict().values(), strict=True))
    assert got["spark"] == got["duckdb"] == {v: normalize(IP, v, RULES) for v in values}
