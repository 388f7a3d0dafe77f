"""The data map: which exported tables exist, what each column is, and what the law needs.

`load_catalog` validates a catalog YAML file strictly (every problem at once, each with its
fix); `catalog_json_schema` gives the JSON Schema for editors.
"""

from __future__ import annotations

import json
from typing import Any

from dsar.catalog.loader import load_catalog
from dsar.catalog.models import (
    Catalog,
    Column,
    ColumnType,
    Controller,
    DataCategory,
    Duration,
    Erasure,
    ErasureAction,
    FileFormat,
    IdentityKind,
    LegalBasis,
    Origin,
    PersonalKind,
    Recipient,
    RecipientKind,
    Retention,
    Role,
    Table,
)

__all__ = [
    "Catalog",
    "Column",
    "ColumnType",
    "Controller",
    "DataCategory",
    "Duration",
    "Erasure",
    "ErasureAction",
    "FileFormat",
    "IdentityKind",
    "LegalBasis",
    "Origin",
    "PersonalKind",
    "Recipient",
    "RecipientKind",
    "Retention",
    "Role",
    "Table",
    "catalog_json_schema",
    "load_catalog",
]


def catalog_json_schema() -> dict[str, Any]:
    """The catalog's JSON Schema (what editors use to complete and check catalog.yml)."""
    schema = Catalog.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Privacy Workbench catalog (data map)"
    plain: dict[str, Any] = json.loads(json.dumps(schema))
    return plain
