"""Review 16, findings 1 and 5 (breach assessment).

F1: "Surname, Given" linked the one-word name nodes ("Frank"), which every text shares, to
the full name; another text's "Miller, Frank" linked the same "Frank" to "Frank Miller", so
two people were counted as one. The same held for a one-word name spelled by an address.

F5: an unflagged column of ids or checksums (dashless UUIDs, MD5 / SHA-1 / SHA-256 hex)
was read as passwords or secrets.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from pathlib import Path

import pytest

from dsar.breach.columns import CREDENTIALS, value_category
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


def _hexes(n: int) -> dict[str, list[str]]:
    data = [f"file-{i}".encode() for i in range(n)]
    return {
        "uuid4().hex": [uuid.uuid4().hex for _ in range(n)],
        "md5": [hashlib.md5(d).hexdigest() for d in data],
        "sha1": [hashlib.sha1(d).hexdigest() for d in data],
        "sha256": [hashlib.sha256(d).hexdigest() for d in data],
        "sha1 upper": [hashlib.sha1(d).hexdigest().upper() for d in data],
    }


@pytest.mark.parametrize("kind", sorted(_hexes(1)))
@pytest.mark.parametrize("column", ["ref", "trace_id", "checksum", ""])
def test_ids_and_checksums_are_not_secrets(kind: str, column: str) -> None:
    assert value_category(_hexes(50)[kind], column) is None


@pytest.mark.parametrize("kind", sorted(_hexes(1)))
@pytest.mark.parametrize("column", ["pw_hash", "hash", "secret_value", "user_password"])
def test_hex_in_a_column_named_hash_or_secret_is_still_a_secret(kind: str, column: str) -> None:
    assert value_category(_hexes(50)[kind], column) == CREDENTIALS


def test_tokens_and_mixed_hex_lengths_are_still_secrets() -> None:
    tokens = [secrets.token_urlsafe(32) for _ in range(50)]
    assert value_category(tokens, "ref") == CREDENTIALS
    mixed = [secrets.token_hex(16 + i % 3 * 4) for i in range(50)]  # 32, 40 and 48 hex digits
    assert value_category(mixed, "ref") == CREDENTIALS
