"""Structural positions (chat speakers, form fields, greetings, signatures, headers) need a
second signal when no name list holds the word: a role, desk, bot, acronym or common word
there is no name unless the text corroborates it elsewhere (issue 24)."""

# ruff: noqa: RUF001 - Turkish text and names are written with a dotless i

from __future__ import annotations

import pytest

from dsar.text import lexicon
from dsar.text.names import NameFinder

needs_wordfreq = pytest.mark.skipif(
    not lexicon.frequencies_available(), reason="wordfreq is not installed"
)


def _names(text: str) -> set[str]:
    return {text[s.start : s.end] for s in NameFinder(None).find([text])[0]}


def test_a_name_list_holds_a_word_with_or_without_its_accents() -> None:
    assert lexicon.listed_anywhere("Ayşe")  # the Turkish list holds "Ayse"
    assert lexicon.listed_anywhere("Ngozi")
    assert lexicon.listed_anywhere("Barış")  # a given name and a Turkish word ("peace")
    assert not lexicon.listed_anywhere("Housekeeping")
    assert not lexicon.listed_anywhere("Tsion")


@needs_wordfreq
def test_a_label_word_is_a_role_an_acronym_or_a_common_word() -> None:
    assert lexicon.label_word("Dispatch", "en")  # a role, too rare for the frequency test
    assert lexicon.label_word("Receptie", "en")  # a desk in Dutch, whatever the guess
    assert lexicon.label_word("NOC", "en")  # an acronym
    assert lexicon.label_word("Planning", "nl")  # a common word
    assert lexicon.label_word("Comptabilite", "fr")  # typed without its accent
    assert not lexicon.label_word("Tsion", "en")  # a rare word: a name may stand there
    assert not lexicon.label_word("Kanokwan", "en")
    assert not lexicon.label_word("Hùng", "en")  # judged as written, not as "hung"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("[07:40] Housekeeping: room 214 ready\n[07:41] Marta: thanks", "Housekeeping"),
        ("08:12 Dispatch: unit 4 to Harbour Road\n08:13 Unit 4: copy", "Dispatch"),
        ("[08:30] Receptie: er staat een pakket\n[08:31] Femke: ik kom eraan", "Receptie"),
        ("[16:00] Accueil: votre visiteur est arrivé\n[16:01] Solène: j'arrive", "Accueil"),
        ("[18:02] Concierge: your taxi is here\n[18:03] Wanjiku: coming", "Concierge"),
        ("[07:00] Cocina: faltan patatas\n[07:02] Rocío: los pido\n[07:05] Cocina: ok", "Cocina"),
        (
            "Obsługa: Dzień dobry, w czym mogę pomóc?\nKlient: paczka nie dotarła\n"
            "Obsługa: Sprawdzę status.\nKlient: dziękuję",
            "Klient",
        ),
        (
            "Operador: buenas tardes\nUsuario: no me llega el código\nOperador: se lo reenvío"
            "\nUsuario: ya lo tengo",
            "Operador",
        ),
        ("Moderator: welcome\nGuest: is it recorded?\nModerator: yes, tomorrow", "Moderator"),
    ],
)
def test_a_role_or_desk_speaking_in_a_chat_log_is_no_name(text: str, label: str) -> None:
    assert label not in _names(text)


@pytest.mark.parametrize(
    "text",
    [
        "NOC: link down at site 7\nSRE: investigating\nNOC: restored 14:10",
        "[11:00] QA: regression suite passed\n[11:01] CRM: nightly sync finished",
    ],
)
def test_an_acronym_speaking_is_no_name(text: str) -> None:
    assert not _names(text)


@pytest.mark.parametrize(
    ("text", "label", "person"),
    [
        ("Hi Dispatch,\nthe van has a flat tyre.\nThanks, Olek", "Dispatch", "Olek"),
        ("Hello Housekeeping,\nroom 412 needs a cot.\nBest, Marisol", "Housekeeping", "Marisol"),
    ],
)
def test_a_greeted_desk_is_no_name(text: str, label: str, person: str) -> None:
    found = _names(text)
    assert label not in found
    assert person in found


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Assigned to: Dispatch\nPriority: low", "Dispatch"),
        ("Owner: Housekeeping\nStatus: open", "Housekeeping"),
    ],
)
def test_a_department_in_a_person_field_is_no_name(text: str, label: str) -> None:
    assert label not in _names(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Thanks for the quick reply.\n\nCheers,\nDispatch", "Dispatch"),
        ("Le colis est parti ce matin.\n\nCordialement,\nAccueil", "Accueil"),
        ("Gracias por avisar.\n\nUn saludo,\nCompras", "Compras"),
        ("Recebemos o seu pedido.\n\nAtenciosamente,\nFinanceiro", "Financeiro"),
        ("Faktura jest w załączniku.\n\nPozdrawiam,\nKsięgowość", "Księgowość"),
        ("De levering is verschoven.\n\nGroeten,\nPlanning", "Planning"),
    ],
)
def test_a_department_signing_is_no_name(text: str, label: str) -> None:
    assert label not in _names(text)


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("[09:00] Tsion: the keys are on the desk\n[09:01] Yared: thanks", {"Tsion", "Yared"}),
        ("[10:00] Kanokwan: shipment cleared\n[10:01] Thanakorn: great", {"Kanokwan"}),
        ("[09:00] Ayşe: toplantı saat 10'da mı?\n[09:01] Mehmet: evet", {"Ayşe"}),
        ("[09:00] Hope: morning all\n[09:01] Will: morning", {"Hope", "Will"}),
        ("[09:00] Ash: pushed the fix\n[09:02] Happy: thanks, deploying", {"Ash", "Happy"}),
        ("Thanks for flagging it, reversed now.\n\nBest,\nWondwossen", {"Wondwossen"}),
        # given names the lists lacked that are common words of the text's language
        (
            "[09:10] Ebru: toplantı yarın saat kaçta?\n[09:11] Barış: onda, küçük salonda\n"
            "[09:12] Ebru: tamam, teşekkürler",
            {"Ebru", "Barış"},
        ),
        (
            "[10:00] Graça: a encomenda chegou hoje?\n[10:01] Conceição: chegou sim, está na"
            " recepção\n[10:02] Graça: obrigada",
            {"Graça", "Conceição"},
        ),
    ],
)
def test_rare_or_listed_names_in_those_places_stay_names(text: str, people: set[str]) -> None:
    assert people <= _names(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        (
            "[10:10] Memory: sent the quote\n[10:12] Tendai: Memory Chikwanha is the contact",
            "Memory",
        ),
        ("[14:00] Gift: deploy done\n[14:01] Nomvula: nice one @gift", "Gift"),
        ("[14:00] Gift: deploy done\n[14:01] Nomvula: ask Mr Gift", "Gift"),
    ],
)
def test_a_word_as_speaker_is_a_name_when_the_text_corroborates_it(text: str, word: str) -> None:
    found = _names(text)
    assert word in found
    uncorroborated = text.split("\n")[0]  # the speaker's line alone: nothing vouches
    assert word not in _names(uncorroborated + "\n[14:05] Nomvula: thanks")


def test_a_title_vouches_for_a_surname_that_is_a_word() -> None:
    text = "Gentile Sig.ra Colombo,\nla pratica è chiusa.\nCordiali saluti,\nFederico Santangelo"
    assert "Colombo" in _names(text)
