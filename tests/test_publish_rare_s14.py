"""Red team s14 F7: rare terms are counted per person, not per text. One person who writes
the same rare term (their small company, their village) in many tickets is still one person:
the term is listed for a reviewer in every text, where counting texts made it look common."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anonymize.publish import run_publish
from dsar import Keys
from dsar.review.published import RARE_TERM, REVIEW_FILE, verify_published

KEY = Keys(b"r" * 32)
TERM = "Kettlewick"  # one requester's small workshop


def _source(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _rare_terms(result: Any) -> dict[str, list[str]]:
    """Per rid, the published text at each rare term the review file lists."""
    rows = [json.loads(line) for line in result.file.read_text(encoding="utf-8").splitlines()]
    out: dict[str, list[str]] = {}
    for line in (result.folder / REVIEW_FILE).read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == RARE_TERM:
            row = rows[entry["row"] - 1]
            out.setdefault(row["rid"], []).append(row["body"][entry["start"] : entry["end"]])
    return out


def _one_writer_many_texts(writers: int) -> list[dict[str, str]]:
    """20 tickets naming the term, written by `writers` people in turn, and some others."""
    rows = [
        {
            "rid": f"r{i}",
            "ticket": f"T{i}",
            "user_id": f"u{i % writers}",
            "body": f"Order {i} for the {TERM} workshop did not arrive.",
        }
        for i in range(20)
    ]
    rows += [
        {"rid": f"x{i}", "ticket": f"X{i}", "user_id": f"v{i}", "body": "The export times out."}
        for i in range(5)
    ]
    return rows


@pytest.mark.parametrize(
    ("options", "counted_by"),
    [({"thread": "user_id"}, "thread"), ({"thread": "ticket", "person": "user_id"}, "person")],
)
def test_one_person_writing_a_rare_term_in_twenty_texts_is_one_person(
    tmp_path: Path, options: dict[str, Any], counted_by: str
) -> None:
    source = _source(tmp_path, _one_writer_many_texts(1))
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, keep=["rid"], **options)
    rare = _rare_terms(result)
    assert {f"r{i}" for i in range(20)} <= set(rare)  # listed in every one of their texts
    assert all(got == [TERM] for rid, got in rare.items() if rid.startswith("r"))
    assert result.manifest.rare_terms >= 20
    assert result.manifest.rare_counted_by == counted_by
    published = result.file.read_text(encoding="utf-8")
    assert '"user_id"' not in published or counted_by == "thread"  # a person column is dropped
    assert verify_published(result.folder, keys=KEY).ok


def test_a_term_used_by_enough_people_is_not_rare(tmp_path: Path) -> None:
    source = _source(tmp_path, _one_writer_many_texts(3))
    result = run_publish(
        source, "body", tmp_path / "out", keys=KEY, thread="ticket", person="user_id", keep=["rid"]
    )
    assert TERM not in {t for got in _rare_terms(result).values() for t in got}


def test_without_a_person_or_thread_each_text_is_its_writer(tmp_path: Path) -> None:
    source = _source(tmp_path, _one_writer_many_texts(1))
    result = run_publish(source, "body", tmp_path / "out", keys=KEY, keep=["rid"])
    assert result.manifest.rare_counted_by == "text"
    assert TERM not in {t for got in _rare_terms(result).values() for t in got}
