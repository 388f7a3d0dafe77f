"""Red team 26 round 6, finding 4: with no `retention.after`, the window was read on the
table's first date column, silently. A `personal: date_of_birth` column declared before
`created_at` placed every account by its birth date (an account made in the window: "no one
reached"); an `opted_out_at` column, empty for most rows, was taken before `updated_at`.

Now a date the catalog marks personal is never the window's column; a column named for the
row's creation or event comes first (then its last update, then another time); the console
and scope.json say which column each table's window was read on and why; a guess has a
NOTICE asking for `--time-column` or a catalog `retention.after`, and `--time-column
TABLE.COLUMN` chooses. A row whose window cell is empty is counted and said, never silent.

Finding 9: a Parquet timestamp with no zone (`timestamp[ns]`, `timestamp[s]`) was read as
UTC with no notice, where a CSV or JSON time without a zone gets one. Now it gets the same.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_attacks_breach import _lab, _manifest, _run

CATALOG = """\
version: 1
controller:
  name: Lab B.V.
  contact: privacy@lab.example
  dpo: dpo@lab.example
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Your account.
    category: account
    origin: provided
    purposes: [service]
    legal_basis: contract
    source: the person
    retention: {criteria: while open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string, category: contact}
"""

PEOPLE = 10
IN_WINDOW = 3  # rows whose update time falls in the window


def _export(root: Path, columns: dict[str, str], cells: list[dict[str, str]]) -> Path:
    """Accounts u1.. with the extra `columns` (name: catalog spec) holding `cells`."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", *columns])
        for i, row in enumerate(cells, 1):
            w.writerow([f"u{i}", f"p{i}@example.com", *(row[c] for c in columns)])
    extra = "".join(f"      {name}: {spec}\n" for name, spec in columns.items())
    (root / "catalog.yml").write_text(CATALOG + extra)
    return root / "catalog.yml"


def _scope(catalog: Path, out: Path, mp: pytest.MonkeyPatch, *extra: str) -> tuple[int, str]:
    return _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "accounts",
            "--from", "2026-11-01", "--to", "2026-11-30",
            "--discovered", "2026-12-01T00:00Z", "--out", str(out), *extra,
        ],
        mp,
    )  # fmt: skip


def _birth_lab(root: Path) -> Path:
    """Every account made in the window; its holder's birth date declared first."""
    return _export(
        root,
        {
            "date_of_birth": "{personal: date_of_birth, type: date}",
            "created_at": "{type: timestamp}",
        },
        [
            {"date_of_birth": f"197{i}-05-{i + 1:02d}", "created_at": "2026-11-10T10:00:00Z"}
            for i in range(PEOPLE)
        ],
    )


def _opt_out_lab(root: Path) -> Path:
    """Marketing rows: an opt-out time (empty but for one row) before the row's update time."""
    return _export(
        root,
        {"opted_out_at": "{type: timestamp}", "updated_at": "{type: timestamp}"},
        [
            {
                "opted_out_at": "2026-11-05T09:00:00Z" if i == 0 else "",
                "updated_at": "2026-11-12T08:00:00Z" if i < IN_WINDOW else "2026-03-01T08:00:00Z",
            }
            for i in range(PEOPLE)
        ],
    )


def test_a_birth_date_is_never_the_windows_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _birth_lab(tmp_path / "x")
    code, output = _scope(catalog, tmp_path / "o", monkeypatch)
    assert code == 0, output
    assert output.startswith(f"BR-20261201-0000: {PEOPLE} people"), output
    assert "the window of accounts is read on accounts.created_at" in output
    assert "date_of_birth skipped: personal data" in output
    assert "is a guess" not in output  # created_at says what it is
    parameters = _manifest(tmp_path / "o")["parameters"]
    assert isinstance(parameters, dict)
    assert parameters["time_columns"] == {"accounts": "accounts.created_at"}
    reasons = parameters["time_column_reasons"]
    assert isinstance(reasons, dict)
    assert reasons["accounts"].startswith("accounts.created_at: no retention.after")


def test_a_birth_date_alone_is_refused_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(
        tmp_path / "x",
        {"date_of_birth": "{personal: date_of_birth, type: date}"},
        [{"date_of_birth": "1975-11-10"}] * PEOPLE,
    )
    code, output = _scope(catalog, tmp_path / "o", monkeypatch)
    assert code == 1
    assert "date_of_birth is personal data" in output
    assert "--time-column" in output
    assert not (tmp_path / "o" / "scope.json").exists()


def test_the_time_column_option_cannot_name_a_birth_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _birth_lab(tmp_path / "x")
    code, output = _scope(
        catalog, tmp_path / "o", monkeypatch, "--time-column", "accounts.date_of_birth"
    )
    assert code == 1 and "personal data" in output
    code, output = _scope(catalog, tmp_path / "o2", monkeypatch, "--time-column", "created_at")
    assert code == 1 and "table.column of a breached table" in output


def test_an_update_time_comes_before_an_opt_out_and_the_guess_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _opt_out_lab(tmp_path / "x")
    code, output = _scope(catalog, tmp_path / "o", monkeypatch)
    assert code == 0, output
    assert output.startswith(f"BR-20261201-0000: {IN_WINDOW} people"), output
    assert "the window of accounts is read on accounts.updated_at" in output
    assert "NOTICE: the window's column for accounts is a guess" in output
    assert "--time-column accounts.COLUMN" in output


def test_the_time_column_option_chooses_and_empty_cells_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _opt_out_lab(tmp_path / "x")
    code, output = _scope(
        catalog, tmp_path / "o", monkeypatch, "--time-column", "accounts.opted_out_at"
    )
    assert code == 0, output
    # one opt-out in the window; the others' cell is empty: kept, counted and said
    assert output.startswith(f"BR-20261201-0000: {PEOPLE} people"), output
    assert "read on accounts.opted_out_at: chosen with --time-column" in output
    assert "is a guess" not in output
    assert f"WARNING: {PEOPLE - 1} row(s) in scope have a time in accounts.opted_out_at" in output
    assert f"empty ({PEOPLE - 1})" in output
    manifest = _manifest(tmp_path / "o")
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    assert counts["time_undetermined"] == {"accounts": PEOPLE - 1}
    parameters = manifest["parameters"]
    assert isinstance(parameters, dict)
    assert parameters["time_column_given"] == ["accounts.opted_out_at"]
    assert parameters["time_columns"] == {"accounts": "accounts.opted_out_at"}


@pytest.mark.parametrize(
    ("unit", "zone", "said"),
    [("ns", None, True), ("s", None, True), ("us", "UTC", False), ("ns", "+05:00", False)],
)
def test_a_parquet_time_without_a_zone_is_said_to_be_read_as_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unit: str, zone: str | None, said: bool
) -> None:
    root = tmp_path / "x"
    catalog = _lab(root, [("NL", "")] * 3)
    (root / "web_logs.csv").unlink()
    moments = [datetime(2026, 11, 5, 10, 0), datetime(2026, 11, 6, 10, 0), None]
    if zone is not None:
        moments = [m.replace(tzinfo=UTC) if m else None for m in moments]
    pq.write_table(
        pa.table(
            {
                "ts": pa.array(moments, type=pa.timestamp(unit, tz=zone)),
                "user_id": ["u1", "u2", "u3"],
            }
        ),
        root / "web_logs.parquet",
    )
    catalog.write_text(
        catalog.read_text().replace(
            "path: web_logs.csv\n    format: csv", "path: web_logs.parquet\n    format: parquet"
        )
    )
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "web_logs",
            "--from", "2026-11-01", "--to", "2026-11-14",
            "--discovered", "2026-11-20T10:00Z", "--out", str(tmp_path / "o"),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    assert ("times without a zone in web_logs.ts are read as UTC" in output) is said
    # the empty cell is kept and counted, zone or not
    assert "empty (1)" in output
