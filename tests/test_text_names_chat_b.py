"""One-word, lower-case names in chat, and the ordinary words that collide with name lists
(issue 24: a sealed set's misses and false detections were mostly one lower-case word in
chat). Cases written for these rules; none is copied from a sealed set.
"""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine
from dsar.text.lexicon import languages_seen, ordinary_word


@pytest.fixture(scope="module")
def rules() -> TextEngine:
    """The rules alone, without the model."""
    return TextEngine(nlp=None)


def names(engine: TextEngine, text: str) -> list[str]:
    return [text[s.start : s.end] for s in engine.analyze([text], ["PERSON"])[0]]


def test_a_collision_is_ordinary_only_where_its_language_shows() -> None:
    spanish = "se fue la luz en la oficina"
    assert ordinary_word("luz", languages_seen(spanish))
    assert not ordinary_word("luz", languages_seen("thanks luz, merged"))
    assert ordinary_word("ben", languages_seen("ik ben er morgen niet, dank je"))
    assert not ordinary_word("ben", languages_seen("on the call with aisha and ben it is ok"))
    assert not ordinary_word("sam", languages_seen("i think sam has it"))  # "i" is no Polish


@pytest.mark.parametrize(
    "text",
    [
        "vamos al mar este finde, si hace sol",
        "hola, hoy no hay luz en la oficina\nsaludos\nmar",
        "ik ben er morgen niet, dank je",
        "jag bor nära kontoret, kan komma in tidigt",
        "ssh in as root and restart postgres, then check jenkins",
        "@admin @root @postgres @dev please rotate the keys",
        "- todo: fix login\n- hope: ship by friday\n- mark: done",
        "thanks mate\ncheers buddy",
        "lunch?\nsure\nmay",
        "doctor who fans? nurse shark lol",
        "[10:01] Sam: ok\n[10:03] Ana: pan con tomate for lunch?",
        "see you at standup",
        "good catch, fixed",
        "morning paris flight is delayed again",
        "deployed to prod, alpha",
        "can you cherry pick that commit, the stack trace says skip it",
        "[10:01] Will: deploying now\n[10:03] Sam: will check the logs",
    ],
)
def test_ordinary_words_in_chat_are_no_names(rules: TextEngine, text: str) -> None:
    found = names(rules, text)
    assert all(not f.islower() for f in found), found  # the speakers only, capitalised


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hey ana, can you check ticket 4411", ["ana"]),
        ("@tom can you look at the failing build", ["tom"]),
        ("thanks mark! that was quick", ["mark"]),
        ("hi grant,\ncan you resend the invoice for march?", ["grant"]),
        ("i told the vendor we'd sue, grant said no", ["grant"]),
        ("summer is covering the desk over the holidays", ["summer"]),
        ("spoke to dr hussain this morning", ["hussain"]),
        ("good catch arjun, merging now", ["arjun"]),
        ("omg nice work sunita", ["sunita"]),
        ("thanks again niamh! owe you a coffee", ["niamh"]),
        ("morning rahul! did the deploy go out?", ["rahul"]),
        ("yo kofi, you around?", ["kofi"]),
        ("danke an moritz für die schnelle hilfe", ["moritz"]),
        ("gracias a lucía por revisar todo", ["lucía"]),
        ("thanks for covering, oliwia", ["oliwia"]),
        ("if you see mehmet tell him the vpn is fixed", ["mehmet"]),
        ("ugh i owe zainab a coffee", ["zainab"]),
        ("pinging valentina again, no response", ["valentina"]),
        ("thanks both, ali and mei, for the help", ["ali", "mei"]),
    ],
)
def test_lower_case_given_names_in_chat_are_found(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


def test_a_speaker_named_by_a_word_is_named_again_when_addressed(rules: TextEngine) -> None:
    text = "[10:01] Will: deploying now\n[10:03] Sam: thx will"
    assert names(rules, text) == ["Will", "Sam", "will"]
