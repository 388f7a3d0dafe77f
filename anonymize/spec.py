"""The base every YAML spec of `anonymize` is built on: strict models, checked tables."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from dsar.catalog import Catalog
from dsar.catalog.strict import YamlDocument, suggest
from dsar.errors import ConfigProblem


class Strict(BaseModel):
    """The base of every spec model here: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def unknown_table(catalog: Catalog, name: str, doc: YamlDocument) -> ConfigProblem | None:
    """The problem of a spec naming a table the catalog does not have (None: it has it)."""
    if name in catalog.tables:
        return None
    return doc.problem(
        ("table",),
        f"no table {name!r} in the catalog",
        suggest(name, catalog.tables, "name a table of the catalog"),
    )
