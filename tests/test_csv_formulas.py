"""Spreadsheet formulas: one rule, in Python, Arrow and SQL, through every CSV that leaves.

Every payload goes through each writer (bundle portability, extract, aggregate, audience) and
no written cell may be a formula; a hand-edited file is caught by `dsar verify`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sys
import unicodedata
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anonymize.aggregate import run_aggregates
from anonymize.audience import build_audience_file
from anonymize.audience.fields import google_postcode
from anonymize.audience.platforms import platform
from anonymize.extract import run_extract
from dsar import Keys, ReleaseLog, load_catalog, open_engine, verify_bundle, verify_derived
from dsar.access.answer import answer_access_requests
from dsar.csvsafe import (
    BLANKS,
    FORMULA_PATTERN,
    copy_csv,
    defuse,
    defuse_formulas,
    defuse_sql,
    is_formula,
    unsafe_csv_cell,
)
from dsar.engine.base import sql_string
from dsar.subjects.identity import SubjectRequest, parse_key

PAYLOADS = [
    pytest.param("=1+1", id="equals"),
    pytest.param("+1", id="plus"),
    pytest.param("-1+1", id="minus"),
    pytest.param("@SUM(1+1)", id="at"),
    pytest.param("\t=1+1", id="tab"),
    pytest.param("\tcmd", id="tab-alone"),
    pytest.param("\rcmd", id="cr-alone"),
    pytest.param("\ncmd", id="lf-alone"),
    pytest.param("\uff1d1+1", id="fullwidth-equals"),
    pytest.param("\uff0b1", id="fullwidth-plus"),
    pytest.param("\uff0d1+1", id="fullwidth-minus"),
    pytest.param("\uff20SUM(1+1)", id="fullwidth-at"),
    pytest.param("\u22121+1", id="minus-sign"),
    pytest.param(" =1+1", id="leading-space"),
    pytest.param("\n=cmd", id="leading-newline"),
    pytest.param("\r\n=cmd", id="leading-crlf"),
    pytest.param("\u3000\uff1dcmd", id="ideographic-space-fullwidth"),
    pytest.param("\u200b=1+1", id="zero-width-space"),
    pytest.param("=cmd|' /C calc'!A0", id="dde"),
    pytest.param('=HYPERLINK("http://evil.example","click")', id="hyperlink"),
    pytest.param("-5", id="text-minus-five"),
]
VALUES: list[str] = [str(p.values[0]) for p in PAYLOADS]
# what a read-back CSV cannot tell from a number: `dsar verify` lets a written number pass
VERIFIED = [p for p in PAYLOADS if p.values[0] != "-5"]
SAFE = ["Ann Lee", "a=1", "O'Brien", "'=1+1", "(total)", "5", "1-2", "", " hello", "x\n=1"]
ZERO_WIDTH = "\u180e\u200b\u200c\u200d\u2060\ufeff"
SIGNS = {"=", "+", "-", "@", "\u2212"}


def _cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _column(path: Path, name: str) -> list[str]:
    header, *rows = _cells(path)
    return [row[header.index(name)] for row in rows]


def _no_formula_in(path: Path) -> None:
    for number, row in enumerate(_cells(path), start=1):
        for cell in row:
            assert not unsafe_csv_cell(cell), (path.name, number, cell)


# -- the rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_a_formula_and_is_defused(payload: str) -> None:
    assert is_formula(payload)
    assert defuse(payload) == "'" + payload
    assert not is_formula(defuse(payload)) and not unsafe_csv_cell(defuse(payload))


@pytest.mark.parametrize("cell", SAFE)
def test_safe_cells_are_left_as_they_are(cell: str) -> None:
    assert not is_formula(cell)
    assert defuse(cell) == cell


def test_python_arrow_and_duckdb_agree_on_every_character() -> None:
    """The one pattern read by `re` and by RE2 (Arrow, DuckDB), over all of Unicode: a sign
    first is a formula when its NFKC form is = + - @ or the minus sign; tab, CR, LF alone
    too; and any whitespace or zero-width character may stand before the sign."""
    chars = [chr(c) for c in range(1, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    cells = [c + "1" for c in chars] + [c + "=1" for c in chars]
    python = [is_formula(cell) for cell in cells]
    table = defuse_formulas(pa.table({"v": pa.array(cells, pa.string())}))
    arrow = [out != cell for out, cell in zip(table.column("v").to_pylist(), cells, strict=True)]
    con = duckdb.connect()
    con.register("cells", pa.table({"v": pa.array(cells, pa.string())}))
    sql = con.execute(f"SELECT {defuse_sql('v')} FROM cells").fetchall()
    assert python == arrow == [out != cell for (out,), cell in zip(sql, cells, strict=True)]
    n = len(chars)
    for c, sign_first, after_space in zip(chars, python[:n], python[n:], strict=True):
        assert sign_first == (c in "\t\r\n" or unicodedata.normalize("NFKC", c) in SIGNS), c
        unseen = c.isspace() or unicodedata.category(c) == "Cf" or c in BLANKS
        assert after_space == (sign_first or unseen), hex(ord(c))


def test_numbers_are_not_text() -> None:
    table = pa.table(
        {
            "n": pa.array([-5, 3], pa.int64()),
            "x": pa.array([-1.5, 2.0], pa.float64()),
            "t": pa.array(["-5", "3"], pa.string()),
            "d": pa.array(["-5", "=1"], pa.string()).dictionary_encode(),
        }
    )
    out = defuse_formulas(table)
    assert out.column("n").to_pylist() == [-5, 3]
    assert out.column("x").to_pylist() == [-1.5, 2.0]
    assert out.column("t").to_pylist() == ["'-5", "3"]
    assert out.column("d").to_pylist() == ["'-5", "'=1"]
    assert [unsafe_csv_cell(c) for c in ["-5", "-1.5", "-1.5e+20", "+5", "-5+1", "-inf"]] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_the_pattern_survives_a_sql_string_literal() -> None:
    """Control and separator characters of the pattern reach DuckDB unchanged."""
    con = duckdb.connect()
    assert con.execute(f"SELECT {sql_string(FORMULA_PATTERN)}").fetchone() == (FORMULA_PATTERN,)
    assert con.execute(f"SELECT {defuse_sql('NULL::VARCHAR')}").fetchone() == (None,)


def test_copy_csv_orders_skips_digests_and_defuses_enums(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TYPE mood AS ENUM ('=bad', 'ok')")
    con.execute(
        "CREATE TABLE t AS SELECT i, CASE WHEN i % 2 = 0 THEN '=bad' ELSE 'ok' END::mood AS m,"
        " '+digest' AS h, -i AS n FROM range(20000) r(i)"
    )
    path = tmp_path / "t.csv"
    copy_csv(con, "SELECT m, h, n, i FROM t", path, order_by="i", digests=["h"])
    header, *rows = _cells(path)
    assert header == ["m", "h", "n"]
    assert [int(r[2]) for r in rows] == [-i for i in range(20000)]
    assert {r[0] for r in rows} == {"'=bad", "ok"} and {r[1] for r in rows} == {"+digest"}


# -- every writer -------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_bundle_portability_csv(trap_catalog: Path, tmp_path: Path, payload: str) -> None:
    accounts = trap_catalog.parent / "accounts.csv"
    quoted = '"' + payload.replace('"', '""') + '"'
    accounts.write_text(accounts.read_text().replace("Ann Lee", quoted), newline="")
    request = SubjectRequest("AR-F", (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(load_catalog(trap_catalog), [request], tmp_path / "out")
    assert verify_bundle(bundle.path).ok
    path = bundle.path / "portability" / "accounts.csv"
    assert _column(path, "full_name") == [defuse(payload)]
    _no_formula_in(path)


CATALOG = """\
version: 1
controller: {name: Shop Ltd, contact: privacy@shop.example, supervisory_authority: DPC}
tables:
  notes:
    path: notes.parquet
    format: parquet
    description: Notes.
    category: account
    origin: provided
    purposes: [service]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      label: {type: string}
      amount: {type: integer}
"""
POLICY = """\
version: 1
name: notes
table: notes
columns: {user_id: drop, label: keep, amount: keep}
output: {path: notes.csv, format: csv}
"""
SPEC = """\
version: 1
name: run
table: notes
person: user_id
min_count: 2
aggregates:
  - {name: by_label, group_by: [label], margins: true,
     measures: [{name: people, op: count}, {name: average, op: mean, column: amount}]}
output: {format: csv}
"""
PER_LABEL = 3  # rows of each payload: every cell of the aggregate above min_count


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A catalog of one table whose `label` holds every payload, `amount` negative numbers."""
    root = tmp_path / "notes"
    root.mkdir()
    labels = [v for v in VALUES for _ in range(PER_LABEL)]
    pq.write_table(
        pa.table(
            {
                "user_id": [f"u{i}" for i in range(len(labels))],
                "label": labels,
                "amount": [-(i % 5 + 1) for i in range(len(labels))],  # shared: no one alone
            }
        ),
        root / "notes.parquet",
    )
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _extract(notes: Path, out: Path, kind: str = "duckdb") -> Path:
    (policy := notes.parent / "policy.yml").write_text(POLICY)
    with open_engine(load_catalog(notes), kind) as engine:
        return run_extract(policy, engine, out).folder


def _aggregate(notes: Path, out: Path, kind: str = "duckdb") -> Path:
    (spec := notes.parent / "spec.yml").write_text(SPEC)
    with open_engine(load_catalog(notes), kind) as engine:
        log = ReleaseLog(notes.parent / f"releases-{kind}.db", Keys(b"f" * 32))
        return run_aggregates(spec, engine, out, release_log=log).folder


def test_the_extract_csv(notes: Path, tmp_path: Path, engine_kind: str) -> None:
    folder = _extract(notes, tmp_path / "out", engine_kind)
    path = folder / "notes.csv"
    assert sorted(_column(path, "label")) == sorted(
        defuse(v) for v in VALUES for _ in range(PER_LABEL)
    )
    assert min(int(a) for a in _column(path, "amount")) < 0  # numbers stay numbers
    _no_formula_in(path)
    assert verify_derived(folder).ok


def test_the_aggregate_csv(notes: Path, tmp_path: Path, engine_kind: str) -> None:
    folder = _aggregate(notes, tmp_path / "out", engine_kind)
    path = folder / "by_label.csv"
    assert set(_column(path, "label")) == {defuse(v) for v in VALUES} | {"(total)"}
    assert all(float(t) < 0 for t in _column(path, "average"))
    _no_formula_in(path)
    assert verify_derived(folder).ok


def test_the_audience_csv(tmp_path: Path) -> None:
    """Google takes the zip in clear: defused. The hashes are written as computed, a base64
    hash starting with `+` included (a quote would break the match key)."""
    uid2 = platform("uid2")
    plus = next(
        e for e in (f"p{i}@example.com" for i in range(10_000)) if uid2.hash(e).startswith("+")
    )
    emails = [f"person{i}@example.com" for i in range(len(VALUES))] + [plus]
    source = tmp_path / "list.parquet"
    pq.write_table(pa.table({"email": emails, "zip": [*VALUES, "D02 X285"]}), source)
    result = build_audience_file(
        source, "email", ["google", "uid2"], tmp_path / "out", fields={"postcode": "zip"}
    )
    [google] = result.files["google"]
    zips = [google_postcode(v) for v in VALUES]
    expected = {defuse(z) if z else "" for z in zips} | {"D02 X285"}
    assert set(_column(google, "Zip")) == expected
    _no_formula_in(google)
    [uid2_file] = result.files["uid2"]
    assert uid2.hash(plus) in _column(uid2_file, "email_hash")
    assert uid2.hash(plus).startswith("+")


# -- the reviewer -------------------------------------------------------------------------


def _rehash(folder: Path, rel: str) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["outputs"]:
        if entry["path"] == rel:
            data = (folder / rel).read_bytes()
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            entry["bytes"] = len(data)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _hand_edit(folder: Path, rel: str, column: str, payload: str) -> str:
    """Set the first row's `column` to `payload`, as a spreadsheet user would; the finding's
    location."""
    path = folder / rel
    rows = _cells(path)
    at = rows[0].index(column)
    rows[1][at] = payload
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)  # CRLF lines: a CR or LF in a cell is quoted
    _rehash(folder, rel)
    return (
        f"[formula] {rel} line 2 column {at + 1}:"
        " a cell a spreadsheet would run as a formula (prefix it with ')"
    )


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One clean bundle, extract and aggregate run, copied by each test that edits one."""
    from tests.access_fixture import write_access_fixture

    root = tmp_path_factory.mktemp("clean")
    catalog = load_catalog(write_access_fixture(root / "traps"))
    request = SubjectRequest("AR-V", (parse_key("email=ann@example.com"),))
    [bundle] = answer_access_requests(catalog, [request], root / "bundles")
    (notes_root := root / "notes").mkdir()
    pq.write_table(
        pa.table(
            {
                "user_id": [f"u{i}" for i in range(6)],
                "label": ["a", "a", "a", "b", "b", "b"],
                "amount": [-1, -2, -3, 4, 5, 6],
            }
        ),
        notes_root / "notes.parquet",
    )
    (notes_root / "catalog.yml").write_text(CATALOG)
    notes = notes_root / "catalog.yml"
    return {
        "bundle": bundle.path,
        "extract": _extract(notes, root / "extracts"),
        "aggregate": _aggregate(notes, root / "aggregates"),
    }


@pytest.mark.parametrize(
    ("kind", "rel", "column"),
    [
        ("bundle", "portability/accounts.csv", "full_name"),
        ("extract", "notes.csv", "label"),
        ("aggregate", "by_label.csv", "label"),
    ],
)
@pytest.mark.parametrize("payload", VERIFIED)
def test_verify_flags_a_hand_edited_csv(
    clean: dict[str, Path], tmp_path: Path, kind: str, rel: str, column: str, payload: str
) -> None:
    folder = shutil.copytree(clean[kind], tmp_path / kind)
    check = verify_bundle if kind == "bundle" else verify_derived
    assert check(folder).ok
    expected = _hand_edit(folder, rel, column, payload)
    assert expected in [str(f) for f in check(folder).findings]


def test_verify_flags_a_formula_header(clean: dict[str, Path], tmp_path: Path) -> None:
    folder = shutil.copytree(clean["extract"], tmp_path / "extract")
    path = folder / "notes.csv"
    path.write_text(path.read_text().replace("label", "=label", 1))
    _rehash(folder, "notes.csv")
    findings = [str(f) for f in verify_derived(folder).findings]
    assert any(f.startswith("[formula] notes.csv line 1 column ") for f in findings), findings


@pytest.mark.skipif(unicodedata.unidata_version != "14.0.0", reason="the table is Unicode 14's")
def test_the_written_table_of_unseen_characters_is_the_computed_one() -> None:
    # the table spares every start of the `dsar` command a scan of every code point
    from dsar.csvsafe import UNSEEN_UNICODE_14, unseen_ranges

    assert unseen_ranges() == list(UNSEEN_UNICODE_14)
