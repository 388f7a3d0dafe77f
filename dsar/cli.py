"""The `dsar` command line: the same public API as the notebooks, for scripts and schedulers.

Heavy libraries (Presidio, spaCy, Spark) are imported inside the commands that need them,
so `dsar --help` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsar.catalog.models import IdentityKind
from dsar.errors import CatalogError, WorkbenchError

if TYPE_CHECKING:
    from dsar.identity import SubjectKey
    from dsar.register import Register, RequestRecord

app = typer.Typer(
    name="dsar",
    help="Privacy Workbench: answer data-subject requests from exported tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(
    help="Validate and inspect the data map (catalog.yml).", no_args_is_help=True
)
app.add_typer(catalog_app, name="catalog")
requests_app = typer.Typer(
    help="The request register: deadlines and status of every request.", no_args_is_help=True
)
app.add_typer(requests_app, name="requests")
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
ledger_app = typer.Typer(
    help="The suppression ledger: erased, objected, opted out, restricted.", no_args_is_help=True
)
app.add_typer(ledger_app, name="ledger")
LedgerOpt = Annotated[
    Path,
    typer.Option("--ledger", envvar="WORKBENCH_LEDGER", help="The suppression ledger file."),
]

RegisterOpt = Annotated[
    Path,
    typer.Option(
        "--register",
        envvar="WORKBENCH_REGISTER",
        help="The register's SQLite file (its audit log sits beside it).",
    ),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="File holding the secret key for keyed references"
        " (default: $WORKBENCH_KEY). Keep it away from the register.",
    ),
]

CatalogArg = Annotated[Path, typer.Argument(help="Path of the catalog YAML file.")]


def _err(text: str) -> None:
    typer.echo(text, err=True)


@app.command()
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

    when = _parse_date(as_of) if as_of else None

    def progress(done: int, total: int) -> None:
        if total > 20_000:
            _err(f"  {done:>10,} / {total:,} users")

    export = generate(out, users=users, seed=seed, as_of=when, progress=progress)
    total = sum(export.rows.values())
    typer.echo(f"demo export: {total:,} rows in {len(export.rows)} tables, as of {export.as_of}")
    typer.echo(f"catalog:     {export.catalog_path}")
    typer.echo(f"demo person: user {export.subject_user_id} (see demo.json)")


@catalog_app.command("check")
def catalog_check(
    catalog: CatalogArg,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also read every row, to find malformed values.")
    ] = False,
) -> None:
    """Validate the catalog and compare it with the files. Exit 1 with every problem found."""
    from dsar.catalog import check_against_files, load_catalog
    from dsar.engine import open_engine

    cat = load_catalog(catalog)
    with open_engine(kind="duckdb") as engine:
        check_against_files(cat, engine, deep=deep)
    files = sum(len(cat.files(t)) for t in cat.tables)
    how = ", every row read" if deep else ""
    typer.echo(f"catalog OK: {len(cat.tables)} tables, {files} files{how}")


@catalog_app.command("show")
def catalog_show(
    catalog: CatalogArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Inventory: each table's rows, size, category, identity, secret and free-text columns."""
    from dsar.catalog import inventory, load_catalog
    from dsar.engine import open_engine

    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        rows = inventory(cat, engine)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    header = (
        f"{'table':<22} {'format':<8} {'rows':>11} {'MB':>8}  {'role':<10} {'category':<22}"
        " identity"
    )
    typer.echo(header)
    typer.echo("-" * len(header))
    for r in rows:
        ident = ", ".join(f"{c} ({k})" for c, k in r.identity.items()) or "-"
        flags = "".join(
            [
                f"  secret: {', '.join(r.secrets)}" if r.secrets else "",
                f"  free text: {', '.join(r.free_text)}" if r.free_text else "",
            ]
        )
        typer.echo(
            f"{r.name:<22} {r.format:<8} {r.rows:>11,} {r.bytes / 1e6:>8.1f}  {r.role:<10}"
            f" {r.category:<22} {ident}{flags}"
        )
    typer.echo(f"{len(rows)} tables, {sum(r.rows for r in rows):,} rows")


@catalog_app.command("schema")
def catalog_schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the catalog's JSON Schema, for editor completion and validation."""
    from dsar.catalog import catalog_json_schema

    text = json.dumps(catalog_json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


@app.command()
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
    import os

    from dsar.access import answer_access_requests, new_label, read_batch_requests
    from dsar.catalog import load_catalog
    from dsar.identity import MatchRules, SubjectRequest, make_key, parse_key
    from dsar.verify import verify_bundle

    rules = MatchRules(
        gmail_dots=gmail_dots, plus_addressing=plus_addressing, max_identifiers=max_identifiers
    )
    reg = None
    if request is not None:
        if email or ids or batch:
            raise typer.BadParameter("give --request, or --email/--id/--batch, not both")
        reg = _open_register(register, key_file)
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
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if not keys:
            raise typer.BadParameter("give the person's --email or an --id TYPE=VALUE")
        requests = [SubjectRequest(label or new_label(), tuple(keys))]
    passphrase = None
    if passphrase_env:
        passphrase = os.environ.get(passphrase_env)
        if not passphrase:
            raise typer.BadParameter(f"environment variable {passphrase_env} is not set")
    bundles = answer_access_requests(
        load_catalog(catalog), requests, out, rules=rules, passphrase=passphrase, register=reg
    )
    failed = 0
    for bundle in bundles:
        for kind in (IdentityKind.USER_ID, IdentityKind.CUSTOMER_ID):
            joined = len(bundle.subject.identity.values(kind))
            if joined > 1:
                _err(
                    f"note: request {bundle.label} joined {joined} {kind.value}s; check the"
                    " identity provenance in the report before sending"
                )
        check = verify_bundle(bundle.path)
        status = "verified" if check.ok else f"{len(check.findings)} finding(s)"
        failed += not check.ok
        typer.echo(f"{bundle.path}  ({bundle.subject.rows} rows, {status})")
        for finding in check.findings:
            _err(f"  {finding}")
    if failed:
        raise typer.Exit(1)


@app.command()
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
    from dsar.access import new_label
    from dsar.audit import load_key
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.erasure import apply_erasure, confirm_erasure, plan_erasure
    from dsar.identity import SubjectRequest

    if recover_only:
        from dsar.erasure import recover

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
        reg = _open_register(register, key_file)
        record = reg.get(request)
        if record.type.value != "erasure":
            raise typer.BadParameter(f"{request} is a {record.type.value} request, not erasure")
        subject = SubjectRequest(record.id, record.identifiers)
    else:
        subject = SubjectRequest(new_label(prefix="ER"), tuple(_keys_from(email, ids)))
    key = reg.key if reg is not None else load_key(key_file)
    with open_engine(cat) as engine:
        plan = plan_erasure(cat, engine, subject, key=key)
        typer.echo(plan.describe())
        if not apply:
            typer.echo("dry run: nothing was changed; add --apply to erase")
            return
        from dsar.ledger import Ledger

        book = Ledger(ledger, key, key_file) if ledger is not None else None
        result = apply_erasure(plan, cat, engine, subject, out, key=key, dry_run=False, ledger=book)
    if reg is not None:
        reg.audit.append(
            "erasure.applied",
            request=plan.request,
            subject=plan.subject,
            tables={a.table: a.to_change for a in plan.actions if a.to_change},
            details={"files": len(result.files), "retained": sum(a.retained for a in plan.actions)},
        )
    typer.echo(f"applied; certificate: {result.certificate}")
    if result.files:
        typer.echo(
            f"originals kept beside each file as *.before-{plan.request}; remove them with:"
            f" dsar erase --catalog {catalog} --confirm {plan.request}"
        )


@app.command()
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
    from dsar.access import new_label
    from dsar.catalog import load_catalog
    from dsar.correction import apply_correction, plan_correction
    from dsar.engine import open_engine
    from dsar.identity import SubjectRequest

    pairs = {}
    for text in values:
        target, sep, value = text.partition("=")
        if not sep or "." not in target:
            raise typer.BadParameter(f"{text!r} is not table.column=value")
        pairs[target.strip()] = value
    reg, record = None, None
    if request is not None:
        reg = _open_register(register, key_file)
        record = reg.get(request)
        subject = SubjectRequest(request, record.identifiers)
    else:
        subject = SubjectRequest(new_label(prefix="CR"), tuple(_keys_from(email, ids)))
    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        plan = plan_correction(cat, engine, subject, pairs)
        typer.echo(plan.describe())
        for table, diff in plan.diff.items():
            typer.echo(f"\n{table}:")
            typer.echo(diff.to_pandas().to_string(index=False, max_colwidth=40))
        if not apply:
            typer.echo("\ndry run: nothing was changed; add --apply to correct")
            return
        files = apply_correction(plan, cat, engine, subject, dry_run=False)
    if reg is not None and record is not None:
        reg.audit.append(
            "correction.applied",
            request=plan.request,
            subject=record.subject_ref,
            tables={c.table: c.rows for c in plan.changes},
            details={
                "columns": [f"{c.table}.{c.column}" for c in plan.changes],
                "recipients": list(plan.recipients),
            },
        )
    typer.echo(f"\napplied: {len(files)} file(s) rewritten; notify: {', '.join(plan.recipients)}")


@app.command()
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
    from dsar.retention import apply_retention, plan_retention

    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        plan = plan_retention(cat, engine, _parse_date(today) if today else None)
        typer.echo(plan.describe())
        if not apply:
            typer.echo("dry run: nothing was changed; add --apply to delete")
            return
        certificate = apply_retention(plan, cat, engine, out, dry_run=False)
    typer.echo(f"applied; certificate: {certificate}")


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle folder.")],
) -> None:
    """Check a bundle: checksums, every row the person's, no secret or other person in clear."""
    from dsar.verify import verify_bundle

    result = verify_bundle(bundle)
    for finding in result.findings:
        typer.echo(str(finding))
    if not result.ok:
        _err(f"{bundle}: {len(result.findings)} finding(s)")
        raise typer.Exit(1)
    typer.echo(f"{bundle}: OK ({result.checked_files} files, {result.checked_rows} rows checked)")


def _open_register(path: Path, key_file: Path | None) -> Register:
    from dsar.audit import load_key
    from dsar.register import Register

    return Register(path, load_key(key_file))


def _request_line(r: RequestRecord, today: date) -> str:
    due = r.deadlines.due
    left = r.days_left(today)
    flag = "OVERDUE" if r.overdue(today) else (f"{left}d left" if r.is_open else r.status.value)
    ext = " (extended)" if r.extension_notified else ""
    return (
        f"{r.id}  {r.type.value:<11} {r.jurisdiction.value:<7} received {r.received}"
        f"  due {due}{ext}  {r.status.value:<11} {flag}"
    )


@requests_app.command("add")
def requests_add(
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            help="access, portability, erasure, correction, restriction, objection or opt_out.",
        ),
    ],
    jurisdiction: Annotated[str, typer.Option(help="gdpr, uk_gdpr or ccpa.")],
    received: Annotated[str, typer.Option(help="Date received, YYYY-MM-DD.")],
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="TYPE=VALUE.")] = None,
    verified: Annotated[bool, typer.Option(help="Identity already verified.")] = False,
    note: Annotated[str | None, typer.Option(help="A note for the team.")] = None,
) -> None:
    """Register a request and print its id and deadline."""
    from dsar.deadlines import Jurisdiction, RequestType
    from dsar.register import Verification

    try:
        req_type, law = RequestType(kind), Jurisdiction(jurisdiction)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    keys = _keys_from(email, ids)
    reg = _open_register(register, key_file)
    record = reg.add(
        req_type,
        law,
        _parse_date(received),
        keys,
        Verification.VERIFIED if verified else Verification.PENDING,
        note,
    )
    d = record.deadlines
    ack = f", acknowledge by {d.acknowledge_by}" if d.acknowledge_by else ""
    typer.echo(f"{record.id}: {req_type.value} ({law.value}), due {d.due}{ack}  [{d.rule}]")


@requests_app.command("list")
def requests_list(
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    include_closed: Annotated[bool, typer.Option("--all", help="Closed requests too.")] = False,
    due_within: Annotated[
        str | None, typer.Option(help="Only open requests due within this many days, e.g. 7d.")
    ] = None,
    today: Annotated[str | None, typer.Option(help="Count days from this date.")] = None,
) -> None:
    """Requests by deadline; overdue ones flagged."""
    day = _parse_date(today) if today else date.today()
    within = None
    if due_within is not None:
        text = due_within.strip().lower().removesuffix("d")
        if not text.isdigit():
            raise typer.BadParameter(f"{due_within!r} is not a number of days, e.g. 7d")
        within = int(text)
    reg = _open_register(register, key_file)
    records = reg.list(include_closed=include_closed, due_within=within, today=day)
    for record in records:
        typer.echo(_request_line(record, day))
    overdue = sum(r.overdue(day) for r in records)
    typer.echo(f"{len(records)} request(s){f', {overdue} OVERDUE' if overdue else ''}")


@requests_app.command("show")
def requests_show(
    request_id: Annotated[str, typer.Argument(help="The request id, e.g. R-2026-0001.")],
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """One request in full, with its identifiers and deadlines."""
    r = _open_register(register, key_file).get(request_id)
    d = r.deadlines
    lines = [
        _request_line(r, date.today()),
        f"  identifiers:  {', '.join(str(k) for k in r.identifiers)}",
        f"  verification: {r.verification.value}",
        f"  deadline:     {d.respond_by} ({d.rule})",
    ]
    if d.acknowledge_by:
        lines.append(f"  acknowledge:  by {d.acknowledge_by}")
    if r.extension_notified:
        lines.append(
            f"  extended to:  {d.extended_to}, notified {r.extension_notified}:"
            f" {r.extension_reason}"
        )
    if r.denial_reason:
        lines.append(f"  denied:       {r.denial_reason.value}")
    if r.note:
        lines.append(f"  note:         {r.note}")
    typer.echo("\n".join(lines))


@requests_app.command("update")
def requests_update(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    status: Annotated[
        str | None, typer.Option(help="open, in_progress, completed, withdrawn.")
    ] = None,
    verification: Annotated[str | None, typer.Option(help="pending, verified, failed.")] = None,
    deny: Annotated[
        str | None,
        typer.Option(
            help="Refuse: no_match, identity_not_verified,"
            " manifestly_unfounded_or_excessive, outside_jurisdiction."
        ),
    ] = None,
    extend: Annotated[
        str | None, typer.Option(help="Extend, with the reason told to the person.")
    ] = None,
    notified: Annotated[
        str | None, typer.Option(help="When the extension was notified (default today).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Replace the note.")] = None,
) -> None:
    """Change a request's status, verification, refusal or extension (audited)."""
    from dsar.register import DenialReason, Status, Verification

    try:
        new_status = Status(status) if status else None
        new_verification = Verification(verification) if verification else None
        reason = DenialReason(deny) if deny else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    ext = (extend, _parse_date(notified) if notified else date.today()) if extend else None
    reg = _open_register(register, key_file)
    record = reg.update(
        request_id,
        status=new_status,
        verification=new_verification,
        deny=reason,
        extend=ext,
        note=note,
    )
    typer.echo(_request_line(record, date.today()))


@audit_app.command("verify")
def audit_verify(
    log: Annotated[
        Path | None, typer.Option(help="The audit log (default: the register's).")
    ] = None,
    register: RegisterOpt = Path("requests.db"),
) -> None:
    """Check the audit log's hash chain: exit 1 if any entry was edited, removed or moved."""
    from dsar.audit import AuditLog, verify_audit_log

    path = log or register.with_name(register.name + ".audit.jsonl")
    problems = verify_audit_log(path)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        _err(f"{path}: {len(problems)} problem(s): the log was tampered with")
        raise typer.Exit(1)
    typer.echo(f"{path}: intact ({len(AuditLog(path).entries())} entries)")


def _keys_from(email: str | None, ids: list[str] | None) -> list[SubjectKey]:
    from dsar.identity import make_key, parse_key

    try:
        keys = [make_key(IdentityKind.EMAIL, email)] if email else []
        keys += [parse_key(t) for t in ids or []]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not keys:
        raise typer.BadParameter("give the person's --email or an --id TYPE=VALUE")
    return keys


@ledger_app.command("add")
def ledger_add(
    reason: Annotated[
        str,
        typer.Option(
            help="erased, objected_direct_marketing, opted_out_sale_sharing or restricted."
        ),
    ],
    request: Annotated[str, typer.Option(help="The request this answers, e.g. R-2026-0003.")],
    ledger: LedgerOpt = Path("ledger.db"),
    key_file: KeyFileOpt = None,
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="TYPE=VALUE.")] = None,
) -> None:
    """Record an objection, opt-out, restriction or erasure (keyed hashes only)."""
    from dsar.audit import load_key
    from dsar.ledger import Ledger, Reason

    try:
        why = Reason(reason)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    keys = _keys_from(email, ids)
    book = Ledger(ledger, load_key(key_file), key_file)
    added = book.add(keys, why, request)
    typer.echo(f"{added} identifier(s) recorded as {why.value} for {request}")


@ledger_app.command("check")
def ledger_check(
    ledger: LedgerOpt = Path("ledger.db"),
    key_file: KeyFileOpt = None,
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="TYPE=VALUE.")] = None,
) -> None:
    """Say whether a person is in the ledger, and why. Exit 1 when they are."""
    from dsar.audit import load_key
    from dsar.ledger import Ledger

    book = Ledger(ledger, load_key(key_file), key_file)
    found = {r.value for k in _keys_from(email, ids) for r in book.reasons(k)}
    typer.echo(", ".join(sorted(found)) if found else "not in the ledger")
    if found:
        raise typer.Exit(1)


@ledger_app.command("list")
def ledger_list(
    ledger: LedgerOpt = Path("ledger.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """What the ledger holds, per reason and request (references only, never who)."""
    from collections import Counter

    from dsar.audit import load_key
    from dsar.ledger import Ledger

    entries = Ledger(ledger, load_key(key_file), key_file).entries()
    counts = Counter((e.since.isoformat(), e.request, e.reason.value) for e in entries)
    for (since, request_id, reason), n in sorted(counts.items()):
        typer.echo(f"{since}  {request_id:<22} {reason:<28} {n} identifier(s)")
    typer.echo(f"{len(entries)} entr(ies)")


@ledger_app.command("replay")
def ledger_replay(
    catalog: Annotated[Path, typer.Option(help="The (restored) export's catalog.")],
    out: Annotated[Path, typer.Option(help="Folder for the certificates.")] = Path("certificates"),
    ledger: LedgerOpt = Path("ledger.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """Re-apply every recorded erasure to an export, e.g. after restoring a backup."""
    from dsar.audit import load_key
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.erasure import replay_erasures
    from dsar.ledger import Ledger

    key = load_key(key_file)
    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        results = replay_erasures(Ledger(ledger, key, key_file), cat, engine, out, key=key)
    for result in results:
        typer.echo(
            f"{result.plan.request}: {result.plan.changes} row(s) erased again;"
            f" certificate {result.certificate}"
        )
    typer.echo(f"{len(results)} erasure(s) re-applied")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; write YYYY-MM-DD") from None


def main() -> None:
    """Entry point: run the app, turning workbench errors into a message and exit code 1."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        app()
    except CatalogError as exc:
        _err(str(exc))
        sys.exit(1)
    except WorkbenchError as exc:
        _err(f"error: {exc}")
        sys.exit(1)
