"""The per-person commands: demo, access, verify, erase, correct, retention."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dsar.catalog.models import IdentityKind
from dsar.cli._shared import (
    KeyFileOpt,
    RegisterOpt,
    err,
    keys_from,
    open_register,
    parse_date,
    passphrase_from,
)
from dsar.errors import IdentifierError


def demo(
    out: Annotated[Path, typer.Option(help="Folder to write the export and catalog.yml to.")],
    users: Annotated[int, typer.Option(min=10, help="How many platform accounts.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    as_of: Annotated[
        str | None, typer.Option(help="Export date YYYY-MM-DD (default: today, UTC).")
    ] = None,
) -> None:
    """Generate the demo export of a SaaS integration platform, with its catalog."""
    from dsar.demo import generate

    when = parse_date(as_of) if as_of else None

    def progress(done: int, total: int) -> None:
        if total > 20_000:
            err(f"  {done:>10,} / {total:,} users")

    export = generate(out, users=users, seed=seed, as_of=when, progress=progress)
    total = sum(export.rows.values())
    typer.echo(f"demo export: {total:,} rows in {len(export.rows)} tables, as of {export.as_of}")
    typer.echo(f"catalog:     {export.catalog_path}")
    typer.echo(f"demo person: user {export.subject_user_id} (see demo.json)")


def access(
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
    out: Annotated[Path, typer.Option(help="Folder to write the bundle(s) to.")],
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="Another identifier as TYPE=VALUE, e.g. user_id=u0000042."),
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Request reference (default: a random AR-... id).")
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            help="CSV of many requests: a request_id column and one column per"
            " identifier type (email, user_id, phone, ...)."
        ),
    ] = None,
    gmail_dots: Annotated[
        bool, typer.Option(help="Ignore dots in gmail.com addresses when matching.")
    ] = False,
    plus_addressing: Annotated[
        bool, typer.Option(help="Ignore +tags in email addresses when matching.")
    ] = False,
    max_identifiers: Annotated[
        int, typer.Option(help="Stop when a person has more identifiers of one kind.")
    ] = 25,
    passphrase_env: Annotated[
        str | None,
        typer.Option(
            help="Encrypt the zip (AES-256) with the passphrase in this environment variable."
        ),
    ] = None,
    request: Annotated[
        str | None,
        typer.Option(
            help="Answer this registered request: its identifiers and id are used, and the"
            " bundle is recorded in the audit log."
        ),
    ] = None,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """Collect everything one person (or a batch) has, as a verified bundle per person."""
    from dsar.access.answer import answer_access_requests, new_label, read_batch_requests
    from dsar.catalog import load_catalog
    from dsar.review.bundle import verify_bundle
    from dsar.subjects.identity import MatchRules, SubjectRequest, make_key, parse_key

    rules = MatchRules(
        gmail_dots=gmail_dots, plus_addressing=plus_addressing, max_identifiers=max_identifiers
    )
    reg = None
    if request is not None:
        if email or ids or batch:
            raise typer.BadParameter("give --request, or --email/--id/--batch, not both")
        reg = open_register(register, key_file)
        record = reg.get(request)
        if record.type.value not in ("access", "portability"):
            raise typer.BadParameter(f"{request} is a {record.type.value} request, not access")
        requests = [SubjectRequest(record.id, record.identifiers)]
    elif batch is not None:
        if email or ids:
            raise typer.BadParameter("give either --batch or --email/--id, not both")
        requests = read_batch_requests(batch, rules)
    else:
        keys = []
        try:
            if email:
                keys.append(make_key(IdentityKind.EMAIL, email, rules))
            keys += [parse_key(text, rules) for text in ids or []]
        except IdentifierError as exc:
            raise typer.BadParameter(str(exc)) from None
        if not keys:
            raise typer.BadParameter("give the person's --email or an --id TYPE=VALUE")
        requests = [SubjectRequest(label or new_label(), tuple(keys))]
    passphrase = passphrase_from(passphrase_env)
    bundles = answer_access_requests(
        load_catalog(catalog),
        requests,
        out,
        rules=rules,
        passphrase=passphrase,
        register=reg,
        progress=err if sys.stderr.isatty() else None,  # shown to a person, not a pipe
    )
    failed = 0
    for bundle in bundles:
        for kind in (IdentityKind.USER_ID, IdentityKind.CUSTOMER_ID):
            joined = len(bundle.subject.identity.values(kind))
            if joined > 1:
                err(
                    f"note: request {bundle.label} joined {joined} {kind.value}s; check the"
                    " identity provenance in the report before sending"
                )
        check = verify_bundle(bundle.path)
        status = "verified" if check.ok else f"{len(check.findings)} finding(s)"
        failed += not check.ok
        typer.echo(f"{bundle.path}  ({bundle.subject.rows} rows, {status})")
        for finding in check.findings:
            err(f"  {finding}")
    if failed:
        raise typer.Exit(1)


def erase(
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
    out: Annotated[Path, typer.Option(help="Folder for the erasure certificate.")] = Path(
        "certificates"
    ),
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="TYPE=VALUE.")] = None,
    request: Annotated[str | None, typer.Option(help="Erase for this registered request.")] = None,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Change the files (default: a dry run that shows the plan)."),
    ] = False,
    confirm: Annotated[
        str | None,
        typer.Option(help="Delete the originals an applied erasure kept, for this request id."),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_LEDGER",
            help="Record the person as erased in this suppression ledger.",
        ),
    ] = None,
    recover_only: Annotated[
        bool, typer.Option("--recover", help="Finish an erasure a crash interrupted.")
    ] = False,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """Erase one person: plan (dry run by default), apply, certificate; --confirm cleans up."""
    from dsar.access.answer import new_label
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.records.audit import load_key
    from dsar.rights.erasure import apply_erasure, confirm_erasure, plan_erasure
    from dsar.subjects.identity import SubjectRequest

    if recover_only:
        from dsar.rights.erasure import recover

        done = recover(catalog.parent)
        typer.echo("finished the interrupted erasure" if done else "nothing to recover")
        return
    cat = load_catalog(catalog)
    if confirm is not None:
        removed = confirm_erasure(cat, confirm)
        typer.echo(f"removed {len(removed)} original file(s) kept for {confirm}")
        return
    reg = None
    if request is not None:
        reg = open_register(register, key_file)
        record = reg.get(request)
        if record.type.value != "erasure":
            raise typer.BadParameter(f"{request} is a {record.type.value} request, not erasure")
        subject = SubjectRequest(record.id, record.identifiers)
    else:
        subject = SubjectRequest(new_label(prefix="ER"), tuple(keys_from(email, ids)))
    key = reg.key if reg is not None else load_key(key_file)
    steps = err if sys.stderr.isatty() else None  # shown to a person, not a pipe
    with open_engine(cat) as engine:
        plan = plan_erasure(cat, engine, subject, key=key, progress=steps)
        typer.echo(plan.describe())
        if not apply:
            typer.echo("dry run: nothing was changed; add --apply to erase")
            return
        from dsar.records.ledger import Ledger

        book = Ledger(ledger, key, key_file) if ledger is not None else None
        result = apply_erasure(
            plan,
            cat,
            engine,
            subject,
            out,
            key=key,
            dry_run=False,
            ledger=book,
            audit=reg.audit if reg is not None else None,
            progress=steps,
        )
    typer.echo(f"applied; certificate: {result.certificate}")
    if result.files:
        typer.echo(
            f"originals kept beside each file as *.before-{plan.request}; remove them with:"
            f" dsar erase --catalog {catalog} --confirm {plan.request}"
        )


def correct(
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
    values: Annotated[
        list[str],
        typer.Option("--set", help="table.column=new value, e.g. accounts.full_name='Ann Smith'."),
    ],
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="TYPE=VALUE.")] = None,
    request: Annotated[str | None, typer.Option(help="A registered correction request.")] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Change the files (default: show the diff).")
    ] = False,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """Correct a person's data: show the before/after diff, then apply with --apply."""
    from dsar.access.answer import new_label
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.rights.correction import apply_correction, plan_correction
    from dsar.subjects.identity import SubjectRequest

    pairs = {}
    for text in values:
        target, sep, value = text.partition("=")
        if not sep or "." not in target:
            raise typer.BadParameter(f"{text!r} is not table.column=value")
        pairs[target.strip()] = value
    reg = None
    if request is not None:
        reg = open_register(register, key_file)
        subject = SubjectRequest(request, reg.get(request).identifiers)
    else:
        subject = SubjectRequest(new_label(prefix="CR"), tuple(keys_from(email, ids)))
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
        files = apply_correction(
            plan,
            cat,
            engine,
            subject,
            dry_run=False,
            audit=reg.audit if reg else None,
            progress=err if sys.stderr.isatty() else None,
        )
    typer.echo(f"\napplied: {len(files)} file(s) rewritten; notify: {', '.join(plan.recipients)}")


def retention(
    catalog: Annotated[Path, typer.Option(help="Path of the catalog YAML file.")],
    out: Annotated[Path, typer.Option(help="Folder for the certificate.")] = Path("certificates"),
    apply: Annotated[
        bool, typer.Option("--apply", help="Delete the rows (default: a dry run).")
    ] = False,
    today: Annotated[str | None, typer.Option(help="Sweep as of this date.")] = None,
) -> None:
    """Find rows kept past the catalog's retention periods, and purge them with --apply."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.rights.retention import apply_retention, plan_retention

    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        plan = plan_retention(cat, engine, parse_date(today) if today else None)
        typer.echo(plan.describe())
        if not apply:
            typer.echo("dry run: nothing was changed; add --apply to delete")
            return
        certificate = apply_retention(
            plan, cat, engine, out, dry_run=False, progress=err if sys.stderr.isatty() else None
        )
    typer.echo(f"applied; certificate: {certificate}")


def verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle folder, or its zip.")],
    passphrase_env: Annotated[
        str | None,
        typer.Option(help="For an encrypted zip: the environment variable with its passphrase."),
    ] = None,
) -> None:
    """Check a bundle: checksums, every row the person's, no secret or other person in clear."""
    from dsar.review.bundle import verify_bundle

    result = verify_bundle(bundle, passphrase_from(passphrase_env))
    for finding in result.findings:
        typer.echo(str(finding))
    if not result.ok:
        err(f"{bundle}: {len(result.findings)} finding(s)")
        raise typer.Exit(1)
    typer.echo(f"{bundle}: OK ({result.checked_files} files, {result.checked_rows} rows checked)")
