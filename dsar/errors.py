"""The workbench's exceptions: one root, typed subclasses that carry data and say what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class WorkbenchError(Exception):
    """Root of every error the workbench raises on purpose (bad input, missing setup).

    Messages say what went wrong and what to do. They never contain personal data:
    name tables, columns, files and counts, not the values in them.
    """


class InternalError(WorkbenchError):
    """A bug in the workbench itself, not in the user's input. Please report it."""


class MissingDependencyError(WorkbenchError):
    """An optional library is needed for this feature and is not installed."""

    def __init__(self, library: str, feature: str, extra: str) -> None:
        self.library = library
        self.feature = feature
        self.extra = extra
        super().__init__(f"{feature} needs {library}: pip install '.[{extra}]'")


@dataclass(frozen=True)
class CatalogProblem:
    """One problem found in a catalog: where it is, what is wrong, how to fix it."""

    location: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}\n    fix: {self.fix}"


class CatalogError(WorkbenchError):
    """The catalog (data map) is invalid. Carries every problem found, not just the first."""

    def __init__(self, source: str, problems: Sequence[CatalogProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{len(self.problems)} problem(s) in catalog {source}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class EngineError(WorkbenchError):
    """A query failed in the engine. Carries the SQL (never the bound values)."""

    def __init__(self, message: str, sql: str | None = None) -> None:
        self.sql = sql
        text = message if sql is None else f"{message}\n-- while running:\n{sql}"
        super().__init__(text)


class ExportReadError(EngineError):
    """An export file could not be read: names the table, the files and, when known, the line."""

    def __init__(self, table: str, files: Sequence[str], reason: str) -> None:
        self.table = table
        self.files = tuple(files)
        self.reason = reason
        shown = ", ".join(self.files[:3]) + (" ..." if len(self.files) > 3 else "")
        super().__init__(
            f"cannot read table {table!r} from {shown}: {reason}\n"
            "Check that the file is complete and matches the format and options in the catalog."
        )
