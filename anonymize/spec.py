"""The base every YAML spec of `anonymize` is built on: strict models, checked tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import yaml
from pydantic import BaseModel, ConfigDict

from dsar.catalog import Catalog
from dsar.catalog.strict import YamlDocument, suggest
from dsar.errors import ConfigError, ConfigProblem


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


def check_made_in_python(
    what: str, problems: Callable[[YamlDocument], Iterable[ConfigProblem]]
) -> None:
    """Check a spec made in Python as a loaded one is checked (problems are located by path,
    as there are no lines).

    Raises:
        ConfigError: every problem at once.
    """
    doc = YamlDocument(f"<{what} given in Python>", what, {}, yaml.MappingNode("", []))
    found = list(problems(doc))
    if found:
        raise ConfigError(doc.source, found, what=what)
