"""`dsar catalog draft` (red team 27 round 2, F9): no high confidence from a column's name alone.

A Salesforce task's Subject (Call, Email, Meeting) is no OAuth subject at 0.90: a kind read
from a name needs values that look like identifiers, else its confidence is low and it is
confirmed first. Django's and Werkzeug's password hashes are hashes, not passwords in clear;
ISO timestamps written as text are no secrets.
"""

from __future__ import annotations

import csv
import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from dsar.catalog.models import IdentityKind
from dsar.draft import Draft, draft
from dsar.draft.shapes import is_secret
from dsar.text.engine import TextEngine


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Draft:
    rng = random.Random(2)
    root = tmp_path_factory.mktemp("confidence27b") / "export"
    root.mkdir()
    salt = "abcdefghijklmnopqrstuv"
    _csv(
        root / "auth_user.csv",
        [
            {"id": i, "email": f"u{i}@mail{i % 5}.example",
             "password": f"pbkdf2_sha256$600000${salt[i % 20:]}{i}$" + f"{rng.getrandbits(256):064x}"}
            for i in range(1, 81)
        ],
    )  # fmt: skip
    _csv(
        root / "task.csv",
        [
            {"Id": f"00T{i:012d}", "OwnerId": 1 + i % 80,
             "Subject": rng.choice(["Call", "Email", "Meeting"])}
            for i in range(300)
        ],
    )  # fmt: skip
    with (root / "visits.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(300):
            row = {"id": i, "anonymous_id": str(uuid.UUID(int=rng.getrandbits(128)))}
            fh.write(json.dumps(row) + "\n")
    return draft(root, sample=500, text_engine=TextEngine(nlp=None))


def test_a_kind_from_a_name_alone_is_not_sure(drafted: Draft) -> None:
    subject = drafted.tables["task"].columns["Subject"]
    if subject.identity is not None:
        conf = subject.confidence["identity"]
        assert conf.value <= 0.3
        assert "alone" in conf.reason and "confirm" in conf.reason
        assert any(d.where == "task.Subject" for d in drafted.confirm_first(8))
    # a cookie id whose values are opaque keeps its confidence
    cookie = drafted.tables["visits"].columns["anonymous_id"]
    assert cookie.identity is IdentityKind.COOKIE_ID
    assert cookie.confidence["identity"].value >= 0.8


def test_django_password_hashes_are_hashes(drafted: Draft) -> None:
    password = drafted.tables["auth_user"].columns["password"]
    assert password.secret
    said = " ".join(password.notes) + password.confidence["secret"].reason
    assert "in clear" not in said
    assert "hashes" in said
    assert password.confidence["secret"].value >= 0.9


@pytest.mark.parametrize(
    "value",
    [
        "pbkdf2_sha256$600000$abcdefghijklmnopqrstuv$" + "x" * 43 + "=",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv",
        "pbkdf2:sha256:600000$salt1234$abcdef0123456789",
        "scrypt:32768:8:1$salt1234$abcdef0123456789",
    ],
)
def test_framework_password_hashes_are_secrets(value: str) -> None:
    assert is_secret(value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-09T05:42:56.828983",
        "2026-11-27T13:04:38.735114",
        "2026-11-28 15:42:08.477305Z",
        "2026-11-28T15:42:08.477305+02:00",
    ],
)
def test_iso_timestamps_as_text_are_no_secrets(value: str) -> None:
    assert not is_secret(value)
