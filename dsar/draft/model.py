"""The drafted data map as values: what was decided for each table and column, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.profile import TableProfile


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
    notes: list[str] = field(default_factory=list)

    @property
    def has_role(self) -> bool:
        """Whether the column says something about a person."""
        return bool(self.identity or self.personal or self.secret or self.free_text)


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

    @property
    def name(self) -> str:
        return self.profile.name

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
