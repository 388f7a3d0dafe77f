"""Lower-case first names in chat transcripts whose speakers are capitalised: the text as a
whole is not in lower case, its messages are.

Cases written for these rules (issue 24: lower-case single first names inside chat messages,
after "via" and "w/", as the addressee of a message); none is copied from a sealed set.
"""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine


@pytest.fixture(scope="module")
def rules() -> TextEngine:
    """The rules alone, without the model."""
    return TextEngine(nlp=None)


def names(engine: TextEngine, text: str) -> list[str]:
    return sorted(text[s.start : s.end] for s in engine.analyze([text], ["PERSON"])[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the addressee who opens a message, after an interjection too
        (
            "[11:00] Carmen: dario can you take ticket 4471?\n[11:02] Ines: i can if not",
            ["Carmen", "Ines", "dario"],
        ),
        (
            "[09:47] Kasia: sprawdzę z kurierem\n[09:52] Kasia: ok, wojtek, paczka jest w magazynie",
            ["Kasia", "Kasia", "wojtek"],
        ),
        # a message in lower case is read as a note in lower case is
        (
            "[09:00] Grace: standup in 5\n[09:03] Grace: ok, emeka is presenting first anyway",
            ["Grace", "Grace", "emeka"],
        ),
        ("[18:05] Elif: via hamid or direct?\n[18:06] Noor: direct", ["Elif", "Noor", "hamid"]),
        (
            "Thandiwe Dlamini  4:46 PM\nthe client wants a call w/ priya from finance\n"
            "Pieter Botha  4:47 PM\nok",
            ["Pieter Botha", "Thandiwe Dlamini", "priya"],
        ),
        # cues and verbs of a lower-case message: "did", "waiting on", "let", a possessive,
        # "+" between two names, "on leave"
        (
            "[09:10] Tobias: did tunde push the fix?\n[09:12] Amara: not yet",
            ["Amara", "Tobias", "tunde"],
        ),
        (
            "[13:40] Sophie: waiting on marco for the numbers\n[13:41] Dev: marco's out today",
            ["Dev", "Sophie", "marco", "marco"],
        ),
        (
            "[11:32] Claire: great, i'll let sandra know\n[11:33] Malik: ok",
            ["Claire", "Malik", "sandra"],
        ),
        (
            "[10:15] Femi: thanks both, ravi + meg sorted it\n[10:16] Kemi: np",
            ["Femi", "Kemi", "meg", "ravi"],
        ),
        (
            "[09:09] Aoife: standup notes: niamh on leave, see the queue\n[09:10] Seán: ta",
            ["Aoife", "Seán", "niamh"],
        ),
        # a Teams export's speakers ("[3/14 10:02] Surname, Given:"), a name after "is"
        (
            "[3/14 10:02] Lindqvist, Erik: the audit is tomorrow\n"
            "[3/14 10:05] Berg, Sofia: ok, i'll prep the folder with henrik",
            ["Berg, Sofia", "Lindqvist, Erik", "henrik"],
        ),
        (
            "[13:13] Tomi: is joanna still on the billing project?\n[13:14] Uche: no",
            ["Tomi", "Uche", "joanna"],
        ),
        # a given name with accents the lists hold without them
        (
            "[09:09] Aoife: standup notes: ciarán on leave\n[09:10] Seán: ta",
            ["Aoife", "Seán", "ciarán"],
        ),
    ],
)
def test_lower_case_first_names_in_chat_messages(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # names that are words, and interjections that are names elsewhere, stay words
        (
            "[10:30] Jack: grace period ends friday, can you check\n[10:31] Ellen: ok",
            ["Ellen", "Jack"],
        ),
        ("[10:00] Ana: sure, will do\n[10:01] Leo: thanks", ["Ana", "Leo"]),
        # a given name that names a country, after "to": the country
        ("[17:00] Femi: the customer moved to kenya last year\n[17:02] Leo: ok", ["Femi", "Leo"]),
        ("[19:22] Emre: tamam, onaylıyorum\n[19:23] Ayşe: ok", ["Ayşe", "Emre"]),  # noqa: RUF001
    ],
)
def test_words_in_chat_messages_stay_words(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[10:12] Tendai: thanks, I'll follow up tomorrow",
        "[10:10] Tendai: I've sent the quote to the client",
        "[10:10] Tendai: ok, I\u2019d rather wait",
    ],
)
def test_the_pronoun_i_with_a_contraction_is_no_name(rules: TextEngine, text: str) -> None:
    assert names(rules, text) == ["Tendai"]
