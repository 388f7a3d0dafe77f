"""The extract policy: which table, what happens to each column, and the privacy targets.

A policy is YAML, read with the catalog's strict loader: an unknown key, a wrong value, a
column of the table the policy does not mention, an identifier or free text kept in clear:
every problem at once, with its line and the fix.

```yaml
version: 1
name: tickets-for-analytics
table: support_tickets            # a table of the catalog
person: user_id                   # whose row it is: date shifts and pseudonyms follow it
columns:
  ticket_id: hash                 # an operator name, or a mapping with its parameters
  user_id: hash
  requester_email: drop
  body: {op: redact}
  created_at: {op: generalize, to: month}
  status: keep
quasi_identifiers: [created_at, channel]
sensitive: [status]
privacy: {k: 5, l: 2, max_suppression: 0.05}
output: {path: tickets.parquet}
```
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dsar.catalog import Catalog, load_yaml_model
from dsar.catalog.strict import YamlDocument, suggest
from dsar.errors import ConfigProblem


class Strict(BaseModel):
    """The base of every spec model here: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def unknown_table(catalog: Catalog, name: str, doc: YamlDocument) -> ConfigProblem | None:
    """The problem of a spec naming a table the catalog does not have (None: it has it)."""
    if name in catalog.tables:
        return None
    return doc.problem(
        ("table",),
        f"no table {name!r} in the catalog",
        suggest(name, catalog.tables, "name a table of the catalog"),
    )


class Drop(Strict):
    """Leave the column out of the extract."""

    op: Literal["drop"]


class Keep(Strict):
    """Copy the column as it is (only for columns that identify no one)."""

    op: Literal["keep"]


class Hash(Strict):
    """A keyed hash (HMAC-SHA256 under the extract subkey): stable across runs and tables, so
    extracts still join; the key never appears in any output."""

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


class Generalize(Strict):
    """Replace a value by a coarser one. Give exactly one of the parameters."""

    op: Literal["generalize"]
    to: Literal["day", "week", "month", "year"] | None = Field(
        default=None, description="a date or timestamp truncated to this unit"
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

    @model_validator(mode="after")
    def _one(self) -> Generalize:
        given = [k for k in ("to", "bin", "bands", "prefix", "ip", "hierarchy") if getattr(self, k)]
        if self.prefix == 0:
            given.append("prefix")
        if len(given) != 1:
            raise ValueError(
                "give exactly one of to, bin, bands, prefix, ip, hierarchy"
                + (f" (given: {', '.join(given)})" if given else "")
            )
        return self

    @field_validator("bands")
    @classmethod
    def _rising(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("bands must rise: [18, 25, 35]")
        return value


class DateShift(Strict):
    """Move every date of one person by the same random number of days (keyed by the policy's
    person column), the same in every table: intervals within a person's history survive."""

    op: Literal["date_shift"]
    max_days: int = Field(default=30, ge=1, le=3650, description="the largest shift, in days")


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


class Privacy(Strict):
    """The targets the extract must meet over its quasi-identifiers."""

    k: int = Field(default=1, ge=1, description="every class of quasi-identifiers holds k rows")
    l: int | None = Field(  # noqa: E741 - the name the literature uses
        default=None, ge=1, description="distinct sensitive values in every class"
    )
    t: float | None = Field(
        default=None, gt=0, le=1, description="largest distance of a class's sensitive values"
    )
    max_suppression: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="the share of rows that may be suppressed to meet k and l (0.05 = 5%)",
    )


class Output(Strict):
    """Where the extract goes, relative to the output folder."""

    path: str = Field(min_length=1, description="file name of the extract, e.g. tickets.parquet")
    format: Literal["parquet", "csv", "jsonl"] = Field(default="parquet", description="format")


class Policy(Strict):
    """One de-identified extract of one catalog table."""

    version: Literal[1] = Field(description="policy format version; currently 1")
    name: str = Field(min_length=1, description="the extract's name, for its manifest")
    table: str = Field(min_length=1, description="the catalog table the extract is made from")
    person: str | None = Field(
        default=None, description="the column naming whose row it is (date shift needs it)"
    )
    columns: dict[str, Operator] = Field(
        min_length=1, description="every column of the table with its operator"
    )
    quasi_identifiers: list[str] = Field(
        default_factory=list, description="output columns an attacker could know and link on"
    )
    sensitive: list[str] = Field(
        default_factory=list, description="output columns whose values must stay diverse (l, t)"
    )
    privacy: Privacy = Field(default_factory=Privacy, description="k, l, t and the budget")
    exclude_ledger: bool = Field(
        default=True,
        description="leave out the people in the suppression ledger (objection, restriction,"
        " erasure) when a ledger is given",
    )
    output: Output = Field(description="where the extract is written")

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`status: keep` is `status: {op: keep}`."""
        if isinstance(value, dict):
            return {k: {"op": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    def kept(self) -> list[str]:
        """Columns of the extract, in policy order."""
        return [c for c, op in self.columns.items() if not isinstance(op, Drop)]


def policy_problems(policy: Policy, catalog: Catalog, doc: YamlDocument) -> Iterable[ConfigProblem]:
    """What the policy gets wrong about the catalog: every one, with its fix."""
    missing = unknown_table(catalog, policy.table, doc)
    if missing is not None:
        yield missing
        return
    table = catalog.tables[policy.table]
    for column in table.columns:
        if column not in policy.columns:
            yield doc.problem(
                ("columns",),
                f"column {column!r} of {policy.table} is not in the policy",
                f"add '{column}:' with an operator (drop, hash, keep, ...): a column the"
                " policy does not mention is never kept silently",
            )
    for column, op in policy.columns.items():
        spec = table.columns.get(column)
        if spec is None:
            yield doc.problem(
                ("columns", column),
                f"{policy.table} has no column {column!r}",
                suggest(column, table.columns, "remove it"),
            )
            continue
        problem = _unsafe(column, spec, op, points_at_a_person(catalog, policy.table, column))
        if problem is not None:
            message, fix = problem
            yield doc.problem(("columns", column, "op"), message, fix)
        wrong_type = _wrong_type(spec, op)
        if wrong_type is not None:
            yield doc.problem(
                ("columns", column, "op"), f"{column} {wrong_type}", "pick an operator for its type"
            )
    kept = set(policy.kept())
    for field in ("quasi_identifiers", "sensitive"):
        for i, column in enumerate(getattr(policy, field)):
            if column not in kept:
                yield doc.problem(
                    (field, i),
                    f"{column!r} is not a column of the extract",
                    suggest(column, kept, "name a column the policy keeps"),
                )
    if set(policy.quasi_identifiers) & set(policy.sensitive):
        yield doc.problem(
            ("sensitive",),
            "a column is both a quasi-identifier and sensitive",
            "list it in one of the two",
        )
    if (policy.privacy.l or policy.privacy.t) and not policy.sensitive:
        yield doc.problem(("privacy",), "l or t needs sensitive columns", "list them in sensitive:")
    if policy.privacy.k > 1 and not policy.quasi_identifiers:
        yield doc.problem(
            ("quasi_identifiers",),
            "k needs quasi-identifiers",
            "list the columns an attacker could know (age band, postcode prefix, month of sign-up)",
        )
    shifts = [c for c, op in policy.columns.items() if isinstance(op, DateShift)]
    if shifts and policy.person is None:
        yield doc.problem(
            ("columns", shifts[0]),
            f"date_shift ({', '.join(shifts)}) needs the column naming whose row it is",
            "add person: <column>, e.g. person: user_id",
        )
    if policy.person is not None and policy.person not in table.columns:
        yield doc.problem(
            ("person",),
            f"{policy.table} has no column {policy.person!r}",
            suggest(policy.person, table.columns, "name the column of the person's id"),
        )


SAFE_FOR_IDENTIFIERS = (Drop, Hash, Pseudonym, Suppress)
SAFE_FOR_TEXT = (Drop, Redact, Suppress)
MAX_MASK_KEEP = 4  # characters a mask may leave of personal data


def points_at_a_person(catalog: Catalog, table: str, column: str) -> bool:
    """The column references an identity column, or holds the key of the row's owner."""
    spec = catalog.tables[table].columns[column]
    if spec.references:
        ref_table, _, ref_column = spec.references.partition(".")
        target = catalog.tables.get(ref_table)
        ref = target.columns.get(ref_column) if target else None
        if ref is not None and ref.identity is not None:
            return True
    owned = catalog.tables[table].owned_through
    return owned is not None and owned.column == column


def _unsafe(column: str, spec: Any, op: Any, points: bool) -> tuple[str, str] | None:
    """Why an operator would let personal data out of this column (None: it would not)."""
    if spec.secret:
        if not isinstance(op, Drop | Suppress):
            return (
                f"{column} is a secret (credentials): it never leaves, not even transformed",
                "use op: drop",
            )
        return None
    if spec.identity is not None or points:
        if not isinstance(op, SAFE_FOR_IDENTIFIERS):
            what = spec.identity.value if spec.identity is not None else "a reference to one"
            return (
                f"{column} identifies a person ({what}): with {op.op} it is not de-identified",
                "use hash (joins across extracts), pseudonym, suppress or drop",
            )
        return None
    if spec.free_text:
        if not isinstance(op, SAFE_FOR_TEXT):
            return (
                f"{column} is free text that can name people: {op.op} does not remove them",
                "use op: redact, or drop",
            )
        return None
    if spec.personal is not None:
        if isinstance(op, Mask) and op.keep_last <= MAX_MASK_KEEP:
            return None
        if isinstance(op, Generalize) and (op.ip or op.to or op.bands or op.bin or op.hierarchy):
            return None  # coarser by construction; a prefix is checked below
        if isinstance(op, Generalize) and op.prefix is not None and op.prefix <= MAX_MASK_KEEP:
            return None
        if isinstance(op, SAFE_FOR_IDENTIFIERS):
            return None
        return (
            f"{column} is personal data ({spec.personal.value}): {op.op} as written keeps it",
            f"use pseudonym, hash, generalize, a mask or prefix of at most {MAX_MASK_KEEP}"
            " characters, or drop",
        )
    return None


def _wrong_type(spec: Any, op: Any) -> str | None:
    """An operator that cannot work on the column's declared type."""
    kind = spec.type.value if spec.type is not None else None
    if kind is None:
        return None
    if isinstance(op, Generalize) and op.to and kind not in ("date", "timestamp"):
        return f"is {kind}: generalize to a {op.to} needs a date or timestamp"
    if isinstance(op, DateShift) and kind not in ("date", "timestamp"):
        return f"is {kind}: date_shift needs a date or timestamp"
    numeric = ("integer", "float", "decimal")
    if isinstance(op, Generalize) and (op.bands or op.bin) and kind not in numeric:
        return f"is {kind}: bands and bins need numbers"
    if isinstance(op, TopBottom) and kind not in numeric:
        return f"is {kind}: top and bottom coding need numbers"
    return None


def load_policy(path: str | Path, catalog: Catalog) -> Policy:
    """Read and check a policy against the catalog.

    Raises:
        ConfigError: every problem at once, each with its line and fix.
    """
    return load_yaml_model(
        path, Policy, what="policy", checks=lambda p, doc: list(policy_problems(p, catalog, doc))
    )
