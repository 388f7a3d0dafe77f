"""Red team 26 round 3, finding 5: a UTC offset after a named date's clock (`Oct 31, 2026
20:00 -08:00`) or after a compact time (`20261031200000-0800`, `202610312000-08:00`) was
dropped and the clock read as UTC: rows near the window's edges silently left out or put
in. The offset is read now, in text and timestamp columns; one it cannot read makes the
time undetermined (kept, counted), never UTC."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from dsar.breach.times import parse_times
from tests.test_attacks_breach import _lab, _manifest, _run


@pytest.mark.parametrize(
    ("cell", "instant"),
    [
        ("Oct 31, 2026 20:00 -08:00", datetime(2026, 11, 1, 4, 0)),
        ("Oct 31, 2026 20:00:00 -0800", datetime(2026, 11, 1, 4, 0)),
        ("October 31, 2026 8:00 PM PST", datetime(2026, 11, 1, 4, 0)),
        ("Nov 15, 2026 01:00 +03:00", datetime(2026, 11, 14, 22, 0)),
        ("Nov 1, 2026 1:00 AM +02:00", datetime(2026, 10, 31, 23, 0)),
        ("20261031200000-0800", datetime(2026, 11, 1, 4, 0)),
        ("202610312000-08:00", datetime(2026, 11, 1, 4, 0)),
        ("20261115010000+0300", datetime(2026, 11, 14, 22, 0)),
        ("20261031200000 -0800", datetime(2026, 11, 1, 4, 0)),
        ("2026-11-05 10:00:00 UTC", datetime(2026, 11, 5, 10, 0)),
        ("Nov 5, 2026 10:00 GMT+2", datetime(2026, 11, 5, 8, 0)),
        # unchanged: ISO offsets, RFC 2822
        ("2026-11-15T01:00:00+05:00", datetime(2026, 11, 14, 20, 0)),
        ("Thu, 05 Nov 2026 10:00:00 +0100", datetime(2026, 11, 5, 9, 0)),
    ],
)
def test_an_offset_after_the_clock_is_applied(cell: str, instant: datetime) -> None:
    assert parse_times([cell], "t")[cell] == (instant, False)


@pytest.mark.parametrize(
    "cell", ["Nov 5, 2026 10:00 IST", "20261105100000 XYZ", "Nov 5, 2026 10:00 -25:00"]
)
def test_an_offset_it_cannot_read_is_no_time_not_utc(cell: str) -> None:
    assert parse_times([cell], "t")[cell] == (None, False)


def test_no_zone_is_still_utc_and_said() -> None:
    assert parse_times(["Nov 5, 2026 8:00 PM"], "t")["Nov 5, 2026 8:00 PM"] == (
        datetime(2026, 11, 5, 20, 0),
        True,
    )


CELLS = [
    ("Oct 31, 2026 20:00 -08:00", True),  # 11-01 04:00Z: in
    ("20261031200000-0800", True),
    ("202610312000-08:00", True),
    ("Nov 15, 2026 01:00 +03:00", True),  # 11-14 22:00Z: in
    ("20261115010000+0300", True),
    ("Nov 1, 2026 1:00 AM +02:00", False),  # 10-31 23:00Z: out
    ("Nov 15, 2026 01:00 -03:00", False),  # 11-15 04:00Z: out
    ("Nov 5, 2026 10:00 IST", True),  # unreadable zone: kept, undetermined
]


def test_the_window_reads_the_offsets_in_a_timestamp_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * len(CELLS))
    with (tmp_path / "lab" / "web_logs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "user_id"])
        for i, (cell, _) in enumerate(CELLS, 1):
            w.writerow([cell, f"u{i}"])
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
            "--from", "2026-11-01", "--to", "2026-11-14",
            "--discovered", "2026-11-20T10:00Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    manifest = _manifest(out)
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"web_logs": sum(inside for _, inside in CELLS)}
    assert counts["time_undetermined"] == {"web_logs": 1}
    assert counts["people"] == sum(inside for _, inside in CELLS)
