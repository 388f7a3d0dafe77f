"""Rows against people, attacked through the identity links the catalog declares.

A red team found that a web log extract "k = 2" counted each anonymous row (no user id, but
a device id the user's other rows carry) as a person of its own: a class holding one user's
signed-in rows and their anonymous rows passed as two people. The attack: link every
released row back to the source's people through its device id (the attacker's background
knowledge is the source export), count the distinct people per class in DuckDB, and compare
with what the workbench measured and enforced.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anonymize.enforce import WHO, enforce, who_sql
from anonymize.extract import ExtractResult, run_extract
from anonymize.operators import python_hash
from anonymize.params import Hash
from anonymize.risk import RiskReport, measure
from dsar import Keys, load_catalog, open_engine
from dsar.errors import ExtractRejectedError
from dsar.review.manifest import ExtractManifest
from tests.conftest import AS_OF

KEYS = Keys(b"k" * 40)
QIS = ["ip", "user_agent"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's export: 1,000 users, seed 7 (a fifth of the web log lines anonymous)."""
    from dsar.demo import generate

    return generate(tmp_path_factory.mktemp("demo7"), users=1000, seed=7, as_of=AS_OF).catalog_path


def _owners_sql(demo: Path) -> str:
    """The attacker's background knowledge: each device and the user it is seen with in the
    source (web logs and usage events); a device seen with several users (the demo plants
    one family laptop) is given to one of them, the least by MD5, as the workbench does."""
    folder = demo.parent
    return (
        "SELECT device_id AS d, arg_min(user_id, md5(user_id)) AS u FROM ("
        f" SELECT device_id, user_id FROM read_csv('{folder / 'web_logs.csv'}')"
        f" UNION ALL SELECT device_id, user_id FROM read_parquet('{folder / 'usage_events.parquet'}'))"
        " WHERE user_id IS NOT NULL AND device_id IS NOT NULL GROUP BY d"
    )


def _attack(
    con: duckdb.DuckDBPyConnection, released: str, qis: list[str]
) -> tuple[int, int, int, float]:
    """Over `released` (the quasi-identifiers, and device_id and user_id as the attacker can
    map them back to the source's values): (smallest class in people, classes holding one
    person, classes, the average over people of 1 / their smallest class)."""
    key = ", ".join(qis)
    got = con.execute(
        f"WITH r AS (SELECT {', '.join('o.' + q for q in qis)}, coalesce(o.user_id, w.u,"
        f" '~' || o.device_id, '?') AS person FROM {released} o LEFT JOIN owners w"
        " ON w.d = o.device_id),"
        f" c AS (SELECT {key}, count(DISTINCT person) AS n FROM r GROUP BY ALL),"
        f" p AS (SELECT person, min(n) AS m FROM r JOIN c USING ({key}) GROUP BY person)"
        " SELECT (SELECT min(n) FROM c), (SELECT count(*) FILTER (WHERE n = 1) FROM c),"
        " (SELECT count(*) FROM c), (SELECT avg(1 / m) FROM p)"
    ).fetchone()
    assert got is not None
    return int(got[0]), int(got[1]), int(got[2]), float(got[3])


def _stage(demo: Path, who: str) -> pa.Table:
    """What an extract stages from the web logs (ip to its /16, the user agent, the ids),
    with `who` as the person column, through the engine that runs extracts."""
    with open_engine(load_catalog(demo)) as engine:
        return engine.query(
            f"SELECT {who} AS {WHO}, regexp_replace(ip, '\\.\\d+\\.\\d+$', '.0.0/16') AS ip, user_agent,"
            " device_id, user_id FROM web_logs"
        )


def _enforced(staged: pa.Table, k: int) -> tuple[duckdb.DuckDBPyConnection, RiskReport]:
    con = duckdb.connect()
    con.register("staged", staged)
    done = enforce(con, "staged", QIS, [], k=k, l_target=None, budget=1.0, person=True)
    con.execute(f"CREATE TABLE released_rows AS SELECT * FROM ({done.sql})")
    return con, measure(con, "released_rows", QIS, person=WHO)


def test_anonymous_rows_are_their_device_s_person(demo: Path) -> None:
    """The red team's extract: k = 2 over (ip /16, user agent). Counting each anonymous row
    as someone else, the published classes mostly held one person; resolved through the
    device ids, k is what the attack measures, and no class holds one person."""
    catalog = load_catalog(demo)
    anonymous = duckdb.execute(
        f"SELECT count(*) FILTER (WHERE user_id IS NULL) FROM read_csv('{demo.parent / 'web_logs.csv'}')"
    ).fetchone()
    assert anonymous is not None and anonymous[0] > 1000
    # before: whose row it is was the user id alone (an anonymous row: no one, counted apart)
    con, risk = _enforced(_stage(demo, 'md5(CAST("user_id" AS VARCHAR))'), k=2)
    con.execute(f"CREATE TABLE owners AS {_owners_sql(demo)}")
    k, alone, classes, average = _attack(con, "released_rows", QIS)
    assert risk.k == 2 and k == 1  # the measure said 2; the attack finds one person
    assert alone > classes / 2  # most classes "k = 2" held one person
    assert average > risk.prosecutor_average
    # now: resolved through the catalog's links (web logs and usage events name the device)
    con, risk = _enforced(_stage(demo, who_sql(catalog, "web_logs", "user_id")), k=2)
    con.execute(f"CREATE TABLE owners AS {_owners_sql(demo)}")
    k, alone, classes, average = _attack(con, "released_rows", QIS)
    assert risk.k == k >= 2 and alone == 0 and classes == risk.classes >= 5
    assert risk.prosecutor_average == pytest.approx(average)
    assert risk.prosecutor_highest == pytest.approx(1 / k)


def test_rows_that_resolve_to_nobody_are_one_person_per_identifier(tmp_path: Path) -> None:
    """An anonymous device seen with no user anywhere: its rows are one person, not one per
    row; a row with no identifier at all is NULL (one person per class, as before); a device
    seen with two users is given to one of them."""
    folder = tmp_path / "export"
    folder.mkdir()
    pd.DataFrame(
        {
            "user_id": ["u1", None, None, None, None, "u2", "u3", None],
            "device_id": ["d1", "d1", "dx", "dx", None, "ds", "ds", "ds"],
            "page": ["/"] * 8,
        }
    ).to_csv(folder / "logs.csv", index=False)
    (folder / "catalog.yml").write_text(
        "version: 1\ncontroller: {name: Test Ltd, contact: privacy@test.invalid,"
        " supervisory_authority: the authority}\ntables:\n"
        "  logs:\n    path: logs.csv\n    format: csv\n    description: logs\n"
        "    category: logs\n    origin: observed\n    purposes: [security]\n"
        "    legal_basis: legitimate_interests\n    source: the browser\n"
        "    retention: {period: 30 days, after: page}\n    erasure: {action: delete}\n"
        "    columns:\n      user_id: {identity: user_id, type: string}\n"
        "      device_id: {identity: device_id, type: string}\n      page: {type: string}\n"
    )
    catalog = load_catalog(folder / "catalog.yml")
    with open_engine(catalog) as engine:
        got = engine.query(f"SELECT {who_sql(catalog, 'logs', 'user_id')} AS w FROM logs")
    who = got.column("w").to_pylist()
    md5 = {u: duckdb.execute(f"SELECT md5('{u}')").fetchone()[0] for u in ("u1", "u2", "u3")}  # type: ignore[index]
    assert who[0] == who[1] == md5["u1"]  # d1 is u1's
    assert who[2] == who[3] and who[2].startswith("~") and who[2] not in md5.values()
    assert who[4] is None
    assert who[7] == min(md5["u2"], md5["u3"])


WEB = """\
version: 1
name: web-devices
table: web_logs
person: user_id
columns:
  ts: drop
  ip: {op: generalize, ip: 24}
  device_id: hash
  user_id: hash
  method: drop
  path: drop
  status: drop
  bytes: drop
  user_agent: drop
privacy: {k: 2, max_suppression: 1.0}
output: {path: web_logs.parquet}
"""


def _extract(demo: Path, tmp_path: Path) -> ExtractResult:
    policy = tmp_path / "web.yml"
    policy.write_text(WEB)
    with open_engine(load_catalog(demo)) as engine:
        return run_extract(policy, engine, tmp_path / "out", keys=KEYS)


def test_the_extract_s_manifest_agrees_with_the_device_attack(demo: Path, tmp_path: Path) -> None:
    """The written extract, attacked: the released device and user pseudonyms mapped back
    with the key (the attacker's stand-in for any link to the source), each row given to its
    device's user; the manifest's single-row k is what the attack finds. The released user
    and device pseudonyms link each one's rows: over each one's combination of network
    addresses, people are alone (k = 1, `test_attacks_linked_rows`), so the extract is now
    refused and set aside, and its manifest read there."""
    with pytest.raises(ExtractRejectedError, match="combination of rows") as refused:
        _extract(demo, tmp_path)
    folder = refused.value.folder
    m = ExtractManifest.model_validate_json((folder / "manifest.json").read_text())
    assert m.risk.linked_by == ("user_id", "device_id") and m.risk.k == 1
    con = duckdb.connect()
    con.execute(f"CREATE TABLE owners AS {_owners_sql(demo)}")
    spec = Hash(op="hash")
    devices = [r[0] for r in con.execute("SELECT DISTINCT d FROM owners").fetchall()]
    users = [r[0] for r in con.execute("SELECT DISTINCT u FROM owners").fetchall()]
    back = pd.DataFrame(
        {
            "h": [python_hash(v, KEYS, spec, "web-devices") for v in devices + users],
            "v": devices + users,
        }
    )
    con.register("back", back)
    con.execute(
        "CREATE TABLE released_rows AS SELECT o.ip,"
        " coalesce(bd.v, 'unseen ' || o.device_id) AS device_id,"
        f" bu.v AS user_id FROM read_parquet('{folder / 'web_logs.parquet'}') o"
        " LEFT JOIN back bd ON bd.h = o.device_id LEFT JOIN back bu ON bu.h = o.user_id"
    )
    k, alone, _, _ = _attack(con, "released_rows", ["ip"])
    assert m.risk.k_rows == k >= 2 and alone == 0


def test_a_person_in_the_ledger_loses_their_anonymous_rows_too(demo: Path, tmp_path: Path) -> None:
    """An objector's signed-out web log lines (their device, no user id) are theirs: the
    ledger's exclusion removes them with the signed-in ones. Before, only rows naming the
    person left, and their device's anonymous lines were released."""
    from dsar.catalog.models import IdentityKind
    from dsar.records.ledger import Ledger, Reason
    from dsar.subjects.identity import SubjectKey

    con = duckdb.connect()
    con.execute(f"CREATE TABLE owners AS {_owners_sql(demo)}")
    logs = f"read_csv('{demo.parent / 'web_logs.csv'}')"
    # users whose own device (no one else's) left anonymous lines
    got = con.execute(
        f"SELECT w.u, list(DISTINCT w.d) FROM {logs} l JOIN owners w ON w.d = l.device_id"
        " WHERE l.user_id IS NULL GROUP BY w.u ORDER BY count(*) DESC LIMIT 3"
    ).fetchall()
    assert got, "the demo has anonymous lines of known devices"
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    for user, _ in got:
        ledger.add(
            [SubjectKey(IdentityKind.USER_ID, user)], Reason.OBJECTED_DIRECT_MARKETING, "R-9"
        )
    policy = tmp_path / "web.yml"
    policy.write_text(WEB.replace("privacy: {k: 2, max_suppression: 1.0}", "privacy: {k: 1}"))
    with open_engine(load_catalog(demo)) as engine:
        result = run_extract(policy, engine, tmp_path / "out", keys=KEYS, ledger=ledger)
    out = pq.read_table(result.file)
    spec = Hash(op="hash")
    theirs = {python_hash(d, KEYS, spec, "web-devices") for _, devices in got for d in devices}
    users = {python_hash(u, KEYS, spec, "web-devices") for u, _ in got}
    assert not set(out.column("device_id").to_pylist()) & theirs
    assert not set(out.column("user_id").to_pylist()) & users
    assert out.num_rows > 0  # everyone else is still there
