"""When each authority and each group of people must be told, counted from discovery.

The rules are data (`deadlines.json` beside this module), each with its source: GDPR and UK
GDPR (the authority within 72 hours, weekends and holidays included; the people without
undue delay when the risk is high), UK PECR and NIS2 where the company is subject to them,
US state laws (applied where affected people live) and HIPAA (for a covered entity). A rule
with hours or days has a due instant; one without is "without undue delay".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

_EU = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
EEA = frozenset([*_EU.split(), "IS", "LI", "NO"])
"""EU member states and the EEA (Iceland, Liechtenstein, Norway): GDPR applies."""

OPTIONAL_REGIMES = frozenset({"pecr", "nis2", "hipaa"})
"""Regimes that apply only where the company says it is subject to them."""


class Rule(BaseModel):
    """One row of `deadlines.json`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="a stable name, e.g. gdpr-authority")
    regime: str = Field(description="gdpr, uk_gdpr, pecr, nis2, us_state or hipaa")
    where: str = Field(description="EU/EEA, GB, US or US-XX (a state)")
    notify: str = Field(description="whom to tell")
    hours: int | None = Field(default=None, description="due this many hours after discovery")
    days: int | None = Field(default=None, description="due this many days after discovery")
    min_people: int = Field(default=1, description="applies from this many people there")
    per_state: bool = Field(default=False, description="min_people counts one state's residents")
    when: str = Field(description="when the duty applies, in words")
    source: str = Field(description="the law (article, section) the row follows")


class Applies(StrEnum):
    """Whether a rule applies to this breach."""

    YES = "yes"
    IF_HIGH_RISK = "if_high_risk"  # the people's notice: a person confirms the risk
    POSSIBLY = "possibly"  # residents may be there: their state is not in the data


@dataclass(frozen=True)
class Deadline:
    """One duty to notify, with its due instant (None: without undue delay)."""

    rule: str
    notify: str
    where: str
    applies: Applies
    people: int  # affected people where the rule applies (possibly: whose state is unknown)
    due: datetime | None
    period: str
    when: str
    source: str

    def as_json(self) -> dict[str, object]:
        """The deadline for scope.json."""
        return {
            "rule": self.rule,
            "notify": self.notify,
            "where": self.where,
            "applies": self.applies.value,
            "people": self.people,
            "due": self.due.isoformat() if self.due else None,
            "period": self.period,
            "when": self.when,
            "source": self.source,
        }


@cache
def rules() -> tuple[Rule, ...]:
    """The rules kept as data in `deadlines.json`."""
    text = resources.files("dsar.breach").joinpath("deadlines.json").read_text("utf-8")
    return tuple(Rule.model_validate(r) for r in json.loads(text)["rules"])


def residence(
    countries: Collection[tuple[str | None, str | None]], unknown: str = "EU/EEA"
) -> Counter[str]:
    """People per place a rule names: 'EU/EEA', 'GB', 'US', 'US-XX', or the country code.

    `countries` holds each person's (country, state); a person with no country counts
    under `unknown` (the place the company states for them).
    """
    places: Counter[str] = Counter()
    for country, state in countries:
        code = (country or "").strip().upper()
        if not code:
            places[unknown] += 1
            if unknown == "US":
                places["US-?"] += 1
            continue
        if code in ("UK", "GB"):
            places["GB"] += 1
        elif code in EEA:
            places["EU/EEA"] += 1
        elif code in ("US", "USA"):
            places["US"] += 1
            places[f"US-{state.strip().upper()}" if state else "US-?"] += 1
        else:
            places[code] += 1
    return places


def _period(rule: Rule) -> str:
    if rule.hours is not None:
        return f"{rule.hours} hours"
    if rule.days is not None:
        return f"{rule.days} days"
    return "without undue delay"


def compute_deadlines(
    discovered: datetime,
    places: Mapping[str, int],
    *,
    regimes: Collection[str] = (),
    per_state: Mapping[str, int] | None = None,
) -> list[Deadline]:
    """Every duty that applies where the affected people live, earliest first.

    Hours and days run on the calendar from `discovered` (a naive time is taken as UTC):
    weekends and public holidays do not stop them. `regimes` names the optional regimes the
    company is subject to (`pecr`, `nis2`, `hipaa`).

    Examples:
        >>> friday = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
        >>> [d.due for d in compute_deadlines(friday, {"EU/EEA": 3}) if d.due][0]
        datetime.datetime(2026, 11, 30, 18, 30, tzinfo=datetime.timezone.utc)
    """
    if discovered.tzinfo is None:
        discovered = discovered.replace(tzinfo=UTC)
    per_state = per_state or {}
    unknown_state = places.get("US-?", 0)
    out: list[Deadline] = []
    for rule in rules():
        if rule.regime in OPTIONAL_REGIMES and rule.regime not in regimes:
            continue
        people = places.get(rule.where, 0)
        applies = Applies.YES
        if rule.regime == "us_state" and people < rule.min_people:
            if people + unknown_state < rule.min_people:
                continue
            applies, people = Applies.POSSIBLY, unknown_state
        elif rule.per_state:
            over = {s: n for s, n in per_state.items() if n >= rule.min_people}
            if not over and unknown_state < rule.min_people:
                continue
            applies = Applies.YES if over else Applies.POSSIBLY
            people = sum(over.values()) if over else unknown_state
        elif people < rule.min_people:
            continue
        if rule.notify == "the people" and rule.regime in ("gdpr", "uk_gdpr"):
            applies = Applies.IF_HIGH_RISK
        if rule.hours is not None:
            due: datetime | None = discovered + timedelta(hours=rule.hours)
        elif rule.days is not None:
            due = discovered + timedelta(days=rule.days)
        else:
            due = None
        out.append(
            Deadline(
                rule.id,
                rule.notify,
                rule.where,
                applies,
                people,
                due,
                _period(rule),
                rule.when,
                rule.source,
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(out, key=lambda d: (d.due or far, d.rule))
