"""Red team 26 round 4, finding 1: HIPAA's individuals' and HHS notices are owed for every
affected person wherever they live (45 CFR 164.404, 164.408), not for US residents only;
with no country column they must not vanish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsar.breach.deadlines import Applies, Deadline, compute_deadlines, residence
from tests.test_attacks_breach import _lab, _rules, _scope

DISCOVERED = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _rows(found: list[Deadline]) -> dict[str, Deadline]:
    return {d.rule: d for d in found}


def test_hhs_counts_every_individual_wherever_they_live() -> None:
    people = [("US", "DE")] * 444 + [("GB", None)] * 60
    found = _rows(compute_deadlines(DISCOVERED, residence(people), regimes={"hipaa"}))
    assert found["hipaa-people"].people == 504
    assert found["hipaa-hhs"].people == 504
    assert found["hipaa-hhs"].due == DISCOVERED + timedelta(days=60)
    assert "hipaa-hhs-annual" not in found
    assert "hipaa-media" not in found  # 444 Delaware residents: not more than 500 in a state


def test_hipaa_rows_stay_with_no_country_column() -> None:
    found = _rows(compute_deadlines(DISCOVERED, residence([(None, None)] * 504), regimes={"hipaa"}))
    assert found["hipaa-people"].applies is Applies.YES and found["hipaa-people"].people == 504
    assert found["hipaa-hhs"].people == 504
    # the residents of one state may be more than 500 of them: possibly
    assert found["hipaa-media"].applies is Applies.POSSIBLY
    assert found["hipaa-media"].people == 504
    few = _rows(compute_deadlines(DISCOVERED, residence([(None, None)] * 3), regimes={"hipaa"}))
    assert few["hipaa-people"].people == 3 and few["hipaa-hhs-annual"].people == 3
    assert "hipaa-media" not in few
    # the unknown stated as the US counts once, under US-?
    us = _rows(
        compute_deadlines(DISCOVERED, residence([(None, None)] * 600, "US"), regimes={"hipaa"})
    )
    assert us["hipaa-media"].people == 600 and us["hipaa-people"].people == 600


def test_people_without_a_country_are_no_place_of_their_own() -> None:
    places = residence([("NL", None), (None, None), ("x@y.example", None)])
    found = {d.rule for d in compute_deadlines(DISCOVERED, places)}
    assert not any(r.startswith("not-covered") for r in found)
    assert (
        _rows(compute_deadlines(DISCOVERED, places, regimes={"hipaa"}))["hipaa-people"].people == 3
    )


def test_scope_lists_hipaa_for_gb_patients_and_without_country(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "mixed", [("US", "DE")] * 3 + [("GB", "")] * 2)
    code, output = _scope(catalog, tmp_path / "o1", monkeypatch, "--regime", "hipaa")
    assert code == 0, output
    rules = _rules(tmp_path / "o1")
    assert rules["hipaa-people"]["people"] == 5 and rules["hipaa-people"]["where"] == "everyone"
    assert rules["hipaa-hhs-annual"]["people"] == 5
    # the same export without a country column: HIPAA is still there
    bare = _lab(tmp_path / "bare", [("", "")] * 4)
    text = bare.read_text()
    bare.write_text(
        text.replace("      country: {type: string, category: location}\n", "").replace(
            "      state: {type: string, category: location}\n", ""
        )
    )
    accounts = bare.parent / "accounts.csv"
    lines = accounts.read_text().splitlines()
    accounts.write_text(
        "".join(",".join(line.split(",")[:3] + line.split(",")[5:]) + "\n" for line in lines)
    )
    code, output = _scope(bare, tmp_path / "o2", monkeypatch, "--regime", "hipaa")
    assert code == 0, output
    rules = _rules(tmp_path / "o2")
    assert rules["hipaa-people"]["people"] == 4 and rules["hipaa-people"]["applies"] == "yes"
    assert rules["hipaa-hhs-annual"]["people"] == 4
