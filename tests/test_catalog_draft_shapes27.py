"""Red team, issue 27 (F5, F10): nested columns and personal shapes the draft missed.

F5: Parquet structs and lists and nested JSON objects were drafted `{}` and their table
`personal: false` at 0.99. Each field is now read as a column would be; the column is marked
personal as a whole (never an identity: a value inside a nested column finds no one), at a
confidence low enough to be confirmed first.

F10: a password in clear, birth dates as dd-mm-yyyy or yyyymmdd integers, IP lists and
IP:port, US social security numbers, IBANs, postcodes, coordinates and postal addresses in
any locale were given no role (or the wrong one), and a birth date proposed as the retention
start.

Also: product titles ("Synergistic Granite Chair") and catch phrases were read as names or
free text; free text needs sentences, mentions or a name that says so, not a few words.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dsar.catalog.models import IdentityKind, PersonalKind
from dsar.draft import Draft, draft
from dsar.draft.profile import nested_leaves
from dsar.draft.shapes import (
    TextFacts,
    _names,
    as_date,
    birth_named,
    is_address,
    is_iban,
    is_ip,
    is_ssn,
    password_named,
    phone_test,
)
from dsar.draft.write import render
from dsar.text.engine import TextEngine

FIRST = ["Anna", "Pieter", "Sophie", "Lucas", "Emma", "Daan", "Julia", "Sem", "Tess", "Finn"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos"]


def _csv(path: Path, rows: list[dict[str, Any]], delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        out.writeheader()
        out.writerows(rows)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _iban(rng: random.Random) -> str:
    """A Dutch IBAN with valid check digits."""
    bban = "ABNA" + "".join(rng.choice("0123456789") for _ in range(10))
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


def _lexicon() -> TextEngine:
    return TextEngine(nlp=None)


@pytest.fixture(scope="module")
def engine() -> TextEngine:
    return TextEngine()


# ---- shapes, one value at a time ---------------------------------------------------------


def test_value_shapes() -> None:
    assert is_ip("203.0.113.9, 10.0.1.2") and is_ip("203.0.113.9:443")
    assert is_ip("[2001:db8::1]:8443") and is_ip("198.51.100.7")
    assert not is_ip("12, 15") and not is_ip("2026-01-01") and not is_ip("1.2.3")
    assert is_ssn("262-52-4215") and not is_ssn("666-12-3456") and not is_ssn("123-00-4567")
    assert not phone_test("ssn")("262-52-4215")
    rng = random.Random(1)
    assert all(is_iban(_iban(rng)) for _ in range(50))
    assert is_iban("GB82 WEST 1234 5698 7654 32") and not is_iban("GB83 WEST 1234 5698 7654 32")
    for address in (
        "12, rue de la Paix, 75001 Paris",
        "boulevard Besson, 17800 Sainte Alex",
        "Kerkstraat 12, 1234 AB Amsterdam",
        "Mohammed-Schmiedt-Allee 64, 04789 Grimmen",
        "Flat 30, Bartlett Trace, North Lindastad, L01 1AB",
        "742 Evergreen Terrace, Springfield",
        "埼玉県荒川区白金33丁目12番18号",
    ):
        assert is_address(address), address
    for text in ("Synergistic Granite Chair", "Multi-layered client-server neural-net",
                 "Called about the order, twice", "Version 2.1 released"):  # fmt: skip
        assert not is_address(text), text
    for name in ("password", "passwd", "pwd", "wachtwoort", "mot_de_passe", "userPassword",
                 "contraseña"):  # fmt: skip
        assert password_named(name), name
    for name in ("passport", "passenger", "passed", "bypass_cache"):
        assert not password_named(name), name
    for name in ("geboortedatum", "born_int", "dob", "BirthDate", "date_de_naissance"):
        assert birth_named(name), name
    for name in ("birth_year", "place_of_birth", "created_at", "born_in_city"):
        assert not birth_named(name), name
    assert as_date("23-04-1942") == dt.date(1942, 4, 23)
    assert as_date("04/23/1942") == dt.date(1942, 4, 23)
    assert as_date(19730613) == dt.date(1973, 6, 13)
    assert as_date("31-02-1990") is None and as_date(12345678) is None


def test_nested_leaves_follow_structs_lists_and_maps() -> None:
    values = [
        {"name": "x", "contact": {"email": "a@b.example", "phones": ["1", "2"]}},
        {"name": None, "contact": {"email": "c@d.example", "phones": []}},
    ]
    leaves = nested_leaves("profile", values)
    assert leaves == {
        "profile.name": ["x"],
        "profile.contact.email": ["a@b.example", "c@d.example"],
        "profile.contact.phones[]": ["1", "2"],
    }
    assert nested_leaves("attrs", [[("k", "v1"), ("j", "v2")]]) == {"attrs{}": ["v1", "v2"]}


# ---- F5: nested columns ---------------------------------------------------------------


def _nested_export(root: Path) -> None:
    rng = random.Random(7)
    root.mkdir()
    n = 300
    buyers = [{"email": f"buyer{i}@example.org", "name": _name(rng)} for i in range(n)]
    pq.write_table(
        pa.table(
            {
                "order_no": list(range(1000, 1000 + n)),
                "buyer": buyers,
                "emails": [[f"cc{i}@example.net", f"bcc{i}@example.net"] for i in range(n)],
                "total": [rng.randint(100, 9999) / 100 for _ in range(n)],
            }
        ),
        root / "orders.parquet",
    )
    with (root / "signups.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            user = {
                "email": f"user{i}@example.com",
                "name": _name(rng),
                "phone": f"+31 6 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            }
            fh.write(json.dumps({"event": i, "user": user, "at": "2026-05-01"}) + "\n")
    pq.write_table(
        pa.table(
            {
                "sku": [f"S{i:04d}" for i in range(n)],
                "dims": [{"w": rng.randint(1, 90), "h": rng.randint(1, 90)} for _ in range(n)],
                "meta": [{"owner_id": rng.randint(1, 50)} for _ in range(n)],
            }
        ),
        root / "parts.parquet",
    )


def test_nested_values_are_read_and_their_table_is_personal(tmp_path: Path) -> None:
    _nested_export(tmp_path / "g")
    d = draft(tmp_path / "g", sample=400, text_engine=_lexicon())
    orders, signups = d.tables["orders"], d.tables["signups"]
    assert orders.personal and signups.personal  # was personal: false at 0.99
    for table, col in ((orders, "buyer"), (orders, "emails"), (signups, "user")):
        c = table.columns[col]
        assert c.personal is PersonalKind.EMAIL, col
        assert c.identity is None and not c.secret and not c.free_text  # not expressible
        assert any("not an identity" in n for n in c.notes), col
        assert c.confidence["personal"].value <= 0.5, col
    notes = " ".join(signups.columns["user"].notes)
    assert "user.email" in notes and "user.phone" in notes and "user.name" in notes
    first = {(x.where, x.role) for x in d.confirm_first(8)}
    assert {("orders.buyer", "personal"), ("signups.user", "personal")} <= first
    # nothing personal in the draft: counts and field paths only
    text = render(d, str(tmp_path / "g"))
    assert "@example" not in text and not any(n in text for n in LAST)
    for line in text.splitlines():
        if line.strip().startswith(("buyer:", "emails:", "user:")):
            assert "identity" not in line and "secret" not in line and "free_text" not in line


def test_a_table_with_nested_values_nothing_classifies_is_never_sure(tmp_path: Path) -> None:
    """`parts` holds a struct of measures and one of a key (`meta.owner_id`) no shape tells:
    reference data maybe, but not at 0.99."""
    _nested_export(tmp_path / "g")
    d = draft(tmp_path / "g", sample=400, text_engine=_lexicon())
    parts = d.tables["parts"]
    assert parts.columns["dims"].personal is None and parts.columns["meta"].personal is None
    assert parts.confidence["verdict"].value <= 0.6
    assert parts.columns["meta"].confidence["no_role"].value <= 0.3


# ---- F10: personal shapes ---------------------------------------------------------------

HOMES = [
    "12, rue de la Paix, 75001 Paris",
    "Kerkstraat 12, 1234 AB Amsterdam",
    "Wulfgasse 84, 47876 Tecklenburg",
    "742 Evergreen Terrace, Springfield, IL 62704",
    "Flat 3, Baker Street 221, London NW1 6XE",
    "埼玉県荒川区白金33丁目12番18号",
    "Via Roma 15, 00184 Roma",
]


def _members(root: Path, n: int = 400) -> None:
    rng = random.Random(3)
    root.mkdir()
    today = dt.date.today()
    rows = []
    for i in range(n):
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 60 * 365))
        joined = today - dt.timedelta(days=rng.randint(1, 900))
        rows.append(
            {
                "member_no": f"M-{i:06d}",
                "email": f"member{i}@example.org",
                "geboortedatum": born.strftime("%d-%m-%Y"),
                "born_int": int(born.strftime("%Y%m%d")),
                "password": rng.choice(["hunter", "P@ssw0rd", "letmein", "zomer"])
                + str(rng.randint(1, 99)),
                "xff": f"203.0.113.{rng.randint(1, 254)}, 10.0.{rng.randint(0, 255)}.1",
                "remote": f"198.51.100.{rng.randint(1, 254)}:{rng.randint(1024, 65535)}",
                "ssn": f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                "iban": _iban(rng),
                "postcode": f"{rng.randint(1000, 9999)} {rng.choice(['AB', 'XY', 'KL'])}",
                "lat": round(rng.uniform(50.7, 53.5), 6),
                "lon": round(rng.uniform(3.3, 7.2), 6),
                "home": rng.choice(HOMES).replace("12", str(rng.randint(1, 300)), 1),
                "joined_at": joined.isoformat(),
            }
        )
    _csv(root / "members.csv", rows)


def test_members_personal_shapes(tmp_path: Path) -> None:
    _members(tmp_path / "q")
    d = draft(tmp_path / "q", sample=400, text_engine=_lexicon())
    members = d.tables["members"]
    c = members.columns
    assert c["password"].secret  # was: no role, "0% secrets"
    assert c["password"].confidence["secret"].value >= 0.9  # a credential in clear
    assert c["geboortedatum"].personal is PersonalKind.DATE_OF_BIRTH
    assert c["born_int"].personal is PersonalKind.DATE_OF_BIRTH
    assert members.retention_after == "joined_at"  # never a birth date
    assert c["xff"].personal is PersonalKind.IP_ADDRESS
    assert c["remote"].personal is PersonalKind.IP_ADDRESS
    assert c["ssn"].personal is PersonalKind.GOVERNMENT_ID and c["ssn"].identity is None
    assert c["iban"].personal is PersonalKind.FINANCIAL_ACCOUNT and not c["iban"].secret
    for where in ("postcode", "lat", "lon"):
        assert c[where].personal is PersonalKind.LOCATION, where
    assert c["home"].personal is PersonalKind.ADDRESS
    for name, drafted in c.items():
        for conf in drafted.confidence.values():
            assert "%" not in conf.reason or " of " in conf.reason, name  # shares, counted


def test_birth_dates_by_their_spread_and_not_recent_dates(tmp_path: Path) -> None:
    rng = random.Random(4)
    root = tmp_path / "x"
    root.mkdir()
    today = dt.date.today()
    _csv(
        root / "patients.csv",
        [
            {
                "pid": f"P{i}",
                "email": f"p{i}@example.org",
                "d1": (dt.date(1935, 1, 1) + dt.timedelta(days=rng.randint(0, 65 * 365))),
                "seen": today - dt.timedelta(days=rng.randint(0, 700)),
                "opened": dt.date(1990, 1, 1) + dt.timedelta(days=rng.randint(0, 700)),
            }
            for i in range(300)
        ],
    )
    c = draft(root, sample=300, text_engine=_lexicon()).tables["patients"].columns
    assert c["d1"].personal is PersonalKind.DATE_OF_BIRTH
    assert c["d1"].confidence["personal"].value < 0.9  # by spread, not by name
    assert c["seen"].personal is None  # recent
    assert c["opened"].personal is None  # decades back, but two years wide: events


def test_french_addresses_are_addresses_not_links(tmp_path: Path) -> None:
    """Export h/: `adresse` was drafted `references: squote.adresse` between two tables that
    both copy the client's address."""
    rng = random.Random(8)
    root = tmp_path / "h"
    root.mkdir()
    streets = ["rue de la Paix", "avenue Bazin", "boulevard Besson", "chemin de Durand"]
    rows = [
        {
            "client": f"C{i}",
            "nom": _name(rng),
            "adresse": f"{i + 1}, {rng.choice(streets)}, {rng.randint(10000, 95999)} Paris",
            "courriel": f"c{i}@example.fr",
        }
        for i in range(300)
    ]
    _csv(root / "clients.csv", rows, delimiter=";")
    _csv(
        root / "livraisons.csv",
        [{"livraison": i, "client": r["client"], "adresse": r["adresse"]} for i, r in
         enumerate(rows)],
        delimiter=";",
    )  # fmt: skip
    d = draft(root, sample=300, text_engine=_lexicon())
    for table in ("clients", "livraisons"):
        col = d.tables[table].columns["adresse"]
        assert col.personal is PersonalKind.ADDRESS, table
        assert col.references is None, table
    assert not any(lk.column == "adresse" for lk in d.links)


def test_postcodes_and_coordinates_of_no_person_are_not_marked(tmp_path: Path) -> None:
    """A table of offices (no contact, name or identifier) keeps its postcodes and
    coordinates unmarked, with a note; the same in a people table marks them."""
    rng = random.Random(9)
    root = tmp_path / "x"
    root.mkdir()
    _csv(
        root / "offices.csv",
        [
            {
                "office": f"O{i}",
                "postcode": f"{rng.randint(1000, 9999)} AB",
                "lat": round(rng.uniform(50, 53), 5),
                "lon": round(rng.uniform(3, 7), 5),
            }
            for i in range(40)
        ],
    )
    office = draft(root, sample=100, text_engine=_lexicon()).tables["offices"]
    for col in ("postcode", "lat", "lon"):
        assert office.columns[col].personal is None, col
        assert any("no person in the table" in n for n in office.columns[col].notes), col
    assert not office.personal


# ---- product titles and short descriptive text --------------------------------------------

ADJ = [
    "Synergistic",
    "Ergonomic",
    "Rustic",
    "Practical",
    "Intelligent",
    "Gorgeous",
    "Sleek",
    "Incredible",
    "Fantastic",
    "Awesome",
    "Durable",
    "Lightweight",
    "Enormous",
    "Mediocre",
]
MAT = [
    "Granite",
    "Steel",
    "Wooden",
    "Cotton",
    "Plastic",
    "Rubber",
    "Concrete",
    "Marble",
    "Wool",
    "Linen",
    "Leather",
    "Bronze",
    "Copper",
    "Iron",
    "Paper",
    "Aluminum",
]
THING = [
    "Chair",
    "Table",
    "Car",
    "Hat",
    "Shirt",
    "Gloves",
    "Shoes",
    "Computer",
    "Clock",
    "Lamp",
    "Bag",
    "Coat",
    "Knife",
    "Bottle",
    "Keyboard",
    "Plate",
    "Wallet",
]
BUZZ = [
    "Front-line",
    "Phased",
    "Virtual",
    "Multi-tiered",
    "Devolved",
    "Up-sized",
    "Managed",
    "Synchronized",
    "Reduced",
    "Polarized",
    "Universal",
    "Profound",
    "Centralized",
]
BUZZ2 = [
    "optimizing",
    "responsive",
    "modular",
    "zero tolerance",
    "solution-oriented",
    "bi-directional",
    "asynchronous",
    "dedicated",
    "executive",
    "foreground",
]
BUZZ3 = ["moratorium", "paradigm", "model", "workforce", "concept", "framework", "matrix",
         "hierarchy", "projection", "initiative", "approach", "toolset", "interface"]  # fmt: skip


def test_product_titles_are_no_names_and_no_free_text(tmp_path: Path, engine: TextEngine) -> None:
    rng = random.Random(12)
    root = tmp_path / "p"
    root.mkdir()
    _csv(
        root / "products.csv",
        [
            {
                "sku": f"P{i:04d}",
                "name": f"{rng.choice(ADJ)} {rng.choice(MAT)} {rng.choice(THING)}",
                "tagline": f"{rng.choice(BUZZ)} {rng.choice(BUZZ2)} {rng.choice(BUZZ3)}",
                "price": rng.randint(100, 9999) / 100,
            }
            for i in range(300)
        ],
    )
    _csv(
        root / "reviews.csv",
        [
            {
                "review": 1000 + i,
                "sku": f"P{rng.randint(0, 299):04d}",
                "stars": rng.randint(1, 5),
                "words": rng.choice(
                    [
                        "Works well.",
                        "Broke after a week, sadly.",
                        "My son loves it!",
                        "Would buy again. Fast delivery.",
                    ]
                )
                + f" Order {i}.",
            }
            for i in range(300)
        ],
    )
    d: Draft = draft(root, sample=300, text_engine=engine)
    products = d.tables["products"]
    for col in ("name", "tagline"):
        c = products.columns[col]
        assert c.personal is not PersonalKind.NAME and not c.free_text, col
    assert not products.personal
    assert d.tables["reviews"].columns["words"].free_text  # sentences stay free text


def test_names_need_words_the_name_lexicon_knows() -> None:
    """The text engine reads 90% of product titles as whole names; half of the values read
    as names must hold a first name or surname some locale's list knows."""
    assert not _names("name", TextFacts(checked=100, person=90, known=10))
    assert _names("name", TextFacts(checked=100, person=90, known=80))


def test_a_subject_line_is_free_text_by_its_name(tmp_path: Path) -> None:
    rng = random.Random(13)
    root = tmp_path / "t"
    root.mkdir()
    subjects = [f"{a} {b} {c}" for a in ("Login", "Invoice", "Export", "Billing")
                for b in ("problem", "question", "request") for c in ("again", "today", "")]  # fmt: skip
    _csv(
        root / "tickets.csv",
        [
            {"ticket": i, "email": f"t{i}@example.org", "subject": rng.choice(subjects).strip()}
            for i in range(200)
        ],
    )
    c = draft(root, sample=200, text_engine=_lexicon()).tables["tickets"].columns
    assert c["subject"].free_text


def test_no_identity_kind_is_lost(tmp_path: Path) -> None:
    """The new shapes come after emails and never take a people table's contact: a table
    of members keeps its email identity."""
    _members(tmp_path / "q")
    c = draft(tmp_path / "q", sample=400, text_engine=_lexicon()).tables["members"].columns
    assert c["email"].identity is IdentityKind.EMAIL
