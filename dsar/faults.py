"""Named points in every write of a change, where a test may kill the process for real.

Each step that makes a change durable (a file written and fsynced, a rename, an append, a
record committed) calls `point("...")` first. Unset, it does nothing but read a variable.
The kill tests set `WORKBENCH_KILL_AT=N`: the process sends itself SIGKILL at the Nth point
(no `finally`, no cleanup, as a power cut would), and `WORKBENCH_FAULT_TRACE=FILE` appends
each point's name to FILE, so a test can count the points and kill at each in turn.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

KILL_AT = "WORKBENCH_KILL_AT"
TRACE = "WORKBENCH_FAULT_TRACE"
_passed = 0


def point(name: str) -> None:
    """A place a change may be killed at (see the module docstring)."""
    global _passed
    kill_at, trace = os.environ.get(KILL_AT), os.environ.get(TRACE)
    if not kill_at and not trace:
        return
    _passed += 1
    if trace:
        with Path(trace).open("a", encoding="utf-8") as handle:
            handle.write(f"{_passed} {name}\n")
    if kill_at and _passed == int(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)


__all__ = ["KILL_AT", "TRACE", "point"]
