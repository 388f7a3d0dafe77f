"""Red team 24c (round 3) on published support requests, findings F1, F2, F6 and F11: names
left whole or in part.

- F1: names in Korean, Hindi, Thai and Arabic were published as written; a Chinese compound
  surname's name, a Japanese name written without a space and an Arabic family name after
  bint kept an original part beside the surrogate.
- F2: a lower-case hyphenated surname stayed beside its given name's surrogate; a name
  inside a file name stayed; a lower-case surname of a full name replaced elsewhere stayed.
- F6: a capitalised name with a particle ("Siobhán Ó Súilleabháin", "Diego de los Santos
  Iturbide"), a listed given name beside an unknown word ("Hope Summerfield") and a field
  label's name ("Caller: hope summerfield") were neither replaced nor held back.
- F11: one person got another surrogate (with a space inside) in a handle and a file name.

Each text is either held back or published with no word of its original name; surrogates
differ per publication, so the tests assert what holds for every draw.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from anonymize.publish import run_publish
from dsar import Keys
from dsar.review.published import verify_published

KEY = Keys(b"n" * 32)


def _publish(tmp_path: Path, rows: list[tuple[str, str]]) -> tuple[dict[str, str], Any]:
    """Publish (thread, text) rows; the published texts by row id ('r0', ...), held-back
    rows left out."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"rid": f"r{i}", "thread": t, "body": b}, ensure_ascii=False) + "\n"
            for i, (t, b) in enumerate(rows)
        ),
        "utf-8",
    )
    done = run_publish(source, "body", tmp_path / "out", keys=KEY, thread="thread", keep=["rid"])
    lines = done.file.read_text("utf-8").splitlines()
    bodies = {r["rid"]: r["body"] for r in map(json.loads, lines)}
    assert verify_published(done.folder, source=source).ok
    return bodies, done


def _held(done: Any) -> set[int]:
    review = (done.folder / "review.jsonl").read_text("utf-8").splitlines()
    return {r["input_row"] - 1 for r in map(json.loads, review) if r["kind"] == "held_back"}


def _clean(body: str, parts: list[str]) -> list[str]:
    """The original name parts still in a published text (Latin: as words, any case)."""
    low = body.casefold()
    return [
        p
        for p in parts
        if (
            re.search(rf"(?<!\w){re.escape(p.casefold())}(?!\w)", low) if p.isascii() else p in body
        )
    ]


# -- F1: names in scripts without capitals ----------------------------------------------------

SCRIPTS = [
    ("A", "我是欧阳娜娜的同事\uff0c请联系她。", ["欧阳", "娜娜"]),
    ("C", "안녕하세요, 저는 김서연입니다. 로그인이 안 돼요.", ["김서연"]),
    ("E", "नमस्ते, मेरा नाम प्रियंका वेंकटरमण है।", ["प्रियंका", "वेंकटरमण"]),
    ("F", "สวัสดีครับ ผมชื่อ สมชาย ใจดี", ["สมชาย", "ใจดี"]),
    ("G", "مرحبا، أنا فاطمة بنت خالد الحربي", ["فاطمة", "خالد", "الحربي"]),
    ("H", "مرحبا، أنا عبد الرحمن العتيبي من الرياض", ["الرحمن", "العتيبي"]),
    ("I", "こんにちは、田中由紀です。ログインできません。", ["田中", "由紀"]),
    ("K", "שלום, שמי אביגיל רוזנטל ואני לא מצליחה להתחבר", ["אביגיל", "רוזנטל"]),
]


def test_f1_a_name_in_a_script_without_capitals_is_replaced_whole_or_held_back(
    tmp_path: Path,
) -> None:
    bodies, done = _publish(tmp_path, [(t, text) for t, text, _ in SCRIPTS])
    held = _held(done)
    for i, (_, text, parts) in enumerate(SCRIPTS):
        body = bodies.get(f"r{i}")
        assert (body is None) == (i in held)
        if body is not None:
            assert _clean(body, parts) == [], (text, body)
    # the engine finds nothing in these: a cue ("저는", "नाम", "ชื่อ", "أنا", "שמי") holds them
    for i in (1, 2, 3, 5, 7):
        assert i in held, SCRIPTS[i][1]
    # found in part, grown whole: the Han given name, the al- family name after bint
    for i in (0, 4, 6):
        assert f"r{i}" in bodies or i in held


def test_f1_a_text_with_no_name_after_a_cue_is_published(tmp_path: Path) -> None:
    """The cue holds back only a word of a script without capitals after it."""
    bodies, done = _publish(tmp_path, [("A", "请联系她。"), ("B", "I am unable to log in.")])
    assert _held(done) == set() and len(bodies) == 2


# -- F2: lower-case surnames, file names ------------------------------------------------------

LOWER = [
    ("Q2", "Hi, dorian fenwick-hale here, the export is broken again."),
    ("T1", "Hi, this is Marta Oyelaran-Brisk. My account cannot log in."),
    ("T1", "marta here again, still broken. my colleague dorian fenwick-hale says same."),
    ("T3", "Please see attached file invoice_marta_oyelaran.pdf and screenshot-dorian-fenwick.png"),
    ("A", "Sharon Flynn opened this."),
    ("B", "sharon says it is still broken; Sharon will call. Also flynn agreed."),
]


def test_f2_lower_case_surnames_and_names_in_file_names_are_replaced(tmp_path: Path) -> None:
    bodies, _ = _publish(tmp_path, LOWER)
    parts = ["dorian", "fenwick", "hale", "fenwick-hale", "marta", "oyelaran", "brisk", "flynn"]
    parts += ["sharon"]
    for i, (_, text) in enumerate(LOWER):
        body = bodies.get(f"r{i}")
        if body is not None:
            assert _clean(body, parts) == [], (text, body)
    assert "r0" in bodies and "r3" in bodies  # replaced, not held back


# -- F6: particles, listed given names beside unknown words, field labels --------------------

PARTICLES = [
    ("A", "Sent by Siobhán Ó Súilleabháin today"),
    ("B", "Ticket from Diego de los Santos Iturbide about the export"),
    ("C", "Ticket raised by Will and Hope Summerfield; Grant approved it."),
    ("D", "Caller: hope summerfield\nBill to: Grant Okonjo-Beale, ext. 42"),
    ("E", "Grant approved it. The Hope Street office is closed."),
]


def test_f6_particles_given_names_and_labels_are_replaced_or_held_back(tmp_path: Path) -> None:
    bodies, done = _publish(tmp_path, PARTICLES)
    held = _held(done)
    parts = ["Siobhán", "Súilleabháin", "Santos", "Iturbide", "de los", "Summerfield"]
    for i, (_, text) in enumerate(PARTICLES):
        body = bodies.get(f"r{i}")
        assert (body is None) == (i in held)
        if body is not None:
            assert _clean(body, [p.casefold() for p in parts]) == [], (text, body)
    assert {0, 2, 3} <= held  # the engine found none of these names
    assert "r4" in bodies  # everyday words beside a given name hold nothing back


# -- F11: one person, one surrogate, in a handle and a file name -----------------------------


def test_f11_a_handle_and_a_file_name_get_the_persons_surrogate(tmp_path: Path) -> None:
    rows = [
        ("T1", "Hi, this is Marta Oyelaran-Brisk. My account cannot log in."),
        ("T3", "Please see attached file invoice_marta_oyelaran.pdf"),
        ("T20", "@dorian can you check? cc @marta.oyelaran"),
    ]
    bodies, done = _publish(tmp_path, rows)
    review = [
        json.loads(x) for x in (done.folder / "review.jsonl").read_text("utf-8").split("\n") if x
    ]
    first = next(
        bodies_row
        for bodies_row in done.file.read_text("utf-8").splitlines()
        if json.loads(bodies_row)["rid"] == "r0"
    )
    row = done.file.read_text("utf-8").splitlines().index(first) + 1
    span = next(r for r in review if r.get("row") == row and r["kind"] == "PERSON")
    name = json.loads(first)["body"][span["start"] : span["end"]].split()
    given, family = name[0].casefold(), name[-1].casefold()
    assert f"invoice_{given}_{family}.pdf" in bodies["r1"].casefold(), (name, bodies["r1"])
    assert f"@{given}.{family}" in bodies["r2"].casefold(), (name, bodies["r2"])
