"""Red team 26 round 5, finding 5: `dsar breach scope --id` was not checked: an SSN, a card,
a phone, a path (`../x`), newlines, Markdown, a tag and ESC bytes went into every letter
("Reference: <id>"), scope.json, the register and the audit log. The id must now be a plain
name (as request ids are) holding no personal value; the message never repeats it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsar.breach.report import Incident
from dsar.errors import UsageError
from tests.test_attacks_breach import _lab, _scope

REFUSED = [
    "123-45-6789",
    "BR-3035550101",
    "BR-303-555-0101",
    "AB123456C",
    "4111111111111111",
    "NL91ABNA0417164300",
    "BR-20261129-0612345678",
    "../../x",
    "a/b",
    "..",
    ".hidden",
    "x" * 101,
    "BR 1",
    "BR-1\nP-0002",
    "## Urgent: reply with your password",
    "[Reset now](https://evil.example)",
    "<img src=x onerror=alert(1)>",
    "BR-1\x1b[2J",
]


@pytest.mark.parametrize("breach_id", REFUSED)
def test_the_id_is_refused_without_repeating_it(breach_id: str) -> None:
    with pytest.raises(UsageError) as caught:
        Incident(
            breach_id=breach_id,
            discovered=datetime(2026, 11, 20, tzinfo=UTC),
            what_happened="A log file was exposed.",
            measures="We removed it.",
        )
    assert caught.value.argument == "--id"
    if len(breach_id) > 3:  # '..' is in the rule the message states
        assert breach_id not in str(caught.value)


@pytest.mark.parametrize(
    "breach_id", ["BR-20261129-1830", "BR-2026-11-29-a", "SEC-1234", "INC0012345", "Q11"]
)
def test_plain_ids_pass(breach_id: str) -> None:
    Incident(
        breach_id=breach_id,
        discovered=datetime(2026, 11, 20, tzinfo=UTC),
        what_happened="A log file was exposed.",
        measures="We removed it.",
    )


def test_the_cli_refuses_an_ssn_as_id_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "CO")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--id", "123-45-6789")
    assert code != 0
    assert "--id" in output and "123-45-6789" not in output
    assert not out.exists()
    code, output = _scope(catalog, out, monkeypatch, "--id", "BR-2026-11-20-a")
    assert code == 0, output
    letter = (out / "letters" / "P-0001.md").read_text(encoding="utf-8")
    assert "Reference: BR-2026-11-20-a, P-0001." in letter


def test_the_default_id_passes_at_every_minute() -> None:
    """The default id names the discovery's date and time (`BR-20261207-2036`): read whole,
    some minutes made a Luhn-valid card of it, and the breach notebook failed by the clock.
    Every minute of two days passes; a card after the date is still refused."""
    from datetime import datetime, timedelta

    from dsar.breach.report import check_breach_id
    from dsar.errors import UsageError

    start = datetime(2026, 12, 7)
    for minute in range(2 * 24 * 60):
        check_breach_id(f"BR-{start + timedelta(minutes=minute):%Y%m%d-%H%M}")
    with pytest.raises(UsageError):
        check_breach_id("BR-20261207-4111111111111111")
