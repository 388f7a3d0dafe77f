"""The `dsar` command line: the same public API as the notebooks, for scripts and schedulers.

Heavy libraries (Presidio, spaCy, Spark) are imported inside the commands that need them,
so `dsar --help` stays fast. Commands live by area: `subject` (demo, access, verify), `rights`
(erase plan|apply|confirm|recover, correct, retention), `catalog`, `records` (requests,
audit, ledger) and `breach` (breach scoping).
"""

from __future__ import annotations

import typer

from dsar.cli.breach import breach_app
from dsar.cli.catalog import catalog_app
from dsar.cli.common import run_cli
from dsar.cli.records import audit_app, index_app, ledger_app, requests_app
from dsar.cli.rights import correct_app, erase_app, retention_app
from dsar.cli.subject import access, demo, verify

__all__ = ["app", "main"]

app = typer.Typer(
    name="dsar",
    help="Privacy Workbench: answer data-subject requests from exported tables (access,"
    " erasure, correction), sweep retention, keep the records, and verify every artifact"
    " before it leaves.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (demo, access, verify):
    app.command()(command)
app.add_typer(erase_app, name="erase")
app.add_typer(correct_app, name="correct")
app.add_typer(retention_app, name="retention")
app.add_typer(catalog_app, name="catalog")
app.add_typer(requests_app, name="requests")
app.add_typer(audit_app, name="audit")
app.add_typer(ledger_app, name="ledger")
app.add_typer(index_app, name="index")
app.add_typer(breach_app, name="breach")


def main() -> None:
    """Entry point: run the app, turning workbench errors into a message and exit code 1."""
    run_cli(app)
