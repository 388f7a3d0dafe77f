"""Red team 26 round 5, finding 13: `--what`, `--measures` and `confirm --reason` holding an
email written with HTML character references (`ann&#64;example&#46;com`) passed the
personal-data check, and the Markdown letters and report kept the `&`, so any CommonMark
viewer showed `ann@example.com`. The text is now also read with its character references
decoded (and defanged writings, an SSN without dashes after the word SSN, a quoted local
part and an address literal read), and the Markdown escapes `&` as the HTML does."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from dsar.breach.report import check_decision_text, check_incident_text
from dsar.errors import UsageError
from tests.test_attacks_breach import _lab, _scope

VALUES = [
    ("forwarded to ann&#64;example&#46;com by mistake", "ann&#64;example&#46;com"),
    ("we asked ann&#x40;example.com to delete it", "ann&#x40;example.com"),
    ("sent to ann&commat;example.com", "ann&commat;example.com"),
    ("sent to ann&amp;#64;example.com", "ann&amp;#64;example.com"),
    ("sent to ann@example[.]com", "ann@example[.]com"),
    ("sent to ann[at]example[dot]com", "ann[at]example[dot]com"),
    ("customer with SSN 123456789 called", "123456789"),
    ('mail to "ann smith"@example.com', '"ann smith"@example.com'),
    ("mail to ann@[192.0.2.1]", "ann@[192.0.2.1]"),
]


@pytest.mark.parametrize(("text", "value"), VALUES)
def test_reason_refuses_it(text: str, value: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_decision_text("DPO Team", text)
    assert caught.value.argument == "--reason"
    assert value not in str(caught.value)


@pytest.mark.parametrize(("text", "value"), VALUES)
def test_what_and_measures_refuse_it(text: str, value: str) -> None:
    for what, measures, option in (
        (text, "We reset the passwords.", "--what"),
        ("A log file was exposed.", text, "--measures"),
    ):
        with pytest.raises(UsageError) as caught:
            check_incident_text(what, measures)
        assert caught.value.argument == option
        assert value not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "Lab B.V. &amp; partners lost a laptop (at night) in the office [dot matrix printer].",
        "The SSN column was empty; ticket 123456789 was not involved.",
        "Fish & Chips Ltd, our processor, was hacked at 10:00.",
    ],
)
def test_plain_text_still_passes(text: str) -> None:
    check_decision_text("DPO Team", text)
    check_incident_text(text, text)


def test_a_character_reference_in_the_text_is_shown_as_written_in_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    out = tmp_path / "BR"
    what = "Rows of the R&amp;D table &#60;b&#62; were exposed &#x26; copied."
    code, output = _scope(catalog, out, monkeypatch, "--what", what)
    assert code == 0, output
    for path in (out / "letters" / "P-0001.md", out / "regulator-report.md"):
        rendered = MarkdownIt("commonmark").render(path.read_text(encoding="utf-8"))
        # each reference shown as typed (escaped once more for HTML), never decoded
        assert "R&amp;amp;D" in rendered and "&amp;#60;b&amp;#62;" in rendered, rendered
        assert "<b>" not in rendered and "&lt;b&gt;" not in rendered
