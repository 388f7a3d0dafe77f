"""Compare the catalog with the files it describes, and summarise what the exports hold."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.catalog.loader import read_catalog
from dsar.catalog.models import Catalog, Table
from dsar.catalog.shared import shared_file_problems
from dsar.catalog.strict import Loc
from dsar.engine.base import Engine, dotted, quote_identifier
from dsar.errors import CatalogError, CatalogProblem, ExportPathError, ExportReadError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TableInventory:
    """One table of the data map as it stands in the files."""

    name: str
    format: str
    files: int
    bytes: int
    rows: int
    role: str
    category: str
    identity: dict[str, str]
    secrets: tuple[str, ...]
    free_text: tuple[str, ...]


def check_against_files(catalog: Catalog, engine: Engine, deep: bool = False) -> None:
    """Raise `CatalogError` when a table's files cannot be read or its columns differ.

    A column in the files but not in the catalog is a problem too: undeclared columns are
    personal data the data map does not know about, so requests would miss them. With
    `deep`, every value of every row is read as well, so a malformed value anywhere in a
    file is found now rather than in the middle of a request.
    """
    problems = _file_problems(catalog, engine, deep, dotted)
    if problems:
        raise CatalogError(str(catalog.source or catalog.root), problems)


def check_catalog(path: str | Path, engine: Engine, deep: bool = False) -> Catalog:
    """Validate a catalog file and compare it with its files, reporting every problem at once.

    The problems of the catalog (with their lines) come first, then those of the files of
    every table that validates and whose files exist, so that one run shows everything a
    user has to fix, and two entries over one file (or copies of it) under different rules
    (`dsar.catalog.shared`). `dsar catalog check` runs this.

    Raises:
        CatalogError: carrying every problem found, of the catalog and of the files.
    """
    draft = read_catalog(path)
    problems = [
        *draft.problems,
        *_file_problems(draft.catalog, engine, deep, draft.document.where),
        *shared_file_problems(draft.catalog, _files(draft.catalog)),
    ]
    if problems:
        raise CatalogError(draft.source, problems)
    return draft.catalog


def _files(catalog: Catalog) -> dict[str, list[Path]]:
    """Each table's files, but those whose path is the catalog's own problem."""
    found: dict[str, list[Path]] = {}
    for name in catalog.tables:
        try:
            found[name] = catalog.files(name)
        except ExportPathError:
            continue
    return found


def _file_problems(
    catalog: Catalog, engine: Engine, deep: bool, where: Callable[[Loc], str]
) -> list[CatalogProblem]:
    problems: list[CatalogProblem] = []
    for name in catalog.tables:
        try:
            if not catalog.files(name):
                continue  # the catalog's own problem ("no file matches")
        except ExportPathError:
            continue  # the catalog's own problem (outside the export root, a link)
        drift: list[CatalogProblem] = []
        try:
            if name not in engine.tables:
                # registered even when its columns differ, so that --deep still reads every
                # row; the difference is reported here and the table forgotten afterwards
                drift = engine._register(catalog, name, where)
                problems += drift
            problems += _json_text_identities(engine, name, catalog.tables[name], where)
            if deep:
                engine.query(f"SELECT count(COLUMNS(*)) FROM {quote_identifier(name)}")
                problems += _parent_key_problems(engine, catalog, name, where)
        except ExportReadError as exc:
            problems.append(
                CatalogProblem(
                    f"tables.{name}",
                    f"cannot read its files: {exc.reason}",
                    f"repair or re-export {_named(exc)}, or correct the table's format or csv"
                    " options",
                )
            )
        finally:
            if drift:
                engine._forget(name)
    return problems


def _parent_key_problems(
    engine: Engine, catalog: Catalog, name: str, where: Callable[[Loc], str]
) -> list[CatalogProblem]:
    """A table other tables are `owned_through` whose key is not unique over its files
    (per-file invoice numbering): a child row of such a key has two possible owners."""
    from dsar.engine.ownership import duplicated_parent_keys

    problems = []
    for child, table in catalog.tables.items():
        own = table.owned_through
        if own is None or own.parent_table != name or name not in engine.tables:
            continue
        keys, rows = duplicated_parent_keys(engine, own)
        if keys:
            problems.append(
                CatalogProblem(
                    where(("tables", child, "owned_through")),
                    f"{name}.{own.parent_column}, the parent key of {child!r}, is not unique:"
                    f" {keys} value(s) are held by {rows} rows of {name}'s files, so a row"
                    f" of {child} with such a key has more than one possible owner (access"
                    " and erasure set those rows aside)",
                    f"make {name}.{own.parent_column} unique (a key that includes the file's"
                    " year or source), or own the rows through a column that is",
                )
            )
    return problems


JSON_TEXT_SAMPLE = 1_000  # values read per identity column for JSON written as text


def _json_text_identities(
    engine: Engine, name: str, table: Table, where: Callable[[Loc], str]
) -> list[CatalogProblem]:
    """Identity columns whose values are JSON objects or arrays written as text (a CSV
    cell, or a JSON field declared `type: string`), on a sample: a request compares the
    whole text with an identifier, never what is inside, so it would find none of them."""
    problems = []
    present = engine.columns(name)
    for column, spec in table.identity_columns().items():
        if column not in present or present[column] not in ("string", "large_string"):
            continue
        sample = engine.query(
            f"SELECT {quote_identifier(column)} AS v FROM {quote_identifier(name)}"
            f" WHERE {quote_identifier(column)} IS NOT NULL LIMIT {JSON_TEXT_SAMPLE}"
        ).column("v")
        values = [v for v in sample.to_pylist() if isinstance(v, str) and v.strip()]
        nested = sum(1 for v in values if _is_json_nested(v))
        if values and nested * 2 > len(values):
            problems.append(
                CatalogProblem(
                    where(("tables", name, "columns", column, "identity")),
                    f"identity: {spec.value} on {column!r} (table {name!r}), whose values are"
                    f" JSON objects or arrays written as text ({nested} of {len(values)}"
                    " sampled): the engines compare an identity column's whole value with a"
                    " request's identifiers, so none of them would ever match",
                    "export the field that identifies the person as a column of its own, with"
                    f" identity: {spec.value} there, and mark {column!r} with the kind of data"
                    " it holds (e.g. personal: name) instead of identity; a JSON field read"
                    " with type: string is read as a nested value without it",
                )
            )
    return problems


def _is_json_nested(text: str) -> bool:
    """Whether `text` is a JSON object or array (what a cell holds, never a plain value)."""
    text = text.strip()
    if not text or text[0] not in "[{":
        return False
    try:
        return isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


def _named(exc: ExportReadError) -> str:
    files = [Path(f).name for f in exc.files]
    return ", ".join(files[:3]) + (" ..." if len(files) > 3 else "")


def inventory(catalog: Catalog, engine: Engine) -> list[TableInventory]:
    """Per table: files, size, rows, role, category, identity, secret and free-text columns."""
    out = []
    for name, table in catalog.tables.items():
        files = catalog.files(name)
        out.append(
            TableInventory(
                name=name,
                format=table.format.value,
                files=len(files),
                bytes=sum(f.stat().st_size for f in files),
                rows=engine.count_rows(name),
                role=table.role.value,
                category=table.category.value,
                identity={c: k.value for c, k in table.identity_columns().items()},
                secrets=tuple(c for c, col in table.columns.items() if col.secret),
                free_text=tuple(c for c, col in table.columns.items() if col.free_text),
            )
        )
    return out


def inventory_frame(catalog: Catalog, engine: Engine) -> pd.DataFrame:
    """The inventory as a dataframe, one row per table, sizes in MB, for a notebook."""
    import pandas as pd

    frame = pd.DataFrame([asdict(t) for t in inventory(catalog, engine)])
    frame.insert(4, "MB", (frame.pop("bytes") / 1e6).round(2))
    frame["identity"] = frame["identity"].map(
        lambda d: ", ".join(f"{c} ({k})" for c, k in d.items())
    )
    for column in ("secrets", "free_text"):
        frame[column] = frame[column].map(", ".join)
    return frame.set_index("name")
