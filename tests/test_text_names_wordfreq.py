"""Word frequencies (wordfreq's lists) decide whether a token reads as a word or a name."""

from __future__ import annotations

import pytest

from dsar.text import lexicon
from dsar.text.names import NameFinder

needs_wordfreq = pytest.mark.skipif(
    not lexicon.frequencies_available(), reason="wordfreq is not installed"
)


def _names(text: str) -> list[str]:
    return [text[s.start : s.end] for s in NameFinder(None).find([text])[0]]


@needs_wordfreq
def test_frequencies_are_read_per_language() -> None:
    assert (lexicon.zipf("the", "en") or 0) > 7
    assert (lexicon.zipf("bitte", "de") or 0) > 5
    assert lexicon.zipf("tanvir", "en") == 0.0  # under the small list's floor
    assert lexicon.zipf("word", "xx") is None  # a language wordfreq lacks


@needs_wordfreq
def test_a_name_list_word_is_rare_as_a_word_only_when_no_language_uses_it() -> None:
    assert lexicon.rare_as_word("priya", "en")
    assert lexicon.rare_as_word("niamh", "en")
    assert not lexicon.rare_as_word("mark", "en")
    assert not lexicon.rare_as_word("mira", "es")  # Spanish "look"
    assert not lexicon.rare_as_word("mei", "en")  # Dutch "May", whatever the guess
    assert not lexicon.rare_as_word("está", "en")  # the name list's "Esta", accents aside
    assert not lexicon.rare_as_word("anh", "en")  # a Vietnamese pronoun


@needs_wordfreq
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("morning rahul! did the deploy go out last night?", "rahul"),
        ("ngl the new dashboard is great, nice one thandiwe", "thandiwe"),
        ("lol the printer on 3 is jammed again, blame kenji", "kenji"),
        ("[14:03] Marek: no idea, maybe wanjiru knows", "wanjiru"),
    ],
)
def test_a_rare_given_name_in_informal_text_needs_no_cue(text: str, name: str) -> None:
    assert name in _names(text)


@pytest.mark.parametrize(
    "text",
    [
        "mira, el pedido llegó roto otra vez, qué hacemos",
        "ok vamos a la playa, hay sol y mar todo el fin de semana",
        "está todo bien, hasta luego",
        "de levering komt pas in mei, sorry voor het wachten",
        "ok will do, mark it as done when the grant paperwork is in",
    ],
)
def test_lower_case_words_of_any_language_stay_words(text: str) -> None:
    assert _names(text) == []


def test_without_wordfreq_the_rules_fall_back_to_the_word_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lexicon, "frequencies_available", lambda: False)
    assert lexicon.rare_as_word("priya", "en") is None
    # no cue, no frequency: today's behaviour leaves the uncued name
    assert "kenji" not in _names("lol the printer on 3 is jammed again, blame kenji")
    assert "priya" in _names("thx priya, that fixed it")  # a cue still finds it


def test_a_missing_package_reads_as_no_frequencies(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert lexicon._frequency_buckets.__wrapped__("en") is None


@needs_wordfreq
@pytest.mark.parametrize(
    ("text", "word", "name"),
    [
        ("Hoi Allemaal, de nieuwe rooster staat online. Groetjes, Femke", "Allemaal", "Femke"),
        ("Cześć Wszystkim! Jutro przerwa od 22:00. Pozdrawiam, Łukasz", "Wszystkim", "Łukasz"),
    ],
)
def test_a_common_word_after_a_greeting_is_nobody(text: str, word: str, name: str) -> None:
    found = _names(text)
    assert word not in found
    assert name in found


@needs_wordfreq
def test_common_words_open_lines_names_stay() -> None:
    assert lexicon.language_guess("Hoi Allemaal, de nieuwe rooster staat online") == "nl"
    assert lexicon.language_guess("Santiago Herrera requests a corrected invoice.") == "en"
    assert lexicon.common_word("Paz", "es", listed=True)  # 5.3 in Spanish, 3.1 in English
    assert not lexicon.common_word("Pierre", "fr", listed=True)  # a name everywhere
    assert "João" in _names("Olá João, obrigado pelo retorno. Abraço, Leonor")
    assert "Paulo" in _names("[15:20] Paulo: alguém viu o relatório?\n[15:22] Beatriz: sim")
