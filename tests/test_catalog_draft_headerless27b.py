"""`dsar catalog draft` (red team 27 round 2, F7): a headerless CSV whose first line holds
uncommon names is not read with a person's row as its header.

Header or not is decided from the shape of line 1 against the rest (types, a few repeated
values, fields shaped as column names of the snake or camel sort), never from lists of
people's names; in doubt the file is read as headerless and the draft says so. No field of
the first line is quoted anywhere in the draft.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from dsar.draft import draft, render
from dsar.draft.scan import _looks_like_data
from dsar.text.engine import TextEngine

FIRST_LINE = ["Zephyrine", "Oyelaran-Whitcombe", "Llanfairpwll", "Chief happiness officer"]


def _rows(n: int, seed: int = 5) -> list[list[str]]:
    """People-like rows: capitalised made-up names, towns and job titles, none of them the
    first line's and few repeated."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "sa", "tor", "vel", "an", "is", "dor", "ber", "gu"]

    def word(k: int) -> str:
        return "".join(rng.choice(syllables) for _ in range(k)).capitalize()

    jobs = ["engineer", "nurse", "teacher", "surveyor", "designer", "chemist", "editor"]
    return [
        [word(2), word(3), f"{word(2)}ton", f"{rng.choice(['Senior', 'Chief', 'Junior'])}"
         f" {rng.choice(jobs)} {rng.choice(['of sales', 'at large', 'in training', ''])}".strip()]
        for _ in range(n)
    ]  # fmt: skip


def test_uncommon_names_on_line_one_are_a_row() -> None:
    assert _looks_like_data([FIRST_LINE, *_rows(300)])


@pytest.mark.parametrize(
    "header",
    [
        ["first_name", "last_name", "city", "job_title"],
        ["firstName", "lastName", "city", "jobTitle"],
        ["First Name", "Last Name", "City", "Job Title"],
    ],
)
def test_column_names_stay_a_header(header: list[str]) -> None:
    assert not _looks_like_data([header, *_rows(300)])


def test_a_header_over_typed_or_few_values_stays_a_header() -> None:
    rng = random.Random(1)
    # names no vocabulary holds, but the columns below are numbers and a few states
    header = ["Kundennaam", "Bedrag", "Zustand"]
    rows = [
        [f"Kl{i}ant", str(rng.randrange(10, 900)), rng.choice(["aktiv", "inaktiv"])]
        for i in range(100)
    ]
    assert not _looks_like_data([header, *rows])


def test_the_draft_reads_the_row_and_quotes_none_of_it(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    lines = [FIRST_LINE, *_rows(300)]
    (export / "contacts.csv").write_text("".join(",".join(r) + "\n" for r in lines), "utf-8")
    result = draft(export, sample=500, text_engine=TextEngine(nlp=None))
    table = result.tables["contacts"]
    assert list(table.columns) == ["column0", "column1", "column2", "column3"]
    assert table.profile.rows == 301  # the first person's row is data
    assert any("may be column names or a row" in n for n in table.profile.found.notes)
    text = render(result, str(export))
    for value in FIRST_LINE:
        assert value not in text
