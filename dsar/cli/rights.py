"""The commands that change the export: `erase`, `correct` and `retention`, each with
`plan` (changes nothing), `apply` (changes the files, writes the certificate, audits),
`confirm` (removes the originals kept) and `recover` (finishes a change a crash interrupted).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsar.cli.common import (
    AcceptWarningsOpt,
    CatalogOpt,
    EmailOpt,
    EngineOpt,
    IdsOpt,
    IndexOpt,
    KeyFileOpt,
    RegisterOpt,
    SentOpt,
    SparkMasterOpt,
    WaitOpt,
    engine_options,
    err,
    export_held,
    open_index,
    open_register,
    open_sent,
    optional_keys,
    parse_date,
    resolve_person,
)

if TYPE_CHECKING:
    from dsar.catalog import Catalog
    from dsar.engine import Engine
    from dsar.keys import Keys
    from dsar.records.audit import AuditLog
    from dsar.records.ledger import Ledger
    from dsar.records.register import Register
    from dsar.rights import ApplyResult, ErasurePlan, Plan

_SHAPE = (
    "\n\n`plan` shows what would change, `apply` changes the files, writes the certificate and"
    " the audit entry, `confirm` removes the originals kept, `recover` finishes a change a"
    " crash interrupted."
)
erase_app = typer.Typer(
    help="Erase one person's data from the export, with a certificate." + _SHAPE,
    no_args_is_help=True,
)
correct_app = typer.Typer(
    help="Correct a person's data, with a diff and a certificate." + _SHAPE, no_args_is_help=True
)
retention_app = typer.Typer(
    help="Delete the rows kept past the catalog's retention periods, with a certificate." + _SHAPE,
    no_args_is_help=True,
)

RequestOpt = Annotated[str | None, typer.Option(help="Erase for this registered request.")]
JoinedOkOpt = Annotated[
    bool,
    typer.Option(
        "--joined-ok",
        help="Erase although the search joined two or more accounts (user, customer or person"
        " ids), after checking in `dsar access`'s provenance that they are all this person.",
    ),
]
OutOpt = Annotated[Path, typer.Option(help="Folder for the certificate.")]


def _steps() -> Callable[[str], None] | None:
    return err if sys.stderr.isatty() else None  # shown to a person, not a pipe


def _plan(
    cat: Catalog,
    engine: Engine,
    email: str | None,
    ids: list[str] | None,
    request: str | None,
    register: Path,
    key_file: Path | None,
    keys: Keys | None,
    read_only: bool = False,
    sent_record: Path | None = None,
    accept: bool = False,
    joined_ok: bool = False,
) -> tuple[ErasurePlan, Register | None]:
    from dsar.records.deadlines import RequestType
    from dsar.rights import plan_erasure

    subject, reg = resolve_person(
        email=email,
        ids=ids,
        request=request,
        register=register,
        key_file=key_file,
        allowed=(RequestType.ERASURE,),
        prefix="ER",
        read_only=read_only,
    )
    keys = reg.keys if reg is not None else keys
    sent = open_sent(sent_record, keys)
    try:
        plan = plan_erasure(
            cat,
            engine,
            subject,
            keys=keys,
            progress=_steps(),
            sent=sent,
            accept_catalog_warnings=accept,
            accept_joined=joined_ok,
        )
    finally:
        if sent is not None:
            sent.close()
    typer.echo(plan.describe())
    return plan, reg


@erase_app.command("plan")
def erase_plan(
    catalog: CatalogOpt,
    email: EmailOpt = None,
    ids: IdsOpt = None,
    request: RequestOpt = None,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    sent_record: SentOpt = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
    joined_ok: JoinedOkOpt = False,
) -> None:
    """Show what erasing the person would change, per table. Changes nothing.

    The secret key is not needed; when one is set, the plan names the person by a keyed
    reference.
    """
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine

    cat = load_catalog(catalog)
    with open_engine(cat, engine_kind, **engine_options(engine_kind, spark_master)) as engine:
        keys = optional_keys(key_file)
        plan, _ = _plan(
            cat,
            engine,
            email,
            ids,
            request,
            register,
            key_file,
            keys,
            True,
            sent_record,
            accept_catalog_warnings,
            joined_ok,
        )
    needs = " (applying needs the secret key: it pseudonymizes)" if plan.needs_key else ""
    typer.echo(f"dry run: nothing was changed; `dsar erase apply` erases{needs}")


def _applied(result: ApplyResult, catalog: Path, command: str) -> None:
    """Say what was written, whom to notify, and how to remove the originals kept."""
    typer.echo(f"applied; certificate: {result.certificate}")
    if result.plan.recipients:
        typer.echo(f"recipients to notify: {', '.join(result.plan.recipients)}")
    if result.files:
        label = result.plan.label
        typer.echo(
            f"originals kept beside each file as *.before-{label}; once checked, remove them"
            f" with: dsar {command} confirm --catalog {catalog} {label}"
        )


def _audit_log(reg: Register | None, register: Path, key_file: Path | None) -> AuditLog:
    """The audit log every applied change is recorded in: the register's."""
    return (reg or open_register(register, key_file, create=True)).audit


def _apply(
    plan: Plan,
    cat: Catalog,
    engine: Engine,
    out: Path,
    audit: AuditLog,
    catalog: Path,
    command: str,
    keys: Keys | None = None,
    ledger: Ledger | None = None,
    index: Path | None = None,
    key_file: Path | None = None,
    reg: Register | None = None,
) -> None:
    """Apply a plan (files, certificate, audit entry) and say what was done and what next.

    The command holds the export already (`export_held`); with `reg` (a registered
    request), the request is completed once the files are committed."""
    from dsar.rights import apply_plan

    built = open_index(index, key_file)
    try:
        result = apply_plan(
            plan,
            cat,
            engine,
            out=out,
            keys=keys,
            dry_run=False,
            ledger=ledger,
            audit=audit,
            progress=_steps(),
            index=built,
            register=reg,
        )
    finally:
        if built is not None:
            built.close()
    _applied(result, catalog, command)


@erase_app.command("apply")
def erase_apply(
    catalog: CatalogOpt,
    email: EmailOpt = None,
    ids: IdsOpt = None,
    request: RequestOpt = None,
    out: OutOpt = Path("certificates"),
    ledger: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_LEDGER",
            help="Record the person as erased in this suppression ledger.",
        ),
    ] = None,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    sent_record: SentOpt = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    index: IndexOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
    wait: WaitOpt = False,
    joined_ok: JoinedOkOpt = False,
) -> None:
    """Erase the person: plan, change the files under a journal, write the certificate."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.keys import load_keys
    from dsar.records.ledger import Ledger

    keys = load_keys(key_file)
    cat = load_catalog(catalog)
    with (
        export_held(catalog, "an erasure", wait),  # from the search to the last write
        open_engine(cat, engine_kind, **engine_options(engine_kind, spark_master)) as engine,
    ):
        plan, reg = _plan(
            cat,
            engine,
            email,
            ids,
            request,
            register,
            key_file,
            keys,
            sent_record=sent_record,
            accept=accept_catalog_warnings,
            joined_ok=joined_ok,
        )
        book = Ledger(ledger, keys, key_file) if ledger is not None else None
        audit = _audit_log(reg, register, key_file)
        _apply(plan, cat, engine, out, audit, catalog, "erase", keys, book, index, key_file, reg)


def _confirm(catalog: Path, label: str) -> None:
    from dsar.catalog import load_catalog
    from dsar.rights import confirm_rewrite

    removed = confirm_rewrite(load_catalog(catalog), label)
    typer.echo(f"removed {len(removed)} original file(s) kept for {label}")


def _recover(
    catalog: Path, key_file: Path | None, register: Path, ledger: Path | None, wait: bool
) -> None:
    from dsar.catalog import load_catalog
    from dsar.catalog.loader import read_catalog
    from dsar.rights import recover
    from dsar.rights.journal import JOURNAL
    from dsar.rights.rewrite import table_files

    # with a journal the catalog may not load (files half swapped): the journal says it all
    files = None if (catalog.parent / JOURNAL).exists() else table_files(load_catalog(catalog))
    boundary = read_catalog(catalog).catalog.boundary  # a journal's moves must stay inside
    found = recover(
        catalog.parent,
        optional_keys(key_file),
        files,
        boundary,
        register=register if register.is_file() else None,
        ledger=ledger,
        wait=wait,
    )
    typer.echo(found.describe())


LabelArg = Annotated[str, typer.Argument(help="The request id or label of the applied change.")]
_CONFIRM = "Delete the original files an applied {} kept beside the new ones."
_RECOVER = (
    "Finish or undo an interrupted {} after a crash or a failure.\n\nRoll it (or any"
    " change) back (not committed: originals kept) or forward (committed: files,"
    " certificate, audit entry, records), and say which."
)


def _confirm_command(catalog: CatalogOpt, label: LabelArg) -> None:
    _confirm(catalog, label)


def _recover_command(
    catalog: CatalogOpt,
    key_file: KeyFileOpt = None,
    register: RegisterOpt = Path("requests.db"),
    ledger: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_LEDGER",
            help="Where the change's ledger is now, when it is no longer where the change"
            " recorded it.",
        ),
    ] = None,
    wait: WaitOpt = False,
) -> None:
    _recover(catalog, key_file, register, ledger, wait)


def _pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for text in values:
        target, sep, value = text.partition("=")
        if not sep or "." not in target:
            raise typer.BadParameter(f"{text!r} is not table.column=value")
        pairs[target.strip()] = value
    return pairs


SetOpt = Annotated[
    list[str],
    typer.Option("--set", help="table.column=new value, e.g. accounts.full_name='Ann Smith'."),
]
CorrectionRequestOpt = Annotated[str | None, typer.Option(help="A registered correction request.")]


def _correction(
    catalog: Path,
    values: list[str],
    email: str | None,
    ids: list[str] | None,
    request: str | None,
    register: Path,
    key_file: Path | None,
    engine: tuple[str, str | None],
    out: Path | None = None,
    index: Path | None = None,
    accept: bool = False,
    wait: bool = False,
) -> None:
    """Plan a correction, and apply it when `out` (the certificates' folder) is given."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.keys import load_keys
    from dsar.records.deadlines import RequestType
    from dsar.rights import plan_correction

    pairs = _pairs(values)
    subject, reg = resolve_person(
        email=email,
        ids=ids,
        request=request,
        register=register,
        key_file=key_file,
        allowed=(RequestType.CORRECTION,),
        prefix="CR",
    )
    keys = (
        reg.keys if reg is not None else (load_keys(key_file) if out else optional_keys(key_file))
    )
    cat = load_catalog(catalog)
    held = export_held(catalog, "a correction", wait) if out is not None else nullcontext()
    with held, open_engine(cat, engine[0], **engine_options(*engine)) as engine_:
        plan = plan_correction(
            cat,
            engine_,
            subject,
            pairs,
            keys=keys,
            progress=_steps(),
            accept_catalog_warnings=accept,
        )
        typer.echo(plan.describe())
        for table, diff in plan.diff.items():
            typer.echo(f"\n{table}:")
            typer.echo(diff.to_pandas().to_string(index=False, max_colwidth=40))
        if out is None:
            typer.echo("\ndry run: nothing was changed; `dsar correct apply` corrects")
            return
        audit = _audit_log(reg, register, key_file)
        _apply(plan, cat, engine_, out, audit, catalog, "correct", keys, None, index, key_file, reg)


@correct_app.command("plan")
def correct_plan(
    catalog: CatalogOpt,
    values: SetOpt,
    email: EmailOpt = None,
    ids: IdsOpt = None,
    request: CorrectionRequestOpt = None,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
) -> None:
    """Show the person's rows before and after the correction. Changes nothing."""
    engine = (engine_kind, spark_master)
    _correction(
        catalog,
        values,
        email,
        ids,
        request,
        register,
        key_file,
        engine,
        accept=accept_catalog_warnings,
    )


@correct_app.command("apply")
def correct_apply(
    catalog: CatalogOpt,
    values: SetOpt,
    email: EmailOpt = None,
    ids: IdsOpt = None,
    request: CorrectionRequestOpt = None,
    out: OutOpt = Path("certificates"),
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    index: IndexOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Correct the person's rows: change the files, write the certificate, audit."""
    engine = (engine_kind, spark_master)
    _correction(
        catalog,
        values,
        email,
        ids,
        request,
        register,
        key_file,
        engine,
        out,
        index,
        accept_catalog_warnings,
        wait,
    )


TodayOpt = Annotated[str | None, typer.Option(help="Sweep as of this date (YYYY-MM-DD).")]


@retention_app.command("plan")
def retention_plan(
    catalog: CatalogOpt,
    today: TodayOpt = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
) -> None:
    """Count, per table, the rows kept past the catalog's retention period. Changes nothing."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.rights import plan_retention

    cat = load_catalog(catalog)
    with open_engine(cat, engine_kind, **engine_options(engine_kind, spark_master)) as engine:
        plan = plan_retention(
            cat,
            engine,
            today=parse_date(today) if today else None,
            accept_catalog_warnings=accept_catalog_warnings,
        )
    typer.echo(plan.describe())
    typer.echo("dry run: nothing was changed; `dsar retention apply` deletes")


@retention_app.command("apply")
def retention_apply(
    catalog: CatalogOpt,
    out: OutOpt = Path("certificates"),
    today: TodayOpt = None,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    index: IndexOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Delete the rows past their retention: change the files, write the certificate, audit."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.rights import plan_retention

    audit = _audit_log(None, register, key_file)
    cat = load_catalog(catalog)
    with (
        export_held(catalog, "a retention sweep", wait),
        open_engine(cat, engine_kind, **engine_options(engine_kind, spark_master)) as engine,
    ):
        plan = plan_retention(
            cat,
            engine,
            today=parse_date(today) if today else None,
            accept_catalog_warnings=accept_catalog_warnings,
        )
        typer.echo(plan.describe())
        _apply(plan, cat, engine, out, audit, catalog, "retention", index=index, key_file=key_file)


# after plan and apply, so `--help` lists the commands in the order they are used
for _app, _word in ((erase_app, "erasure"), (correct_app, "correction"), (retention_app, "sweep")):
    _app.command("confirm", help=_CONFIRM.format(_word))(_confirm_command)
    _app.command("recover", help=_RECOVER.format(_word))(_recover_command)
