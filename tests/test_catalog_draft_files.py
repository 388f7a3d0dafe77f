"""`dsar catalog draft` on files that are hard to read, and what it must never do with them.

A bad file (empty, `[]`, Windows-1252, a cell beyond the reader's line size, a header in
only the first part file, a JSON export wrapping its records) never aborts the draft with a
backend error nor echoes a value: the table is read with a fallback, or listed at the top
of the draft as not drafted, with why; where it may hold people, `catalog check` refuses the
draft until a person decides. A headerless CSV is read as headerless (no person's value made
a column name). `--out` never overwrites a catalog a person has filled in, unless --force.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dsar.cli import app

runner = CliRunner()


def _people_csv(path: Path, n: int = 60, header: bool = True) -> list[list[str]]:
    rows = [
        [f"person{i}.secret@example.org", f"Given{i} Family{i}", f"+3161234{i:04d}"]
        for i in range(n)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (["email,name,phone"] if header else []) + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def _draft(export: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["catalog", "draft", str(export), "--out", str(out), "--sample", "50", *extra]
    )
    return result.exit_code, result.output + (
        "" if result.exception is None else str(result.exception)
    )


def test_out_never_overwrites_a_filled_catalog(tmp_path: Path) -> None:
    export = tmp_path / "export"
    _people_csv(export / "people.csv")
    out = tmp_path / "catalog.yml"
    code, said = _draft(export, out)
    assert code == 0, said
    again, said = _draft(export, out)  # an unfilled draft of the same export: replaced
    assert again == 0, said
    text = out.read_text(encoding="utf-8").replace("  name: TODO", "  name: Example B.V.", 1)
    out.write_text(text, encoding="utf-8")
    code, said = _draft(export, out)
    assert code != 0
    assert "exists" in said and "--force" in said
    assert "Example B.V." in out.read_text(encoding="utf-8")  # the person's work is kept
    other = tmp_path / "mine.yml"
    other.write_text("version: 1\n", encoding="utf-8")
    code, said = _draft(export, other)
    assert code != 0 and other.read_text(encoding="utf-8") == "version: 1\n"
    code, said = _draft(export, out, "--force")
    assert code == 0, said
    assert "Example B.V." not in out.read_text(encoding="utf-8")


def _values(rows: list[list[str]]) -> set[str]:
    return {v for r in rows for v in r}


def test_a_part_file_without_header_is_named_by_position_never_by_its_values(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export"
    first = _people_csv(export / "people" / "part-0001.csv", 40)
    second = _people_csv(export / "people" / "part-0002.csv", 40, header=False)
    second = [[f"other{v}" for v in r] for r in second]
    (export / "people" / "part-0002.csv").write_text(
        "\n".join(",".join(r) for r in second) + "\n", encoding="utf-8"
    )
    out = tmp_path / "catalog.yml"
    code, said = _draft(export, out)
    assert code == 0, said
    written = out.read_text(encoding="utf-8")
    assert [v for v in _values(first) | _values(second) if v in said + written] == []
    assert "file 2 of 2" in said and "no header line" in said
    assert "NOT READ" in written
    checked = runner.invoke(app, ["catalog", "check", str(out)])
    assert checked.exit_code != 0
    assert "personal of table 'people' is still TODO" in checked.output + str(checked.exception)


def test_a_headerless_csv_is_read_without_header(tmp_path: Path) -> None:
    export = tmp_path / "export"
    rows = [
        [f"p{i}.private@example.org", f"Given{chr(65 + i % 26)}a Family{i}", f"City{i}"]
        for i in range(300)
    ]
    export.mkdir()
    (export / "contacts.csv").write_text(
        "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8"
    )
    out = tmp_path / "catalog.yml"
    code, said = _draft(export, out)
    assert code == 0, said
    written = out.read_text(encoding="utf-8")
    assert [v for v in _values(rows) if v in said + written] == []
    table = yaml.safe_load(written)["tables"]["contacts"]
    assert table["csv"]["header"] is False
    assert "300 rows, 3 columns" in written  # the first person's row is a row
    assert any(c.get("identity") == "email" for c in table["columns"].values())


def test_bad_files_never_abort_the_draft(tmp_path: Path) -> None:
    export = tmp_path / "export"
    people = _people_csv(export / "people.csv")
    (export / "empty.csv").write_bytes(b"")
    (export / "empty.jsonl").write_bytes(b"")
    (export / "none.json").write_text("[]", encoding="utf-8")
    (export / "excel.csv").write_bytes(
        "id,note\n1,caf\u00e9 \u20ac5 \u201cquoted\u201d\n2,plain\n".encode("cp1252")
    )
    long_rows = ["id,email,attachment"] + [f"{i},m{i}@example.org,x" for i in range(60)]
    long_rows[52] = "51,m51@example.org," + "A" * 2_300_000
    (export / "mail.csv").write_text("\n".join(long_rows) + "\n", encoding="utf-8")
    out = tmp_path / "catalog.yml"
    code, said = _draft(export, out)
    assert code == 0, said
    written = out.read_text(encoding="utf-8")
    for raw in ("Error:", "Invalid Input", "Binder Error", "sniff_csv", "SELECT"):
        assert raw not in said
    assert [v for v in _values(people) if v in said + written] == []
    for name in ("empty.csv", "empty.jsonl", "none.json"):
        assert f"# skipped {name}: no rows" in written
    assert "Windows-1252" in written and "iconv" in written  # listed, not read
    data = yaml.safe_load(written)
    assert data["tables"]["excel"]["personal"] == "TODO"
    assert data["tables"]["mail"]["csv"]["max_line_bytes"] >= 2_300_000
    assert "max_line_bytes" in said
    assert {"people", "mail"} <= set(data["tables"])


def test_records_wrapped_in_a_json_object_are_never_passed_over(tmp_path: Path) -> None:
    export = tmp_path / "export"
    people = _people_csv(export / "people.csv")
    records = [{"user_id": i, "email": f"w{i}@example.org"} for i in range(200)]
    (export / "wrapped.json").write_text(
        json.dumps({"users": records, "exported_at": "2026-12-01"}), encoding="utf-8"
    )
    (export / "settings.json").write_text(json.dumps({"theme": "dark"}), encoding="utf-8")
    out = tmp_path / "catalog.yml"
    code, said = _draft(export, out)
    assert code == 0, said
    written = out.read_text(encoding="utf-8")
    assert "not read wrapped" in said
    assert "NOT READ" in written.split("version: 1")[0]  # loud, at the top
    assert "200 records" in written
    assert "w1@example.org" not in said + written
    assert [v for v in _values(people) if v in said + written] == []
    data = _filled_but_unread(yaml.safe_load(written))
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check", str(out)])
    said = checked.output + str(checked.exception)
    assert checked.exit_code != 0
    assert "personal of table 'wrapped' is still TODO" in said
    assert "tables.people" not in said  # only the table no one has decided on


_FILL = {
    "name": "Example B.V.",
    "contact": "privacy@example.com",
    "supervisory_authority": "Autoriteit Persoonsgegevens",
    "description": "members",
    "category": "contact",
    "origin": "provided",
    "purposes": "provide the service",
    "legal_basis": "contract",
    "recipients": [],
    "source": "the person",
    "period": "2 years",
    "criteria": "while the account is open",
    "action": "delete",
}


def _filled_but_unread(node: Any, key: str = "", table: str = "") -> Any:
    """Every TODO filled as a person would, but those of the tables the draft did not read."""
    if node == "TODO" and table != "wrapped":
        return _FILL[key]
    if isinstance(node, dict):
        inner = {}
        for k, v in node.items():
            here = str(k) if key == "tables" else table
            inner[k] = _filled_but_unread(v, str(k), here)
        return inner
    if isinstance(node, list):
        return [_filled_but_unread(v, key, table) for v in node]
    return node


def test_the_engine_check_never_quotes_a_headerless_part_file(tmp_path: Path) -> None:
    from dsar.catalog.models import Table
    from dsar.engine.files import check_files
    from dsar.errors import ExportReadError

    first = tmp_path / "part-0001.csv"
    second = tmp_path / "part-0002.csv"
    first.write_text("email,name,phone\na@example.com,Alice Example,+31612345678\n")
    second.write_text("bob.secret@example.org,Bob Hidden,+31687654321\n")
    twice = tmp_path / "twice.csv"
    twice.write_text("Bob Hidden,Bob Hidden,x\n1,2,3\n")
    table = Table.model_validate(
        {
            "path": "*.csv",
            "format": "csv",
            "personal": False,
            "description": "t",
            "columns": {"email": {}},
        }
    )
    with pytest.raises(ExportReadError) as caught:
        check_files("people", table, [first, second])
    said = str(caught.value)
    assert "no header line" in said and "3 fields" in said
    for value in ("bob.secret@example.org", "Bob Hidden", "+31687654321"):
        assert value not in said
    with pytest.raises(ExportReadError) as caught:
        check_files("twice", table, [twice])
    assert "Bob Hidden" not in str(caught.value) and "1 name(s)" in str(caught.value)
