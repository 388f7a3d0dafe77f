"""Load a catalog YAML file strictly: every problem reported at once, each with its fix.

The generic part (YAML with lines, pydantic problems translated) is `dsar.catalog.strict`;
this module adds what only a catalog needs: its files exist, its references resolve.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dsar.catalog.models import Catalog, ErasureAction, Role, Table, resolve_files
from dsar.catalog.strict import Loc, YamlDocument, read_yaml, suggest, validate_model
from dsar.errors import CatalogError, ConfigError, ConfigProblem


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog file.

    Every problem is collected (unknown keys, wrong values, missing files, references to
    unknown tables or columns) and raised together as one `CatalogError`.

    Examples:
        >>> catalog = load_catalog("demo-export/catalog.yml")  # doctest: +SKIP
        >>> sorted(catalog.tables)[:2]  # doctest: +SKIP
        ['accounts', 'app_end_users']
    """
    path = Path(path)
    try:
        doc = read_yaml(
            path,
            what="catalog",
            missing_fix=(
                "pass the path of your catalog.yml; `dsar demo --out DIR` writes an example"
            ),
            shape_fix="start with 'version: 1', then 'controller:' and 'tables:'",
        )
    except ConfigError as exc:
        raise CatalogError(exc.source, exc.problems) from None
    raw = doc.data
    problems: list[ConfigProblem] = []
    if (path.parent / ".workbench-erasure-journal.json").exists():
        problems.append(
            ConfigProblem(
                "catalog",
                "an erasure was interrupted while it replaced the export files",
                f"finish it first: dsar erase recover --catalog {doc.source}",
            )
        )
    catalog, found = validate_model(doc, Catalog)
    problems += found
    tables = catalog.tables if catalog is not None else _tables_that_parse(raw)
    recipients = raw.get("recipients") if isinstance(raw.get("recipients"), dict) else {}
    problems += _semantic_problems(
        tables, _declared_columns(raw), set(recipients or {}), path.parent, doc
    )
    if problems or catalog is None:
        raise CatalogError(doc.source, problems)
    catalog._root = path.parent.resolve()
    catalog._source = path.resolve()
    return catalog


def _tables_that_parse(raw: Mapping[str, Any]) -> dict[str, Table]:
    tables = raw.get("tables")
    if not isinstance(tables, dict):
        return {}
    parsed: dict[str, Table] = {}
    for name, body in tables.items():
        try:
            parsed[str(name)] = Table.model_validate(body)
        except ValidationError:
            continue  # its problems are already reported
    return parsed


def _declared_columns(raw: Mapping[str, Any]) -> dict[str, set[str]]:
    """Table name -> column names as written, including tables that failed validation."""
    tables = raw.get("tables")
    if not isinstance(tables, dict):
        return {}
    out: dict[str, set[str]] = {}
    for name, body in tables.items():
        columns = body.get("columns") if isinstance(body, dict) else None
        out[str(name)] = set(map(str, columns)) if isinstance(columns, dict) else set()
    return out


def _semantic_problems(
    tables: Mapping[str, Table],
    declared: Mapping[str, set[str]],
    recipient_ids: set[str],
    root: Path,
    doc: YamlDocument,
) -> list[ConfigProblem]:
    """Cross-references and files. `declared` also names tables that failed validation, so
    a reference to them is not reported twice."""
    problems: list[ConfigProblem] = []

    def add(loc: Loc, message: str, fix: str) -> None:
        problems.append(doc.problem(loc, message, fix))

    for name, table in tables.items():
        base: Loc = ("tables", name)
        cols = table.columns
        target = root.resolve() / table.path
        if not resolve_files(root, table.path):
            add(
                (*base, "path"),
                f"no file matches {table.path!r} (looked for {target})",
                "correct the path; it is relative to the folder that holds the catalog file",
            )
        for rid in table.recipients:
            if rid not in recipient_ids:
                add(
                    (*base, "recipients"),
                    f"unknown recipient {rid!r}",
                    suggest(rid, recipient_ids, "define it under the top-level 'recipients:'"),
                )
        for key in table.primary_key:
            _check_column(add, (*base, "primary_key"), key, cols, "primary_key")
        if table.retention.after is not None:
            _check_column(
                add, (*base, "retention", "after"), table.retention.after, cols, "retention.after"
            )
        for erased in table.erasure.columns:
            _check_column(add, (*base, "erasure", "columns"), erased, cols, "erasure.columns")
        if table.role is Role.PROCESSOR:
            if table.held_for is None:
                add(
                    (*base, "role"),
                    "a processor table must say whom it is held for",
                    "add held_for: <the column naming the customer>, e.g. held_for: customer_id",
                )
            else:
                _check_column(add, (*base, "held_for"), table.held_for, cols, "held_for")
        if table.erasure.action is ErasureAction.RETAIN and table.retention.after is None:
            add(
                (*base, "erasure"),
                "erasure 'retain' needs a retention column to count from",
                "add retention: {period: 10 years, after: <date column>}",
            )
        for cname, col in cols.items():
            cloc = (*base, "columns", cname)
            if col.secret and col.identity is not None:
                add(
                    cloc,
                    "a secret column cannot be an identity column",
                    "remove 'identity' (secrets are never used to find a person) or 'secret'",
                )
            if col.references is not None:
                ref_table, ref_col = col.references.split(".")
                if ref_table not in declared:
                    add(
                        (*cloc, "references"),
                        f"references unknown table {ref_table!r}",
                        suggest(ref_table, set(declared), "name a table defined under 'tables:'"),
                    )
                elif ref_table in tables and ref_col not in tables[ref_table].columns:
                    add(
                        (*cloc, "references"),
                        f"references unknown column {ref_col!r} of table {ref_table!r}",
                        suggest(
                            ref_col, set(tables[ref_table].columns), f"name a column of {ref_table}"
                        ),
                    )
    if tables and not any(t.identity_columns() for t in tables.values()):
        add(
            ("tables",),
            "no column has an identity role, so no request can find anyone",
            "mark identifier columns, e.g. email: {identity: email}",
        )
    return problems


def _check_column(
    add: typing.Callable[[Loc, str, str], None],
    loc: Loc,
    name: str,
    columns: Mapping[str, object],
    what: str,
) -> None:
    if name not in columns:
        add(
            loc,
            f"{what} names unknown column {name!r}",
            suggest(name, set(columns), "name a column listed under this table's 'columns:'"),
        )
