"""Privacy Workbench, data-subject side: the data map, the engine, and subject rights.

Map of the package:

- `dsar.catalog`: the data map (catalog.yml): load, validate, compare with files, inventory.
- `dsar.engine`: SQL over the export files; DuckDB embedded by default.
- `dsar.nlp`: the offline Presidio analyzer every free-text step uses.
- `dsar.demo`: a realistic demo export with its catalog.
- `dsar.errors`: `WorkbenchError` and its typed subclasses.
- `dsar.cli`: the `dsar` command line over the same API.
"""

from __future__ import annotations

from dsar.catalog import Catalog, check_against_files, inventory, load_catalog
from dsar.engine import Engine, open_engine
from dsar.errors import (
    CatalogError,
    CatalogProblem,
    EngineError,
    ExportReadError,
    InternalError,
    MissingDependencyError,
    WorkbenchError,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogProblem",
    "Engine",
    "EngineError",
    "ExportReadError",
    "InternalError",
    "MissingDependencyError",
    "WorkbenchError",
    "__version__",
    "check_against_files",
    "inventory",
    "load_catalog",
    "open_engine",
]

__version__ = "0.1.0"
