"""Load a catalog YAML file strictly: every problem reported at once, each with its fix.

The generic part (YAML with lines, pydantic problems translated) is `dsar.catalog.strict`;
this module adds what only a catalog needs: its files exist, its references resolve.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dsar.catalog.models import (
    Catalog,
    ColumnType,
    ErasureAction,
    IdentityKind,
    Role,
    Table,
)
from dsar.catalog.paths import resolve_files
from dsar.catalog.strict import Loc, YamlDocument, read_yaml, suggest, validate_model
from dsar.catalog.todo import dotted_field, todo_fix, todo_locations
from dsar.errors import CatalogError, ConfigError, ConfigProblem, ExportPathError
from dsar.lock import change_in_progress

_PLAIN_TABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog file.

    Every problem is collected (unknown keys, wrong values, missing files, references to
    unknown tables or columns) and raised together as one `CatalogError`.

    Examples:
        >>> catalog = load_catalog("demo-export/catalog.yml")  # doctest: +SKIP
        >>> sorted(catalog.tables)[:2]  # doctest: +SKIP
        ['accounts', 'app_end_users']
    """
    draft = read_catalog(path)
    if draft.problems:
        raise CatalogError(draft.source, draft.problems)
    return draft.catalog


@dataclass(frozen=True)
class CatalogDraft:
    """A catalog file read as far as it validates, with every problem found in it.

    Attributes:
        source: The file, as given.
        catalog: The whole catalog when it is valid; otherwise one that holds only the
            tables that validate and whose files exist (and nothing else that can be
            trusted), so that their files can still be compared with them.
        problems: Every problem, each with its line and fix; empty when valid.
        document: The YAML document, to locate further problems by line.
    """

    source: str
    catalog: Catalog
    problems: tuple[ConfigProblem, ...]
    document: YamlDocument


def read_catalog(path: str | Path) -> CatalogDraft:
    """Read a catalog file and collect its problems without raising on them.

    `load_catalog` raises them; `dsar catalog check` also compares the draft's tables with
    their files, so that one run reports the problems of both.

    Raises:
        CatalogError: the file is missing, not UTF-8, not YAML or not a mapping (nothing
            further can be checked).
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
    if (path.parent / ".workbench-erasure-journal.json").exists() and (
        running := change_in_progress(path.parent)
    ):
        problems.append(
            ConfigProblem(
                "catalog",
                f"a change to the export files is under way ({running})",
                "wait for it to finish, then run this again",
            )
        )
    elif (path.parent / ".workbench-erasure-journal.json").exists():
        problems.append(
            ConfigProblem(
                "catalog",
                "a change to the export files (an erasure, a correction or a retention sweep)"
                " was interrupted; its journal says whether it had begun replacing them",
                f"roll it back or finish it first: dsar erase recover --catalog {doc.source}",
            )
        )
    catalog, found = validate_model(doc, Catalog)
    todos = todo_locations(raw)
    problems += _todo_problems(doc, todos)
    problems += [_identity_hint(p) for p in found if not _at_todo(p, todos)]
    tables = catalog.tables if catalog is not None else _tables_that_parse(raw)
    recipients = raw.get("recipients") if isinstance(raw.get("recipients"), dict) else {}
    within = _export_root(catalog, raw, path.parent, doc, problems)
    requests = raw.get("subject_requests", True) is not False
    problems += _semantic_problems(
        tables, _declared_columns(raw), set(recipients or {}), path.parent, doc, within, requests
    )
    if catalog is None:
        root = path.parent
        present = {n: t for n, t in tables.items() if _has_files(root, n, t, within)}
        # not validated as a whole: only `tables`, `files` and `root` are meant to be used
        fields: dict[str, Any] = {"version": 1, "recipients": {}, "tables": present}
        fields |= {"export_root": within.given, "allow_symlinks": within.links}
        catalog = Catalog.model_construct(**fields)
    catalog._root = path.parent.resolve()
    catalog._source = path.resolve()
    return CatalogDraft(doc.source, catalog, tuple(problems), doc)


@dataclass(frozen=True)
class _Within:
    """Where a catalog's table files must lie: its `export_root` (as given, and resolved
    from the catalog's folder) and whether symbolic links are allowed."""

    given: str | None
    folder: Path
    links: bool


def _export_root(
    catalog: Catalog | None,
    raw: Mapping[str, Any],
    root: Path,
    doc: YamlDocument,
    problems: list[ConfigProblem],
) -> _Within:
    """The export root and link setting, from the catalog or, when it did not validate, as
    far as the file gives them; a named root that is not a folder is a problem."""
    if catalog is not None:
        given, links = catalog.export_root, catalog.allow_symlinks
    else:
        given = raw.get("export_root") if isinstance(raw.get("export_root"), str) else None
        given = None if given is not None and "\x00" in given else given  # reported already
        links = raw.get("allow_symlinks") is True
    folder = (root / given).resolve() if given is not None else root.resolve()
    if given is not None and not folder.is_dir():
        problems.append(
            doc.problem(
                ("export_root",),
                f"the export root {given!r} is not a folder (looked for {folder})",
                "name the folder that holds the table files, relative to the catalog file,"
                " e.g. export_root: ../exports; or remove export_root to use the catalog's"
                " folder",
            )
        )
    return _Within(given, folder, links)


def _files(root: Path, name: str, table: Table, within: _Within) -> list[Path]:
    return resolve_files(
        root, table.path, name, boundary=within.folder, allow_symlinks=within.links
    )


def _has_files(root: Path, name: str, table: Table, within: _Within) -> bool:
    try:
        return bool(_files(root, name, table, within))
    except ExportPathError:
        return False  # reported as the table's problem


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


def _todo_problems(doc: YamlDocument, todos: list[Loc]) -> list[ConfigProblem]:
    """A problem for every TODO a drafted catalog still holds, naming its table and field."""
    problems = []
    for loc in todos:
        table = f" of table {loc[1]!r}" if len(loc) > 2 and loc[0] == "tables" else ""
        field = dotted_field(loc[2:] if table else loc)
        problems.append(
            doc.problem(
                loc,
                f"{field}{table} is still TODO: the draft could not tell it from the files,"
                " a person must",
                todo_fix(loc),
            )
        )
    return problems


def _at_todo(problem: ConfigProblem, todos: list[Loc]) -> bool:
    """Whether a validation problem is only the consequence of a TODO left in place."""
    where = problem.location.split(" (line ")[0]
    for loc in todos:
        dotted = ".".join(str(p) for p in loc)
        parent = ".".join(str(p) for p in loc[:-1]) if isinstance(loc[-1], int) else dotted
        if where in (dotted, parent) or where.startswith(f"{parent}."):
            return True
    return False


def _identity_hint(problem: ConfigProblem) -> ConfigProblem:
    """An unknown identity kind is often the key of a thing (an invoice, an order): say so,
    rather than suggest the nearest spelling (`invoice_id` is not a `device_id`)."""
    given = problem.message.split("'")[1] if problem.message.count("'") >= 2 else ""
    if (
        ".identity (" not in problem.location
        or "is not allowed here" not in problem.message
        or not given.lower().endswith("id")
    ):
        return problem
    kinds = ", ".join(k.value for k in IdentityKind)
    return ConfigProblem(
        problem.location,
        problem.message,
        f"an identity is a person's identifier, one of: {kinds}; the key of a thing (an"
        " invoice, an order) is not: reach rows through it with the table's owned_through:"
        " {column: ..., parent: table.key}",
    )


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
    within: _Within,
    requests: bool = True,
) -> list[ConfigProblem]:
    """Cross-references and files. `declared` also names tables that failed validation, so
    a reference to them is not reported twice; `requests`: the catalog serves subject
    requests, so some column must identify a person."""
    problems: list[ConfigProblem] = []

    def add(loc: Loc, message: str, fix: str) -> None:
        problems.append(doc.problem(loc, message, fix))

    for name in declared:
        if not _PLAIN_TABLE.fullmatch(name) or ".." in name:
            add(
                ("tables", name),
                "a table name becomes a file name in bundles and extracts: it must be plain",
                "use letters, digits, '.', '_' and '-' only, starting with a letter or digit",
            )
    for name, table in tables.items():
        base: Loc = ("tables", name)
        cols = table.columns
        target = root.resolve() / table.path
        try:
            found = bool(_files(root, name, table, within))
        except ExportPathError as exc:
            add((*base, "path"), exc.problem, exc.fix)
            found = True  # not also "no file matches"
        if not found:
            if target.is_dir():
                fix = f"name the files in the folder with a glob, e.g. {table.path.rstrip('/')}/*"
            elif any(ch in table.path for ch in "*?["):
                fix = (
                    "correct the pattern (relative to the folder that holds the catalog file),"
                    " or check that the export wrote its files; hidden files and the"
                    " '.before-' originals an erasure keeps never match"
                )
            else:
                fix = "correct the path; it is relative to the folder that holds the catalog file"
            add((*base, "path"), f"no file matches {table.path!r} (looked for {target})", fix)
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
            after = table.retention.after
            _check_column(add, (*base, "retention", "after"), after, cols, "retention.after")
            kind = cols[after].type if after in cols else None
            # text is cast at run time (ISO dates stored as text are common); numbers and
            # booleans can never be a date
            if kind in (
                ColumnType.INTEGER,
                ColumnType.FLOAT,
                ColumnType.DECIMAL,
                ColumnType.BOOLEAN,
            ):
                add(
                    (*base, "retention", "after"),
                    f"retention counts from {after!r}, an {kind.value} column: it must be"
                    " a date or a timestamp",
                    "name the date column retention counts from (when the row was created,"
                    " issued, last used), or write retention: {criteria: ...} without a period",
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
    if requests and tables and not any(t.identity_columns() for t in tables.values()):
        add(
            ("tables",),
            "no column has an identity role, so no request can find anyone",
            "mark identifier columns, e.g. email: {identity: email}; or, for exports only"
            " ever de-identified or aggregated, write subject_requests: false (no made-up"
            " row id needed)",
        )
    for name, table in tables.items():
        if table.owned_through is not None:
            _ownership_problems(add, name, table, tables, set(declared))
    return problems


def _ownership_problems(
    add: typing.Callable[[Loc, str, str], None],
    name: str,
    table: Table,
    tables: Mapping[str, Table],
    declared: set[str],
) -> None:
    """An owned table: its column, its parent's key, no identity of its own, a chain that
    ends at a table with identity columns. A parent that failed validation (`declared` but
    not in `tables`) has its own problems reported already."""
    own = table.owned_through
    if own is None:
        return
    loc: Loc = ("tables", name, "owned_through")
    _check_column(add, (*loc, "column"), own.column, table.columns, "owned_through.column")
    if table.identity_columns():
        add(
            loc,
            "a table with identity columns is found through them, not through a parent",
            "remove owned_through, or the identity roles if its rows belong to the parent's"
            " owner (an order line, an attachment)",
        )
    parent = tables.get(own.parent_table)
    if parent is None and own.parent_table in declared:
        return
    if parent is None:
        add(
            (*loc, "parent"),
            f"unknown parent table {own.parent_table!r}",
            suggest(own.parent_table, set(tables), "name a table defined under 'tables:'"),
        )
        return
    if own.parent_column not in parent.columns:
        add(
            (*loc, "parent"),
            f"table {own.parent_table!r} has no column {own.parent_column!r}",
            suggest(own.parent_column, set(parent.columns), f"name a column of {own.parent_table}"),
        )
    elif parent.primary_key != (own.parent_column,):
        add(
            (*loc, "parent"),
            f"{own.parent} is not the primary key of {own.parent_table}: a row could belong to"
            " the owners of several parent rows",
            f"point at the parent's key and declare it: primary_key: [{own.parent_column}]",
        )
    if parent.role is not Role.CONTROLLER or table.role is not Role.CONTROLLER:
        add(
            loc,
            "ownership is followed between tables we hold as controller only",
            "for data held for customers, use role: processor with held_for",
        )
    seen, last = {name}, own.parent_table
    while (step := tables[last].owned_through) is not None:
        if step.parent_table in seen or step.parent_table not in tables:
            if step.parent_table in seen:
                add(loc, "the ownership chain comes back to this table", "break the circle")
            return
        seen.add(last)
        last = step.parent_table
    if not tables[last].identity_columns():
        add(
            loc,
            f"the chain of parents ends at table {last!r}, which has no identity column, so"
            " no row of it can be found",
            "give the last parent an identity column (e.g. customer_id: {identity: customer_id})",
        )


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
