"""DuckDB and Spark give the same answers: same files read alike, same identifiers matched.

The Spark engine translates the workbench's DuckDB SQL (`dsar.engine.spark_sql`) and reads
each file with Spark's own readers under the schema DuckDB gives it; these tests run the
same queries over the same awkward files on both engines and compare every value and type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from dsar import ReleaseLog, load_catalog
from dsar.catalog.models import IdentityKind
from dsar.engine import Engine, open_engine, quote_identifier
from dsar.subjects.collect import SubjectData, collect
from dsar.subjects.identity import (
    MatchRules,
    SubjectRequest,
    normalize,
    parse_key,
    sql_normalize,
)
from tests.conftest import VALID_CATALOG, table_yaml

pytest.importorskip("pyspark", reason="the spark extra is not installed")
pytestmark = pytest.mark.spark

from dsar.engine.spark_sql import to_spark  # noqa: E402  (needs sqlglot, of the spark extra)


def test_parameters_are_named_in_their_order_and_strings_are_left_alone() -> None:
    sql, count = to_spark("SELECT '?' AS q, ? AS a FROM t WHERE b IN (?, ?) AND c = '??'")
    assert count == 3
    assert ":p0 AS a" in sql and "IN (:p1, :p2)" in sql
    assert "'?' AS q" in sql and "'??'" in sql


def test_functions_that_answer_differently_are_corrected() -> None:
    sql, _ = to_spark("SELECT strlen(x) AS b, lower(lower(x)) AS l, chr(8203) AS z FROM t")
    assert "OCTET_LENGTH(" in sql and "STRLEN" not in sql
    assert "CHR(" not in sql and "'\u200b' AS z" in sql  # Spark's chr() is modulo 256
    # both lower() calls fold the dotted capital I and the capital sigma first
    assert sql.count("TRANSLATE(") == 2
    # a group in a replacement is written \1 in RE2, $1 in Java (a literal $ escaped)
    sql, _ = to_spark("SELECT regexp_replace(x, '^<(.*)>$', '\\1$') AS r FROM t")
    assert "'$1\\\\$'" in sql, sql


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    """Both engines over the tiny export plus awkward files (module-wide: Spark is slow to
    start a query's first run)."""
    from tests.conftest import write_tiny_export

    root = tmp_path_factory.mktemp("awkward")
    catalog = write_tiny_export(root)
    _write_awkward(root)
    catalog.write_text(VALID_CATALOG + AWKWARD_TABLES, encoding="utf-8")
    cat = load_catalog(catalog)
    opened = {kind: open_engine(cat, kind) for kind in ("duckdb", "spark")}
    yield opened
    for engine in opened.values():
        engine.close()


AWKWARD_TABLES = "".join(
    [
        # every CSV trap: quoted line breaks and quotes, empty and quoted-empty values
        table_yaml(
            "notes",
            "notes.csv",
            "csv",
            {
                "id": "{}",
                "email": "{identity: email}",
                "note": "{free_text: true}",
                "due": "{}",
                "amount": "{}",
                "seen_at": "{}",
            },
        ),
        # Latin-1, day-first dates
        table_yaml(
            "legacy",
            "legacy.csv",
            "csv",
            {"name": "{personal: name}", "born": "{type: date}", "email": "{identity: email}"},
            csv="{delimiter: ';', encoding: latin-1, date_format: '%d.%m.%Y'}",
        ),
        # NULL written for a missing value
        table_yaml(
            "nulls",
            "nulls.csv",
            "csv",
            {"email": "{identity: email}", "note": "{}", "n": "{type: integer}"},
            csv="{'null': 'NULL'}",
        ),
        # keys some records lack, nested values, zoned times
        table_yaml(
            "profiles",
            "profiles.json",
            "json",
            {
                "email": "{identity: email}",
                "linked_at": "{type: timestamp}",
                "address": "{}",
                "tags": "{}",
                "late_key": "{}",
            },
        ),
        # two Parquet files whose columns differ
        table_yaml(
            "visits",
            "visits/*.parquet",
            "parquet",
            {"at": "{}", "email": "{identity: email}", "pages": "{}", "referrer": "{}"},
        ),
    ]
)


def _write_awkward(root: Path) -> None:
    (root / "notes.csv").write_text(
        "id,email,note,due,amount,seen_at\n"
        '1,Ann@Example.com,"Hello, ""Ann""\nsecond line",2026-01-31,12.50,2026-01-31 10:00:00\n'
        '2,"",,2026-02-01,-0.5,2026-02-01T10:00:00.250\n'
        "3,bob@example.com,plain,,7,\n"
        '4, spaced@example.com ,"",2026-03-01,1e3,2026-03-01 23:59:59\n',
        encoding="utf-8",
    )
    (root / "nulls.csv").write_text(
        'email,note,n\nann@example.com,NULL,1\nbob@example.com,,NULL\nNULL,"",3\n',
        encoding="utf-8",
    )
    (root / "legacy.csv").write_bytes(
        "name;born;email\nJosé Müller;31.12.1980;jose@example.com\nÅsa;01.02.1990;\n".encode(
            "latin-1"
        )
    )
    profiles = [
        {
            "email": "ann@example.com",
            "linked_at": "2025-01-01T10:00:00Z",
            "address": {"city": "Leeds", "zip": "LS1"},
            "tags": ["a", "b"],
        },
        {"email": "İRİS@EXAMPLE.COM", "linked_at": "2025-01-01T12:00:00+02:00", "tags": []},
        {"email": None, "linked_at": None, "address": {"city": None, "zip": "X"}},
    ]
    # a key only a late record has: DuckDB's sample would miss it, the key listing does not
    profiles += [{"email": f"p{i}@example.com"} for i in range(30)]
    profiles.append({"email": "late@example.com", "late_key": "found"})
    (root / "profiles.json").write_text(json.dumps(profiles), encoding="utf-8")
    (root / "visits").mkdir()
    pq.write_table(
        pa.table(
            {
                "at": pa.array([1_700_000_000_000_000], pa.timestamp("us")),
                "email": ["ann@example.com"],
                "pages": pa.array([3], pa.int32()),
            }
        ),
        root / "visits" / "a.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "at": pa.array([1_700_000_100_000_000], pa.timestamp("us")),
                "email": ["bob@example.com"],
                "pages": pa.array([None], pa.int32()),
                "referrer": ["https://example.org/?q=1"],
            }
        ),
        root / "visits" / "b.parquet",
    )


def _both(engines: dict[str, Engine], sql: str, params: list[object] | None = None) -> pa.Table:
    duck = engines["duckdb"].query(sql, params or [])
    spark = engines["spark"].query(sql, params or [])
    assert spark.schema == duck.schema
    assert spark.to_pylist() == duck.to_pylist()
    return duck


@pytest.mark.parametrize(
    "table",
    ["users", "events", "tickets", "prefs", "notes", "nulls", "legacy", "profiles", "visits"],
)
def test_every_file_reads_the_same_on_both_engines(engines: dict[str, Engine], table: str) -> None:
    columns = list(engines["duckdb"].columns(table))
    order = ", ".join(
        quote_identifier(c) for c in columns if c not in ("address", "tags")
    )  # nested values are compared, not sorted on
    rows = _both(engines, f"SELECT * FROM {quote_identifier(table)} ORDER BY {order}")
    assert rows.num_rows == engines["duckdb"].count_rows(table)
    assert engines["spark"].count_rows(table) == rows.num_rows


def test_awkward_values_are_read_as_written(engines: dict[str, Engine]) -> None:
    notes = _both(engines, "SELECT note, amount, seen_at FROM notes ORDER BY id").to_pylist()
    assert notes[0]["note"] == 'Hello, "Ann"\nsecond line'
    assert str(notes[1]["seen_at"]) == "2026-02-01 10:00:00.250000"
    legacy = _both(engines, "SELECT name, born FROM legacy ORDER BY name").to_pylist()
    assert [r["name"] for r in legacy] == ["José Müller", "Åsa"]  # by code point
    assert str(legacy[0]["born"]) == "1980-12-31"
    late = _both(engines, "SELECT late_key FROM profiles WHERE late_key IS NOT NULL")
    assert late.column(0).to_pylist() == ["found"]
    # a TIMESTAMP keeps the clock time and drops an offset, on both (as DuckDB does)
    zoned = _both(engines, "SELECT linked_at FROM profiles WHERE email LIKE '%EXAMPLE%'")
    assert str(zoned.column(0)[0].as_py()) == "2025-01-01 12:00:00"


def test_a_null_text_other_than_empty_is_read_as_duckdb_reads_it(
    engines: dict[str, Engine],
) -> None:
    rows = _both(engines, "SELECT email, note, n FROM nulls ORDER BY n NULLS LAST").to_pylist()
    # the text NULL is NULL; an empty field, quoted or not, is '' (as DuckDB reads it)
    assert [r["note"] for r in rows] == [None, "", ""]
    assert rows[1]["email"] is None
    assert rows[2]["n"] is None and rows[2]["email"] == "bob@example.com"


def test_spark_refuses_files_it_would_skip_and_never_quotes_a_record(tmp_path: Path) -> None:
    from dsar.errors import EngineError
    from tests.conftest import write_tiny_export

    catalog = write_tiny_export(tmp_path / "skip")
    (catalog.parent / "events").mkdir()
    (catalog.parent / "events.parquet").rename(catalog.parent / "events" / "_part.parquet")
    catalog.write_text(
        catalog.read_text().replace("path: events.parquet", "path: events/*.parquet")
    )
    with pytest.raises(EngineError, match=r"does not read _part\.parquet"):
        open_engine(load_catalog(catalog), "spark")
    bad = write_tiny_export(tmp_path / "bad")
    users = bad.parent / "users.csv"
    users.write_text(users.read_text().replace("2024-02-03 04:05:06", "Secret Value 42"))
    with open_engine(load_catalog(bad), "spark") as engine, pytest.raises(Exception) as caught:
        engine.query("SELECT * FROM users")
    assert "Secret Value" not in str(caught.value)


def test_batches_of_requests_use_the_list_parameter_on_both(engines: dict[str, Engine]) -> None:
    from dsar.engine.base import INLINE_VALUES, sql_in

    params: list[object] = []
    values = ["u1", "u3", *(f"nobody{i}" for i in range(INLINE_VALUES))]
    where = sql_in("user_id", values, params)
    found = _both(engines, f"SELECT user_id FROM users WHERE {where} ORDER BY 1", params)
    assert found.column(0).to_pylist() == ["u1", "u3"]


_TRICKY = st.sampled_from(
    [
        *(
            "İ",
            "Σ",
            "ς",
            "ß",
            "\u00a0",
            "\u200b",
            "\u00ad",
            " ",
            "\t",
            "+",
            ".",
            "@",
            "É",
            "ǅ",
            "ﬁ",
        ),
        # how an address is written in a cell (read by both engines' regular expressions)
        *("mailto:", "?s=1", "Ann <", ">", '"', "'", "`", "\u00ab", "\u201d", ";", ",", "\n"),
        *("\uff41", "\uff20", "\u3002", "$1", "\\1"),
        # placeholders (never a match), and spellings one under NFC (a combining accent)
        *("none", "N/A", "0", "0000", "xxx", "-", "\uff2e\uff2f\uff2e\uff25", "e\u0301", "\u0301"),
        # how a phone is written: international prefixes, a trunk marker, a full-width plus
        *("+41 61 234 56 06", "0049 (0)30 123456", "030 123456", "011 44 20", "\uff0b1", "(0)"),
    ]
)
_TEXT = st.lists(
    st.one_of(_TRICKY, st.text(alphabet=st.characters(codec="utf-8"), max_size=3)), max_size=8
).map("".join)


@settings(max_examples=6, deadline=None)
@given(
    values=st.lists(_TEXT, min_size=1, max_size=60),
    gmail=st.booleans(),
)
def test_identifiers_normalise_the_same_on_both_engines(
    engines: dict[str, Engine], values: list[str], gmail: bool
) -> None:
    """Every identifier kind, through the SQL that matches requests, on both engines: the
    same as the Python normalisation, for text with the letters whose case rules differ."""
    rules = MatchRules(gmail_dots=gmail, plus_addressing=gmail)
    domains = ["Gmail.com", "x.org", "googlemail.com"]
    emails = [f"{v}@{domains[i % 3]}" for i, v in enumerate(values)] + [
        *("mailto:Ann@x.org?subject=1", "Ann <ann@x.org>;", '"ann@x.org"', "\u00abann@x.org\u00bb"),
        *("\uff41\uff4e\uff4e\uff20x\u3002org", "ann\u00a0@x.org,", '"ann"@x.org', "ann@x.org.\n"),
    ]
    checks = [(IdentityKind.EMAIL, rules), (IdentityKind.USER_ID, rules)]
    # a phone's key in each kind of region: none, a trunk prefix 0, the US's 1 and 011
    checks += [(IdentityKind.PHONE, replace(rules, phone_region=r)) for r in (None, "DE", "US")]
    for kind, rules in checks:
        given = emails if kind is IdentityKind.EMAIL else values
        expr = sql_normalize(kind, "v", rules)
        sql = f"SELECT v, {expr} AS n FROM (SELECT unnest(CAST(? AS VARCHAR[])) AS v)"
        got = {
            name: dict(zip(*engine.query(sql, [given]).to_pydict().values(), strict=True))
            for name, engine in engines.items()
        }
        assert got["spark"] == got["duckdb"]
        assert got["duckdb"] == {v: normalize(kind, v, rules) for v in given}


def _tables(person: SubjectData) -> dict[str, object]:
    return {
        "tables": {name: rows.to_pylist() for name, rows in person.tables.items()},
        "set_aside": person.set_aside,
        "held": person.held_as_processor,
        "schemas": {name: rows.schema for name, rows in person.tables.items()},
    }


def test_every_trap_person_is_found_alike_on_both_engines(trap_catalog: Path) -> None:
    """The access traps (shared devices, a phone written three ways, a processor's table,
    owned rows): each person's rows, set-asides and processor counts, in one batch."""
    catalog = load_catalog(trap_catalog)
    requests = [
        SubjectRequest(f"R-{i}", (parse_key(text),))
        for i, text in enumerate(
            [
                "email=ann@example.com",
                "email=bob@example.com",
                "user_id=u2",
                "phone=+44 7700 900004",
                "email=cara@example.com",
                "email=nobody@example.com",
            ]
        )
    ]
    found = {}
    for kind in ("duckdb", "spark"):
        with open_engine(catalog, kind) as engine:
            found[kind] = [_tables(p) for p in collect(engine, catalog, requests)]
    assert found["spark"] == found["duckdb"]
    assert found["duckdb"][0]["tables"]  # Ann has rows: the comparison is not of nothing


def _files(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip
    }


@pytest.mark.slow
def test_the_demo_jobs_give_the_same_bytes_on_both_engines(tmp_path: Path) -> None:
    """The issue's bar: an access bundle, an erasure plan, an extract, an audience and the
    aggregates from the demo, on both engines: the same data files, byte for byte, and
    manifests that differ only in the engine and the time."""
    from anonymize import build_audience, run_aggregates, run_extract
    from dsar.access import answer_access_requests
    from dsar.demo import generate
    from dsar.keys import Keys
    from dsar.rights import plan_erasure
    from tests.conftest import AS_OF

    examples = Path(__file__).parent.parent / "examples"
    demo_export = generate(tmp_path / "demo", users=1000, seed=7, as_of=AS_OF).catalog_path
    catalog = load_catalog(demo_export)
    email = json.loads((demo_export.parent / "demo.json").read_text())["subject"]["email"]
    request = SubjectRequest("AR-1", (parse_key(f"email={email}"),))
    keys = Keys(b"k" * 40)
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    plans = {}
    for kind in ("duckdb", "spark"):
        out = tmp_path / kind
        with open_engine(catalog, kind) as engine:
            answer_access_requests(catalog, [request], out / "bundles", engine=engine, now=now)
            plan = plan_erasure(catalog, engine, request, keys=keys)
            plans[kind] = (plan.describe(), plan.table_rows())
            run_extract(examples / "extract_accounts.yml", engine, out / "x", keys=keys, now=now)
            # free text: the spans are found by Spark's workers, replaced in order here
            tickets = (examples / "extract_support_tickets.yml").read_text()
            relaxed = tmp_path / "tickets.yml"
            relaxed.write_text(
                tickets.replace("l: 2, max_suppression: 0.05", "max_suppression: 0.5")
            )
            run_extract(relaxed, engine, out / "t", keys=keys, now=now)
            build_audience(
                examples / "audience_marketing.yml", engine, ["google", "meta"], out / "a", now=now
            )
            log = ReleaseLog(tmp_path / f"log-{kind}" / "releases.db", keys)  # same name
            spec = examples / "aggregate_accounts.yml"
            run_aggregates(spec, engine, out / "g", release_log=log, now=now)
    duck, spark = _files(tmp_path / "duckdb"), _files(tmp_path / "spark")
    assert sorted(duck) == sorted(spark)
    manifests = [p for p in duck if p.endswith(".json") and "manifest" in p]
    assert len(manifests) >= 6  # bundle, two extracts, two audiences, aggregates
    for path in duck:
        if path in manifests:
            one, other = json.loads(duck[path]), json.loads(spark[path])
            assert one["tool"].pop("engine") == "duckdb"
            assert other["tool"].pop("engine") == "spark"
            # a keyed manifest's MAC covers the engine's name, so it differs with it
            assert (one.pop("mac", None) is None) == (other.pop("mac", None) is None), path
            assert one == other, path
        elif not path.endswith(("report.html", "report.md", ".zip")):  # these carry the time
            assert duck[path] == spark[path], path
    assert plans["spark"][1] == plans["duckdb"][1]
    assert plans["spark"][0].split("\n", 1)[1] == plans["duckdb"][0].split("\n", 1)[1]


@pytest.mark.slow
def test_an_erasure_applied_on_spark_writes_the_same_files(
    trap_catalog: Path, tmp_path: Path
) -> None:
    """Spark finds and plans; each new file is written by the driver: the same bytes."""
    import shutil

    from dsar.keys import Keys
    from dsar.rights import apply_plan, plan_erasure

    keys = Keys(b"k" * 40)
    results = {}
    for kind in ("duckdb", "spark"):
        root = tmp_path / kind
        shutil.copytree(trap_catalog.parent, root)
        catalog = load_catalog(root / "catalog.yml")
        request = SubjectRequest("ER-1", (parse_key("email=ann@example.com"),))
        with open_engine(catalog, kind) as engine:
            plan = plan_erasure(catalog, engine, request, keys=keys)
            apply_plan(plan, catalog, engine, out=root / "certs", keys=keys, dry_run=False)
        results[kind] = {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()}
    assert results["spark"] == results["duckdb"]


def test_spark_settings_come_from_the_environment_only_at_the_boundary() -> None:
    from dsar.engine.spark import SparkSettings

    env = {
        "SPARK_MASTER": "spark://h:7077",
        "SPARK_DRIVER_MEMORY": "3g",
        "PYSPARK_PYTHON": "/opt/py",
        "SPARK_HOME": "/opt/spark",
    }
    assert SparkSettings.from_env(env) == SparkSettings("spark://h:7077", "3g", "/opt/py", True)
    assert SparkSettings.from_env(env, master="local[2]").master == "local[2]"
    # the library's own default reads nothing: local mode, no memory set, and the workers'
    # interpreter left to pyspark (which falls back to this one, see spark_session)
    assert SparkSettings.from_env({}) == SparkSettings()
    assert SparkSettings().python is None
