"""The DuckDB engine reads every export format in place, binds parameters, names bad files."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from dsar import check_against_files, load_catalog
from dsar.engine import open_engine, quote_identifier
from dsar.engine.base import INLINE_VALUES, sql_in
from dsar.engine.duckdb import DuckDBEngine
from dsar.errors import CatalogError, EngineError, ExportReadError, WorkbenchError
from tests.conftest import VALID_CATALOG


@pytest.mark.parametrize(
    ("table", "rows", "columns"),
    [
        ("users", 3, ["user_id", "email", "phone", "full_name", "signup_at"]),
        ("events", 3, ["ts", "user_id", "action"]),
        ("tickets", 2, ["ticket_id", "user_id", "body", "created_at"]),
        ("prefs", 2, ["email", "newsletter"]),
    ],
    ids=["csv", "parquet", "jsonl", "json"],
)
def test_reads_each_format(
    tiny_catalog: Path, engine_kind: str, table: str, rows: int, columns: list[str]
) -> None:
    with open_engine(load_catalog(tiny_catalog), engine_kind) as engine:
        assert engine.count_rows(table) == rows
        assert list(engine.columns(table)) == columns


def test_declared_types_are_enforced(tiny_catalog: Path, engine_kind: str) -> None:
    with open_engine(load_catalog(tiny_catalog), engine_kind) as engine:
        users = engine.columns("users")
        tickets = engine.columns("tickets")
    # a phone declared as string keeps its leading zero and plus sign
    assert users["phone"] == "string"
    assert users["signup_at"].startswith("timestamp")
    assert tickets["ticket_id"] == "int64"
    assert tickets["created_at"].startswith("timestamp")


def test_parameters_are_bound_not_spliced(tiny_catalog: Path, engine_kind: str) -> None:
    hostile = "ann@example.com' OR '1'='1"
    with open_engine(load_catalog(tiny_catalog), engine_kind) as engine:
        sql = f"SELECT user_id FROM {quote_identifier('users')} WHERE email = ?"
        assert engine.query(sql, [hostile]).num_rows == 0
        assert engine.query(sql, ["ann@example.com"]).column("user_id").to_pylist() == ["u1"]
        phones = engine.query("SELECT phone FROM users ORDER BY user_id").column(0).to_pylist()
    assert phones == ["+441632960001", "007700900123", None]


@pytest.mark.parametrize("extra", [0, INLINE_VALUES + 1], ids=["in-list", "semi-join"])
def test_sql_in_selects_the_same_rows_either_way(
    tiny_catalog: Path, engine_kind: str, extra: int
) -> None:
    values = ["u1", "u3", *(f"nobody{i}" for i in range(extra))]
    params: list[object] = []
    where = sql_in("user_id", values, params)
    assert ("unnest" in where) == (len(values) > INLINE_VALUES)
    with open_engine(load_catalog(tiny_catalog), engine_kind) as engine:
        found = engine.query(f"SELECT user_id FROM users WHERE {where} ORDER BY 1", params)
    assert found.column("user_id").to_pylist() == ["u1", "u3"]


def test_a_rewrite_keeps_the_text_of_values_it_does_not_change(
    tiny_catalog: Path, engine_kind: str, tmp_path: Path
) -> None:
    users = tiny_catalog.parent / "users.csv"
    users.write_text(
        "user_id,email,phone,full_name,signup_at,credit\n"
        'u1,Ann@Example.com ,+44 (0)1632 960001,"Lee, Ann",13/12/2026 10:00:05,12.50\n'
        "u2,bob@example.com,007700900123,Bob,14/12/2026 11:30:00,0.10\n",
        encoding="utf-8",
    )
    tiny_catalog.write_text(
        VALID_CATALOG.replace(
            "      signup_at: {type: timestamp}\n",
            "      signup_at: {type: timestamp}\n      credit: {}\n",
        ),
        encoding="utf-8",
    )
    out = tmp_path / "users.csv"
    with open_engine(load_catalog(tiny_catalog), engine_kind) as engine:
        engine.write_file(
            "users",
            users,
            out,
            "SELECT * REPLACE (CASE WHEN user_id = 'u2' THEN 'B.' ELSE full_name END AS"
            " full_name, CASE WHEN user_id = 'u2' THEN signup_at + INTERVAL 1 DAY ELSE"
            " signup_at END AS signup_at) FROM {source}",
        )
        # the new file reads back with the same schema
        assert engine.count_file_rows("users", out) == 2
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["user_id", "email", "phone", "full_name", "signup_at", "credit"],
        [
            "u1",
            "Ann@Example.com ",
            "+44 (0)1632 960001",
            "Lee, Ann",
            "13/12/2026 10:00:05",
            "12.50",
        ],
        # changed values are written in the file's own layout
        ["u2", "bob@example.com", "007700900123", "B.", "15/12/2026 11:30:00", "0.10"],
    ]


def test_a_date_layout_the_reader_cannot_detect_is_given_in_the_catalog(
    tiny_catalog: Path, tmp_path: Path
) -> None:
    users = tiny_catalog.parent / "users.csv"
    users.write_text(
        "user_id,email,phone,full_name,signup_at\n"
        "u1,ann@example.com,,Ann,13/12/2026 10:00\nu2,bob@example.com,,Bob,01/02/2026 11:30\n",
        encoding="utf-8",
    )
    with (
        open_engine(load_catalog(tiny_catalog)) as engine,
        pytest.raises(ExportReadError, match=r"timestamp_format: '%d/%m/%Y %H:%M'"),
    ):
        engine.query("SELECT signup_at FROM users")  # no seconds, day first: not detected
    text = tiny_catalog.read_text(encoding="utf-8")
    tiny_catalog.write_text(
        text.replace(
            "    path: users.csv\n",
            "    path: users.csv\n    csv: {timestamp_format: '%d/%m/%Y %H:%M'}\n",
        ),
        encoding="utf-8",
    )
    out = tmp_path / "users.csv"
    with open_engine(load_catalog(tiny_catalog)) as engine:
        signups = engine.query("SELECT signup_at FROM users ORDER BY user_id").column(0)
        assert [str(v) for v in signups.to_pylist()] == [
            "2026-12-13 10:00:00",
            "2026-02-01 11:30:00",
        ]
        engine.write_file("users", users, out, "SELECT * FROM {source} WHERE user_id = 'u2'")
    assert out.read_text(encoding="utf-8").splitlines()[1].endswith(",01/02/2026 11:30")


def test_a_json_rewrite_keeps_the_timestamp_layout_and_never_loses_precision(
    tiny_catalog: Path, engine_kind: str, tmp_path: Path
) -> None:
    tickets = tiny_catalog.parent / "tickets.jsonl"
    stamps = ["2025-01-01T10:00:00Z", "2025-02-01T10:00:00Z", "2025-03-01T10:00:00.250Z"]
    tickets.write_text(
        "".join(
            json.dumps({"ticket_id": i, "user_id": "u1", "body": "hi", "created_at": ts}) + "\n"
            for i, ts in enumerate(stamps)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "tickets.jsonl"
    with open_engine(load_catalog(tiny_catalog), engine_kind) as engine:
        engine.write_file("tickets", tickets, out, "SELECT * FROM {source}")
    written = [json.loads(line)["created_at"] for line in out.read_text().splitlines()]
    assert written == stamps  # each in its layout, milliseconds or not


def test_a_value_no_layout_writes_whole_keeps_its_precision(
    tiny_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = tiny_catalog.parent / "tickets.jsonl"
    rows = [{"ticket_id": i, "user_id": "u1", "body": "hi"} for i in range(3)]
    stamps = ["2025-01-01T10:00:00Z", "2025-02-01T10:00:00Z", "2025-03-01T10:00:00.123456Z"]
    tickets.write_text(
        "".join(
            json.dumps(r | {"created_at": ts}) + "\n" for r, ts in zip(rows, stamps, strict=True)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "tickets.jsonl"
    with open_engine(load_catalog(tiny_catalog)) as engine:
        # as if the layout had been chosen on first values that carry no fraction
        only = {"created_at": ("%Y-%m-%dT%H:%M:%SZ",)}
        monkeypatch.setattr(DuckDBEngine, "_text_layouts", lambda *_: only)
        engine.write_file("tickets", tickets, out, "SELECT * FROM {source}")
    written = [json.loads(line)["created_at"] for line in out.read_text().splitlines()]
    assert written == ["2025-01-01T10:00:00Z", "2025-02-01T10:00:00Z", "2025-03-01 10:00:00.123456"]


def test_stream_yields_record_batches(tiny_catalog: Path, engine_kind: str) -> None:
    with open_engine(load_catalog(tiny_catalog), engine_kind) as engine:
        batches = list(engine.stream("SELECT * FROM events WHERE user_id = ?", ["u1"], 1))
        assert all(isinstance(b, pa.RecordBatch) for b in batches)
        assert sum(b.num_rows for b in batches) == 2
        # another query can run while a stream is open
        stream = engine.stream("SELECT * FROM events", batch_size=1)
        next(stream)
        assert engine.count_rows("users") == 3
        assert sum(b.num_rows for b in stream) == 2


def test_sql_error_carries_the_sql(tiny_catalog: Path) -> None:
    with open_engine(load_catalog(tiny_catalog)) as engine, pytest.raises(EngineError) as info:
        engine.query("SELECT nope FROM users")
    assert info.value.sql == "SELECT nope FROM users"
    assert "while running:\nSELECT nope FROM users" in str(info.value)


def test_a_long_statement_is_shown_cut_and_kept_whole(tiny_catalog: Path) -> None:
    """A generated statement (hundreds of kilobytes) is not printed whole to the console."""
    sql = "SELECT nope, " + ", ".join(f"{i} AS c{i}" for i in range(5_000)) + " FROM users"
    with open_engine(load_catalog(tiny_catalog)) as engine, pytest.raises(EngineError) as info:
        engine.query(sql)
    assert info.value.sql == sql
    assert len(str(info.value)) < EngineError.SHOWN + 1_000
    assert f"({len(sql):,} characters in all)" in str(info.value)


def test_unknown_engine() -> None:
    with pytest.raises(WorkbenchError, match=r"unknown engine 'oracle'; choose one of: duckdb"):
        open_engine(kind="oracle")


# (file, content, what the error must say)
MALFORMED = [
    (
        "users.csv",
        "user_id,email,phone,full_name,signup_at\nu1,ann@example.com,1,Ann,2024-01-01\n"
        "u2,bob@example.com,2,Bob,2024-01-01,extra,fields\n",
        r"users\.csv: line 3: the number of fields differs from the header",
    ),
    (
        "users.csv",
        "user_id,email,phone,full_name,signup_at\nu1,ann@example.com,1,Ann,2024-01-01\n"
        "u2,bob@example.com,2,Bob,not-a-date\n",
        r"users\.csv: line 3: Error when converting column \"signup_at\"\. Could not convert"
        r" string <value> to 'TIMESTAMP'",
    ),
    (
        "tickets.jsonl",
        '{"ticket_id": 1, "user_id": "u1", "body": "x", "created_at": "2025-01-01"}\n'
        '{"ticket_id": 2, "user_id": "u2", "body": "secret@example.com\n',
        r"tickets\.jsonl: line 2: not a valid JSON object",
    ),
    (
        "events.parquet",
        "PAR1 this is not parquet",
        r"events\.parquet.*(too small to be a Parquet file|No magic bytes)",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), MALFORMED, ids=["csv-fields", "csv-type", "jsonl", "parquet"]
)
def test_malformed_file_is_named_with_its_line(
    tiny_catalog: Path, name: str, content: str, message: str
) -> None:
    (tiny_catalog.parent / name).write_text(content, encoding="utf-8")
    catalog = load_catalog(tiny_catalog)
    with pytest.raises(ExportReadError, match=message) as info, open_engine(catalog) as engine:
        for table in engine.tables:
            engine.query(f"SELECT count(COLUMNS(*)) FROM {quote_identifier(table)}")
    # the message locates the problem without quoting personal data from the file
    assert "example.com" not in str(info.value)
    assert str(tiny_catalog.parent / name) in str(info.value)


def test_check_against_files_reports_column_drift(tiny_catalog: Path) -> None:
    text = VALID_CATALOG.replace("      full_name: {personal: name}\n", "").replace(
        "      action: {}\n", "      action: {}\n      session: {}\n"
    )
    tiny_catalog.write_text(text, encoding="utf-8")
    catalog = load_catalog(tiny_catalog)
    with open_engine() as engine, pytest.raises(CatalogError) as info:
        check_against_files(catalog, engine)
    assert [str(p) for p in info.value.problems] == [
        "tables.users.columns: the file has column 'full_name' that the catalog lacks"
        " (users.csv)\n"
        "    fix: describe it: add 'full_name: {}' under columns, with its identity, category"
        " or secret flag; no request or erasure runs on the table until every column is"
        " described",
        "tables.events.columns.session: declared in the catalog but not in the file"
        " (events.parquet)\n"
        "    fix: correct the name; the file has: ts, user_id, action",
    ]


def test_check_against_files_passes_on_a_good_export(tiny_catalog: Path) -> None:
    catalog = load_catalog(tiny_catalog)
    with open_engine() as engine:
        check_against_files(catalog, engine)
        assert sorted(engine.tables) == ["events", "prefs", "tickets", "users"]


_CELL = st.text(alphabet=st.sampled_from(list("ab ,\"'\n\r\t;é漢0.5-+")), max_size=12)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_CELL, st.decimals(places=2, allow_nan=False, allow_infinity=False), _CELL),
        min_size=1,
        max_size=8,
    ),
    drop=st.sets(st.integers(0, 7)),
)
def test_a_csv_rewrite_keeps_every_other_row_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, object, str]],
    drop: set[int],
) -> None:
    """Quotes, delimiters, line breaks and trailing zeros inside values survive a rewrite."""
    root = tmp_path_factory.mktemp("csv")
    data = [[f"r{i}", a, str(b), c] for i, (a, b, c) in enumerate(rows)]
    with (root / "t.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["row_id", "note", "amount", "other"], *data])
    (root / "catalog.yml").write_text(_ONE_CSV_TABLE, encoding="utf-8")
    gone = sorted(f"r{i}" for i in drop if i < len(data))
    params: list[object] = []
    where = sql_in("row_id", gone, params) if gone else "false"
    with open_engine(load_catalog(root / "catalog.yml")) as engine:
        engine.write_file(
            "t",
            root / "t.csv",
            root / "new.csv",
            f"SELECT * FROM {{source}} WHERE NOT {where}",
            params,
        )
    with (root / "new.csv").open(newline="", encoding="utf-8") as f:
        written = list(csv.reader(f))
    # empty text and a missing value are one in CSV: compare as the reader sees them
    assert written[1:] == [r for r in data if r[0] not in gone]


_ONE_CSV_TABLE = """\
version: 1
controller: {name: Example Ltd, contact: privacy@example.com, supervisory_authority: ICO (UK)}
tables:
  t:
    path: t.csv
    format: csv
    description: Notes.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    columns:
      row_id: {identity: user_id, type: string}
      note: {type: string}
      amount: {}
      other: {type: string}
"""


@settings(derandomize=True, max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            _CELL,
            st.integers(-(10**12), 10**12),
            st.booleans(),
            st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)),
        ),
        min_size=1,
        max_size=6,
    ),
    zulu=st.booleans(),
)
def test_a_json_lines_rewrite_keeps_every_value(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, int, bool, datetime]],
    zulu: bool,
) -> None:
    """Strings, numbers, booleans and timestamps (in their layout) survive a rewrite."""
    root = tmp_path_factory.mktemp("jsonl")
    layout = "%Y-%m-%dT%H:%M:%SZ" if zulu else "%Y-%m-%d %H:%M:%S"
    data = [
        {"row_id": f"r{i}", "note": a, "n": b, "flag": c, "at": d.strftime(layout)}
        for i, (a, b, c, d) in enumerate(rows)
    ]
    (root / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    spec = _ONE_CSV_TABLE.replace("t.csv", "t.jsonl").replace("format: csv", "format: jsonl")
    (root / "catalog.yml").write_text(
        spec.split("    columns:")[0]
        + "    columns:\n      row_id: {identity: user_id}\n      note: {}\n      n: {}\n"
        "      flag: {}\n      at: {type: timestamp}\n",
        encoding="utf-8",
    )
    with open_engine(load_catalog(root / "catalog.yml")) as engine:
        engine.write_file("t", root / "t.jsonl", root / "new.jsonl", "SELECT * FROM {source}")
    written = [json.loads(line) for line in (root / "new.jsonl").read_text("utf-8").splitlines()]
    assert written == data


def test_frames_for_notebooks(tiny_catalog: Path) -> None:
    from dsar import inventory_frame

    catalog = load_catalog(tiny_catalog)
    with open_engine(catalog) as engine:
        inv = inventory_frame(catalog, engine)
        assert list(inv.index) == list(catalog.tables)
        assert {"format", "rows", "MB", "identity", "secrets", "free_text"} <= set(inv.columns)
        assert inv.loc["users", "rows"] == engine.count_rows("users")
    processing = catalog.to_frame()
    assert list(processing.index) == list(catalog.tables)
    assert {"purposes", "legal basis", "recipients", "retention", "erasure"} <= set(
        processing.columns
    )
