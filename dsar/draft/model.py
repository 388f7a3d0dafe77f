"""The drafted data map as values: what was decided for each table and column, why, and how
sure the draft is of each decision (`Confidence`; `Draft.confirm_first` lists the least sure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.profile import TableProfile
from dsar.draft.scan import NotRead


@dataclass(frozen=True)
class Confidence:
    """How sure the draft is of one decision: `value` in [0, 1] (two decimals) and a one-line
    `reason` built from the evidence (counts, shares and column names, never a value)."""

    value: float
    reason: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and 0.0 <= self.value <= 1.0):
            raise ValueError(f"a confidence lies in [0, 1], not {self.value}")
        object.__setattr__(self, "value", round(self.value, 2))

    def __str__(self) -> str:
        return f"confidence {self.value:.2f}: {self.reason}"


@dataclass(frozen=True)
class Decision:
    """One decision of the draft, where it is (`table`, and `column` or None for the table's
    own), what it says (`what`, e.g. "identity email"), and its confidence."""

    table: str
    column: str | None
    role: str  # the key in the table's or column's `confidence`: identity, references, ...
    what: str
    confidence: Confidence

    @property
    def where(self) -> str:
        return self.table if self.column is None else f"{self.table}.{self.column}"


@dataclass
class ColumnDraft:
    """One column's draft: its roles, and the evidence for each (no value, ever)."""

    name: str
    kind: ColumnType | None
    identity: IdentityKind | None = None
    personal: PersonalKind | None = None
    references: str | None = None
    secret: bool = False
    free_text: bool = False
    # a kind seen but left unmarked for want of a person in the table (a location), marked
    # where the table's person is found through a link (`run`)
    maybe: PersonalKind | None = None
    # special category data (GDPR Art. 9) or gender, which the catalog has no kind for
    sensitive: str | None = None
    notes: list[str] = field(default_factory=list)
    # each decision made for the column (identity, personal, secret, free_text, references,
    # no_role: a partial shape left unmarked) and how sure it is
    confidence: dict[str, Confidence] = field(default_factory=dict)

    @property
    def has_role(self) -> bool:
        """Whether the column says something about a person."""
        return bool(
            self.identity or self.personal or self.secret or self.free_text or self.sensitive
        )

    def what(self, role: str) -> str:
        """The decision `role` in words: "identity email", "references staff.staff_id"."""
        if role == "identity" and self.identity is not None:
            return f"identity {self.identity.value}"
        if role == "personal" and self.personal is not None:
            return f"personal {self.personal.value}"
        if role == "references" and self.references is not None:
            return f"references {self.references}"
        if role == "sensitive" and self.sensitive is not None:
            return f"sensitive ({self.sensitive})"
        if role == "free_text":
            return "free text"
        if role == "no_role":
            return "no role (nothing personal marked)"
        if role == "unlinked":
            return "not linked (its values fit a person's key)"
        if role == "no_identity":
            return "not an identity (names a second person)"
        if role == "company_contact":
            return "not an identity (a company's mailbox)"
        return role


@dataclass(frozen=True)
class Link:
    """`child.column`'s values all lie within `parent.key`, a unique key of the parent."""

    child: str
    column: str
    parent: str
    key: str
    distinct: int
    found: int
    also: tuple[str, ...] = ()  # other keys the values fit equally well

    @property
    def target(self) -> str:
        return f"{self.parent}.{self.key}"


@dataclass
class TableDraft:
    """One table's draft."""

    profile: TableProfile
    columns: dict[str, ColumnDraft]
    keys: list[str] = field(default_factory=list)  # unique, non-null columns
    primary_key: str | None = None
    owned_through: Link | None = None
    personal: bool = True
    people: str | None = None  # "root": one row per person; "extension": of another's people
    notes: list[str] = field(default_factory=list)
    retention_after: str | None = None
    # each decision made for the table (verdict: people, personal or reference data;
    # primary_key; owned_through; retention) and how sure it is
    confidence: dict[str, Confidence] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.profile.name

    def verdict(self) -> str:
        """What the table is, in words: a people table, an extension, personal or reference."""
        if not self.personal:
            return "reference data (personal: false)"
        if self.people == "root":
            return "a people table (one row per person)"
        if self.people == "extension":
            return "extends a people table (the same people)"
        if self.owned_through is not None:
            return f"personal, owned through {self.owned_through.target}"
        if self.identity_columns():
            return "personal (identity columns)"
        return "personal, but no request reaches it"

    def decisions(self) -> list[Decision]:
        """The table's decisions and its columns', in file order."""
        out = [
            Decision(self.name, None, role, self._what(role), conf)
            for role, conf in self.confidence.items()
        ]
        for name, col in self.columns.items():
            out += [
                Decision(self.name, name, role, col.what(role), conf)
                for role, conf in col.confidence.items()
            ]
        return out

    def _what(self, role: str) -> str:
        if role == "verdict":
            return self.verdict()
        if role == "primary_key":
            return f"primary key {self.primary_key}"
        if role == "owned_through" and self.owned_through is not None:
            return f"owned through {self.owned_through.column} -> {self.owned_through.target}"
        if role == "retention":
            return f"retention counted from {self.retention_after}"
        return role

    def identity_columns(self) -> dict[str, IdentityKind]:
        return {c: d.identity for c, d in self.columns.items() if d.identity is not None}

    def first_identity(self, kind: IdentityKind) -> str | None:
        return next((c for c, d in self.columns.items() if d.identity is kind), None)


@dataclass(frozen=True)
class Draft:
    """The whole draft: tables in file order, links, files skipped, and the sample size."""

    tables: dict[str, TableDraft]
    links: tuple[Link, ...]
    skipped: tuple[tuple[str, str], ...]
    sample: int
    # tables that hold data the draft could not read, with why (no value): written at the
    # top of the draft and as a table whose TODOs `catalog check` refuses until decided
    not_read: tuple[NotRead, ...] = ()

    def decisions(self) -> list[Decision]:
        """Every decision with a confidence, tables in file order."""
        return [d for table in self.tables.values() for d in table.decisions()]

    def confirm_first(self, limit: int | None = None) -> list[Decision]:
        """The decisions from the least sure: what a person should confirm first (ties in file
        order); `limit`: only that many."""
        ranked = sorted(self.decisions(), key=lambda d: d.confidence.value)
        return ranked if limit is None else ranked[:limit]
