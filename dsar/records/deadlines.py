"""Legal deadlines for answering requests, per law. Each rule names its source.

- GDPR and UK GDPR Art. 12(3): one calendar month from receipt; a month runs to the same day
  of the next month or, when that day does not exist, to that month's last day (so a request
  received on 31 January is due on the last day of February). Extendable by two further
  months when the person is told of the extension and its reasons within the first month.
- CCPA regulations §7021: acknowledge within 10 business days; answer within 45 calendar days
  of receipt, extendable once by 45 days with notice and the reason within the first 45.
  §7026: act on an opt-out of sale or sharing within 15 business days.

Business days are Monday to Friday, minus any holidays the company passes in.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dsar.errors import DeadlineError


class Jurisdiction(StrEnum):
    """The law a request is answered under."""

    GDPR = "gdpr"
    UK_GDPR = "uk_gdpr"
    CCPA = "ccpa"


class RequestType(StrEnum):
    """What the person asks for."""

    ACCESS = "access"
    PORTABILITY = "portability"
    ERASURE = "erasure"
    CORRECTION = "correction"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    OPT_OUT = "opt_out"  # of sale or sharing (CCPA/CPRA)


@dataclass(frozen=True)
class Deadlines:
    """When a request must be acknowledged and answered."""

    received: date
    respond_by: date
    acknowledge_by: date | None = None
    extended_to: date | None = None
    rule: str = ""

    @property
    def due(self) -> date:
        """The answer's deadline, extension included."""
        return self.extended_to or self.respond_by


def add_months(day: date, months: int) -> date:
    """Same day `months` later, or that month's last day when the day does not exist."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_business_days(day: date, days: int, holidays: Collection[date] = ()) -> date:
    """The date `days` business days after `day` (weekends and `holidays` skipped)."""
    current, left = day, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            left -= 1
    return current


def compute_deadlines(
    jurisdiction: Jurisdiction,
    kind: RequestType,
    received: date,
    extension_notified: date | None = None,
    holidays: Collection[date] = (),
) -> Deadlines:
    """The deadlines of a request received on `received`.

    Args:
        extension_notified: the day the person was told of an extension and its reason;
            the extension applies only when that day is within the first period.

    Raises:
        DeadlineError: the extension was notified after the first period ended, or the
            request type cannot be extended.

    Examples:
        >>> compute_deadlines(Jurisdiction.GDPR, RequestType.ERASURE, date(2026, 1, 31)).due
        datetime.date(2026, 2, 28)
    """
    if jurisdiction in (Jurisdiction.GDPR, Jurisdiction.UK_GDPR):
        respond = add_months(received, 1)
        extended = None
        if extension_notified is not None:
            _check_notice(extension_notified, received, respond, "one month")
            extended = add_months(received, 3)
        return Deadlines(received, respond, None, extended, "GDPR Art. 12(3): one month, +2")
    acknowledge = add_business_days(received, 10, holidays)
    if kind is RequestType.OPT_OUT:
        if extension_notified is not None:
            raise DeadlineError("a CCPA opt-out of sale or sharing cannot be extended (§7026)")
        respond = add_business_days(received, 15, holidays)
        return Deadlines(received, respond, None, None, "CCPA §7026: 15 business days")
    respond = received + timedelta(days=45)
    extended = None
    if extension_notified is not None:
        _check_notice(extension_notified, received, respond, "45 days")
        extended = received + timedelta(days=90)
    return Deadlines(received, respond, acknowledge, extended, "CCPA §7021: 45 days, +45")


def _check_notice(notified: date, received: date, first_due: date, period: str) -> None:
    if notified < received:
        raise DeadlineError("the extension notice is dated before the request was received")
    if notified > first_due:
        raise DeadlineError(
            f"an extension must be notified within the first {period} (by {first_due});"
            f" notified on {notified}, so the original deadline stands"
        )
