"""The `anonymize` command: de-identified extracts and risk, aggregates, audiences, publishing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from anonymize.publish_cli import publish
from dsar.cli.common import (
    AcceptWarningsOpt,
    EngineOpt,
    SparkMasterOpt,
    engine_options,
    existing_ledger,
    optional_keys,
    run_cli,
)
from dsar.errors import InputFileError, OutputExistsError, UsageError

if TYPE_CHECKING:
    from anonymize.audience.fields import Field
    from dsar.catalog import Catalog
    from dsar.engine import Engine
    from dsar.review.manifest import ExtractManifest

__all__ = ["app", "main"]

app = typer.Typer(
    name="anonymize",
    help="Privacy Workbench: de-identified extracts and their risk, aggregate tables, ad"
    " audiences and their withdrawal, published support requests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--key-file", help="File holding the secret key (default: $WORKBENCH_KEY)."),
]
AuditLogLostOpt = Annotated[
    bool,
    typer.Option(
        "--audit-log-lost",
        help="The sent record's audit log was lost: accept the record without it and start a"
        " new log that says so (without this, a record whose log is missing is refused).",
    ),
]


ReleaseLogOpt = Annotated[
    Path,
    typer.Option(
        "--release-log",
        envvar="WORKBENCH_RELEASE_LOG",
        help="The release log: every table published from a data set, checked against by"
        " each new run, and the privacy budget spent (default: releases.db in the working"
        " folder, like requests.db; never beside the key file).",
    ),
]


@app.command()
def extract(
    policy: Annotated[Path, typer.Argument(help="The extract policy (YAML).")],
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
    out: Annotated[Path, typer.Option(help="Folder the extract's folder is made in.")],
    key_file: KeyFileOpt = None,
    ledger: Annotated[
        Path | None,
        typer.Option(help="The suppression ledger: its people are left out."),
    ] = None,
    memory_limit: Annotated[
        str, typer.Option(help="DuckDB's memory per connection; beyond it, it spills to disk.")
    ] = "512MB",
    workers: Annotated[
        int | None,
        typer.Option(
            help="Processes finding personal data in free text (default: every core, on"
            " machines of 4 cores or more and 20,000 rows or more)."
        ),
    ] = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
    release_log: ReleaseLogOpt = Path("releases.db"),
) -> None:
    """Make the de-identified extract a policy describes, with its manifest and risk.

    With the key, the extract is checked against the data set's earlier releases in the
    release log (aggregates and extracts) and recorded there."""
    from tqdm.auto import tqdm

    from anonymize.extract import run_extract
    from dsar.catalog import load_catalog
    from dsar.keys import load_keys
    from dsar.records.releases import ReleaseLog

    cat = load_catalog(catalog)
    keys = optional_keys(key_file)
    # the ledger needs the key: without one, load_keys says how to give it
    opened = (
        existing_ledger(ledger, keys or load_keys(key_file), key_file)
        if ledger is not None
        else None
    )
    with ExitStack() as stack:
        log = None
        if keys is not None:  # the log's rows are keyed: without the key, nothing is recorded
            log = stack.enter_context(ReleaseLog(release_log, keys, key_file=key_file))
        engine = stack.enter_context(
            _engine(cat, engine_kind, spark_master, spill_in=out, memory_limit=memory_limit)
        )
        bar = stack.enter_context(tqdm(unit=" rows", desc="extract", disable=None))

        def advance(rows: int) -> None:
            bar.update(rows)

        result = run_extract(
            policy,
            engine,
            out,
            keys=keys,
            ledger=opened,
            progress=advance,
            memory_limit=memory_limit,
            workers=workers,
            accept_catalog_warnings=accept_catalog_warnings,
            release_log=log,
        )
    m = result.manifest
    people = f"; {m.people_out} of {m.people_in} people" if m.people_in is not None else ""
    typer.echo(f"wrote {result.file} ({m.rows_out} of {m.rows_in} rows{people})")
    typer.echo(f"suppressed: {json.dumps(m.suppressed)}")
    _show_risk(m.risk.model_dump())
    for line in readable_risk(m):
        typer.echo(line)
    if result.release is not None:
        typer.echo(f"release log: {release_log} entry {result.release.seq} (data set {m.table})")
    else:
        typer.echo(
            "warning: not recorded in a release log (no key given): later aggregates and"
            " extracts of this data are not checked against it",
            err=True,
        )


@app.command()
def aggregate(
    spec: Annotated[Path, typer.Argument(help="The aggregate spec (YAML).")],
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
    out: Annotated[Path, typer.Option(help="Folder the run's folder is made in.")],
    release_log: ReleaseLogOpt = Path("releases.db"),
    key_file: KeyFileOpt = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_LEDGER",
            help="The suppression ledger: its people (erased, restricted, objecting, opted"
            " out) are left out of every count.",
        ),
    ] = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
) -> None:
    """Publish aggregate tables: counts, sums and means with small cells suppressed, or noise.

    Small-cell and complementary suppression, or noise; every run checked against every earlier
    release of the same data set; the ledger's people are not counted."""
    from anonymize.aggregate import run_aggregates
    from dsar.catalog import load_catalog
    from dsar.keys import load_keys
    from dsar.records.releases import ReleaseLog

    keys = load_keys(key_file)
    opened = existing_ledger(ledger, keys, key_file) if ledger is not None else None
    log = ReleaseLog(release_log, keys, key_file=key_file)
    try:
        with _engine(load_catalog(catalog), engine_kind, spark_master) as engine:
            result = run_aggregates(
                spec,
                engine,
                out,
                release_log=log,
                accept_catalog_warnings=accept_catalog_warnings,
                ledger=opened,
            )
        earlier = {r.seq: r for r in log.releases(result.manifest.table)}
    finally:
        log.close()
        if opened is not None:
            opened.close()
    for name, path in result.files.items():
        typer.echo(f"wrote {path} ({result.manifest.cells[name]} cells)")
    typer.echo(f"suppressed cells: {json.dumps(result.manifest.suppressed)}")
    withheld = result.manifest.parameters.get("withheld_group_values")
    if withheld:
        typer.echo(
            f"{withheld} suppressed cell(s) written with (withheld) for a group value fewer than"
            f" {result.manifest.min_count} people hold"
        )
    left = result.manifest.parameters.get("ledger")
    if isinstance(left, dict):
        n = left.get("people_left_out", left.get("rows_left_out"))
        typer.echo(
            "suppression ledger applied: "
            + (f"{n} left out" if n is not None else "its people left out (no count under noise)")
        )
    info = result.manifest.release
    if info is not None:
        typer.echo(f"release log: {release_log} entry {info.entry} (data set {info.dataset})")
        if info.suppressed_for_earlier:
            named = ", ".join(earlier[s].describe() for s in info.compared_with if s in earlier)
            typer.echo(
                f"{info.suppressed_for_earlier} cell(s) hidden to stay consistent with earlier"
                f" release(s) {named} of the same data: with them, these cells would give back"
                " cells they suppressed. They stay hidden for this version of the data; to"
                " publish finer and coarser tables with fewer hidden cells, publish them"
                " together in one run (with margins) before either is released"
            )
    noise = result.manifest.differential_privacy
    if noise is not None:
        typer.echo(f"differential privacy: epsilon {noise.epsilon}, delta {noise.delta}")
        typer.echo(f"noise: {noise.mechanism}")
        if info is not None and info.epsilon_spent is not None:
            repeat = " (every query a repeat: the same answer, nothing spent)"
            typer.echo(
                f"budget of data set {info.dataset}: {info.epsilon_spent} of"
                f" {info.epsilon_budget} spent, {info.epsilon_charged} by this run"
                + (repeat if not info.epsilon_charged else "")
            )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)


_LEFT_OUT_BECAUSE = {
    "no_consent": "no consent to advertising",
    "opted_out": "opted out",
    "closed_account": "account closed",
    "limited_use": "held only under Google's Limited Use terms",
    "purpose_limitation": "held only for purposes other than advertising",
    "in_ledger": "in the suppression ledger: erased, objected, opted out or restricted",
    "said_no_elsewhere": "said no to marketing elsewhere in the export",
    "empty": "no value",
    "invalid": "not a value the platform takes",
    "duplicates": "the same value again",
}


def audience_summary(name: str, files: list[str], counts: dict[str, int]) -> list[str]:
    """A platform's counts as lines a person reads: rows read, written, each reason rows
    were left out (with the manifest's key), fields written empty."""
    read = counts.get("rows_read", counts.get("rows_in", 0))
    left = [(key, n) for key in _LEFT_OUT_BECAUSE if (n := counts.get(key, 0))]
    lines = [
        f"{name}: {counts['written']:,} of {read:,} row(s) read written to {', '.join(files)}",
        f"  left out: {sum(n for _, n in left):,} row(s)" + ("" if left else " (none)"),
    ]
    lines += [f"    {n:,} {_LEFT_OUT_BECAUSE[key]} ({key})" for key, n in left]
    for key, n in counts.items():
        if key.startswith("without_") and n:
            lines.append(f"  written without their {key.removeprefix('without_')}: {n:,}")
    if counts.get("fields_limited_use"):
        lines.append(
            f"  fields emptied (a Limited Use table holds their value):"
            f" {counts['fields_limited_use']:,}"
        )
    return lines


@app.command()
def releases(
    release_log: ReleaseLogOpt = Path("releases.db"),
    key_file: KeyFileOpt = None,
    dataset: Annotated[
        str | None, typer.Option(help="Only this data set (its base table).")
    ] = None,
) -> None:
    """List the aggregate runs released and each data set's privacy budget.

    The release log is checked first (exit 1 when a row was changed by hand)."""
    from anonymize.history import spent_on
    from dsar.keys import load_keys
    from dsar.records.releases import ReleaseLog

    if not release_log.is_file():
        raise InputFileError(release_log, "no release log there", "give its path: --release-log")
    log = ReleaseLog(release_log, load_keys(key_file), key_file=key_file)
    try:
        found = log.releases(dataset)
    finally:
        log.close()
    seen: set[str] = set()
    for r in found:
        hidden = sum(len(t.suppressed) for t in r.tables)
        cells = sum(len(t.published) for t in r.tables) + hidden
        new = round(float(sum(c.epsilon for c in r.charges if c.query not in seen)), 9)
        seen.update(c.query for c in r.charges)
        typer.echo(
            f"{r.describe()} {r.dataset} -> {r.folder}: {r.method}, {len(r.tables)} table(s),"
            f" {cells} cells ({hidden} suppressed)"
            + (f", epsilon {new} charged" if r.charges else "")
            + (" (a repeat)" if r.charges and not new else "")
        )
    for name in sorted({r.dataset for r in found}):
        runs = [r for r in found if r.dataset == name]
        spent, budget = spent_on(runs)
        if spent:
            one_run = max(round(sum(c.epsilon for c in r.charges), 9) for r in runs)
            stated = budget if budget is not None else f"{one_run} (one run's worth: none stated)"
            typer.echo(f"data set {name}: epsilon {spent} spent of a budget of {stated}")


@app.command()
def audience(
    platform: Annotated[
        str,
        typer.Option(
            help="Platforms, comma-separated: google, google_ec, meta, tiktok,"
            " linkedin, snap, x, amazon, uid2."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder the files are written in.")],
    input_file: Annotated[
        Path | None, typer.Option("--input", help="A list (CSV, Parquet, JSON Lines) to hash.")
    ] = None,
    column: Annotated[
        str | None, typer.Option(help="With --input: the column of emails or phone numbers.")
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="The catalog of the export: its people are matched against the ledger, and"
            " a list read from one of its tables' files gets that table's rules."
        ),
    ] = None,
    spec: Annotated[
        Path | None, typer.Option(help="An audience spec (table, email column, consent).")
    ] = None,
    consent_basis: Annotated[
        str | None,
        typer.Option(
            help="With --input of a list the catalog does not describe: the legal basis for"
            " sending its people to ad platforms, in words (recorded in each manifest)."
        ),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_LEDGER",
            help="The suppression ledger: every person it holds, under any of their"
            " identifiers, is left out.",
        ),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_SENT_RECORD",
            help="Record who was sent where, under each of their identifiers: without it,"
            " nothing lets `anonymize withdraw` find them later (a warning, and"
            " 'recorded: false' in each manifest).",
        ),
    ] = None,
    audit_log_lost: AuditLogLostOpt = False,
    key_file: KeyFileOpt = None,
    kind: Annotated[str, typer.Option(help="With --input: email or phone.")] = "email",
    region: Annotated[
        str | None,
        typer.Option(help="Country of phone numbers written without one (e.g. US, GB)."),
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option(
            help="With --input: more columns where a platform matches on them (Google,"
            " Meta), e.g. first_name=FirstName,last_name=LastName,postcode=Zip,country=Country."
        ),
    ] = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
) -> None:
    """Hash emails or phones of consenting people into an ad platform's audience file.

    Normalise and hash emails or phones for each ad platform, from a catalog table (--spec) or a
    list (--input), through one gate: Limited Use and purposes, consent stated (the spec's
    columns, or --consent-basis for a list the catalog does not know), and each row matched to
    its person through the export, so that nobody the ledger holds under any identifier is sent.
    One upload file (or numbered parts) and one manifest per platform; every row left out
    counted by reason. With --record, the files are built aside, the upload recorded, and only
    then moved into --out; each manifest names the record's write and, with a key, carries a
    MAC."""
    from anonymize.audience import AudienceList, SentRecord, build_audience
    from anonymize.audience.build import publish_audience, recordings, staged_audience
    from dsar.catalog import load_catalog
    from dsar.keys import load_keys
    from dsar.records.ledger import Ledger

    if kind not in ("email", "phone"):
        raise UsageError(
            "--kind",
            f"--kind must be email or phone, not {kind!r}",
            "give --kind email or --kind phone",
        )
    names = [p.strip() for p in platform.split(",") if p.strip()]
    source: Path | AudienceList
    if spec is not None and consent_basis is not None:
        raise UsageError(
            "--consent-basis",
            "--consent-basis is for a list (--input); a spec states its consent itself",
            "remove --consent-basis, and name the consent and opt-out columns in the spec (or"
            ' write consent: none with legal_basis: "...")',
        )
    if spec is not None and input_file is None:
        source = spec
    elif input_file is not None and column is not None and spec is None:
        source = AudienceList(
            path=input_file,
            column=column,
            kind="phone" if kind == "phone" else "email",
            consent_basis=consent_basis,
            fields=_fields(fields),
        )
    else:
        raise UsageError(
            "--input",
            "the audience's source is not named, or named twice",
            "give --spec (a catalog table), or --input and --column (a list, with"
            ' --consent-basis "..." when the catalog does not describe it)',
        )
    if catalog is None:
        raise UsageError(
            "--catalog",
            "an audience is checked against the export it comes from: who may be in it, and"
            " every identifier of each person the ledger holds",
            "give --catalog <catalog.yml>",
        )
    opened: Ledger | None = None
    sent: SentRecord | None = None
    # the keyed records need the key; with one, each manifest is sealed
    keys = load_keys(key_file) if ledger or record else optional_keys(key_file)
    if keys is not None:
        opened = existing_ledger(ledger, keys, key_file) if ledger is not None else None
        sent = SentRecord(record, keys, audit_lost=audit_log_lost) if record is not None else None
    try:
        with (
            staged_audience(out, names) as stage,
            _engine(load_catalog(catalog), engine_kind, spark_master) as engine,
        ):
            before = sent.write_count() if sent is not None else 0
            built = build_audience(
                source,
                engine,
                names,
                stage,
                ledger=opened,
                record=sent,
                region=region,
                accept_catalog_warnings=accept_catalog_warnings,
            )
            # the upload is recorded: now the files may be published
            recorded = recordings(sent, before) if sent is not None else None
            result = publish_audience(built, out, keys=keys, recorded=recorded)
    except InputFileError as exc:
        if input_file is None or Path(exc.path) != input_file:
            raise
        # the --input list cannot be used as given (a usage error: exit 2), in one line
        # that names the file and the line, never a value of it
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for name, files in result.files.items():
        for line in audience_summary(name, [f.name for f in files], result.manifests[name].counts):
            typer.echo(line)
    for name, earlier in result.earlier.items():
        shown = ", ".join(f"{n:,} {reason}" for reason, n in sorted(earlier.items()))
        typer.echo(
            f"warning: {name} still holds {sum(earlier.values()):,} earlier upload(s) of people"
            f" this audience now leaves out ({shown}): remove them with `anonymize withdraw"
            f" --platform {name} --record ... --ledger ... --catalog ... --spec ...`",
            err=True,
        )
    if ledger is None:
        typer.echo(
            "warning: no suppression ledger (--ledger or $WORKBENCH_LEDGER) was applied:"
            " nobody who objected, opted out, was restricted or erased was left out by it;"
            " each manifest says so",
            err=True,
        )
    if record is None:
        typer.echo(
            "NOT RECORDED: no sent record (--record or $WORKBENCH_SENT_RECORD): who was"
            " uploaded is recorded nowhere, so nobody in this audience can be withdrawn from"
            " the platform after an objection or erasure (`anonymize withdraw` will not find"
            " them); each manifest says recorded: false",
            err=True,
        )


@contextmanager
def _engine(
    catalog: Catalog,
    kind: str,
    spark_master: str | None,
    *,
    spill_in: Path | None = None,
    memory_limit: str | None = None,
) -> Iterator[Engine]:
    """The engine a command reads the export with: opened here, at the boundary, and closed
    after. With `spill_in` (an extract, whose rows are not yet de-identified when read),
    DuckDB keeps within `memory_limit` and spills into an owner-only folder made there and
    removed after (or by the next run, when this one is killed)."""
    import shutil

    from dsar.engine import open_engine
    from dsar.io import partial_folder

    options = engine_options(kind, spark_master)
    with ExitStack() as stack:
        if kind == "duckdb" and spill_in is not None:
            spill = stack.enter_context(partial_folder(spill_in, "engine-spill"))
            stack.callback(shutil.rmtree, spill, ignore_errors=True)
            options.update(memory_limit=memory_limit, temp_directory=str(spill))
        yield stack.enter_context(open_engine(catalog, kind, **options))


def _fields(text: str | None) -> dict[Field, str]:
    """'first_name=FirstName,country=Country' -> {'first_name': 'FirstName', ...}."""
    from anonymize.audience.fields import FIELDS

    found: dict[Field, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, column = item.partition("=")
        field = next((f for f in FIELDS if f == name.strip()), None)
        if not sep or not column.strip() or field is None:
            raise UsageError(
                "--fields",
                f"--fields: {item.strip()!r} is not field=column",
                f"use field=column with a field among {', '.join(FIELDS)}",
            )
        found[field] = column.strip()
    return found


@app.command()
def withdraw(
    platform: Annotated[str, typer.Option(help="The platform to withdraw people from.")],
    record: Annotated[Path, typer.Option(help="The record of what was sent.")],
    ledger: Annotated[Path, typer.Option(help="The suppression ledger.")],
    out: Annotated[Path, typer.Option(help="Folder the removal file is written in.")],
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="The export's catalog: read again, so that everyone uploaded who has since"
            " opted out, withdrawn consent or closed their account there is removed too, and"
            " the ledger is matched under every identifier the export holds for each person"
            " (an address gained since the upload); without it, a warning says what was not"
            " checked."
        ),
    ] = None,
    spec: Annotated[
        list[Path] | None,
        typer.Option(
            help="With --catalog: an audience's spec (repeat for each): its table's consent"
            " and opt-out columns are read again as a build would."
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(help="With a phone audience's spec: the country of numbers without one."),
    ] = None,
    key_file: KeyFileOpt = None,
    audit_log_lost: AuditLogLostOpt = False,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
) -> None:
    """Write an ad platform's removal files for people who have since said no.

    Everyone the platform received who has since objected, opted out, been restricted or
    erased (the ledger) and, with --catalog (and each audience's --spec), who the export now
    leaves out: opted out or consent withdrawn there, account closed, Limited Use; and was
    not withdrawn before. One file per kind of identifier it received (emails, phones), each
    with the header of that upload. Exit 3 when the export could not be read (the files then
    hold the ledger's people only, and a warning says what was not checked)."""
    from collections import Counter

    from anonymize.audience import SentRecord, platform as find_platform
    from anonymize.audience.recheck import Ineligible, ineligible_uploads
    from anonymize.audience.stale import STALE_REASONS, unmatched_entries
    from dsar.catalog import load_catalog
    from dsar.engine.base import scrub_message
    from dsar.errors import MissingFileError, WorkbenchError
    from dsar.keys import load_keys

    p = find_platform(platform)
    keys = load_keys(key_file)
    if not record.is_file():  # never a new, empty record that withdraws nobody
        raise MissingFileError(record, "the record of sent audiences", "check --record")
    if spec and catalog is None:
        raise UsageError("--spec", "--spec is read against the export", "give --catalog too")
    sent = SentRecord(record, keys, audit_lost=audit_log_lost)
    headers = {"email": p.email_header, "phone": p.phone_header}
    book = existing_ledger(ledger, keys, key_file)
    found = Ineligible()
    unread = False
    if catalog is None:
        found.not_checked.append(
            "the export was not read again (no --catalog): anyone uploaded who has since opted"
            " out, withdrawn consent or closed their account there, but is not in the ledger,"
            " is not in these files"
        )
    else:
        try:
            with _engine(load_catalog(catalog), engine_kind, spark_master) as engine:
                found = ineligible_uploads(
                    engine,
                    sent,
                    p,
                    list(spec or []),
                    ledger=book,
                    region=region,
                    accept_catalog_warnings=accept_catalog_warnings,
                )
        except (WorkbenchError, OSError, duckdb_error()) as exc:
            unread = True
            found.not_checked.append(
                f"the export could not be read ({type(exc).__name__}: {scrub_message(str(exc))}):"
                " nobody who opted out, withdrew consent or closed their account there since"
                " the upload was checked; only the ledger's people are in these files"
            )
    if catalog is None or unread:  # the ledger, under the identifiers recorded at the upload
        missed, entries = unmatched_entries(sent, p, book)
        if missed:
            found.not_checked.append(
                f"{missed:,} ledger {'entry' if missed == 1 else 'entries'} of {entries:,}"
                f" matched no identifier recorded at an upload to {p.name}: without the export"
                " the ledger is checked only under those identifiers, so a person among them"
                " uploaded under another (an address changed since the upload) is not in these"
                " files; give --catalog to find them through the export"
            )
    ledger_only = set(sent.withdrawals(p.name, book))
    for path in sent.write_withdrawals(
        p.name, book, out, headers, header_line=p.header, also=found.hashes
    ):
        rows = path.read_text(encoding="utf-8").count("\n") - (1 if p.header else 0)
        typer.echo(f"wrote {path}: {rows} people to remove from {p.title}")
    why = Counter(
        "in_ledger" if h in ledger_only else found.hashes[h]
        for h in ledger_only | set(found.hashes)
    )
    for reason, n in sorted(why.items(), key=lambda x: (-x[1], x[0])):
        typer.echo(f"  {n:,} {STALE_REASONS.get(reason, reason)} ({reason})")
    for what in found.not_checked:
        typer.echo(f"warning: NOT CHECKED: {what}", err=True)
    if unread:
        raise typer.Exit(3)


def duckdb_error() -> type[Exception]:
    """DuckDB's error class (a table the engine could not read)."""
    import duckdb

    return duckdb.Error


policy_app = typer.Typer(help="Write and check extract policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("draft")
def policy_draft(
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
    table: Annotated[str, typer.Option(help="The catalog table to extract.")],
    out: Annotated[Path | None, typer.Option(help="Write here instead of printing.")] = None,
) -> None:
    """Draft a starting extract policy from the catalog, for a person to edit.

    Identifiers hashed, free text redacted, secrets and personal columns dropped, dates to the
    month; a column without a role that holds phone numbers by value (sampled) dropped."""
    from anonymize.draft import draft_policy
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.io import atomic_write_text

    loaded = load_catalog(catalog)
    with open_engine(loaded) as engine:  # columns without a role are sampled
        text = draft_policy(loaded, table, engine=engine)
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists():
        raise OutputExistsError(out, "the policy", "give the draft another --out")
    atomic_write_text(out, text)
    typer.echo(f"wrote {out}: edit the quasi-identifiers and k before use")


@policy_app.command("check")
def policy_check(
    policy: Annotated[Path, typer.Argument(help="The extract policy (YAML).")],
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
) -> None:
    """Check a policy against the catalog and a sample of the data.

    Check a policy against the catalog, and against a sample of the data the catalog names:
    every problem at once, with its line and fix. Names the released columns the policy has not
    classified: each is a quasi-identifier until listed under sensitive or insensitive (with a
    reason)."""
    from anonymize.classify import classify
    from anonymize.policy import load_policy
    from anonymize.sampling import sampled_problems
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.errors import ConfigError

    cat = load_catalog(catalog)
    p = load_policy(policy, cat)
    with open_engine(cat) as engine:
        sampled = sampled_problems(p, engine)
    if sampled:
        raise ConfigError(str(policy), sampled, what="policy")
    typer.echo(f"{policy}: ok ({len(p.kept())} columns kept of {len(p.columns)})")
    classified = classify(p, cat)
    qis = classified.quasi_identifiers
    typer.echo(f"quasi-identifiers: {', '.join(qis) if qis else 'none'}")
    if classified.unclassified:
        typer.echo(
            f"not classified, so quasi-identifiers by default:"
            f" {', '.join(classified.unclassified)}. List each under quasi_identifiers,"
            " sensitive, or insensitive with the reason nobody outside could know it"
        )


@app.command()
def risk(
    file: Annotated[Path, typer.Argument(help="A Parquet, CSV or JSON (Lines) file.")],
    quasi: Annotated[str, typer.Option(help="Quasi-identifier columns, comma-separated.")],
    sensitive: Annotated[
        str, typer.Option(help="Sensitive columns, comma-separated (for l and t).")
    ] = "",
    linked_by: Annotated[
        str,
        typer.Option(
            help="Columns that link a person's rows (a pseudonym), comma-separated: k and the"
            " risks are then over each one's combination of rows, in people of the first."
        ),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure k, l, t and re-identification risk of any table someone hands in."""
    import duckdb

    from anonymize.risk import measure, relation_of
    from dsar.engine import scratch_connection
    from dsar.engine.base import scrub_message

    if not file.is_file():
        raise InputFileError(file, "no such file", "give a Parquet, CSV or JSON (Lines) file")
    qis = [q.strip() for q in quasi.split(",") if q.strip()]
    sens = [s.strip() for s in sensitive.split(",") if s.strip()]
    con = scratch_connection()
    try:
        links = [c.strip() for c in linked_by.split(",") if c.strip()]
        person = links[0] if links else None
        report = measure(con, relation_of(str(file)), qis, sens, person, linked_by=links)
    except duckdb.Error as exc:
        reason = scrub_message(str(exc)).splitlines()[0]  # no value of the file quoted
        raise InputFileError(
            file,
            f"cannot measure it: {reason}",
            "check the file's format and the column names given",
        ) from None
    finally:
        con.close()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=1))
    else:
        _show_risk(report.to_dict())


def _show_risk(r: dict[str, object]) -> None:
    qis = [str(q) for q in r["quasi_identifiers"]]  # type: ignore[attr-defined]
    if qis:
        typer.echo(f"quasi-identifiers: {', '.join(qis)}")
        typer.echo(f"rows {r['rows']}, people {r['people']}, classes {r['classes']}, k = {r['k']}")
    else:  # k over no column counts the whole table: it says nothing about linkage
        typer.echo(
            f"rows {r['rows']}, people {r['people']}: no quasi-identifier, so the whole table"
            " is one class and k measures nothing an attacker links on"
        )
    linked = [str(c) for c in r.get("linked_by") or ()]  # type: ignore[attr-defined]
    if linked and qis and r.get("k_rows") != r["k"]:  # the rows' combination lowered k
        typer.echo(
            f"rows linked per person by the released {', '.join(linked)}: k and the risks"
            f" are over each person's combination of rows (single rows: k = {r['k_rows']})"
        )
    typer.echo(f"class sizes (people per size): {json.dumps(r['class_sizes'])}")
    texts = r.get("text_unique") or {}
    for column, share in texts.items():  # type: ignore[attr-defined]
        typer.echo(
            f"{column}: {share:.1%} of its released texts are unique, a link to the source"
            " text for whoever has seen it that k does not cover"
        )
    for field in ("l_distinct", "l_entropy", "t_closeness"):
        if r[field]:
            typer.echo(f"{field}: {json.dumps(r[field])}")
    typer.echo(
        f"re-identification risk: prosecutor highest {r['prosecutor_highest']:.3f},"
        f" average {r['prosecutor_average']:.3f}; marketer {r['marketer']:.3f}"
    )


def readable_risk(m: ExtractManifest) -> list[str]:
    """The manifest's risk in sentences: people singled out before and after, the column
    that drives it, what the operators took."""
    from anonymize.uniqueness import driver

    u = m.uniqueness
    if u is None:
        return []
    lines = [
        f"people unique on the released columns: {u.source:.1%} with their source values,"
        f" {u.transformed:.1%} after the operators, {u.released:.1%} in the extract"
    ]
    if m.risk.linked_by and m.risk.unique > u.released:  # single rows say less than the rows
        lines.append(
            f"people unique on their combination of rows (linked by {', '.join(m.risk.linked_by)}):"
            f" {m.risk.unique:.1%} in the extract"
        )
    k = int(m.targets.get("k") or 1)
    lines.append(f"people in a class smaller than k={k} after the operators: {u.below_k:.1%}")
    column = driver(u)
    if column is not None:
        lines.append(
            f"  leaving out {column} (or coarsening it) would bring that to {u.without[column]:.1%}"
        )
    taken = [f"{c} {a} -> {b}" for c, (a, b) in u.distinct.items() if a != b]
    if taken:
        lines.append(f"distinct values, source -> extract: {', '.join(taken)}")
    if m.generalisation:
        chosen = ", ".join(f"{c} {level}" for c, level in m.generalisation.items())
        loss = m.information_loss.get("precision_loss")
        lines.append(f"the search chose: {chosen} (precision loss {loss})")
    return lines


# `anonymize publish` is defined beside its job (anonymize/publish_cli.py)
app.command()(publish)


def main() -> None:
    """Entry point: workbench errors become a message and exit code 1."""
    run_cli(app)
