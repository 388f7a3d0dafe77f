"""Warnings for catalogs that validate but would leak: the tempting shortcuts, and the guard.

A catalog can be valid and still hand one person's rows to another. Seen on a real shop
schema: invoice lines declared `identity: customer_id` through their invoice id (invoice 1
and customer 1 are both "1"), invoice ids declared `user_id` (invoice 1 collided with staff
member 1). `dsar catalog check` prints every warning with its fix and a stable code.

The identity warnings are collision-prone: `guard_catalog` runs them before every job that
reads or changes a person's rows or derives a dataset (access, erasure, correction,
retention, extracts, aggregates, audiences) and refuses the catalog unless the warnings are
accepted; the job then records what was accepted. A table no request reaches is only a
warning: it hides rows from requests, it does not hand them to someone else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dsar.catalog.models import Catalog, ErasureAction, IdentityKind, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import CatalogProblem, UsageError, WorkbenchError

COVERAGE = 0.5  # most values absent from their kind's home: probably another kind of id
SAMPLE_ROWS = 20_000
"""Rows of an identity column compared with its home (the first ones the engine reads):
a column holding another kind of key shows it in any stretch of its rows, and the guard runs
before every job, so it must not read a whole web log (measured in the README)."""


class WarningCode(StrEnum):
    """The stable code of each catalog warning: what a record names, what acceptance names."""

    IDENTITY_REFERENCE_KIND = "identity-reference-kind"
    IDENTITY_TWO_HOMES = "identity-two-homes"
    IDENTITY_COVERAGE = "identity-coverage"
    TABLE_UNREACHED = "table-unreached"
    ERASED_UNDER_RETAINED_PARENT = "erased-under-retained-parent"
    IDENTITY_PLACEHOLDER = "identity-placeholder"
    IDENTITY_SHARED_VALUE = "identity-shared-value"


COLLISION_PRONE = frozenset(
    {
        WarningCode.IDENTITY_REFERENCE_KIND,
        WarningCode.IDENTITY_TWO_HOMES,
        WarningCode.IDENTITY_COVERAGE,
    }
)
"""Codes of the warnings that can give one person's rows to another: jobs refuse them."""


@dataclass(frozen=True)
class CatalogWarning(CatalogProblem):
    """A catalog problem that does not fail validation, with its stable `code`."""

    code: WarningCode

    @property
    def collision_prone(self) -> bool:
        """True when the shortcut can give one person's rows to another (jobs refuse it)."""
        return self.code in COLLISION_PRONE

    @property
    def line(self) -> str:
        """The warning on one line, without its fix: what a record keeps."""
        return f"{self.location}: {self.message}"

    def __str__(self) -> str:
        return f"{super().__str__()}\n    code: {self.code}"


class CollisionProneCatalogError(WorkbenchError):
    """The catalog takes a shortcut that can hand one person's rows to another.

    Attributes: `source` (the catalog file, or None), `warnings` (each with its code and fix).
    """

    def __init__(self, source: str | None, warnings: Sequence[CatalogWarning]) -> None:
        self.source = source
        self.warnings = tuple(warnings)
        where = f" {source}" if source else ""
        lines = [
            f"refused: the catalog{where} has {len(self.warnings)} warning(s) that can hand one"
            " person's rows to another; nothing was written or changed:"
        ]
        lines += [f"  - {w}" for w in self.warnings]
        lines.append(
            "Fix the catalog (`dsar catalog check` shows the warnings), or, if you have checked"
            " that the rows really belong to that person, accept them with"
            " --accept-catalog-warnings (in Python: accept_catalog_warnings=True); the bundle,"
            " certificate or manifest then records each warning accepted."
        )
        super().__init__("\n".join(lines))


def catalog_warnings(catalog: Catalog, engine: Engine | None = None) -> list[CatalogWarning]:
    """The shortcuts this catalog takes; with an `engine`, also what its files show."""
    warnings = [
        *_references(catalog),
        *_homes(catalog),
        *_unreached(catalog),
        *_erased_under_retained_parent(catalog),
    ]
    if engine is not None:
        warnings += _coverage(catalog, engine)
    return warnings


def guard_catalog(
    catalog: Catalog,
    engine: Engine | None,
    accept: bool | Collection[str] = False,
) -> tuple[CatalogWarning, ...]:
    """Refuse a collision-prone catalog, unless its warnings are accepted.

    Every job that reads a person's rows or derives a dataset calls this first. With an
    `engine` the coverage of identity values in their home is checked too (a bounded read:
    `SAMPLE_ROWS` of each identity column, and the home's key column).

    Args:
        catalog: the validated catalog.
        engine: an engine over its files, or None to check the catalog alone.
        accept: True accepts every warning; a collection of codes (`identity-coverage`)
            accepts those only.

    Returns:
        The collision-prone warnings accepted (empty for a clean catalog), for the job's
        statement, certificate or manifest to record.

    Raises:
        CollisionProneCatalogError: a collision-prone warning that is not accepted.

    Examples:
        >>> accepted = guard_catalog(catalog, engine)  # doctest: +SKIP
        >>> guard_catalog(catalog, engine, accept={"identity-coverage"})  # doctest: +SKIP
    """
    if isinstance(accept, str):  # one code, not its letters
        accept = {accept}
    if not isinstance(accept, bool):
        unknown = sorted(set(accept) - set(WarningCode))
        if unknown:
            raise UsageError(
                "accept_catalog_warnings",
                f"unknown catalog warning code(s): {', '.join(unknown)}",
                f"the codes are {', '.join(WarningCode)}",
            )
    prone = tuple(w for w in catalog_warnings(catalog, engine) if w.collision_prone)
    refused = [w for w in prone if not (accept is True or (accept and w.code in accept))]
    if refused:
        raise CollisionProneCatalogError(
            str(catalog.source) if catalog.source is not None else None, refused
        )
    return prone


def _home_columns(catalog: Catalog) -> dict[IdentityKind, list[tuple[str, str]]]:
    """Per identity kind, the columns that are its home: a table's one-column primary key
    of that kind that references no other column (an extension table, one row per user,
    references its home and is not one)."""
    homes: dict[IdentityKind, list[tuple[str, str]]] = defaultdict(list)
    for name, table in catalog.tables.items():
        if len(table.primary_key) != 1:
            continue
        key = table.primary_key[0]
        spec = table.columns.get(key)
        if spec is not None and spec.identity is not None and spec.references is None:
            homes[spec.identity].append((name, key))
    return homes


def _homes(catalog: Catalog) -> list[CatalogWarning]:
    """Kinds with two homes: two tables whose keys are that kind, so their values collide."""
    homes = {k: [f"{t}.{c}" for t, c in v] for k, v in _home_columns(catalog).items()}
    return [
        CatalogWarning(
            f"identity {kind.value}",
            f"{' and '.join(places)} are both the key of their table and both {kind.value}:"
            " their values can collide (row 1 of one table is not person 1 of the other)",
            "give each kind of key its own identity kind, or no identity role for keys of"
            " things (invoices, orders): reach their rows with owned_through",
            WarningCode.IDENTITY_TWO_HOMES,
        )
        for kind, places in homes.items()
        if len(places) > 1
    ]


def _references(catalog: Catalog) -> list[CatalogWarning]:
    """Identity columns that reference a column of another identity kind (or none)."""
    out = []
    for name, table in catalog.tables.items():
        for column, spec in table.columns.items():
            if spec.identity is None or spec.references is None:
                continue
            ref_table, _, ref_column = spec.references.partition(".")
            target = catalog.tables.get(ref_table)
            ref = target.columns.get(ref_column) if target else None
            if ref is None or ref.identity is spec.identity:
                continue
            if ref.identity is None:
                what = "not an identity column"
                fix = (
                    "if the rows belong to the owner of that row, remove the identity role and"
                    f" write owned_through: {{column: {column}, parent: {spec.references}}}"
                )
            else:
                what = f"a {ref.identity.value}"
                fix = (
                    f"if the column holds {ref.identity.value}s, declare it identity:"
                    f" {ref.identity.value}; if it holds {spec.identity.value}s, reference a"
                    f" {spec.identity.value} column"
                )
            out.append(
                CatalogWarning(
                    f"tables.{name}.columns.{column}",
                    f"declared {spec.identity.value} but references {spec.references}, which is"
                    f" {what}: its values are another kind of key and can collide",
                    fix,
                    WarningCode.IDENTITY_REFERENCE_KIND,
                )
            )
    return out


def _unreached_fix(catalog: Catalog, name: str) -> str:
    """What to do with an unreached table: owned_through where it links to a person's rows;
    where people's rows point at it instead (customer.address_id -> address), owned_through
    (a link from its rows to their owner) cannot reach it: the draft's advice."""
    tables = catalog.tables

    def reached(table: str) -> bool:
        found = tables.get(table)
        return found is not None and bool(found.identity_columns() or found.owned_through)

    refs = [
        (other, c.references.split(".", 1)[0])
        for other, t in tables.items()
        for c in t.columns.values()
        if c.references is not None
    ]
    into = sorted({o for o, to in refs if to == name and o != name and reached(o)})
    if not into or any(o == name and reached(to) for o, to in refs):
        return (
            "if its rows belong to someone, add owned_through: {column: ..., parent:"
            " table.key}; if it holds no personal data (a product list), say personal: false"
        )
    return (
        f"other tables' rows point at it ({', '.join(into)}) and no column of it names its"
        " person, so owned_through (a link from its rows to their owner) cannot reach it:"
        " re-export it with its person's key (one row per referencing person) and declare"
        " that column's identity, or declare identity on a contact column of its own; if it"
        " holds no personal data, say personal: false"
    )


def _unreached(catalog: Catalog) -> list[CatalogWarning]:
    """Tables no request can reach: no identity column and no owner."""
    return [
        CatalogWarning(
            f"tables.{name}",
            "no identity column and no owned_through: no request ever searches it, so its"
            " rows never reach a bundle or an erasure",
            _unreached_fix(catalog, name),
            WarningCode.TABLE_UNREACHED,
        )
        for name, table in catalog.tables.items()
        if catalog.subject_requests  # no request searches any table of such a catalog
        and table.role is Role.CONTROLLER
        and table.personal
        and not table.identity_columns()
        and table.owned_through is None
    ]


def _erased_under_retained_parent(catalog: Catalog) -> list[CatalogWarning]:
    """Owned tables told to erase their rows even where the parent rows are retained (the
    lines of an invoice kept for tax): the record kept under an obligation loses them."""
    out = []
    for name, table in catalog.tables.items():
        if not table.erasure.even_if_parent_retained:
            continue
        retained, seen, own = None, {name}, table.owned_through
        while own is not None and own.parent_table in catalog.tables:
            parent = catalog.tables[own.parent_table]
            if parent.erasure.action is ErasureAction.RETAIN:
                retained = own.parent_table
                break
            if own.parent_table in seen:
                break
            seen.add(own.parent_table)
            own = parent.owned_through
        changes = table.erasure.action in (ErasureAction.NULLIFY, ErasureAction.PSEUDONYMIZE)
        if retained is None:
            message = (
                "erasure.even_if_parent_retained, but no table it is owned through retains"
                " its rows: the setting changes nothing"
            )
            fix = "remove even_if_parent_retained"
        else:
            why = catalog.tables[retained].erasure.reason
            message = (
                f"even_if_parent_retained: erasure {'changes' if changes else 'deletes'} rows"
                f" whose {retained} rows are retained ({why}), so the record kept under that"
                " obligation is left without them"
            )
            fix = (
                f"remove even_if_parent_retained: the rows are then kept with their {retained}"
                " rows, unchanged, for as long as those are kept, and erased with them"
            )
        out.append(
            CatalogWarning(
                f"tables.{name}.erasure",
                message,
                fix,
                WarningCode.ERASED_UNDER_RETAINED_PARENT,
            )
        )
    return out


def _coverage(catalog: Catalog, engine: Engine) -> list[CatalogWarning]:
    """Identity columns whose values are mostly absent from their kind's home column.

    One query per kind with a home: the first `SAMPLE_ROWS` values of each of its columns
    (the engine stops reading there), against the home's key column, read once.
    """
    homes = {kind: places[0] for kind, places in _home_columns(catalog).items()}
    columns: dict[IdentityKind, list[tuple[str, str]]] = defaultdict(list)
    for name, table in catalog.tables.items():
        for column, kind in table.identity_columns().items():
            home = homes.get(kind)
            if home is None or home == (name, column) or name not in engine.tables:
                continue
            if home[0] in engine.tables:
                columns[kind].append((name, column))
    out = []

    def text(column: str) -> str:  # a JSON value as the text it holds, as requests read it
        c = quote_identifier(column)
        return (
            f"(CASE WHEN typeof({c}) = 'JSON' THEN json_extract_string(to_json({c}), '$')"
            f" ELSE CAST({c} AS VARCHAR) END)"
        )

    for kind, checked in columns.items():
        h_table, h_column = homes[kind]
        samples = " UNION ALL ".join(
            f"SELECT {i} AS i, v FROM (SELECT {text(c)} AS v"
            f" FROM {quote_identifier(t)} WHERE {quote_identifier(c)} IS NOT NULL"
            f" LIMIT {SAMPLE_ROWS})"
            for i, (t, c) in enumerate(checked)
        )
        homed = f"CAST({quote_identifier(h_column)} AS VARCHAR)"
        rows = engine.query(
            f"WITH s AS ({samples}),"
            f" found AS (SELECT DISTINCT {homed} AS v FROM {quote_identifier(h_table)}"
            f" WHERE {homed} IN (SELECT v FROM s)),"
            " d AS (SELECT i, v, count(*) AS r FROM s GROUP BY i, v)"
            " SELECT d.i AS i, sum(d.r) AS rows_read, count(*) AS n,"
            " count(*) - count(found.v) AS missing"
            " FROM d LEFT JOIN found ON d.v = found.v GROUP BY d.i ORDER BY d.i"
        ).to_pylist()
        for row in rows:
            name, column = checked[int(row["i"])]
            n, missing = int(row["n"]), int(row["missing"])
            if not n or missing / n <= COVERAGE:
                continue
            sampled = (
                f" (in its first {SAMPLE_ROWS:,} rows)" if row["rows_read"] >= SAMPLE_ROWS else ""
            )
            out.append(
                CatalogWarning(
                    f"tables.{name}.columns.{column}",
                    f"{missing} of {n} distinct values{sampled} are not in"
                    f" {h_table}.{h_column}, the home of {kind.value}: probably another"
                    " kind of key",
                    "check what the column holds; for the key of a parent row use owned_through",
                    WarningCode.IDENTITY_COVERAGE,
                )
            )
    places = [
        f"tables.{t}.columns.{c}" for t, table in catalog.tables.items() for c in table.columns
    ]
    return sorted(out, key=lambda w: places.index(w.location))  # in the catalog's order
