"""Names in the shapes support text has: chat lines, forms, lists, titles and sign-offs in
other languages, wrapped lines, and the traps beside them (bots, products, teams, places)."""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine
from dsar.text.nlp import DEFAULT_MODEL, model_available

pytestmark = pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model")


@pytest.fixture(scope="module")
def engine() -> TextEngine:
    return TextEngine()


def _names(engine: TextEngine, text: str) -> list[str]:
    return [text[s.start : s.end] for s in engine.analyze([text])[0] if s.entity == "PERSON"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[09:15] Oluwaseun: the card on file is 4425", ["Oluwaseun"]),
        ("Name: Ayşe Demir / Phone: +90 212 555 0187", ["Ayşe Demir"]),
        ("NHS no: 614 053 2353 / Surname: Ahmed / Forename: Rukhsana", ["Ahmed", "Rukhsana"]),
        ("Incident lead: Ngo Thanh Tung.", ["Ngo Thanh Tung"]),
        ("Volunteers for Saturday: Fiona, Declan, Aisling and Cian. Thanks all!", None),
        ("Cordialement,\nAmélie Rousseau", ["Amélie Rousseau"]),
        ("Chamada com a Sra. Luana Oliveira: pediu", ["Luana Oliveira"]),
        ("opened by Ngozi Okafor. Priya Raman approved it.", ["Ngozi Okafor", "Priya Raman"]),
        ("Rev. Jane Okafor called about the refund", ["Jane Okafor"]),
        ("Called Siobhán Kelly on +353 87 123 4567", ["Siobhán Kelly"]),
    ],
)
def test_names_in_their_shapes(engine: TextEngine, text: str, names: list[str] | None) -> None:
    found = _names(engine, text)
    if names is None:  # a list: every first name of it
        names = ["Fiona", "Declan", "Aisling", "Cian"]
    for name in names:
        assert any(name in f for f in found), (name, found)


def test_a_wrapped_line_does_not_leave_the_surname_out(engine: TextEngine) -> None:
    found = _names(engine, "Please call Oluwaseun\nAdeyemi tomorrow about the invoice.")
    assert any("Adeyemi" in f for f in found), found


@pytest.mark.parametrize(
    "text",
    [
        "[10:00] Jenkins: build #4412 failed on main",
        "[10:01] Dependabot: bumped urllib3",
        "Company name: Contoso Pharmaceuticals",
        "Company  name: Acme",
        "Plan name: Business Plus",
        "Patient: Stable",
        "Requester:\nPriority: High",
        "Job title: Sr. Product Manager",
        "Opened SR: Database Migration",
        "Met vriendelijke groet,\nKlantenservice Team",
        "Shipping to Paris, Lyon and Nice",
    ],
)
def test_things_that_look_like_names_are_not(engine: TextEngine, text: str) -> None:
    found = _names(engine, text)
    assert not [f for f in found if f not in ("Paris", "Lyon")], found  # the model's own
