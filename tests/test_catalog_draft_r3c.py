"""Red team, issue 27 round 3, findings 12-13 (`dsar catalog draft`), each attacked.

12. An export laid out Hive-style (`events/user_id=42/part-0.parquet`,
    `logs/dt=2026-11-01/country=NL/part-0.csv`) is one table over its partitions, the
    partition columns read as columns: the link to the people table is drafted on them and a
    request by that user id finds the rows (it was one table a partition file).
13. Placeholders in other languages (`keine`, `aucun`, `なし`, `нет`, and `-`, `n/a`, `none`,
    `null`) are no values when the draft decides a column's kind, whether it is a key and
    whether it is personal: a user_id column 30% `keine` was no key (and no link), an email
    column half `aucun` no identity.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from dsar.catalog import load_catalog
from dsar.catalog.models import IdentityKind
from dsar.cli import app
from dsar.draft import Draft, draft, draft_catalog
from dsar.draft.profile import is_placeholder
from dsar.draft.scan import hive_partitions
from dsar.text.engine import TextEngine
from tests.test_catalog_draft import _filled

runner = CliRunner()
FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Novak", "Silva", "Kim", "Berg"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _draft(root: Path) -> Draft:
    return draft(root, sample=400, text_engine=TextEngine(nlp=None))


def _users(root: Path, n: int = 60) -> None:
    _csv(
        root / "users.csv",
        [
            {
                "user_id": 1000 + i,
                "email": f"user{i}@mail{i % 5}.example",
                "name": f"{FIRST[i % 10]} {LAST[(i // 10 + i) % 10]}",
            }
            for i in range(n)
        ],
    )


def _partitioned_export(root: Path) -> dict[int, list[int]]:
    """users.csv, events partitioned by user_id (Parquet), logs by dt and country (CSV);
    the event ids each user's partition holds."""
    _users(root)
    held: dict[int, list[int]] = {}
    event = 0
    for i in range(0, 60, 3):  # every third user has events
        uid = 1000 + i
        ids = list(range(event, event + 2 + i % 4))
        event += len(ids)
        held[uid] = ids
        part = root / "events" / f"user_id={uid}"
        part.mkdir(parents=True)
        kinds = ["page_view", "click", "purchase"]
        pq.write_table(
            pa.table({"event_id": ids, "kind": [kinds[e % 3] for e in ids]}),
            part / "part-00000.parquet",
        )
    for day in ("2026-11-01", "2026-11-02"):
        for country in ("NL", "DE", "FR"):
            _csv(
                root / "logs" / f"dt={day}" / f"country={country}" / "part-0.csv",
                [{"status": s, "bytes": 100 + s} for s in (200, 404, 500)],
            )
    return held


# ---- 12: Hive-partitioned folders ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("events/user_id=42/part-0.parquet", ("events", ("user_id",))),
        ("logs/dt=2026-11-01/country=NL/part-0.csv", ("logs", ("dt", "country"))),
        ("raw/2026/events/user_id=7/p.parquet", ("raw/2026/events", ("user_id",))),
        ("events/part-0.parquet", None),  # no partition folder
        ("user_id=42/part-0.parquet", None),  # partitions at the root: no table folder
        ("events/user_id=42/extra/p.parquet", None),  # a plain folder below a partition
        ("events/a=1/a=2/p.parquet", None),  # one name twice
    ],
)
def test_f12_hive_partitions_are_read_from_the_path(
    path: str, expected: tuple[str, tuple[str, ...]] | None
) -> None:
    assert hive_partitions(Path(path)) == expected


def test_f12_a_partitioned_folder_is_one_table_with_its_partition_columns(tmp_path: Path) -> None:
    _partitioned_export(tmp_path)
    d = _draft(tmp_path)
    assert set(d.tables) == {"users", "events", "logs"}  # not one table a partition file
    events, logs = d.tables["events"], d.tables["logs"]
    assert events.profile.found.path == "events/user_id=*/*.parquet"
    assert logs.profile.found.path == "logs/dt=*/country=*/*.csv"
    assert len(events.profile.found.files) == 20 and len(logs.profile.found.files) == 6
    assert list(events.columns) == ["event_id", "kind", "user_id"]
    assert {"dt", "country"} <= set(logs.columns)
    assert logs.profile.rows == 18
    # typed as the engine reads them, from the folder names
    assert events.profile.columns["user_id"].arrow_type == "int64"
    assert logs.profile.columns["dt"].arrow_type.startswith("date")
    # the identity and the link are drafted on the partition column like any column
    user_id = events.columns["user_id"]
    assert user_id.references == "users.user_id"
    assert user_id.identity is d.tables["users"].columns["user_id"].identity is not None
    assert events.personal
    assert any("partitioned Hive-style by user_id" in n for n in events.profile.found.notes)


def test_f12_the_drafted_catalog_checks_and_a_request_finds_the_partition_rows(
    tmp_path: Path,
) -> None:
    from dsar import open_engine
    from dsar.subjects.collect import collect
    from dsar.subjects.identity import SubjectRequest, parse_key

    root = tmp_path / "export"
    held = _partitioned_export(root)
    out = tmp_path / "catalog.yml"
    d = draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    kind = d.tables["events"].columns["user_id"].identity
    assert kind is not None
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written["tables"]["events"]["path"].endswith("events/user_id=*/*.parquet")
    filled = tmp_path / "filled.yml"
    filled.write_text(yaml.safe_dump(_filled(written), sort_keys=False), encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check", str(filled)])
    assert checked.exit_code == 0, checked.output
    assert "catalog OK: 3 tables" in checked.output
    catalog = load_catalog(filled)
    uid = 1000 + 21
    with open_engine(catalog) as engine:
        [got] = collect(engine, catalog, [SubjectRequest("r", (parse_key(f"{kind.value}={uid}"),))])
    rows = got.tables["events"].to_pylist()
    assert sorted(r["event_id"] for r in rows) == held[uid]
    assert {r["user_id"] for r in rows} == {uid}


@pytest.mark.spark
def test_f12_spark_reads_the_partition_columns_as_duckdb_does(tmp_path: Path) -> None:
    """Spark, given the files, read a partition column as NULL (Parquet) or not at all (CSV):
    it now reads them from below the partitions' folder, as DuckDB does, so a request on
    Spark finds the same rows."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from dsar import open_engine
    from dsar.subjects.collect import collect
    from dsar.subjects.identity import SubjectRequest, parse_key

    root = tmp_path / "export"
    held = _partitioned_export(root)
    out = tmp_path / "catalog.yml"
    draft_catalog(root, out, sample=400, text_engine=TextEngine(nlp=None))
    filled = tmp_path / "filled.yml"
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    filled.write_text(yaml.safe_dump(_filled(written), sort_keys=False), encoding="utf-8")
    catalog = load_catalog(filled)
    read: dict[str, dict[str, list[dict[str, Any]]]] = {}
    uid = 1000 + 33
    found: dict[str, list[int]] = {}
    for kind in ("duckdb", "spark"):
        with open_engine(catalog, kind) as engine:
            read[kind] = {
                t: engine.query(f'SELECT * FROM "{t}" ORDER BY ALL').to_pylist()
                for t in ("events", "logs")
            }
            [got] = collect(engine, catalog, [SubjectRequest("r", (parse_key(f"user_id={uid}"),))])
            found[kind] = sorted(r["event_id"] for r in got.tables["events"].to_pylist())
    assert read["spark"] == read["duckdb"]
    assert {r["user_id"] for r in read["spark"]["events"]} == set(held)
    assert {r["country"] for r in read["spark"]["logs"]} == {"NL", "DE", "FR"}
    assert found["spark"] == found["duckdb"] == held[uid]


# ---- 13: placeholders in other languages ----------------------------------------------

_NAMES = [f"{f} {last}" for f in FIRST for last in LAST[:4]]  # 40 names, repeated


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *((v, True) for v in ("keine", " Keine ", "AUCUN", "aucune", "ninguno", "nessuno")),
        *((v, True) for v in ("geen", "brak", "ingen", "nenhum", "yok", "なし", "无", "없음")),
        *(
            (v, True)
            for v in ("нет", "\u041d\u0415\u0422", "немає", "-", "n/a", "N/A", "none", "NULL", "")
        ),
        ("keine Angabe", False),  # a phrase with the word is text, not the placeholder
        ("Brake", False),
        ("-1", False),
        (0, False),  # a number is never a placeholder
        (None, False),
    ],
)
def test_f13_placeholders_are_compared_trimmed_and_case_folded(
    value: object, expected: bool
) -> None:
    assert is_placeholder(value) is expected


def _people_with_placeholders(root: Path, rows: int, placeholder: str) -> set[int]:
    """users.csv, user_id a placeholder in 30% of rows (every 10th, 3 of 10); orders whose
    user_id is a user's or the placeholder. The user ids written."""
    root.mkdir(parents=True, exist_ok=True)
    users, ids = [], set()
    for i in range(rows):
        uid: int | str = placeholder if i % 10 < 3 else 5000 + i
        if isinstance(uid, int):
            ids.add(uid)
        users.append({"user_id": uid, "email": f"p{i}@mail{i % 7}.example", "name": _NAMES[i % 40]})
    _csv(root / "users.csv", users)
    known = sorted(ids)
    _csv(
        root / "orders.csv",
        [
            {
                "order_id": 90000 + i,
                "user_id": placeholder if i % 9 == 0 else known[(i * 7) % len(known)],
                "total": 10 + i % 90,
            }
            for i in range(rows * 2)
        ],
    )
    return ids


@pytest.mark.parametrize(
    "placeholder", ["keine", " Keine", "\u041d\u0415\u0422", "なし", "n/a", "-"]
)
@pytest.mark.parametrize("rows", [200, 1500], ids=["sampled-whole", "counted"])
def test_f13_a_user_id_30_percent_keine_is_still_a_unique_key(
    tmp_path: Path, placeholder: str, rows: int
) -> None:
    _people_with_placeholders(tmp_path, rows, placeholder)
    d = _draft(tmp_path)
    users = d.tables["users"]
    held = users.profile.columns["user_id"]
    assert held.placeholders == sum(1 for i in range(rows) if i % 10 < 3)
    assert held.non_null == held.distinct == rows - held.placeholders
    assert "user_id" in users.keys and users.primary_key == "user_id"
    assert any("hold a placeholder" in n for n in users.columns["user_id"].notes)
    assert "placeholder" in users.confidence["primary_key"].reason
    # the placeholder is no orphan: the orders' user_id links to the key
    assert d.tables["orders"].columns["user_id"].references == "users.user_id"
    assert d.tables["orders"].columns["user_id"].identity is not None


def test_f13_a_column_mostly_placeholders_is_no_key(tmp_path: Path) -> None:
    """A column whose values are unique but which holds a placeholder in most rows is no
    key: the rows it does not tell apart outnumber those it does."""
    _csv(
        tmp_path / "notes.csv",
        [{"ref": "keine" if i % 10 < 6 else f"R{i:05d}", "kind": "abc"[i % 3]} for i in range(300)],
    )
    d = _draft(tmp_path)
    assert "ref" not in d.tables["notes"].keys


@pytest.mark.parametrize("placeholder", ["aucun", "AUCUN", "없음", "none", "null", "-"])
def test_f13_an_email_column_half_aucun_is_still_identity_email(
    tmp_path: Path, placeholder: str
) -> None:
    _csv(
        tmp_path / "contacts.csv",
        [
            {
                "contact_id": i,
                "email": placeholder if i % 2 else f"c{i}@mail{i % 9}.example",
                "name": _NAMES[i % 40],
            }
            for i in range(1, 1201)
        ],
    )
    d = _draft(tmp_path)
    email = d.tables["contacts"].columns["email"]
    assert email.identity is IdentityKind.EMAIL
    assert d.tables["contacts"].personal
    assert any("100% of" in n for n in email.notes)  # the share of real values
