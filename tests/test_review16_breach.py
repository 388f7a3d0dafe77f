"""Review 16, findings 1 and 5 (breach assessment).

F1: "Surname, Given" linked the one-word name nodes ("Frank"), which every text shares, to
the full name; another text's "Miller, Frank" linked the same "Frank" to "Frank Miller", so
two people were counted as one. The same held for a one-word name spelled by an address.

F5: an unflagged column of ids or checksums (dashless UUIDs, MD5 / SHA-1 / SHA-256 hex)
was read as passwords or secrets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attacks_breach_r6_counts import _others


@pytest.mark.parametrize(
    "bodies",
    [
        [
            "Please cc Fischer, Frank (frank.fischer@other.example).",
            "Please cc Miller, Frank (frank.miller@other.example).",
        ],
        ["Please cc Fischer, Frank.", "Please cc Miller, Frank."],
        [
            "Please cc Frank (frank.fischer@other.example).",
            "Please cc Frank (frank.miller@other.example).",
        ],
    ],
)
def test_two_people_sharing_a_given_name_stay_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bodies: list[str]
) -> None:
    assert _others(tmp_path, bodies, monkeypatch) == 2


def test_a_surname_shared_by_two_full_names_in_two_texts_stays_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = ["John Smith called; Smith wants a refund.", "Anna Smith called; Smith is upset."]
    assert _others(tmp_path, bodies, monkeypatch) == 2


def test_surname_given_is_still_the_full_name_written_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = ["Frank Fischer called.", "Please cc Fischer, Frank."]
    assert _others(tmp_path, bodies, monkeypatch) == 1
