"""`dsar requests`, `dsar audit`, `dsar ledger`: the records a privacy team keeps."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from dsar.keys import Keys

from dsar.cli.common import (
    AcceptWarningsOpt,
    CatalogOpt,
    KeyFileOpt,
    LedgerOpt,
    RegisterOpt,
    SentOpt,
    err,
    existing_ledger,
    keys_from,
    open_register,
    open_sent,
    parse_date,
    request_line,
)

requests_app = typer.Typer(
    help="The request register: deadlines and status of every request.", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
index_app = typer.Typer(
    help="The identity index: where each identifier sits, so requests read only those rows.",
    no_args_is_help=True,
)
ledger_app = typer.Typer(
    help="The suppression ledger: erased, objected, opted out, restricted.", no_args_is_help=True
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
    ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="An identifier as TYPE=VALUE, e.g. user_id=u0000042 (repeat)."),
    ] = None,
    verified: Annotated[bool, typer.Option(help="Identity already verified.")] = False,
    note: Annotated[str | None, typer.Option(help="A note for the team.")] = None,
) -> None:
    """Register a request and print its id and deadline."""
    from dsar.records.deadlines import Jurisdiction, RequestType
    from dsar.records.register import Verification

    try:
        req_type, law = RequestType(kind), Jurisdiction(jurisdiction)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    keys = keys_from(email, ids)
    reg = open_register(register, key_file, create=True)
    record = reg.add(
        req_type,
        law,
        parse_date(received),
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
    day = parse_date(today) if today else date.today()
    within = None
    if due_within is not None:
        text = due_within.strip().lower().removesuffix("d")
        if not text.isdigit():
            raise typer.BadParameter(f"{due_within!r} is not a number of days, e.g. 7d")
        within = int(text)
    if not register.exists():  # nothing registered yet: none is made by listing
        typer.echo(f"0 request(s): no register at {register} (`dsar requests add` starts one)")
        return
    reg = open_register(register, key_file)
    records = reg.list(include_closed=include_closed, due_within=within, today=day)
    for record in records:
        typer.echo(request_line(record, day))
    overdue = sum(r.overdue(day) for r in records)
    typer.echo(f"{len(records)} request(s){f', {overdue} OVERDUE' if overdue else ''}")
    _list_breaches(register, reg.keys, day, today is None, include_closed, within)


def _list_breaches(
    register: Path, keys: Keys, day: date, live: bool, include_closed: bool, within: int | None
) -> None:
    """The register's breaches with notices pending (`--all`: every one), by next deadline;
    an overdue notice flagged as an overdue request is."""
    from datetime import UTC, datetime, time, timedelta

    from dsar.records.breaches import Breaches, breach_line

    now = datetime.now(UTC) if live else datetime.combine(day, time.min, UTC)
    with Breaches(register, keys) as book:
        breaches = book.list(include_closed=include_closed)
        disagree = book.unregistered_notices()
        unverified = book.unverified_notices()
    for problem in unverified:  # a line appended without the key gives no notice
        typer.echo(f"WARNING: {problem}; `dsar audit verify` shows the log's problems", err=True)
    for problem in disagree:  # the audit log's notices are counted as given, not OVERDUE
        typer.echo(
            f"WARNING: the register disagrees with its audit log: {problem} (an earlier copy"
            " of the register put back?); it is counted as given. `dsar audit verify` shows"
            " it; put the latest copy of the register back",
            err=True,
        )
    if within is not None:
        until = now + timedelta(days=within)
        breaches = [
            b for b in breaches if (n := b.next_due()) is not None and n.due and n.due <= until
        ]
    if not breaches:
        return
    for breach in breaches:
        typer.echo(breach_line(breach, now))
    late = sum(1 for b in breaches if b.overdue(now))
    typer.echo(f"{len(breaches)} breach(es){f', {late} OVERDUE' if late else ''}")


@requests_app.command("show")
def requests_show(
    request_id: Annotated[str, typer.Argument(help="The request id, e.g. R-2026-0001.")],
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """One request in full, with its identifiers and deadlines."""
    r = open_register(register, key_file).get(request_id)
    d = r.deadlines
    lines = [
        request_line(r, date.today()),
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
        str | None,
        typer.Option(
            help="open, in_progress, completed, withdrawn, or sent (once its artifact was"
            " reviewed and approved: dsar verify --sign-off)."
        ),
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
    from dsar.records.register import DenialReason, Status, Verification
    from dsar.review.certificate import certificate_check

    try:
        new_status = Status(status) if status else None
        new_verification = Verification(verification) if verification else None
        reason = DenialReason(deny) if deny else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    ext = (extend, parse_date(notified) if notified else date.today()) if extend else None
    reg = open_register(register, key_file)
    record = reg.update(
        request_id,
        status=new_status,
        verification=new_verification,
        deny=reason,
        extend=ext,
        note=note,
        certificate_check=certificate_check,
    )
    typer.echo(request_line(record, date.today()))


def _holds_requests(register: Path) -> bool:
    """Whether a register file is there with a request in it (one never used holds none,
    and has no audit log yet); unreadable counts as holding some (then checked)."""
    if not register.exists():
        return False
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{register}?mode=ro", uri=True)
        try:
            return bool(db.execute("SELECT count(*) FROM requests").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return True


@audit_app.command("verify")
def audit_verify(
    log: Annotated[
        Path | None, typer.Option(help="The audit log (default: the register's).")
    ] = None,
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    expect: Annotated[
        int | None,
        typer.Option(
            help="The number of entries a copy of the head kept elsewhere records: catches"
            " entries cut from the end together with the head."
        ),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(envvar="WORKBENCH_LEDGER", help="Check this suppression ledger too."),
    ] = None,
    sent_record: Annotated[
        Path | None,
        typer.Option(envvar="WORKBENCH_SENT_RECORD", help="Check this record of sent audiences."),
    ] = None,
    release_log: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_RELEASE_LOG", help="Check this release log of aggregates too."
        ),
    ] = None,
    audit_log_lost: Annotated[
        bool,
        typer.Option(
            "--audit-log-lost",
            help="The sent record's own audit log was lost: check its rows without it (a note"
            " says so) instead of reporting the missing log.",
        ),
    ] = False,
) -> None:
    """Check the audit log's keyed chain and every record's keyed rows. Exit 1 on any edit.

    The register (its rows, and each request's status against the log), the ledger, the release
    log of aggregates and the sent record (its rows, and its latest write against its log: an
    earlier copy put back), and any sent record the log records writes to. Exit 1 if any entry
    or row was edited, added, removed or moved."""
    from dsar.keys import load_keys
    from dsar.records.audit import AuditLog, verify_audit_log
    from dsar.records.register import verify_register
    from dsar.records.sent import logged_records, verify_sent

    keys = load_keys(key_file)
    path = log or register.with_name(register.name + ".audit.jsonl")
    audit = AuditLog(path, keys)
    # records checked alone (a release log, a ledger) where no register nor its log exists:
    # there is no audit log to find missing
    alone = (
        log is None
        and expect is None
        and not path.exists()
        and not _holds_requests(register)
        and any(r is not None for r in (ledger, sent_record, release_log))
    )
    problems = [] if alone else [str(p) for p in audit.verify()]
    count = 0 if alone else len(audit.entries())
    if expect is not None and count < expect:
        problems.append(f"the log holds {count} entries, {expect} were expected: entries were cut")
    checked = [] if alone else [f"{path} ({count} entries)"]
    if log is None and register.is_file():
        problems += [f"{register}: {p}" for p in verify_register(register, keys)]
        checked.append(str(register))
    if ledger is not None:
        from dsar.records.ledger import verify_ledger

        problems += [f"{ledger}: {p}" for p in verify_ledger(ledger, keys)]
        checked.append(str(ledger))
    if release_log is not None:
        from dsar.records.releases import verify_release_log

        problems += [f"{release_log}: {p}" for p in verify_release_log(release_log, keys)]
        checked.append(str(release_log))
    sent = [sent_record] if sent_record is not None else []
    for name in sorted(logged_records(audit)):  # the sent records this log vouches for
        beside = path.with_name(name)
        if sent_record is None or beside.resolve() != sent_record.resolve():
            sent.append(beside)
    for record in sent:
        problems += [f"{record}: {p}" for p in verify_sent(record, keys, audit_lost=audit_log_lost)]
        if audit_log_lost and not record.with_name("audit.jsonl").exists():
            err(
                f"note: {record}: its audit log is missing (--audit-log-lost): its writes unchecked"
            )
        own = record.with_name("audit.jsonl")  # the record's own log, when it is another
        if own.is_file() and own.resolve() != path.resolve():
            problems += [f"{own}: {p}" for p in verify_audit_log(own, keys)]
        checked.append(str(record))
    for problem in problems:
        typer.echo(problem)
    if problems:
        err(
            f"{len(problems)} problem(s), each said above: a record changed outside the"
            " workbench, or a job a crash left unfinished"
        )
        raise typer.Exit(1)
    typer.echo(f"intact, every entry and row MACed with the key: {', '.join(checked)}")


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
    ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="An identifier as TYPE=VALUE, e.g. user_id=u0000042 (repeat)."),
    ] = None,
    sent_record: SentOpt = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="With --sent-record: the export's catalog, to find every identifier of the"
            " person (an objection under an account id names the uploads of their emails)."
        ),
    ] = None,
) -> None:
    """Record an objection, opt-out, restriction or erasure (keyed hashes only).

    With --sent-record, also lists the ad audiences that hold the person, under any
    identifier (account ids too; with --catalog, every identifier the export holds for
    them): `anonymize withdraw` writes their removal files.
    """
    from dsar.keys import load_keys
    from dsar.records.ledger import Ledger, Reason

    try:
        why = Reason(reason)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    # read as an audience reads a list: `ext. 12`, `<...>`, `mailto:` recorded as matched
    identifiers = keys_from(email, ids, canonical=True)
    keys = load_keys(key_file)
    book = Ledger(ledger, keys, key_file)
    added = book.add(identifiers, why, request)
    typer.echo(f"{added} identifier(s) recorded as {why.value} for {request}")
    sent = open_sent(sent_record, keys)
    if sent is not None:
        from dsar.catalog.models import IdentityKind
        from dsar.records.sent import LOOSE

        person = identifiers
        if catalog is not None:  # the person, not the string: every identifier of theirs
            from dsar.catalog import load_catalog
            from dsar.engine import open_engine
            from dsar.records.ledger import person_identifiers_shared

            with open_engine(load_catalog(catalog)) as engine:
                person, shared = person_identifiers_shared(engine, identifiers)
            typer.echo(
                f"the person has {len(person)} identifier(s) in the export"
                + (
                    f"; {shared} shared with other people (a family's phone): not used, they"
                    " would name the others' uploads"
                    if shared
                    else ""
                )
            )
        elif any(k.kind not in (IdentityKind.EMAIL, IdentityKind.PHONE) for k in identifiers):
            err(
                "note: an account id finds the uploads recorded under it; give --catalog to"
                " find the person's every identifier in the export"
            )
        # as withdraw matches: +tags and Gmail dots folded, every identifier of each upload
        held = sent.holding_any(person, LOOSE)
        sent.close()
        for platform, audience in held:
            typer.echo(f"held by ad platform {platform} in audience {audience}")
        # the command that finds them: with the catalog, withdraw resolves the ledger through
        # the export as this did (an identifier gained after the upload finds the person)
        export = f" --catalog {catalog}" if catalog is not None else ""
        for platform in sorted({p for p, _ in held}):
            typer.echo(
                f"to withdraw: anonymize withdraw --platform {platform} --record {sent_record}"
                f" --ledger {ledger}{export} --out <folder>"
            )


@ledger_app.command("check")
def ledger_check(
    ledger: LedgerOpt = Path("ledger.db"),
    key_file: KeyFileOpt = None,
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="An identifier as TYPE=VALUE, e.g. user_id=u0000042 (repeat)."),
    ] = None,
) -> None:
    """Say whether a person is in the ledger, and why. Exit 1 when they are."""
    from dsar.catalog.models import IdentityKind
    from dsar.keys import load_keys
    from dsar.subjects.identity import SubjectKey

    book = existing_ledger(ledger, load_keys(key_file), key_file)  # a typo makes no ledger
    # as typed: the address as `ledger add` kept it before it read mail forms (`<ann@x>`,
    # `mailto:`): lower case, trimmed, a final dot dropped; such entries must still be found
    legacy = [SubjectKey(IdentityKind.EMAIL, email.strip().lower().rstrip("."))] if email else []
    typed = list(dict.fromkeys([*keys_from(email, ids), *legacy]))
    try:  # as `ledger add` records it now; and as typed, as it recorded it before
        read = keys_from(email, ids, canonical=True)
    except typer.BadParameter:
        read = []
    # the values as typed: an entry under an older normal form (a phone's key kept its
    # extension's digits, an email's a link's 'mailto:') is known only from them
    written: list[str | None] = [email, *(t.partition("=")[2] for t in ids or [])]
    found = {
        e.reason.value
        + (" (pending: its change is not committed)" if e.state.value == "pending" else "")
        for k in dict.fromkeys([*read, *typed])
        for w in written
        for e in book.entries_for(k, written=w)
    }
    raw = [k for k in typed if k not in read and book.entries_for(k)]
    if raw:
        err(
            f"note: {len(raw)} identifier(s) recorded as typed (before `ledger add` read them as"
            " an audience does) match nobody in an audience: record them again with"
            " `dsar ledger add`, which now reads them"
        )
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

    from dsar.keys import load_keys

    entries = existing_ledger(ledger, load_keys(key_file), key_file).entries()
    counts = Counter(
        (e.since.isoformat(), e.request, e.reason.value, e.state.value) for e in entries
    )
    for (since, request_id, reason, state), n in sorted(counts.items()):
        typer.echo(f"{since}  {request_id:<22} {reason:<28} {state:<8} {n} identifier(s)")
    typer.echo(f"{len(entries)} entr(ies)")


@ledger_app.command("adopt")
def ledger_adopt(
    ledger: LedgerOpt = Path("ledger.db"),
    key_file: KeyFileOpt = None,
    i_know: Annotated[
        bool,
        typer.Option(
            "--i-know",
            help="The ledger was written before rows were keyed, and nobody changed it by"
            " hand: its rows are keyed as they are (stripped seals read the same).",
        ),
    ] = False,
) -> None:
    """Key and seal a ledger written before rows were keyed (recorded in its audit log).

    On purpose, recorded in the ledger's audit log (`<ledger>.audit.jsonl`). Every other command
    refuses a ledger without seals: stripping them is how rows are deleted unseen."""
    from dsar.errors import UsageError
    from dsar.keys import load_keys
    from dsar.records.ledger import Ledger

    if not i_know:
        raise UsageError(
            "--i-know",
            "adopting keys the ledger's rows as they are found, rows deleted by hand included",
            "only for a ledger written before rows were keyed: say --i-know",
        )
    book = Ledger(ledger, load_keys(key_file), key_file, adopt=True)
    try:
        details = {"ledger": ledger.name, "rows": book.adopted, "state": book.seal.state()}
        book.audit.append("ledger.adopted", details=details)
    finally:
        book.close()
    typer.echo(f"{book.adopted} row(s) keyed as they were found; recorded in {book.audit.path}")


@ledger_app.command("replay")
def ledger_replay(
    catalog: Annotated[Path, typer.Option(help="The (restored) export's catalog.")],
    out: Annotated[Path, typer.Option(help="Folder for the certificates.")] = Path("certificates"),
    ledger: LedgerOpt = Path("ledger.db"),
    register: RegisterOpt = Path("requests.db"),
    key_file: KeyFileOpt = None,
    accept_catalog_warnings: AcceptWarningsOpt = False,
) -> None:
    """Re-apply every recorded erasure to an export, e.g. after restoring a backup (audited)."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.keys import load_keys
    from dsar.records.ledger import Ledger
    from dsar.rights.erasure import replay_erasures

    keys = load_keys(key_file)
    cat = load_catalog(catalog)
    with open_engine(cat) as engine:
        book = Ledger(ledger, keys, key_file)
        audit = open_register(register, key_file, create=True).audit
        results = replay_erasures(
            book,
            cat,
            engine,
            out,
            keys=keys,
            audit=audit,
            accept_catalog_warnings=accept_catalog_warnings,
        )
    for result in results:
        typer.echo(
            f"{result.plan.label}: {result.plan.changes} row(s) erased again;"
            f" certificate {result.certificate}"
        )
    typer.echo(f"{len(results)} erasure(s) re-applied")


IndexPathOpt = Annotated[
    Path,
    typer.Option(
        "--index",
        envvar="WORKBENCH_INDEX",
        help="The index file; keep it beside the register, the key elsewhere.",
    ),
]


@index_app.command("build")
def index_build(
    catalog: CatalogOpt,
    index: IndexPathOpt = Path("identity-index.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """Build or bring up to date the identity index of an export (keyed references only).

    Files unchanged since the last build are kept; changed and new files are indexed
    again; files no longer in the catalog are forgotten.
    """
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.keys import load_keys
    from dsar.subjects.index import IdentityIndex

    cat = load_catalog(catalog)
    with IdentityIndex(index, load_keys(key_file), key_file) as built, open_engine(cat) as engine:
        rows = built.build(cat, engine, progress=err if sys.stderr.isatty() else None)
    for name, count in rows.items():
        typer.echo(f"{name:28} {count:>12,} rows indexed")
    typer.echo(f"{index}: {sum(rows.values()):,} rows of {len(rows)} tables")


@index_app.command("status")
def index_status(
    catalog: CatalogOpt,
    index: IndexPathOpt = Path("identity-index.db"),
    key_file: KeyFileOpt = None,
) -> None:
    """Which files the index covers, and which changed since (those are read whole)."""
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.keys import load_keys
    from dsar.subjects.index import IdentityIndex

    cat = load_catalog(catalog)
    with IdentityIndex(index, load_keys(key_file), key_file) as built, open_engine(cat) as engine:
        files = built.files_for(cat, engine)
        try:
            for name in engine.tables:
                fresh = files.fresh.get(name, {})
                total = len(engine.files(name))
                typer.echo(f"{name:28} {len(fresh)} of {total} file(s) indexed and unchanged")
        finally:
            files.close()
