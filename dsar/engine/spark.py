"""The Spark engine: the same catalog, queries and answers as DuckDB, on a Spark cluster.

Reading. Each table is read by Spark's own readers (CSV, JSON, JSON Lines, Parquet) with a
schema pinned before any row is read: the types are the ones the DuckDB engine gives the
same files (its sniffer runs on the driver, over a sample), so a column is a date, a
number or text on both engines alike. CSV columns are read as text and cast with the
file's date and time layouts, so that Spark's looser CSV parsing cannot type a value
differently.

Queries. Queries are written once, in DuckDB's dialect; `spark_sql.to_spark` translates
them, with every identifier still a bound (named) parameter. Each answer is cast to the
types DuckDB gives the same query (asked of the driver's DuckDB without reading a row),
so a bundle, an extract or an audience is the same, byte for byte, on both engines.

Rewrites. An erasure or correction rewrites a file whole, in its own format and layout: the
driver writes each new file with DuckDB, beside the old one, under the same journal and
checks as on the DuckDB engine. Spark finds the rows; one process writes one file.

Limits. The export's files must be visible to the driver under the paths the catalog names
(a shared file system): the driver reads a sample of each to pin its schema. `stream`
collects a query's answer on the driver before yielding it in batches.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse
from urllib.request import url2pathname

import pyarrow as pa

from dsar.catalog.models import CsvOptions, FileFormat, Table
from dsar.engine.base import Engine, Params, quote_identifier
from dsar.engine.duckdb import DuckDBEngine, reader_option
from dsar.engine.files import holds_no_records
from dsar.errors import EngineError, MissingDependencyError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, DataFrameReader, SparkSession

__all__ = ["SparkEngine", "SparkSettings", "spark_session"]

_SESSION: SparkSession | None = None
# pyspark checks the pandas version when it loads its Arrow conversions; the engine uses
# Arrow, not pandas, and the warning would reach every command's output
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

# strftime codes (DuckDB's layouts) as Java DateTimeFormatter patterns (Spark's)
_JAVA = {
    "%Y": "yyyy",
    "%m": "MM",
    "%d": "dd",
    "%H": "HH",
    "%M": "mm",
    "%S": "ss",
    "%f": "SSSSSS",
    "%g": "SSS",
    "%n": "SSSSSSSSS",
    "%y": "yy",
    "%b": "MMM",
    "%B": "MMMM",
    "%p": "a",
    "%I": "hh",
    "%z": "XX",
}
_CODE = re.compile(r"%.")
_ENCODINGS = {"utf-8": "UTF-8", "utf-16": "UTF-16", "latin-1": "ISO-8859-1"}
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT"}


def java_layout(strftime: str) -> str:
    """A DuckDB strftime layout as a Java DateTimeFormatter pattern, literals quoted.

    Examples:
        >>> java_layout("%d/%m/%Y %H:%M")
        'dd/MM/yyyy HH:mm'
        >>> java_layout("%Y-%m-%dT%H:%M:%SZ")
        "yyyy-MM-dd'T'HH:mm:ss'Z'"
    """
    out, last = [], 0
    for match in _CODE.finditer(strftime):
        out.append(_literal(strftime[last : match.start()]))
        code = match.group(0)
        if code not in _JAVA:
            raise EngineError(f"the Spark engine cannot read dates written as {code!r} yet")
        out.append(_JAVA[code])
        last = match.end()
    out.append(_literal(strftime[last:]))
    return "".join(out)


def _literal(text: str) -> str:
    if not text:
        return ""
    if not re.search(r"[A-Za-z']", text):
        return text
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class SparkSettings:
    """Where and how Spark runs; the library reads no environment variable itself.

    Attributes:
        master: the cluster (e.g. "spark://host:7077", "local[4]"); None: the session
            spark-submit made, else local mode on every core.
        driver_memory: the driver's heap in local mode (None: a quarter of this machine's
            memory, 2 to 8 GiB); ignored on a cluster or where Spark has its own
            configuration (`configured`).
        python: the interpreter Spark's Python workers run; None: what pyspark was told
            ($PYSPARK_PYTHON, read by pyspark itself), else this one, where the workbench is
            installed.
        configured: Spark has a configuration of its own ($SPARK_CONF_DIR or $SPARK_HOME),
            whose memory setting is kept.
    """

    master: str | None = None
    driver_memory: str | None = None
    python: str | None = None
    configured: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], master: str | None = None) -> SparkSettings:
        """Settings from $SPARK_MASTER, $SPARK_DRIVER_MEMORY, $PYSPARK_PYTHON,
        $SPARK_CONF_DIR and $SPARK_HOME, for the command line and notebooks; `master`
        (a command-line option) wins over $SPARK_MASTER."""
        return cls(
            master=master or env.get("SPARK_MASTER") or None,
            driver_memory=env.get("SPARK_DRIVER_MEMORY") or None,
            python=env.get("PYSPARK_PYTHON") or None,
            configured=bool(env.get("SPARK_CONF_DIR") or env.get("SPARK_HOME")),
        )


_PYSPARK_FALLBACK = "python3"  # the workers' interpreter pyspark uses when told of none


def spark_session(settings: SparkSettings | None = None) -> SparkSession:
    """The process's Spark session, started on first use (about five seconds locally).

    Without a master in `settings`, the session that `spark-submit` set up is used, else
    Spark runs locally on every core.
    """
    global _SESSION
    settings = settings or SparkSettings()
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MissingDependencyError("pyspark", "the Spark engine", "spark") from None
    master = settings.master
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if _SESSION is not None and master is None:
        return _SESSION
    builder = SparkSession.builder.appName("privacy-workbench")
    if master:  # else spark-submit's --master, or pyspark's own default: local[*]
        builder = builder.master(master)
    quiet = Path(__file__).with_name("log4j2.properties")
    config = {
        # Spark's warnings (host name, native Hadoop) are noise on a command line
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={quiet.as_uri()}",
        # timestamps are read as TIMESTAMP_NTZ (as DuckDB's TIMESTAMP): no zone shifts
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.useLargeVarTypes": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if settings.python:
        config["spark.pyspark.python"] = settings.python
    if not settings.configured and not (master or "local").startswith(("spark:", "yarn", "k8s")):
        # in local mode the driver is the whole of Spark: its default 1 GiB heap died on a
        # 3 GB CSV file (measured at 50 M rows); a quarter of the memory, 2 to 8 GiB
        config["spark.driver.memory"] = settings.driver_memory or _driver_memory()
    for key, value in config.items():
        builder = builder.config(key, value)
    _SESSION = builder.getOrCreate()
    # Python workers (mapInArrow) run the interpreter the settings name, else the one pyspark
    # was told of, else this one (pyspark's own fallback, "python3", may lack the workbench);
    # set on the context rather than in the process's environment
    context = _SESSION.sparkContext
    if settings.python:
        context.pythonExec = settings.python
    elif context.pythonExec == _PYSPARK_FALLBACK:
        context.pythonExec = sys.executable
    _SESSION.sparkContext.setLogLevel("OFF")  # errors reach the user as ours
    return _SESSION


def _driver_memory() -> str:
    """A quarter of this machine's memory, between 2 and 8 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "2g"
    return f"{max(2, min(8, total // 4 // 2**30))}g"


def _nfc_normalize(text: str | None) -> str | None:
    """`text` in Unicode's composed form (NFC), as DuckDB's nfc_normalize."""
    return None if text is None else unicodedata.normalize("NFC", text)


class SparkEngine(Engine):
    """Run the workbench's queries on Spark (local, or a cluster through `master`).

    Args:
        master: the Spark master URL (e.g. "spark://host:7077", "local[4]"); by default
            the settings' master, the session spark-submit made, or local mode.
        session: a Spark session to use instead (its temporary views are not touched: the
            engine works in a session of its own that shares the same cluster).
        settings: where and how Spark runs (`SparkSettings.from_env(os.environ)` reads
            the SPARK_* variables the way the command line does).
    """

    name = "spark"
    distributes = True

    def __init__(
        self,
        master: str | None = None,
        *,
        session: SparkSession | None = None,
        settings: SparkSettings | None = None,
    ) -> None:
        super().__init__()
        try:
            from py4j.protocol import Py4JJavaError
            from pyspark.errors import PySparkException
        except ImportError:
            raise MissingDependencyError("pyspark", "the Spark engine", "spark") from None
        # a session of our own: its temporary views (the catalog's tables) are ours alone
        if master is not None:
            settings = replace(settings or SparkSettings(), master=master)
        self.spark = (session or spark_session(settings)).newSession()
        # the driver's DuckDB: pins each table's schema and writes rewritten files
        self.duck = DuckDBEngine(threads=1)
        self.backend_errors = (PySparkException, Py4JJavaError)
        # a session someone else made (a notebook's, a cluster's) may differ in what decides
        # an answer: the clock DuckDB reads times in, and failing on a bad value (as DuckDB
        # does) rather than reading it as NULL
        row = self.duck.con.execute("SELECT current_setting('TimeZone')").fetchone()
        self.spark.conf.set("spark.sql.session.timeZone", str(row[0]) if row else "UTC")
        self.spark.conf.set("spark.sql.ansi.enabled", "true")
        # DuckDB's nfc_normalize (emails are compared composed: `sql_email_text`), which
        # Spark SQL lacks; only emails that are not plain ASCII reach it
        self.spark.udf.register("nfc_normalize", _nfc_normalize, "string")

    # ---- reading -------------------------------------------------------------------------

    def _create_view(self, name: str, files: Sequence[Path], table: Table) -> None:
        self.duck._create_view(name, files, table)
        self.duck._files[name], self.duck._tables[name] = list(files), table
        df = self._read(name, files, table)
        # Spark skips files whose names start with '_' or '.' without a word: refuse rather
        # than answer a request from part of a table
        read = {Path(url2pathname(urlparse(f).path)).resolve() for f in df.inputFiles()}
        skipped = [f for f in files if f.resolve() not in read and not holds_no_records([f])]
        if skipped:
            raise EngineError(
                f"table {name!r}: Spark does not read {skipped[0].name} (it skips names that"
                " start with '_' or '.'); rename the file, or use --engine duckdb"
            )
        df.createOrReplaceTempView(name)

    def _read(self, name: str, files: Sequence[Path], table: Table) -> DataFrame:
        """A DataFrame over `files` with the columns and types DuckDB gives them."""
        from pyspark.sql.pandas.types import from_arrow_schema

        schema = self.duck.query(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").schema
        paths = [str(f) for f in files]
        # Hive partitions (events/user_id=42/part-0.parquet): DuckDB reads their columns from
        # the folder names; Spark, given the files, only from below a basePath
        base = partition_base(files)
        read = self.spark.read if base is None else self.spark.read.option("basePath", str(base))
        if table.format is FileFormat.PARQUET:
            struct = from_arrow_schema(schema, prefer_timestamp_ntz=True)
            return read.schema(struct).parquet(*paths)
        if table.format is not FileFormat.CSV:
            # dates and times are read as text and cast as DuckDB casts them: Spark's JSON
            # reader takes '2026-08-06T03:01:13Z' for no TIMESTAMP_NTZ at all
            temporal = self.duck._readers[name].temporal()
            texts = pa.schema(
                [pa.field(f.name, pa.string()) if f.name in temporal else f for f in schema]
            )
            struct = from_arrow_schema(texts, prefer_timestamp_ntz=True)
            multi = "true" if table.format is FileFormat.JSON else "false"
            df = (
                read.schema(struct)
                .option("multiLine", multi)
                .option("mode", "FAILFAST")
                .json(paths)
            )
            return df.selectExpr(*(_typed(f.name, temporal.get(f.name, "")) for f in schema))
        return self._read_csv(name, paths, table, read, [f.name for f in schema])

    def _read_csv(
        self,
        name: str,
        paths: list[str],
        table: Table,
        read: DataFrameReader,
        order: list[str],
    ) -> DataFrame:
        from pyspark.sql.types import StringType, StructField, StructType

        reader = self.duck._readers[name]
        opts = table.csv or CsvOptions()
        escape = reader_option(reader.options, "escape")
        # the partition columns, read from the folder names as text and typed as DuckDB types
        # them (a CSV's dateformat is the file's, not the folder's)
        partitions = [c for c in order if c not in reader.types]
        described = self.duck.con.execute(f"DESCRIBE {quote_identifier(name)}").fetchall()
        folder_types = {str(row[0]): str(row[1]) for row in described if row[0] in partitions}
        text = StructType([StructField(c, StringType()) for c in [*reader.types, *partitions]])
        df = (
            read.schema(text)
            .option("header", str(opts.header).lower())
            .option("sep", opts.delimiter)
            .option("quote", opts.quote or "\u0000")
            .option("escape", escape if escape is not None else opts.quote or "\\")
            # with another null text than '', it is compared below, as DuckDB compares it
            .option("nullValue", opts.null if opts.null == "" else "\u0000\u0001")
            .option("encoding", _ENCODINGS[opts.encoding])
            .option("multiLine", "true")
            .option("mode", "FAILFAST")
            .option("enforceSchema", "true")
            .csv(paths)
        )
        date_fmt = reader_option(reader.options, "dateformat")
        ts_fmt = reader_option(reader.options, "timestampformat")
        if opts.null:
            # Spark reads every empty unquoted field as NULL; DuckDB, given another null
            # text, reads it as '' and only that text as NULL
            null = opts.null.replace("\\", "\\\\").replace("'", "\\'")
            df = df.selectExpr(
                *(
                    f"nullif(coalesce({_name(c)}, ''), '{null}') AS {_name(c)}"
                    for c in reader.types
                ),
                *(_name(c) for c in partitions),
            )
        columns = {c: _typed(c, t, date_fmt, ts_fmt) for c, t in reader.types.items()}
        columns.update({c: _typed(c, folder_types.get(c, "")) for c in partitions})
        return df.selectExpr(*(columns[c] for c in order))

    def _drop_view(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self.duck._forget(name)

    def _files_with_column(self, name: str, column: str) -> list[Path]:
        return self.duck._files_with_column(name, column)

    def _file_select(self, name: str, path: Path) -> str:
        """One file, for the driver's DuckDB: rewrites and their row counts run there."""
        return self.duck._file_select(name, path)

    # ---- queries -------------------------------------------------------------------------

    def _df(self, sql: str, params: Params) -> DataFrame:
        from dsar.engine.spark_sql import to_spark

        spark_sql, count = to_spark(sql)
        if count != len(params):
            raise EngineError(f"the query has {count} parameters, {len(params)} were given", sql)
        args = {f"p{i}": _arg(v) for i, v in enumerate(params)}
        return self.spark.sql(spark_sql, args=args or None)

    def _expected(self, sql: str, params: Params) -> pa.Schema:
        """The types DuckDB gives the same query's answer (it binds it; no row is read)."""
        return self.duck.query(f"SELECT * FROM ({sql}) LIMIT 0", params).schema

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        schema = self._expected(sql, params)
        return _as(self._df(sql, params).toArrow(), schema)

    def _batches(self, sql: str, params: Params, batch_size: int) -> Iterator[pa.RecordBatch]:
        table = self._arrow(sql, params)
        yield from table.to_batches(max_chunksize=batch_size)

    def map_batches(
        self,
        sql: str,
        params: Params,
        fn: Callable[[pa.RecordBatch], pa.RecordBatch],
        schema: pa.Schema,
        batch_size: int = 65_536,
    ) -> Iterator[pa.RecordBatch]:
        """`fn` runs in Spark's Python workers (`mapInArrow`), on batches with DuckDB's
        types, so that the same batch function gives the same values on both engines. On a
        cluster, every executor needs the workbench installed (and `fn`'s key travels with
        the task, as the work it does needs it)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        expected = self._expected(sql, params)

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for batch in batches:
                yield fn(_as(batch, expected))

        struct = from_arrow_schema(schema, prefer_timestamp_ntz=True)
        try:
            answer = self._df(sql, params).mapInArrow(run, struct).toArrow()
        except self.backend_errors as exc:
            raise self._wrap(exc, sql) from None
        yield from _as(answer, schema).to_batches(max_chunksize=batch_size)

    def _locate_read_error(self, exc: Exception, table: Table, files: Sequence[Path]) -> str:
        return (
            f"Spark could not read it as the catalog says ({_condition(exc)}); run `dsar"
            " catalog check --deep` with the DuckDB engine to find the line"
        )

    def _wrap(self, exc: Exception, sql: str) -> EngineError:
        """Spark's messages can quote a whole record unquoted (a malformed row): only the
        error's name and the tables the query reads are shown, never the text."""
        read = [t for t in self._files if f"`{t}`" in sql or quote_identifier(t) in sql]
        where = f" reading {', '.join(read)}" if read else ""
        return EngineError(f"Spark failed{where}: {_condition(exc)}", sql)

    # ---- rewrites ------------------------------------------------------------------------

    def _write_source(self, name: str, path: Path) -> str:
        return self.duck._write_source(name, path)

    def _write(self, name: str, sql: str, params: Params, source: Path, target: Path) -> None:
        # one file is written whole by one process: the driver's DuckDB, in the file's own
        # format and layout (the same code, so the same bytes, as the DuckDB engine)
        try:
            self.duck._write(name, sql, params, source, target)
        except self.duck.backend_errors as exc:
            raise self.duck._wrap(exc, sql) from None

    def count_file_rows(self, name: str, path: Path) -> int:
        """Counted where the file was written: by the driver's DuckDB (Spark would not even
        see a staged file: it skips names that start with a dot)."""
        return self.duck.count_file_rows(name, path)

    def close(self) -> None:
        for name in self._files:
            self.spark.catalog.dropTempView(name)
        self.duck.close()
        super().close()


def _name(column: str) -> str:
    return f"`{column.replace('`', '``')}`"


def _condition(exc: Exception) -> str:
    """The name of a Spark error (its condition, or the Java class), never its message."""
    for attribute in ("getCondition", "getErrorClass"):
        method = getattr(exc, attribute, None)
        if callable(method):
            try:
                found = method()
            except Exception:  # only the name is wanted; any failure: none
                found = None
            if found:
                return str(found)
    java = getattr(exc, "java_exception", None)
    try:
        return str(java.getClass().getName()) if java is not None else type(exc).__name__
    except Exception:  # the gateway may be gone: the Python class is all there is
        return type(exc).__name__


_PARTITION = re.compile(r"^[^=/]+=[^=/]*$")  # a Hive partition folder: name=value


def partition_base(files: Sequence[Path]) -> Path | None:
    """The folder above a Hive-partitioned table's partition folders, Spark's `basePath`
    (`events` for `events/user_id=42/part-0.parquet`); None where a file does not lie in a
    `name=value` folder, or the files have no one such folder."""
    bases = set()
    for file in files:
        folder = file.parent
        if not _PARTITION.match(folder.name):
            return None
        while _PARTITION.match(folder.name):
            folder = folder.parent
        bases.add(folder)
    return bases.pop() if len(bases) == 1 else None


def _typed(
    column: str, duck_type: str, date_fmt: str | None = None, ts_fmt: str | None = None
) -> str:
    """A Spark expression casting a column read as text to DuckDB's type for it (the
    column as it is when `duck_type` is VARCHAR or empty: read typed already)."""
    col = _name(column)
    alias = f" AS {col}"
    kind = duck_type.upper()
    if kind in ("VARCHAR", ""):
        return col
    if kind == "DATE":
        if date_fmt:
            return f"to_date({col}, '{java_layout(date_fmt)}'){alias}"
        return f"CAST({col} AS DATE){alias}"
    if kind.startswith("TIMESTAMP") and "TIME ZONE" not in kind:
        if ts_fmt:
            return f"to_timestamp_ntz({col}, '{java_layout(ts_fmt)}'){alias}"
        # a 'Z' or an offset is dropped, the clock time kept: as DuckDB's TIMESTAMP does
        return f"CAST({col} AS TIMESTAMP_NTZ){alias}"
    if kind in _INTEGERS or kind in {"BOOLEAN", "DOUBLE", "FLOAT"} or kind.startswith("DECIMAL"):
        spark_type = {"INTEGER": "INT", "FLOAT": "FLOAT"}.get(kind, kind)
        return f"CAST(trim({col}) AS {spark_type}){alias}"
    if kind == "TIMESTAMP WITH TIME ZONE":
        return f"CAST({col} AS TIMESTAMP){alias}"
    raise EngineError(
        f"column {column!r}: the Spark engine cannot read DuckDB type {duck_type} from CSV yet;"
        " declare the column's type in the catalog (e.g. type: string)"
    )


def _arg(value: object) -> Any:
    """A parameter as Spark binds it (lists as arrays, bytes as binary)."""
    if isinstance(value, tuple):
        return list(value)
    return value


_Answer = TypeVar("_Answer", pa.Table, pa.RecordBatch)


def _as(data: _Answer, schema: pa.Schema) -> _Answer:
    """Spark's answer (a table or a batch) with DuckDB's names and types (nullable, as
    DuckDB's are)."""
    if data.num_columns != len(schema):
        raise EngineError(
            f"the Spark answer has {data.num_columns} columns where DuckDB's has {len(schema)}"
        )
    columns = [col.cast(field.type) for col, field in zip(data.columns, schema, strict=True)]
    return type(data).from_arrays(columns, schema=schema)
