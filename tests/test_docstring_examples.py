"""Every `>>>` example in the workbench's docstrings runs and gives what it shows.

An example is a claim about the code (normalize's own read 'Ann <mailto:ann@...>' as Ann's
address while the function gave 'mailto:ann@...'); nothing else ran them.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import anonymize
import dsar

MODULES = sorted(
    m.name
    for package in (dsar, anonymize)
    for m in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    if not m.name.endswith("__main__")  # runs the command line when imported
)


def _with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    found = []
    for name in MODULES:
        if any(t.examples for t in finder.find(importlib.import_module(name))):
            found.append(name)
    return found


WITH_EXAMPLES = _with_examples()


def test_the_docstrings_hold_examples() -> None:
    assert len(WITH_EXAMPLES) >= 5, WITH_EXAMPLES  # the finder is not finding nothing


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_the_examples_of(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail (run doctest)"
