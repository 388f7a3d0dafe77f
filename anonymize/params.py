"""The operators' parameters, as a policy writes them: one strict model per operator.

`columns: {created_at: {op: generalize, to: month}}` is read into `Generalize(to="month")`;
the operator that runs it is in `anonymize.operators`, registered under the same name.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from anonymize.spec import Strict


class Drop(Strict):
    """Leave the column out of the extract."""

    op: Literal["drop"]


class Keep(Strict):
    """Copy the column as it is (only for columns that identify no one)."""

    op: Literal["keep"]


class Hash(Strict):
    """A keyed hash (HMAC-SHA256 under the extract subkey and the extract's link name, its
    name unless the policy names a `link:`): the same across runs and tables of one extract,
    and across extracts sharing a link; the key never appears in any output."""

    op: Literal["hash"]
    length: int = Field(default=16, ge=8, le=64, description="hex characters kept (8-64)")
    normalize: bool = Field(
        default=True, description="trim and lower-case text first, so Ann@X.com joins ann@x.com"
    )


PSEUDONYM_KINDS = ("name", "first_name", "last_name", "email", "phone", "company", "city")


class Pseudonym(Strict):
    """A consistent Faker value per original value and key: the same person gets the same
    fake name here, in every other table and inside free text."""

    op: Literal["pseudonym"]
    kind: Literal["name", "first_name", "last_name", "email", "phone", "company", "city"] = Field(
        default="name", description="what kind of fake value"
    )


RULES = ("to", "bin", "bands", "prefix", "ip", "hierarchy")


TEXT_DATES = (
    "YYYY-MM-DD (a time may follow), YYYYMMDD; for the year alone also DD/MM/YYYY and"
    " MM/DD/YYYY (with / . or -)"
)
"""The text dates `to:` reads (a date or timestamp column needs none of this)."""


class Coarsening(Strict):
    """One way to make a value coarser. Give exactly one of the parameters."""

    to: Literal["day", "week", "month", "year"] | None = Field(
        default=None,
        description="a date or timestamp truncated to this unit (text holding dates is read"
        f" as one: {TEXT_DATES})",
    )
    bin: float | None = Field(default=None, gt=0, description="numbers to bins of this width")
    bands: list[float] | None = Field(
        default=None, min_length=1, description="numbers (ages) to bands: [18, 25, 35, 50, 65]"
    )
    prefix: int | None = Field(
        default=None, ge=0, description="text to its first N characters (postcodes)"
    )
    ip: Literal[24, 48] | None = Field(
        default=None, description="IPv4 addresses to their /24, IPv6 to their /48"
    )
    hierarchy: dict[str, str] | None = Field(
        default=None, description="categories to groups: {Dublin: Ireland, Cork: Ireland}"
    )

    def given(self) -> list[str]:
        """The parameters set."""
        found = [k for k in RULES if getattr(self, k)]
        return [*found, "prefix"] if self.prefix == 0 else found

    @model_validator(mode="after")
    def _one(self) -> Coarsening:
        given = self.given() + (["levels"] if getattr(self, "levels", None) else [])
        if len(given) != 1:
            raise ValueError(
                "give exactly one of to, bin, bands, prefix, ip, hierarchy"
                + (", levels" if "levels" in type(self).model_fields else "")
                + (f" (given: {', '.join(given)})" if given else "")
            )
        return self

    @field_validator("bands")
    @classmethod
    def _rising(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("bands must rise: [18, 25, 35]")
        return value


STAR = "*"  # the top level of a search: the column's value withheld


class Generalize(Coarsening):
    """Replace a value by a coarser one: one way, or `levels` from fine to coarse, of which
    the extract takes the one of least loss that meets the privacy targets (found by a lattice
    search over every column given levels, `anonymize.search`). The original value is the
    search's level 0 and is not written; `levels[i]` is level i + 1. Each level must group
    the one before it."""

    op: Literal["generalize"]
    levels: list[Coarsening | Literal["*"]] | None = Field(
        default=None,
        min_length=1,
        description="coarser and coarser ways, each grouping the one before, e.g. [{to: month},"
        " {to: year}, '*']; the search picks one per column, or the original value (level 0,"
        " not written; never for a column the catalog marks personal)",
    )

    @field_validator("levels")
    @classmethod
    def _no_ip(cls, value: list[Coarsening | str] | None) -> list[Coarsening | str] | None:
        for level in value or []:
            if isinstance(level, Coarsening) and level.ip:
                raise ValueError("ip is not available as a search level; use prefix or '*'")
        return value

    def level(self, index: int) -> Coarsening | str:
        """The coarsening `levels[index]` (the search's level index + 1), or the column's only
        one when there are no levels."""
        return self.levels[index] if self.levels else self


class DateShift(Strict):
    """Move every date of one person by the same keyed offset (from the policy's person
    column), the same in every table: intervals within a person's history survive.

    A timestamp moves by whole seconds, so its time of day moves too: an offset of whole days
    would keep HH:MM:SS, which matches the source within the window (995 of 1,000 people
    found that way). `truncate: day` publishes the day alone, moved by whole days."""

    op: Literal["date_shift"]
    max_days: int = Field(default=30, ge=1, le=3650, description="the largest shift, in days")
    truncate: Literal["day"] | None = Field(
        default=None,
        description="'day': cut a timestamp to its day first and move it by whole days (the"
        " output has no time of day); by default a timestamp moves by seconds",
    )


class Mask(Strict):
    """Every character but the last few replaced by '*'."""

    op: Literal["mask"]
    keep_last: int = Field(default=4, ge=0, description="characters left at the end")


class Redact(Strict):
    """Free text through the text engine: names, contacts, IPs replaced by placeholders
    (or a keyed surrogate), card, bank and ID numbers masked."""

    op: Literal["redact"]
    names: Literal["placeholder", "surrogate", "hash"] = Field(
        default="placeholder", description="what replaces a person's name"
    )
    allow: list[str] = Field(default_factory=list, description="words never redacted")


class TopBottom(Strict):
    """Top and bottom coding: values above `top` become `top`, below `bottom` become `bottom`."""

    op: Literal["top_bottom"]
    top: float | None = Field(default=None, description="the largest value published")
    bottom: float | None = Field(default=None, description="the smallest value published")

    @model_validator(mode="after")
    def _some(self) -> TopBottom:
        if self.top is None and self.bottom is None:
            raise ValueError("give top, bottom or both")
        if self.top is not None and self.bottom is not None and self.bottom >= self.top:
            raise ValueError("bottom must be below top")
        return self


class Suppress(Strict):
    """Keep the column, with every value empty (NULL)."""

    op: Literal["suppress"]


Operator = Annotated[
    Drop | Keep | Hash | Pseudonym | Generalize | DateShift | Mask | Redact | TopBottom | Suppress,
    Field(discriminator="op"),
]
OPERATOR_NAMES = (
    "drop",
    "keep",
    "hash",
    "pseudonym",
    "generalize",
    "date_shift",
    "mask",
    "redact",
    "top_bottom",
    "suppress",
)
