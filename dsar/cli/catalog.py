"""`dsar catalog`: validate and inspect the data map."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from dsar.cli.common import (
    CatalogArg,
)
from dsar.io import atomic_write_text

catalog_app = typer.Typer(
    help="Validate and inspect the data map (catalog.yml).", no_args_is_help=True
)


@catalog_app.command("check")
def catalog_check(
    catalog: CatalogArg,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also read every row, to find malformed values.")
    ] = False,
) -> None:
    """Validate the catalog and compare it with the files. Exit 1 with every problem of both.

    Then warn about shortcuts that validate but can leak (identity columns that are another
    kind of key, two homes for one kind, identity values mostly absent from their home,
    tables no request reaches, placeholders such as 'none' in identity columns, a value held
    beside several accounts), each with its code and fix. The identity ones make every
    job refuse the catalog until fixed, or accepted with --accept-catalog-warnings.
    """
    from dsar.engine import check_catalog, open_engine
    from dsar.engine.guards import SAMPLE_ROWS, catalog_warnings
    from dsar.subjects.checks import identity_value_warnings

    with open_engine(kind="duckdb") as engine:
        cat = check_catalog(catalog, engine, deep=deep)
        warnings = catalog_warnings(cat, engine)
        # placeholders and values shared by accounts: counts only, every row with --deep
        warnings += identity_value_warnings(cat, engine, rows=None if deep else SAMPLE_ROWS)
    files = sum(len(cat.files(t)) for t in cat.tables)
    how = ", every row read" if deep else ""
    typer.echo(f"catalog OK: {len(cat.tables)} tables, {files} files{how}")
    for warning in warnings:
        typer.echo(f"warning: {warning}")
    from dsar.breach.assess import undeclared_lines

    for line in undeclared_lines(cat):  # by column names only: no value read
        typer.echo(f"warning: {line}")
    if prone := sorted({w.code for w in warnings if w.collision_prone}):
        typer.echo(
            f"access, erasure, correction, retention, extracts, aggregates and audiences refuse"
            f" this catalog ({', '.join(prone)}): fix it, or, once you have checked that no"
            " person's rows reach another, run them with --accept-catalog-warnings"
        )


@catalog_app.command("show")
def catalog_show(
    catalog: CatalogArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Inventory: each table's rows, size, category, identity, secret and free-text columns."""
    from dsar.catalog import load_catalog
    from dsar.engine import inventory, open_engine

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
        atomic_write_text(out, text)
        typer.echo(f"wrote {out}")


@catalog_app.command("draft")
def catalog_draft(
    export: Annotated[Path, typer.Argument(help="The folder of exported files.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the draft catalog.")],
    sample: Annotated[
        int, typer.Option("--sample", help="Rows a table whose values are classified.")
    ] = 2000,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace --out even if it exists and is not an unfilled draft."
        ),
    ] = False,
) -> None:
    """Draft a catalog from the export's files, every decision explained, legal fields TODO.

    Reads every CSV, Parquet, JSON and JSON Lines file (values classified on a sample of
    --sample rows a table; keys and links checked on every row) and writes keys, links
    (references, owned_through), identity, personal, secret and free-text columns and
    reference tables, each with its evidence in a comment (counts and column names, never a
    value). What the files cannot tell (purposes, legal basis, retention period, recipients,
    descriptions) is left TODO, which `dsar catalog check` refuses until a person fills it.
    Progress goes to stderr. An existing --out is replaced only if it is an unfilled draft
    of the same export, or with --force.
    """
    from dsar.draft import draft_catalog

    def progress(line: str) -> None:
        typer.echo(line, err=True)

    result = draft_catalog(export, out, sample=sample, progress=progress, force=force)
    todo = sum(1 for t in result.tables.values() if t.personal)
    typer.echo(
        f"wrote {out}: {len(result.tables)} tables ({todo} with personal data), every TODO"
        " to be filled by a person before `dsar catalog check` accepts it"
    )
