"""Legal deadlines as a case table: month ends, leap years, extensions, business days."""

from __future__ import annotations

from datetime import date

import pytest

from dsar.errors import DeadlineError
from dsar.records.deadlines import (
    Jurisdiction,
    RequestType,
    add_business_days,
    add_months,
    compute_deadlines,
)

G, UK, C = Jurisdiction.GDPR, Jurisdiction.UK_GDPR, Jurisdiction.CCPA
A, E, OPT = RequestType.ACCESS, RequestType.ERASURE, RequestType.OPT_OUT

# (case, law, type, received, extension notified, due, acknowledge by)
CASES = [
    ("GDPR: same day next month", G, A, date(2026, 3, 15), None, date(2026, 4, 15), None),
    ("GDPR: 31 Jan -> last day of Feb", G, E, date(2026, 1, 31), None, date(2026, 2, 28), None),
    ("GDPR: 31 Jan in a leap year", G, E, date(2028, 1, 31), None, date(2028, 2, 29), None),
    ("GDPR: 30 Jan in a leap year", G, A, date(2028, 1, 30), None, date(2028, 2, 29), None),
    ("GDPR: 31 Mar -> 30 Apr", G, A, date(2026, 3, 31), None, date(2026, 4, 30), None),
    ("GDPR: December -> January", G, A, date(2026, 12, 20), None, date(2027, 1, 20), None),
    ("GDPR: 29 Feb leap -> 29 Mar", G, A, date(2028, 2, 29), None, date(2028, 3, 29), None),
    ("UK GDPR: same rule", UK, A, date(2026, 5, 31), None, date(2026, 6, 30), None),
    (
        "GDPR: extended by two months",
        G,
        E,
        date(2026, 1, 31),
        date(2026, 2, 20),
        date(2026, 4, 30),
        None,
    ),
    (
        "GDPR: extension notified on the last day",
        G,
        A,
        date(2026, 3, 15),
        date(2026, 4, 15),
        date(2026, 6, 15),
        None,
    ),
    (
        "GDPR: extension across a year end",
        G,
        A,
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2027, 2, 28),
        None,
    ),
    (
        "CCPA: 45 calendar days, 10 business days",
        C,
        A,
        date(2026, 11, 20),
        None,
        date(2027, 1, 4),
        date(2026, 12, 4),
    ),
    (
        "CCPA: received on a Saturday",
        C,
        E,
        date(2026, 11, 28),
        None,
        date(2027, 1, 12),
        date(2026, 12, 11),
    ),
    (
        "CCPA: extended once by 45",
        C,
        A,
        date(2026, 11, 20),
        date(2027, 1, 4),
        date(2027, 2, 18),
        date(2026, 12, 4),
    ),
    (
        "CCPA: leap day inside the period",
        C,
        A,
        date(2028, 2, 1),
        None,
        date(2028, 3, 17),
        date(2028, 2, 15),
    ),
    ("CCPA opt-out: 15 business days", C, OPT, date(2026, 11, 27), None, date(2026, 12, 18), None),
]


@pytest.mark.parametrize(
    ("law", "kind", "received", "notified", "due", "ack"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_deadline(
    law: Jurisdiction,
    kind: RequestType,
    received: date,
    notified: date | None,
    due: date,
    ack: date | None,
) -> None:
    d = compute_deadlines(law, kind, received, notified)
    assert d.due == due
    assert d.acknowledge_by == ack


@pytest.mark.parametrize(
    ("law", "kind", "received", "notified", "message"),
    [
        (
            G,
            A,
            date(2026, 3, 15),
            date(2026, 4, 16),
            r"an extension must be notified within the first one month \(by 2026-04-15\); notified"
            r" on 2026-04-16, so the original deadline stands",
        ),
        (C, A, date(2026, 11, 20), date(2027, 1, 5), r"within the first 45 days \(by 2027-01-04\)"),
        (G, A, date(2026, 3, 15), date(2026, 3, 1), r"dated before the request was received"),
        (
            C,
            OPT,
            date(2026, 11, 27),
            date(2026, 11, 30),
            r"opt-out of sale or sharing cannot be"
            r" extended",
        ),
    ],
)
def test_bad_extension(
    law: Jurisdiction, kind: RequestType, received: date, notified: date, message: str
) -> None:
    with pytest.raises(DeadlineError, match=message):
        compute_deadlines(law, kind, received, notified)


def test_business_days_skip_holidays() -> None:
    christmas = {date(2026, 12, 25)}
    assert add_business_days(date(2026, 12, 21), 5) == date(2026, 12, 28)
    assert add_business_days(date(2026, 12, 21), 5, christmas) == date(2026, 12, 29)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 31), 3, date(2026, 4, 30)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected
