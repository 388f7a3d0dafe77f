"""Run an aggregate spec: group-by tables, protected by suppression or by noise, and their
manifest.

Without noise, a cell counting fewer people than `min_count` (10 by default) is suppressed,
and so is every cell a published total would give away, in this run or together with the
tables released before from the same data (`anonymize.aggregate_cells`). A group value is
itself a disclosure when few people hold it (a company, a date, a phone): a suppressed cell is
written with a group value only when at least `min_count` people of the data counted hold it,
else with WITHHELD in its place (the suppressed cells that then look alike are one row), so
every value a file names is held by `min_count` people or more. Before anything is read, each
group column is checked against the data as an extract's kept column is
(`anonymize.aggregate_checks`): a date of birth, another table's identity values, values unique
per person or shaped as identifiers are refused. With
`differential_privacy`, every number carries keyed noise instead (`anonymize.noise`), within
the data set's budget. The spec itself is read by `anonymize.aggregate_spec`. Everything is
written into a new folder, which takes its name only when complete and recorded in the
release log (`dsar.records.releases`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from anonymize.aggregate_cells import Counted, Run, check_person, counted
from anonymize.aggregate_checks import group_problems
from anonymize.aggregate_spec import (
    AggregateRun,
    AggregateSpec,
    DifferentialPrivacy,
    aggregate_problems,
)
from anonymize.extract_log import group_forms, left_out_refs
from anonymize.history import (
    content_versions,
    data_version,
    dims_of,
    joins_of,
    published,
)
from anonymize.joins import (
    check_unique,
    joined_relation,
    resolve_links,
)
from anonymize.noise import TableNoise, mechanism
from anonymize.spec import checked_spec
from anonymize.suppression import Cells
from dsar._version import __version__
from dsar.catalog import Catalog
from dsar.csvsafe import copy_csv
from dsar.engine import scratch_connection
from dsar.engine.base import Engine, quote_identifier, sql_string
from dsar.engine.guards import guard_catalog
from dsar.errors import ConfigError, OutputExistsError
from dsar.faults import point
from dsar.io import partial_folder, plain_name, sha256_file
from dsar.keys import Keys, Purpose
from dsar.records.ledger import Ledger, Reason
from dsar.records.releases import Release, ReleaseLog
from dsar.review.derived import WITHHELD
from dsar.review.manifest import (
    AcceptedWarning,
    AggregateManifest,
    ArtifactKind,
    InputRef,
    NoiseInfo,
    OutputFile,
    ReleaseInfo,
    TableNoiseInfo,
    ToolInfo,
    sign_manifest,
    write_manifest,
)

TOTAL = "(total)"  # the group value of a margin row
# the people a suppression ledger leaves out of every count, as extracts leave them out
LEFT_OUT = (
    Reason.ERASED,
    Reason.RESTRICTED,
    Reason.OBJECTED_DIRECT_MARKETING,
    Reason.OPTED_OUT_SALE_SHARING,
)


@dataclass(frozen=True)
class AggregateResult:
    folder: Path
    files: dict[str, Path]
    manifest: AggregateManifest
    warnings: tuple[str, ...] = ()  # for the person running it, never published (exact counts)
    release: Release | None = None  # the run's entry in the release log


def run_aggregates(
    spec: AggregateRun | str | Path,
    engine: Engine,
    out: str | Path,
    *,
    release_log: ReleaseLog,
    now: datetime | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
    ledger: Ledger | None = None,
) -> AggregateResult:
    """Compute, suppress and write every aggregate of a spec into `out/<name>/`, and record it
    in the release log.

    `engine` (`dsar.open_engine(catalog, ...)`, DuckDB or Spark; the caller opens and closes
    it) reads the tables of its catalog and counts the cells. A catalog that can give one
    person's rows to another (`dsar.engine.guards`) is refused (`CollisionProneCatalogError`)
    unless `accept_catalog_warnings` (True, or the codes accepted); the manifest records
    them.

    `release_log` (`dsar.ReleaseLog(path, keys)`) holds every table published before from the
    same data set: this run hides whatever, with them, would give a suppressed cell back
    (`anonymize.history`); a noisy run is refused beyond the data set's ε budget
    (`BudgetExceededError`), and its noise is keyed, so the same spec on the same data gives
    the same answer. A table with several rows per person needs `person:`
    (`ExportDataError`).

    `ledger` (`dsar.Ledger`): its people (erased, restricted, objecting, opted out) are left
    out of every count, their rows in the base table and in each joined one; the manifest's
    `parameters.ledger` says it was applied and, without noise, how many people it left out.
    """
    catalog = engine.catalog
    spec, spec_path = checked_spec(
        spec, AggregateRun, catalog, aggregate_problems, what="aggregate spec"
    )
    problems = group_problems(spec, engine)  # what only the data shows: before any file
    if problems:
        source = str(spec_path) if spec_path is not None else f"<aggregate spec {spec.name}>"
        raise ConfigError(source, problems, what="aggregate spec")
    folder = Path(out) / plain_name(spec.name, "aggregate name")
    if folder.exists():
        raise OutputExistsError(
            folder, "the aggregate", "remove it first, or give the spec another name"
        )
    links, _ = resolve_links(catalog, spec.table, spec.join)
    where, where_params = "TRUE", list[object]()
    keep: dict[str, str] = {}
    join_params: list[object] = []
    if ledger is not None:
        where, where_params = ledger.sql_excluding(
            catalog.tables[spec.table], LEFT_OUT, catalog=catalog
        )
        for link in links:  # a joined row of someone in the ledger joins nothing
            cond, cond_params = ledger.sql_excluding(
                catalog.tables[link.table], LEFT_OUT, catalog=catalog
            )
            if cond != "TRUE":
                keep[link.table] = cond
                join_params += cond_params
    everyone = (
        joined_relation(spec.table, links, spec.sources(catalog))
        if links
        else quote_identifier(spec.table)
    )
    relation = joined_relation(spec.table, links, spec.sources(catalog), keep) if keep else everyone
    if where != "TRUE":
        relation = f"(SELECT * FROM {relation} AS __counted WHERE {where})"
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    check_unique(engine, links)
    check_person(engine, catalog, spec)
    keys = release_log.keys
    out_count, out_ref, out_refs = _left_out(
        engine, keys, spec, everyone, (relation, [*join_params, *where_params])
    )
    dims = dims_of(spec, catalog)
    read = [spec.table, *(j.table for j in spec.join)]
    versions = data_version(catalog, keys, read)
    contents = content_versions(engine, keys, read)
    rows_in = engine.count_rows(spec.table)
    with partial_folder(Path(out), folder.name) as work:
        # recorded first, then published: a run killed between the two leaves a recorded
        # release and no folder (counted once too often, never published unrecorded)
        with release_log.recording() as book:
            done = counted(
                Run(
                    engine,
                    relation,
                    spec,
                    dims,
                    versions,
                    book.releases(),
                    keys,
                    contents,
                    params=(*join_params, *where_params),
                    where=(where, tuple(where_params)),
                    left_out=out_ref,
                    left_refs=out_refs,
                )
            )
            cells = done.cells
            rare = (
                _rare_values(engine, relation, [*join_params, *where_params], spec)
                if done.spending is None
                else {}
            )
            written = {
                a.name: _write(a, [c for c in cells if c.spec is a], spec, work, rare)
                for a in spec.aggregates
            }
            files = {n: p for n, (p, _, _) in written.items()}
            release = book.append(
                Release(
                    run=spec.name,
                    folder=folder.name,
                    dataset=spec.table,
                    method="suppression" if done.spending is None else "differential_privacy",
                    versions=done.versions,
                    joins=joins_of(spec),
                    tables=published(cells, dims),
                    files={p.name: sha256_file(p) for p in files.values()},
                    charges=done.charges,
                    budget=(
                        spec.differential_privacy.budget if spec.differential_privacy else None
                    ),
                    contents=contents,
                    # what ledger differencing compares (`anonymize.extract_log`)
                    released=group_forms(
                        sorted({dims[g] for a in spec.aggregates for g in a.group_by})
                    )
                    if done.spending is None
                    else (),
                    left_out=out_refs if done.spending is None else (),
                    k=spec.min_count if done.spending is None else None,
                )
            )
            manifest = _manifest(
                spec, spec_path, engine, catalog, work, written, done, rows_in, accepted, now
            )
            update: dict[str, Any] = {"release": _release_info(release_log, release, done)}
            if ledger is not None:
                noisy = done.spending is not None
                who = "people_left_out" if spec.person else "rows_left_out"
                # under noise, no exact count: how many of the ledger's people are here
                left = {"applied": True, who: None if noisy else out_count}
                update["parameters"] = {**manifest.parameters, "ledger": left}
            manifest = manifest.model_copy(update=update)
            # keyed: an edited manifest is found by `dsar verify` with the key
            write_manifest(sign_manifest(manifest, keys), work / "manifest.json")
        point("aggregate.publish")
        work.rename(folder)
    noise = done.noise
    warnings = tuple(
        f"{name}: {column} values not in differential_privacy.keys were left out:"
        f" {', '.join(values[:5])}{' ...' if len(values) > 5 else ''}"
        for name, n in noise.items()
        for column, values in n.outside_keys.items()
    ) + tuple(
        f"{name}: {n.people_left_out} (person, cell) pairs beyond max_groups_per_person left out"
        for name, n in noise.items()
        if n.people_left_out
    )
    warnings += done.warnings
    files_now = {k: folder / v.name for k, v in files.items()}
    return AggregateResult(folder, files_now, manifest, warnings, release)


def _left_out(
    engine: Engine,
    keys: Keys,
    spec: AggregateRun,
    everyone: str,
    counted: tuple[str, list[object]],
) -> tuple[int, str | None, tuple[str, ...]]:
    """How many people (rows, without `person:`) the ledger leaves out: those of the relation
    as read (`everyone`) that the relation as counted no longer holds; a keyed fingerprint
    of who (None: nobody left out, the same people counted as without it); and keyed
    references of each, as an extract records them (`anonymize.extract_log.left_out_refs`:
    the digest of the person's value; without `person:`, one per row)."""
    relation, params = counted
    if relation == everyone:
        return 0, None, ()
    if spec.person is None:
        got = engine.query(
            f"SELECT (SELECT count(*) FROM {everyone}) - (SELECT count(*) FROM {relation}) AS n",
            params,
        )
        n = int(got.to_pylist()[0]["n"])
        ref = keys.keyed_hash(Purpose.RELEASE_REF, f"left-out-rows|{n}")[:32] if n else None
        return n, ref, left_out_refs(keys, [], n)
    person = f"CAST({quote_identifier(spec.person)} AS VARCHAR)"
    found = engine.query(
        f"SELECT DISTINCT {person} AS p FROM {everyone} WHERE {person} IS NOT NULL"
        f" EXCEPT SELECT DISTINCT {person} AS p FROM {relation}",
        params,
    ).column("p")
    people = sorted(str(p) for p in found.to_pylist())
    if not people:
        return 0, None, ()
    who = keys.keyed_hash(Purpose.RELEASE_REF, "left-out|" + "\x1f".join(people))[:32]
    # the digest an extract's person column gets (`anonymize.enforce.who_sql`), not security
    digests = [hashlib.md5(p.encode(), usedforsecurity=False).hexdigest() for p in people]
    return len(people), who, left_out_refs(keys, digests)


def _manifest(
    spec: AggregateRun,
    spec_path: Path | None,
    engine: Engine,
    catalog: Catalog,
    work: Path,
    written: dict[str, tuple[Path, int, int]],
    done: Counted,
    rows_in: int,
    accepted: Any,
    now: datetime | None,
) -> AggregateManifest:
    noisy = bool(done.noise)
    withheld = sum(w for _, _, w in written.values())
    return AggregateManifest(
        kind=ArtifactKind.AGGREGATE,
        format_version=1,
        tool=ToolInfo(name="privacy-workbench", version=__version__, engine=engine.name),
        created_at=now or datetime.now(UTC),
        inputs=_inputs(catalog, spec_path, spec.table, [j.table for j in spec.join], noisy),
        outputs=tuple(
            OutputFile.of(p, work, rows=rows, table=spec.table) for p, rows, _ in written.values()
        ),
        parameters={"format": spec.output.format}
        | ({"withheld_group_values": withheld} if withheld else {}),
        name=spec.name,
        table=spec.table,
        rows_in=None if noisy else rows_in,
        min_count=spec.min_count,
        counts_people=spec.person is not None,
        cells={n: rows for n, (_, rows, _) in written.items()},
        suppressed=done.suppressed,
        group_by={a.name: tuple(a.group_by) for a in spec.aggregates},
        measures={a.name: {m.name: m.op for m in a.measures} for a in spec.aggregates},
        differential_privacy=_dp_record(spec.differential_privacy, done.noise),
        accepted_catalog_warnings=tuple(map(AcceptedWarning.of, accepted)),
    )


def _release_info(log: ReleaseLog, release: Release, done: Counted) -> ReleaseInfo:
    spending = done.spending
    return ReleaseInfo(
        log=log.path.name,
        entry=release.seq,
        dataset=release.dataset,
        # under noise, not even whether the data changed between two runs is published
        data_version=release.versions if spending is None else {},
        compared_with=tuple(r.seq for r in done.compared),
        suppressed_for_earlier=done.suppressed.get("for_earlier_releases", 0),
        epsilon_budget=spending.budget if spending else None,
        epsilon_spent=round(spending.spent_before + spending.charged, 9) if spending else None,
        epsilon_charged=spending.charged if spending else None,
    )


def _number(value: Any, op: str) -> Any:
    """A cell's value as its column holds it: counts as they are, other measures as floats."""
    if value is None or op == "count":
        return value
    return float(value)


def _rare_values(
    engine: Engine, relation: str, params: list[object], run: AggregateRun
) -> dict[str, set[str]]:
    """Per group column, the values (as written) fewer than `min_count` people (rows, without
    `person:`) of the relation counted hold."""
    who = f"count(DISTINCT {quote_identifier(run.person)})" if run.person else "count(*)"
    found: dict[str, set[str]] = {}
    for column in dict.fromkeys(g for a in run.aggregates for g in a.group_by):
        col = quote_identifier(column)
        got = engine.query(
            f"SELECT {col} AS v FROM {relation} WHERE {col} IS NOT NULL GROUP BY ALL"
            f" HAVING {who} < {int(run.min_count)}",
            params,
        )
        found[column] = {str(v) for v in got.column("v").to_pylist()}
    return found


def _write(
    agg: AggregateSpec,
    parts: list[Cells],
    run: AggregateRun,
    folder: Path,
    rare: dict[str, set[str]],
) -> tuple[Path, int, int]:
    """One file per aggregate: its cells, then its margins (TOTAL in the collapsed columns);
    a suppressed cell's group values that are `rare` written WITHHELD, the suppressed cells
    alike once. Returns the file, its rows and the suppressed cells written without a value."""
    records: list[dict[str, Any]] = []
    withheld = 0
    for cells in parts:
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for key in sorted(cells.counts, key=lambda k: tuple(str(v) for v in k)):
            given = dict(zip(cells.group_by, key, strict=True))
            row: dict[str, Any] = {
                g: (str(given[g]) if given[g] is not None else None) if g in given else TOTAL
                for g in agg.group_by
            }
            hidden = key in cells.suppressed
            if hidden:
                names = {g: v for g, v in row.items() if v is not None and v in rare.get(g, ())}
                withheld += bool(names)
                row.update(dict.fromkeys(names, WITHHELD))
            row.update(
                {
                    # a sum of integers comes back as a Decimal (HUGEINT): a number either way
                    m.name: None if hidden else _number(cells.values[key][m.name], m.op)
                    for m in agg.measures
                }
            )
            why = cells.suppressed.get(key)
            row["suppressed"] = why
            seen = merged.setdefault(tuple(row[g] for g in agg.group_by), row)
            if seen is not row and why == "primary":
                seen["suppressed"] = why  # a value held by few: primary among them
        records += sorted(merged.values(), key=lambda r: tuple(str(r[g]) for g in agg.group_by))
    path = folder / f"{plain_name(agg.name, 'aggregate name')}.{run.output.format}"
    schema = pa.schema(
        [pa.field(g, pa.string()) for g in agg.group_by]
        + [pa.field(m.name, pa.int64() if m.op == "count" else pa.float64()) for m in agg.measures]
        + [pa.field("suppressed", pa.string())]
    )
    table = pa.Table.from_pylist(records, schema=schema)
    con = scratch_connection()
    try:
        con.register("t", table)
        if run.output.format == "csv":  # a group value a spreadsheet would run gets a quote
            copy_csv(con, "SELECT * FROM t", path)
        else:
            con.execute(f"COPY t TO {sql_string(str(path))} (FORMAT parquet)")
    finally:
        con.close()
    path.chmod(0o600)
    return path, len(records), withheld


def _dp_record(
    dp_spec: DifferentialPrivacy | None, noise: dict[str, TableNoise]
) -> NoiseInfo | None:
    if dp_spec is None:
        return None
    declared = all(n.threshold is None for n in noise.values())
    return NoiseInfo(
        epsilon=dp_spec.epsilon,
        delta=None if declared else dp_spec.delta,
        mechanism=mechanism(),
        max_groups_per_person=dp_spec.max_groups_per_person,
        tables={
            name: TableNoiseInfo(
                epsilon=n.epsilon,
                count_scale=n.count_scale,
                sum_scales=dict(n.sum_scales),
                release_threshold=n.threshold,
            )
            for name, n in noise.items()
        },
    )


def _inputs(
    catalog: Catalog, spec_path: Path | None, table: str, joined: list[str], noisy: bool
) -> tuple[InputRef, ...]:
    """The catalog, the spec and the source files; under differential privacy, the sources by
    name only (a checksum of the data is an exact function of it)."""
    files = [f for t in (table, *joined) for f in catalog.files(t)]
    refs = [
        InputRef(
            role="catalog",
            name=catalog.source.name if catalog.source else None,
            sha256=sha256_file(catalog.source) if catalog.source else None,
        )
    ]
    if spec_path is not None:
        refs.append(InputRef(role="spec", name=spec_path.name, sha256=sha256_file(spec_path)))
    refs += [
        InputRef(role="source", name=p.name, sha256=None if noisy else sha256_file(p))
        for p in files
    ]
    return tuple(refs)
