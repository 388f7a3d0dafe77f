"""The text engine's structural finders on any text: never an exception, every span inside
the text.

A mail header whose display name has an address or a quote inside it ("Anna <a@x.org>
Keller", `Anna "Lee"`) made the header finder look for the cleaned name in the text and raise
ValueError: one such line stopped a whole bundle, extract or evaluation run.
"""

from __future__ import annotations

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dsar.text.shapes import structural

_PARTS = st.sampled_from(
    [
        "Anna", "Keller", "Lindqvist, Erik", "O'Neil", "van der Berg", "José", "Łukasz",
        "<anna@example.org>", "anna@example.org", "(mailto:x@example.org)", "[ext]", '"',
        "'", ",", ";", " ", "  ", "\t", "Team", "Support", "Dr.", "Ó Súilleabháin",
    ]
)  # fmt: skip
_KEYS = st.sampled_from(["From", "To", "Cc", "Von", "An", "De", "Organizer", "Attendees"])


@pytest.mark.parametrize(
    "text",
    [
        'From: Anna "Lee" <anna@example.org>',
        "To: Maria <maria@example.org> Keller",
        'Cc: "Keller, Maria" <m@example.org>; Erik <e@example.org> Lindqvist',
        'ATTENDEE;CN="Anna <a@example.org> Lee":mailto:a@example.org',
    ],
)
def test_a_header_with_an_address_inside_the_name(text: str) -> None:
    spans = structural(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=_KEYS,
    parts=st.lists(_PARTS, min_size=1, max_size=12),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_structural_finders_on_any_header(
    key: str, parts: list[str], before: str, after: str
) -> None:
    text = f"{before}\n{key}: {''.join(parts)}\n{after}"
    spans = structural(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200))
def test_structural_finders_on_any_text(text: str) -> None:
    spans = structural(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
