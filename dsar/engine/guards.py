"""Warnings for catalogs that validate but would leak: the tempting shortcuts.

A catalog can be valid and still hand one person's rows to another. Seen on a real shop
schema: invoice lines declared `identity: customer_id` through their invoice id (invoice 1
and customer 1 are both "1"), invoice ids declared `user_id` (invoice 1 collided with staff
member 1). `dsar catalog check` prints these warnings with their fix; they do not fail it,
since a company may have good reasons, but they are never silent.
"""

from __future__ import annotations

from collections import defaultdict

from dsar.catalog.models import Catalog, ErasureAction, IdentityKind, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import CatalogProblem

COVERAGE = 0.5  # most values absent from their kind's home: probably another kind of id


def catalog_warnings(catalog: Catalog, engine: Engine | None = None) -> list[CatalogProblem]:
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


def _homes(catalog: Catalog) -> list[CatalogProblem]:
    """Kinds with two homes: two tables whose keys are that kind, so their values collide."""
    homes = {k: [f"{t}.{c}" for t, c in v] for k, v in _home_columns(catalog).items()}
    return [
        CatalogProblem(
            f"identity {kind.value}",
            f"{' and '.join(places)} are both the key of their table and both {kind.value}:"
            " their values can collide (row 1 of one table is not person 1 of the other)",
            "give each kind of key its own identity kind, or no identity role for keys of"
            " things (invoices, orders): reach their rows with owned_through",
        )
        for kind, places in homes.items()
        if len(places) > 1
    ]


def _references(catalog: Catalog) -> list[CatalogProblem]:
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
            what = f"a {ref.identity.value}" if ref.identity else "not an identity column"
            out.append(
                CatalogProblem(
                    f"tables.{name}.columns.{column}",
                    f"declared {spec.identity.value} but references {spec.references}, which is"
                    f" {what}: its values are another kind of key and can collide",
                    "if the rows belong to the owner of that row, remove the identity role and"
                    f" write owned_through: {{column: {column}, parent: {spec.references}}}",
                )
            )
    return out


def _unreached(catalog: Catalog) -> list[CatalogProblem]:
    """Tables no request can reach: no identity column and no owner."""
    return [
        CatalogProblem(
            f"tables.{name}",
            "no identity column and no owned_through: no request ever searches it, so its"
            " rows never reach a bundle or an erasure",
            "if its rows belong to someone, add owned_through: {column: ..., parent:"
            " table.key}; if it holds no personal data (a product list), say personal: false",
        )
        for name, table in catalog.tables.items()
        if table.role is Role.CONTROLLER
        and table.personal
        and not table.identity_columns()
        and table.owned_through is None
    ]


def _erased_under_retained_parent(catalog: Catalog) -> list[CatalogProblem]:
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
        out.append(CatalogProblem(f"tables.{name}.erasure", message, fix))
    return out


def _coverage(catalog: Catalog, engine: Engine) -> list[CatalogProblem]:
    """Identity columns whose values are mostly absent from their kind's home column."""
    homes = {kind: places[0] for kind, places in _home_columns(catalog).items()}
    out = []
    for name, table in catalog.tables.items():
        for column, kind in table.identity_columns().items():
            home = homes.get(kind)
            if home is None or home == (name, column) or name not in engine.tables:
                continue
            h_table, h_column = home
            if h_table not in engine.tables:
                continue
            value = f"CAST({quote_identifier(column)} AS VARCHAR)"
            homed = f"CAST({quote_identifier(h_column)} AS VARCHAR)"
            row = engine.query(
                f"SELECT count(*) AS n, count(*) FILTER (WHERE v NOT IN (SELECT {homed} FROM"
                f" {quote_identifier(h_table)} WHERE {homed} IS NOT NULL)) AS missing FROM"
                f" (SELECT DISTINCT {value} AS v FROM {quote_identifier(name)}"
                f" WHERE {value} IS NOT NULL)"
            ).to_pylist()[0]
            if row["n"] and row["missing"] / row["n"] > COVERAGE:
                out.append(
                    CatalogProblem(
                        f"tables.{name}.columns.{column}",
                        f"{row['missing']} of {row['n']} distinct values are not in"
                        f" {h_table}.{h_column}, the home of {kind.value}: probably another"
                        " kind of key",
                        "check what the column holds; for the key of a parent row use"
                        " owned_through",
                    )
                )
    return out
