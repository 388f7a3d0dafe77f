"""Red team 26 round 4, finding 4: a DATE column's cell was read as 00:00 UTC of its day, so
a window starting during that day (working hours, noon to noon) dropped every row dated on
its first day, with no warning. A date names its whole day: it is in scope when its day
overlaps the window (the window's first and last day included)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_attacks_breach import _lab, _manifest, _run

DAYS = [date(2026, 11, 4), date(2026, 11, 5), date(2026, 11, 6), date(2026, 11, 7)]


def _dated_lab(root: Path, *, parquet: bool) -> Path:
    catalog = _lab(root, [("NL", "")] * len(DAYS))
    (root / "web_logs.csv").unlink()
    if parquet:
        table = pa.table(
            {
                "ts": pa.array(DAYS, type=pa.date32()),
                "user_id": [f"u{i}" for i in range(1, len(DAYS) + 1)],
            }
        )
        pq.write_table(table, root / "web_logs.parquet")
        text = catalog.read_text()
        text = text.replace(
            "path: web_logs.csv\n    format: csv", "path: web_logs.parquet\n    format: parquet"
        )
        text = text.replace("ts: {type: timestamp}", "ts: {type: date}")
        catalog.write_text(text)
    else:
        with (root / "web_logs.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["ts", "user_id"])
            for i, day in enumerate(DAYS, 1):
                w.writerow([day.isoformat(), f"u{i}"])
    return catalog


@pytest.mark.parametrize("parquet", [True, False])
@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2026-11-05", "2026-11-05", 1),  # the whole day
        ("2026-11-05T09:00+01:00", "2026-11-05T18:00+01:00", 1),  # working hours that day
        ("2026-11-05T12:00Z", "2026-11-06T12:00Z", 2),  # noon to noon: both days
        ("2026-11-05T00:00:01Z", "2026-11-05T23:00Z", 1),
        ("2026-11-04T23:30Z", "2026-11-05T00:30Z", 2),  # half an hour either side of midnight
        ("2026-11-05T12:00Z", "2026-11-07", 3),  # first day partly, last day whole
    ],
)
def test_a_date_in_the_windows_first_or_last_day_is_in_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parquet: bool, start: str, end: str, days: int
) -> None:
    catalog = _dated_lab(tmp_path / "lab", parquet=parquet)
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
            "--from", start, "--to", end,
            "--discovered", "2026-11-20T10:00Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"web_logs": days}, output
    assert counts["people"] == days


@pytest.mark.parametrize("parquet", [True, False])
def test_a_date_whose_day_does_not_touch_the_window_stays_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parquet: bool
) -> None:
    catalog = _dated_lab(tmp_path / "lab", parquet=parquet)
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
            "--from", "2026-11-05T06:00Z", "--to", "2026-11-05T23:59:59Z",
            "--discovered", "2026-11-20T10:00Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"web_logs": 1}


def _second_date_lab(root: Path, *, parquet: bool) -> Path:
    """web_logs with a `day` column (a date, not its retention column) beside `ts`."""
    catalog = _lab(root, [("NL", "")] * len(DAYS))
    (root / "web_logs.csv").unlink()
    stamps = [f"{d.isoformat()} 10:00:00" for d in DAYS]
    users = [f"u{i}" for i in range(1, len(DAYS) + 1)]
    text = catalog.read_text().replace(
        "      ts: {type: timestamp}\n", "      ts: {type: timestamp}\n      day: {type: date}\n"
    )
    if parquet:
        pq.write_table(
            pa.table({"ts": stamps, "day": pa.array(DAYS, type=pa.date32()), "user_id": users}),
            root / "web_logs.parquet",
        )
        text = text.replace(
            "path: web_logs.csv\n    format: csv", "path: web_logs.parquet\n    format: parquet"
        )
    else:
        with (root / "web_logs.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["ts", "day", "user_id"])
            w.writerows(zip(stamps, [d.isoformat() for d in DAYS], users, strict=True))
    catalog.write_text(text)
    return catalog


@pytest.mark.parametrize("parquet", [True, False])
@pytest.mark.parametrize(
    ("where", "days"),
    [
        ("day >= 2026-11-05T12:00Z", 3),  # the 5th overlaps: in
        ("day < 2026-11-05T12:00Z", 2),  # the 4th whole and the 5th's morning
        ("day > 2026-11-05T12:00Z", 3),
        ("day != 2026-11-05", 3),  # the whole 5th left out
        ("day = 2026-11-05", 1),
    ],
)
def test_a_time_condition_on_a_date_keeps_the_days_it_overlaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parquet: bool, where: str, days: int
) -> None:
    catalog = _second_date_lab(tmp_path / "lab", parquet=parquet)
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
            "--where", where, "--discovered", "2026-11-20T10:00Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"web_logs": days}, output
