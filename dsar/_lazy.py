"""Lazy package facades (PEP 562): the public names a package's `TYPE_CHECKING` block imports,
each loaded from its module on first use, so importing the package stays light.

The block is the one list: type checkers and readers see ordinary imports, and `facade`
reads the same imports from the package's source at run time. The source comes through the
module's loader, so a zipped copy of the package (Spark's --py-files) reads it as an
installed one does.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from typing import Any


def exports(package: str) -> dict[str, str]:
    """Each public name of `package` and the module it comes from, read from its source."""
    spec = sys.modules[package].__spec__
    get_source = getattr(spec.loader if spec else None, "get_source", None)
    source = get_source(package) if get_source is not None else None
    if not isinstance(source, str):
        raise ImportError(f"{package} is installed without its source: reinstall it with pip")
    [block] = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
    ]
    return {
        alias.asname or alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def facade(
    package: str, extra: tuple[str, ...] = (), listed: list[str] | None = None
) -> tuple[dict[str, str], list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """`_EXPORTS`, `__all__`, `__getattr__` and `__dir__` for `package`'s lazy facade.

    `extra` names what the package defines itself (e.g. `__version__`), listed in `__all__`.
    `listed`: an `__all__` the package also writes out (for tools that read source, such as
    the API docs): it must name exactly the imports, else the package does not import.
    """
    where_from = exports(package)
    names = [*extra, *sorted(where_from)]
    if listed is not None:
        if sorted(listed) != sorted(names):
            differ = sorted(set(listed) ^ set(names))
            raise ImportError(f"{package}.__all__ and its imports differ: {', '.join(differ)}")
        names = list(listed)
    namespace = vars(sys.modules[package])

    def getattr_(name: str) -> Any:
        where = where_from.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return names

    return where_from, names, getattr_, dir_
