# ruff: noqa: RUF001 - the letters whose case folding the shortcuts depend on
"""The free-text engine's shortcuts find what the long way finds (issue 24, point 5).

Each shortcut skips work a text cannot need; each test runs the long way beside it, on
texts built to reach the shortcut's edges, and asks for the same answer.
"""

from __future__ import annotations

import importlib
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest

from dsar.text import identifiers
from dsar.text.detectors import government_ids
from dsar.text.identifiers import _FOLDS_TO, RECOGNIZERS, _all_cues, _Cues, digit_runs
from dsar.text.nlp import DEFAULT_MODEL, model_available


def _random_texts(alphabet: str, n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choices(alphabet, k=rnd.randint(6, 48))) for _ in range(n)]


ID_ALPHABET = "0123456789 -.+/ABCDEFHJKLMNPRSTUVWXYZabcxyz\u0663\u0664"


def test_a_recognizer_skipped_by_its_digits_would_have_found_nothing() -> None:
    texts = _random_texts(ID_ALPHABET, 20_000, 1)
    # long digit runs with one separator here and there, and 16-character codes
    rnd = random.Random(2)
    for _ in range(4000):
        digits = "".join(rnd.choices("0123456789", k=rnd.randint(5, 13)))
        cut = rnd.randint(1, len(digits) - 1)
        texts.append(f"n {digits[:cut]}{rnd.choice(' -./+X')}{digits[cut:]} x")
    texts.append("codice fiscale RSSMRA85T10A562S")
    texts.append("ssn 078-05-1121, nhs 943 476 5919, pesel 44051401359, hetu 131052-308T")
    skipped = 0
    for text in texts:
        longest = digit_runs(text)[1]
        for recognizer in RECOGNIZERS:
            if not recognizer.may_match(text, longest):
                skipped += 1
                assert recognizer.analyze(text) == [], (recognizer.entity, text)
    assert skipped > len(texts)  # the shortcut is taken


def test_government_ids_with_the_shortcut_find_what_every_recognizer_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [
        "My SSN is 078-05-1120 and my NHS number 943 476 5919.",
        "NINO AB 12 34 56 C; DNI 12345678Z; NIE X1234567L; PESEL 44051401359.",
        "codice fiscale MRTMTT91D08F205J, hetu 131052-308T, itin 912-70-1234",
        *_random_texts(ID_ALPHABET, 3000, 3),
    ]
    fast = [list(government_ids(t)) for t in texts]
    monkeypatch.setattr(identifiers.IdRecognizer, "may_match", lambda *_: True)
    slow = [list(government_ids(t)) for t in texts]
    assert fast == slow
    assert sum(map(len, fast)) >= 8


sre_parse: Any = importlib.import_module("re._parser")  # the standard library's parser
LITERAL, IN, RANGE, NEGATE = (sre_parse.LITERAL, sre_parse.IN, sre_parse.RANGE, sre_parse.NEGATE)


def _literals(items: Any) -> Iterator[str]:
    for op, av in items:
        if op is LITERAL:
            yield chr(av)
        elif op is IN:
            for o, a in av:
                if o is LITERAL:
                    yield chr(a)
                elif o is RANGE:
                    yield from map(chr, range(a[0], a[1] + 1))
                else:
                    assert o is NEGATE or o.name == "CATEGORY", o
        elif isinstance(av, (list, tuple)):
            for x in av:
                if isinstance(x, sre_parse.SubPattern):
                    yield from _literals(x)
                elif isinstance(x, (list, tuple)):
                    for y in x:
                        if isinstance(y, sre_parse.SubPattern):
                            yield from _literals(y)


def test_every_character_a_cue_search_lower_cases_folds_as_the_matcher_does() -> None:
    """`_Cues.starts` searches a lower-cased text with the words as written when no
    character of `_CASE_UNSAFE` is in it: for every other character of the scripts kept, the
    matcher's case-insensitive comparison with each letter of the words must be the same as
    comparing its lower case, which must be one character of the same kind."""
    pattern = _all_cues().pattern
    letters = set(_literals(sre_parse.parse(pattern, re.IGNORECASE)))
    assert letters and all(letter.lower() == letter for letter in letters)
    # every character from U+D7B0 on is unsafe (surrogates, compatibility and wide forms)
    kept = "".join(chr(c) for c in range(0xD7B0) if not identifiers._CASE_UNSAFE.match(chr(c)))
    assert len(kept) > 30_000
    matched: dict[str, set[str]] = {}
    for letter in letters:
        found = re.findall(re.escape(letter), kept, re.IGNORECASE)
        matched[letter] = set(found)
    for ch in kept:
        low = ch.lower()
        assert len(low) == 1, hex(ord(ch))
        for cls in (r"\w", r"\d", r"\s", r"[^\W_]"):
            assert bool(re.match(cls, ch)) == bool(re.match(cls, low)), (hex(ord(ch)), cls)
    wrong = {
        letter
        for letter, chars in matched.items()
        if chars != {ch for ch in kept if ch.lower() in letter + _FOLDS_TO.get(letter, "")}
    }
    assert not wrong
    # the lower-cased search equates each of those letters with the others it folds to
    assert all(f"[{a}{b}]" in _all_cues(folded=False).pattern for a, b in _FOLDS_TO.items())


CUE_ALPHABET = (
    " .:-_#(\n0123ABCDIKLNOPSTabcdiklnopstuvyzéÉİıſµΣσςΑΜΚαμκДНИдни身份证주민등록パスポートא"
)


def test_cue_starts_lower_cased_are_the_folded_search_s() -> None:
    rnd = random.Random(5)
    words = [
        "ID No.",
        "id number",
        "Passport",
        "PASSPORT",
        "Nüfus Cüzdanı",
        "NÜFUS CÜZDANI",
        "ΑΜΚΑ",
        "αμκα",
        "Α.Μ.Κ.Α.",
        "ИНН",
        "СНИЛС",
        "Personalausweis",
        "CÉDULA",
        "身份证",
        "주민등록번호",
        "DL",
        "national_id_no",
        "tc kimlik",
    ]
    texts = _random_texts(CUE_ALPHABET, 6000, 4)
    for _ in range(6000):
        parts = [rnd.choice(words) for _ in range(rnd.randint(1, 4))]
        glue = [rnd.choice([" ", "_", "", ": ", "x", "\n", "-"]) for _ in parts]
        texts.append("".join(g + p for g, p in zip(glue, parts, strict=True)) + " 12345")
    lowered = 0
    for text in texts:
        expected = [m.start() for m in _all_cues().finditer(text)]
        assert _Cues(text).starts == expected, text
        lowered += not identifiers._CASE_UNSAFE.search(text)
    assert lowered > 3000  # most take the lower-cased search


def test_a_fiscal_code_shape_with_a_digit_of_another_script_is_no_id_and_no_crash() -> None:
    # the pattern's \d takes any script's digits; the check table knows 0-9 (a KeyError
    # stopped the whole engine on such a text)
    assert list(government_ids("code RSSMRA85T10A5\u06632S ok")) == []
    assert [s.entity for s in government_ids("code RSSMRA85T10A562S ok")] == ["IT_FISCAL_CODE"]


def test_the_frequency_language_guess_sums_as_word_by_word() -> None:
    """`lexicon._frequent_language` looks each word up once for every language: the scores,
    and so the language, must be those of summing each language's frequencies word by word."""
    from dsar.text import lexicon

    if not lexicon.frequencies_available():
        pytest.skip("wordfreq is not installed")
    rnd = random.Random(6)
    pools = {lang: sorted(lexicon._common_words(lang))[:3000] for lang in lexicon._GUESSED}
    texts = []
    for _ in range(1500):
        langs = rnd.sample(sorted(pools), rnd.randint(1, 3))
        words = [rnd.choice(pools[rnd.choice(langs)]) for _ in range(rnd.randint(1, 25))]
        texts.append(" ".join(w.capitalize() if rnd.random() < 0.2 else w for w in words))
    names = lexicon.folded_lexicon()
    guessed = set()
    for text in texts:
        words = [
            w.casefold()
            for w in lexicon._TOKEN.findall(text)
            if not (w[:1].isupper() and w.casefold() in names)
        ]
        scores = {
            lang: sum(lexicon._common_words(lang).get(w, 0.0) for w in words)
            for lang in lexicon._GUESSED
        }
        best = max(scores, key=lambda lang: scores[lang])
        factor, plus = lexicon.LANGUAGE_MARGIN
        expected = best if words and scores[best] >= factor * scores["en"] + plus else "en"
        assert lexicon._frequent_language(text) == expected, text
        guessed.add(expected)
    assert len(guessed) >= 6  # many languages won


@pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model installed")
def test_the_model_multiplies_on_one_blas_thread_and_names_the_same() -> None:
    """`load_ner` hands the NER's products to numpy's BLAS held to one thread (thinc's BLIS
    is its generic kernel): the entities must be those the BLIS products give, and the BLAS's
    own thread count is left as it was."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from thinc.api import NumpyOps

    from dsar.text.nlp import load_ner

    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
    if not blas.lib_controllers:
        pytest.skip("numpy has no BLAS that threadpoolctl can hold")
    before = [lib["num_threads"] for lib in blas.info()]
    nlp = load_ner(DEFAULT_MODEL)
    model = nlp.get_pipe("ner").model
    ops = model.ops
    assert not ops.use_blis
    texts = [
        "Priya Raman from Acme Corp called about the invoice Maria Schmidt sent to Berlin.",
        "Escalated to Jean-Luc Picard, cc Ngozi Okonjo-Iweala and the London office.",
        "Ticket from Kenji Watanabe: the VPN drops; Olga Ivanova in Warsaw sees it too.",
        *(f"Meeting with Sam Lee {i} times at Globex in Springfield on day {i}" for i in range(40)),
    ]
    seen = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    assert [lib["num_threads"] for lib in blas.info()] == before
    try:
        for node in model.walk():
            node.ops = NumpyOps()  # thinc's BLIS
        expected = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    finally:
        for node in model.walk():
            node.ops = ops
    assert seen == expected
    assert any(label == "PERSON" for ents in seen for _, _, label in ents)


@pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model installed")
def test_each_product_runs_with_the_blas_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy

    from dsar.text.blas import OneThreadOps, numpy_blas

    blas = numpy_blas()
    if blas is None:
        pytest.skip("numpy has no BLAS that threadpoolctl can hold")
    threads: list[list[int]] = []
    dot = numpy.dot

    def counting_dot(*args: Any, **options: Any) -> Any:
        threads.append([lib["num_threads"] for lib in blas.info()])
        return dot(*args, **options)

    monkeypatch.setattr(numpy, "dot", counting_dot)
    x = numpy.ones((300, 64), dtype="f")
    y = numpy.ones((64, 32), dtype="f")
    product = OneThreadOps().gemm(x, y)
    assert threads and all(n == [1] * len(n) for n in threads)
    assert product.shape == (300, 32) and float(product[0, 0]) == 64.0


def test_the_shapes_skipped_by_their_prefilters_match_nothing() -> None:
    """`shapes.fields` skips a text without a colon or an equals sign, `shapes.file_names` one
    without a file's extension: neither pattern matches such a text."""
    from dsar.text import shapes

    rnd = random.Random(8)
    pieces = [
        "Caller",
        "Name",
        "contact person",
        "Vorname",
        "nom",
        "Ana Lima",
        "Brennan_Niamh_passport",
        ".pdf",
        ".PDF",
        ".jpeg",
        ".docx",
        ".tif",
        "report",
        " ",
        "\n",
        ":",
        "=",
        "\uff1a",
        ";",
        ". ",
        "-",
        "_",
        "x.pd",
        "Owner",
    ]
    texts = ["".join(rnd.choices(pieces, k=rnd.randint(2, 14))) for _ in range(6000)]
    fields = files = 0
    for text in texts:
        if shapes._PERSON_FIELDS.search(text):
            fields += 1
            assert any(c in text for c in ":=\uff1a"), text
        if shapes._FILE.search(text):
            files += 1
            assert shapes._FILE_EXTENSION.search(text), text
    assert fields > 100 and files > 300
    # and the finders answer as before on the texts they search
    assert [s.start for s in shapes.fields("Caller: Ana Lima")] == [8]
    assert len(list(shapes.file_names("see Brennan_Niamh_passport.pdf"))) == 1


def test_a_text_the_key_prefilter_passes_over_holds_no_key() -> None:
    """The engine looks for `KEY_PATTERNS` only in texts `KEY_PREFILTER` (RE2) matches: every
    text one of the patterns matches must match it, whatever the letters' case folding."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from dsar.text.secrets import KEY_PATTERNS, KEY_PREFILTER

    keys = [
        "sk_live_abcdefgh1234",
        "xoxb-12345678-abcdefgh",
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "ya29.a0AfH6SMBx-abc",
        "AIzaSyA-1234567890abcdefghijklmnopqrstu",
        "shpat_0123456789abcdef",
        "pat-na1-0123abcd-ef01",
        "ghp_" + "a" * 36,
        "github_pat_" + "b" * 22,
        "glpat-" + "c" * 20,
        "$2b$12$" + "d" * 22,
        "AKIAIOSFODNN7EXAMPLE",
        "AccountKey=" + "e" * 80,
        "sk-proj-" + "f" * 32,
        "sk-ant-api03-" + "g" * 32,
        "sk-" + "h" * 32,
        "SG." + "i" * 16 + "." + "j" * 16,
        "SK" + "0" * 32,
        "key-" + "1" * 32,
        "0" * 32 + "-us12",
        "0" * 32 + "-us\u0663",
        "npm_" + "k" * 36,
        "pypi-AgEIcHlwaS5vcmc" + "l" * 50,
        "hf_" + "m" * 34,
        "dop_v1_" + "a" * 64,
        "123456789:AA" + "n" * 33,
        "sq0atp-" + "o" * 22,
        "ATATT3" + "p" * 100,
        "PMAK-" + "a" * 24 + "-" + "b" * 34,
        "dapi" + "c" * 32,
        "hvs." + "q" * 24,
        "glc_" + "r" * 32,
        "lin_api_" + "s" * 40,
        "NRAK-" + "T" * 27,
        "eyJhbGciOi.eyJzdWIiOi.sig",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
        "Bearer abcdefghijklmnop1234",
        "BEARER abcdefghijklmnop1234",
        "basic dXNlcjpwYXNzd29yZA==",
        "BAS\u0130C dXNlcjpwYXNzd29yZA==",
        "bas\u0131c dXNlcjpwYXNzd29yZA==",
        "ba\u017fic dXNlcjpwYXNzd29yZA==",
        "postgres://ann:s3cret@db.example.com",
    ]
    rnd = random.Random(9)
    texts = [f"{rnd.choice(['', 'x ', 'token: '])}{k}{rnd.choice(['', ' ok', '.'])}" for k in keys]
    texts += _random_texts("abksxoABKS_-.:/=$2 0123456789eyJ", 4000, 10)
    passes = pc.match_substring_regex(pa.array(texts), KEY_PREFILTER).to_pylist()
    held = 0
    for text, passed in zip(texts, passes, strict=True):
        if any(p.search(text) for p in KEY_PATTERNS.values()):
            held += 1
            assert passed, text
    assert held >= len(keys) - 2
    # the letters of the two words matched in any case fold in RE2 as in Python
    every = [chr(c) for c in range(0xD800)]
    for letter in "bearsic":
        python = {ch for ch in every if re.fullmatch(letter, ch, re.IGNORECASE)}
        re2 = pc.match_substring_regex(pa.array(every), f"^(?i:{letter})$").to_pylist()
        extra = {"\u0130", "\u0131"} if letter == "i" else set()
        assert python <= {ch for ch, hit in zip(every, re2, strict=True) if hit} | extra, letter
