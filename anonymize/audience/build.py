"""Audience files: a list of emails or phone numbers, normalised and hashed per platform.

The work is vectorised: DuckDB reads the list, normalises every email in SQL and hashes with
its native SHA-256; phone numbers go through `phonenumbers` once per distinct value. Invalid
values are dropped and counted, duplicates after normalisation are written once, and each
platform gets its file (split into numbered parts where it limits rows) and a typed manifest.
No value that normalises to nothing (empty, whitespace) is ever hashed: the SHA-256 of the
empty string would match nobody and says a check failed upstream.

`staged_audience` and `publish_audience` make the order safe where a sent record is kept:
the files are built in a partial folder, the upload recorded, and only then are the files
renamed into `--out` (a kill before leaves nothing published; a kill after leaves the
record naming an upload that may not have left, never files nobody recorded). Publishing
stamps each manifest with where its upload is recorded (`recorded`, `sent`) and seals it
with the key when one is in use (`mac`, `dsar.review.manifest.sign_manifest`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from anonymize.audience.fields import Field
from anonymize.audience.platforms import NORMALIZER_VERSION, Platform, platform, to_e164
from anonymize.risk import relation_of
from dsar._version import __version__
from dsar.catalog.models import IdentityKind
from dsar.csvsafe import copy_csv
from dsar.engine import scratch_connection
from dsar.engine.base import quote_identifier
from dsar.errors import InputFileError, OutputExistsError, UsageError
from dsar.faults import point
from dsar.io import partial_folder, sha256_file
from dsar.keys import Keys
from dsar.records.sent import SentRecord
from dsar.review.manifest import (
    AcceptedWarning,
    ArtifactKind,
    AudienceEligibility,
    AudienceManifest,
    AudienceRecording,
    InputRef,
    OutputFile,
    ToolInfo,
    sign_manifest,
    write_manifest,
)

log = logging.getLogger(__name__)
Kind = Literal["email", "phone"]
MEMORY_LIMIT = "512MB"
LEDGER_ENV = "WORKBENCH_LEDGER"
_FILLED = "n IS NOT NULL AND n <> ''"  # a normalised value that is something: hashed


@dataclass(frozen=True)
class AudienceResult:
    """The files written per platform, and each platform's manifest; `earlier`: per
    platform, the earlier uploads (in the sent record, not withdrawn) of people the gate now
    leaves out, counted by reason (for `anonymize withdraw`)."""

    folder: Path
    files: dict[str, list[Path]]
    manifests: dict[str, AudienceManifest]
    earlier: dict[str, dict[str, int]] = field(default_factory=dict)


def build_audience_file(
    source: str | Path,
    column: str,
    platforms: list[str],
    out: str | Path,
    *,
    kind: Kind = "email",
    region: str | None = None,
    fields: dict[Field, str] | None = None,
    now: datetime | None = None,
) -> AudienceResult:
    """Hash one column of a list (CSV, Parquet, JSON Lines) for each platform into `out/`.

    This is the hashing step alone: nobody is checked (consent, the suppression ledger,
    Limited Use), and the manifests say so (no `eligibility`). An audience that leaves for a
    platform is built with `build_audience`, from a spec or an `AudienceList`: the command
    line's only path.

    Args:
        source: the list.
        column: the column holding emails or phone numbers.
        platforms: platform names (see `anonymize.audience.PLATFORMS`).
        kind: "email" or "phone".
        region: for phone numbers written without a country code, their country (ISO 3166
            alpha-2, e.g. "US").
        fields: other columns to send where a platform matches on them: first_name,
            last_name, postcode, country (Google Customer Match and Meta).
    """
    path = Path(source)
    if not path.is_file():
        raise InputFileError(
            path, "no such file", "give the list to hash: a Parquet, CSV or JSON (Lines) file"
        )
    chosen = [platform(p) for p in platforms]
    for p in chosen:
        if not p.confirmed:
            log.warning(
                "%s: its own normalisation rules were not available to check; this file"
                " follows the rule every other platform states (trim, lower-case): confirm it"
                " against %s before upload",
                p.title,
                p.source,
            )
    # bounded memory whatever the list's size: DuckDB spills to disk beyond this
    con = scratch_connection(memory_limit=MEMORY_LIMIT)
    con.execute("SET preserve_insertion_order = false")
    try:
        given = fields or {}
        read_list(con, path, column, given, "src", kind=kind)
        return _write_all(con, chosen, Path(out), kind, region, [path], now, fields=list(given))
    finally:
        con.close()


def read_list(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    column: str,
    fields: dict[Field, str],
    view: str,
    more: str = "",
    kind: Kind = "email",
    written: str | None = None,
) -> None:
    """Make `view` (a table) over the list: `v` (the column as text, each value read as
    `dsar ledger add` reads an identifier, `canonical_identifier`), `f_<field>` for each
    field, and `more` (SQL of further columns over `v`, e.g. ", ... AS x"); with `written`,
    a column of that name holding each value as written (its older normal forms,
    `identity.sql_legacy_forms`, are read from it: a phone's extension). A CSV is read as
    text, so 0044... keeps its zeros.

    A value is read out of its wrapping (`mailto:`, `Name <...>`, quotes, invisible
    characters; a phone's extension and `tel:`) before anything normalises, matches or
    hashes it, so `mailto:ann@x.com` is Ann's address, passes the gate as hers and is
    uploaded as it; a value that cannot be read as one identifier (a space inside, two
    addresses) becomes `UNREADABLE`, which no platform takes: counted invalid, never hashed.

    Raises:
        InputFileError: the file cannot be read (its line where one is at fault), has no
            such column, or holds an object or a list where text is expected; the message
            is the workbench's own, never DuckDB's (which quotes the file's rows).
    """
    relation = relation_of(str(path))
    if relation.startswith("read_csv("):
        relation = relation[:-1] + ", all_varchar = true)"
    names = [column, *fields.values()]
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise list_error(path, exc) from None
    types = {str(r[0]): str(r[1]) for r in described}
    if relation.startswith("read_csv("):
        _refuse_a_repeated_header(con, path, relation, list(types))
    for name in names:
        if name not in types:
            one = len(types) == 1 and any(c in next(iter(types)) for c in ",;\t|")
            raise InputFileError(
                path,
                f"the file has no column {name!r}"
                + (
                    " (it reads as one column: its rows do not all have the same number of fields)"
                    if one
                    else ""
                ),
                "check --column and --fields against the file's header (a CSV needs a header line)",
            )
    extra = "".join(
        f", CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier('f_' + f)}"
        for f, c in fields.items()
    )
    raw = f"{view}__raw"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT row_number() OVER () AS __n,"
            f" {quote_identifier(column)} AS __c, CAST({quote_identifier(column)} AS VARCHAR)"
            f" AS v{extra} FROM {relation}"
        )
    except duckdb.Error as exc:
        raise list_error(path, exc) from None
    nested = types[column]
    if nested == "JSON" or nested.endswith("]") or nested.startswith(("STRUCT", "MAP")):
        test = "json_type(__c) IN ('OBJECT', 'ARRAY')" if nested == "JSON" else "__c IS NOT NULL"
        first = con.execute(f"SELECT min(__n) FROM {raw} WHERE {test}").fetchall()[0][0]
        if first is not None:
            con.execute(f"DROP TABLE {raw}")
            raise InputFileError(
                path,
                f"column {column!r} holds an object or a list where text is expected (row {first})",
                "give the list one address or number per row, as text",
            )
    _read_values(con, raw, kind)
    columns = "".join(", " + quote_identifier("f_" + f) for f in fields)
    if written:
        columns += f", r.v AS {quote_identifier(written)}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {view} AS SELECT *{more} FROM (SELECT"
        f" coalesce(m.c, r.v) AS v{columns}"
        f" FROM {raw} r LEFT JOIN list_values m ON m.raw = r.v ORDER BY r.__n)"
    )
    con.execute(f"DROP TABLE {raw}")
    con.execute("DROP TABLE list_values")


# what a list's value that cannot be read as one identifier becomes: no '@', no digit, not
# blank, so every platform's normaliser finds it invalid (counted, never hashed) and the gate
# matches it to no one
UNREADABLE = "\ufffd"
# values read as they stand: nothing `canonical_identifier` would change (no wrapping, quote,
# space or invisible character), so only the others go through Python
_PLAIN = {"email": "^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$", "phone": "^[+]?[0-9]{7,}$"}


def _read_values(con: duckdb.DuckDBPyConnection, raw: str, kind: Kind) -> None:
    """`list_values(raw, c)`: each distinct value of `raw`.v that is not plain, read as a
    record reads it (`canonical_identifier`), or `UNREADABLE`."""
    from dsar.errors import IdentifierError
    from dsar.subjects.identity import canonical_identifier

    identity = IdentityKind(kind)
    values = [
        str(r[0])
        for r in con.execute(
            f"SELECT DISTINCT v FROM {raw} WHERE v IS NOT NULL AND trim(v) <> ''"
            f" AND NOT regexp_matches(v, '{_PLAIN[kind]}')"
        ).fetchall()
    ]
    read: list[str] = []
    for value in values:
        try:
            read.append(canonical_identifier(identity, value) or UNREADABLE)
        except IdentifierError:
            read.append(UNREADABLE)
    con.register(
        "list_values_arrow",
        pa.table({"raw": pa.array(values, pa.string()), "c": pa.array(read, pa.string())}),
    )
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE list_values AS SELECT * FROM list_values_arrow")
    finally:
        con.unregister("list_values_arrow")


_RENAMED = re.compile(r"(.+)_[0-9]+")  # DuckDB's name for a CSV column whose header repeats


def _refuse_a_repeated_header(
    con: duckdb.DuckDBPyConnection, path: Path, relation: str, names: list[str]
) -> None:
    """A CSV whose header names a column twice (`email,email`, `Email,email`) is refused:
    DuckDB would read the second as `email_1` and the list would silently be the first.
    Only where a name looks renamed is the header line read again, without DuckDB's
    renaming; the error names the columns' positions, never the header (a file without a
    header has values there)."""
    folded = {n.lower() for n in names}
    if not any((m := _RENAMED.fullmatch(n)) and m[1].lower() in folded for n in names):
        return
    plain = relation[:-1] + ", header = false)"
    try:
        row = con.execute(f"SELECT * FROM {plain} LIMIT 1").fetchone()
    except duckdb.Error as exc:
        raise list_error(path, exc) from None
    header = [str(v).strip().lower() if v is not None else "" for v in row or ()]
    seen: dict[str, int] = {}
    for position, name in enumerate(header, 1):
        if name in seen:
            raise InputFileError(
                path,
                f"its header names one column twice (columns {seen[name]} and {position}):"
                " which one is the list cannot be told",
                "give each column of the header its own name and run again",
            )
        seen[name] = position


# DuckDB's message, read for the kind of problem only (its text quotes the file's rows)
_LIST_PROBLEMS = (
    ("duplicate key", "a JSON object with the same key twice"),
    ("malformed json", "not valid JSON"),
    ("not utf-8", "not UTF-8 text"),
    ("invalid unicode", "not UTF-8 text"),
    ("expected number of columns", "a row with another number of fields than the header"),
    ("unterminated quote", "a quote that is never closed"),
    ("magic bytes", "not a Parquet file"),
    ("no files found", "no such file"),
    ("could not convert", "a value of another type than the rest of its column"),
    ("conversion error", "a value of another type than the rest of its column"),
)
_FILE_LINE = re.compile(r"(?:\bin line|\bon line:?)\s*(\d+)", re.IGNORECASE)


def list_error(path: Path, exc: BaseException) -> InputFileError:
    """A list DuckDB could not read, in the workbench's words: the file, the line where
    DuckDB names one, and the kind of problem; never DuckDB's text (it quotes rows)."""
    text = str(exc)
    lower = text.lower()
    kind = "json" if path.suffix.lower() in (".json", ".jsonl", ".ndjson") else None
    problem = next(
        (says for key, says in _LIST_PROBLEMS if key in lower),
        f"not readable as a {kind.upper() if kind else path.suffix.lstrip('.').upper() or 'list'}"
        " file",
    )
    found = _FILE_LINE.search(text)
    return InputFileError(
        path,
        problem,
        "fix the file (one identifier per row, under a header) and run again",
        line=int(found[1]) if found else None,
    )


def _write_all(
    con: duckdb.DuckDBPyConnection,
    chosen: list[Platform],
    out: Path,
    kind: Kind,
    region: str | None,
    inputs: list[Path],
    now: datetime | None,
    before: dict[str, int] | None = None,
    fields: Sequence[Field] = (),
    engine: str | None = None,
    accepted: Sequence[AcceptedWarning] = (),
    eligibility: AudienceEligibility | None = None,
) -> AudienceResult:
    """Write each platform's files from the table or view `src` (column `v`, and `f_<field>`
    for each field). `before`: counts of rows left out before (eligibility), recorded first
    in each manifest. `engine`: the engine that read the catalog table, if one did.
    `accepted`: the catalog warnings accepted to read it, recorded in each manifest;
    `eligibility`: who could be in it and on what basis, recorded in each manifest."""
    if eligibility is not None and not eligibility.ledger and os.environ.get(LEDGER_ENV):
        # the command line applies $WORKBENCH_LEDGER itself; from Python it is never ignored
        raise UsageError(
            "ledger",
            f"${LEDGER_ENV} names a suppression ledger, and this audience was built without"
            " one: its people would not be left out",
            "pass ledger=Ledger(...) (the command line opens $WORKBENCH_LEDGER for you), or"
            f" unset {LEDGER_ENV} to build without one (each manifest then says ledger: false)",
        )
    files: dict[str, list[Path]] = {}
    manifests: dict[str, AudienceManifest] = {}
    with partial_folder(out, "audience") as work:
        counted = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE v IS NULL OR trim(v) = '') FROM src"
        ).fetchone()
        rows_in, empty = (int(counted[0]), int(counted[1])) if counted else (0, 0)
        if kind == "phone":
            _phone_table(con, region)
        for p in chosen:
            normalised, base = identifiers(p, kind)
            taken = [f for f in fields if f in p.fields]
            joins, picks, per_person, unpack = _field_tables(con, p, taken)
            # normalised once into a table (NULL: invalid), never filtered on the expression
            # itself: DuckDB then evaluates it twice (5x slower, measured)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE normalised AS SELECT {normalised} AS n{picks}"
                f" FROM {base}{joins}"
            )
            # a value normalised to nothing is invalid: the hash of '' is never written (an
            # email or a phone that normalises holds no whitespace: an equality suffices,
            # where an UPDATE with trim() cost 1 s per million rows, measured)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE hashed AS SELECT *, row_number() OVER (ORDER BY h)"
                f" AS i FROM (SELECT h{unpack} FROM (SELECT {p.hash_sql('n')} AS h{per_person}"
                f" FROM normalised WHERE {_FILLED} GROUP BY 1))"
            )
            valid = con.execute(
                f"SELECT count(*) FILTER (WHERE {_FILLED}) FROM normalised"
            ).fetchone()
            n_valid = int(valid[0]) if valid else 0
            written = _write_platform(con, p, kind, work, taken)
            missing = _missing(con, taken)
            files[p.name] = written
            distinct_row = con.execute("SELECT count(*) FROM hashed").fetchone()
            distinct = int(distinct_row[0]) if distinct_row else 0
            if p.min_audience and distinct < p.min_audience:
                log.warning(
                    "%s: %d people, under the platform's minimum audience of %d: it may not"
                    " serve this audience",
                    p.title,
                    distinct,
                    p.min_audience,
                )
            manifests[p.name] = AudienceManifest(
                kind=ArtifactKind.AUDIENCE,
                format_version=1,
                tool=ToolInfo(name="privacy-workbench", version=__version__, engine=engine),
                created_at=now or datetime.now(UTC),
                inputs=tuple(
                    InputRef(role="list", name=i.name, sha256=sha256_file(i)) for i in inputs
                ),
                outputs=tuple(
                    OutputFile.of(f, work, rows=_rows(f, p), table=None) for f in written
                ),
                parameters={"kind": kind, "region": region, "fields": list(taken)},
                platform=p.name,
                normalizer_version=NORMALIZER_VERSION,
                encoding=p.encoding,
                counts={
                    **(before or {}),
                    "rows_in": rows_in,
                    "empty": empty,
                    "invalid": rows_in - empty - n_valid,
                    "duplicates": n_valid - distinct,
                    "written": distinct,
                    **missing,
                },
                below_minimum=bool(p.min_audience and distinct < p.min_audience),
                accepted_catalog_warnings=tuple(accepted),
                eligibility=eligibility,
            )
            write_manifest(manifests[p.name], work / f"{p.name}.manifest.json")
        for item in work.iterdir():
            target = out / item.name
            if target.exists():
                raise OutputExistsError(target, "the audience file", "choose another --out")
        for item in work.iterdir():
            item.rename(out / item.name)
        work.rmdir()
    return AudienceResult(out, {k: [out / f.name for f in v] for k, v in files.items()}, manifests)


def _taken(out: Path, names: Sequence[str]) -> Path | None:
    """The first of a platform's files (`<p>.csv`, its parts, its manifest) already in `out`."""
    for name in names:
        for found in (out / f"{name}.csv", out / f"{name}.manifest.json"):
            if found.exists():
                return found
        parts = sorted(out.glob(f"{name}-[0-9][0-9][0-9].csv")) if out.is_dir() else []
        if parts:
            return parts[0]
    return None


@contextmanager
def staged_audience(out: str | Path, platforms: Sequence[str] = ()) -> Iterator[Path]:
    """A partial folder in `out` to build an audience in before it is recorded; whatever is
    not published from it (`publish_audience`) goes with it, and a killed run's is removed
    by the next run into `out`. `out` is refused first when it holds any of the platforms'
    files, and is not left behind (empty) when the build fails.

    Raises:
        OutputExistsError: `out` holds a file of one of `platforms` already.
    """
    target = Path(out)
    if (found := _taken(target, platforms)) is not None:
        raise OutputExistsError(found, "the audience file", "choose another --out")
    created = not target.exists()
    try:
        with partial_folder(target, "audience-stage") as stage:
            yield stage
    except BaseException:
        if created and target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        raise


def recordings(record: SentRecord, before: int) -> dict[str, AudienceRecording]:
    """Per platform, where the sent record holds the upload just recorded: its writes after
    the `before`-th (`SentRecord.write_count()` taken before the build)."""
    return {
        name: AudienceRecording(record=record.path.name, write=w, audience=a, run=r)
        for name, (w, a, r) in record.sent_writes(before).items()
    }


def publish_audience(
    built: AudienceResult,
    out: str | Path,
    *,
    keys: Keys | None,
    recorded: Mapping[str, AudienceRecording] | None,
) -> AudienceResult:
    """Move an audience built in a staged folder (`staged_audience`) into `out`, once its
    upload is recorded: each manifest first says where (`recorded`: per platform, the sent
    record's write that holds it; None: no sent record was kept, `recorded: false`) and is
    sealed with `keys` (`mac`); then the files are renamed, each platform's files before
    its manifest, so a kill half-way leaves files no manifest lists (`dsar verify` names
    them), never a manifest whose files are not all there unseen.

    Raises:
        OutputExistsError: `out` holds one of the files already (nothing is moved).
    """
    target = Path(out)
    manifests: dict[str, AudienceManifest] = {}
    for name, manifest in built.manifests.items():
        sent = recorded.get(name) if recorded is not None else None
        if recorded is not None and sent is None:
            raise UsageError(
                "record",
                f"{name}: the sent record holds no write for this upload",
                "build it again with --record",
            )
        stamped = manifest.model_copy(update={"recorded": sent is not None, "sent": sent})
        stamped = sign_manifest(stamped, keys)
        write_manifest(stamped, built.folder / f"{name}.manifest.json")
        manifests[name] = stamped
    moving = [f for fs in built.files.values() for f in fs]
    moving += [built.folder / f"{name}.manifest.json" for name in built.manifests]
    for item in moving:
        if (target / item.name).exists():
            raise OutputExistsError(target / item.name, "the audience file", "choose another --out")
    for item in moving:
        point(f"publish {item.name}")
        item.rename(target / item.name)
    files = {k: [target / f.name for f in v] for k, v in built.files.items()}
    return AudienceResult(target, files, manifests, built.earlier)


def identifiers(p: Platform, kind: Kind) -> tuple[str, str]:
    """The SQL of each value of `src` normalised the platform's way (NULL: invalid), and the
    relation it is computed over (still called `src`; phones need `_phone_table` first)."""
    if kind == "email":
        return "__email", f"{p.email_relation('src', 'v')} AS src"
    return ("e164" if p.phone_plus else "substr(e164, 2)"), "src LEFT JOIN phones USING (v)"


def _phone_table(con: duckdb.DuckDBPyConnection, region: str | None) -> None:
    """Each distinct raw phone with its E.164 form (None when not a possible number)."""
    raw = con.execute("SELECT DISTINCT v FROM src WHERE v IS NOT NULL")
    values = [r[0] for r in raw.fetchall()]
    table = pa.table(
        {"v": pa.array(values, pa.string()), "e164": [to_e164(v, region) for v in values]}
    )
    con.register("phones_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE phones AS SELECT * FROM phones_arrow")


def _field_tables(
    con: duckdb.DuckDBPyConnection, p: Platform, taken: list[Field]
) -> tuple[str, str, str, str]:
    """Each field's distinct raw values normalised the platform's way (once per value, in
    Python: Unicode punctuation and ISO codes), as joins, the normalised columns, and the
    columns kept per person (hashed where the platform hashes them), all from one of the
    person's rows: a person listed twice must not get one row's zip and another's country."""
    joins = picks = ""
    fields: list[str] = []
    for f in taken:
        rule = p.fields[f]
        raw = quote_identifier("f_" + f)
        values = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {raw} FROM src WHERE {raw} IS NOT NULL"
            ).fetchall()
        ]
        normalised = [rule.normalize(v) for v in values]
        table = pa.table(  # a field normalised to nothing is missing, never hash('')
            {
                "raw": pa.array(values, pa.string()),
                "norm": pa.array([n if n and n.strip() else None for n in normalised], pa.string()),
            }
        )
        name = f"field_{f}"
        con.register(f"{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        joins += f" LEFT JOIN {name} ON {name}.raw = src.{raw}"
        picks += f", {name}.norm AS {raw}"
        value = p.hash_sql(raw) if rule.hashed else raw
        fields.append(f"{raw} := {value}")
    if not fields:
        return joins, picks, "", ""
    unpack = "".join(
        f", __f.{quote_identifier('f_' + f)} AS {quote_identifier('f_' + f)}" for f in taken
    )
    return joins, picks, f", min(struct_pack({', '.join(fields)})) AS __f", unpack


def _missing(con: duckdb.DuckDBPyConnection, taken: list[Field]) -> dict[str, int]:
    """Per field, the people written without it (empty, or not normalisable)."""
    if not taken:
        return {}
    counts = ", ".join(
        f"count(*) FILTER (WHERE {quote_identifier('f_' + f)} IS NULL)" for f in taken
    )
    got = con.execute(f"SELECT {counts} FROM hashed").fetchone() or ()
    return {f"without_{f}": int(n) for f, n in zip(taken, got, strict=True)}


def _write_platform(
    con: duckdb.DuckDBPyConnection, p: Platform, kind: Kind, folder: Path, taken: list[Field]
) -> list[Path]:
    header = p.email_header if kind == "email" else p.phone_header
    if header is None:
        raise UsageError(
            "kind",
            f"{p.title} takes no {kind} list in this workbench",
            "send it the other kind (email or phone), or leave it out of --platform",
        )
    total_row = con.execute("SELECT count(*) FROM hashed").fetchone()
    total = int(total_row[0]) if total_row else 0
    size = p.max_rows or max(total, 1)
    parts = max((total + size - 1) // size, 1)
    columns = "".join(
        f", {quote_identifier('f_' + f)} AS {quote_identifier(p.fields[f].header)}" for f in taken
    )
    # the hashes are the writer's own (base64 may start with '+': a quote would break the
    # match key); a field sent in clear (Google's country and zip) is defused like any text
    digests = [header, *(p.fields[f].header for f in taken if p.fields[f].hashed)]
    written = []
    for i in range(parts):
        name = f"{p.name}.csv" if parts == 1 else f"{p.name}-{i + 1:03d}.csv"
        path = folder / name
        copy_csv(
            con,
            f"SELECT h AS {quote_identifier(header)}{columns}, i AS __order FROM hashed"
            f" WHERE i > {i * size} AND i <= {(i + 1) * size}",
            path,
            header=p.header,
            order_by="__order",
            digests=digests,
        )
        path.chmod(0o600)
        written.append(path)
    return written


def _rows(path: Path, p: Platform) -> int:
    with path.open("rb") as f:
        lines = sum(1 for _ in f)
    return lines - (1 if p.header else 0)
