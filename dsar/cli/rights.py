"""The commands that change the export: `erase plan|apply|confirm|recover`, correct, retention."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsar.cli._shared import (
    CatalogOpt,
    EmailOpt,
    IdsOpt,
    KeyFileOpt,
    RegisterOpt,
    err,
    parse_date,
    resolve_person,
)

if TYPE_CHECKING:
    from dsar.catalog import Catalog
    from dsar.engine import Engine
    from dsar.records.register import Register
    from dsar.rights import ErasurePlan

erase_app = typer.Typer(
    help="Erase one person: `plan` shows what would change, `apply` changes the files and"
    " writes the certificate, `confirm` removes the originals kept, `recover` finishes an"
    " erasure a crash interrupted.",
    no_args_is_help=True,
)

RequestOpt = Annotated[str | None, typer.Option(help="Erase for this registered request.")]
OutOpt = Annotated[Path, typer.Option(help="Folder for the certificate.")]


def _steps() -> Callable[[str], None] | None:
    return err if sys.stderr.isatty() else None  # shown to a person, not a pipe


def _optional_key(key_file: Path | None) -> bytes | None:
    """The key when one is set up; planning works without it (no keyed reference then)."""
    from dsar.errors import MissingKeyError
    from dsar.keys import load_key

    try:
        return load_key(key_file)
    except MissingKeyError:
        if key_file is not None:
            raise
        return None


def _plan(
    cat: Catalog,
    engine: Engine,
    email: str | None,
    ids: list[str] | None,
    request: str | None,
    register: Path,
    key_file: Path | None,
    key: bytes | None,
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
    )
    key = reg.key if reg is not None else key
    plan = plan_erasure(cat, engine, subject, key=key, progress=_steps())
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
) -> None:
    """Show what erasing the person would change, per table. Changes nothing.

    The secret key is not needed; when one is set, the plan names the person by a keyed
    reference.
    """
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine

    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        plan, _ = _plan(
            cat, engine, email, ids, request, register, key_file, _optional_key(key_file)
        )
    needs = " (applying needs the secret key: it pseudonymizes)" if plan.needs_key else ""
    typer.echo(f"dry run: nothing was changed; `dsar erase apply` erases{needs}")


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
) -> None:
    """Erase the person: plan, change the files under a journal, write the certificate."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.keys import load_key
    from dsar.records.ledger import Ledger
    from dsar.rights import apply_plan

    key = load_key(key_file)
    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        plan, reg = _plan(cat, engine, email, ids, request, register, key_file, key)
        book = Ledger(ledger, key, key_file) if ledger is not None else None
        result = apply_plan(
            plan,
            cat,
            engine,
            out=out,
            key=key,
            dry_run=False,
            ledger=book,
            audit=reg.audit if reg is not None else None,
            progress=_steps(),
        )
    typer.echo(f"applied; certificate: {result.certificate}")
    if result.files:
        typer.echo(
            f"originals kept beside each file as *.before-{plan.label}; remove them with:"
            f" dsar erase confirm --catalog {catalog} {plan.label}"
        )


@erase_app.command("confirm")
def erase_confirm(
    catalog: CatalogOpt,
    request: Annotated[str, typer.Argument(help="The request id of the applied erasure.")],
) -> None:
    """Delete the original files an applied erasure kept beside the new ones."""
    from dsar.catalog import load_catalog
    from dsar.rights import confirm_erasure

    removed = confirm_erasure(load_catalog(catalog), request)
    typer.echo(f"removed {len(removed)} original file(s) kept for {request}")


@erase_app.command("recover")
def erase_recover(catalog: CatalogOpt) -> None:
    """Finish an erasure (or any rewrite) that a crash interrupted after its journal."""
    from dsar.rights import recover

    done = recover(catalog.parent)
    typer.echo("finished the interrupted erasure" if done else "nothing to recover")


def correct(
    catalog: CatalogOpt,
    values: Annotated[
        list[str],
        typer.Option("--set", help="table.column=new value, e.g. accounts.full_name='Ann Smith'."),
    ],
    email: EmailOpt = None,
    ids: IdsOpt = None,
    request: Annotated[str | None, typer.Option(help="A registered correction request.")] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Change the files (default: show the diff).")
    ] = False,
    out: OutOpt = Path("certificates"),
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """Correct a person's data: show the before/after diff, then apply with --apply."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.records.deadlines import RequestType
    from dsar.rights import apply_plan, plan_correction

    pairs = {}
    for text in values:
        target, sep, value = text.partition("=")
        if not sep or "." not in target:
            raise typer.BadParameter(f"{text!r} is not table.column=value")
        pairs[target.strip()] = value
    subject, reg = resolve_person(
        email=email,
        ids=ids,
        request=request,
        register=register,
        key_file=key_file,
        allowed=(RequestType.CORRECTION,),
        prefix="CR",
    )
    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        plan = plan_correction(cat, engine, subject, pairs, key=reg.key if reg else None)
        typer.echo(plan.describe())
        for table, diff in plan.diff.items():
            typer.echo(f"\n{table}:")
            typer.echo(diff.to_pandas().to_string(index=False, max_colwidth=40))
        if not apply:
            typer.echo("\ndry run: nothing was changed; add --apply to correct")
            return
        result = apply_plan(
            plan,
            cat,
            engine,
            out=out,
            dry_run=False,
            audit=reg.audit if reg else None,
            progress=_steps(),
        )
    typer.echo(
        f"\napplied: {len(result.files)} file(s) rewritten; notify:"
        f" {', '.join(plan.recipients) or 'none'}; certificate: {result.certificate}"
    )


def retention(
    catalog: CatalogOpt,
    out: OutOpt = Path("certificates"),
    apply: Annotated[
        bool, typer.Option("--apply", help="Delete the rows (default: a dry run).")
    ] = False,
    today: Annotated[str | None, typer.Option(help="Sweep as of this date.")] = None,
    register: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_REGISTER",
            help="Record the sweep in this register's audit log.",
        ),
    ] = None,
    key_file: KeyFileOpt = None,
) -> None:
    """Find rows kept past the catalog's retention periods, and purge them with --apply."""
    from dsar.catalog import load_catalog
    from dsar.cli._shared import open_register
    from dsar.engine import open_engine
    from dsar.rights import apply_plan, plan_retention

    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        plan = plan_retention(cat, engine, parse_date(today) if today else None)
        typer.echo(plan.describe())
        if not apply:
            typer.echo("dry run: nothing was changed; add --apply to delete")
            return
        reg = open_register(register, key_file) if register is not None else None
        result = apply_plan(
            plan,
            cat,
            engine,
            out=out,
            dry_run=False,
            audit=reg.audit if reg is not None else None,
            progress=_steps(),
        )
    typer.echo(f"applied; certificate: {result.certificate}")
