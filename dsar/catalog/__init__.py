"""The data map: which exported tables exist, what each column is, and what the law needs.

`load_catalog` validates a catalog YAML file strictly (every problem at once, each with its
fix); `catalog_json_schema` gives the JSON Schema for editors.

The strict loader works for any pydantic model (`dsar.catalog.strict`): `load_yaml_model`
in one call, or `read_yaml`, `validate_model` and `YamlDocument.problem` for a loader that
adds checks of its own with line numbers; `suggest` makes a did-you-mean fix.
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
from dsar.catalog.strict import (
    YamlDocument,
    load_yaml_model,
    read_yaml,
    suggest,
    validate_model,
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
    "YamlDocument",
    "catalog_json_schema",
    "load_catalog",
    "load_yaml_model",
    "read_yaml",
    "suggest",
    "validate_model",
]


def catalog_json_schema() -> dict[str, Any]:
    """The catalog's JSON Schema (what editors use to complete and check catalog.yml)."""
    schema = Catalog.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Privacy Workbench catalog (data map)"
    plain: dict[str, Any] = json.loads(json.dumps(schema))
    return plain
