"""Run a policy: a de-identified extract of one catalog table, its risk measured and enforced.

The source streams through DuckDB as Arrow record batches, the structured operators computed
in the query and the Python ones (pseudonyms, free text) applied per batch, into a staging
Parquet file: memory stays bounded whatever the input's size. Then, over the staging file:
the classes of quasi-identifiers smaller than k (or with fewer than l sensitive values) are
suppressed and counted; the run fails when that exceeds the policy's budget, or when a class
is further than t from the whole. The extract, its manifest (inputs and outputs with their
checksums, rows in and out, suppressions by reason, k, l, t and the risks achieved) and
nothing else are written into a new folder, which takes its name only when complete; given a
release log, the extract is checked against the data set's earlier releases and recorded there
first (`anonymize.extract_log`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from anonymize.classify import classify
from anonymize.enforce import WHO, enforce, who_sql
from anonymize.extract_log import Released, check_extract, gives_away, left_out_refs
from anonymize.history import content_versions, data_version
from anonymize.joins import Link, check_unique, joined_relation, resolve_links
from anonymize.leaks import is_birth_date
from anonymize.link_check import check_link, column_forms, link_name
from anonymize.operators import PERSON_COLUMN, Context, apply_python, select_list
from anonymize.parallel import (
    SPANS,
    add_spans,
    spans_columns,
    take_spans,
    with_spans,
    workers_for,
)
from anonymize.params import DateShift, Redact
from anonymize.policy import Policy, policy_problems
from anonymize.risk import RiskReport, measure, unique_texts
from anonymize.sampling import sampled_problems
from anonymize.search import SearchResult, describe, generalised, search
from anonymize.spec import checked_spec
from anonymize.uniqueness import uniqueness
from dsar._version import __version__
from dsar.catalog import Catalog
from dsar.csvsafe import copy_csv
from dsar.engine import Engine, scratch_connection
from dsar.engine.base import quote_identifier, sql_in, sql_string
from dsar.engine.guards import guard_catalog
from dsar.errors import ConfigError, ExtractRejectedError, OutputExistsError, PrivacyTargetError
from dsar.io import partial_folder, plain_name, set_aside, sha256_file
from dsar.keys import Keys, Purpose
from dsar.records.ledger import Ledger, Reason
from dsar.records.releases import Release, ReleaseLog
from dsar.review.derived import source_identities, verify_derived
from dsar.review.manifest import (
    AcceptedWarning,
    ArtifactKind,
    ExtractManifest,
    InputRef,
    OutputFile,
    RiskInfo,
    ToolInfo,
    sign_manifest,
    write_manifest,
)

BATCH_ROWS = 65_536
MEMORY_LIMIT = "512MB"  # per DuckDB connection: a 5 GB input stays under 1 GiB (measured)
"""The run's own connection's memory (and the CLI's engine's): beyond it, DuckDB spills."""
EXCLUDED = (
    Reason.ERASED,
    Reason.RESTRICTED,
    Reason.OBJECTED_DIRECT_MARKETING,
    Reason.OPTED_OUT_SALE_SHARING,
)
ORDER = "__order"
"""The staged column of each row's place in the extract (a keyed hash); never written."""
ProgressFn = Callable[[int], None]
"""Called with the rows just processed."""


@dataclass(frozen=True)
class _Run:
    """The settings of one run, as `run_extract` was given them."""

    keys: Keys | None
    ledger: Ledger | None
    progress: ProgressFn | None
    now: datetime | None
    memory_limit: str
    spill: Path
    workers: int | None
    accept_catalog_warnings: bool | Collection[str] = False
    release_log: ReleaseLog | None = None


@dataclass(frozen=True)
class ExtractResult:
    """A written extract: its folder, its data file, its manifest and its measured risk."""

    folder: Path
    file: Path
    manifest: ExtractManifest
    risk: RiskReport
    search: SearchResult | None = None  # the levels chosen, when the policy gives levels
    release: Release | None = None  # the extract's entry in the release log, when given one


def run_extract(
    policy: Policy | str | Path,
    engine: Engine,
    out: str | Path,
    *,
    keys: Keys | None = None,
    ledger: Ledger | None = None,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
    memory_limit: str = MEMORY_LIMIT,
    workers: int | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
    release_log: ReleaseLog | None = None,
) -> ExtractResult:
    """Make the de-identified extract a policy describes, in `out/<policy name>/`.

    Args:
        policy: a loaded policy, or the path of its YAML file (either checked against the
            engine's catalog).
        engine: where the tables are read and the policy's SQL runs: the caller opens it
            with `dsar.open_engine(catalog, kind, **options)` (DuckDB or Spark: the same
            extract, byte for byte) and closes it; the catalog is the engine's. Its memory
            and where it spills are the caller's to set: `anonymize extract` opens DuckDB
            with `memory_limit` and a private spill folder in `out`, removed after.
        out: the folder the extract's own folder is made in.
        keys: the secret key; needed by hash, pseudonym, date shift and keyed redaction.
        ledger: the suppression ledger; its people are left out when the policy says so.
        progress: called with the rows of each batch processed.
        memory_limit: DuckDB's memory for the run's own connection, which suppresses,
            searches and measures over the staged rows (beyond it, it spills into the run's
            private work folder, removed at the end).
        workers: processes finding personal data in free text (None: every core on machines
            of 4 cores or more, when the table has free text and 20,000 rows or more; on
            fewer cores the model already runs on two processes). The output is the same.
        accept_catalog_warnings: run although the catalog can give one person's rows to
            another (`dsar.engine.guards`): True, or the codes accepted; the manifest
            records them.
        release_log: the data set's release log (`dsar.ReleaseLog`): the extract is checked
            against the earlier releases of the same data (aggregates and extracts) and
            recorded there before it takes its name (`anonymize.extract_log`).

    Raises:
        CollisionProneCatalogError: such a catalog, not accepted.
        ReleaseConflictError: with an earlier release of the same data, it would give back
            what that release (or this extract) protected.
        ConfigError: the policy is invalid for this catalog.
        PrivacyTargetError: k, l or t cannot be met within the suppression budget.
    """
    catalog = engine.catalog
    policy, policy_path = checked_spec(policy, Policy, catalog, policy_problems, what="policy")
    sampled = sampled_problems(policy, engine)  # what only the data shows: before any file
    if sampled:
        source = str(policy_path) if policy_path is not None else f"<policy {policy.name}>"
        raise ConfigError(source, sampled, what="policy")
    links, _ = resolve_links(catalog, policy.table, policy.join)
    name = plain_name(policy.name, "policy name")
    out = Path(out)
    folder = out / name
    if folder.exists():
        raise OutputExistsError(
            folder, "the extract", "remove it first, or give the policy another name"
        )
    with partial_folder(out, name) as work:
        run = _Run(
            keys,
            ledger,
            progress,
            now,
            memory_limit,
            work / ".spill",
            workers,
            accept_catalog_warnings,
            release_log,
        )
        result, gives = _run(policy, links, policy_path, engine, work, run)
        # the reviewer's own checks, before the extract takes its name: the manifest's MAC
        # under the key, and no cell equal to an identity value of the tables read
        identities = source_identities(engine, [policy.table, *(link.table for link in links)])
        checked = verify_derived(work, keys=keys, identities=identities)
        findings = [str(f) for f in checked.findings]
        entry = None
        if findings:
            aside = set_aside(work, out, name, "policy name")
        elif release_log is None or gives is None:
            work.rename(folder)
        else:  # recorded first, then published, as an aggregate run is
            with release_log.recording() as book:
                earlier = book.releases()
                entry = book.append(
                    _checked(earlier, engine, policy, gives, result, release_log.keys, name)
                )
                work.rename(folder)
    if findings:
        raise ExtractRejectedError(aside, findings)
    file = folder / result.file.name
    return ExtractResult(folder, file, result.manifest, result.risk, result.search, entry)


def _checked(
    earlier: list[Release],
    engine: Engine,
    policy: Policy,
    gives: Released,
    done: ExtractResult,
    keys: Keys,
    folder: str,
) -> Release:
    """The extract's entry in the release log, once checked against the earlier releases of
    the same data (`ReleaseConflictError`)."""
    read = [policy.table, *(j.table for j in policy.join)]
    contents = content_versions(engine, keys, read)
    check_link(earlier, engine, policy)  # extracts sharing a link name join on their hashes
    check_extract(earlier, engine, keys, policy, gives, contents)
    return Release(
        run=policy.name,
        folder=folder,
        dataset=policy.table,
        method="extract",
        versions=data_version(engine.catalog, keys, read),
        joins=tuple((j.table, j.via) for j in policy.join),
        tables=gives.tables(policy.name),
        files={done.file.name: sha256_file(done.file)},
        contents=contents,
        released=gives.forms,
        left_out=gives.left_out,
        k=policy.privacy.k,
        groups=gives.groups,
        link=link_name(policy),
        link_stated=policy.link is not None,
        columns=column_forms(policy),
    )


def _run(
    policy: Policy,
    links: list[Link],
    policy_path: Path | None,
    engine: Engine,
    work: Path,
    run: _Run,
) -> tuple[ExtractResult, Released | None]:
    catalog = engine.catalog
    table = catalog.tables[policy.table]
    stage = work / ".stage.parquet"
    sources = policy.sources()
    accepted = guard_catalog(catalog, engine, run.accept_catalog_warnings)
    check_unique(engine, links)
    tables = {policy.table: engine.columns(policy.table)}
    tables.update({link.table: engine.columns(link.table) for link in links})
    types = {out: tables[src.table].get(src.column, "") for out, src in sources.items()}
    person_sql = quote_identifier(policy.person) if policy.person else None
    ctx = Context(run.keys, person_sql, types, link=policy.link or policy.name)
    classified = classify(policy, catalog)
    qis = classified.quasi_identifiers
    exprs, params, python = select_list(policy.operators(), ctx)
    # whose row it is, as a digest (k counts people), through the catalog's identity links
    # for a row without its person's id (a device seen with a user); never written
    who = who_is = None
    if policy.person:
        at = sources[policy.person]
        who_is = who_sql(catalog, policy.table, policy.person, (at.table, at.column))
        who = f"{who_is} AS {quote_identifier(WHO)}"
    exprs += [who] if who else []
    where, where_params = "TRUE", list[object]()
    keep: dict[str, str] = {}
    join_params: list[object] = []
    left_out: list[str] = []  # whose rows the ledger left out (their digests)
    if run.ledger is not None and policy.exclude_ledger:
        where, where_params = run.ledger.sql_excluding(table, EXCLUDED, catalog=catalog)
        for link in links:  # a joined row of someone in the ledger joins nothing
            cond, cond_params = run.ledger.sql_excluding(
                catalog.tables[link.table], EXCLUDED, catalog=catalog
            )
            if cond != "TRUE":
                keep[link.table] = cond
                join_params += cond_params
    rows_in = engine.count_rows(policy.table)
    relation = (
        joined_relation(policy.table, links, sources, keep) + " AS __src"
        if links
        else quote_identifier(policy.table)
    )
    if who_is is not None and where != "TRUE":
        # a person the ledger holds loses their rows without an id too (the web log lines
        # their device left while signed out): every row whose person is theirs
        gone_params = [*join_params, *where_params]
        gone = engine.query(
            f"SELECT DISTINCT {who_is} AS w FROM {relation} WHERE ({where}) IS NOT TRUE",
            gone_params,
        ).column("w")
        digests = [d for d in gone.to_pylist() if d is not None]
        left_out = [str(d) for d in digests]
        if digests:
            more: list[object] = []
            where = f"({where}) AND NOT coalesce({sql_in(f'({who_is})', digests, more)}, FALSE)"
            where_params = [*where_params, *more]
    sql = f"SELECT {', '.join(exprs)} FROM {relation} WHERE {where}"
    all_params = [*params, *join_params, *where_params]  # in the order they appear
    redacted = {c: spec for c, spec in python.items() if isinstance(spec, Redact)}
    workers = workers_for(rows_in, redacted, run.workers)
    empty = engine.query(f"SELECT * FROM ({sql}) LIMIT 0", all_params)  # its schema
    produced: Iterator[pa.RecordBatch]
    after: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]] | None = None
    if python and not redacted:
        # each batch on its own (keyed hashes, pseudonyms and shifts depend on the value
        # and the key alone): the engine may spread them (Spark's mapInArrow)
        schema = apply_python_table(empty, python, ctx).schema
        produced = engine.map_batches(
            sql, all_params, lambda b: apply_python(b, python, ctx), schema, BATCH_ROWS
        )
    elif redacted and engine.distributes:
        # the engine's workers find the spans (the model's work); placeholders are
        # numbered in the order texts come, so the replacing stays here, after the shuffle
        produced = engine.map_batches(
            sql,
            all_params,
            lambda b: add_spans(b, redacted),
            spans_columns(empty.schema, redacted),
            BATCH_ROWS,
        )

        def after(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for b, found in take_spans(batches, redacted):
                yield apply_python(b, python, ctx, found)

    else:
        # placeholders are numbered in the order texts come: replaced after the shuffle
        produced = engine.stream(sql, all_params, batch_size=BATCH_ROWS)
        if python:

            def after(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
                if workers > 1:
                    for b, found in with_spans(batches, redacted, workers):
                        yield apply_python(b, python, ctx, found)
                else:
                    for b in batches:
                        yield apply_python(b, python, ctx)

    pre = work / ".stage-pre.parquet"
    kept = _write_stage(pre, produced, run.progress)
    if kept is None:  # nothing came out: an empty stage with the query's schema
        pq.write_table(apply_python_table(empty, python, ctx), pre)
        kept, after = 0, None
    # the rows in a keyed pseudo-random order, before any placeholder is numbered: the
    # extract's order says nothing of the source's (which would link its rows back)
    _shuffle(pre, stage, run.keys or Keys(os.urandom(32)), run.memory_limit, run.spill)
    pre.unlink()
    if after is not None:
        ordered = work / ".stage-ordered.parquet"
        stage.rename(ordered)
        batches = pq.ParquetFile(ordered).iter_batches(batch_size=BATCH_ROWS)
        _write_stage(stage, after(iter(batches)), None)
        ordered.unlink()
    source_stage = work / ".source.parquet"  # the released columns' own values, for the risk
    raw = [f"{quote_identifier(q)} AS {quote_identifier(q)}" for q in qis]
    raw += [who] if who else []
    _stage_source(
        engine,
        source_stage,
        f"SELECT {', '.join(raw) or '1 AS __one'} FROM {relation} WHERE {where}",
        [*join_params, *where_params],
    )
    source_files = [f for t in tables for f in engine.files(t)]
    con = scratch_connection(memory_limit=run.memory_limit, spill=run.spill)
    found: SearchResult | None = None
    person = WHO if who else None
    try:
        if policy.searched():  # the least generalisation meeting the targets, then apply it
            src = f"read_parquet({sql_string(str(stage))})"
            effective = policy.model_copy(update={"quasi_identifiers": list(qis)})
            counted = kept
            if person is not None:
                got = con.execute(f"SELECT count(DISTINCT {quote_identifier(WHO)}) FROM {src}")
                counted = int((got.fetchone() or (0,))[0])
            withheld = _withheld(policy, catalog)
            found = search(con, src, effective, ctx, counted, withheld=withheld, person=person)
            items, params = generalised(policy, ctx, found)
            if items:  # none when every column keeps its original value
                chosen = work / ".stage-generalised.parquet"
                con.execute(
                    f"COPY (SELECT * REPLACE ({', '.join(items)}) FROM {src})"
                    f" TO {sql_string(str(chosen))} (FORMAT parquet)",
                    params,
                )
                stage.unlink()
                stage = chosen
        staged = f"read_parquet({sql_string(str(stage))})"
        enforced = enforce(
            con,
            staged,
            qis,
            policy.sensitive,
            k=policy.privacy.k,
            l_target=policy.privacy.l,
            budget=policy.privacy.max_suppression,
            person=person is not None,
        )
        target = work / Path(policy.output.path).name
        hidden = [quote_identifier(c) for c in (WHO, ORDER) if c != WHO or person]
        written = (
            f"SELECT * EXCLUDE ({', '.join(hidden)}) FROM ({enforced.sql})"
            f" ORDER BY {quote_identifier(ORDER)}"
        )
        _copy(con, written, target, policy.output.format)
        final = f"({enforced.sql})"
        # a pseudonym released (the person's, or another identity's: a device): the rows
        # it links are measured as each person's multiset of rows (`measure`), the person's
        # own first
        linked = sorted(classified.pseudonyms, key=lambda c: c != policy.person)
        risk = measure(con, final, qis, policy.sensitive, person=person, linked_by=linked)
        texts = [c for c, spec in python.items() if isinstance(spec, Redact)]
        risk = replace(risk, text_unique=unique_texts(con, final, texts))
        gives = None
        if run.release_log is not None:  # what its rows give away, for the release log
            rows_left = rows_in - kept if who_is is None else 0
            refs = left_out_refs(run.release_log.keys, left_out, rows_left)
            gives = gives_away(
                con,
                final,
                engine,
                (f"{relation} WHERE {where}", [*join_params, *where_params]),
                policy,
                found,
                ctx,
                run.release_log.keys,
                person=person,
                who_sql=who_is,
                left_out=refs,
            )
        unique = uniqueness(
            con,
            source=f"read_parquet({sql_string(str(source_stage))})",
            transformed=staged,
            released=final,
            quasi_identifiers=qis,
            person=person,
            k=policy.privacy.k,
        )
    finally:
        con.close()
    stage.unlink()
    source_stage.unlink()
    if policy.privacy.t is not None:
        far = {s: t for s, t in risk.t_closeness.items() if t > policy.privacy.t}
        if far:
            raise PrivacyTargetError(
                f"t-closeness {policy.privacy.t} not met: "
                + ", ".join(f"{s} reaches {t:.3f}" for s, t in far.items())
                + "; generalise the quasi-identifiers further or raise t",
                target="t",
                required=policy.privacy.t,
                observed=max(far.values()),
            )
    suppressed = {**enforced.rows, "ledger": rows_in - kept}
    manifest = _manifest(
        policy, policy_path, engine, source_files, target, work, rows_in, suppressed, risk, run
    )
    left = sum(enforced.people.values())
    loss = {"suppressed_share": round(left / unique.people, 6) if unique.people else 0.0}
    update: dict[str, object] = {
        "classification": classified.described(),
        "person": policy.person,
        "people_in": unique.people if person else None,
        "people_out": risk.people if person else None,
        "suppressed_people": dict(enforced.people) if person else {},
        "uniqueness": unique,
    }
    if accepted:
        update["accepted_catalog_warnings"] = tuple(map(AcceptedWarning.of, accepted))
    if found is not None:
        searched = policy.searched()
        update["generalisation"] = {c: describe(searched[c], i) for c, i in found.levels().items()}
        loss = {**found.information_loss(), **loss}
    update["information_loss"] = loss
    manifest = manifest.model_copy(update=update)
    manifest = sign_manifest(manifest, run.keys)  # its classification, authenticated
    write_manifest(manifest, work / "manifest.json")
    return ExtractResult(work, target, manifest, risk, found), gives


def _withheld(policy: Policy, catalog: Catalog) -> set[str]:
    """Searched columns the catalog marks as personal data, or dates of birth: the search
    never releases their original value (the policy checked that each of their levels is
    coarse)."""
    sources = policy.sources()
    found = set()
    for c in policy.searched():
        spec = catalog.tables[sources[c].table].columns[sources[c].column]
        if spec.personal is not None or is_birth_date(sources[c].column, spec):
            found.add(c)
    return found


def apply_python_table(table: pa.Table, python: dict[str, object], ctx: Context) -> pa.Table:
    batches = [apply_python(b, python, ctx) for b in table.to_batches()]
    if batches:
        return pa.Table.from_batches(batches)
    schema = table.schema
    hidden = PERSON_COLUMN.strip('"')
    if hidden in schema.names:
        schema = schema.remove(schema.get_field_index(hidden))
    for name, spec in python.items():
        if isinstance(spec, DateShift):
            if spec.truncate == "day":  # a timestamp cut to its day is a date
                i = schema.get_field_index(name)
                schema = schema.set(i, pa.field(name, pa.date32()))
            continue  # dates stay dates
        i = schema.get_field_index(name)
        schema = schema.set(i, pa.field(name, pa.string()))
    return schema.empty_table()


def _shuffle(pre: Path, stage: Path, keys: Keys, memory_limit: str, spill: Path) -> None:
    """Copy the staged rows into `stage` in a keyed pseudo-random order, kept in its ORDER
    column: a keyed hash of the row's whole content (whose row it is included), so the same
    key, policy and data give the same order, and nothing of the source's row order stays."""
    src = f"read_parquet({sql_string(str(pre))})"
    # the rows' own columns, not the spans found in their texts (only Spark's stage has them)
    own = [n for n in pq.read_schema(pre).names if not n.startswith(SPANS)]
    row = ", ".join(f"{quote_identifier(n)} := {quote_identifier(n)}" for n in own)
    content = f"CAST(to_json(struct_pack({row})) AS VARCHAR)"
    digest, params = keys.sql_keyed_hash(Purpose.EXTRACT_ORDER, content)
    con = scratch_connection(memory_limit=memory_limit, spill=spill)
    try:
        con.execute(
            f"COPY (SELECT *, {digest} AS {quote_identifier(ORDER)} FROM {src}"
            f" ORDER BY {quote_identifier(ORDER)}) TO {sql_string(str(stage))} (FORMAT parquet)",
            params,
        )
    finally:
        con.close()


def _stage_source(engine: Engine, path: Path, sql: str, params: list[object]) -> None:
    """The source values of the released columns, for the risk before the operators."""
    if _write_stage(path, engine.stream(sql, params, batch_size=BATCH_ROWS), None) is None:
        pq.write_table(engine.query(f"SELECT * FROM ({sql}) LIMIT 0", params), path)


def _write_stage(
    path: Path, batches: Iterator[pa.RecordBatch], progress: ProgressFn | None
) -> int | None:
    """Write the batches, counting their rows."""
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for batch in batches:
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
            if progress is not None:
                progress(batch.num_rows)
    finally:
        if writer is not None:
            writer.close()
    return rows if writer is not None else None


def _copy(con: duckdb.DuckDBPyConnection, sql: str, target: Path, fmt: str) -> None:
    if fmt == "csv":  # a text cell a spreadsheet would run gets a quote (`dsar.csvsafe`)
        copy_csv(con, sql, target)
    else:
        options = {"parquet": "FORMAT parquet", "jsonl": "FORMAT json"}
        con.execute(f"COPY ({sql}) TO {sql_string(str(target))} ({options[fmt]})")
    target.chmod(0o600)


def _manifest(
    policy: Policy,
    policy_path: Path | None,
    engine: Engine,
    sources: list[Path],
    target: Path,
    work: Path,
    rows_in: int,
    suppressed: dict[str, int],
    risk: RiskReport,
    run: _Run,
) -> ExtractManifest:
    catalog = engine.catalog
    inputs = [InputRef(role="catalog", name=_name(catalog.source), sha256=_sha(catalog.source))]
    if policy_path is not None:
        inputs.append(
            InputRef(role="policy", name=policy_path.name, sha256=sha256_file(policy_path))
        )
    else:
        digest = hashlib.sha256(policy.model_dump_json().encode()).hexdigest()
        inputs.append(InputRef(role="policy", name=None, sha256=digest))
    inputs += [InputRef(role="source", name=p.name, sha256=sha256_file(p)) for p in sources]
    return ExtractManifest(
        kind=ArtifactKind.EXTRACT,
        format_version=1,
        tool=ToolInfo(name="privacy-workbench", version=__version__, engine=engine.name),
        created_at=run.now or datetime.now(UTC),
        inputs=tuple(inputs),
        outputs=(OutputFile.of(target, work, rows=risk.rows, table=policy.table),),
        parameters={
            "format": policy.output.format,
            "joined": [join.table for join in policy.join],
            **({"one_row_per_person": policy.person_none} if policy.person_none else {}),
        },
        name=policy.name,
        table=policy.table,
        rows_in=rows_in,
        rows_out=risk.rows,
        suppressed=suppressed,
        targets={
            "k": policy.privacy.k,
            "l": policy.privacy.l,
            "t": policy.privacy.t,
            "max_suppression": policy.privacy.max_suppression,
        },
        risk=RiskInfo(**risk.to_dict()),
        columns={c: op.op for c, op in policy.operators().items()},
    )


def _name(path: Path | None) -> str | None:
    return path.name if path is not None else None


def _sha(path: Path | None) -> str | None:
    return sha256_file(path) if path is not None and path.is_file() else None
