"""Red team, issue 27 round 3, findings 7-13 (`dsar catalog draft`), each attacked.

7. A column of JSON objects or maps whose keys are people (`{"alice@example.com": 3}`, user
   ids) is personal: the keys are read, not only the values.
8. A CSV with an unbalanced quote (never closed, or closed lines below so that the rows
   between are one value) is NOT READ, the reason naming the line, never a value.
9. Coordinates (latitude and longitude columns, a "lat,lng" pair, a GeoJSON Point as text or
   as a nested value) in a table whose person is found by a link are a location.
10. Payment card numbers (Luhn), Dutch BSNs (11-proof), UK NINOs, passport numbers (by
    name) are financial accounts and government ids; religion, health and the other special
    categories (GDPR Art. 9), and gender, are flagged sensitive and confirmed first.
11. Message-IDs (`<id@host>`, or bare in a column named message_id) are no one's address.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dsar.catalog.models import PersonalKind
from dsar.draft import Draft, draft, render
from dsar.text.engine import TextEngine

FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Novak", "Silva", "Kim", "Berg"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _draft(root: Path) -> Draft:
    return draft(root, sample=400, text_engine=TextEngine(nlp=None))


def _name(i: int) -> str:
    return f"{FIRST[i % 10]} {LAST[(i // 10 + i) % 10]}"


def _users(root: Path, n: int = 80) -> None:
    _csv(
        root / "users.csv",
        [
            {"user_id": i, "email": f"user{i}@mail{i % 5}.example", "name": _name(i)}
            for i in range(1, n + 1)
        ],
    )


# ---- 7: people in a nested value's keys --------------------------------------------------


def test_f7_a_json_object_keyed_by_email_is_personal(tmp_path: Path) -> None:
    _jsonl(
        tmp_path / "stats.jsonl",
        [
            {"stat_id": i, "counts": {f"p{j}@post{j % 3}.example": j for j in range(i % 4 + 1)}}
            for i in range(60)
        ],
    )
    d = _draft(tmp_path)
    col = d.tables["stats"].columns["counts"]
    assert col.personal is PersonalKind.EMAIL
    assert d.tables["stats"].personal
    assert any("its keys" in n for n in col.notes)
    assert not any("@" in n for n in col.notes)  # never a value
    assert col.confidence["personal"].value <= 0.5  # nested: confirmed first


def test_f7_a_map_keyed_by_user_id_is_personal(tmp_path: Path) -> None:
    rng = random.Random(7)
    maps = [[(str(rng.randint(1, 500)), rng.randint(1, 9)) for _ in range(3)] for _ in range(50)]
    pq.write_table(
        pa.table(
            {
                "report_id": list(range(50)),
                "per_user": pa.array(maps, pa.map_(pa.string(), pa.int64())),
            }
        ),
        tmp_path / "reports.parquet",
    )
    d = _draft(tmp_path)
    col = d.tables["reports"].columns["per_user"]
    assert col.personal is not None
    assert any("a person's key maybe" in n for n in col.notes)


def test_f7_a_struct_of_fixed_fields_is_not_read_as_people(tmp_path: Path) -> None:
    _jsonl(
        tmp_path / "items.jsonl",
        [{"item_id": i, "size": {"width": i, "height": i + 1, "depth": 3}} for i in range(60)],
    )
    d = _draft(tmp_path)
    assert d.tables["items"].columns["size"].personal is None
    assert not d.tables["items"].personal


# ---- 8: a CSV with an unbalanced quote ---------------------------------------------------


def _tickets(root: Path, bad: dict[int, str], n: int = 60) -> None:
    lines = ["ticket_id,user_id,subject"]
    lines += [f"{i},{i % 80 + 1},hello there {i}" for i in range(n)]
    for at, text in bad.items():
        lines[at] = text
    (root / "tickets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("bad", "line"),
    [
        ({21: '20,3,"a quote never closed'}, 22),  # the rest of the file one field
        ({60: '59,3,"a quote never closed'}, 61),  # on the last line
        ({21: '20,"3,a quote never closed'}, 22),
        # a quote closed five lines below: the rows between swallowed into one value
        ({21: '20,3,"a quote opened', 26: '25,3,and closed" here'}, 22),
    ],
)
def test_f8_an_unbalanced_quote_is_not_read_naming_its_line(
    tmp_path: Path, bad: dict[int, str], line: int
) -> None:
    _users(tmp_path)
    _tickets(tmp_path, bad)
    d = _draft(tmp_path)
    assert "tickets" not in d.tables
    (unread,) = [t for t in d.not_read if t.name == "tickets"]
    assert "unbalanced quote" in unread.reason
    assert f"line {line}" in unread.reason
    for text in bad.values():  # never a value
        assert text.split(",", 2)[2].strip('"') not in unread.reason
    assert "users" in d.tables


def test_f8_a_quote_inside_a_field_and_quoted_lines_are_read(tmp_path: Path) -> None:
    _users(tmp_path)
    _tickets(tmp_path, {5: '4,3,she said "hi" to me', 9: '8,3,"two lines,\nof one note"'})
    d = _draft(tmp_path)
    assert not d.not_read
    assert d.tables["tickets"].profile.rows == 60


def test_f8_a_large_file_past_the_readers_field_limit_names_the_line(tmp_path: Path) -> None:
    _tickets(tmp_path, {20001: '20000,3,"a quote never closed'}, n=30000)
    d = _draft(tmp_path)
    (unread,) = d.not_read
    assert "unbalanced quote" in unread.reason and "line 20002" in unread.reason


# ---- 9: coordinates -----------------------------------------------------------------------


def _checkins(root: Path, where: str) -> None:
    rng = random.Random(9)
    rows: list[dict[str, Any]] = []
    for i in range(120):
        lat, lng = round(52 + rng.random(), 5), round(4 + rng.random(), 5)
        row: dict[str, Any] = {"checkin_id": i, "user_id": i % 80 + 1}
        if where == "columns":
            row |= {"latitude": lat, "longitude": lng}
        elif where == "pair":
            row["latlng"] = f"{lat},{lng}"
        elif where == "geojson_text":
            row["geom"] = json.dumps({"type": "Point", "coordinates": [lng, lat]})
        else:
            row["geom"] = {"type": "Point", "coordinates": [lng, lat]}
        rows.append(row)
    if where == "geojson":
        _jsonl(root / "checkins.jsonl", rows)
    else:
        _csv(root / "checkins.csv", rows)


@pytest.mark.parametrize(
    ("where", "columns"),
    [
        ("columns", ("latitude", "longitude")),
        ("pair", ("latlng",)),
        ("geojson_text", ("geom",)),
        ("geojson", ("geom",)),
    ],
)
def test_f9_coordinates_in_a_table_linked_to_people_are_a_location(
    tmp_path: Path, where: str, columns: tuple[str, ...]
) -> None:
    _users(tmp_path)
    _checkins(tmp_path, where)
    d = _draft(tmp_path)
    table = d.tables["checkins"]
    assert table.columns["user_id"].identity is not None  # the person, by a link only
    for name in columns:
        col = table.columns[name]
        assert col.personal is PersonalKind.LOCATION, (name, col.notes)
        assert "personal" in col.confidence


def test_f9_coordinates_with_no_person_anywhere_stay_unmarked(tmp_path: Path) -> None:
    rng = random.Random(4)
    _csv(
        tmp_path / "stores.csv",
        [
            {"store_id": i, "lat": round(50 + rng.random(), 5), "lng": round(5 + rng.random(), 5)}
            for i in range(30)
        ],
    )
    d = _draft(tmp_path)
    assert d.tables["stores"].columns["lat"].personal is None
    assert not d.tables["stores"].personal


# ---- 10: cards, BSN, NINO, passports, special categories ---------------------------------


def _luhn(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(body + "0")):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _grouped(number: str) -> str:
    return " ".join(number[k : k + 4] for k in range(0, len(number), 4))


def _bsn(rng: random.Random) -> str:
    while True:
        body = [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(body, range(9, 1, -1), strict=True)) % 11
        if check < 10 and body[0] != 0:
            return "".join(map(str, body)) + str(check)


def test_f10_cards_government_ids_and_special_categories_are_flagged(tmp_path: Path) -> None:
    rng = random.Random(10)
    letters = "ABCEGHJKLMNPRSTWXYZ"
    rows = [
        {
            "user_id": i,
            "email": f"user{i}@mail{i % 5}.example",
            "card_number": _luhn("4", 16, rng),
            "card_spaced": _grouped(_luhn("5", 16, rng)),
            "bsn": _bsn(rng),
            "ni_number": f"{rng.choice(letters)}{rng.choice('ABCEHJ')}"
            f"{rng.randint(100000, 999999)}{rng.choice('ABCD')}",
            "passport_no": f"{rng.choice(letters)}{rng.randint(1000000, 9999999)}",
            "gender": rng.choice(["male", "female", "non-binary"]),
            "religion": rng.choice(["christian", "muslim", "jewish", "none", "hindu"]),
            "order_count": rng.randint(10_000_000, 99_999_999),  # 8 digits, no check digit
        }
        for i in range(1, 121)
    ]
    _csv(tmp_path / "users.csv", rows)
    d = _draft(tmp_path)
    cols = d.tables["users"].columns
    assert cols["card_number"].kind is not None  # read as integers: checked all the same
    assert cols["card_number"].personal is PersonalKind.FINANCIAL_ACCOUNT
    assert cols["card_spaced"].personal is PersonalKind.FINANCIAL_ACCOUNT
    assert cols["card_spaced"].identity is None  # not a phone
    for name in ("bsn", "ni_number", "passport_no"):
        assert cols[name].personal is PersonalKind.GOVERNMENT_ID, (name, cols[name].notes)
    assert cols["religion"].sensitive == "special category: religion or belief"
    assert cols["gender"].sensitive == "gender"
    assert cols["order_count"].personal is None and cols["order_count"].sensitive is None
    ranked = [(dec.column, dec.role) for dec in d.confirm_first(8)]
    assert ("religion", "sensitive") in ranked
    text = render(d, str(tmp_path))
    assert "SENSITIVE: special category: religion or belief" in text
    assert "christian" not in text and "muslim" not in text  # never a value


def test_f10_a_table_of_special_category_only_stays_personal(tmp_path: Path) -> None:
    _users(tmp_path)
    _csv(
        tmp_path / "health.csv",
        [{"record_id": i, "diagnosis": ["asthma", "diabetes", "none"][i % 3]} for i in range(40)],
    )
    d = _draft(tmp_path)
    assert d.tables["health"].columns["diagnosis"].sensitive is not None
    assert d.tables["health"].personal


# ---- 11: Message-IDs ----------------------------------------------------------------------


@pytest.mark.parametrize(("column", "bracketed"), [("message_id", True), ("message_id", False),
                                                   ("header", True)])  # fmt: skip
def test_f11_message_ids_are_no_ones_address(tmp_path: Path, column: str, bracketed: bool) -> None:
    rng = random.Random(11)
    _users(tmp_path)
    rows = []
    for i in range(100):
        mid = f"{rng.getrandbits(64):x}.{i}@mail.example.com"
        rows.append({"mail_id": i, column: f"<{mid}>" if bracketed else mid, "user_id": i % 80 + 1})
    _csv(tmp_path / "mails.csv", rows)
    d = _draft(tmp_path)
    col = d.tables["mails"].columns[column]
    assert col.identity is None and col.personal is None
    assert any("Message-IDs" in n for n in col.notes)
    assert d.tables["mails"].columns["user_id"].identity is not None


def test_f11_an_email_column_is_still_an_email(tmp_path: Path) -> None:
    _users(tmp_path)
    d = _draft(tmp_path)
    assert d.tables["users"].columns["email"].identity is not None
