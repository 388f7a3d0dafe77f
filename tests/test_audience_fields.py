"""Names, postcodes and countries for the platforms that match on them (Google Customer
Match, Meta), checked against the platforms' own published examples."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from anonymize.audience import build_audience_file
from anonymize.audience.fields import (
    country,
    google_name,
    google_postcode,
    meta_name,
    meta_postcode,
)
from anonymize.cli import _fields
from dsar import open_engine
from dsar.errors import WorkbenchError


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/
# customer-information-parameters, row fn: "Input: Mary / Normalized format: mary / Expected
# SHA256 output: 6915771b...", and the page's Korean and accented examples
META_NAMES = [
    ("Mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
    ("Valéry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"),
    ("정", "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"),
]


@pytest.mark.parametrize(("given_name", "expected"), META_NAMES)
def test_meta_names_match_the_published_hashes(given_name: str, expected: str) -> None:
    normalised = meta_name(given_name)
    assert normalised is not None and sha(normalised) == expected


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        # Meta's business SDK (normalize.py): zp lower-cased, spaces removed, before a '-'
        (meta_postcode, "94303-5300", "94303"),
        (meta_postcode, "SW1A 1AA", "sw1a1aa"),
        (meta_name, "O'Brien-Smith.", "obriensmith"),
        (meta_name, "  ANNE  ", "anne"),
        # Google's Customer Match template rows: john,smith,us,94016 and zoë,pérez,sg,WC2H 8LG
        (google_name, "John", "john"),
        (google_name, "Zoë ", "zoë"),
        (google_name, "Mary Ann", "maryann"),
        (google_postcode, " WC2H 8LG ", "WC2H 8LG"),
        (country, "US", "us"),
        (country, " sg ", "sg"),
        (country, "I.E.", "ie"),
        (country, "Ireland", None),  # not a code: left empty and counted, never guessed
        (country, "XX", None),
    ],
)
def test_field_rules(rule: object, value: str, expected: str | None) -> None:
    assert callable(rule)
    assert rule(value) == expected


@given(st.text(max_size=30))
def test_field_rules_are_idempotent(value: str) -> None:
    for rule in (meta_name, meta_postcode, google_name, google_postcode, country):
        once = rule(value)
        assert once is None or rule(once) == once


def _list(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(
        "email,FirstName,LastName,Zip,Country\n"
        "john@example.com,John,Smith,94016,US\n"
        "zoe@example.com,Zoë,Pérez,WC2H 8LG,SG\n"
        "mary@example.com,Mary,,94303-5300,Ireland\n"
        "bad-address,Nobody,Here,1,US\n"
    )
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_a_list_with_names_postcodes_and_countries(tmp_path: Path) -> None:
    fields = _fields("first_name=FirstName,last_name=LastName,postcode=Zip,country=Country")
    result = build_audience_file(
        _list(tmp_path), "email", ["google", "meta", "uid2"], tmp_path / "out", fields=fields
    )
    google = {r["Email"]: r for r in _rows(result.files["google"][0])}
    john = google[sha("john@example.com")]
    assert john == {
        "Email": sha("john@example.com"),
        "First Name": sha("john"),
        "Last Name": sha("smith"),
        "Zip": "94016",  # in clear, as Google asks
        "Country": "us",
    }
    assert google[sha("zoe@example.com")]["First Name"] == sha("zoë")
    assert google[sha("zoe@example.com")]["Zip"] == "WC2H 8LG"
    meta = {r["email"]: r for r in _rows(result.files["meta"][0])}
    mary = meta[sha("mary@example.com")]
    assert mary["fn"] == META_NAMES[0][1]
    assert mary["ln"] == "" and mary["country"] == ""  # no last name; 'Ireland' is no code
    assert mary["zip"] == sha("94303")
    assert meta[sha("john@example.com")]["country"] == sha("us")
    assert list(_rows(result.files["uid2"][0])[0]) == ["email_hash"]  # UID2 takes emails only
    counts = result.manifests["meta"].counts
    assert counts["written"] == 3 and counts["invalid"] == 1
    assert counts["without_last_name"] == 1 and counts["without_country"] == 1
    assert result.manifests["meta"].parameters["fields"] == list(fields)
    assert result.manifests["uid2"].parameters["fields"] == []
    for files in result.files.values():
        text = files[0].read_text()
        assert "@" not in text and "John" not in text and "Smith" not in text


def test_the_fields_option_says_what_is_wrong() -> None:
    with pytest.raises(WorkbenchError, match="'surname=LastName' is not field=column"):
        _fields("first_name=FirstName,surname=LastName")
    assert _fields(" country = Country ,") == {"country": "Country"}


CATALOG = """\
version: 1
controller: {name: Shop Ltd, contact: privacy@shop.example, supervisory_authority: DPC}
tables:
  prefs:
    path: prefs.csv
    format: csv
    description: Marketing choices.
    category: marketing_preferences
    origin: provided
    purposes: [advertising audiences]
    legal_basis: consent
    source: the person
    retention: {criteria: while consent lasts}
    erasure: {action: delete}
    columns:
      email: {identity: email, type: string}
      given_name: {personal: name, type: string}
      land: {type: string}
      ads: {type: boolean}
"""


def test_an_audience_from_the_catalog_sends_the_fields_a_spec_names(tmp_path: Path) -> None:
    from anonymize.audience import build_audience
    from dsar import load_catalog
    from dsar.errors import ConfigError

    root = tmp_path / "shop"
    root.mkdir()
    (root / "prefs.csv").write_text(
        "email,given_name,land,ads\nann@example.com,Ann,IE,true\nbob@example.com,Bob,FR,false\n"
    )
    (root / "catalog.yml").write_text(CATALOG)
    catalog = load_catalog(root / "catalog.yml")
    spec = tmp_path / "spec.yml"
    spec.write_text(
        "version: 1\nname: a\ntable: prefs\nemail: email\nconsent: ads\nopted_out: none\n"
        "fields: {first_name: given_name, country: land}\n"
    )
    with open_engine(catalog) as engine:
        result = build_audience(spec, engine, ["google"], tmp_path / "out")
    assert _rows(result.files["google"][0]) == [
        {"Email": sha("ann@example.com"), "First Name": sha("ann"), "Country": "ie"}
    ]
    spec.write_text(spec.read_text().replace("country: land", "country: nation"))
    with (
        pytest.raises(ConfigError, match=r"fields.country .*no column 'nation'"),
        open_engine(catalog) as engine,
    ):
        build_audience(spec, engine, ["google"], tmp_path / "out2")


def test_a_person_listed_twice_keeps_the_fields_of_one_row(tmp_path: Path) -> None:
    """Never one row's zip with another's country (both are sent in clear to Google)."""
    path = tmp_path / "twice.csv"
    path.write_text(
        "email,FirstName,LastName,Zip,Country\na@x.com,Ann,Zed,D02,IE\nA@X.com,Bob,Able,94016,US\n"
    )
    fields = _fields("first_name=FirstName,last_name=LastName,postcode=Zip,country=Country")
    result = build_audience_file(path, "email", ["google"], tmp_path / "out", fields=fields)
    [row] = _rows(result.files["google"][0])
    written = (row["First Name"], row["Last Name"], row["Zip"], row["Country"])
    assert written in {
        (sha("ann"), sha("zed"), "D02", "ie"),
        (sha("bob"), sha("able"), "94016", "us"),
    }
