"""Red team 26 round 5, finding 4: a phone written with its extension ('+1 303 555 0101 x12',
'ext. 7', '#5') kept the extension's digits: letters went to '+1303555010112', a number that
is not the person's, and the same landline written without the extension was a second person.
The phone key (`dsar.subjects.identity.phone_key`, and its SQL twin) now cuts an extension
off as the ledger does: from the first letter, '#', ';' or ',' after a digit."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dsar.subjects.identity import MatchRules, phone_key, sql_phone_key
from tests.test_attacks_breach import _run
from tests.test_attacks_breach_r5_contact import CATALOG

WRITINGS = [
    ("+1 303 555 0101 x12", "+13035550101"),
    ("+1 (303) 555-0102 ext. 7", "+13035550102"),
    ("+44 20 7946 0958 #5", "+442079460958"),
    ("+31 6 12345678 ext. 12", "+31612345678"),
    ("+41 61 234 56 06;ext=3", "+41612345606"),
    ("tel:+41 61 234 56 06", "+41612345606"),  # a prefix before the number: no extension
    ("Mobile: +31 6 12345678", "+31612345678"),
]


@pytest.mark.parametrize(("written", "key"), WRITINGS)
def test_an_extension_is_no_part_of_the_number(written: str, key: str) -> None:
    assert phone_key(written, MatchRules()) == key
    literal = "'" + written.replace("'", "''") + "'"
    assert duckdb.execute(f"SELECT {sql_phone_key(literal, MatchRules())}").fetchall() == [(key,)]


def test_a_phone_with_an_extension_is_one_person_and_written_to_at_the_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "x"
    root.mkdir()
    with (root / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "phone", "country"])
        w.writerow(["u1", "", "+1 303 555 0101 x12", "US"])
        w.writerow(["u2", "", "+1 (303) 555-0102 ext. 7", "US"])
        w.writerow(["u3", "", "+44 20 7946 0958 #5", "GB"])
    with (root / "tickets.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket_id", "user_id", "requester_email", "requester_phone", "created_at"])
        for ticket, user in (("t1", "u1"), ("t2", "u2"), ("t3", "u3")):
            w.writerow([ticket, user, "", "", "2026-11-05T10:00:00Z"])
        w.writerow(["t4", "", "", "+1 303 555 0101", "2026-11-05T10:00:00Z"])  # u1's line
    (root / "catalog.yml").write_text(CATALOG)
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(root / "catalog.yml"), "--table", "tickets",
            "--discovered", "2026-11-20T18:30Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    assert len(people) == 3, output
    assert all(p["account_holder"] for p in people)
    assert sorted(str(p["contact"]) for p in people) == [
        "+13035550101",
        "+13035550102",
        "+442079460958",
    ]
