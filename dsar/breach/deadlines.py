"""When each authority and each group of people must be told, counted from discovery.

The rules are data (`deadlines.json` beside this module), each with its source: GDPR and UK
GDPR (the authority within 72 hours, weekends and holidays included; the people without
undue delay when the risk is high), UK PECR and NIS2 where the company is subject to them,
US state laws (applied where affected people live) and HIPAA (for a covered entity: its
individuals' and HHS notices for every affected person, wherever they live). A rule
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
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from dsar.breach.places import US_STATES, country_code, us_state_code

_EU = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
_EU_APART = "AX GF GP MF MQ RE YT"
EEA = frozenset([*_EU.split(), *_EU_APART.split(), "IS", "LI", "NO"])
"""EU member states, the EU territory ISO codes apart (Åland; the outermost regions Réunion,
Guadeloupe, Martinique, French Guiana, Mayotte, Saint-Martin: Art. 349 and 355 TFEU) and the
EEA (Iceland, Liechtenstein, Norway): GDPR applies."""

OPTIONAL_REGIMES = frozenset({"pecr", "nis2", "hipaa"})
"""Regimes that apply only where the company says it is subject to them."""
SERVICE_REGIMES = frozenset({"pecr", "nis2"})
"""Optional regimes whose duty follows the service the company provides where the regime
holds (UK PECR: a public electronic communications service in the UK; NIS2: an entity's
services in the EU), not where the affected people live: named with `--regime`, their rows
are listed where no affected person lives there too, as 'possibly', never dropped unsaid."""
_SERVICE_NOTE = (
    " (listed as possibly: the company says it is subject to this regime, whose duty follows"
    " its service there, not where the affected people live; check that it applies)"
)

EVERYONE = "everyone"
"""A rule's `where` for a duty owed for every affected person wherever they live (HIPAA's
individuals and HHS notices, 45 CFR 164.404 and 164.408: the covered entity owes them for
each individual whose information was breached, not for US residents only)."""

NO_COUNTRY = "?"
"""The place `residence` counts people under whose country the data does not hold (beside
the place the company states for them, when that is not the US): they may live in any US
state, so a per-state rule (HIPAA's media notice) is "possibly" for them."""


class Encryption(BaseModel):
    """What a rule's law says of encrypted data whose key was not taken, and where."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clause: str = Field(description="the law's encryption clause, in words")
    source: str = Field(description="the provision (statute, regulation, guidance)")


ENCRYPTION_REGIMES = frozenset({"us_state", "hipaa"})
"""Regimes whose rows say, under `--encrypted`, whether their law exempts encrypted data:
by the row's cited clause (`Rule.encryption`), else "check" (the row stays required)."""


class Rule(BaseModel):
    """One row of `deadlines.json`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="a stable name, e.g. gdpr-authority")
    regime: str = Field(description="gdpr, uk_gdpr, pecr, nis2, us_state, hipaa or processor")
    where: str = Field(
        description="EU/EEA, GB, US, US-XX (a state) or everyone (wherever they live)"
    )
    notify: str = Field(description="whom to tell")
    hours: int | None = Field(default=None, description="due this many hours after discovery")
    days: int | None = Field(default=None, description="due this many days after discovery")
    min_people: int = Field(
        default=1, description="applies from this many people there (0: every breach)"
    )
    max_people: int | None = Field(
        default=None, description="applies up to this many people there (None: no upper bound)"
    )
    per_state: bool = Field(default=False, description="min_people counts one state's residents")
    from_year_end: bool = Field(
        default=False,
        description="days run from the end of the calendar year of discovery, not from it",
    )
    after_rule: str | None = Field(
        default=None,
        description="due no later than `after_days` after the notice under this rule is given"
        " (an attorney general told no later than, or 10 days after, the residents), if earlier",
    )
    after_days: int = Field(default=0, description="days after the `after_rule` notice")
    when: str = Field(description="when the duty applies, in words")
    source: str = Field(description="the law (article, section) the row follows")
    encryption: Encryption | None = Field(
        default=None,
        description="the law exempts encrypted data whose key was not taken (its clause and"
        " provision): with --encrypted the row applies only if the key was compromised; None:"
        " no clause cited (a US state's or HIPAA's row then stays required, marked check)",
    )
    verified: bool = Field(
        default=True,
        description="the row's figures are in the working notes (../shared/reference/"
        "breach.md); false: written from memory, its source says UNVERIFIED",
    )


class Applies(StrEnum):
    """Whether a rule applies to this breach."""

    YES = "yes"
    IF_HIGH_RISK = "if_high_risk"  # the people's notice: a person confirms the risk
    POSSIBLY = "possibly"  # residents may be there: their state is not in the data
    NOT_COVERED = "not_covered"  # people live where this tool holds no rule: check the law
    IF_KEY_COMPROMISED = "if_key_compromised"  # --encrypted, and the law exempts it: owed
    # only if the key (or credential) was taken too


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
    after: tuple[str, int] | None = None  # (rule, days): due then after that notice, if earlier

    def as_json(self) -> dict[str, object]:
        """The deadline for scope.json (`after`, where set: the register moves `due` to
        `days` after the notice under `rule` once it is recorded, if that is earlier)."""
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
            **({"after": {"rule": self.after[0], "days": self.after[1]}} if self.after else {}),
        }


@cache
def rules() -> tuple[Rule, ...]:
    """The rules kept as data in `deadlines.json`."""
    text = resources.files("dsar.breach").joinpath("deadlines.json").read_text("utf-8")
    return tuple(Rule.model_validate(r) for r in json.loads(text)["rules"])


class Resident(Protocol):
    country: str | None
    state: str | None


def places_of(person: Resident) -> list[tuple[str | None, str | None]]:
    """A person's (country, state) pairs once read (`read_residence`): the one they are
    placed in, then every other place their rows hold, once per place a rule names (two EU
    countries are one place, two US states are two)."""
    seen = {_place(person.country, person.state)}
    out = [(person.country, person.state)]
    for pair in getattr(person, "elsewhere", ()):
        if (place := _place(*pair)) not in seen:
            seen.add(place)
            out.append(pair)
    return out


def _place(code: str | None, state: str | None) -> str:
    if code is None or code == "GB" or code == "US":
        return f"{code}-{state}" if code == "US" else str(code)
    return "EU/EEA" if code in EEA else code


def residence(
    countries: Collection[tuple[str | None, str | None]], unknown: str = "EU/EEA"
) -> Counter[str]:
    """People per place a rule names: 'EU/EEA', 'GB', 'US', 'US-XX', or the country code.

    `countries` holds each person's (country, state), read by `dsar.breach.places` (codes,
    English and native names: `Deutschland`, `U.S.`, `United Kingdom`; UK and GB are one); a
    person with no country, or one that names no country, counts under `unknown` (the place
    the company states for them), and also under `NO_COUNTRY` ('?') unless `unknown` is the
    US (there they count under 'US-?'): a US state's residents may be among them.
    """
    places: Counter[str] = Counter()
    for country, state in countries:
        code = country_code(country)
        if code is None:
            places[unknown] += 1
            places["US-?" if unknown == "US" else NO_COUNTRY] += 1
            continue
        if code == "GB":
            places["GB"] += 1
        elif code in EEA:
            places["EU/EEA"] += 1
        elif code == "US":
            places["US"] += 1
            places[f"US-{us_state_code(state) or '?'}"] += 1
        else:
            places[code] += 1
    return places


def _period(rule: Rule) -> str:
    if rule.hours is not None:
        return f"{rule.hours} hours"
    if rule.days is not None and rule.from_year_end:
        return f"{rule.days} days after the end of the calendar year"
    if rule.days is not None:
        return f"{rule.days} days"
    return "without undue delay"


def _year_end(discovered: datetime) -> datetime:
    """31 December of the calendar year of discovery, in the discovery's own zone: the year
    of the date `--discovered` writes (and the breach's id and letters show), not of the UTC
    instant (20:00 on 31 December at -05:00 is already 1 January in UTC: the yearly log it
    belongs to is the one due the next 1 March, not a year later)."""
    return datetime(discovered.year, 12, 31, tzinfo=discovered.tzinfo)


def compute_deadlines(
    discovered: datetime,
    places: Mapping[str, int],
    *,
    regimes: Collection[str] = (),
    per_state: Mapping[str, int] | None = None,
    established: str | None = None,
    customers: int = 0,
    encrypted: bool = False,
) -> list[Deadline]:
    """Every duty that applies where the affected people live, earliest first.

    Hours and days run on the calendar from `discovered` (a naive time is taken as UTC):
    weekends and public holidays do not stop them; a period from the end of the calendar
    year of discovery (HIPAA's yearly HHS log) takes that year in the zone `discovered` is
    given in (`_year_end`). `regimes` names the optional regimes the
    company is subject to (`pecr`, `nis2`, `hipaa`). `established` ('EU/EEA' or 'GB'): the
    company is established there, so GDPR (UK GDPR) covers every affected person wherever
    they live (Art. 3(1)), and its breach register takes every breach, none reached
    included (Art. 33(5)). A breach reaching no one still lists the register where the
    unknown residence falls (`places` holding that place at 0). `customers`: controllers
    whose data the company holds as a processor (Art. 33(2)). People living where no rule
    is held (a state or country not in the table) get a `not_covered` row. `encrypted`: the
    leaked copy was encrypted and its key not taken (`--encrypted`): a row whose law exempts
    that (its cited clause, `Rule.encryption`: HIPAA's "unsecured" PHI, several states)
    applies `if_key_compromised`, its due kept for that case; a US state's or HIPAA's row
    citing no clause stays as it is, its text saying to check (`_encrypted`).

    Examples:
        >>> friday = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
        >>> [d.due for d in compute_deadlines(friday, {"EU/EEA": 3}) if d.due][0]
        datetime.datetime(2026, 11, 30, 18, 30, tzinfo=datetime.timezone.utc)
    """
    if discovered.tzinfo is None:
        discovered = discovered.replace(tzinfo=UTC)
    per_state = per_state or {}
    total = sum(n for p, n in places.items() if not p.startswith("US-") and p != NO_COUNTRY)
    in_play = set(places)  # a place at 0: the unknown residence of a breach reaching no one
    if established in ("EU/EEA", "GB"):
        places = {**places, established: total}
        in_play.add(established)
    unknown_state = places.get("US-?", 0)
    no_country = places.get(NO_COUNTRY, 0)  # may live in any US state: a state's "possibly"
    out: list[Deadline] = []
    for rule in rules():
        if rule.regime in OPTIONAL_REGIMES and rule.regime not in regimes:
            continue
        people = total if rule.where == EVERYONE else places.get(rule.where, 0)
        applies = Applies.YES
        if rule.regime == "processor":
            if not customers:
                continue
            people = customers
        elif rule.min_people == 0:  # every breach, where the regime is in play
            if rule.where not in in_play:
                continue
        elif rule.regime == "us_state" and people < rule.min_people:
            if people + unknown_state < rule.min_people:
                continue
            applies, people = Applies.POSSIBLY, unknown_state
        elif rule.per_state:
            # residents of one state: "?" (the state is not in the data) is no state, but
            # its people may live in any state, so they make a state's count "possibly"
            # (nor are people whose country the data does not hold, who may be residents)
            known = {s: n for s, n in per_state.items() if s != "?"}
            over = {s: n for s, n in known.items() if n >= rule.min_people}
            maybe = unknown_state + no_country
            if not over and max(known.values(), default=0) + maybe < rule.min_people:
                continue
            applies = Applies.YES if over else Applies.POSSIBLY
            people = sum(over.values()) if over else maybe
        elif people < rule.min_people and rule.regime in SERVICE_REGIMES:
            applies, people = Applies.POSSIBLY, total  # --regime pecr, no one in the UK
        elif people < rule.min_people:
            continue
        if rule.max_people is not None and people > rule.max_people:
            continue
        if rule.notify == "the people" and rule.regime in ("gdpr", "uk_gdpr"):
            applies = Applies.IF_HIGH_RISK
        applies, encryption_note = _encrypted(rule, applies) if encrypted else (applies, "")
        if rule.from_year_end and rule.days is not None:  # 60 days after 31 December
            due: datetime | None = _year_end(discovered) + timedelta(days=rule.days)
        elif rule.hours is not None:
            due = discovered + timedelta(hours=rule.hours)
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
                rule.when
                + (
                    _SERVICE_NOTE
                    if applies is Applies.POSSIBLY and rule.regime in SERVICE_REGIMES
                    else ""
                )
                + encryption_note,
                rule.source,
                (rule.after_rule, rule.after_days) if rule.after_rule else None,
            )
        )
    out += _not_covered(places)
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(out, key=lambda d: (d.due or far, d.rule))


def _encrypted(rule: Rule, applies: Applies) -> tuple[Applies, str]:
    """A row under `--encrypted` (the key not taken): `if_key_compromised` with its law's
    clause and provision where the table cites one; a US state's or HIPAA's row citing none
    keeps its duty and says to check (no law is guessed); other rows are unchanged (GDPR's
    people's notice follows the severity's advice, Art. 34(3)(a); an authority is told
    unless the breach is unlikely to result in a risk)."""
    if rule.encryption is not None and applies in (Applies.YES, Applies.POSSIBLY):
        return Applies.IF_KEY_COMPROMISED, (
            f" (--encrypted: exempt if the key was not compromised: {rule.encryption.clause};"
            f" {rule.encryption.source}. Owed, by the due shown, if the key or credential was"
            " taken too)"
        )
    if rule.regime in ENCRYPTION_REGIMES and rule.encryption is None:
        return applies, (
            " (--encrypted: this table cites no encryption clause for this law, so the row"
            " stays required: check whether it exempts encrypted data whose key was not taken)"
        )
    return applies, ""


def _not_covered(places: Mapping[str, int]) -> list[Deadline]:
    """A row for each state or country with affected people and no rule in the table."""
    held = {r.where for r in rules()}
    out = []
    for place, people in sorted(places.items()):
        if place == "US-?" and people:  # US residents whose state the data does not hold
            out.append(
                Deadline(
                    "not-covered-us-no-state",
                    "residents and authorities of the US states this tool holds no rule for",
                    "US (no state in the data)",
                    Applies.NOT_COVERED,
                    people,
                    None,
                    "not covered: check the law",
                    f"{people} affected people live in the US in a state the data does not"
                    " hold: only the states this tool holds rules for are listed (possibly);"
                    " other states' laws (several with 30-day deadlines) are not checked for"
                    " them: find where they live before relying on this list",
                    "the US states' breach notification laws: most are not in this tool's table",
                )
            )
            continue
        if not people or place in held or place in ("US", "US-?", "EU/EEA", "GB", NO_COUNTRY):
            continue
        if place.startswith("US-"):
            name = US_STATES.get(place[3:], place)
            whom = f"{name} residents and authorities"
            source = f"{name}'s breach notification law: not in this tool's table"
        else:
            whom = f"residents of {place} and its authority"
            source = f"{place}'s data protection law: not in this tool's table"
        out.append(
            Deadline(
                f"not-covered-{place.lower()}",
                whom,
                place,
                Applies.NOT_COVERED,
                people,
                None,
                "not covered: check the law",
                f"{people} affected people live in {place}; this tool holds no rule for it:"
                " find its deadlines before relying on this list",
                source,
            )
        )
    return out
