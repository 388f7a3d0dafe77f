"""Issue 24's levers for names on text nobody tuned for: given names Faker's lists lack,
other languages' greetings, titles and sign-offs, and the words that are no names (products,
software, companies, names used as words). Cases written for these rules; none is copied
from a sealed set.
"""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine
from dsar.text.lexicon import is_english_word, name_lexicon


@pytest.fixture(scope="module")
def rules() -> TextEngine:
    """The rules alone, without the model."""
    return TextEngine(nlp=None)


def names(engine: TextEngine, text: str) -> list[str]:
    return [text[s.start : s.end] for s in engine.analyze([text], ["PERSON"])[0]]


@pytest.mark.parametrize(
    "name",
    ["Olumide", "Chidinma", "Sipho", "Lerato", "Tendai", "Wanjiru", "Aminata", "Seo-yeon",
     "Xiaoling", "Priyanka", "Keoni", "Thabo", "Ikechukwu", "Anand"],
)  # fmt: skip
def test_given_names_faker_lacks_are_known(name: str) -> None:
    assert name in name_lexicon()[0]


@pytest.mark.parametrize("surname", ["Dlamini", "Okwuosa", "Kwon", "Nakamura", "Hossain"])
def test_surnames_faker_lacks_are_known(surname: str) -> None:
    assert surname in name_lexicon()[1]


def test_the_added_names_hold_no_short_or_english_word() -> None:
    from dsar.text.lexicon import _MORE_GIVEN, _MORE_SURNAMES

    added = (_MORE_GIVEN + _MORE_SURNAMES).split()
    assert all(len(w) > 3 or "-" in w for w in _MORE_GIVEN.split())
    assert not [w for w in added if is_english_word(w.casefold())]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("talked to fatou yesterday, she agreed to move the call", ["fatou"]),
        ("sipho: deploy done\nlerato: nice, thx sipho", ["sipho", "lerato", "sipho"]),
        ("ask ikechukwu, he wrote the parser", ["ikechukwu"]),
        ("i'll tell anand to close the ticket", ["anand"]),
    ],
)
def test_lower_case_names_from_the_added_lists(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the long list of keys is in the vault, see the son process",
        "ok so the thing is covering for the old cron until friday",
    ],
)
def test_lower_case_words_stay_words(rules: TextEngine, text: str) -> None:
    assert names(rules, text) == []
