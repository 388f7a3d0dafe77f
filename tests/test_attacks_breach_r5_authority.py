"""Red team 26 round 5, finding 6: the catalog's supervisory-authority text became a live
link in every HTML breach letter (`..., https://evil.example/complain-here`), and a catalog
with `dpo: javascript:alert(1)` was accepted. A breach letter now links the controller's own
contact only (the authority's text shown as written), and a catalog's contact, DPO or
authority cannot be a javascript:, vbscript:, data: or file: address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsar.catalog import load_catalog
from tests.test_attacks_breach import _lab, _scope

EVIL = "https://evil.example/complain-here"


@pytest.mark.parametrize(
    "authority",
    [
        f"'Autoriteit Persoonsgegevens (Netherlands), {EVIL}'",
        f"'Autoriteit Persoonsgegevens (Netherlands) <{EVIL}>'",
        "'Autoriteit Persoonsgegevens, evil.example'",
    ],
)
def test_the_authority_text_is_no_link_in_a_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, authority: str
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")], authority=authority)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    letter = (out / "letters" / "P-0001.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'<a href="([^"]*)"', letter)
    assert hrefs == ["mailto:dpo@lab.example"] * len(hrefs) and hrefs, hrefs
    assert "evil.example" in letter  # shown, as written


@pytest.mark.parametrize("field", ["dpo", "contact", "supervisory_authority"])
@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "JavaScript :alert(1)", "data:text/html,<b>x</b>"]
)
def test_a_script_address_is_refused_by_the_catalog(tmp_path: Path, field: str, value: str) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    text = catalog.read_text()
    line = {
        "dpo": "  dpo: dpo@lab.example",
        "contact": "  contact: privacy@lab.example",
        "supervisory_authority": "  supervisory_authority: the authority",
    }[field]
    catalog.write_text(text.replace(line, f"  {field}: '{value}'"))
    with pytest.raises(Exception, match="javascript:, data:, vbscript: or file:"):
        load_catalog(catalog)


def test_words_about_data_still_pass(tmp_path: Path) -> None:
    catalog = _lab(
        tmp_path / "lab", [("NL", "")], authority="'Data Protection Commission: Ireland'"
    )
    load_catalog(catalog)
