"""Red team 26 round 6, findings 3 and 5: the deadline table.

F3: HIPAA's yearly HHS log was due from the UTC year of discovery: a discovery on 31 December
at 20:00 -05:00 (the id and the letters say 31 December) went into the next year's log, due a
year late. The calendar year is the one of the date `--discovered` writes, in its own zone.

F5: `--encrypted` left HIPAA's notices ("unsecured" PHI in its own text) and the states whose
law exempts encrypted data at `applies: yes` with due dates. The table now keeps each rule's
encryption clause with its provision: those rows read `if_key_compromised` (due kept for that
case) and bind nothing in the register; a row citing no clause stays required, marked check.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dsar.breach.deadlines import (
    ENCRYPTION_REGIMES,
    Applies,
    Deadline,
    compute_deadlines,
    residence,
    rules,
)
from dsar.records.breaches import BreachDeadline, BreachRecord
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


DISCOVERED = datetime(2026, 12, 1, tzinfo=UTC)
US = [("US", state) for state in ("CO", "FL", "AL", "DE", "CT", "CA", "LA") for _ in range(3)]
EXEMPT = ("hipaa-people", "hipaa-hhs-annual", "us-co", "us-fl", "us-al", "us-de", "us-ct", "us-ca")


def test_encrypted_marks_the_rows_whose_law_exempts_it_and_cites_the_clause() -> None:
    plain = _rows(compute_deadlines(DISCOVERED, residence(US), regimes={"hipaa"}))
    found = _rows(compute_deadlines(DISCOVERED, residence(US), regimes={"hipaa"}, encrypted=True))
    assert set(found) == set(plain)  # no row dropped: each still says what it would need
    for rule in EXEMPT:
        assert plain[rule].applies is Applies.YES, plain[rule]
        assert found[rule].applies is Applies.IF_KEY_COMPROMISED, found[rule]
        assert "exempt if the key was not compromised" in found[rule].when
        assert found[rule].due == plain[rule].due  # owed by then if the key was taken
    assert "164.402" in found["hipaa-people"].when and "12B-101" in found["us-de"].when
    # Louisiana's clause is not cited: required as before, and said to be checked
    assert found["us-la"].applies is Applies.YES and "check" in found["us-la"].when
    assert "check" not in plain["us-la"].when


def test_every_us_and_hipaa_row_cites_a_clause_or_says_check() -> None:
    found = _rows(compute_deadlines(DISCOVERED, residence(US), regimes={"hipaa"}, encrypted=True))
    for rule in rules():
        if rule.regime not in ENCRYPTION_REGIMES or rule.id not in found:
            continue
        row = found[rule.id]
        if rule.encryption is None:
            assert row.applies is not Applies.IF_KEY_COMPROMISED and "check" in row.when, row
        else:
            assert rule.encryption.source and rule.encryption.source in row.when, row
    # GDPR's rows keep theirs: the authority is told; the people's notice follows the severity
    eu = _rows(compute_deadlines(DISCOVERED, {"EU/EEA": 3}, encrypted=True))
    assert eu["gdpr-authority"].applies is Applies.YES
    assert eu["gdpr-people"].applies is Applies.IF_HIGH_RISK
    assert "--encrypted" not in eu["gdpr-authority"].when


def test_the_register_holds_an_exempt_row_as_no_pending_notice() -> None:
    found = compute_deadlines(DISCOVERED, residence(US), regimes={"hipaa"}, encrypted=True)
    record = BreachRecord(
        id="BR-ENC",
        discovered=DISCOVERED,
        people=len(US),
        rows=len(US),
        severity="low",
        notify_people=False,
        deadlines=tuple(BreachDeadline.from_json(d.as_json()) for d in found),
        notified={},
        folder="BR-ENC",
        created_at=DISCOVERED,
    )
    late = {d.rule for d in record.overdue(DISCOVERED + timedelta(days=500))}
    assert not late & set(EXEMPT), late
    assert "us-la" in late  # no clause cited: still a duty


def test_scope_encrypted_writes_the_exempt_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "CO")] * 3 + [("US", "AL")] * 3)
    out = tmp_path / "BR"
    code, output = _run(
        ["breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
         "--from", "2026-11-01", "--to", "2026-11-14", "--discovered", "2026-11-20T10:00Z",
         "--regime", "hipaa", "--established", "none", "--encrypted", "--out", str(out)],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    rules = {d["rule"]: d for d in json.loads((out / "scope.json").read_text())["deadlines"]}
    for rule in ("hipaa-people", "us-co", "us-al"):
        assert rules[rule]["applies"] == "if_key_compromised", rules[rule]
