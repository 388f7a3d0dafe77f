"""The base every YAML spec of `anonymize` is built on: strict models, checked tables, and
`checked_spec`, the one prologue of every job (extract, aggregate, audience)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict

from dsar.catalog import Catalog, load_yaml_model
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


S = TypeVar("S", bound=Strict)
Problems = Callable[[S, Catalog, YamlDocument], Iterable[ConfigProblem]]
"""A spec kind's checks against the catalog: each problem made with `doc.problem`."""


def checked_spec(
    spec: S | str | os.PathLike[str],
    model: type[S],
    catalog: Catalog,
    problems: Problems[S],
    *,
    what: str,
) -> tuple[S, Path | None]:
    """The prologue every job of `anonymize` starts with: its spec, read from a YAML file and
    validated, or given already made in Python, then checked against the catalog (every
    table and column it names) the same way in both cases.

    Args:
        spec: the spec, or the path of its YAML file.
        model: the spec's model (`Policy`, `AggregateRun`, `AudienceSpec`).
        catalog: the catalog the spec is checked against (the engine's).
        problems: the spec kind's checks against the catalog.
        what: the kind of spec, as messages name it ("policy").

    Returns:
        The spec, and the file it was read from (None: it was made in Python).

    Raises:
        ConfigError: every problem at once (in a file, with its line; in a spec made in
            Python, located by path), never a KeyError on an unknown table or column.
    """
    if isinstance(spec, model):  # made in Python: problems located by path (no lines)
        doc = YamlDocument(f"<{what} given in Python>", what, {}, yaml.MappingNode("", []))
        found = list(problems(spec, catalog, doc))
        if found:
            raise ConfigError(doc.source, found, what=what)
        return spec, None
    if not isinstance(spec, str | os.PathLike):
        raise TypeError(
            f"a {what} is a {model.__name__} or the path of its YAML file,"
            f" not {type(spec).__name__}"
        )
    path = Path(spec)
    loaded = load_yaml_model(
        path, model, what=what, checks=lambda s, doc: list(problems(s, catalog, doc))
    )
    return loaded, path
