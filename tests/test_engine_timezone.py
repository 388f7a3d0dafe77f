"""The engine reads zoned times in UTC whatever the machine's time zone.

DuckDB takes the machine's zone by default: a zoned Parquet timestamp cast to a plain one
(a breach window, a retention cut-off, a bundle's cell) moved by the machine's offset.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from dsar.engine.duckdb import DuckDBEngine, scratch_connection
query = "SELECT TIMESTAMPTZ '2026-01-01 01:00:00+00'::TIMESTAMP, current_setting('TimeZone')"
engine = DuckDBEngine()
print(engine.con.execute(query).fetchone())
print(scratch_connection().execute(query).fetchone())
"""


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Los_Angeles"])
def test_a_zoned_time_is_read_in_utc_on_a_machine_elsewhere(zone: str) -> None:
    env = {**os.environ, "TZ": zone}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    lines = done.stdout.splitlines()
    assert lines == ["(datetime.datetime(2026, 1, 1, 1, 0), 'UTC')"] * 2, done.stdout
