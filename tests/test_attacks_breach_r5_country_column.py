"""Red team 26 round 5, finding 2: a country column named `countryCode` (`CountryCode`,
`country_of_residence`, `nation`) was not recognised: its cells were read as empty, and
Brazilians and Australians became US residents of Alabama, Pennsylvania and Washington from
their state codes. Such names are country columns now (not a nationality or a country of
birth); where no one in scope has a country at all, a US state read from a state column
alone, and residence assumed unknown, are each said in a WARNING."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _manifest, _rules, _scope


def _renamed_lab(root: Path, column: str, places: list[tuple[str, str]]) -> Path:
    catalog = _lab(root, places)
    accounts = root / "accounts.csv"
    rows = list(csv.reader(accounts.open(newline="")))
    rows[0] = [column if c == "country" else c for c in rows[0]]
    with accounts.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    text = catalog.read_text()
    marker = "      country: {type: string, category: location}\n"
    assert marker in text
    catalog.write_text(
        text.replace(marker, f"      {column}: {{type: string, category: location}}\n")
    )
    return catalog


BRAZIL_AUSTRALIA = [("BR", "AL"), ("Australia", "WA"), ("Brazil", "PA")]


@pytest.mark.parametrize(
    "column", ["countryCode", "CountryCode", "country_of_residence", "nation", "homeCountry"]
)
def test_a_country_column_under_another_name_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    catalog = _renamed_lab(tmp_path / "lab", column, BRAZIL_AUSTRALIA)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert _manifest(out)["countries"] == {"AU": 1, "BR": 2}, output
    assert not any(rule.startswith("us-") for rule in _rules(out)), output
    assert "Alabama" not in output and "US state" not in output


def test_a_state_alone_with_no_country_column_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _renamed_lab(tmp_path / "lab", "ctry", BRAZIL_AUSTRALIA)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert "WARNING: no one in scope has a country" in output
    assert "Brazil or Australia" in output


def test_no_country_at_all_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _renamed_lab(tmp_path / "lab", "ctry", [("US", ""), ("US", "")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert "WARNING: no one in scope has a country" in output
    assert "2 person(s) counted as residence unknown" in output
