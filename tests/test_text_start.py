"""The text engine starts light: no model, Presidio, spaCy or pandas until a text needs one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dsar.text.engine import TextEngine, string_array
from dsar.text.nlp import DEFAULT_MODEL, LazyModel, model_available

START = """
import json, sys
from dsar.text.engine import TextEngine
engine = TextEngine()
texts = ["mail ann@example.com", "SSN 536-22-8917, card 4111 1111 1111 1111", "call 020 7946 0958"]
engine.redact(texts)
heavy = ("spacy", "presidio_analyzer", "presidio_anonymizer", "pandas")
model = engine.names.nlp
print(json.dumps({
    "imported": [m for m in heavy if m in sys.modules],
    "model_loaded": model is not None and model.loaded,
}))
"""


def test_an_engine_for_texts_without_names_loads_nothing_heavy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", START], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {"imported": [], "model_loaded": False}


def test_the_model_loads_on_the_first_text_that_needs_it() -> None:
    model = LazyModel(DEFAULT_MODEL)
    assert list(model.pipe([])) == [] and list(model.pipe({})) == []
    assert not model.loaded


def test_an_engine_given_no_model_has_none() -> None:
    assert TextEngine(nlp=None).names.nlp is None


def test_string_arrays_are_built_from_their_buffers() -> None:
    cases: list[list[str | None]] = [[], ["a", None, "ü€😀", ""], [None] * 9 + ["x"], ["x"] * 17]
    for values in cases:
        array = string_array(values)
        array.validate(full=True)
        assert array.to_pylist() == values and array.null_count == values.count(None)


@pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model installed")
def test_the_model_loads_alone_without_presidio() -> None:
    # presidio-analyzer registers a spaCy factory entry point: building any pipeline would
    # import Presidio's analyzer (1.3 s) unless the engine builds it without entry points
    code = (
        "import json, sys\n"
        "from dsar.text.nlp import load_ner\n"
        f"nlp = load_ner({DEFAULT_MODEL!r})\n"
        "print(json.dumps({'pipes': nlp.pipe_names, 'presidio': 'presidio_analyzer' in sys.modules}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {"pipes": ["ner"], "presidio": False}
