"""Issue 26, breach scoping, the findings left open after red team 26b.

1. F19's tail: an address written with a Unicode domain (`p10@exämple.com`) reaches the
   account holder whose account holds its IDNA ASCII form (`p10@xn--exmple-cua.com`), and
   the other way round, in breach scoping (both searches) and in access.
2. A person's letter lists the leaked columns that held a value in their own rows, not every
   leaked column of the table; the regulator report keeps the table's view.
3. The ENISA data processing context (DPC) does not count a category whose leaked columns
   are empty in every row in scope, and says why.
4. A person's name in `--what` or `--measures` is refused (it would go into every letter),
   naming the option and the position, never the name.
5. `--where` on a second timestamp column (not the one the window is read on) works, its
   value and each cell compared as instants in UTC (offsets applied).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dsar.breach import Incident, ScopeSpec, parse_where
from dsar.breach.scope import scope_breach
from dsar.catalog import load_catalog
from dsar.engine import open_engine
from dsar.errors import UsageError
from tests.test_attacks_breach import _manifest, _run
from tests.test_attacks_breach_categories26b import e1_shape

IDN_CATALOG = """\
version: 1
controller:
  name: Acme B.V.
  contact: privacy@acme.test
  dpo: dpo@acme.test
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
  automated_decisions: No decisions are made solely by automated means.
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Accounts.
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
      country: {type: string, category: location}
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
      email: {identity: email, type: string, category: contact}
      created_at: {type: timestamp}
"""
# account holder -> (address their account holds, address their ticket holds)
IDN = {
    10: ("p10@xn--exmple-cua.com", "p10@ex\u00e4mple.com"),  # the red team's e15 row
    20: ("p20@ex\u00e4mple.com", "P20@XN--EXMPLE-CUA.COM"),  # the other way round
    30: ("p30@m\u00fcller.de", "p30@M\u00dcLLER.de"),  # both Unicode: case only
}
STRANGER = 40  # holds p10@exämple.org: no one else's ticket is theirs


@pytest.fixture
def idn(tmp_path: Path) -> Path:
    root = tmp_path / "idn"
    root.mkdir()
    lines = ["user_id,email,country"]
    lines += [f"u{n},{account},NL" for n, (account, _) in IDN.items()]
    lines.append(f"u{STRANGER},p10@ex\u00e4mple.org,NL")
    (root / "accounts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [
        {"ticket_id": f"t{n}", "email": cell, "created_at": "2026-11-05T00:00:00Z"}
        for n, (_, cell) in IDN.items()
    ]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (root / "tickets.jsonl").write_text(text, encoding="utf-8")
    (root / "catalog.yml").write_text(IDN_CATALOG)
    return root / "catalog.yml"


def test_an_idn_address_reaches_its_account_holder_in_breach_scope(
    idn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "scope"
    args = ["breach", "scope", "--catalog", str(idn), "--table", "tickets"]
    code, output = _run(
        [*args, "--discovered", "2026-12-05T18:30Z", "--out", str(out)], monkeypatch
    )
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    # one account holder per ticket (so with a country), written to at their account's
    # address; none is a phantom person without an account at the cell as written
    assert sorted(p["contact"] for p in people) == sorted(a for a, _ in IDN.values())
    assert all(p["account_holder"] and p["country"] == "NL" for p in people), people
    assert all(p["rows_in_scope"] == 1 for p in people)
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["people"] == len(IDN) and counts["account_holders"] == len(IDN)
    assert counts["not_linked"] == {}


@pytest.mark.parametrize("method", ["set", "per-person"])
def test_both_searches_give_the_same_idn_people(idn: Path, method: str) -> None:
    with open_engine(load_catalog(idn), "duckdb") as engine:
        scope = scope_breach(engine, ScopeSpec(("tickets",)), method=method)  # type: ignore[arg-type]
    holders = {p.contact.value if p.contact else None: p.account_holder for p in scope.people}
    assert holders == {a: True for a, _ in IDN.values()}
    assert scope.not_linked == {}


def _bundle_tickets(
    catalog: Path, out: Path, user: int, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    args = ["access", "--catalog", str(catalog), "--out", str(out), "--label", "R"]
    code, output = _run([*args, "--id", f"user_id=u{user}"], monkeypatch)
    assert code == 0, output  # the bundle verified: its linkage check reads both forms
    tickets = out / "R" / "data" / "tickets.parquet"
    return pq.read_table(tickets).column("ticket_id").to_pylist() if tickets.exists() else []


@pytest.mark.parametrize("user", sorted(IDN))
def test_an_idn_address_is_in_its_holders_access_bundle(
    idn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: int
) -> None:
    assert _bundle_tickets(idn, tmp_path / "out", user, monkeypatch) == [f"t{user}"]


def test_an_address_given_in_unicode_finds_the_ascii_rows_in_access(
    idn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    args = ["access", "--catalog", str(idn), "--out", str(out), "--label", "R"]
    code, output = _run([*args, "--id", "email=p20@ex\u00e4mple.com"], monkeypatch)
    assert code == 0, output
    accounts = pq.read_table(out / "R" / "data" / "accounts.parquet").to_pylist()
    assert [a["user_id"] for a in accounts] == ["u20"]
    tickets = pq.read_table(out / "R" / "data" / "tickets.parquet").to_pylist()
    assert [t["ticket_id"] for t in tickets] == ["t20"]


def test_another_domain_gets_no_idn_row(
    idn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _bundle_tickets(idn, tmp_path / "out", STRANGER, monkeypatch) == []


# --- 2. a letter lists the person's own leaked columns ----------------------------------


def _scope_e1(
    catalog: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, str]:
    return _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(catalog),
            "--table",
            "tickets",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-14",
            "--discovered",
            "2026-11-20T18:30Z",
            "--out",
            str(out),
            *extra,
        ],
        monkeypatch,
    )


def _letters(out: Path) -> dict[str, str]:
    """Each person's letter (markdown) by their contact address."""
    people = pq.read_table(out / "affected.parquet").to_pylist()
    return {p["contact"]: (out / p["letter"]).read_text() for p in people if p["letter"]}


def test_a_letter_lists_only_the_columns_filled_in_the_persons_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "BR"
    code, output = _scope_e1(e1_shape(tmp_path / "e1"), out, monkeypatch)
    assert code == 0, output
    letters = _letters(out)
    # t1 holds alice's address (no user id); t2 holds bob's user id and no address
    alice, bob = letters["alice@example.com"], letters["bob@example.com"]
    assert "- Tickets: ticket ID, requester email, body, created at." in alice
    assert "- Tickets: ticket ID, user ID, body." in bob  # t2: its time is empty
    assert "Details that were empty in your records are not listed" in bob
    # no leaked address of bob's: not told to beware of phishing at it
    assert "phishing" in alice and "phishing" not in bob
    # the authority's report keeps the table's view: every leaked column
    report = (out / "regulator-report.md").read_text()
    assert "tickets.requester_email" in report and "tickets.user_id" in report


# --- 3. ENISA DPC: a category with no value in scope does not count ---------------------


def _with_token(catalog: Path, token: str | None) -> Path:
    """e1 with a leaked credentials column, `token` in t2 (None: empty in every row)."""
    catalog.write_text(
        catalog.read_text().replace(
            "      body: {free_text: true, type: string}\n",
            "      body: {free_text: true, type: string}\n"
            "      api_token: {secret: true, type: string}\n",
        )
    )
    for part in (catalog.parent / "tickets").glob("*.jsonl"):
        rows = [json.loads(line) for line in part.read_text().splitlines()]
        for row in rows:
            row["api_token"] = token if row["ticket_id"] == "t2" else None
        part.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return catalog


def test_an_empty_credentials_column_does_not_raise_the_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _with_token(e1_shape(tmp_path / "e1"), None)
    code, output = _scope_e1(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    manifest = _manifest(tmp_path / "BR")
    found = manifest["categories"]
    assert isinstance(found, dict)
    assert found["credentials"] == {"columns": ["tickets.api_token"], "rows": 0, "people": 0}
    severity = manifest["severity"]
    assert isinstance(severity, dict)
    # communications and free text: behavioural, DPC 2 (was 3: "credentials leaked")
    assert severity["dpc"]["value"] == 2, severity["dpc"]
    assert "not counted: credentials" in severity["dpc"]["reason"]
    assert "no value in any row in scope" in severity["dpc"]["reason"]


def test_a_credentials_column_holding_a_value_still_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _with_token(e1_shape(tmp_path / "e1"), "tok-123")
    code, output = _scope_e1(catalog, tmp_path / "BR", monkeypatch)
    assert code == 0, output
    severity = _manifest(tmp_path / "BR")["severity"]
    assert isinstance(severity, dict)
    assert severity["dpc"]["value"] == 3 and "not counted" not in severity["dpc"]["reason"]


# --- 4. a name in --what or --measures is refused -----------------------------------------


@pytest.mark.parametrize(
    ("option", "text", "position"),
    [
        ("--what", "The laptop of Bob Bb was stolen from a car", 15),
        ("--measures", "We called Alice Aa and wiped the laptop", 11),
    ],
)
def test_a_name_in_what_or_measures_is_refused_by_position(
    option: str, text: str, position: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "BR"
    code, output = _scope_e1(e1_shape(tmp_path / "e1"), out, monkeypatch, option, text)
    assert code == 1, output
    assert option in output and "a person's name" in output
    assert f"at character {position}" in output
    assert "Bob" not in output and "Alice" not in output  # never the name
    assert not out.exists() or not any(out.iterdir())


def test_the_python_api_refuses_a_name_too() -> None:
    with pytest.raises(UsageError, match="a person's name"):
        Incident(
            "BR-1",
            datetime(2026, 11, 20, tzinfo=UTC),
            "A laptop was stolen.",
            "Our DPO Jane Doe reviewed it.",
        )
    # plain words pass
    Incident(
        "BR-1",
        datetime(2026, 11, 20, tzinfo=UTC),
        "A copy of the support tickets was exposed on the internet.",
        "We closed the access and informed the Autoriteit Persoonsgegevens.",
    )


# --- 5. --where on a second timestamp column ---------------------------------------------

TIMED = """\
version: 1
controller:
  name: Acme B.V.
  contact: privacy@acme.test
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Accounts.
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
      country: {type: string, category: location}
  tickets:
    path: tickets.FORMAT
    format: FORMAT
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
      created_at: {type: timestamp}
      closed_at: {type: timestamp}
"""
# ticket -> closed_at; the bound 2026-11-10T00:00:00+05:00 is 2026-11-09T19:00Z
CLOSED = {
    "c1": "2026-11-09T20:00:00Z",  # 20:00Z: after
    "c2": "2026-11-10T03:00:00+05:00",  # 22:00Z on the 9th: after
    "c3": "2026-11-09T23:00:00+05:00",  # 18:00Z: before (its clock time is after 19:00)
    "c4": "2026-11-09T18:30:00-01:00",  # 19:30Z: after (its clock time is before 19:00)
    "c5": None,  # empty: cannot be placed outside the condition, kept and counted
    "c6": "2026-11-09T12:00:00Z",  # before
    "c7": "2026-11-10T06:00:00+05:00",  # 01:00Z on the 10th: after
}


def _timed(root: Path, fmt: str) -> Path:
    root.mkdir()
    lines = ["user_id,email,country"] + [f"u{t[1:]},p{t[1:]}@example.com,NL" for t in CLOSED]
    (root / "accounts.csv").write_text("\n".join(lines) + "\n")
    rows = [
        {"ticket_id": t, "user_id": f"u{t[1:]}", "created_at": "2026-11-05T10:00:00Z",
         "closed_at": c}
        for t, c in CLOSED.items()
    ]  # fmt: skip
    if fmt == "jsonl":
        (root / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        lines = ["ticket_id,user_id,created_at,closed_at"] + [
            f"{r['ticket_id']},{r['user_id']},{r['created_at']},{r['closed_at'] or ''}"
            for r in rows
        ]
        (root / "tickets.csv").write_text("\n".join(lines) + "\n")
    (root / "catalog.yml").write_text(TIMED.replace("FORMAT", fmt))
    return root / "catalog.yml"


def _timed_scope(
    catalog: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, str]:
    return _run(
        [
            "breach",
            "scope",
            "--catalog",
            str(catalog),
            "--table",
            "tickets",
            "--discovered",
            "2026-11-20T18:30Z",
            "--out",
            str(out),
            *extra,
        ],
        monkeypatch,
    )


def _reached(out: Path) -> set[str]:
    return {p["contact"] for p in pq.read_table(out / "affected.parquet").to_pylist()}


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("window", [(), ("--from", "2026-11-01", "--to", "2026-11-30")])
def test_a_where_on_a_second_time_column_compares_instants(
    fmt: str, window: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _timed(tmp_path / "t", fmt)
    out = tmp_path / "BR"
    where = "closed_at >= 2026-11-10T00:00:00+05:00"
    code, output = _timed_scope(catalog, out, monkeypatch, *window, "--where", where)
    assert code == 0, output  # was refused: "is on a time column"
    assert _reached(out) == {f"p{n}@example.com" for n in (1, 2, 4, 5, 7)}
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"tickets": 5}
    assert counts["time_undetermined"] == {"tickets": 1}  # c5: empty, kept
    assert "2026-11-10T00:00:00+05:00" not in output  # the value is never echoed
    assert "--where condition" in output  # the undetermined row is said


@pytest.mark.parametrize(
    ("where", "tickets"),
    [
        ("closed_at < 2026-11-09T19:00:00Z", {3, 5, 6}),
        ("closed_at > 2026-11-09T19:00:00Z", {1, 2, 4, 5, 7}),
        ("closed_at <= 2026-11-09", {1, 2, 3, 4, 5, 6}),  # a date: its whole day (UTC)
        ("closed_at >= 2026-11-10", {5, 7}),  # c2 reads the 10th, but is 22:00Z on the 9th
        ("closed_at > 2026-11-09", {5, 7}),  # after that whole day
        ("closed_at = 2026-11-09", {1, 2, 3, 4, 5, 6}),
        ("closed_at != 2026-11-09", {5, 7}),
    ],
)
def test_each_operator_on_a_second_time_column(
    where: str, tickets: set[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _timed(tmp_path / "t", "jsonl")
    out = tmp_path / "BR"
    code, output = _timed_scope(catalog, out, monkeypatch, "--where", where)
    assert code == 0, output
    assert _reached(out) == {f"p{n}@example.com" for n in tickets}


def test_the_window_column_and_like_on_a_time_column_are_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _timed(tmp_path / "t", "jsonl")
    code, output = _timed_scope(
        catalog, tmp_path / "BR", monkeypatch, "--where", "created_at > 2026-11-01"
    )
    assert code == 1 and "is on a time column (tickets.created_at)" in output
    code, output = _timed_scope(
        catalog, tmp_path / "BR2", monkeypatch, "--where", "closed_at like '2026-11-%'"
    )
    assert code == 1 and "compares the text of a time column" in output
    code, output = _timed_scope(
        catalog, tmp_path / "BR3", monkeypatch, "--where", "closed_at > soon"
    )
    assert code == 1 and "not a date or ISO timestamp" in output


def test_both_searches_agree_on_a_second_time_column(tmp_path: Path) -> None:
    catalog = _timed(tmp_path / "t", "csv")
    spec = ScopeSpec(("tickets",), where=(parse_where("closed_at >= 2026-11-10T00:00:00+05:00"),))
    found = {}
    for method in ("set", "per-person"):
        with open_engine(load_catalog(catalog), "duckdb") as engine:
            scope = scope_breach(engine, spec, method=method)
        found[method] = sorted(str(p.contact) for p in scope.people)
        assert scope.rows == {"tickets": 5} and scope.undetermined == {"tickets": 1}
    assert found["set"] == found["per-person"] and len(found["set"]) == 5
