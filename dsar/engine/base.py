"""The engine interface every backend implements; shared work lives in final template methods."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self, final

import pyarrow as pa

from dsar.catalog.models import Catalog, Table
from dsar.catalog.nested import nested_column_problems
from dsar.catalog.strict import Loc
from dsar.engine.files import check_files
from dsar.errors import (
    CatalogError,
    CatalogProblem,
    DiskFullError,
    EngineError,
    ExportPathError,
    ExportReadError,
    WorkbenchError,
    is_disk_full,
)

Params = Sequence[object]

# Backend messages can quote a row of the export; keep what locates the problem, drop values.
_QUOTED = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")
_ORIGINAL_LINE = re.compile(r"^\s*Original Line:.*$", re.MULTILINE)


def quote_identifier(name: str) -> str:
    """Quote a table or column name for SQL (names come from the validated catalog)."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A SQL string literal (file paths, fixed words): single quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


INLINE_VALUES = 64  # up to this many values, an IN list of parameters; beyond, a semi-join


def sql_in(expr: str, values: Sequence[object], params: list[object]) -> str:
    """`expr IN (...)` over `values`, appending the bound parameters to `params`.

    A short list of parameters is compared inside the scan, several times faster than a
    semi-join on `unnest` of one list parameter (measured: 0.09 s against 0.23 s over 1.2 M
    Parquet rows); a long list (a batch of requests) is joined, which DuckDB does by hashing.
    """
    if len(values) <= INLINE_VALUES:
        params.extend(values)
        return f"{expr} IN ({', '.join('?' * len(values))})"
    params.append(list(values))
    return f"{expr} IN (SELECT unnest(CAST(? AS VARCHAR[])))"


def scrub_message(message: str, keep: Sequence[str] = ()) -> str:
    """Remove quoted values and copied lines from a backend error, keeping file paths.

    A reader's error can quote the offending value or line, which may be personal data;
    what the user needs is the file, the line number and the kind of problem.
    """
    text = _ORIGINAL_LINE.sub("", message)
    keep_set = set(keep)

    def repl(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        return match.group(0) if inner in keep_set else "<value>"

    return _QUOTED.sub(repl, text)


def dotted(loc: Loc) -> str:
    """A catalog location as messages show it when the file's lines are not known."""
    return ".".join(str(p) for p in loc)


def column_problems(
    name: str,
    table: Table,
    actual: Sequence[str],
    shown: Callable[[str | None], str],
    where: Callable[[Loc], str] = dotted,
) -> list[CatalogProblem]:
    """Where a table's files and its catalog entry disagree on the columns.

    A column in the files that the catalog does not describe is personal data the data map
    does not know about (requests would miss it, erasure would leave it in place); a
    described column the files lack names nothing. `shown(column)` names the files that
    have a column (`shown(None)`: the table's files); `where` locates a catalog path, with
    its line when the caller has the YAML document.
    """
    problems = [
        CatalogProblem(
            where(("tables", name, "columns", column)),
            f"declared in the catalog but not in the file ({shown(None)})",
            f"correct the name; the file has: {', '.join(actual)}",
        )
        for column in table.columns
        if column not in actual
    ]
    problems += [
        CatalogProblem(
            where(("tables", name, "columns")),
            f"the file has column {column!r} that the catalog lacks ({shown(column)})",
            f"describe it: add '{column}: {{}}' under columns, with its identity, category or"
            " secret flag; no request or erasure runs on the table until every column is"
            " described",
        )
        for column in actual
        if column not in table.columns
    ]
    return problems


class Engine(ABC):
    """Run SQL over a catalog's export files.

    Backends implement the small methods below; registration, error wrapping and row counting
    are shared here. Subject identifiers reach SQL only as bound parameters (`?`); table
    and column names only from the validated catalog, quoted with `quote_identifier`.
    """

    name: ClassVar[str]
    distributes: ClassVar[bool] = False
    """Whether `map_batches` runs its function on other processes or machines."""

    def __init__(self) -> None:
        self._files: dict[str, list[Path]] = {}
        self._tables: dict[str, Table] = {}
        self._catalog: Catalog | None = None
        self.backend_errors: tuple[type[Exception], ...] = ()

    # ---- what a backend implements -------------------------------------------------------

    @abstractmethod
    def _create_view(self, name: str, files: Sequence[Path], table: Table) -> None:
        """Make `name` queryable over `files`, read in place."""

    @abstractmethod
    def _drop_view(self, name: str) -> None:
        """Forget the view `_create_view` made (its columns disagree with the catalog)."""

    def _files_with_column(self, name: str, column: str) -> list[Path]:
        """The files of a registered table that have `column` (by default: all of them)."""
        return list(self._files[name])

    @abstractmethod
    def _arrow(self, sql: str, params: Params) -> pa.Table:
        """Run a query and return all rows as Arrow."""

    @abstractmethod
    def _batches(self, sql: str, params: Params, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Run a query and yield Arrow record batches."""

    @abstractmethod
    def _locate_read_error(self, exc: Exception, table: Table, files: Sequence[Path]) -> str:
        """Explain a read failure briefly, with the file and line when known, without values."""

    @abstractmethod
    def _file_select(self, name: str, path: Path) -> str:
        """A parenthesised SELECT over one file of a registered table, same schema."""

    def _write_source(self, name: str, path: Path) -> str:
        """The relation `write_file` gives a rewrite as `{source}`: by default the file read
        with the table's schema; a backend may add columns its `_write` uses and drops."""
        return self._file_select(name, path)

    @abstractmethod
    def _write(self, name: str, sql: str, params: Params, source: Path, target: Path) -> None:
        """Write a query's rows to `target` in table `name`'s format and options, in the
        layout of `source` (the file the rows come from) where the format leaves a choice."""

    @abstractmethod
    def close(self) -> None:
        """Release the backend's resources (and the export, when `hold_export` took it)."""
        held = self.__dict__.pop("_held", None)
        if held is not None:
            held.close()

    def hold_export(self, catalog: Catalog) -> None:
        """Take a shared lock on the catalog's export for as long as the engine is open, so
        that no change swaps files under its reads (`dsar.lock`); a catalog built in code
        with no folder is not locked."""
        from contextlib import ExitStack

        from dsar.lock import export_lock

        try:
            root = catalog.root
        except WorkbenchError:
            return
        held = ExitStack()
        held.enter_context(export_lock(root, exclusive=False, holder="a reader"))
        self.__dict__["_held"] = held

    # ---- what the identity index needs (DuckDB only for now) -----------------------------

    def reader_state(self, name: str) -> dict[str, object] | None:
        """How a table's files are read (the sniffed schema), to keep and give back to
        the engine later instead of sniffing again; None: nothing worth keeping."""
        return None

    def file_relation(self, name: str, path: Path, *, row_numbers: bool = False) -> str:
        """A relation over one file of a table, in file order (`__row`: Parquet row numbers)."""
        raise EngineError(f"the identity index is built with the DuckDB engine, not {self.name}")

    def files_relation(self, name: str, files: Sequence[Path]) -> str:
        """A relation over some files of a table (or copies of some of their records)."""
        raise EngineError(f"the identity index is used by the DuckDB engine, not {self.name}")

    # ---- shared work ---------------------------------------------------------------------

    @final
    def register_catalog(self, catalog: Catalog) -> None:
        """Register every table of the catalog under its name.

        Raises:
            ExportReadError: a table's files cannot be read (the first such table).
            CatalogError: the columns of the files and the catalog differ, for every table
                where they do; no table with such a difference is registered.
        """
        problems: list[CatalogProblem] = []
        for name in catalog.tables:
            try:
                self.register_table(catalog, name)
            except CatalogError as exc:
                problems += exc.problems
        if problems:
            raise CatalogError(_catalog_source(catalog), problems)
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        """The catalog whose tables the engine reads (`open_engine(catalog, ...)` registered
        it), so that a job given the engine reads the data map from it, never from a second
        argument that could name another export.

        Raises:
            EngineError: the engine was opened without a catalog.
        """
        if self._catalog is None:
            raise EngineError(
                "this engine was opened without a catalog: open it with"
                " open_engine(catalog, ...) to run a job on the catalog's tables"
            )
        return self._catalog

    @final
    def register_table(self, catalog: Catalog, name: str) -> None:
        """Register one catalog table under its name, once its files match the catalog.

        Raises:
            ExportReadError: the files cannot be read as the catalog says (naming the file,
                the line where known, and the fix).
            CatalogError: the files have a column the catalog does not describe, or lack
                one it does; nothing may run on such a table.
        """
        problems = self._register(catalog, name)
        if problems:
            self._forget(name)
            raise CatalogError(_catalog_source(catalog), problems)

    def _register(
        self, catalog: Catalog, name: str, where: Callable[[Loc], str] = dotted
    ) -> list[CatalogProblem]:
        """Register a table's view and return how its columns differ from the catalog's.

        The view stays registered even when they differ, for `check_against_files`, which
        reports the difference together with every other problem and then forgets it.
        """
        files = catalog.files(name)
        table = catalog.tables[name]
        if not files:
            raise ExportPathError(
                name,
                f"no file matches {table.path!r} under {catalog.root}",
                "run `dsar catalog check` on the catalog",
            )
        check_files(name, table, files)
        try:
            self._create_view(name, files, table)
        except self.backend_errors as exc:
            reason = self._locate_read_error(exc, table, files)
            raise ExportReadError(name, [str(f) for f in files], reason) from None
        self._files[name] = files
        self._tables[name] = table
        try:
            schema = self.query(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").schema
        except BaseException:
            self._forget(name)
            raise
        actual = list(schema.names)
        return [
            *column_problems(name, table, actual, lambda c: self._shown(name, c), where),
            *nested_column_problems(name, table, _nested(schema), where),
        ]

    def _shown(self, name: str, column: str | None) -> str:
        """The file(s) of a registered table as messages name them: its catalog path, and
        for a column of a multi-file table, how many files have it and the first."""
        path, files = self._tables[name].path, self._files[name]
        if column is None or len(files) == 1:
            return path
        having = self._files_with_column(name, column) or files
        return f"{path}: {len(having)} of {len(files)} files, first {having[0].name}"

    def _forget(self, name: str) -> None:
        self._drop_view(name)
        self._files.pop(name, None)
        self._tables.pop(name, None)

    @property
    def tables(self) -> list[str]:
        """Names of the registered tables."""
        return list(self._files)

    def files(self, table: str) -> list[Path]:
        """The files a registered table reads."""
        return list(self._files[table])

    @final
    def query(self, sql: str, params: Params = ()) -> pa.Table:
        """Run SQL with bound parameters and return an Arrow table."""
        try:
            return self._arrow(sql, params)
        except self.backend_errors as exc:
            raise self._wrap(exc, sql) from None

    @final
    def stream(
        self, sql: str, params: Params = (), batch_size: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        """Run SQL with bound parameters and yield Arrow record batches (out of core)."""
        try:
            yield from self._batches(sql, params, batch_size)
        except self.backend_errors as exc:
            raise self._wrap(exc, sql) from None

    def map_batches(
        self,
        sql: str,
        params: Params,
        fn: Callable[[pa.RecordBatch], pa.RecordBatch],
        schema: pa.Schema,
        batch_size: int = 65_536,
    ) -> Iterator[pa.RecordBatch]:
        """`fn` applied to every batch of a query's answer, each batch once, in order.

        `fn` must not depend on the batches before it (a backend may run it on many
        machines at once: Spark's `mapInArrow`) and must return batches of `schema`. Here,
        it runs in this process as the batches stream.
        """
        for batch in self.stream(sql, params, batch_size):
            yield fn(batch)

    @final
    def write_file(
        self, name: str, source: Path, target: Path, select: str, params: Params = ()
    ) -> None:
        """Write `select` (which reads `{source}`, one file of table `name`) to `target`.

        `select` names its input as the literal `{source}`, replaced here by a relation over
        that one file with the table's pinned schema; the output keeps the table's format.
        """
        sql = select.replace("{source}", self._write_source(name, source))
        try:
            self._write(name, sql, params, source, target)
        except self.backend_errors as exc:
            if is_disk_full(exc):
                raise DiskFullError(target) from None
            raise self._wrap(exc, sql) from None
        except OSError as exc:  # the Python side of a write (re-encoding a CSV file)
            if is_disk_full(exc):
                raise DiskFullError(target) from exc
            raise

    def count_file_rows(self, name: str, path: Path) -> int:
        """Rows in one file read as table `name` (e.g. a new version before it is swapped in)."""
        result = self.query(f"SELECT count(*) AS n FROM {self._file_select(name, path)}")
        return int(result.column("n")[0].as_py())

    @final
    def columns(self, table: str) -> dict[str, str]:
        """The columns a table's files really have, with the backend's type names."""
        schema = self.query(f"SELECT * FROM {quote_identifier(table)} LIMIT 0").schema
        return {field.name: str(field.type) for field in schema}

    @final
    def count_rows(self, table: str) -> int:
        """How many rows a table has."""
        result = self.query(f"SELECT count(*) AS n FROM {quote_identifier(table)}")
        return int(result.column("n")[0].as_py())

    def _wrap(self, exc: Exception, sql: str) -> EngineError:
        message = str(exc)
        for table, files in self._files.items():
            named = [f for f in files if str(f) in message]
            if named:
                reason = self._locate_read_error(exc, self._tables[table], named)
                return ExportReadError(table, [str(f) for f in named], reason)
        return EngineError(scrub_message(message.split("\n\n")[0]), sql)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _nested(schema: pa.Schema) -> dict[str, str]:
    """The columns the files hold as nested values, with their kind in words."""
    found = {}
    for field in schema:
        kind = field.type
        if pa.types.is_struct(kind):
            found[field.name] = "a struct"
        elif pa.types.is_map(kind):
            found[field.name] = "a map"
        elif pa.types.is_nested(kind):
            found[field.name] = "a list"
    return found


def _catalog_source(catalog: Catalog) -> str:
    return str(catalog.source) if catalog.source is not None else str(catalog.root)
