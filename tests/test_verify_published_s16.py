"""Issue 24: `dsar verify FOLDER --source FILE` finds what `anonymize publish` now holds back,
in a folder an older publish wrote or someone edited by hand (red team round 3).

Each attack publishes a source, then puts an original back into the published file by hand
(the checksums, and the review file's positions where a length changed, written again; the
manifest sealed again with the key, as an older publish under the same key would have
sealed it) and requires verify with the source to fail, naming the row or column and the
kind, never the value:

- a) a person's surname in lower case ("Maria Kowalski" ... "kowalski" in another text);
- b) a name in a non-Latin script (Cyrillic, Greek, Arabic, Han) kept as it is;
- c) a name of the source's texts in a column the publication kept (`--keep subject`).

The clean publication of the same source verifies, under three publication keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anonymize.publish import run_publish
from dsar import Keys
from dsar.io import sha256_file
from dsar.review.manifest import manifest_mac
from dsar.review.published import REVIEW_FILE, verify_published

KEY = Keys(b"v" * 32)

MARIA = "Hello, Maria Kowalski here. My refund has not arrived."
LOWER = "I spoke to kowalski yesterday about the refund, nothing happened."
RUSSIAN = "Меня зовут Иван Петров, не могу войти в аккаунт."
CHINESE = "我是王伟\uff0c我的账单有问题。"
GREEK = "Γεια σας, είμαι η Ελένη Παπαδοπούλου, θέλω επιστροφή χρημάτων."
ARABIC = "مرحبا، أنا أحمد الفارسي، لدي مشكلة في الفاتورة."
PLAIN = "The app crashes when I open the settings page."
TEXTS = [MARIA, LOWER, RUSSIAN, CHINESE, GREEK, ARABIC, PLAIN]
# what each text names, as the source writes it
NAMES = {
    LOWER: "kowalski",
    RUSSIAN: "Иван Петров",
    CHINESE: "王伟",
    GREEK: "Ελένη Παπαδοπούλου",
    ARABIC: "أحمد الفارسي",
}


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.jsonl"
    rows = [
        {"user_id": f"u{i}", "subject": ("refund", "login", "billing")[i % 3], "body": text}
        for i, text in enumerate(TEXTS)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _publish(tmp_path: Path, source: Path, series: str | None = None) -> Path:
    out = tmp_path / f"out-{series or 'own'}"
    done = run_publish(
        source, "body", out, keys=KEY, thread="user_id", keep=["subject"], series=series
    )
    return done.folder


def _rows(folder: Path) -> list[dict[str, Any]]:
    data = folder / "tickets.jsonl"
    return [json.loads(line) for line in data.read_text("utf-8").splitlines()]


def _review(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / REVIEW_FILE).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _write(folder: Path, rows: list[dict[str, Any]], review: list[dict[str, Any]]) -> None:
    """Write the data and the review file again, with their checksums and counts in the
    manifest, sealed again with the key (as an older publish would have sealed them)."""
    data, listed = folder / "tickets.jsonl", folder / REVIEW_FILE
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    listed.write_text("".join(json.dumps(e) + "\n" for e in review), "utf-8")
    path = folder / "manifest.json"
    manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    for out in manifest["outputs"]:
        file = folder / out["path"]
        out["sha256"], out["bytes"] = sha256_file(file), file.stat().st_size
    replaced: dict[str, int] = {}
    for entry in review:
        if "row" in entry and entry["kind"] not in ("rare_term",):
            replaced[entry["kind"]] = replaced.get(entry["kind"], 0) + 1
    manifest["replaced"] = replaced
    manifest["mac"] = manifest_mac(KEY, manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def _put_back(folder: Path, text: str, *, unlisted: bool) -> int:
    """Put `text`'s original name back in place of its surrogate in the published file:
    the review file's later positions in the row moved with it; with `unlisted`, the
    replacement's entry removed too (an older publish that never replaced it). Returns the
    published row (1-based)."""
    rows, review = _rows(folder), _review(folder)
    for number, row in enumerate(rows, 1):
        body: str = row["body"]
        for entry in review:
            if entry.get("row") != number or entry["kind"] != "PERSON":
                continue
            start, end = entry["start"], entry["end"]
            original = text[start : start + len(text) - len(body) + (end - start)]
            if body[:start] + original + body[end:] != text:
                continue
            row["body"] = text
            moved = len(original) - (end - start)
            for other in review:
                if other.get("row") == number and other["start"] >= end:
                    other["start"], other["end"] = other["start"] + moved, other["end"] + moved
            entry["end"] = start + len(original)
            if unlisted:
                review.remove(entry)
            _write(folder, rows, review)
            return number
    raise AssertionError("the text's published row was not found")


def _findings(folder: Path, source: Path) -> list[str]:
    checked = verify_published(folder, source=source, keys=KEY)
    return [str(f) for f in checked.findings]


def _assert_names_row_and_kind(
    found: list[str], row: int, kind: str, values: tuple[str, ...]
) -> None:
    assert any(f"row {row}" in f and kind in f for f in found), found
    for value in values:
        for word in value.split():
            assert all(word not in f for f in found), found


@pytest.mark.parametrize("unlisted", [False, True], ids=["listed", "unlisted"])
def test_a_lower_case_surname_put_back_fails(tmp_path: Path, unlisted: bool) -> None:
    source = _source(tmp_path)
    folder = _publish(tmp_path, source)
    row = _put_back(folder, LOWER, unlisted=unlisted)
    found = _findings(folder, source)
    _assert_names_row_and_kind(found, row, "name", ("kowalski", "Kowalski"))


@pytest.mark.parametrize("unlisted", [False, True], ids=["listed", "unlisted"])
@pytest.mark.parametrize("text", [RUSSIAN, GREEK, ARABIC, CHINESE], ids=["ru", "el", "ar", "zh"])
def test_a_name_in_a_non_latin_script_put_back_fails(
    tmp_path: Path, text: str, unlisted: bool
) -> None:
    source = _source(tmp_path)
    folder = _publish(tmp_path, source)
    row = _put_back(folder, text, unlisted=unlisted)
    found = _findings(folder, source)
    _assert_names_row_and_kind(found, row, "name", (NAMES[text],))


@pytest.mark.parametrize(
    "value",
    ["kowalski", "KOWALSKI", "Maria Kowalski", "Иван Петров", "Петров", "王伟", "Παπαδοπούλου"],
)
def test_a_name_of_the_texts_in_a_kept_column_fails(tmp_path: Path, value: str) -> None:
    source = _source(tmp_path)
    folder = _publish(tmp_path, source)
    rows = _rows(folder)
    rows[2]["subject"] = value  # by hand, after publishing: the kept column holds a name
    _write(folder, rows, _review(folder))
    found = _findings(folder, source)
    assert any("column 'subject'" in f and "name" in f for f in found), found
    for word in value.split():
        assert all(word not in f for f in found), found


@pytest.mark.parametrize("series", [None, "weekly", "monthly"])
def test_the_clean_publication_verifies(tmp_path: Path, series: str | None) -> None:
    """No false alarm: the publication as publish wrote it, under three keys (its own and two
    series), verifies with the source, and so does a kept column of ordinary words."""
    source = _source(tmp_path)
    folder = _publish(tmp_path, source, series)
    checked = verify_published(folder, source=source, keys=KEY)
    assert checked.ok, [str(f) for f in checked.findings]
    assert checked.checked_rows == len(TEXTS)
    # the same folder, written again unchanged by the test's own writer, still verifies
    _write(folder, _rows(folder), _review(folder))
    assert verify_published(folder, source=source, keys=KEY).ok


def test_a_text_edited_outside_its_replacements_reads_as_no_source_row(tmp_path: Path) -> None:
    """A published text that differs from every source row outside its listed replacements
    was edited (or the folder was not made from this source): a finding, with the row."""
    source = _source(tmp_path)
    folder = _publish(tmp_path, source)
    rows = _rows(folder)
    number = next(i for i, r in enumerate(rows, 1) if r["body"] == PLAIN)
    rows[number - 1]["body"] = PLAIN.replace("settings", "billing")
    _write(folder, rows, _review(folder))
    found = _findings(folder, source)
    assert any(f"row {number}" in f and "no source row" in f for f in found), found


@pytest.mark.parametrize("series", [None, "weekly", "monthly"])
def test_the_demo_tickets_published_clean_verify(
    tmp_path: Path, demo_export: Path, series: str | None
) -> None:
    """No false alarm on realistic texts: the demo's support tickets (templated texts many
    rows share, names of many countries, emails and phones), two kept columns, under three
    keys."""
    from dsar import load_catalog, open_engine

    tickets = demo_export.parent / "support_tickets.jsonl"
    with open_engine(load_catalog(demo_export)) as engine:
        done = run_publish(
            tickets,
            "body",
            tmp_path / "out",
            keys=KEY,
            thread="user_id",
            engine=engine,
            keep=["status", "channel"],
            series=series,
        )
    checked = verify_published(done.folder, source=tickets, keys=KEY)
    assert checked.ok, [str(f) for f in checked.findings]
    assert checked.checked_rows == done.manifest.rows_out > 100


HELD = ["저는 김서연입니다. 로그인이 안 돼요.", "ผมชื่อ สมชาย ใจดี ครับ เข้าระบบไม่ได้"]


def test_held_back_names_of_caseless_scripts_published_as_they_were_fail(tmp_path: Path) -> None:
    """Publish holds back a word of a script without capitals after a word that introduces a
    name ("저는 김서연입니다"); a folder an older publish wrote with those texts as they were
    (no replacement listed, counts and checksums to match) fails, per row."""
    source = tmp_path / "tickets.jsonl"
    texts = [*HELD, PLAIN]
    rows = [{"user_id": f"u{i}", "subject": "login", "body": t} for i, t in enumerate(texts)]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    folder = _publish(tmp_path, source)
    published, review = _rows(folder), _review(folder)
    assert len(published) == 1 and sum(e["kind"] == "held_back" for e in review) == 2
    published += [
        {"user_id": "t-" + "0" * 15 + str(i), "subject": "login", "body": t}
        for i, t in enumerate(HELD)
    ]
    review = [e for e in review if e["kind"] != "held_back"]
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["rows_out"], manifest["held_back"] = 3, 0
    for out in manifest["outputs"]:
        if out["path"] == "tickets.jsonl":
            out["rows"] = 3
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    _write(folder, published, review)
    found = _findings(folder, source)
    for row in (2, 3):
        assert any(f"row {row} " in f and "non-Latin script" in f for f in found), found
    assert all("김서연" not in f and "สมชาย" not in f for f in found), found
