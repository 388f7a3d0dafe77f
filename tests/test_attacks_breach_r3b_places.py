"""Red team 26 round 3, findings 6 and 10: the deadlines a US breach owes the attorneys
general and HHS, and country cells the residence table missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dsar.breach.deadlines import Applies, Deadline, compute_deadlines, residence, rules
from dsar.breach.places import country_code, read_residence

DISCOVERED = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)


def _rows(found: list[Deadline]) -> dict[str, Deadline]:
    return {d.rule: d for d in found}


def _states(counts: dict[str, int]) -> list[tuple[str | None, str | None]]:
    return [("US", s) for s, n in counts.items() for _ in range(n)]


def test_attorney_general_rows_follow_each_state_threshold() -> None:
    found = _rows(
        compute_deadlines(
            DISCOVERED, residence(_states({"AL": 2000, "DE": 2000, "CT": 2000, "LA": 3}))
        )
    )
    assert found["us-al-ag"].due == DISCOVERED + timedelta(days=45)
    assert found["us-al-ag"].people == 2000
    assert found["us-de-ag"].due == DISCOVERED + timedelta(days=60)
    assert found["us-ct-ag"].due == DISCOVERED + timedelta(days=60)
    # Louisiana: 10 days after the residents' notice, at the latest their 60 days plus 10
    assert found["us-la-ag"].due == DISCOVERED + timedelta(days=70)
    for rule in ("us-al-ag", "us-de-ag", "us-ct-ag", "us-la-ag"):
        assert found[rule].applies is Applies.YES
        assert "UNVERIFIED" in found[rule].source  # not in the working notes: said so
    # the thresholds: Alabama more than 1,000, Delaware more than 500, Connecticut any
    small = _rows(compute_deadlines(DISCOVERED, residence(_states({"AL": 1000, "DE": 500}))))
    assert "us-al-ag" not in small and "us-de-ag" not in small
    assert "us-al" in small and "us-de" in small
    over = _rows(compute_deadlines(DISCOVERED, residence(_states({"AL": 1001, "DE": 501}))))
    assert "us-al-ag" in over and "us-de-ag" in over
    one = _rows(compute_deadlines(DISCOVERED, residence(_states({"CT": 1}))))
    assert one["us-ct-ag"].people == 1


def test_every_new_row_cites_its_source_and_is_marked_unverified() -> None:
    by_id = {r.id: r for r in rules()}
    for rule in ("us-al-ag", "us-de-ag", "us-ct-ag", "us-la-ag", "hipaa-hhs-annual"):
        assert not by_id[rule].verified
        assert "UNVERIFIED" in by_id[rule].source and "breach.md" in by_id[rule].source


def test_hipaa_under_500_gets_hhs_within_60_days_of_the_year_end() -> None:
    found = _rows(compute_deadlines(DISCOVERED, residence(_states({"CO": 499})), regimes={"hipaa"}))
    assert "hipaa-hhs" not in found
    assert found["hipaa-hhs-annual"].due == datetime(2027, 3, 1, tzinfo=UTC)
    assert found["hipaa-hhs-annual"].people == 499
    assert "calendar year" in found["hipaa-hhs-annual"].period
    big = _rows(compute_deadlines(DISCOVERED, residence(_states({"CO": 500})), regimes={"hipaa"}))
    assert "hipaa-hhs" in big and "hipaa-hhs-annual" not in big


def test_hipaa_media_is_possibly_when_no_state_is_known() -> None:
    places = residence([("US", None)] * 665)
    found = _rows(compute_deadlines(DISCOVERED, places, regimes={"hipaa"}, per_state={"?": 665}))
    assert found["hipaa-media"].applies is Applies.POSSIBLY
    # known states under 501 that the unknown ones could carry over: possibly too
    places = residence(_states({"CO": 400}) + [("US", None)] * 200)
    mixed = _rows(
        compute_deadlines(DISCOVERED, places, regimes={"hipaa"}, per_state={"CO": 400, "?": 200})
    )
    assert mixed["hipaa-media"].applies is Applies.POSSIBLY
    places = residence(_states({"CO": 310, "FL": 310}))
    split = _rows(
        compute_deadlines(DISCOVERED, places, regimes={"hipaa"}, per_state={"CO": 310, "FL": 310})
    )
    assert "hipaa-media" not in split
    one = _rows(
        compute_deadlines(
            DISCOVERED, residence(_states({"CO": 501})), regimes={"hipaa"}, per_state={"CO": 501}
        )
    )
    assert one["hipaa-media"].applies is Applies.YES


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("Hong Kong", "HK"),
        ("hong kong sar", "HK"),
        ("Macau", "MO"),
        ("Macao", "MO"),
        ("Palestine", "PS"),
        ("Vatican", "VA"),
        ("Holy See", "VA"),
        ("Svalbard", "SJ"),
    ],
)
def test_short_country_names_are_read(cell: str, code: str) -> None:
    assert country_code(cell) == code


@dataclass
class _Person:
    country: str | None
    state: str | None


def test_a_us_state_beside_an_empty_country_cell_is_the_us() -> None:
    people = [
        _Person(None, "Colorado"),
        _Person("", "Georgia"),
        _Person("  ", "ca"),
        _Person(None, "Bayern"),
        _Person("Georgia", None),
    ]
    read = read_residence(people, "EU/EEA")
    assert [(p.country, p.state) for p in people] == [
        ("US", "CO"),
        ("US", "GA"),
        ("US", "CA"),
        (None, None),
        ("GE", None),  # Georgia the country, its own cell
    ]
    assert read.as_json()["us_from_state"] == 3 and read.as_json()["no_country"] == 1
    assert any("US state" in n for n in read.notes)
