"""Red team 26 round 5, finding 9: "Information Commissioner (Bermuda)" (or "(Cayman
Islands Ombudsman)") was read as the UK's ICO: UK GDPR and the ICO's 72 hours for everyone,
no warning. A country the supervisory authority's text names now wins over an authority's
words that several jurisdictions share; a country outside the EU/EEA and the UK leaves the
establishment unknown, with the warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.breach.places import authority_country
from tests.test_attacks_breach import _lab, _manifest, _scope


@pytest.mark.parametrize(
    ("authority", "code"),
    [
        ("Information Commissioner (Bermuda)", "BM"),
        ("Information Commissioner (Cayman Islands Ombudsman)", "KY"),
        ("Office of the Information Commissioner, Bermuda", "BM"),
        ("Information Commissioner, Isle of Man", "IM"),
        ("Information Commissioner", "GB"),
        ("Information Commissioner's Office (UK)", "GB"),
        ("ICO", "GB"),
        ("Data Protection Commission", "IE"),
    ],
)
def test_a_country_named_wins_over_an_authoritys_shared_words(authority: str, code: str) -> None:
    assert authority_country(authority) == code


@pytest.mark.parametrize(
    "authority",
    ["Information Commissioner (Bermuda)", "Information Commissioner (Cayman Islands Ombudsman)"],
)
def test_an_overseas_information_commissioner_is_no_uk_establishment(
    authority: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "CO")] * 2, authority=authority)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    residence = _manifest(out)["residence"]
    assert isinstance(residence, dict)
    assert residence["established"] == "none"
    assert "WARNING: where the company is established could not be read" in output
    deadlines = _manifest(out)["deadlines"]
    assert isinstance(deadlines, list)
    assert not [d for d in deadlines if d["rule"] == "uk-authority" and d["people"]]
