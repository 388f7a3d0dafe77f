"""Red team 26 round 5, finding 12 (HIGH): `--where` on a time column the catalog types
`string` (or leaves untyped) compared text: `updated_at = 2026-11-05` scoped 0 people, a
cell's offset was ignored, empty cells dropped, all unsaid. A date or time compared with a
column whose cells read as times now compares instants in UTC as the window does (each
cell's offset applied, a date alone its whole day, an empty or unreadable cell kept and
counted); never a text comparison of times."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _manifest, _run

# u1, u2, u3 on 5 November in UTC (u1's -01:00 and u3's +01:00 offsets applied), u4 empty,
# u5 unreadable, u6 on 7 November
SEEN = [
    "2026-11-04T23:30:00-01:00",
    "2026-11-05T10:00:00Z",
    "2026-11-06T00:30:00+01:00",
    "",
    "garbage",
    "2026-11-07T10:00:00Z",
]


def _seen_lab(root: Path, typing: str, seen: list[str] = SEEN) -> Path:
    catalog = _lab(root, [("NL", "")] * len(seen))
    with (root / "web_logs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "user_id", "seen_at"])
        for i, cell in enumerate(seen, 1):
            w.writerow(["2026-11-05 10:00:00", f"u{i}", cell])
    text = catalog.read_text()
    marker = (
        "      ts: {type: timestamp}\n      user_id: {identity: user_id, type: string, references"
    )
    assert marker in text
    text = text.replace(
        marker,
        f"      ts: {{type: timestamp}}\n      seen_at: {typing}\n      user_id: {{identity:"
        " user_id, type: string, references",
    )
    catalog.write_text(text)
    return catalog


def _scope(
    catalog: Path, out: Path, where: str, mp: pytest.MonkeyPatch, *, window: bool
) -> tuple[int, str]:
    span = ["--from", "2026-11-01", "--to", "2026-11-14"] if window else []
    return _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs", *span,
            "--where", where, "--discovered", "2026-11-20T10:00Z", "--out", str(out),
        ],
        mp,
    )  # fmt: skip


# the rows kept (u4 and u5 always: their time cannot place them outside the condition)
CASES = [
    ("seen_at = 2026-11-05", 5),
    ("seen_at >= 2026-11-05T00:15Z", 6),
    ("seen_at > 2026-11-05", 3),
    ("seen_at < 2026-11-05", 2),
    ("seen_at != 2026-11-05", 3),
    ("seen_at <= '2026-11-06T00:00:00+01:00'", 4),  # u3 is 23:30 UTC, after it
]


@pytest.mark.parametrize("typing", ["{}", "{type: string}", "{type: timestamp}"])
@pytest.mark.parametrize("window", [False, True])
@pytest.mark.parametrize(("where", "kept"), CASES)
def test_a_time_on_a_text_column_of_times_compares_instants(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    typing: str,
    window: bool,
    where: str,
    kept: int,
) -> None:
    catalog = _seen_lab(tmp_path / "lab", typing)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, where, monkeypatch, window=window)
    assert code == 0, output
    manifest = _manifest(out)
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"web_logs": kept}, output
    assert counts["people"] == kept
    assert counts["time_undetermined"] == {"web_logs": 2}, counts
    assert "seen_at" in output and "undetermined" in output


def test_text_that_is_no_time_still_compares_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A date compared with a column of words (one cell a date) stays a text comparison."""
    catalog = _seen_lab(tmp_path / "lab", "{type: string}", ["alpha", "2026-11-05", "kilo", ""])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, "seen_at = 2026-11-05", monkeypatch, window=False)
    assert code == 0, output
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["rows"] == {"web_logs": 1}


def test_a_time_on_a_text_column_under_a_parents_window_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order line's text column of times, its window read on the order's: refused,
    naming the column, never compared as text."""
    from tests.test_attacks_breach_scope26b import ORDERS

    catalog = _lab(tmp_path / "lab", [("NL", ""), ("DE", "")])
    catalog.write_text(
        catalog.read_text() + ORDERS.replace("      item: {type: string}\n", "      item: {}\n")
    )
    (catalog.parent / "orders.csv").write_text(
        "order_id,user_id,ordered_at\no1,u1,2026-11-05 10:00:00\no2,u2,2026-11-05 10:00:00\n"
    )
    (catalog.parent / "order_lines.csv").write_text(
        "line_id,order_id,item\nl1,o1,2026-11-04T23:30:00-01:00\nl2,o2,2026-11-07T10:00:00Z\n"
    )
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "order_lines",
            "--from", "2026-11-01", "--to", "2026-11-14", "--where", "item = 2026-11-05",
            "--discovered", "2026-11-20T10:00Z", "--out", str(tmp_path / "BR"),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code != 0
    assert "order_lines.item" in output and "text column of times" in output
    assert not (tmp_path / "BR" / "scope.json").exists()
    # without the window the condition is placed on instants: l1 is on 5 November in UTC
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "order_lines",
            "--where", "item = 2026-11-05", "--discovered", "2026-11-20T10:00Z",
            "--out", str(tmp_path / "BR2"),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    assert _manifest(tmp_path / "BR2")["counts"]["rows"] == {"order_lines": 1}  # type: ignore[index]
