"""Red team 26 round 4, finding 8: `confirm --reason` (kept in scope.json) and scope's
`--what` / `--measures` (in every letter and the report) accepted a UK National Insurance
number, a percent-encoded email in a link and an SSN shaped 123-45-6789, where they refuse
other emails, phones, cards and IDs. Those are refused now; the message names the kind,
never the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.breach.report import check_decision_text, check_incident_text
from dsar.errors import UsageError
from tests.test_attacks_breach import _lab, _scope

VALUES = [
    ("NINO QQ123456C", "QQ123456C"),
    ("NINO QQ 12 34 56 C", "QQ 12 34 56 C"),
    ("reset link https://app.example/r?e=ann%40example.com", "ann%40example.com"),
    ("mailto:ann%2540example.com", "ann%2540example.com"),
    ("SSN 123-45-6789", "123-45-6789"),
    ("SSN 123 45 6789", "123 45 6789"),
]


@pytest.mark.parametrize(("text", "value"), VALUES)
def test_confirm_reason_refuses_it(text: str, value: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_decision_text("DPO", text)
    assert caught.value.argument == "--reason"
    assert value not in str(caught.value)


@pytest.mark.parametrize(("text", "value"), VALUES)
@pytest.mark.parametrize("option", ["--what", "--measures"])
def test_scope_what_and_measures_refuse_it(text: str, value: str, option: str) -> None:
    what, measures = (
        (text, "We reset the passwords.")
        if option == "--what"
        else (
            "A log file was exposed.",
            text,
        )
    )
    with pytest.raises(UsageError) as caught:
        check_incident_text(what, measures)
    assert caught.value.argument == option
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "Reviewed on 2026-11-05 by the DPO; risk low, ticket 4512.",
        "Logs from 10:00 to 18:00, https://status.example/incident?id=42%20b",
        "Version 123-45 of the app, 6789 lines.",
    ],
)
def test_plain_reasons_still_pass(text: str) -> None:
    check_decision_text("DPO", text)
    check_incident_text(text, text)


def test_the_cli_refuses_a_nino_in_measures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")])
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch, "--measures", "NINO QQ123456C")
    assert code != 0
    assert "--measures" in output and "QQ123456C" not in output
    assert not (out / "scope.json").exists()
