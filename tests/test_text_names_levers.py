"""Issue 24's levers for names on text nobody tuned for: given names Faker's lists lack,
other languages' greetings, titles and sign-offs, and the words that are no names (products,
software, companies, names used as words). Cases written for these rules; none is copied
from a sealed set.
"""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine
from dsar.text.lexicon import is_english_word, name_lexicon
from dsar.text.nlp import DEFAULT_MODEL, model_available


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Groetjes,\nSanne", ["Sanne"]),
        ("Un abrazo,\nMaite", ["Maite"]),
        ("Un saluto,\nMatteo", ["Matteo"]),
        ("Bisous,\nMargaux", ["Margaux"]),
        ("Lieben Gruß,\nKlaus-Dieter", ["Klaus-Dieter"]),
        ("Geachte Mevr. de Wit, uw klacht is in behandeling.", ["de Wit"]),
        ("Geachte heer Van den Bergh, uw bestelling is verzonden.", ["Van den Bergh"]),
        ("Met vriendelijke groet,\nFloor Hendriksen", ["Floor Hendriksen"]),
        ("pls loop in xiaoling from the shanghai team", ["xiaoling"]),
        ("not me, maybe ask jun-seo", ["jun-seo"]),
    ],
)
def test_other_languages_sign_offs_and_titles(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Lieben Gruß,\nIhr Kundenservice",  # a sign-off's words are no name
        "Geachte heer,\nuw bestelling is verzonden.",
        "Subject: Floor Plan",  # a label that is a given name, no surname after it
        "Sr. Product Manager wanted",
        "De Zending van Philips is onderweg.",
    ],
)
def test_sign_offs_and_titles_alone_are_no_names(rules: TextEngine, text: str) -> None:
    assert names(rules, text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Our Ruby on Rails app talks to Django and Flask via Celery and Redis.",
        "Apache Kafka, Grafana and Kibana dashboards are down since Monday.",
        "Grant access to the Jenkins server in Jordan and restart Grafana.",
        "We use Hope Health and Lincoln Financial; the Victoria office closed in June.",
        "Bonjour,\nmerci pour votre commande chez Maison Dupont.",
        "Beste klant,\nuw pakket van Albert Heijn is onderweg.",
        "please mark the ticket as resolved and grant read access to the auditors",
    ],
)
def test_software_companies_places_and_words_are_no_names(rules: TextEngine, text: str) -> None:
    assert names(rules, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Franz Kafka wrote back about the refund.", ["Franz Kafka"]),
        ("Jordan and Sam will cover the night shift.", ["Jordan", "Sam"]),
        ("i'll ask grant to read the contract", ["grant"]),
    ],
)
def test_names_beside_those_words_stay_names(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model installed")
@pytest.mark.parametrize(
    "text",
    [
        "Our Ruby on Rails app talks to Django and Flask via Celery and Redis.",
        "Apache Kafka, Grafana and Kibana dashboards are down since Monday.",
    ],
)
def test_software_the_model_calls_people_is_no_name(text: str) -> None:
    assert names(TextEngine(), text) == []
