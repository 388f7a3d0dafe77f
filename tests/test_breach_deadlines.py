"""Breach deadlines (kept as data, each with its source) and the ENISA severity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dsar.breach.deadlines import Applies, Deadline, compute_deadlines, residence, rules

FRIDAY_EVENING = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # a Friday


def _due(deadlines: list[Deadline], rule: str) -> datetime | None:
    [found] = [d for d in deadlines if d.rule == rule]
    return found.due


def test_every_rule_names_its_source() -> None:
    assert len(rules()) >= 20
    for rule in rules():
        assert rule.source.strip(), rule.id
    assert len({r.id for r in rules()}) == len(rules())


def test_friday_evening_72_hours_run_through_the_weekend() -> None:
    assert FRIDAY_EVENING.weekday() == 4
    found = compute_deadlines(FRIDAY_EVENING, {"EU/EEA": 3, "GB": 1})
    monday = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    assert _due(found, "gdpr-authority") == monday
    assert _due(found, "uk-authority") == monday
    # the people: without undue delay, when the risk is high
    [people] = [d for d in found if d.rule == "gdpr-people"]
    assert people.due is None and people.applies is Applies.IF_HIGH_RISK


def test_a_local_discovery_time_counts_72_real_hours() -> None:
    amsterdam = timezone(timedelta(hours=1))
    found = compute_deadlines(datetime(2026, 12, 24, 23, 0, tzinfo=amsterdam), {"EU/EEA": 1})
    due = _due(found, "gdpr-authority")
    assert due is not None
    assert due - datetime(2026, 12, 24, 22, 0, tzinfo=UTC) == timedelta(hours=72)  # Christmas too


def test_naive_discovery_is_utc() -> None:
    found = compute_deadlines(datetime(2026, 11, 27, 18, 30), {"EU/EEA": 1})
    assert _due(found, "gdpr-authority") == datetime(2026, 11, 30, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("people", "rule", "days", "applies"),
    [
        ([("US", "CO")], "us-co", 30, Applies.YES),
        ([("US", "FL")], "us-fl", 30, Applies.YES),
        ([("US", "AL")], "us-al", 45, Applies.YES),
        ([("US", "CT")], "us-ct", 60, Applies.YES),
        ([("US", "DE")], "us-de", 60, Applies.YES),
        ([("US", "LA")], "us-la", 60, Applies.YES),
        ([("US", None)], "us-co", 30, Applies.POSSIBLY),  # state not in the data
    ],
)
def test_us_state_deadlines_apply_where_people_live(
    people: list[tuple[str, str | None]], rule: str, days: int, applies: Applies
) -> None:
    found = compute_deadlines(FRIDAY_EVENING, residence(people))
    [deadline] = [d for d in found if d.rule == rule]
    assert deadline.due == FRIDAY_EVENING + timedelta(days=days)
    assert deadline.applies is applies


def test_state_rules_do_not_apply_to_other_states_or_below_their_threshold() -> None:
    found = {d.rule for d in compute_deadlines(FRIDAY_EVENING, residence([("US", "CO")] * 3))}
    assert "us-co" in found
    assert "us-co-ag" not in found  # 500 or more Colorado residents
    assert "us-fl" not in found and "gdpr-authority" not in found
    many = {d.rule for d in compute_deadlines(FRIDAY_EVENING, residence([("US", "CO")] * 500))}
    assert "us-co-ag" in many


def test_hipaa_only_for_a_covered_entity_and_media_per_state() -> None:
    places = residence([("US", "CA")] * 501)
    assert not any(d.rule.startswith("hipaa") for d in compute_deadlines(FRIDAY_EVENING, places))
    found = compute_deadlines(FRIDAY_EVENING, places, regimes={"hipaa"}, per_state={"CA": 501})
    assert _due(found, "hipaa-people") == FRIDAY_EVENING + timedelta(days=60)
    assert _due(found, "hipaa-media") == FRIDAY_EVENING + timedelta(days=60)
    few = compute_deadlines(FRIDAY_EVENING, places, regimes={"hipaa"}, per_state={"CA": 20})
    assert "hipaa-media" not in {d.rule for d in few}


def test_pecr_and_nis2_when_the_company_is_subject_to_them() -> None:
    found = compute_deadlines(FRIDAY_EVENING, {"EU/EEA": 1, "GB": 1}, regimes={"pecr", "nis2"})
    assert _due(found, "uk-pecr") == FRIDAY_EVENING + timedelta(hours=24)
    assert _due(found, "nis2-early-warning") == FRIDAY_EVENING + timedelta(hours=24)
    assert found[0].due == FRIDAY_EVENING + timedelta(hours=24)  # earliest first


def test_residence_counts_places() -> None:
    places = residence([("nl", None), ("GB", None), ("UK", None), ("US", "co"), (None, None)])
    assert places["EU/EEA"] == 2  # the person with no country counts where the company says
    assert places["GB"] == 2 and places["US"] == 1 and places["US-CO"] == 1
    assert residence([(None, None)], unknown="US") == {"US": 1, "US-?": 1}


@pytest.mark.parametrize(
    ("score", "band"),
    [(1.0, "low"), (1.99, "low"), (2.0, "medium"), (3.0, "high"), (4.0, "very high")],
)
def test_enisa_bands(score: float, band: str) -> None:
    from dsar.breach.assess import band as band_of

    assert band_of(score) == band


def test_rows_the_notes_do_not_support_say_unverified() -> None:
    # checked against ../shared/reference/breach.md: its US figures are Colorado, Florida (and
    # its Department of Legal Affairs at 500), Alabama, Connecticut, Delaware, Louisiana,
    # California's attorney general at 500, HIPAA's 60 days and media over 500 in a state
    unverified = {r.id for r in rules() if not r.verified}
    assert {
        "us-co-ag",
        "hipaa-hhs",
    } <= unverified  # and the AG rows (test_attacks_breach_r3b_places)
    for rule in rules():
        assert ("UNVERIFIED" in rule.source) == (not rule.verified), rule.id
    # and what scope.json and the report show says so
    places = residence([("US", "CO")] * 600)
    found = compute_deadlines(FRIDAY_EVENING, places, regimes={"hipaa"}, per_state={"CO": 600})
    shown = {d.rule: d.as_json()["source"] for d in found}
    assert "UNVERIFIED" in str(shown["us-co-ag"]) and "UNVERIFIED" in str(shown["hipaa-hhs"])
    assert "UNVERIFIED" not in str(shown["us-co"])
