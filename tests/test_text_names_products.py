"""A one-word name that only the model or a cue vouched for, that no name list holds, and
that is shaped as a program's or a service's name (a program's ending, two English words run
together, camel case) is no name (issue 24: product names were over-redacted)."""

from __future__ import annotations

import pytest

from dsar.text import lexicon
from dsar.text.detectors import PERSON, Span
from dsar.text.names import _product_name

needs_wordfreq = pytest.mark.skipif(
    not lexicon.frequencies_available(), reason="wordfreq is not installed"
)


def _product(text: str, word: str, source: str = "ner", score: float = 0.85) -> bool:
    start = text.index(word)
    return _product_name(text, Span(start, start + len(word), PERSON, score, source))


@needs_wordfreq
@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("yes, and Helmfile too, Renovate opened a PR", "Helmfile"),
        ("Ask Metabase support why the dashboard is empty.", "Metabase"),
        ("Restart Mattermost after the change.", "Mattermost"),
        ("Route it through Tailscale and Nextcloud.", "Nextcloud"),
        ("Export to BigQuery nightly.", "BigQuery"),
    ],
)
def test_a_product_shaped_word_is_no_name(text: str, word: str) -> None:
    assert _product(text, word)


@needs_wordfreq
@pytest.mark.parametrize(
    ("text", "word", "source", "score"),
    [
        ("Ask McAllister about it.", "McAllister", "ner", 0.85),  # a name's prefix
        ("Lestrade called again.", "Lestrade", "names", 0.7),  # not two English words
        ("Anahit fixed it.", "Anahit", "names", 0.7),
        ("From: Bolormaa", "Bolormaa", "shape", 0.7),  # the structure found it
        ("Dr Helmfile called.", "Helmfile", "names", 0.95),  # a sure name stays
    ],
)
def test_names_stay(text: str, word: str, source: str, score: float) -> None:
    assert not _product(text, word, source, score)
