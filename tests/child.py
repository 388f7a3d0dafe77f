"""A child process for the tests that kill a change mid-write, started cleanly.

`os.fork()` from a pytest-xdist worker copies the locks its other threads hold (execnet's
I/O threads), and the child can deadlock on one. These tests start their child from
multiprocessing's fork server instead: a single-threaded process that has imported the
workbench once, so each child starts in milliseconds and holds no other thread's lock.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

_SERVER = multiprocessing.get_context("forkserver")
_SERVER.set_forkserver_preload(["dsar.cli", "anonymize.cli", "tests.conftest"])


def _run(target: Callable[..., int], args: tuple[Any, ...]) -> None:
    sys.exit(target(*args))


def run_child(target: Callable[..., int], *args: Any) -> int:
    """`target(*args)` in a fresh child process: its return value as the exit code, or minus
    the signal that killed it. `target` must be a module-level function (it is pickled)."""
    child = _SERVER.Process(target=_run, args=(target, args))
    child.start()
    child.join()
    assert child.exitcode is not None
    return child.exitcode


__all__ = ["run_child"]
