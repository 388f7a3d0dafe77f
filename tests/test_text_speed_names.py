# ruff: noqa: RUF001 - letters whose case folding the shortcuts depend on
"""The name rules' shortcuts find what the long way finds (issue 24, point 5).

Each shortcut in `dsar.text.names`, `mentions` and `lexicon` skips work a text cannot need
or does it once; each test runs the long way beside it, on texts built to reach the
shortcut's edges, and asks for the same answer.
"""

from __future__ import annotations

import random

import regex

from dsar.text import lexicon, mentions, names
from dsar.text.detectors import PERSON, Span

PIECES = [
    *(" ", "  ", "\n", " \n ", ",", ".", ":", "=", "-", ";", "(", "'", "_", "1", "x", "X"),
    *("\u00a0", "\u2003", "\x1c", "\x1f", "\t", "\r\n", "é", "ẞ", "ß", "İ", "ı", "ſ", "K"),
    *("Hi", "HELLO", "THANKS", "thank you", "Thank  you", "mit freundlichen grüßen", "CAR"),
    *("Name", "name:", "Full Name =", "Company name:", "cc", "per", "Dr.", "o'neill", "dm'd"),
]


def _texts(n: int, seed: int, pieces: list[str] = PIECES) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choices(pieces, k=rnd.randint(1, 7))) for _ in range(n)]


def test_the_cue_read_backwards_is_the_cue_searched_forwards() -> None:
    rnd = random.Random(1)
    cues = [regex.sub(r"\[(\w)\w*\]", r"\1", c) for c in names._STRONG_CUES.split("|")]
    cues += [c.upper() for c in cues[:60]] + [c.title() for c in cues[60:120]]
    texts = _texts(40_000, 2, PIECES + cues)
    texts += [rnd.choice(cues) + rnd.choice(["", " ", ",", " :\n", ". ", "x"]) for _ in range(4000)]
    found = 0
    for text in texts:
        expected = names._CUE_BEFORE.search(text) is not None
        assert names._cue_before(text) == expected, text
        found += expected
    assert 5000 < found < len(texts) - 5000  # both answers are reached often


def test_splitting_with_str_split_is_splitting_at_regex_whitespace() -> None:
    # the only whitespace of str.split that \s is not: the information separators
    differ = {
        chr(c) for c in range(0x110000) if chr(c).isspace() != bool(regex.match(r"\s", chr(c)))
    }
    assert differ == set(names._NOT_REGEX_SPACE)
    for text in _texts(20_000, 3):
        assert names._split(text) == [w for w in names._WORD_SPLIT.split(text) if w], text
        if text[:1].isspace():
            continue  # a candidate never starts with a space
        expected = names._WORD_SPLIT.split(text, maxsplit=1)
        got = names._split(text, maxsplit=1)
        assert got[0] == expected[0]
        assert (got[1] if len(got) > 1 else "") == (expected[1] if len(expected) > 1 else "")


def test_a_field_label_the_prefilter_skips_is_none() -> None:
    """`_facts` searches `_LABEL_BEFORE` only before a colon or an equals sign."""
    matched = 0
    for text in _texts(30_000, 4):
        if names._LABEL_BEFORE.search(text):
            matched += 1
            assert text.rstrip()[-1:] in (":", "="), text
    assert matched > 300


def test_a_sentence_end_needs_a_full_stop() -> None:
    for text in _texts(20_000, 5):
        if names._SENTENCE_WORD.search(text):
            assert "." in text


def test_the_languages_kept_for_the_last_texts_are_those_guessed_again() -> None:
    texts = _texts(3000, 6, [*PIECES, "der", "die", "und", "het", "een", "merci", "nous"])
    texts += ["Bitte senden Sie die Rechnung an Frau Keller und den Vertrieb."] * 3
    for text in texts:
        assert lexicon.language_of(text) == lexicon.language_of.__wrapped__(text)
        if lexicon.frequencies_available():
            expected = lexicon._frequent_language.__wrapped__(text)
            assert lexicon._frequent_language(text) == expected


def test_a_text_s_language_is_guessed_once_however_many_names_it_vets() -> None:
    lexicon.language_of.cache_clear()
    text = (
        "Hallo Jürgen, bitte rufen Sie Frau Keller an. Die Lieferung von Herrn Schmidt ist"
        " da, und Anna Weber hat die Rechnung. Grüße, Katrin Vogel"
    )
    firsts, lasts = names.name_lexicon()
    spans = list(names.candidates(text))
    assert len(spans) >= 4
    found = [Span(c.start, c.end, PERSON, 0.7, "names") for c in spans]
    mentions.vetoed(text, found, firsts, lasts)
    info = lexicon.language_of.cache_info()
    assert info.misses == 1


def _beside_name_long_way(before: str, after: str) -> bool:
    if names._CONTACT_BEFORE.search(before) or names._PARTICLE_AFTER.match(after):
        return True
    word = names._WORD_BEFORE.search(before)
    return word is not None and word.group(1).isupper() and lexicon.is_name_word(word.group(1))


def test_a_name_s_word_before_found_without_the_search_where_it_cannot_be() -> None:
    """`_beside_name` skips the search for a capitalised word before the run when the text
    before ends in a small letter."""
    pieces = [*PIECES, "KIM ", "Kim ", "kim ", "LEE\n", "O'BRIEN ", "ÉMILE ", "Σ ", "ß "]
    befores = _texts(30_000, 7, pieces)
    capitals = 0
    for before in befores:
        assert names._beside_name(before, "") == _beside_name_long_way(before, ""), before
        capitals += _beside_name_long_way(before, "")
    assert capitals > 500


def test_the_words_kept_per_text_and_per_word_are_those_computed_again() -> None:
    for text in _texts(3000, 8):
        assert lexicon._tokens(text) == tuple(lexicon._TOKEN.findall(text))
        for word in text.split():
            low = word.lower()
            assert lexicon.is_english_word(low) == lexicon.is_english_word.__wrapped__(low)
            bare = mentions._without_accents(word)
            assert bare == mentions._without_accents.__wrapped__(word)


def test_the_names_peaks_read_ascii_names_as_their_own_bare_form() -> None:
    """`_name_peaks` skips `_bare` for a folded name in ASCII: it must be its own bare form."""
    folded = lexicon.folded_lexicon()
    ascii_names = [n for n in folded if n.isascii()]
    assert len(ascii_names) > 10_000
    assert all(lexicon._bare(n) == n for n in ascii_names)


def test_the_searches_vetoed_skips_would_have_found_nothing() -> None:
    """`vetoed` looks for a log level, an ampersand and a noun's "von" before a name only
    where their words or signs are in the text before it."""
    pieces = [*PIECES, "INFO ", "[WARN] ", "warning ", "ERROR", "& ", " &", "Kartons ", "von "]
    pieces += ["van ", "vom ", "VON ", "Marks ", "[app] ", "Lieferung ", "Critical "]
    hits = 0
    for before in _texts(40_000, 9, pieces):
        if mentions._LOG_LEVEL_BEFORE.search(before):
            hits += 1
            assert mentions._log_level_before(before), before
        else:
            assert not mentions._log_level_before(before)
        if mentions._AMPERSAND_BEFORE.search(before):
            hits += 1
            assert "&" in before
        if mentions._NOUN_PARTICLE_BEFORE.search(before):
            hits += 1
            assert "von" in before or "van" in before or "vom" in before
    assert hits > 1000
