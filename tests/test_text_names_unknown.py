"""Names no list knows (issue 24): a capitalised word inside an English sentence that no name
list of any culture holds, that is no word of any language wordfreq covers, no place and no
product, is a name where a person stands (a verb of contact before it, a person's verb or a
possessive after it, or beside a second such word)."""

from __future__ import annotations

import pytest

from dsar.text import lexicon
from dsar.text.names import NameFinder, _camel, _unknown_word

needs_wordfreq = pytest.mark.skipif(
    not lexicon.frequencies_available(), reason="wordfreq is not installed"
)


def _names(text: str) -> set[str]:
    return {text[s.start : s.end] for s in NameFinder(None).find([text])[0]}


@needs_wordfreq
def test_a_word_of_no_language_is_told_from_words() -> None:
    assert lexicon.word_anywhere("Bolormaa") is False
    assert lexicon.word_anywhere("Tsetseg") is False
    assert lexicon.word_anywhere("parcels") is True
    assert lexicon.word_anywhere("Pasang") is True  # Indonesian "pair"
    assert lexicon.word_anywhere("mitarbeiterin") is True  # German, any case


@needs_wordfreq
def test_an_unknown_word_is_no_product_place_or_compound() -> None:
    assert _unknown_word("Bolormaa")
    assert _unknown_word("Thirunavukkarasu")
    assert _unknown_word("Anahit")  # "ana" and "hit": too short a part for a compound
    assert not _unknown_word("Nextcloud")  # two English words run together
    assert not _unknown_word("Tailscale")
    assert not _unknown_word("Helmfile")  # a program's ending
    assert not _unknown_word("Kubectl")
    assert not _unknown_word("Almaty")  # a time zone's city
    assert not _unknown_word("Ulaanbaatar")
    assert not _unknown_word("BigQuery")  # camel case
    assert not _unknown_word("Kafka")  # a product the brand list holds
    assert not _unknown_word("Ngozi")  # a name list holds it: the other rules decide
    assert not _unknown_word("NOC")


@needs_wordfreq
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Customer says she spoke with Bolormaa on Tuesday about it.", "Bolormaa"),
        ("The driver left it at the door and Ganbold signed for it at 14:20.", "Ganbold"),
        ("Can someone ask Hery to resend the invoice tomorrow?", "Hery"),
        ("Refund approved last week. Tsetseg will email the credit note.", "Tsetseg"),
        ("Handover for Monday. Litia asked for Friday off, approved.", "Litia"),
        ("Passenger Lobsang Dorje flew in yesterday and lost a bag.", "Lobsang Dorje"),
        ("Re: tablet. Selamawit Berhane dropped it off yesterday.", "Selamawit Berhane"),
        ("Family asked for Dr Smith; Palila (agency nurse) covered bay B.", "Palila"),
        ("ok, I'll let Siaosi know when it ships", "Siaosi"),
        ("the form went to Dilnoza's manager for sign-off", "Dilnoza"),
    ],
)
def test_an_unknown_word_where_a_person_stands_is_a_name(text: str, name: str) -> None:
    assert name in _names(text)


@needs_wordfreq
@pytest.mark.parametrize(
    "text",
    [
        "The sync with Fivetran failed overnight, rerun it after lunch.",
        "Did you try asking Ollama for the summary of the call?",
        "Thanks to Traefik the redirect now works again.",
        "We moved the box to Hetzner last month, it is cheaper.",
        "Send the samples from Almaty to Ulaanbaatar by Friday.",
        "Kundendienst hat mit Lieferverzögerung geantwortet, er sagte Rücksendeetikett fehlt.",
        "The export goes through Debezium before it lands in the lake.",
    ],
)
def test_products_places_and_other_languages_stay_words(text: str) -> None:
    assert not _names(text) - {"Dr Smith"}


@needs_wordfreq
def test_an_unknown_name_found_once_is_masked_in_any_case() -> None:
    text = "I talked to Zhanar about the refund. later zhanar said it was done, ZHANAR agreed."
    assert {"Zhanar", "zhanar", "ZHANAR"} <= _names(text)


@needs_wordfreq
def test_two_unknown_words_after_a_place_preposition_are_a_place() -> None:
    assert not _names("The vessel is held at Laem Chabang until Friday.")
    text = "Yesterday I spoke to Chaminda Wickramasinghe about the refund."
    assert "Chaminda Wickramasinghe" in _names(text)


def test_a_name_prefix_is_no_camel_case() -> None:
    assert _camel("BigQuery")
    assert _camel("GitHub")
    assert not _camel("McAllister")
    assert not _camel("MacLeod")
    assert not _camel("DeShawn")
