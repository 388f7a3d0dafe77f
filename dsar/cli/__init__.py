"""The `dsar` command line: the same public API as the notebooks, for scripts and schedulers.

Heavy libraries (Presidio, spaCy, Spark) are imported inside the commands that need them,
so `dsar --help` stays fast. Commands live by area: `subject` (demo, access, verify), `rights`
(erase plan|apply|confirm|recover, correct, retention), `catalog`, `records` (requests,
audit, ledger) and `breach` (breach scoping).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import os
import sys
import threading
from pathlib import Path

import typer

from dsar.cli.breach import breach_app
from dsar.cli.catalog import catalog_app
from dsar.cli.common import run_cli
from dsar.cli.records import audit_app, index_app, ledger_app, requests_app
from dsar.cli.rights import correct_app, erase_app, retention_app
from dsar.cli.subject import access, demo, verify

__all__ = ["app", "end_now", "main"]

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
    """Entry point: run the app, turning workbench errors into a message and exit code 1.

    Run as the program itself (the `dsar` script, `python -m dsar.cli`), the process ends as
    soon as the command is done (`end_now`); called from Python (a test, a notebook), it
    raises SystemExit as before.
    """
    try:
        run_cli(app)
    except SystemExit as done:
        if _is_the_program():
            end_now(done.code)
        raise


def _is_the_program() -> bool:
    """Whether this process is the `dsar` command itself, not Python calling `main`."""
    started = getattr(sys.modules.get("__main__"), "__file__", None)
    if not started:
        return False
    path = Path(started)
    return path.name == "dsar" or path.resolve() == Path(__file__).with_name("__main__.py")


def end_now(code: object) -> None:
    """End the process, when the command succeeded, without taking the interpreter apart.

    Python's own exit frees every module and object one by one (pyarrow, DuckDB, numpy,
    pandas, pydantic: about 0.1 s of CPU, 0.3-0.6 s of waiting on a loaded machine,
    measured after `dsar access`), which serves nobody once the command is done. What a
    normal exit does that matters is done first: the atexit handlers run (logging's flush
    among them), every file still open is flushed (as freeing it would), and stdout, stderr
    and the C library's buffers are flushed. Returns, leaving the normal exit to run, for a
    command that failed (exit code not 0: whatever it left half done is cleaned up as
    usual), while another thread still runs (Spark's gateway, a pool not shut down), or when
    output cannot be flushed.
    """
    if code not in (None, 0) or threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: Python's exit reports it
        return
    atexit._run_exitfuncs()
    for found in gc.get_objects():
        if isinstance(found, io.IOBase):
            with contextlib.suppress(OSError, ValueError):  # closed, detached, read-only
                if not found.closed:
                    found.flush()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        os._exit(120)  # what Python's exit returns when it cannot flush stdout
    _flush_c_streams()
    os._exit(0)


def _flush_c_streams() -> None:
    """Flush the C library's stdio buffers (a native library's own output), which `exit`
    flushes and `os._exit` does not."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError, TypeError):  # no such library (Windows)
        ctypes.CDLL(None).fflush(None)
