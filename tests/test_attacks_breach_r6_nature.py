"""Red team 26 round 6, finding 6: a breach that only lost integrity or availability could
not be stated. The letters and the report said records were exposed, and the consequences
were a disclosure's. `--nature confidentiality|integrity|availability` (one or more, default
confidentiality) now says what was lost: it goes into scope.json's parameters, the report's
nature, the default words of what happened, and the consequences in letters and report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _manifest, _scope

EXPOSED = "exposed to people who should not have seen it"


def _letters(out: Path) -> list[str]:
    letters = [p.read_text() for p in sorted((out / "letters").glob("*.md"))]
    assert letters
    return letters


def _parameters(out: Path) -> dict[str, object]:
    parameters = _manifest(out)["parameters"]
    assert isinstance(parameters, dict)
    return parameters


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["--nature", "availability"], "were lost, or could not be reached"),
        (["--nature", "integrity"], "were changed by someone who should not"),
        (["--nature", "integrity,availability"], "were changed by someone who should not"),
        (["--nature", "integrity", "--nature", "availability"], "could not be reached"),
    ],
)
def test_a_breach_that_disclosed_nothing_is_not_called_an_exposure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: list[str], said: str
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", ""), ("DE", "")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, *given)
    assert code == 0, output
    nature = sorted({n for g in given[1::2] for n in g.split(",")})
    given_nature = _parameters(out)["nature"]
    assert isinstance(given_nature, list)
    assert sorted(given_nature) == nature
    for letter in _letters(out):
        assert EXPOSED not in letter
        assert "others may have seen" not in letter
        assert said in letter
    report = (out / "regulator-report.md").read_text()
    assert EXPOSED not in report
    assert "(no data was disclosed)" in report
    assert "no data was disclosed: confidentiality is not affected" in report
    severity = _manifest(out)["severity"]
    assert isinstance(severity, dict)
    reasons = " ".join(str(f["reason"]) for f in severity["cb"])
    for lost in nature:
        assert f"{lost} lost" in reasons


def test_the_default_is_a_disclosure_and_the_flags_add_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--availability")
    assert code == 0, output
    assert _parameters(out)["nature"] == ["confidentiality", "availability"]
    for letter in _letters(out):
        assert EXPOSED in letter and "could not be reached" in letter
        assert "Some of your records may be lost" in letter  # availability's consequence
    report = (out / "regulator-report.md").read_text()
    assert "- Nature: confidentiality, availability\n" in report
    assert "loss of availability" in report


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["--nature", "leak"], "--nature takes confidentiality, integrity or availability"),
        (["--nature", ","], "--nature takes confidentiality, integrity or availability"),
        (
            ["--nature", "integrity", "--known-recipients"],
            "--known-recipients says who saw the data, but --nature says none was disclosed",
        ),
    ],
)
def test_a_nature_that_is_no_nature_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: list[str], message: str
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, *given)
    assert code != 0
    assert message in output
    assert not out.exists()


def test_no_confidentiality_factor_when_nothing_was_disclosed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--nature", "availability")
    assert code == 0, output
    severity = _manifest(out)["severity"]
    assert isinstance(severity, dict)
    assert not any("confidentiality" in str(f["reason"]) for f in severity["cb"])
