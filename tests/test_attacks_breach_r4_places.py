"""Red team 26 round 4, finding 13: (a) a country column named in another language
(`land`, `pays`, `país`, `paese`) was not read: everyone's residence unknown, the GB
resident's ICO row lost; (b) `Georgia` beside a US state column's `GA` was read as the
country Georgia (GE). Both are read now."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.breach.places import Residence, read_residence
from tests.test_attacks_breach import _lab, _manifest, _scope

PLACES = [("England", ""), ("Deutschland", ""), ("US", "CA"), ("France", "")]


@pytest.mark.parametrize("column", ["land", "pays", "país", "paese", "Land", "country_name"])
def test_a_country_column_named_in_another_language_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    catalog = _lab(tmp_path / "lab", PLACES)
    accounts = catalog.parent / "accounts.csv"
    accounts.write_text(accounts.read_text().replace(",country,", f",{column},", 1))
    catalog.write_text(
        catalog.read_text().replace(
            "      country: {type: string", f"      {column}: {{type: string", 1
        )
    )
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    countries = _manifest(out)["countries"]
    assert countries == {"DE": 1, "FR": 1, "GB": 1, "US": 1}, output


class _Person:
    def __init__(self, country: str | None, state: str | None) -> None:
        self.country, self.state = country, state


@pytest.mark.parametrize(
    ("country", "state", "code", "read_state"),
    [
        ("Georgia", "GA", "US", "GA"),
        ("GEORGIA", "Georgia", "US", "GA"),
        ("Georgia", "", "GE", None),  # no state: the country
        ("Georgia", "Tbilisi", "GE", None),  # a region of the country
        ("GE", "GA", "GE", None),  # the country's code is the country
    ],
)
def test_georgia_beside_a_us_state_is_the_us_state(
    country: str, state: str, code: str, read_state: str | None
) -> None:
    person = _Person(country, state)
    assert isinstance(read_residence([person], "EU/EEA"), Residence)
    assert (person.country, person.state) == (code, read_state)


def test_georgia_with_ga_through_scope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _lab(tmp_path / "lab", [("Georgia", "GA"), ("Georgia", "")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert _manifest(out)["countries"] == {"GE": 1, "US": 1}, output
