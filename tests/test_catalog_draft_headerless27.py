"""`dsar catalog draft` on headerless CSVs with no email, date, IP or phone in their first line
(red team 27, F8): a field of the first line found again in its own column is a value, so the
line is a row and no value becomes a column name; files concatenated each with its header
(the header line repeated below) still have a header. The notebook's side:
tests/test_data_map_notebook_headerless.py."""

from __future__ import annotations

from pathlib import Path

from dsar.draft.scan import _looks_like_data


def test_a_value_repeated_in_its_column_marks_the_first_line_as_data() -> None:
    cities = ("Amsterdam", "Berlin", "Paris")
    rows = [[f"Given{i}", f"Family{i}", cities[i % 3]] for i in range(60)]
    assert _looks_like_data(rows)
    tiers = [
        [f"Person {chr(65 + i % 26)}", ("gold", "silver")[i % 2], "a b c d."] for i in range(9)
    ]
    assert _looks_like_data(tiers)


def test_a_header_stays_a_header() -> None:
    header = ["first", "last", "city"]
    rows = [[f"Given{i}", f"Family{i}", ("Amsterdam", "Berlin")[i % 2]] for i in range(60)]
    assert not _looks_like_data([header, *rows])
    # two exports concatenated, each with its header: the repeat is no evidence
    assert not _looks_like_data([header, *rows[:30], header, *rows[30:]])
    assert not _looks_like_data([header, header, header])


def test_the_draft_names_no_column_after_a_value(tmp_path: Path) -> None:
    from dsar.draft import draft
    from dsar.text.engine import TextEngine

    export = tmp_path / "export"
    export.mkdir()
    rows = [
        [f"Given{chr(65 + i % 26)}", f"Family{i}", ("Amsterdam", "Berlin", "Paris")[i % 3]]
        for i in range(120)
    ]
    (export / "people.csv").write_text("".join(",".join(r) + "\n" for r in rows), "utf-8")
    table = draft(export, sample=100, text_engine=TextEngine(nlp=None)).tables["people"]
    assert list(table.columns) == ["column0", "column1", "column2"]
    assert table.profile.rows == 120
