"""The identity index finds the same rows as a full scan, and never anything in clear."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsar import load_catalog, open_engine
from dsar.access import answer_access_requests
from dsar.catalog.models import IdentityKind
from dsar.errors import MissingKeyError, WorkbenchError
from dsar.keys import Keys
from dsar.rights import apply_plan, plan_erasure
from dsar.subjects.collect import SubjectData, collect
from dsar.subjects.identity import MatchRules, SubjectRequest, parse_key
from dsar.subjects.index import IdentityIndex, index_value
from tests.conftest import VALID_CATALOG, table_yaml

KEYS = Keys(b"k" * 40)
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def _req(text: str, label: str = "R-1") -> SubjectRequest:
    return SubjectRequest(label, (parse_key(text),))


def _found(people: list[SubjectData]) -> list[dict[str, object]]:
    return [
        {
            "ids": sorted(map(str, p.identity.keys)),
            "tables": {n: t.to_pylist() for n, t in sorted(p.tables.items())},
            "schemas": {n: t.schema for n, t in p.tables.items()},
            "set_aside": p.set_aside,
            "held": p.held_as_processor,
        }
        for p in people
    ]


def _both(
    catalog_path: Path, index_path: Path, requests: list[SubjectRequest], rules: MatchRules
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    catalog = load_catalog(catalog_path)
    with open_engine(catalog) as engine:
        plain = _found(collect(engine, catalog, requests, rules))
    with (
        IdentityIndex(index_path, KEYS) as index,
        open_engine(catalog, readers=index.readers(catalog)) as engine,
    ):
        files = index.files_for(catalog, engine)
        try:
            indexed = _found(collect(engine, catalog, requests, rules, index=files))
        finally:
            files.close()
    return plain, indexed


def _build(catalog_path: Path, index_path: Path) -> dict[str, int]:
    catalog = load_catalog(catalog_path)
    with IdentityIndex(index_path, KEYS) as index, open_engine(catalog) as engine:
        return index.build(catalog, engine)


TRAP_PEOPLE = [
    "email=ann@example.com",
    "email=bob@example.com",
    "user_id=u2",
    "phone=+44 7700 900004",
    "email=cara@example.com",
    "email=nobody@example.com",
]


@pytest.mark.parametrize(
    "rules",
    [MatchRules(), MatchRules(gmail_dots=True, plus_addressing=True)],
    ids=["plain", "gmail-and-plus"],
)
def test_the_traps_are_answered_the_same_with_the_index(
    trap_catalog: Path, tmp_path: Path, rules: MatchRules
) -> None:
    built = _build(trap_catalog, tmp_path / "index.db")
    assert sum(built.values()) > 0
    requests = [_req(t, f"R-{i}") for i, t in enumerate(TRAP_PEOPLE)]
    plain, indexed = _both(trap_catalog, tmp_path / "index.db", requests, rules)
    assert indexed == plain
    assert plain[0]["tables"]  # Ann has rows: the comparison is of something


def test_a_demo_bundle_is_the_same_bytes_with_the_index(demo_export: Path, tmp_path: Path) -> None:
    catalog = load_catalog(demo_export)
    email = json.loads((demo_export.parent / "demo.json").read_text())["subject"]["email"]
    _build(demo_export, tmp_path / "index.db")
    request = [_req(f"email={email}", "AR-1"), _req("user_id=u0000007", "AR-2")]
    answer_access_requests(catalog, request, tmp_path / "plain", now=NOW)
    with IdentityIndex(tmp_path / "index.db", KEYS) as index:
        answer_access_requests(catalog, request, tmp_path / "indexed", now=NOW, index=index)
    for label in ("AR-1", "AR-2"):
        plain = tmp_path / "plain" / label
        data = sorted(p.relative_to(plain) for p in plain.rglob("*") if p.is_file())
        for part in data:
            if part.name not in ("report.html", "report.md", "manifest.json"):
                assert (tmp_path / "indexed" / label / part).read_bytes() == (
                    plain / part
                ).read_bytes(), part
        one = json.loads((plain / "manifest.json").read_text())
        other = json.loads((tmp_path / "indexed" / label / "manifest.json").read_text())
        assert one == other  # same time given: the same manifest


def test_a_file_changed_since_the_index_is_read_whole(tiny_catalog: Path, tmp_path: Path) -> None:
    index_path = tmp_path / "index.db"
    _build(tiny_catalog, index_path)
    users = tiny_catalog.parent / "users.csv"
    with users.open("a", encoding="utf-8") as f:
        f.write("u9,ann@example.com,,Ann Again,2024-05-06 07:08:09\n")  # after the build
    plain, indexed = _both(tiny_catalog, index_path, [_req("email=ann@example.com")], MatchRules())
    assert indexed == plain
    user_ids = {r["user_id"] for r in plain[0]["tables"]["users"]}  # type: ignore[index]
    assert user_ids == {"u1", "u9"}
    with IdentityIndex(index_path, KEYS) as index:
        catalog = load_catalog(tiny_catalog)
        with open_engine(catalog) as engine:
            files = index.files_for(catalog, engine)
            assert "users" not in files.fresh and "events" in files.fresh
            files.close()
        assert "users" not in index.readers(catalog)  # its schema is sniffed again


AWKWARD = "".join(
    [
        # quoted line breaks, a blank line, CRLF, two files
        table_yaml(
            "notes",
            "notes/*.csv",
            "csv",
            {"id": "{}", "email": "{identity: email}", "note": "{free_text: true}"},
        ),
        # Latin-1 without a header
        table_yaml(
            "legacy",
            "legacy.csv",
            "csv",
            {"column0": "{personal: name}", "column1": "{identity: email}"},
            csv="{delimiter: ';', header: false, encoding: latin-1}",
        ),
        # a JSON array written a record per line, and one pretty-printed
        table_yaml("arrays", "arrays/*.json", "json", {"email": "{identity: email}", "n": "{}"}),
    ]
)


def _awkward(root: Path) -> Path:
    from tests.conftest import write_tiny_export

    catalog = write_tiny_export(root)
    (root / "notes").mkdir()
    (root / "notes" / "a.csv").write_text(
        "id,email,note\n"
        '1,ann@example.com,"two\nlines, and ""quotes"""\n'
        "\n"  # a blank line
        "2,bob@example.com,plain\n",
        encoding="utf-8",
    )
    (root / "notes" / "b.csv").write_text(
        'id,email,note\r\n3,A.N.N+x@Example.com,"crlf\r\nvalue"\r\n', encoding="utf-8"
    )
    (root / "legacy.csv").write_bytes(
        "Jos\xe9;ann@example.com\n\xc5sa;bob@example.com\n".encode("latin-1")
    )
    (root / "arrays").mkdir()
    rows = [{"email": "ann@example.com", "n": 1}, {"email": "bob@example.com", "n": 2}]
    (root / "arrays" / "lines.json").write_text(
        "[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n", encoding="utf-8"
    )
    (root / "arrays" / "pretty.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    catalog.write_text(VALID_CATALOG + AWKWARD, encoding="utf-8")
    return catalog


def test_awkward_files_are_indexed_by_their_records_or_read_whole(tmp_path: Path) -> None:
    catalog_path = _awkward(tmp_path / "export")
    _build(catalog_path, tmp_path / "index.db")
    requests = [_req("email=ann@example.com"), _req("email=bob@example.com", "R-2")]
    for rules in (MatchRules(), MatchRules(gmail_dots=True, plus_addressing=True)):
        plain, indexed = _both(catalog_path, tmp_path / "index.db", requests, rules)
        assert indexed == plain
    tables = plain[0]["tables"]
    assert isinstance(tables, dict)
    assert {r["note"] for r in tables["notes"]} >= {'two\nlines, and "quotes"'}
    assert [r["column0"] for r in tables["legacy"]] == ["José"]
    assert len(tables["arrays"]) == 2  # one from each file
    with IdentityIndex(tmp_path / "index.db", KEYS) as index:
        catalog = load_catalog(catalog_path)
        with open_engine(catalog) as engine:
            files = index.files_for(catalog, engine)
            fresh = {p.name for table in files.fresh.values() for p in table}
            files.close()
    assert {"a.csv", "b.csv", "legacy.csv", "lines.json"} <= fresh
    assert "pretty.json" not in fresh  # a record over several lines: read whole each time


def test_the_index_holds_no_identifier_and_refuses_another_key(
    trap_catalog: Path, tmp_path: Path
) -> None:
    path = tmp_path / "index.db"
    _build(trap_catalog, path)
    data = path.read_bytes()
    for clear in (b"ann@example.com", b"annexamplecom", b"u1,", b"7700900001", b"d_fam"):
        assert clear not in data
    assert path.stat().st_mode & 0o077 == 0  # owner only
    with pytest.raises(MissingKeyError, match="built with another key"):
        IdentityIndex(path, Keys(b"x" * 40))
    key_file = tmp_path / "key"
    key_file.write_text("k" * 40)
    with pytest.raises(WorkbenchError, match="sits beside the index"):
        IdentityIndex(path, KEYS, key_file)


def test_an_erasure_refreshes_the_index_and_the_person_leaves_it(
    trap_catalog: Path, tmp_path: Path
) -> None:
    index_path = tmp_path / "index.db"
    _build(trap_catalog, index_path)
    catalog = load_catalog(trap_catalog)
    ann = _req("email=ann@example.com", "ER-1")
    with IdentityIndex(index_path, KEYS) as index, open_engine(catalog) as engine:
        before = index.files_for(catalog, engine)
        assert before.relation("accounts", set(ann.keys)) is not None
        count = index.db.execute(
            "SELECT count(*) FROM refs WHERE ref = ?",
            (index.ref("accounts", IdentityKind.EMAIL, "ann@example.com"),),
        ).fetchone()
        before.close()
        assert count is not None and count[0] > 0
        plan = plan_erasure(catalog, engine, ann, keys=KEYS)
        apply_plan(
            plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False, index=index
        )
        files = index.files_for(catalog, engine)
        assert set(files.fresh) == {n for n in engine.tables if n in files.fresh}
        assert files.fresh.get("accounts")  # rewritten and indexed again: fresh
        files.close()
        left = index.db.execute(
            "SELECT count(*) FROM refs WHERE ref = ?",
            (index.ref("accounts", IdentityKind.EMAIL, "ann@example.com"),),
        ).fetchone()
    assert left is not None and left[0] == 0
    plain, indexed = _both(trap_catalog, index_path, [_req("email=bob@example.com")], MatchRules())
    assert indexed == plain


def test_the_index_command_and_access_with_it(trap_catalog: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dsar.cli import app

    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "key").write_text("k" * 40)
    index = tmp_path / "records" / "identity-index.db"
    runner = CliRunner()
    common = [
        "--catalog",
        str(trap_catalog),
        "--index",
        str(index),
        "--key-file",
        str(keys / "key"),
    ]
    built = runner.invoke(app, ["index", "build", *common])
    assert built.exit_code == 0, built.output
    assert "rows indexed" in built.output
    status = runner.invoke(app, ["index", "status", *common])
    assert "file(s) indexed and unchanged" in status.output
    out = runner.invoke(
        app,
        [
            "access",
            *common,
            "--email",
            "ann@example.com",
            "--out",
            str(tmp_path / "b"),
            "--label",
            "AR-I",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "verified" in out.output
    missing = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--index",
            str(tmp_path / "none.db"),
            "--email",
            "ann@example.com",
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert missing.exit_code == 1 and "dsar index build" in str(missing.exception)


def test_index_values_fold_what_matching_rules_may_fold() -> None:
    rules = MatchRules(gmail_dots=True, plus_addressing=True)
    from dsar.subjects.identity import normalize

    for variant in ("A.nn+x@googlemail.com", "ann@gmail.com", " ANN+y@Gmail.com "):
        for r in (MatchRules(), rules):
            value = normalize(IdentityKind.EMAIL, variant, r)
            assert value is not None
            assert index_value(IdentityKind.EMAIL, value) == "ann@gmailcom"
    # a phone by its key's last five digits: every writing of the number shares them (the
    # index is built without a region; a search in one reads '07700 900001' as +44...)
    assert index_value(IdentityKind.PHONE, "+447700900001") == "00001"
    assert index_value(IdentityKind.PHONE, "07700900001") == "00001"


def test_an_erasure_planned_with_the_index_is_the_same_plan(
    trap_catalog: Path, tmp_path: Path
) -> None:
    _build(trap_catalog, tmp_path / "index.db")
    catalog = load_catalog(trap_catalog)
    ann = _req("email=ann@example.com", "ER-1")
    with IdentityIndex(tmp_path / "index.db", KEYS) as index, open_engine(catalog) as engine:
        plain = plan_erasure(catalog, engine, ann, keys=KEYS)
        files = index.files_for(catalog, engine)
        try:
            indexed = plan_erasure(catalog, engine, ann, keys=KEYS, index=files)
        finally:
            files.close()
    assert indexed.table_rows() == plain.table_rows()
    assert indexed.describe().split("\n", 1)[1] == plain.describe().split("\n", 1)[1]


def test_a_catalog_change_since_the_build_is_never_answered_from_the_index(
    tiny_catalog: Path, tmp_path: Path
) -> None:
    """Built when users.phone was no identity; then the catalog names it one."""
    text = tiny_catalog.read_text()
    tiny_catalog.write_text(text.replace("phone: {identity: phone, type: string}", "phone: {}"))
    _build(tiny_catalog, tmp_path / "index.db")
    tiny_catalog.write_text(text)
    plain, indexed = _both(
        tiny_catalog, tmp_path / "index.db", [_req("phone=+44 1632 960001")], MatchRules()
    )
    assert indexed == plain and plain[0]["tables"]


def test_a_file_restored_with_its_old_modification_time_is_read_whole(
    tiny_catalog: Path, tmp_path: Path
) -> None:
    import os

    _build(tiny_catalog, tmp_path / "index.db")
    users = tiny_catalog.parent / "users.csv"
    stat = users.stat()
    users.write_text(users.read_text().replace("joann@", "jones@"))  # same size
    os.utime(users, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p or rsync -t do
    plain, indexed = _both(
        tiny_catalog, tmp_path / "index.db", [_req("email=jones@example.com")], MatchRules()
    )
    assert indexed == plain and plain[0]["tables"]


def test_offsets_that_are_not_the_rows_are_never_used(tiny_catalog: Path, tmp_path: Path) -> None:
    """Backslash escapes (which counting quotes cannot follow), and a file whose records
    the reader sees differently: left unindexed, read whole, the same answer."""
    users = tiny_catalog.parent / "users.csv"
    users.write_text(
        "user_id,email,phone,full_name,signup_at\n"
        'u1,ann@example.com,,"Ann \\"\nLee",2024-01-02 03:04:05\n'
        'u2,bob@example.com,,"5\\" Marsh",2024-02-03 04:05:06\n'
        "u3,joann@example.com,,Jo,2024-03-04 05:06:07\n",
        encoding="utf-8",
    )
    _build(tiny_catalog, tmp_path / "index.db")
    for person in ("email=ann@example.com", "email=bob@example.com", "user_id=u3"):
        plain, indexed = _both(tiny_catalog, tmp_path / "index.db", [_req(person)], MatchRules())
        assert indexed == plain


def test_parquet_files_without_an_identity_column_are_indexed(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.conftest import write_tiny_export

    catalog = write_tiny_export(tmp_path / "export")
    events = catalog.parent / "events"
    events.mkdir()
    (catalog.parent / "events.parquet").rename(events / "a.parquet")
    pq.write_table(
        pa.table({"ts": pa.array([1_700_000_300], pa.timestamp("s")), "action": ["ping"]}),
        events / "b.parquet",
    )  # an older file, from before events had a user
    catalog.write_text(
        catalog.read_text().replace("path: events.parquet", "path: events/*.parquet")
    )
    built = _build(catalog, tmp_path / "index.db")
    assert built["events"] == 4
    plain, indexed = _both(catalog, tmp_path / "index.db", [_req("user_id=u1")], MatchRules())
    assert indexed == plain and plain[0]["tables"]["events"]  # type: ignore[index]


@pytest.mark.spark
def test_the_index_is_refused_on_spark_before_anything_runs(
    trap_catalog: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    _build(trap_catalog, tmp_path / "index.db")
    catalog = load_catalog(trap_catalog)
    with (
        IdentityIndex(tmp_path / "index.db", KEYS) as index,
        open_engine(catalog, "spark") as engine,
    ):
        with pytest.raises(WorkbenchError, match="DuckDB engine"):
            answer_access_requests(
                catalog, [_req("email=ann@example.com")], tmp_path / "b", engine=engine, index=index
            )
        plan = plan_erasure(catalog, engine, _req("email=ann@example.com"), keys=KEYS)
        with pytest.raises(WorkbenchError, match="DuckDB engine"):
            apply_plan(
                plan, catalog, engine, out=tmp_path / "c", keys=KEYS, dry_run=False, index=index
            )
    assert not (tmp_path / "c").exists()  # refused before any change


def test_a_typed_identity_column_matches_as_the_search_reads_it(tmp_path: Path) -> None:
    """user_id sniffed as an integer: '007' is 7 to every query, whatever columns it reads
    (DuckDB's type pushdown would read it as the text '007' in a query of that column
    alone: disabled), so the index and a look-first filter find what the scan finds."""
    from tests.conftest import write_tiny_export

    catalog = write_tiny_export(tmp_path / "export")
    events = catalog.parent / "events"
    events.mkdir()
    (catalog.parent / "events.parquet").unlink()
    (events / "a.csv").write_text("ts,user_id,action\n2024-01-01 00:00:00,7,login\n")
    (events / "b.csv").write_text("ts,user_id,action\n2024-01-02 00:00:00,007,secret\n")
    text = catalog.read_text().replace(
        "path: events.parquet\n    format: parquet", "path: events/*.csv\n    format: csv"
    )
    catalog.write_text(
        text.replace(
            "      user_id: {identity: user_id, references: users.user_id}\n      action: {}",
            "      user_id: {identity: user_id}\n      action: {}",
        )
    )
    _build(catalog, tmp_path / "index.db")
    plain, indexed = _both(catalog, tmp_path / "index.db", [_req("user_id=7")], MatchRules())
    assert indexed == plain
    actions = {r["action"] for r in plain[0]["tables"]["events"]}  # type: ignore[index]
    assert actions == {"login", "secret"}
    loaded = load_catalog(catalog)
    with open_engine(loaded) as engine:
        alone = engine.query("SELECT CAST(user_id AS VARCHAR) AS v FROM events ORDER BY ts")
    assert alone.column("v").to_pylist() == ["7", "7"]


def test_an_index_built_under_older_normalising_rules_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade changed how an identity kind is normalised (IPv6 written as RFC 5952 does,
    session 14): an index built before it holds the old forms, and a search with the new
    form would skip the file holding the person's rows. The entry records the normalising
    SQL, so such files are read whole until the next build."""
    from dsar.subjects.identity import sql_normalize as current

    root = tmp_path / "export"
    root.mkdir()
    (root / "logins.csv").write_text(
        "login_id,ip\nl1,2001:DB8:0:0:0:0:0:1\nl2,192.0.2.7\n", encoding="utf-8"
    )
    catalog_path = root / "catalog.yml"
    catalog_path.write_text(
        VALID_CATALOG.split("tables:\n")[0]
        + "tables:\n"
        + table_yaml(
            "logins",
            "logins.csv",
            "csv",
            {"login_id": "{type: string}", "ip": "{identity: ip_address}"},
        ),
        encoding="utf-8",
    )

    def older(kind: IdentityKind, column: str, rules: MatchRules, **options: bool) -> str:
        if kind is IdentityKind.IP_ADDRESS:  # lower case and trimmed, IPv6 as written
            return f"lower(trim(CAST({column} AS VARCHAR)))"
        return current(kind, column, rules, **options)

    monkeypatch.setattr("dsar.subjects.index.sql_normalize", older)
    _build(catalog_path, tmp_path / "index.db")
    monkeypatch.setattr("dsar.subjects.index.sql_normalize", current)
    plain, indexed = _both(
        catalog_path, tmp_path / "index.db", [_req("ip_address=2001:db8::1")], MatchRules()
    )
    assert plain[0]["tables"], "the search finds the row written the long way"
    assert indexed == plain
