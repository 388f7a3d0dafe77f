"""Engines run SQL over the export files: DuckDB by default (embedded), Spark for clusters.

`open_engine(catalog)` gives a ready engine with every catalog table registered, once the
files match the catalog (every column described, every file readable as it says);
`check_against_files` compares the catalog with the files, `check_catalog` validates a
catalog file and compares it with its files in one run, `inventory` summarises them.
`guard_catalog` refuses a catalog that can give one person's rows to another (`guards`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsar.engine.base import Engine, quote_identifier
from dsar.engine.guards import (
    CatalogWarning,
    CollisionProneCatalogError,
    catalog_warnings,
    guard_catalog,
)
from dsar.engine.inventory import (
    TableInventory,
    check_against_files,
    check_catalog,
    inventory,
    inventory_frame,
)
from dsar.errors import UsageError

if TYPE_CHECKING:
    from dsar.catalog.models import Catalog

__all__ = [
    "ENGINES",
    "CatalogWarning",
    "CollisionProneCatalogError",
    "Engine",
    "TableInventory",
    "catalog_warnings",
    "check_against_files",
    "check_catalog",
    "guard_catalog",
    "inventory",
    "inventory_frame",
    "open_engine",
    "quote_identifier",
    "scratch_connection",
]

ENGINES = ("duckdb", "spark")
"""The engine kinds `open_engine` accepts."""


def scratch_connection(*, memory_limit: str | None = None, spill: Path | None = None) -> Any:
    """A DuckDB connection for data already read (see `dsar.engine.duckdb.scratch_connection`):
    the one way code outside the engines opens a database connection."""
    from dsar.engine.duckdb import scratch_connection as connect

    return connect(memory_limit=memory_limit, spill=spill)


def open_engine(catalog: Catalog | None = None, kind: str = "duckdb", **options: Any) -> Engine:
    """Create an engine and register every table of `catalog` (when given).

    Examples:
        >>> from dsar import load_catalog, open_engine
        >>> with open_engine(load_catalog("demo-export/catalog.yml")) as engine:  # doctest: +SKIP
        ...     engine.count_rows("accounts")
        1000
    """
    if kind == "duckdb":
        from dsar.engine.duckdb import DuckDBEngine

        engine: Engine = DuckDBEngine(**options)
    elif kind == "spark":
        from dsar.engine.spark import SparkEngine

        engine = SparkEngine(**options)
    else:
        raise UsageError(
            "engine", f"unknown engine {kind!r}", f"choose one of: {', '.join(ENGINES)}"
        )
    if catalog is not None:
        try:
            engine.hold_export(catalog)
            engine.register_catalog(catalog)
        except BaseException:
            engine.close()
            raise
    return engine
