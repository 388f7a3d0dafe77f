"""Red team s13 (publishing), F3, F5, F8: names published whole or not at all, one person
one surrogate (inputs as in /tmp/redteam_publish/c1, c2, c8, c10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anonymize.publish import run_publish
from anonymize.surrogates import Surrogates, locale_for
from dsar import Keys
from dsar.review.published import REVIEW_FILE, verify_published

KEY = Keys(b"s" * 32)


def _publish(tmp_path: Path, rows: list[tuple[str, str, str]]) -> dict[str, str | None]:
    """Publish (rid, thread, body) rows; each rid's published body (None: held back)."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"rid": r, "thread": t, "body": b}, ensure_ascii=False) + "\n"
            for r, t, b in rows
        ),
        encoding="utf-8",
    )
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, thread="thread", keep=["rid"])
    lines = result.file.read_text(encoding="utf-8").splitlines()
    got: dict[str, str | None] = {r: None for r, _, _ in rows}
    for line in lines:
        row = json.loads(line)
        got[row["rid"]] = row["body"]
    return got


def _words(text: str) -> set[str]:
    return {w.strip(".,'()").casefold() for w in text.split()}


# -- F3: a common full name the engine did not take is held back, never published -----------


@pytest.mark.parametrize(
    "text",
    [
        "Hi it's Jan de Vries, the sync fails.",
        "Regards, Jan de Vries",
        "The ticket was opened by ANNA KOWALSKA.",
    ],
)
def test_a_full_name_the_engine_missed_is_held_back(tmp_path: Path, text: str) -> None:
    got = _publish(tmp_path, [("r0", "t0", text), ("r1", "t1", "The export times out.")])
    assert got["r0"] is None  # held back, not published verbatim
    assert got["r1"] == "The export times out."
    review = (tmp_path / "out" / "in" / REVIEW_FILE).read_text(encoding="utf-8")
    held = [json.loads(line) for line in review.splitlines() if "held_back" in line]
    assert [h["input_row"] for h in held] == [1]


def test_a_capitalised_run_without_a_listed_name_is_published(tmp_path: Path) -> None:
    got = _publish(tmp_path, [("r0", "t0", "The Export Button fails on Monday Morning.")])
    assert got["r0"] == "The Export Button fails on Monday Morning."


# -- F5: every part of a name is replaced --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("'Karl Hale wrote'", {"karl", "hale"}),
        ("O'Neil, Shaun called", {"o'neil", "shaun"}),
        ("Per Olof Åkesson sent the file", {"per", "olof", "åkesson"}),
        ("Yuki Tanaka (田中 由紀) called", {"yuki", "tanaka", "田中", "由紀"}),
    ],
)
def test_no_part_of_a_name_stays_beside_its_surrogate(
    tmp_path: Path, text: str, parts: set[str]
) -> None:
    got = _publish(tmp_path, [("r0", "t0", text)])
    published = got["r0"]
    assert published is not None and published != text
    assert not _words(published) & parts, published


def test_initials_and_surname_first_forms_are_replaced_whole(tmp_path: Path) -> None:
    got = _publish(
        tmp_path,
        [
            ("r0", "c", "Hi, Michelle Vandenbergh here about the export."),
            ("r1", "c", "Forwarded by M. Vandenbergh and Michelle V."),
            ("r2", "c", "Vandenbergh, Michelle wrote: the export fails"),
        ],
    )
    full = got["r0"]
    assert full is not None
    given, family = full.split(",")[1].split()[0], full.split(",")[1].split()[1]
    assert got["r1"] == f"Forwarded by {given[0]}. {family} and {given} {family[0]}."
    assert got["r2"] == f"{family}, {given} wrote: the export fails"
    for text in got.values():
        assert text is not None and "Vandenbergh" not in text and "Michelle" not in text


def test_verify_flags_a_part_of_an_original_name_beside_a_surrogate(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"rid": "r0", "body": "Karl Hale wrote again."}) + "\n")
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, keep=["rid"])
    published = result.file.read_text(encoding="utf-8")
    surrogate = " ".join(json.loads(published)["body"].split()[:2])
    assert verify_published(result.folder, source=source, keys=KEY).ok
    # the attack: the real given name put back beside the surrogate (as "Karl Neola" was
    # published for "Karl Hale"), the review file's position moved with it
    forged = published.replace(surrogate, "Karl " + surrogate)
    review = result.folder / REVIEW_FILE
    entries = [json.loads(line) for line in review.read_text(encoding="utf-8").splitlines()]
    for entry in entries:
        entry["start"], entry["end"] = entry["start"] + 5, entry["end"] + 5
    _rewrite(result.folder, review, "".join(json.dumps(e) + "\n" for e in entries))
    _rewrite(result.folder, result.file, forged)
    findings = verify_published(result.folder, source=source).findings  # no key: no MAC
    assert any("part of an original name" in str(f) for f in findings), findings


def _rewrite(folder: Path, file: Path, text: str) -> None:
    """Write a published file again with its checksum (a reviewer's tampering test)."""
    from dsar.io import sha256_file

    file.write_text(text, encoding="utf-8")
    manifest_path = folder / "manifest.json"
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    for out in manifest["outputs"]:
        if out["path"] == file.name:
            out["sha256"], out["bytes"] = sha256_file(file), file.stat().st_size
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


# -- F8: one person, one surrogate, of their culture ----------------------------------------


def test_one_person_one_surrogate_in_any_order_case_or_accents(tmp_path: Path) -> None:
    got = _publish(
        tmp_path,
        [
            ("r0", "b", "Michelle Vandenbergh will call tomorrow"),
            ("r1", "c", "Vandenbergh, Michelle wrote: the export fails"),
            ("r2", "l", "Constantin Nägele set it up"),
            ("r3", "m", "Constantin Nagele set it up too"),
            ("r4", "n", "Please cc MICHELLE VANDENBERGH on this."),
        ],
    )
    r0, r1, r2, r3, r4 = (got[f"r{i}"] or "" for i in range(5))
    given, family = r0.split()[:2]
    assert r1.startswith(f"{family}, {given} ")
    assert f"{given} {family}".upper() in r4
    assert r2.split()[:2] == r3.split()[:2]
    manifest = json.loads((tmp_path / "out" / "in" / "manifest.json").read_text())
    assert manifest["people"] == 2


def test_the_people_count_counts_persons_not_forms() -> None:
    s = Surrogates(KEY)
    for tokens in [("Anna", "Kowalska"), ("Kowalska", "Anna"), ("ANNA", "KOWALSKA"), ("Anna",)]:
        s.person(tokens, "en")
    s.person(("Chris",), "en")
    assert s.people == 2  # Anna Kowalska (in three forms and alone), Chris


@pytest.mark.parametrize(
    ("tokens", "locale"),
    [
        (("Yuki", "Tanaka"), "ja_JP_latin"),
        (("Mohammed", "bin", "Salman", "Al-Saud"), "fr_DZ"),
        (("Ahmed", "Al-Farsi"), "fr_DZ"),
    ],
)
def test_romanised_names_keep_their_culture(tokens: tuple[str, ...], locale: str) -> None:
    assert locale_for(tokens, "en").code == locale
    name = Surrogates(KEY).person(tokens, "en")
    assert all(part.isascii() or not part.isalpha() for part in name.parts)
    assert not {p.casefold() for p in name.parts} & {t.casefold() for t in tokens}
