"""What support mail puts where names go and is none: a team under a sign-off, a field's
label or value, a header to everyone, a sentence's adverb, a greeting on its own line.

Cases written for these rules (issue 24: false names in email at a line's or a sentence's
start and after a colon); none is copied from a sealed set.
"""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine
from dsar.text.nlp import DEFAULT_MODEL, model_available

ner = pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model installed")


@pytest.fixture(scope="module")
def rules() -> TextEngine:
    """The rules alone, without the model."""
    return TextEngine(nlp=None)


@pytest.fixture(scope="module")
def model() -> TextEngine:
    return TextEngine()


def names(engine: TextEngine, text: str) -> list[str]:
    return [text[s.start : s.end] for s in engine.analyze([text], ["PERSON"])[0]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a word or a team under a closing, and the closing's own second word
        ("Your order shipped.\nCheers,\nOnboarding", []),
        ("Tack för din beställning!\nMed vänlig hälsning\nKundtjänst", []),
        ("Obrigado pelo contato.\nAtenciosamente,\nEquipe Loja Verde", []),
        ("Please confirm receipt.\nYours Faithfully,\nOkonkwo Holdings Ltd", []),
        # a header to everyone
        ("From: Helpdesk <help@acme.example>\nTo: All Staff\nSubject: Maintenance", []),
        # the company a person is named in, after the person
        (
            "Name: Santiago Herrera\nCompany: Herrera Logística\nMessage: Hola",
            ["Santiago Herrera"],
        ),
    ],
)
def test_structure_takes_no_team_header_or_company_for_a_name(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@ner
@pytest.mark.parametrize(
    "text",
    [
        "Thanks for your patience.\nRegards,\nCustomer Success",
        "Sehr geehrte Damen und Herren,\nLeider ist die Lieferung beschädigt angekommen.",
        "Area: Mobile App\nSummary: Dark Mode toggle resets after restart",
        "Known Issues: Chrome Autofill still misbehaves.",
        "Hi,\nSecurity Check: pending\nFraud Review: manual",
        "Hola,\nAtención Al Cliente: 900 123 456.\nSaludos,\nTienda Sol",
        # products, and a sentence's first word before a person's verb
        "Thanks for trying Zendesk Suite. Your import finished.",
        "Merci de résilier mon abonnement Orange Pro.",
        "Summary: Login loop on Safari\nBrowser: Safari 17",
        "Subject: Welcome to Notion\nHey,\nCreate your first page.",
        "Issue: Battery swells. Replacement requested by the customer.",
    ],
)
def test_teams_adverbs_labels_and_field_values_are_no_names(model: TextEngine, text: str) -> None:
    assert names(model, text) == []


@ner
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks,\nDelphine", ["Delphine"]),
        ("Hi,\nMaria Lopez will call you tomorrow.", ["Maria Lopez"]),
        ("Customer Olamide Adeyemi called about a failed card payment.", ["Olamide Adeyemi"]),
        ("Hi Marguerite,\nAttached: the signed contract.", ["Marguerite"]),
    ],
)
def test_names_beside_those_traps_stay(model: TextEngine, text: str, expected: list[str]) -> None:
    assert names(model, text) == expected
