"""Red team 26 round 4, finding 2: an attorney general's deadline that hangs on the
residents' notice (Delaware and Connecticut: no later than it; Louisiana: 10 days after it)
moves when `dsar breach notified` records that notice, and is flagged OVERDUE once past."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsar.breach.deadlines import compute_deadlines, residence
from dsar.records.breaches import BreachDeadline, BreachRecord, breach_line
from tests.test_attacks_breach import _lab, _run, _scope

DISCOVERED = datetime(2026, 11, 20, 10, tzinfo=UTC)


def _record(notified: dict[str, str]) -> BreachRecord:
    people = [("US", "DE")] * 501 + [("US", "CT")] + [("US", "LA")]
    deadlines = compute_deadlines(DISCOVERED, residence(people))
    return BreachRecord(
        id="BR-1",
        discovered=DISCOVERED,
        people=len(people),
        rows=len(people),
        severity="medium",
        notify_people=False,
        deadlines=tuple(BreachDeadline.from_json(d.as_json()) for d in deadlines),
        notified=notified,
        folder="o",
        created_at=DISCOVERED,
    )


def _due(record: BreachRecord, rule: str) -> datetime | None:
    return next(d.due for d in record.duties() if d.rule == rule)


def test_the_attorney_general_is_due_by_the_residents_notice() -> None:
    scoped = _record({})
    assert _due(scoped, "us-de-ag") == DISCOVERED + timedelta(days=60)
    told = DISCOVERED + timedelta(days=3)
    moved = _record({r: told.isoformat() for r in ("us-de", "us-ct", "us-la")})
    assert _due(moved, "us-de-ag") == told
    assert _due(moved, "us-ct-ag") == told
    assert _due(moved, "us-la-ag") == told + timedelta(days=10)
    # a residents' notice later than the scoped due moves nothing
    late = DISCOVERED + timedelta(days=65)
    assert _due(_record({"us-la": late.isoformat()}), "us-la-ag") == DISCOVERED + timedelta(days=70)
    now = told + timedelta(days=4)
    line = breach_line(moved, now)
    assert "OVERDUE" in line and "Delaware attorney general" in line
    assert "Louisiana attorney general" not in line  # due 3 days later still


def test_the_register_flags_the_attorney_general_overdue_after_the_residents_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "x", [("US", "CT")] * 2 + [("US", "LA")])
    register = str(tmp_path / "reg.db")
    code, output = _scope(
        catalog, tmp_path / "o", monkeypatch, "--id", "BR-CT", "--register", register
    )
    assert code == 0, output
    code, output = _run(["requests", "list", "--register", register], monkeypatch)
    assert code == 0 and "OVERDUE" not in output.split("BR-CT", 1)[1].split("\n")[0]
    # the discovery is 2026-11-20, the residents told the next day
    for rule in ("us-ct", "us-la"):
        code, output = _run(
            ["breach", "notified", "BR-CT", "--rule", rule, "--at", "2026-11-21T10:00:00",
             "--register", register],
            monkeypatch,
        )  # fmt: skip
        assert code == 0, output
    code, output = _run(["requests", "list", "--register", register], monkeypatch)
    line = output.split("BR-CT", 1)[1].split("\n")[0]
    assert "OVERDUE" in line and "Connecticut attorney general" in line
    assert "due 2026-11-21 10:00 UTC" in line
    assert "Louisiana attorney general (US-LA) due 2026-12-01 10:00 UTC" in line
    code, output = _run(["audit", "verify", "--register", register], monkeypatch)
    assert code == 0, output


def test_a_deadline_registered_before_it_said_what_it_hangs_on_still_moves() -> None:
    """A register written before scope.json carried `after` (session 14) holds the attorney
    general's deadline without it: the rule table says what it hangs on."""
    told = DISCOVERED + timedelta(days=3)
    older = _record({"us-la": told.isoformat(), "us-de": told.isoformat()})
    stripped = tuple(
        BreachDeadline.from_json({k: v for k, v in d.as_json().items() if k != "after"})
        for d in older.deadlines
    )
    record = replace(older, deadlines=stripped)
    assert _due(record, "us-la-ag") == told + timedelta(days=10)
    assert _due(record, "us-de-ag") == told
    # a deadline that says it hangs on nothing is left as it is
    assert BreachDeadline.from_json({"rule": "us-la-ag", "after": None}).after is None


def test_the_register_reads_the_same_dependencies_as_the_rule_table() -> None:
    from dsar.breach.deadlines import rules
    from dsar.records.breaches import _rule_dependencies

    table = {r.id: (r.after_rule, r.after_days) for r in rules() if r.after_rule}
    assert _rule_dependencies() == table and table
