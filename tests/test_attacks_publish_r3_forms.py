"""Red team 24 round 3 on published support requests, findings F3, F5, F7 and F12:
identifiers in other written forms.

- F3: the catalog's ids written full-width (in full-width letters and digits) were published; the folder's own
  check passed them and `dsar verify --catalog` found them only afterwards.
- F5: "marta dot oyelaran at gmail dot com": the given name was replaced alone and the
  rest stood beside its surrogate, held back or published as the draw fell.
- F7: ids spaced out ("u 0 0 0 0 0 0 1"), split over a line break ("u000\\n0001") or with
  the prefix dropped and spaces added ("3075 e26a 50"), a username without a digit, and a
  phone written in number words, were published, and verify said OK.
- F12: a hex-encoded email rejected the whole publication instead of being replaced.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from anonymize.publish import PublishRejectedError, run_publish
from anonymize.publish_find import CompanyIds
from anonymize.publish_forms import Forms
from dsar import Keys, load_catalog, open_engine
from dsar.review.published import catalog_identifiers, verify_published

KEY = Keys(b"r" * 32)
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _jsonl(path: Path, bodies: list[str]) -> Path:
    rows = [{"rid": f"r{i}", "thread": f"t{i}", "body": b} for i, b in enumerate(bodies)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _published(folder: Path) -> list[dict[str, Any]]:
    file = next(p for p in folder.iterdir() if p.suffix == ".jsonl" and p.name != "review.jsonl")
    return [json.loads(line) for line in file.read_text("utf-8").splitlines()]


def _compact(text: str) -> str:
    """A text in NFKC, case-folded, with every character but letters and digits dropped."""
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", text).casefold())


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _said(findings: Any) -> str:
    return " ".join(str(f) for f in findings)


@pytest.fixture
def ids(demo_export: Path) -> tuple[str, str]:
    """A user id and a customer id of the demo export ('u0000042', 'cus_3075e26a50')."""
    with open_engine(load_catalog(demo_export)) as engine:
        row = engine.query(
            "SELECT user_id, customer_id FROM accounts WHERE customer_id IS NOT NULL LIMIT 1"
        ).to_pylist()[0]
    return row["user_id"], row["customer_id"]


def _publish_with_catalog(source: Path, out: Path, demo_export: Path) -> Any:
    with open_engine(load_catalog(demo_export)) as engine:
        return run_publish(
            source, "body", out, keys=KEY, thread="thread", keep=["rid"], engine=engine
        )


def _id_forms_are_checked(
    source: Path, tmp_path: Path, demo_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With publish's reading of the forms off, the folder's own check rejects it, and
    `dsar verify --source --catalog` finds the same: the two checks agree."""
    monkeypatch.setattr(Forms, "_ids", lambda self, text: iter(()))
    with pytest.raises(PublishRejectedError, match="an original identifier"):
        _publish_with_catalog(source, tmp_path / "o2", demo_export)
    aside = next((tmp_path / "o2").glob("*.REJECTED"))
    known = catalog_identifiers(load_catalog(demo_export))
    found = verify_published(aside, source=source, identifiers=known).findings
    assert "an original identifier is published" in _said(found)


# -- F3: catalog ids in full-width or other compatibility forms ------------------------------


def test_f3_full_width_catalog_ids_are_replaced_and_both_checks_find_them(
    tmp_path: Path, demo_export: Path, ids: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, customer = ids
    tail = customer.split("_")[-1]
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            f"my user id is {_full_width(user)}, thanks",
            f"customer {_full_width(customer)} please",
            f"id {_full_width(user.upper())} and {_full_width(tail)}",
            f"and {customer[:3]}{_full_width(customer[3:])} too",  # the prefix in ASCII
        ],
    )
    done = _publish_with_catalog(source, tmp_path / "o", demo_export)
    bodies = [r["body"] for r in _published(done.folder)]
    assert len(bodies) == 4  # none held back, nothing rejected
    for body in bodies:
        assert user not in _compact(body) and tail.casefold() not in _compact(body), body
    known = catalog_identifiers(load_catalog(demo_export))
    assert verify_published(done.folder, source=source, identifiers=known).ok
    _id_forms_are_checked(source, tmp_path, demo_export, monkeypatch)


# -- F7: ids spaced out, across a line break; a phone in number words ------------------------


def test_f7_ids_spaced_out_or_split_over_a_line_are_replaced_and_found(
    tmp_path: Path, demo_export: Path, ids: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, customer = ids
    tail = customer.split("_")[-1]
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            f"user id: {' '.join(user)} please",
            f"or {user[:4]}\n{user[4:]} across lines",
            f"customer {tail[:4]} {tail[4:8]} {tail[8:]} and {customer[:5]}\r\n{customer[5:]}",
        ],
    )
    done = _publish_with_catalog(source, tmp_path / "o", demo_export)
    bodies = [r["body"] for r in _published(done.folder)]
    assert len(bodies) == 3
    for body in bodies:
        assert user not in _compact(body) and tail.casefold() not in _compact(body), body
    known = catalog_identifiers(load_catalog(demo_export))
    assert verify_published(done.folder, source=source, identifiers=known).ok
    _id_forms_are_checked(source, tmp_path, demo_export, monkeypatch)


def _spoken(digits: str) -> str:
    return " ".join(NUMBER_WORDS[int(d)] for d in digits)


def _heard(text: str) -> str:
    """The digits a text holds, number words read as digits."""
    words = re.findall(r"[a-z]+|\d", text.casefold())
    return "".join(str(NUMBER_WORDS.index(w)) if w in NUMBER_WORDS else w for w in words)


def test_f7_a_phone_written_in_number_words_is_replaced_and_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            "Phone: +31 6 1234 5678, call me",
            f"or {_spoken('0612345678')} after five",
            f"or {_spoken('0031')} 6 {_spoken('12345678')}",
        ],
    )
    done = run_publish(source, "body", tmp_path / "o", keys=KEY, thread="thread", keep=["rid"])
    bodies = [r["body"] for r in _published(done.folder)]
    assert len(bodies) == 3
    for body in bodies:
        assert "12345678" not in _heard(body), body
    assert verify_published(done.folder, source=source).ok
    monkeypatch.setattr(Forms, "_spoken_phones", lambda self, view: iter(()))
    with pytest.raises(PublishRejectedError, match="an original phone"):
        run_publish(source, "body", tmp_path / "o2", keys=KEY, thread="thread", keep=["rid"])
    aside = next((tmp_path / "o2").glob("*.REJECTED"))
    found = _said(verify_published(aside, source=source).findings)
    assert "an original phone is published (in number words)" in found
    assert "1234" not in found


# -- F5: an obfuscated email, whatever the draw -----------------------------------------------

OBFUSCATED = [
    "Hi, this is Marta Oyelaran-Brisk. My account cannot log in.",
    "Email me at marta dot oyelaran at gmail dot com or marta[at]oyelaran[dot]nl",
    "or write to m.oyelaran (at) outlook.com, or marta_o {at} proton {dot} me",
    "Sign up at github.com and meet at 10.30 dot com",  # no address: left alone
]


def test_f5_an_obfuscated_email_is_one_email_whatever_the_draw(tmp_path: Path) -> None:
    """Twenty publications, each with its own key: every one publishes the texts with the
    addresses replaced whole, none holds one back, none rejects."""
    source = _jsonl(tmp_path / "in.jsonl", OBFUSCATED)
    for run in range(20):
        done = run_publish(
            source, "body", tmp_path / f"o{run}", keys=KEY, thread="thread", keep=["rid"]
        )
        rows = {r["rid"]: r["body"] for r in _published(done.folder)}
        assert sorted(rows) == ["r0", "r1", "r2", "r3"], run  # nothing held back
        for rid in ("r1", "r2"):
            body = rows[rid].casefold()
            for word in ("marta", "oyelaran", "gmail", "outlook", "proton", "[at]", "(at)"):
                assert word not in body, (run, rows[rid])
            assert " dot " not in body and " at " not in body.removeprefix("email me at")
            assert re.search(r"@example\.(?:com|org|net)", body), rows[rid]
        assert rows["r3"] == OBFUSCATED[3]
        if run < 3:
            assert verify_published(done.folder, source=source).ok


def test_f5_the_check_reads_a_spelled_out_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With publish's reading of spelled-out addresses off, no draw publishes one: the
    folder's own check finds it (outside the reserved domains, or the original with the
    source), or the text is held back."""
    monkeypatch.setattr(Forms, "_obfuscated_emails", lambda self, text, view: iter(()))
    source = _jsonl(tmp_path / "in.jsonl", OBFUSCATED[:2])
    for run in range(5):
        try:
            done = run_publish(
                source, "body", tmp_path / f"o{run}", keys=KEY, thread="thread", keep=["rid"]
            )
        except PublishRejectedError as rejected:
            assert "an email outside the reserved domains (spelled out)" in str(rejected)
            aside = next((tmp_path / f"o{run}").glob("*.REJECTED"))
            found = _said(verify_published(aside, source=source).findings)
            assert "(spelled out)" in found and "oyelaran" not in found
        else:
            assert all("oyelaran" not in r["body"] for r in _published(done.folder))


def test_f5_a_long_chain_of_dots_is_read_in_linear_time() -> None:
    """A text of "a dot a dot ..." with no at sign: each chain is read once (possessive),
    not once per word; quadratic or worse took minutes for 3,000 words."""
    import time

    from dsar.review.published import spelled_out_emails

    text = "a dot " * 3000 + "at"
    started = time.monotonic()
    assert not [f for f in Forms().find(text) if f.span.entity == "EMAIL_ADDRESS"]
    assert spelled_out_emails(text) == text
    assert time.monotonic() - started < 10


# -- F12: a hex-encoded email --------------------------------------------------------------


def test_f12_a_hex_email_is_replaced_and_the_publication_stands(tmp_path: Path) -> None:
    address = "mduke@outlook.com"
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            f"hex: {address.encode().hex()} and upper {address.encode().hex().upper()}",
            "nothing personal here, just logs attached",
            f"dump 0x{b'karl.hale@moonwells.co.uk'.hex()}",
        ],
    )
    done = run_publish(source, "body", tmp_path / "o", keys=KEY, thread="thread", keep=["rid"])
    bodies = [r["body"] for r in _published(done.folder)]
    assert len(bodies) == 3  # none held back, nothing rejected
    for body in bodies:
        decoded = "".join(
            bytes.fromhex(run).decode("utf-8", "replace")
            for run in re.findall(r"(?:[0-9A-Fa-f]{2}){6,}", body)
        )
        assert "outlook" not in body + decoded and "moonwells" not in body + decoded, body
    assert verify_published(done.folder, source=source).ok


def _with_usernames(catalog_path: Path) -> str:
    """Give the demo copy's accounts a username column the catalog declares (`identity:
    username`): each email's local part, letters only. Returns one username of no digit."""
    from dsar.review.published import username_value

    accounts = catalog_path.parent / "accounts.csv"
    with accounts.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [re.sub(r"[^a-z]", "", (r["email"] or "").split("@")[0].casefold()) for r in rows]
    for row, name in zip(rows, names, strict=True):
        row["username"] = name
    with accounts.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*rows[0].keys()])
        writer.writeheader()
        writer.writerows(rows)
    text = catalog_path.read_text("utf-8")
    anchor = "      user_id: {identity: user_id, type: string, description: Account id}\n"
    assert anchor in text
    catalog_path.write_text(
        text.replace(anchor, anchor + "      username: {identity: username, type: string}\n"),
        "utf-8",
    )
    return next(n for n in names if names.count(n) == 1 and username_value(n))


def test_f7_a_username_the_catalog_declares_is_replaced_and_found(
    tmp_path: Path, demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    username = _with_usernames(demo_copy)
    source = _jsonl(
        tmp_path / "in.jsonl",
        [f"account {username} cannot log in", f"my login is {username.upper()}, thanks"],
    )
    done = _publish_with_catalog(source, tmp_path / "o", demo_copy)
    bodies = [r["body"] for r in _published(done.folder)]
    assert len(bodies) == 2
    for body in bodies:
        assert username not in body.casefold(), body
    known = catalog_identifiers(load_catalog(demo_copy))
    assert username in known
    assert verify_published(done.folder, source=source, identifiers=known).ok
    # with publish's reading of the ids off, its own check rejects it, as verify does
    monkeypatch.setattr(CompanyIds, "find", lambda self, text: [])
    monkeypatch.setattr(CompanyIds, "variants", lambda self, text: [])
    with pytest.raises(PublishRejectedError, match="an original identifier"):
        _publish_with_catalog(source, tmp_path / "o2", demo_copy)
    aside = next((tmp_path / "o2").glob("*.REJECTED"))
    found = _said(verify_published(aside, source=source, identifiers=known).findings)
    assert "an original identifier is published" in found and username not in found
