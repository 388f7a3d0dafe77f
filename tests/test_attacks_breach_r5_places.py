"""Red team 26 round 5, finding 16: the placeholder `n/a` (`N/A`, `N.A.`, `NA`) in a country
column was read as Namibia, so those people left the GDPR rows under `--established none`. A
placeholder is now no country: residence unknown, counted, with a warning that says `NA` was
read as 'not available' (`Namibia` and `NAM` still name Namibia)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.breach.places import country_code, read_residence
from tests.test_attacks_breach import _lab, _manifest, _rules, _scope

PLACEHOLDERS = ["n/a", "N/A", "NA", "N.A.", "na", "none", "-", "Not Applicable", "n.v.t."]


def test_a_placeholder_country_is_residence_unknown_not_namibia(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cells = [(p, "") for p in PLACEHOLDERS] + [("Namibia", ""), ("NAM", "")]
    catalog = _lab(tmp_path / "lab", cells)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--established", "none")
    assert code == 0, output
    manifest = _manifest(out)
    # Namibia and NAM name Namibia; every placeholder is residence unknown
    assert manifest["countries"] == {"NA": 2, "unknown": len(PLACEHOLDERS)}, output
    rules = _rules(out)
    assert rules["gdpr-authority"]["people"] == len(PLACEHOLDERS)
    assert rules["gdpr-people"]["people"] == len(PLACEHOLDERS)
    assert "placeholder for a country" in output and "not as Namibia" in output
    residence = manifest["residence"]
    assert isinstance(residence, dict)
    assert residence["placeholder_country"] == len(PLACEHOLDERS)


@pytest.mark.parametrize("cell", ["n/a", "N/A", "N.A.", "na", "n.a."])
def test_a_placeholder_is_no_country_code(cell: str) -> None:
    assert country_code(cell) is None


def test_namibia_read_once_stays_namibia() -> None:
    class P:
        def __init__(self, country: str | None) -> None:
            self.country: str | None = country
            self.state: str | None = None

    people = [P("Namibia"), P("NAM"), P("NA"), P("n/a")]
    read = read_residence(people, "EU/EEA")
    assert [p.country for p in people] == ["NA", "NA", None, None]
    assert read.placeholder_country == 2
    assert country_code("NA") == "NA"  # a code read from a name, read again: Namibia
