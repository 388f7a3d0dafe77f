"""Red team 26 round 4, finding 12: the Markdown letters carried the catalog's description
as written: `<script>`, `<img onerror=...>` and `[reset your password](https://evil...)`,
a working phishing link in every letter, where the HTML letter escapes it. The Markdown
letters and the regulator report now escape the catalog's and the incident's text (no raw
HTML, no live link) as the HTML does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_attacks_breach import _lab, _scope

HOSTILE = (
    "Your messages <script>alert(1)</script><img src=x onerror=alert(2)>"
    " [reset your password](https://evil.example/login) www.evil.example"
)
WHAT = "<img src=x onerror=alert(5)> see [here](https://evil.example) | cell"


def _live(markdown: str) -> list[str]:
    """What a Markdown renderer would make markup of: an unescaped tag, an inline link, or a
    bare web address it links by itself."""
    return [
        *re.findall(r"(?<!\\)<[a-zA-Z/]", markdown),
        *re.findall(r"(?<!\\)\]\(", markdown),
        *re.findall(r"[a-zA-Z]+://", markdown),
        *re.findall(r"(?i)\bwww\.", markdown),
    ]


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = _lab(tmp_path / "lab", [("NL", ""), ("DE", "")])
    catalog.write_text(
        catalog.read_text().replace("description: Web logs.", f'description: "{HOSTILE}"')
    )
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--what", WHAT)
    assert code == 0, output
    return out


def test_the_markdown_letters_hold_no_live_html_or_link(hostile: Path) -> None:
    letters = sorted((hostile / "letters").glob("*.md"))
    assert letters
    for letter in letters:
        text = letter.read_text()
        assert "alert(1)" in text and "evil.example" in text  # shown, as written
        assert _live(text) == [], letter.name


def test_the_regulator_report_holds_no_live_html_or_link(hostile: Path) -> None:
    text = (hostile / "regulator-report.md").read_text()
    assert "alert(5)" in text
    assert _live(text) == []


def test_the_html_letter_still_escapes(hostile: Path) -> None:
    for letter in (hostile / "letters").glob("*.html"):
        text = letter.read_text()
        assert "<script>" not in text and "<img" not in text
        assert 'href="https://evil' not in text
