"""Red team 26 round 6, findings 3 and 5: the deadline table.

F3: HIPAA's yearly HHS log was due from the UTC year of discovery: a discovery on 31 December
at 20:00 -05:00 (the id and the letters say 31 December) went into the next year's log, due a
year late. The calendar year is the one of the date `--discovered` writes, in its own zone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dsar.breach.deadlines import Deadline, compute_deadlines, residence
from tests.test_attacks_breach import _lab, _run

NEW_YORK = timezone(timedelta(hours=-5))
ATHENS = timezone(timedelta(hours=2))


def _rows(found: list[Deadline]) -> dict[str, Deadline]:
    return {d.rule: d for d in found}


def _annual(discovered: datetime) -> datetime | None:
    places = residence([("US", "AL")] * 3)
    return _rows(compute_deadlines(discovered, places, regimes={"hipaa"}))["hipaa-hhs-annual"].due


def test_the_yearly_hhs_log_takes_the_year_of_the_discovery_s_own_date() -> None:
    # 31 December 2025 at 20:00 in New York is 1 January 2026 in UTC: 2025's log
    due = _annual(datetime(2025, 12, 31, 20, tzinfo=NEW_YORK))
    assert due is not None and due.astimezone(NEW_YORK).date().isoformat() == "2026-03-01"
    assert due == datetime(2026, 3, 1, tzinfo=NEW_YORK)
    # 1 January 2026 at 01:00 in Athens is still 2025 in UTC: 2026's log
    due = _annual(datetime(2026, 1, 1, 1, tzinfo=ATHENS))
    assert due == datetime(2027, 3, 1, tzinfo=ATHENS)
    # a discovery in UTC keeps its due (the period from the year's end, unchanged)
    assert _annual(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == datetime(2027, 3, 1, tzinfo=UTC)


def test_scope_files_a_new_year_s_eve_discovery_west_of_utc_in_that_year_s_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "AL")] * 3)
    out = tmp_path / "BR"
    code, output = _run(
        ["breach", "scope", "--catalog", str(catalog), "--table", "accounts",
         "--from", "2024-12-31", "--to", "2025-01-02", "--discovered", "2025-12-31T20:00-05:00",
         "--regime", "hipaa", "--established", "none", "--out", str(out)],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    rules = {d["rule"]: d for d in json.loads((out / "scope.json").read_text())["deadlines"]}
    due = datetime.fromisoformat(rules["hipaa-hhs-annual"]["due"])
    assert due.astimezone(NEW_YORK).date().isoformat() == "2026-03-01", rules["hipaa-hhs-annual"]
    assert "2027-03-01" not in output
