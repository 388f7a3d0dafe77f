"""`dsar catalog draft` on files that are hard to read, and what it must never do with them.

A bad file (empty, `[]`, Windows-1252, a cell beyond the reader's line size, a header in
only the first part file, a JSON export wrapping its records) never aborts the draft with a
backend error nor echoes a value: the table is read with a fallback, or listed at the top
of the draft as not drafted, with why; where it may hold people, `catalog check` refuses the
draft until a person decides. A headerless CSV is read as headerless (no person's value made
a column name). `--out` never overwrites a catalog a person has filled in, unless --force.
"""

from __future__ import annotations

from pathlib import Path

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
