"""Recall on the labelled sets never falls below the recorded figures (tests/text_eval)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsar.text.engine import TextEngine
from dsar.text.evaluation import Labelled, evaluate, read_labelled
from dsar.text.nlp import DEFAULT_MODEL, model_available

ROOT = Path(__file__).parent / "text_eval"
FLOORS = json.loads((ROOT / "floors.json").read_text())


@pytest.fixture(scope="module")
def engine() -> TextEngine:
    return TextEngine()


@pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model installed")
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_recall_stays_at_or_above_the_recorded_figures(engine: TextEngine, name: str) -> None:
    records = read_labelled(ROOT / f"{name}.jsonl")

    def detect(texts: object) -> list[list[tuple[int, int, str]]]:
        return [[(s.start, s.end, s.entity) for s in x] for x in engine.analyze(texts)]

    report = evaluate(records, detect, FLOORS[name])
    below = {
        e: (round(s.recall, 3), FLOORS[name][e])
        for e, s in report.scores.items()
        if round(s.recall, 3) < FLOORS[name][e]
    }
    assert not below, f"recall below the recorded figure (now, recorded): {below}"
    assert all(s.labelled >= 15 for s in report.scores.values())


def test_the_labelled_set_is_what_the_issue_asks() -> None:
    records = read_labelled(ROOT / "labelled.jsonl")
    kinds = {kind for r in records for *_, kind in r.spans}
    assert len(records) >= 300
    assert kinds >= set(FLOORS["labelled"])
    assert sum(not r.spans for r in records) >= 60  # negatives that look like PII


def test_an_entity_counts_only_when_every_mention_is_masked() -> None:
    # "Aoife" twice and "Aoife Byrne" once: the second "Aoife" left in clear leaks Aoife
    text = "Aoife Byrne called. Aoife said hi. Later Aoife wrote again."
    spans = [(0, 11, "PERSON"), (0, 5, "PERSON"), (20, 25, "PERSON"), (41, 46, "PERSON")]
    record = Labelled("t", text, tuple(sorted(spans)))

    def detect(texts: object) -> list[list[tuple[int, int, str]]]:
        return [[(0, 11, "PERSON"), (20, 25, "EMAIL_ADDRESS")]]  # masked as anything hides it

    score = evaluate([record], detect, ["PERSON"]).scores["PERSON"]
    assert (score.labelled, score.found) == (4, 2)  # as PERSON: 0-11 and 0-5
    assert (score.entities, score.protected) == (2, 1)  # Aoife Byrne yes, Aoife no
    assert score.entity_recall == 0.5


def test_over_redaction_is_the_share_of_ordinary_words_covered() -> None:
    record = Labelled("t", "call Ann today please", ((5, 8, "PERSON"),))

    def detect(texts: object) -> list[list[tuple[int, int, str]]]:
        return [[(5, 14, "PERSON")]]  # "Ann today": one ordinary word of three destroyed

    report = evaluate([record], detect, ["PERSON"])
    assert (report.destroyed, report.words) == (1, 3)
    assert abs(report.over_redaction - 1 / 3) < 1e-9
