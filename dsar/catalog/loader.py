"""Load a catalog YAML file strictly: every problem reported at once, each with its fix."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from dsar.catalog.models import Catalog, ErasureAction, Role, Table, resolve_files
from dsar.errors import CatalogError, CatalogProblem

Loc = tuple[str | int, ...]


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog file.

    Every problem is collected (unknown keys, wrong values, missing files, references to
    unknown tables or columns) and raised together as one `CatalogError`.

    Example:
        >>> catalog = load_catalog("demo-export/catalog.yml")  # doctest: +SKIP
        >>> sorted(catalog.tables)[:2]  # doctest: +SKIP
        ['accounts', 'app_end_users']
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise CatalogError(
            source,
            [
                CatalogProblem(
                    "catalog",
                    f"file {source} does not exist",
                    "pass the path of your catalog.yml; `dsar demo --out DIR` writes an example",
                )
            ],
        )
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "catalog"
        raise CatalogError(
            source,
            [
                CatalogProblem(
                    where,
                    f"not valid YAML: {getattr(exc, 'problem', exc)}",
                    "fix the YAML syntax (indentation, a missing ':' or quote)",
                )
            ],
        ) from None
    if not isinstance(raw, dict):
        raise CatalogError(
            source,
            [
                CatalogProblem(
                    "catalog",
                    "the file is not a YAML mapping",
                    "start with 'version: 1', then 'controller:' and 'tables:'",
                )
            ],
        )
    problems: list[CatalogProblem] = []
    if (path.parent / ".workbench-erasure-journal.json").exists():
        problems.append(
            CatalogProblem(
                "catalog",
                "an erasure was interrupted while it replaced the export files",
                f"finish it first: dsar erase --catalog {source} --recover",
            )
        )
    catalog: Catalog | None = None
    try:
        catalog = Catalog.model_validate(raw)
    except ValidationError as exc:
        problems += [_from_pydantic(err, node) for err in exc.errors()]
    tables = catalog.tables if catalog is not None else _tables_that_parse(raw)
    recipients = raw.get("recipients") if isinstance(raw.get("recipients"), dict) else {}
    problems += _semantic_problems(
        tables, _declared_columns(raw), set(recipients or {}), path.parent, node
    )
    if problems or catalog is None:
        raise CatalogError(source, problems)
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
    node: yaml.Node | None,
) -> list[CatalogProblem]:
    """Cross-references and files. `declared` also names tables that failed validation, so
    a reference to them is not reported twice."""
    problems: list[CatalogProblem] = []

    def add(loc: Loc, message: str, fix: str) -> None:
        problems.append(CatalogProblem(_where(loc, node), message, fix))

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
                    _suggest(rid, recipient_ids, "define it under the top-level 'recipients:'"),
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
                        _suggest(ref_table, set(declared), "name a table defined under 'tables:'"),
                    )
                elif ref_table in tables and ref_col not in tables[ref_table].columns:
                    add(
                        (*cloc, "references"),
                        f"references unknown column {ref_col!r} of table {ref_table!r}",
                        _suggest(
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
            _suggest(name, set(columns), "name a column listed under this table's 'columns:'"),
        )


def _suggest(value: str, choices: Iterable[str], otherwise: str) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else otherwise


def _from_pydantic(err: Any, node: yaml.Node | None) -> CatalogProblem:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    where = _where(loc, node)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model is not None else []
        fix = _suggest(key, allowed, "remove it")
        if allowed:
            fix += f" (allowed keys: {', '.join(allowed)})"
        return CatalogProblem(where, f"unknown key {key!r}", fix)
    if kind == "missing":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        field = model.model_fields.get(key) if model is not None else None
        hint = f" ({field.description.rstrip('.')})" if field and field.description else ""
        choices = _choices(field.annotation) if field is not None else []
        example = f", one of: {', '.join(choices)}" if choices else ""
        return CatalogProblem(
            where, f"missing required key {key!r}", f"add '{key}:'{hint}{example}"
        )
    if kind in ("enum", "literal_error"):
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip(" '\"") for o in expected.replace(" or ", ",").split(",")]
        options = [o for o in options if o]
        given = str(err.get("input"))
        close = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
        listed = ", ".join(options)
        fix = f"did you mean {close[0]!r}? (one of: {listed})" if close else f"use one of: {listed}"
        return CatalogProblem(where, f"{given!r} is not allowed here", fix)
    if kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
        text, _, fix = message.partition("; ")
        return CatalogProblem(where, text, fix or "correct the value")
    model = _model_at(loc[:-1])
    field = model.model_fields.get(str(loc[-1])) if model is not None and loc else None
    expected = field.description if field is not None and field.description else "a valid value"
    return CatalogProblem(where, str(err["msg"]), f"expected {expected}")


def _choices(tp: Any) -> list[str]:
    """The allowed values of an enum or literal field, for messages."""
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [str(m.value) for m in tp]
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated so we can walk from a model to its nested models."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that sits at `loc` inside a Catalog, if there is one."""
    tp: Any = Catalog
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is tuple:
            tp = typing.get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _where(loc: Loc, node: yaml.Node | None) -> str:
    dotted = ".".join(str(p) for p in loc) or "catalog"
    line = _line_of(loc, node)
    return f"{dotted} (line {line})" if line is not None else dotted


def _line_of(loc: Loc, node: yaml.Node | None) -> int | None:
    """The 1-based line of the deepest YAML node on the path `loc`."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if str(key.value) == str(part):
                    line, found = key.start_mark.line + 1, value
                    break
            if found is None:
                return line
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
