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
from typing import Annotated

import typer

from dsar.catalog.models import IdentityKind
from dsar.errors import CatalogError, WorkbenchError

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
    if batch is not None:
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
        load_catalog(catalog), requests, out, rules=rules, passphrase=passphrase
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
