"""One line per measured ratio, collected by `benchmarks/run_all.py` into one table.

Each benchmark prints its own detailed output and, at its end, calls `report` with the
ratios the issues ask for: what was measured, against which baseline measured in the same
run, and the target. When `BENCH_RESULTS` names a file, the lines are appended to it as JSON;
otherwise `report` does nothing, so a benchmark run alone prints only its own output.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Ratio:
    """One measured ratio.

    Attributes:
        job: what was measured, in words.
        measured: the workbench's figure (seconds, or rows per second; see `unit`).
        baseline: what it is compared with, in words, measured in the same run.
        ratio: measured against the baseline, oriented so that bigger is better for the
            workbench ("9.5" = 9.5x faster) unless `lower_is_better`.
        target: the issue's target for the ratio, or None.
        unit: the unit of `measured`.
        lower_is_better: the ratio is a cost (x the floor): smaller is better.
    """

    job: str
    measured: float
    unit: str
    baseline: str
    ratio: float
    target: float | None = None
    lower_is_better: bool = False

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.ratio <= self.target if self.lower_is_better else self.ratio >= self.target


def report(*ratios: Ratio) -> None:
    """Append the ratios to `$BENCH_RESULTS` (one JSON object per line), when it is set."""
    path = os.environ.get("BENCH_RESULTS")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        for r in ratios:
            f.write(json.dumps(asdict(r)) + "\n")
