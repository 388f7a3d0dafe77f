"""Compare the catalog with the files it describes, and summarise what the exports hold."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from dsar.catalog.models import Catalog
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import CatalogError, CatalogProblem, ExportReadError

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
    problems: list[CatalogProblem] = []
    for name, table in catalog.tables.items():
        loc = f"tables.{name}"
        try:
            if name not in engine.tables:
                engine.register_table(catalog, name)
            actual = engine.columns(name)
            if deep:
                engine.query(f"SELECT count(COLUMNS(*)) FROM {quote_identifier(name)}")
        except ExportReadError as exc:
            problems.append(
                CatalogProblem(
                    loc,
                    f"cannot read its files: {exc.reason}",
                    "repair or re-export the file, or fix format/csv",
                )
            )
            continue
        for column in table.columns:
            if column not in actual:
                problems.append(
                    CatalogProblem(
                        f"{loc}.columns.{column}",
                        "declared in the catalog but not in the file",
                        f"correct the name; the file has: {', '.join(actual)}",
                    )
                )
        for column in actual:
            if column not in table.columns:
                problems.append(
                    CatalogProblem(
                        f"{loc}.columns",
                        f"the file has column {column!r} that the catalog lacks",
                        f"describe it: add '{column}: {{}}' under columns, with its identity,"
                        " category or secret flag",
                    )
                )
    if problems:
        raise CatalogError(str(catalog.root), problems)


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
