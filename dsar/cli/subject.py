"""The commands that answer a person: demo, access, verify (erase and correct: `rights`)."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dsar.cli.common import (
    AcceptWarningsOpt,
    EngineOpt,
    IndexOpt,
    KeyFileOpt,
    PhoneRegionOpt,
    RegisterOpt,
    SparkMasterOpt,
    engine_options,
    err,
    existing_ledger,
    open_index,
    open_sent,
    optional_keys,
    parse_date,
    passphrase_from,
    resolve_person,
)
from dsar.cli.signoff import (
    DecisionsOpt,
    RequestOpt,
    RoleOpt,
    SharedAccountOpt,
    SignOffOpt,
    damaged_artifact_is_a_finding,
    record_sign_off,
    refused,
)

if TYPE_CHECKING:
    from dsar.review.bundle import Verification


def demo(
    out: Annotated[Path, typer.Option(help="Folder to write the export and catalog.yml to.")],
    users: Annotated[int, typer.Option(min=10, help="How many platform accounts.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    as_of: Annotated[
        str | None, typer.Option(help="Export date YYYY-MM-DD (default: today, UTC).")
    ] = None,
    schema: Annotated[
        str,
        typer.Option(
            help="saas: the SaaS integration platform (--users accounts); shop: an online"
            " music shop with child and reference tables (--users customers)."
        ),
    ] = "saas",
) -> None:
    """Generate a demo export with its catalog: a SaaS platform, or (--schema shop) a shop."""
    from dsar.demo import generate, generate_shop

    when = parse_date(as_of) if as_of else None
    if schema == "shop":
        shop = generate_shop(out, customers=users, seed=seed, as_of=when)
        total = sum(shop.rows.values())
        typer.echo(f"shop export: {total:,} rows in {len(shop.rows)} tables, as of {shop.as_of}")
        typer.echo(f"catalog:     {shop.catalog_path}")
        typer.echo("demo person: customer 1 (see demo.json)")
        return
    if schema != "saas":
        raise typer.BadParameter(f"unknown demo schema {schema!r}; choose saas or shop")

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
    phone_region: PhoneRegionOpt = None,
    engine_kind: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    index: IndexOpt = None,
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
    ledger: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_LEDGER",
            help="The suppression ledger: a person erased before is found again in what was"
            " kept, through the identifiers recorded at the erasure.",
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option(
            help="Exit 0 when no row matches a request's identifiers: the bundle then says"
            " we hold no data about the person."
        ),
    ] = False,
    accept_catalog_warnings: AcceptWarningsOpt = False,
    joined_ok: Annotated[
        bool,
        typer.Option(
            "--joined-ok",
            help="Deliver although the search joined two or more accounts (user, customer or"
            " person ids, usernames), after checking in the rejected bundle's report.html"
            " provenance that every one is this person. Without it such a bundle is set aside.",
        ),
    ] = False,
) -> None:
    """Collect everything one person (or a batch) has, as a verified bundle per person.

    Each bundle is checked before it takes its name; with --passphrase-env
    only the encrypted zip remains.

    Exit codes: 0 every bundle verified; 1 an error, or a bundle failed its
    check (set aside as <label>.REJECTED, not zipped: never send it); 3 no
    row matched a request's identifiers (a typo?), unless --allow-empty.
    """
    from dsar.access.answer import answer_access_requests
    from dsar.access.batch import read_batch_requests
    from dsar.catalog import load_catalog
    from dsar.engine import open_engine
    from dsar.records.deadlines import RequestType
    from dsar.subjects.identity import MatchRules
    from dsar.text.nlp import NlpSettings

    rules = MatchRules(
        gmail_dots=gmail_dots,
        plus_addressing=plus_addressing,
        max_identifiers=max_identifiers,
        phone_region=phone_region,
    )
    reg = None
    if batch is not None:
        if email or ids or request:
            raise typer.BadParameter("give either --batch or --email/--id/--request, not both")
        requests = read_batch_requests(batch, rules)
    else:
        subject, reg = resolve_person(
            email=email,
            ids=ids,
            request=request,
            register=register,
            key_file=key_file,
            allowed=(RequestType.ACCESS, RequestType.PORTABILITY),
            prefix="AR",
            label=label,
            rules=rules,
        )
        requests = [subject]
    passphrase = passphrase_from(passphrase_env)
    book = None
    if ledger is not None:
        from dsar.keys import load_keys

        book = existing_ledger(
            ledger, reg.keys if reg is not None else load_keys(key_file), key_file
        )
    cat = load_catalog(catalog)
    with ExitStack() as stack:
        built = open_index(index, key_file)
        if built is not None:
            stack.callback(built.close)
        options = engine_options(engine_kind, spark_master)
        if built is not None and engine_kind == "duckdb":
            options["readers"] = built.readers(cat)  # the schemas it kept: no sniffing
        tables = stack.enter_context(open_engine(cat, engine_kind, **options))
        bundles = answer_access_requests(
            cat,
            requests,
            out,
            engine=tables,
            rules=rules,
            nlp=NlpSettings.from_env(os.environ),
            ledger=book,
            passphrase=passphrase,
            register=reg,
            progress=err if sys.stderr.isatty() else None,  # shown to a person, not a pipe
            index=built,
            accept_catalog_warnings=accept_catalog_warnings,
            keys=reg.keys if reg is not None else optional_keys(key_file),  # the manifest's MAC
            accept_joined=joined_ok,
        )
    rejected = empty = 0
    if bundles and (accepted := bundles[0].manifest.accepted_catalog_warnings):
        codes = ", ".join(dict.fromkeys(w.code for w in accepted))
        err(f"note: catalog warning(s) accepted ({codes}); each bundle records them")
    for bundle in bundles:
        if bundle.manifest.accepted_joined_accounts:
            err(f"note: request {bundle.label} joined accounts, accepted (--joined-ok)")
        rows = bundle.subject.rows
        if bundle.rejected:
            rejected += 1
            typer.echo(f"{bundle.path}  ({rows} rows, REJECTED: {len(bundle.findings)} finding(s))")
            for finding in bundle.findings:
                err(f"  {finding}")
            err(
                f"error: request {bundle.label}: the bundle failed its own check and was set"
                f" aside as {bundle.path}, not zipped; do not send it: fix the cause, delete"
                " it, and answer the request again"
            )
            continue
        status = "verified, encrypted" if passphrase else "verified"
        typer.echo(f"{bundle.path}  ({rows} rows, {status})")
        if bundle.matched_nothing and not allow_empty:
            empty += 1
            err(
                f"warning: request {bundle.label}: no row matches the identifiers given (a"
                " typo?); the bundle says we hold no data about the person: check the"
                " identifiers, or pass --allow-empty when that is the answer"
            )
    if rejected:
        raise typer.Exit(1)
    if empty:
        raise typer.Exit(3)


@damaged_artifact_is_a_finding
def verify(
    artifact: Annotated[
        Path,
        typer.Argument(
            metavar="ARTIFACT",
            help="A bundle folder or its zip, an extract, aggregate or audience folder (or"
            " one audience manifest), published support requests, or a certificate's JSON"
            " file or the folder of certificates; the kind is read from its manifest.",
        ),
    ],
    passphrase_env: Annotated[
        str | None,
        typer.Option(help="For an encrypted zip: the environment variable with its passphrase."),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(
            help="For a certificate, without --catalog: the export's folder, to check that the"
            " files it put in place are the ones there now."
        ),
    ] = None,
    sent_record: Annotated[
        Path | None,
        typer.Option(
            "--sent-record",
            "--sent",
            envvar="WORKBENCH_SENT_RECORD",
            help="For an audience: the record of sent audiences (needs the key): every hash"
            " recorded, none withdrawn before.",
        ),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            envvar="WORKBENCH_LEDGER",
            help="For an audience, with --sent-record: nobody in the suppression ledger is in it.",
        ),
    ] = None,
    key_file: KeyFileOpt = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="For an extract or aggregate run: the source's catalog; a released cell equal"
            " to one of its identity values is a finding. For a certificate: the export's"
            " catalog; every file it put in place must be unchanged and, with the key, hold"
            " no keyed reference of the person erased. For published support requests: none"
            " of the export's identifiers may be published, in any written form."
        ),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            help="For published support requests: the input they were made from; no original"
            " value in it may be published."
        ),
    ] = None,
    sign_off: SignOffOpt = None,
    role: RoleOpt = None,
    register: RegisterOpt = Path("requests.db"),
    request: RequestOpt = None,
    accept_unsigned: Annotated[
        bool,
        typer.Option(
            "--accept-unsigned",
            help="For a certificate checked with the key: read one of a format before the MAC"
            " (format 1, untyped) as old, not a finding; it is NOT AUTHENTICATED (exit 3) and"
            " cannot be signed off.",
        ),
    ] = False,
    decisions: DecisionsOpt = None,
    shared_account: SharedAccountOpt = False,
) -> None:
    """Check any artifact before it leaves: bundle, extract, aggregate, audience, certificate.

    The kind is read from the artifact's manifest. A bundle: checksums, every row the
    person's, no secret or other person in clear. An extract or aggregate run: checksums, k
    and l recomputed, no personal data in any cell, no suppressed cell recomputable from the
    totals; with the key, its manifest's MAC. An audience: checksums, each platform's header
    and hash shapes, no hash twice, the counts add up; with --sent-record and --ledger, nobody
    in the ledger. An erasure, correction or retention certificate, or a folder of them: its
    Markdown twin's checksum, rows before = rows after + rows removed per file and table;
    with the key, its MAC; with --catalog (or --export), the files it put in place unchanged
    since; with --catalog and the key, the erased person's keyed reference in none of them.
    Published support requests: checksums, the review file, every identifier the text engine
    finds a listed surrogate, every column read, no Parquet statistics; with --source, no
    original value in any written form; with --catalog, none of the export's ids."""
    from dsar.review.bundle import verify_bundle
    from dsar.review.certificate import certificates_in

    result: Verification
    _stop_on_signals()  # a sign-off's private copy is removed on SIGTERM and SIGHUP too
    walked = False  # whether the kind's own check looked for devices, FIFOs, empty folders
    if _kind(artifact) == "audience" or _audience_folder(artifact):
        result = _verify_audience(artifact, sent_record, ledger, key_file)
    elif (artifact.is_file() and artifact.suffix == ".json") or (
        artifact.is_dir()
        and not (artifact / "manifest.json").exists()
        and certificates_in(artifact)
    ):
        result = _verify_certificate(artifact, export, key_file, catalog, accept_unsigned)
    elif _kind(artifact) in ("extract", "aggregate"):
        result = _verify_derived(artifact, key_file, catalog)
        walked = True
    elif _kind(artifact) == "published":
        from dsar.catalog import load_catalog
        from dsar.review.published import catalog_identifiers, verify_published

        ids = catalog_identifiers(load_catalog(catalog)) if catalog is not None else set()
        result = verify_published(
            artifact, source=source, keys=optional_keys(key_file), identifiers=ids
        )
    else:  # with the key (given, or $WORKBENCH_KEY), the manifest's MAC is checked too
        keys = optional_keys(key_file)
        result = verify_bundle(artifact, passphrase_from(passphrase_env), keys=keys)
        walked = True
    if artifact.is_dir() and not walked:
        from dsar.review.snapshot import odd_entries

        result.findings += odd_entries(artifact)
    for finding in result.findings:
        typer.echo(str(finding))
    for notice in result.notices:
        err(f"notice: {notice}")
    if not result.ok:
        err(f"{artifact}: {len(result.findings)} finding(s)")
        refused(sign_off)
        raise typer.Exit(1)
    # every kind carries a MAC: without the key (or an old certificate accepted unsigned)
    # nothing is authenticated, one convention for all: exit 3, never plain OK, no sign-off
    if result.unauthenticated or optional_keys(key_file) is None:
        typer.echo(
            f"{artifact}: OK, NOT AUTHENTICATED ({result.checked_files} files,"
            f" {result.checked_rows} rows checked, no MAC verified: rows added, edited or"
            " deleted by hand, with the counts written again, are not found; give the key)"
        )
        if sign_off is not None:
            err("no sign-off recorded: only an artifact whose MAC verified can be signed off")
        raise typer.Exit(3)
    typer.echo(f"{artifact}: OK ({result.checked_files} files, {result.checked_rows} rows checked)")
    record_sign_off(
        artifact,
        result,
        name=sign_off,
        role=role,
        register=register,
        key_file=key_file,
        request=request,
        decisions=decisions,
        passphrase_env=passphrase_env,
        catalog=catalog,
        export=export,
        shared_account=shared_account,
    )


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP end `dsar verify` as Ctrl-C does, through every `finally`, so the
    temporary folders it made (a sign-off's private copy, an unpacked zip) are removed."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, stop)
        except ValueError:  # not the main thread (verify called from a worker): leave them
            return


def _verify_certificate(
    path: Path,
    export: Path | None,
    key_file: Path | None,
    catalog: Path | None,
    accept_unsigned: bool = False,
) -> Verification:
    """`verify_certificate` with the key when one is given ($WORKBENCH_KEY too) and the
    export's catalog when given."""
    from dsar.catalog import load_catalog
    from dsar.cli.common import optional_keys
    from dsar.review.certificate import verify_certificate

    loaded = load_catalog(catalog) if catalog is not None else None
    return verify_certificate(
        path,
        export,
        keys=optional_keys(key_file),
        catalog=loaded,
        accept_unsigned=accept_unsigned,
    )


def _verify_derived(folder: Path, key_file: Path | None, catalog: Path | None) -> Verification:
    """`verify_derived` with the key when one is given ($WORKBENCH_KEY too) and, with a
    catalog, the source's identity values."""
    from dsar.catalog import load_catalog
    from dsar.cli.common import optional_keys
    from dsar.engine import open_engine
    from dsar.review.derived import source_identities, verify_derived

    keys = optional_keys(key_file)
    if catalog is None:
        return verify_derived(folder, keys=keys)
    with open_engine(load_catalog(catalog)) as engine:  # an aggregate's group values too
        identities = source_identities(engine)
        return verify_derived(folder, keys=keys, identities=identities, source=engine)


def _verify_audience(
    path: Path, sent_record: Path | None, ledger: Path | None, key_file: Path | None
) -> Verification:
    """`verify_audience`, with the sent record and the ledger opened for it (read only)."""
    from dsar.cli.common import optional_keys
    from dsar.errors import MissingFileError
    from dsar.keys import load_keys
    from dsar.review.audience import verify_audience

    if ledger is not None and not ledger.is_file():
        raise MissingFileError(ledger, "the suppression ledger", "check --ledger")
    # with a key (given, or $WORKBENCH_KEY), each manifest's MAC is checked too
    keys = load_keys(key_file) if sent_record or ledger else optional_keys(key_file)
    with ExitStack() as stack:
        sent = open_sent(sent_record, keys)
        if sent is not None:
            stack.callback(sent.close)
        suppressed = None
        if ledger is not None and keys is not None:
            suppressed = existing_ledger(ledger, keys, key_file)
            stack.callback(suppressed.close)
        return verify_audience(path, sent=sent, ledger=suppressed, keys=keys)


def _audience_folder(folder: Path) -> bool:
    """A folder without manifest.json that holds an audience manifest."""
    if not folder.is_dir() or (folder / "manifest.json").exists():
        return False
    return any(_kind(m) == "audience" for m in folder.glob("*.manifest.json"))


def _kind(folder: Path) -> str | None:
    """The `kind` a folder's manifest (or a manifest file) declares, if it is a readable
    JSON object."""
    import json

    path = folder if folder.is_file() else folder / "manifest.json"
    if path.suffix != ".json":
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
    return str(data.get("kind")) if isinstance(data, dict) else None
