"""The bad-input matrix: each broken or odd export file, what is called, what happens.

One table of cases (docs/bad-input.md lists the same cases for a reader): the tiny export
of tests/conftest.py with one file rewritten (and the catalog edited where the case needs
it), then the tables opened and every row read (`open`) or a command run (`check`,
`access`, `erase`). A case ends in a refusal whose message names the file, the line or the
column and the fix, never a value from the file, or in a documented tolerant reading.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dsar import load_catalog, open_engine
from dsar.cli import main
from dsar.engine import quote_identifier
from dsar.errors import CatalogError, EngineError, ExportReadError, WorkbenchError
from dsar.subjects.collect import collect
from dsar.subjects.identity import SubjectRequest, parse_key
from tests.conftest import VALID_CATALOG

# values that appear only in the broken rows: no message may quote them
SECRETS = ("zed@secret.example", "Zed Quill", "Ren\u00e9 Zed", "078 0000 9999")
HEADER = "user_id,email,phone,full_name,signup_at\n"
ANN = "u1,ann@example.com,+441632960001,Ann Lee,2024-01-02 03:04:05\n"
ZED = "u9,zed@secret.example,078 0000 9999,Zed Quill,2024-01-02 03:04:05\n"
TICKET = {"ticket_id": 1, "user_id": "u1", "body": "Hello", "created_at": "2025-01-01T10:00:00Z"}

Content = bytes | Callable[[Path], None]


@dataclass(frozen=True)
class Refused:
    """The call fails with `error` and a message that matches `match`."""

    error: type[Exception]
    match: str


@dataclass(frozen=True)
class Reads:
    """The call succeeds: `table` has `rows` rows, and `check` holds on its first row."""

    table: str
    rows: int
    check: Callable[[dict[str, object]], bool] = lambda row: True


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, Content]  # file (relative to the export) -> its bytes, or a writer
    expect: Refused | Reads
    catalog: tuple[tuple[str, str], ...] = ()  # edits of the catalog text: (old, new)
    call: str = "open"  # open | check | access | erase
    unchanged: tuple[str, ...] = field(default=())  # files a refused command must not touch


def _csv(*rows: str, encoding: str = "utf-8") -> bytes:
    return (HEADER + "".join(rows)).encode(encoding)


def _jsonl(*records: dict[str, object]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _long_csv(rows: int, last: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        body = "".join(f"{i},u{i}@example.com,,N,2024-01-02 03:04:05\n" for i in range(rows))
        path.write_text(HEADER + body + last, encoding="utf-8")

    return write


def _late_key(path: Path) -> None:
    records = [dict(TICKET, ticket_id=i) for i in range(25_000)]
    records[-1]["ssn"] = "078 0000 9999"
    path.write_bytes(_jsonl(*records))


def _parquet(**columns: pa.Array | list[object]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        ts = pa.array([1_700_000_000], pa.timestamp("s"))
        pq.write_table(
            pa.table({"ts": ts, "user_id": ["u1"], "action": ["login"], **columns}), path
        )

    return write


def _linked(path: Path) -> None:
    """The file moved to real.csv beside it, and a symbolic link left in its place."""
    path.replace(path.with_name("real.csv"))
    path.symlink_to("real.csv")


def _type(column: str, kind: str) -> tuple[str, str]:
    return (
        f"      {column}: {{identity: {column}, type: string}}",
        f"      {column}: {{type: {kind}}}",
    )


def _csv_option(option: str) -> tuple[str, str]:
    return "    path: users.csv\n", f"    path: users.csv\n    csv: {{{option}}}\n"


_EVENTS_GLOB = ("path: events.parquet", "path: events/*.parquet")
_USERS_GLOB = ("path: users.csv", "path: users/*.csv")
_DESCRIBE_SSN = ("      action: {}\n", "      action: {}\n      ssn: {}\n")
_UTF16 = _csv_option("encoding: utf-16")
_LATIN1 = _csv_option("encoding: latin-1")

CASES = [
    # ---- columns the catalog does not describe ------------------------------------------
    Case(
        "undescribed-column",
        {"users.csv": (HEADER.rstrip() + ",ssn\n" + ANN.rstrip() + ",1\n").encode()},
        Refused(
            CatalogError,
            r"tables\.users\.columns: the file has column 'ssn' that the catalog lacks"
            r" \(users\.csv\)\n    fix: describe it: add 'ssn: \{\}' under columns",
        ),
    ),
    Case(
        "undescribed-column-access",
        {"users.csv": (HEADER.rstrip() + ",ssn\n" + ANN.rstrip() + ",1\n").encode()},
        Refused(CatalogError, r"the file has column 'ssn' that the catalog lacks \(users\.csv\)"),
        call="access",
    ),
    Case(
        "undescribed-column-erase",
        {"users.csv": (HEADER.rstrip() + ",ssn\n" + ANN.rstrip() + ",1\n").encode()},
        Refused(CatalogError, r"the file has column 'ssn' that the catalog lacks \(users\.csv\)"),
        call="erase",
        unchanged=("users.csv", "events.parquet", "tickets.jsonl", "prefs.json"),
    ),
    Case(
        "duplicate-header",
        {"users.csv": (HEADER.rstrip() + ",email\n" + ANN.rstrip() + ",x@y.z\n").encode()},
        Refused(
            ExportReadError,
            r"users\.csv: line 1: the header names 'email' more than once; give each column"
            r" its own name",
        ),
    ),
    Case(
        "described-column-missing",
        {},
        Refused(
            CatalogError,
            r"tables\.events\.columns\.ssn: declared in the catalog but not in the file"
            r" \(events\.parquet\)\n    fix: correct the name; the file has: ts, user_id, action",
        ),
        catalog=(_DESCRIBE_SSN,),
    ),
    Case(
        "json-key-no-record-has",
        {"tickets.jsonl": _jsonl(TICKET)},
        Reads("tickets", 1, lambda row: row["note"] is None),
        catalog=(
            ("      body: {free_text: true}\n", "      body: {free_text: true}\n      note: {}\n"),
        ),
    ),
    Case(
        "json-key-first-seen-late",
        {"tickets.jsonl": _late_key},
        Refused(
            CatalogError, r"the file has column 'ssn' that the catalog lacks \(tickets\.jsonl\)"
        ),
    ),
    # ---- encodings ------------------------------------------------------------------------
    Case(
        "latin-1-undeclared",
        {"users.csv": _csv(ANN, ZED.replace("Zed Quill", "Ren\u00e9 Zed"), encoding="latin-1")},
        Refused(
            ExportReadError,
            r"users\.csv: line 3: the file is not UTF-8 text \(a byte there is not valid UTF-8\);"
            r" if it is Latin-1 or UTF-16, say so in the catalog: csv: \{encoding: latin-1\}",
        ),
    ),
    Case(
        "latin-1-declared",
        {"users.csv": _csv(ZED.replace("Zed Quill", "Ren\u00e9 Zed"), encoding="latin-1")},
        Reads("users", 1, lambda row: row["full_name"] == "Ren\u00e9 Zed"),
        catalog=(_LATIN1,),
    ),
    Case(
        "latin-1-declared-but-utf-8",
        {"users.csv": _csv(ZED.replace("Zed Quill", "Ren\u00e9 Zed"))},
        Refused(
            ExportReadError,
            r"the catalog says csv\.encoding latin-1, but the file is UTF-8 text .*; remove the"
            r" encoding option",
        ),
        catalog=(_LATIN1,),
    ),
    Case(
        "utf-8-bom",
        {"users.csv": b"\xef\xbb\xbf" + _csv(ANN)},
        Reads("users", 1, lambda row: row["user_id"] == "u1"),
    ),
    Case(
        "utf-16-undeclared",
        {"users.csv": _csv(ANN, encoding="utf-16")},
        Refused(
            ExportReadError,
            r"users\.csv: the file is UTF-16 text \(it starts with a UTF-16 byte-order mark\);"
            r" say so in the catalog: csv: \{encoding: utf-16\}",
        ),
    ),
    Case(
        "utf-16-declared",
        {"users.csv": _csv(ZED.replace("Zed Quill", "Ren\u00e9 Zed"), encoding="utf-16")},
        Reads("users", 1, lambda row: row["full_name"] == "Ren\u00e9 Zed"),
        catalog=(_UTF16,),
    ),
    Case(
        "utf-16-big-endian",
        {"users.csv": b"\xfe\xff" + _csv(ANN, encoding="utf-16-be")},
        Refused(ExportReadError, r"the file is UTF-16 big-endian, which the reader cannot read"),
        catalog=(_UTF16,),
    ),
    Case(
        "jsonl-latin-1",
        {
            "tickets.jsonl": json.dumps(
                dict(TICKET, body="Ren\u00e9 Zed"), ensure_ascii=False
            ).encode("latin-1")
        },
        Refused(
            ExportReadError,
            r"tickets\.jsonl: line \d+: the file is not UTF-8 text, and JSON must be UTF-8:"
            r" re-export it as UTF-8",
        ),
    ),
    Case(
        "jsonl-utf-16",
        {"tickets.jsonl": _jsonl(TICKET).decode().encode("utf-16")},
        Refused(ExportReadError, r"the file is UTF-16 text .*, and JSON must be UTF-8"),
    ),
    # ---- empty files ----------------------------------------------------------------------
    Case(
        "empty-csv",
        {"users.csv": b""},
        Refused(
            ExportReadError,
            r"users\.csv: the file is empty \(0 bytes\): a CSV export writes at least its"
            r" header line",
        ),
    ),
    Case("header-only-csv", {"users.csv": HEADER.encode()}, Reads("users", 0)),
    Case(
        "empty-csv-without-header",
        {"users.csv": b""},
        Reads("users", 0),
        catalog=(
            ("    path: users.csv\n", "    path: users.csv\n    csv: {header: false}\n"),
            ("primary_key: [user_id]", "primary_key: [column0]"),
            ("      user_id: {identity: user_id, type", "      column0: {identity: user_id, type"),
            ("      email: {identity: email, type", "      column1: {identity: email, type"),
            ("      phone: {identity", "      column2: {identity"),
            ("      full_name: {personal", "      column3: {personal"),
            ("      signup_at: {type", "      column4: {type"),
            ("references: users.user_id}", "references: users.column0}"),
        ),
    ),
    Case("empty-jsonl", {"tickets.jsonl": b""}, Reads("tickets", 0)),
    Case("blank-jsonl", {"tickets.jsonl": b"\n\n"}, Reads("tickets", 0)),
    Case(
        "empty-json",
        {"prefs.json": b""},
        Refused(
            ExportReadError,
            r"prefs\.json: the file is empty \(0 bytes\): re-export it; a JSON table with no"
            r" rows is written as \[\]",
        ),
    ),
    Case("json-empty-array", {"prefs.json": b"[]"}, Reads("prefs", 0)),
    Case(
        "empty-parquet",
        {"events.parquet": b""},
        Refused(
            ExportReadError,
            r"events\.parquet: the file is empty \(0 bytes\): it is not a Parquet file",
        ),
    ),
    # ---- malformed lines and values -------------------------------------------------------
    Case(
        "csv-too-many-fields",
        {"users.csv": _csv(ANN, ZED.rstrip() + ",extra\n")},
        Refused(
            ExportReadError, r"users\.csv: line 3: the number of fields differs from the header"
        ),
    ),
    Case(
        "csv-too-few-fields",
        {"users.csv": _csv(ANN, "u9,zed@secret.example\n")},
        Refused(
            ExportReadError, r"users\.csv: line 3: the number of fields differs from the header"
        ),
    ),
    Case(
        "csv-unclosed-quote",
        {"users.csv": _csv(ANN, ZED.replace("Zed Quill", '"Zed Quill'), ANN)},
        Refused(
            ExportReadError, r"users\.csv: line 3: the number of fields differs from the header"
        ),
    ),
    Case(
        "csv-integer-column-with-text",
        {"users.csv": _csv(ANN.replace("u1", "1"), ZED)},
        Refused(
            ExportReadError,
            r'users\.csv: line 3: Error when converting column "user_id"\. Could not convert'
            r" string <value> to 'BIGINT' \(the catalog declares it integer: correct the value"
            r" in the file, or change the column's type\)",
        ),
        catalog=(_type("user_id", "integer"),),
    ),
    Case(
        "csv-guessed-type-broken-late",
        {"users.csv": _long_csv(25_000, "x9,zed@secret.example,,Zed Quill,2024-01-02 03:04:05\n")},
        Refused(
            ExportReadError,
            r"users\.csv: line 25002: .*converting column \"user_id\".* \(the type was guessed"
            r" from the first rows: declare the column's type in the catalog, e\.g\. user_id:"
            r" \{type: string\}\)",
        ),
        catalog=(
            (
                "      user_id: {identity: user_id, type: string}",
                "      user_id: {identity: user_id}",
            ),
        ),
    ),
    Case(
        "jsonl-integer-column-with-text",
        {"tickets.jsonl": _jsonl(TICKET, dict(TICKET, ticket_id="Zed Quill"))},
        Refused(
            ExportReadError,
            r"tickets\.jsonl: line 2: column 'ticket_id' holds a value that is not integer, as"
            r" the catalog declares it",
        ),
    ),
    Case(
        "jsonl-duplicate-key",
        {
            "tickets.jsonl": b'{"ticket_id": 1, "user_id": "u9", "body": "Zed Quill", "body": "x",'
            b' "created_at": "2025-01-01T10:00:00Z"}\n'
        },
        Refused(ExportReadError, r"tickets\.jsonl: line 1: an object gives the key 'body' twice"),
    ),
    Case(
        "jsonl-broken-line",
        {"tickets.jsonl": _jsonl(TICKET) + b'{"ticket_id": 2, "body": "zed@secret.example\n'},
        Refused(ExportReadError, r"tickets\.jsonl: line 2: not a valid JSON object"),
    ),
    Case(
        "json-lines-in-a-json-table",
        {"prefs.json": b'{"email": "zed@secret.example", "newsletter": true}\n'},
        Refused(
            ExportReadError,
            r"prefs\.json: the file is not a JSON array of objects, as format: json says; if it holds one object per line, say format: jsonl",
        ),
    ),
    Case(
        "not-parquet",
        {"events.parquet": b"PAR1 this is not parquet"},
        Refused(
            ExportReadError, r"events\.parquet.*(too small to be a Parquet file|No magic bytes)"
        ),
    ),
    # ---- huge values ----------------------------------------------------------------------
    Case(
        "csv-10-mb-cell",
        {
            "users.csv": _csv(
                ANN, "u2,b@example.com,," + "A" * 10_000_000 + ",2024-01-02 03:04:05\n"
            )
        },
        Refused(
            ExportReadError,
            r"users\.csv: line 3: the line is 10,000,\d+ bytes long, more than the reader's limit"
            r" of 2,000,000; .* csv: \{max_line_bytes: 21000000\}",
        ),
    ),
    Case(
        "csv-10-mb-cell-allowed",
        {"users.csv": _csv("u2,b@example.com,," + "A" * 10_000_000 + ",2024-01-02 03:04:05\n")},
        Reads("users", 1, lambda row: len(str(row["full_name"])) == 10_000_000),
        catalog=(_csv_option("max_line_bytes: 21000000"),),
    ),
    Case(
        "jsonl-10-mb-value",
        {"tickets.jsonl": _jsonl(dict(TICKET, body="A" * 10_000_000))},
        Reads("tickets", 1, lambda row: len(str(row["body"])) == 10_000_000),
    ),
    # ---- files that are not there ---------------------------------------------------------
    Case(
        "missing-file",
        {"users.csv": lambda path: path.unlink()},
        Refused(
            CatalogError,
            r"tables\.users\.path \(line 10\): no file matches 'users\.csv' \(looked for .*\)\n"
            r"    fix: correct the path; it is relative to the folder that holds the catalog file",
        ),
    ),
    Case(
        "glob-matches-nothing",
        {},
        Refused(
            CatalogError,
            r"tables\.events\.path \(line 29\): no file matches 'events/\*\.parquet'.*\n"
            r"    fix: correct the pattern .* hidden files and the '\.before-' originals",
        ),
        catalog=(_EVENTS_GLOB,),
    ),
    Case(
        "path-is-a-folder",
        {"events/1.parquet": _parquet()},
        Refused(
            CatalogError,
            r"no file matches 'events'.*\n    fix: name the files in the folder with a glob,"
            r" e\.g\. events/\*",
        ),
        catalog=(("path: events.parquet", "path: events"),),
    ),
    # ---- files outside the export ---------------------------------------------------------
    Case(
        "path-outside-the-root",
        {"../outside/users.csv": _csv(ANN)},
        Refused(
            CatalogError,
            r"tables\.users\.path \(line 10\): the path '\.\./outside/users\.csv' resolves to"
            r" .*/outside/users\.csv, outside the export root .*/export\n"
            r"    fix: keep the table's files inside the export root, or name a folder that"
            r" holds them all at the top of the catalog: export_root: \.\./exports",
        ),
        catalog=(("path: users.csv", "path: ../outside/users.csv"),),
        call="erase",
        unchanged=("../outside/users.csv", "events.parquet", "tickets.jsonl", "prefs.json"),
    ),
    Case(
        "table-file-is-a-link",
        {"users.csv": _linked},
        Refused(
            CatalogError,
            r"tables\.users\.path \(line 10\): the file .*/export/users\.csv is a symbolic"
            r" link\n    fix: replace the link with the file or folder itself, or allow links"
            r" that stay inside the export root at the top of the catalog: allow_symlinks: true",
        ),
        call="erase",
        unchanged=("real.csv", "events.parquet", "tickets.jsonl", "prefs.json"),
    ),
    # ---- nested and drifting schemas ------------------------------------------------------
    Case(
        "json-nested-object",
        {
            "prefs.json": json.dumps(
                [
                    {
                        "email": "a@b.c",
                        "newsletter": True,
                        "contact": {"phone": "078 0000 9999", "tags": [1, 2]},
                    }
                ]
            ).encode()
        },
        Reads("prefs", 1, lambda row: row["contact"] == {"phone": "078 0000 9999", "tags": [1, 2]}),
        catalog=(
            (
                "      newsletter: {type: boolean}\n",
                "      newsletter: {type: boolean}\n      contact: {}\n",
            ),
        ),
    ),
    Case(
        "parquet-column-added-in-one-file",
        {"events/1.parquet": _parquet(), "events/2.parquet": _parquet(ssn=["1"])},
        Refused(
            CatalogError,
            r"the file has column 'ssn' that the catalog lacks \(events/\*\.parquet: 1 of 2"
            r" files, first 2\.parquet\)",
        ),
        catalog=(_EVENTS_GLOB,),
    ),
    Case(
        "parquet-column-added-and-described",
        {"events/1.parquet": _parquet(), "events/2.parquet": _parquet(ssn=["1"])},
        Reads("events", 2),
        catalog=(_EVENTS_GLOB, _DESCRIBE_SSN),
    ),
    Case(
        "parquet-type-widened",
        {"events/1.parquet": _parquet(), "events/2.parquet": _parquet(user_id=[7])},
        Reads("events", 2, lambda row: isinstance(row["user_id"], str)),
        catalog=(_EVENTS_GLOB,),
    ),
    Case(
        "parquet-type-changed",
        {"events/1.parquet": _parquet(), "events/2.parquet": _parquet(action=pa.array([{"k": 1}]))},
        Refused(
            ExportReadError,
            r"column 'action' is VARCHAR in this file but STRUCT\(k BIGINT\) in another file of"
            r" the table \(the schema changed between files\)",
        ),
        catalog=(_EVENTS_GLOB,),
    ),
    Case(
        "csv-header-order-differs",
        {"users/1.csv": _csv(ANN), "users/2.csv": b"email,user_id,phone,full_name,signup_at\n"},
        Refused(
            ExportReadError,
            r"users/2\.csv: line 1: the header differs from that of 1\.csv, the table's first"
            r" file \(the same columns in another order\); every file of a table needs the same"
            r" columns in the same order",
        ),
        catalog=(_USERS_GLOB,),
    ),
    Case(
        "csv-header-column-added",
        {"users/1.csv": _csv(ANN), "users/2.csv": (HEADER.rstrip() + ",ssn\n").encode()},
        Refused(ExportReadError, r"users/2\.csv: line 1: the header differs .* \(it adds 'ssn'\)"),
        catalog=(_USERS_GLOB,),
    ),
]


def _write(root: Path, case: Case) -> Path:
    catalog = root / "catalog.yml"
    text = VALID_CATALOG
    for old, new in case.catalog:
        assert old in text, old
        text = text.replace(old, new)
    catalog.write_text(text, encoding="utf-8")
    for name, content in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
    return catalog


def _open_and_read(catalog_path: Path) -> dict[str, list[dict[str, object]]]:
    """Open every table and read every value of every row, as a request would."""
    with open_engine(load_catalog(catalog_path)) as engine:
        for table in engine.tables:
            engine.query(f"SELECT count(COLUMNS(*)) FROM {quote_identifier(table)}")
        return {
            t: engine.query(f"SELECT * FROM {quote_identifier(t)}").to_pylist()
            for t in engine.tables
        }


def _run(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["dsar", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0), capsys.readouterr().err


def _command(case: Case, catalog: Path, out: Path) -> list[str]:
    if case.call == "check":
        return ["catalog", "check", str(catalog)]
    if case.call == "access":
        return [
            "access",
            "--catalog",
            str(catalog),
            "--out",
            str(out),
            "--email",
            "ann@example.com",
        ]
    return [
        "erase", "apply", "--catalog", str(catalog), "--email", "ann@example.com",
        "--out", str(out), "--register", str(out / "requests.db"),
    ]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case,
    tiny_catalog: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tiny_catalog.parent
    catalog = _write(root, case)
    before = {name: (root / name).read_bytes() for name in case.unchanged}
    if isinstance(case.expect, Reads):
        rows = _open_and_read(catalog)[case.expect.table]
        assert len(rows) == case.expect.rows
        assert not rows or case.expect.check(rows[0])
        return
    if case.call == "open":
        with pytest.raises(case.expect.error, match=case.expect.match) as info:
            _open_and_read(catalog)
        message = str(info.value)
    else:
        monkeypatch.setenv("WORKBENCH_KEY", "k" * 40)
        out = tmp_path / "out"
        code, message = _run(_command(case, catalog, out), monkeypatch, capsys)
        assert code == 1, message
        assert re.search(case.expect.match, message), message
        assert not list(out.glob("**/*.json")), "nothing is written for a refused command"
    for value in SECRETS:
        assert value not in message
    assert {name: (root / name).read_bytes() for name in case.unchanged} == before


# ---- every problem at once ---------------------------------------------------------------

EVERY_MISTAKE = (
    VALID_CATALOG.replace(
        "  supervisory_authority:", "  dop: dpo@example.com\n  supervisory_authority:"
    )
    .replace("    recipients: [aws]\n", "    recipients: [aws, stripe]\n")
    .replace("retention: {period: 2 years, after: ts}", "retention: {period: 2, after: ts}")
    .replace("path: tickets.jsonl", "path: nope.jsonl")
    .replace(
        "      user_id: {identity: user_id, references: users.user_id}\n      body:",
        "      user_id: {identity: user_id, references: users.userid}\n      body:",
    )
    .replace(
        "    description: Marketing preferences.\n",
        "    description: Marketing.\n    description: Again.\n",
    )
)


def test_a_catalog_with_every_kind_of_mistake_reports_them_all_in_one_run(
    tiny_catalog: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Catalog problems (with lines) and file problems (an undescribed column, a file that
    cannot be read) together: fixing the first never uncovers the next on a second run."""
    root = tiny_catalog.parent
    tiny_catalog.write_text(EVERY_MISTAKE, encoding="utf-8")
    (root / "users.csv").write_bytes(
        _csv(ANN)
        .replace(b"signup_at\n", b"signup_at,ssn\n", 1)
        .replace(b"03:04:05\n", b"03:04:05,1\n")
    )
    (root / "prefs.json").write_bytes(
        json.dumps([{"email": "Ren\u00e9 Zed", "newsletter": True}], ensure_ascii=False).encode(
            "latin-1"
        )
    )
    code, err = _run(["catalog", "check", str(tiny_catalog)], monkeypatch, capsys)
    assert code == 1
    assert err.replace(str(root.resolve()), "EXPORT").replace(str(root), "EXPORT") == (
        "8 problem(s) in catalog EXPORT/catalog.yml:\n"
        "  - tables.prefs.description (line 64): key 'description' is given twice (first on"
        " line 63)\n"
        "    fix: keep one of them; YAML would silently use the last\n"
        "  - controller.dop (line 5): unknown key 'dop'\n"
        "    fix: did you mean 'dpo'? (allowed keys: automated_decisions, contact, dpo, name,"
        " supervisory_authority)\n"
        "  - tables.events.retention.period (line 38): period 2 has no unit\n"
        "    fix: write e.g. '2 days', '2 months' or '2 years'\n"
        "  - tables.users.recipients (line 18): unknown recipient 'stripe'\n"
        "    fix: define it under the top-level 'recipients:'\n"
        "  - tables.tickets.path (line 45): no file matches 'nope.jsonl' (looked for"
        " EXPORT/nope.jsonl)\n"
        "    fix: correct the path; it is relative to the folder that holds the catalog file\n"
        "  - tables.tickets.columns.user_id.references (line 57): references unknown column"
        " 'userid' of table 'users'\n"
        "    fix: did you mean 'user_id'?\n"
        "  - tables.users.columns (line 23): the file has column 'ssn' that the catalog lacks"
        " (users.csv)\n"
        "    fix: describe it: add 'ssn: {}' under columns, with its identity, category or"
        " secret flag; no request or erasure runs on the table until every column is"
        " described\n"
        "  - tables.prefs: cannot read its files: line 2: the file is not UTF-8 text, and JSON"
        " must be UTF-8: re-export it as UTF-8 (e.g. iconv -f latin1 -t utf-8)\n"
        "    fix: repair or re-export prefs.json, or correct the table's format or csv options\n"
    )
    for value in SECRETS:
        assert value not in err


def test_catalog_check_names_an_undescribed_column_even_when_the_catalog_has_errors(
    tiny_catalog: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny_catalog.write_text(
        VALID_CATALOG.replace("format: parquet", "format: parquett").replace(
            "      full_name: {personal: name}\n", ""
        ),
        encoding="utf-8",
    )
    code, err = _run(["catalog", "check", str(tiny_catalog)], monkeypatch, capsys)
    assert code == 1
    assert err.startswith("2 problem(s) in catalog ")
    assert "tables.events.format (line 29): 'parquett' is not allowed here" in err
    assert "tables.users.columns (line 22): the file has column 'full_name' that the catalog" in err


# ---- tolerant readings, looked at more closely -------------------------------------------


def test_a_request_finds_a_row_stored_with_a_zero_width_space(tiny_catalog: Path) -> None:
    """Invisible characters are dropped on both sides (see normalize): a request for
    ann@example.com finds the row whose email was pasted with a zero-width space in it."""
    users = tiny_catalog.parent / "users.csv"
    users.write_bytes(_csv(ANN.replace("ann@example.com", "ann\u200b@example.com")))
    catalog = load_catalog(tiny_catalog)
    with open_engine(catalog) as engine:
        [person] = collect(
            engine, catalog, [SubjectRequest("r", (parse_key("email=ann@example.com"),))]
        )
    assert person.tables["users"].column("user_id").to_pylist() == ["u1"]


@pytest.mark.parametrize(
    ("encoding", "bom", "option"),
    [
        ("latin-1", b"", "encoding: latin-1"),
        ("utf-16-le", b"\xff\xfe", "encoding: utf-16"),
        ("utf-8", b"\xef\xbb\xbf", None),
    ],
    ids=["latin-1", "utf-16", "utf-8-bom"],
)
def test_a_rewrite_keeps_the_file_encoding(
    tiny_catalog: Path, tmp_path: Path, encoding: str, bom: bytes, option: str | None
) -> None:
    """DuckDB writes UTF-8 only: an erasure's new file is re-encoded, so it reads back."""
    users = tiny_catalog.parent / "users.csv"
    users.write_bytes(bom + _csv(ANN, ZED.replace("Zed Quill", "Ren\u00e9 Zed"), encoding=encoding))
    if option is not None:
        tiny_catalog.write_text(VALID_CATALOG.replace(*_csv_option(option)), encoding="utf-8")
    out = tmp_path / "users.csv"
    with open_engine(load_catalog(tiny_catalog)) as engine:
        engine.write_file("users", users, out, "SELECT * FROM {source} WHERE user_id = 'u9'")
        assert engine.count_file_rows("users", out) == 1
    assert out.read_bytes() == bom + _csv(
        ZED.replace("Zed Quill", "Ren\u00e9 Zed"), encoding=encoding
    )
    assert not list(tmp_path.glob("*.utf-8")), "the UTF-8 intermediate is removed"


def test_a_value_latin_1_cannot_hold_is_refused_by_the_rewrite(
    tiny_catalog: Path, tmp_path: Path
) -> None:
    users = tiny_catalog.parent / "users.csv"
    users.write_bytes(_csv(ANN, encoding="latin-1"))
    tiny_catalog.write_text(VALID_CATALOG.replace(*_LATIN1), encoding="utf-8")
    out = tmp_path / "new" / "users.csv"
    out.parent.mkdir()
    with (
        open_engine(load_catalog(tiny_catalog)) as engine,
        pytest.raises(
            EngineError,
            match=r"cannot write table 'users' back as latin-1: a value the change writes has a"
            r" character latin-1 cannot hold",
        ),
    ):
        engine.write_file(
            "users", users, out, "SELECT * REPLACE ('\u6f22' AS full_name) FROM {source}"
        )
    assert not list(out.parent.iterdir()), "no half-written file is left"


def test_an_unreadable_file_stops_open_engine_before_any_job(tiny_catalog: Path) -> None:
    """A refusal is a WorkbenchError (the CLI prints it and exits 1), never a KeyError."""
    (tiny_catalog.parent / "users.csv").write_bytes(_csv(ANN).replace(b"full_name", b"name"))
    with pytest.raises(WorkbenchError) as info:
        _open_and_read(tiny_catalog)
    assert [p.location for p in info.value.problems] == [  # type: ignore[attr-defined]
        "tables.users.columns.full_name",
        "tables.users.columns",
    ]
