"""Privacy Workbench, data-subject side: the data map, the engine, and subject rights.

Map of the package:

- `dsar.catalog`: the data map (catalog.yml): load, validate, compare with files, inventory.
- `dsar.engine`: SQL over the export files; DuckDB embedded by default.
- `dsar.identity`: identifiers, normalisation, strong and weak kinds, match rules.
- `dsar.collect`: every row of each requester, in as few passes as it takes.
- `dsar.redact`: secrets masked, other people redacted from free text.
- `dsar.access`: access and portability bundles; `dsar.report` the Art. 15 statement;
  `dsar.verify` the independent check of a bundle.
- `dsar.register`, `dsar.deadlines`, `dsar.audit`: the request register, legal deadlines,
  the hash-chained audit log.
- `dsar.erasure`, `dsar.correction`, `dsar.retention`: plan, then apply (through
  `dsar.rewrite`, which swaps files under a journal); `dsar.certificate`.
- `dsar.ledger`: the suppression ledger of keyed hashes.
- `dsar.nlp`: the offline Presidio analyzer every free-text step uses.
- `dsar.demo`: a realistic demo export with its catalog.
- `dsar.errors`: `WorkbenchError` and its typed subclasses.
- `dsar.cli`: the `dsar` command line over the same API.

Only the data map, the engine and the errors are imported here, so `import dsar` (and
`dsar --help`) stays light; import the other modules where they are needed.
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
