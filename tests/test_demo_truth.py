"""The first demo schema against a ground truth written by hand in SQL over the files.

A person is the connected component of their strong identifiers (email, user id, customer id,
Google subject) in the graph whose edges are the identifiers that share a row; a row is theirs
when it carries one of those identifiers, or, carrying none, a device only they used. A
device that also appears beside someone else's identifier is shared: its anonymous rows are
set aside for review, in nobody's bundle. The SQL below is written from that rule alone, not
from the code that collects, so that 50 random people's bundles can be compared row for row.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dsar import SubjectRequest, answer_access_requests, load_catalog, parse_key


def _norm(column: str) -> str:
    return f"nullif(lower(trim({column})), '')"


# (table, file, strong identity columns as (kind, column)); every controller table that
# carries a strong identifier
STRONG_COLUMNS = {
    "accounts": [("user", "user_id"), ("customer", "customer_id"), ("email", "email")],
    "google_profiles": [("google", "google_sub"), ("user", "user_id"), ("email", "email")],
    "invoices": [("customer", "customer_id"), ("email", "billing_email")],
    "integrations": [("user", "user_id")],
    "support_tickets": [("user", "user_id"), ("email", "requester_email")],
    "web_logs": [("user", "user_id")],
    "usage_events": [("user", "user_id")],
    "marketing_preferences": [("user", "user_id"), ("email", "email")],
    "staff": [("email", "email")],
}
DEVICE_TABLES = ("web_logs", "usage_events")
# how a bundle row is told apart: the primary key, or for logs the whole line
ROW_KEY = {
    "accounts": ["user_id"],
    "google_profiles": ["google_sub"],
    "invoices": ["invoice_id"],
    "integrations": ["integration_id"],
    "support_tickets": ["ticket_id"],
    "web_logs": ["ts", "device_id", "method", "path", "status", "bytes"],
    "usage_events": ["event_id"],
    "marketing_preferences": ["user_id"],
    "staff": ["staff_id"],
}


def _views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    for table in STRONG_COLUMNS:
        [path] = [p for p in root.iterdir() if p.stem == table]
        reader = {".csv": "read_csv", ".parquet": "read_parquet"}.get(path.suffix, "read_json")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM {reader}('{path}')")


def _edges_sql() -> str:
    """Every pair of strong identifiers that share a row, both ways."""
    parts = []
    for table, cols in STRONG_COLUMNS.items():
        for k1, c1 in cols:
            for k2, c2 in cols:
                if c1 != c2:
                    parts.append(
                        f"SELECT '{k1}' k1, {_norm(c1)} v1, '{k2}' k2, {_norm(c2)} v2 FROM {table}"
                    )
    return " UNION ".join(parts)


def _person_sql() -> str:
    """The connected component of the email given as the one parameter."""
    return (
        f"WITH RECURSIVE edges AS ({_edges_sql()}), "
        "person(k, v) AS (SELECT 'email', lower(trim(?)) UNION "
        "SELECT e.k2, e.v2 FROM edges e JOIN person p ON e.k1 = p.k AND e.v1 = p.v "
        "WHERE e.v2 IS NOT NULL) "
        "SELECT k, v FROM person"
    )


def _carries(table: str, person: str) -> str:
    """SQL condition: the row carries one of the person's strong identifiers."""
    return " OR ".join(
        f"({_norm(c)}) IN (SELECT v FROM {person} WHERE k = '{k}')"
        for k, c in STRONG_COLUMNS[table]
    )


def _anonymous(table: str) -> str:
    return " AND ".join(f"{_norm(c)} IS NULL" for _, c in STRONG_COLUMNS[table])


def _truth(
    con: duckdb.DuckDBPyConnection, email: str
) -> tuple[dict[str, set[tuple[object, ...]]], int]:
    """The person's rows per table, and how many of them carry no strong identifier."""
    con.execute("DROP TABLE IF EXISTS person")
    con.execute(f"CREATE TEMP TABLE person AS {_person_sql()}", [email])
    own_devices = " UNION ".join(
        f"SELECT device_id FROM {t} WHERE {_carries(t, 'person')}" for t in DEVICE_TABLES
    )
    other_devices = " UNION ".join(
        f"SELECT device_id FROM {t} WHERE NOT ({_carries(t, 'person')}) AND NOT ({_anonymous(t)})"
        for t in DEVICE_TABLES
    )
    truth: dict[str, set[tuple[object, ...]]] = {}
    anonymous_rows = 0
    for table in STRONG_COLUMNS:
        where = _carries(table, "person")
        if table in DEVICE_TABLES:
            anonymous = (
                f"{_anonymous(table)} AND device_id IN ({own_devices}) "
                f"AND device_id NOT IN ({other_devices})"
            )
            where = f"({where}) OR ({anonymous})"
            found = con.execute(f"SELECT count(*) FROM {table} WHERE {anonymous}").fetchone()
            anonymous_rows += found[0] if found else 0
        cols = ", ".join(ROW_KEY[table])
        truth[table] = set(con.execute(f"SELECT {cols} FROM {table} WHERE {where}").fetchall())
    return truth, anonymous_rows


@pytest.mark.slow
def test_fifty_random_people_get_exactly_the_rows_the_sql_gives(
    demo_export: Path, tmp_path: Path
) -> None:
    root = demo_export.parent
    con = duckdb.connect()
    _views(con, root)
    emails = [r[0] for r in con.execute("SELECT email FROM accounts ORDER BY user_id").fetchall()]
    # the planted cases (a shared family laptop, an email inside another) and 43 at random
    people = emails[:7] + random.Random(5).sample(emails[7:], 43)
    requests = [
        SubjectRequest(f"AR-{i}", (parse_key(f"email={e.strip()}"),)) for i, e in enumerate(people)
    ]
    bundles = answer_access_requests(load_catalog(demo_export), requests, tmp_path / "out")
    assert not any(b.rejected for b in bundles)
    checked = dict.fromkeys(STRONG_COLUMNS, 0)
    anonymous_rows = 0
    for email, bundle in zip(people, bundles, strict=True):
        truth, anonymous = _truth(con, email)
        anonymous_rows += anonymous
        for table, expected in truth.items():
            path = bundle.path / "data" / f"{table}.parquet"
            got: set[tuple[object, ...]] = set()
            if path.exists():
                data = pq.read_table(path, columns=ROW_KEY[table])
                got = set(zip(*(data.column(c).to_pylist() for c in ROW_KEY[table]), strict=True))
                assert data.num_rows == len(got), (email, table, "a row twice")
            assert got == expected, (email, table, sorted(got ^ expected)[:5])
            checked[table] += len(expected)
    # the comparison covered every kind of table, anonymous device rows included
    assert all(checked[t] for t in STRONG_COLUMNS if t != "staff"), checked
    assert anonymous_rows > 0
