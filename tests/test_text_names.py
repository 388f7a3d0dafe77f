"""People's names from a text's structure, every mention of a name, and what is never one.

Cases written for these rules in the shapes the sealed sets' authors summarised (chat
speakers, lower case, forms, headers, many scripts, traps); none is copied from a sealed set.
"""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine
from dsar.text.lexicon import language_of, name_lexicon
from dsar.text.nlp import DEFAULT_MODEL, model_available
from dsar.text.shapes import person_handle

ner = pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="no spaCy model installed")


@pytest.fixture(scope="module")
def rules() -> TextEngine:
    """The rules alone, without the model: what structure finds by itself."""
    return TextEngine(nlp=None)


@pytest.fixture(scope="module")
def model() -> TextEngine:
    return TextEngine()


def names(engine: TextEngine, text: str) -> list[str]:
    return [text[s.start : s.end] for s in engine.analyze([text], ["PERSON"])[0]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # chat speakers: after a time, IRC nicks, Slack and WhatsApp headers, bullets
        ("[08:02] Efua: parcel is here\n[08:03] Rasmus: ok", ["Efua", "Rasmus"]),
        ("<pvasquez> restarting now\n<tlin> thanks", ["pvasquez", "tlin"]),
        ("Ingeborg Dahl  4:12 PM\nmerged\nTeodor  4:15 PM\nthanks", ["Ingeborg Dahl", "Teodor"]),
        ("03/04/2026, 17:20 - Chidera: on my way", ["Chidera"]),
        ("Standup\n- Anneke: done with QA\n- Rafael: blocked", ["Anneke", "Rafael"]),
        ("[09:00] Deploybot: v3 live\n[09:01] Alerts: cpu 90%", []),
        # mail and calendar headers, "Surname, Given" kept whole; roles are not people
        ("From: Achterberg, Lieke <l.a@example.nl>\nTo: Service Desk", ["Achterberg, Lieke"]),
        ("Cc: Mwangi, Grace; Billing Team\nSubject: refund", ["Mwangi, Grace"]),
        ("Von: Henrike Sommer\nAn: Kundenservice\nBetreff: Vertrag", ["Henrike Sommer"]),
        ("Attendees: Head of Sales, Oskar Lindahl (Legal)", ["Oskar Lindahl"]),
        # form fields and name columns
        ("Caller: Desmond Achebe\nPriority: low", ["Desmond Achebe"]),
        ("Vorname: Ulrike\nNachname: Brandstätter\nOrt: Graz", ["Ulrike", "Brandstätter"]),
        ("given_name;family_name;dept\nSaoirse;Kavanagh;Sales", ["Saoirse", "Kavanagh"]),
        ("SURNAME\tFIRST NAME\tTEAM\nOKORO\tNNEKA\tRISK", ["OKORO", "NNEKA"]),
        ("Bill to: Accounts Payable\nAssignee: Unassigned", []),
        # titles in many languages, any case; a rank before a job title is not one
        ("Sehr geehrter Herr Lindemann, danke.", ["Lindemann"]),
        ("please ring dr okonkwo back", ["okonkwo"]),
        ("Sr. Product Manager role is open", []),
        # user names and file names built from names; roles and places are not
        ("user=rkhanna action=login", ["rkhanna"]),
        ("@marta.silva can you check? cc @platform-team", ["marta.silva"]),
        ("stored Lindqvist_Elsa_passport.pdf and Lisbon_office_map.pdf", ["Lindqvist_Elsa"]),
        # sign-offs
        ("Thanks for the update.\n\nGroet,\nMaarten", ["Maarten"]),
        ("all sorted on my side -- Ines", ["Ines"]),
    ],
)
def test_structure_names_people(rules: TextEngine, text: str, expected: list[str]) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Передайте Андрею, что звонила Наталья.", ["Андрею", "Наталья"]),
        ("Καλημέρα Ελένη, ο Κώστας θα έρθει.", ["Ελένη", "Κώστας"]),  # noqa: RUF001
        ("شكرا يا محمد", ["محمد"]),
        ("山本さんに連絡してください。", ["山本"]),
        ("이서준 님께 전달했습니다.", ["이서준"]),
    ],
)
def test_names_in_scripts_without_capitals_or_declined(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the first name alone, after the full name was found
        ("Caller: Orla Fennelly\n\nOrla asked for a refund.", ["Orla Fennelly", "Orla"]),
        # a handle found once is found everywhere
        ("user=bnowak login ok; bnowak logged out", ["bnowak", "bnowak"]),
        # in lower case where the note is written in lower case
        ("handover: [10:00] zainab: ok\nzainab has the keys now", ["zainab", "zainab"]),
    ],
)
def test_every_mention_of_a_found_name(rules: TextEngine, text: str, expected: list[str]) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a name found capitalised, written later in lower case in a mixed-case text
        (
            "[08:02] Ingrid: queue at 41\n[08:03] Bartosz: on it\n[08:10] Ingrid: thanks bartosz",
            ["Ingrid", "Bartosz", "Ingrid", "bartosz"],
        ),
        (
            "Caller: Aurelio Mancini\nNotes: aurelio wants a call back",
            ["Aurelio Mancini", "aurelio"],
        ),
    ],
)
def test_a_name_found_once_is_found_in_lower_case(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


def test_a_name_that_is_a_word_stays_a_word_in_lower_case(rules: TextEngine) -> None:
    """ "grant" after "Grant", "keys" after a capitalised "Keys": everyday English words,
    plurals included, are not matched in lower case."""
    text = "[11:15] Grant: hi\n[11:16] Faith: we grant access to the keys and grants"
    assert names(rules, text) == ["Grant", "Faith"]


def test_a_word_name_is_not_masked_as_the_word(rules: TextEngine) -> None:
    text = "From: Hope Adeyemi <h@example.com>\nI hope the fix works. Hope"
    assert names(rules, text) == ["Hope Adeyemi", "Hope"]


@pytest.mark.parametrize(
    "text",
    [
        "shift notes: printer jammed again, toner ordered, nothing else",
        "ticket moved to done by the on-call rota",
    ],
)
def test_lower_case_notes_without_names(rules: TextEngine, text: str) -> None:
    assert names(rules, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("handover: kwabena is on call tonight, ask priya about the backup", ["kwabena", "priya"]),
        ("fyi lotte restarted the router and tomasz said it works", ["lotte", "tomasz"]),
    ],
)
def test_lower_case_names_in_notes(rules: TextEngine, text: str, expected: list[str]) -> None:
    assert names(rules, text) == expected


@ner
@pytest.mark.parametrize(
    "text",
    [
        "We met at Victoria Station and then at the Kingsley Street depot.",
        "Johnson Controls quoted for the HVAC; Dyson quoted for the fans.",
        "Guten Morgen, Ihre Bestellung liegt im Büro. Danke für Ihr Verständnis.",
        "Customer Success Manager\nDepartment: Support",
        "The Lovelace Room is booked for the quarterly review.",
    ],
)
def test_places_companies_greetings_and_labels_are_not_names(model: TextEngine, text: str) -> None:
    assert names(model, text) == []


@ner
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a company named "X & Y" (X no given name); two people joined by "&" stay people
        ("Your parcel from Marks & Spencer will arrive today between 9-11.", []),
        # a log line's component after its level
        ("ERROR [worker-3] export failed\nWARN  Scheduler: queue depth 1200", []),
        # headings and field labels: a shift's heading, a form's field, a support sign-off
        ("Handover 22:00\n- printer fixed\n- Mrs Patel waiting", ["Patel"]),
        ("Employee: Tanisha Brooks\nLeave type: sick leave", ["Tanisha Brooks"]),
        ("Su reembolso fue procesado. Atentamente, Soporte", []),
        # products named after people
        ("sku,product\nA-1,Monroe Armchair\nA-2,Harrison Sofa", []),
        # a chat speaker whose name is a word: the word stays a word in the messages
        (
            "[11:15] Will: grant me access?\n[11:16] Faith: done, will you need more?",
            ["Will", "Faith"],
        ),
    ],
)
def test_traps_around_names(model: TextEngine, text: str, expected: list[str]) -> None:
    assert names(model, text) == expected


def test_two_people_joined_by_an_ampersand(rules: TextEngine) -> None:
    """ "& Sons" makes the name before it a company's; "& Priya" does not."""
    assert names(rules, "thanks to Ravi & Priya") == ["Ravi", "Priya"]
    assert names(rules, "thanks to Harrow & Sons") == []


@ner
def test_a_name_that_runs_into_a_job_title_is_cut_there(model: TextEngine) -> None:
    text = "Kind regards\n\nTemitope Bankole\nHead of Operations"
    assert names(model, text) == ["Temitope Bankole"]


def test_user_names_built_from_names() -> None:
    assert person_handle("j.osei")
    assert person_handle("lena.fischer")
    assert person_handle("dnowak")
    assert not person_handle("hr.admin")
    assert not person_handle("deploy-bot")


def test_the_lexicon_covers_many_scripts() -> None:
    firsts, lasts = name_lexicon()
    assert {"Siobhan", "Дмитрий", "Μαρία", "أحمد", "प्रिया"} <= firsts
    assert {"Nowak", "田中", "김"} <= lasts
    assert "Büro" not in firsts | lasts  # words are not names


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Vielen Dank für Ihre Nachricht, wir melden uns.", "de"),
        ("Merci pour votre retour, je vous recontacte.", "fr"),
        ("Thanks for the update, we will check it.", "en"),
    ],
)
def test_language_of(text: str, lang: str) -> None:
    assert language_of(text) == lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a known first name inside a sentence, without a cue
        ("The refund went out and Isabela confirmed nothing else.", ["Isabela"]),
        # not at a sentence's start, not a word that is also a name
        ("Isabela. The refund went out.", []),
        ("We will grant access tomorrow.", []),
        # letter-spaced by a scanner
        ("Name on form:  P A T R I C K   O W E N S", ["P A T R I C K   O W E N S"]),
        # a short form the name lists lack
        ("[10:02] Gosia: done", ["Gosia"]),
    ],
)
def test_first_names_inside_sentences_and_scanned(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


def test_a_surname_that_is_also_a_place_word_stays_a_name() -> None:
    """ "Elaine Hall set it up": a given name and a known surname that is also a thing word
    is a person; "at Albert Hall" stays a place."""
    from dsar.text.engine import TextEngine

    engine = TextEngine()
    texts = [
        "The sync fails every night. Elaine Hall set it up, call them.",
        "Hi, Sarah Park here",
        "my colleague Matthew Lane cannot log in",
        "We met at Albert Hall yesterday.",
    ]
    found = [
        [t[s.start : s.end] for s in spans]
        for t, spans in zip(texts, engine.analyze(texts), strict=True)
    ]
    assert found == [["Elaine Hall"], ["Sarah Park"], ["Matthew Lane"], []]


class _Spy:
    """A model stand-in that records what it is given and finds nothing."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def pipe(self, texts: dict[str, object], **options: object) -> list[object]:
        from types import SimpleNamespace

        self.seen += list(texts)
        return [SimpleNamespace(ents=()) for _ in texts]


@pytest.mark.parametrize(
    "text",
    [
        # a sentence's first word that reads as English and no name list knows
        "Flagged for security review.",
        "Enterprise-wide rollout reached every tenant.",
        "Spoke with the vendor about pricing.",
        # a greeting before a name is no part of it: the cue decides, not the model
        "Hallo Alonso,\nthe invoice is attached.",
    ],
)
def test_runs_decided_without_the_model(text: str) -> None:
    spy = _Spy()
    TextEngine(nlp=spy).analyze([text])
    assert spy.seen == []


def test_the_model_sees_a_window_around_the_run_not_the_sentence() -> None:
    spy = _Spy()
    text = (
        "We spent the whole of last week moving the old billing database to the new cluster"
        " and then Tavita asked about the export from the warehouse in the north of the"
        " country yesterday afternoon"
    )
    TextEngine(nlp=spy).analyze([text])
    assert len(spy.seen) == 1
    window = spy.seen[0]
    assert "Tavita" in window and len(window.split()) == 13  # six words either side
    assert text.index(window) > 0


def test_the_lexicon_reads_every_list_a_locale_keeps() -> None:
    """Polish unisex surnames, romanised Japanese names, lists by religion."""
    firsts, lasts = name_lexicon()
    assert {"Kowalczyk", "Nakamura"} <= lasts
    assert "Yui" in firsts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[09:21] Priya: thx, ping me when done", ["Priya"]),  # "Ping" is a name, "ping" a word
        ("user=akowalczyk action=login", ["akowalczyk"]),
        ("Attached: passport_Nakamura_Yui.jpg", ["Nakamura_Yui"]),
        # a greeted name that is also a word, and a signature under "--"
        ("Hi Hope,\n\nthanks, I hope the new plan works.", ["Hope"]),
        ("Sent today.\n--\nMarco | Support", ["Marco"]),
    ],
)
def test_more_names_from_lists_greetings_and_signatures(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@ner
def test_an_inverted_name_in_a_header_stays_whole(model: TextEngine) -> None:
    text = "From: Hunter, Rose\nOd: Wójcik, Agnieszka\nSubject: login"
    assert names(model, text) == ["Hunter, Rose", "Wójcik, Agnieszka"]


def test_a_given_name_inside_a_sentence_is_decided_without_the_model() -> None:
    """A known given name, no English word and no place, needs no model; a given name that
    is a place ("Sydney") or a word ("French") still goes to it."""
    spy = _Spy()
    engine = TextEngine(nlp=spy)
    found = engine.analyze(["I escalated it, Valentina knows the rest."])[0]
    assert [s.entity for s in found] == ["PERSON"] and spy.seen == []
    engine.analyze(["The rota says Sydney opens late.", "She wants the docs in French."])
    assert len(spy.seen) == 2
    # after "in", "at", "near" a given name that is a place is one, decided without the model
    engine.analyze(["The office in Sydney opens late."])
    assert len(spy.seen) == 2


def test_a_place_no_name_list_knows_is_decided_without_the_model() -> None:
    spy = _Spy()
    found = TextEngine(nlp=spy).analyze(["The parcel went to Cuxhaven and then to Weimar."])
    assert spy.seen == [] and found == [[]]


@ner
def test_the_model_is_asked_once_per_run_and_agrees_with_the_rules(model: TextEngine) -> None:
    """The facts around a run are read once; the verdicts with and without the model's tags
    still decide as before ("Elaine Hall set it up" a person, "at Albert Hall" a place, and
    its "Hall" no mention of Elaine's)."""
    text = "Elaine Hall set it up. We met at Albert Hall, then Valentina left for Weimar."
    assert names(model, text) == ["Elaine Hall", "Valentina"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a street's first word, or a street word before or after the run (issue 24)
        ("A encomenda chega Quarta-feira à Rua Augusta. Obrigado", []),
        ("Cerco notizie sulla spedizione in Via Garibaldi, grazie.", []),
        ("We left Martin Luther King Jr Blvd at 9 this morning.", []),
        ("Damage happened at Victoria Dock on Tuesday.", []),
        # an article first ("Die Ware"), or a German noun after an article
        ("Die Ware kam beschädigt an, bitte melden.", []),
        ("Der Fahrer steht an der Rampe und die Ware von Haribo ist nicht verladen.", []),
        # a particle first, no title or given name before it, in a text that is not English
        ("Wir warten auf die Zahlung von Edeka Nord seit Wochen.", []),
        # a field's value with a lower-case word, or a job title or role
        ("To: Harbor Freight Tools\nFrom: Counsel for Lincoln Electric Holdings", []),
        ("Operator: Good afternoon.\nCustomer: Hi, the parcel is late.\nOperator: Right.", []),
        ("Attendees: Regional Manager, Fleet Coordinator, Nadia Haddad", ["Nadia Haddad"]),
        # and what stays a name: a given name after an article or a preposition loses it
        ("hier ist der Torsten von der Disposition wegen der Tour", ["Torsten"]),
        ("Il codice fiscale di Marta Lombardi è allegato alla pratica.", ["Marta Lombardi"]),
        ("Beste meneer De Boer, de zending is onderweg.", ["De Boer"]),
    ],
)
@ner
def test_uncorroborated_runs_that_read_as_streets_companies_nouns_or_roles(
    model: TextEngine, text: str, expected: list[str]
) -> None:
    """Each found name starts with an expected one (no article or preposition before it),
    and each expected one is found."""
    found = names(model, text)
    assert all(n.startswith(tuple(expected)) for n in found)
    assert all(any(n.startswith(e) for n in found) for e in expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a signature's name keeps its line, not the department on the next one
        ("Z poważaniem\nBeata Zielińska\nDział Sprzedaży", ["Beata Zielińska"]),
        ("Med vänliga hälsningar\nOskar Lindgren\nLagerkontor", ["Oskar Lindgren"]),
        # capitalised Cyrillic words no name list knows are no names
        ("Добрый день! Склад закрыт до Понедельника, Счёт отправлен.", []),
        # seasonal greetings and a lawyer's title are no part of a name
        ("Hola equipo, Feliz Navidad y Próspero Año Nuevo.\nSaludos,\nRamiro", ["Ramiro"]),
        ("Sehr geehrte Frau Rechtsanwältin Oberhuber, anbei die Vollmacht.", ["Oberhuber"]),
    ],
)
@ner
def test_lines_scripts_greetings_and_titles_around_names(
    model: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(model, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a field's label at a line's start, no word of a name list
        ("Status: offen\nKategorie: Störung\nBeschreibung: Band steht still", []),
        # a brand and its product
        ("Items returned: Philips Sonicare and Braun Oral-B brushes.", []),
        # "Dear Sirs" and holidays are no names
        ("Dear Sirs,\n\nPlease find the signed delivery note attached.", []),
        ("volumes are up for Easter, um, and Noor will send the forecast", ["Noor"]),
        # a long German noun as a field's value
        ("Ansprechpartner: Lagerverwaltung\nTelefonisch: werktags", []),
        # a polite prefix makes a noun (お客様: the customer); a role before 님 is no name
        ("お客様のお荷物は月曜日に届きます。", []),
        ("[한진택배] 고객님의 택배가 배송 완료되었습니다.", []),
    ],
)
@ner
def test_labels_brands_holidays_and_polite_nouns_are_no_names(
    model: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(model, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Empresa: Amorim Cortiça\nAssunto: fatura duplicada",
        "Department: Global Sourcing\nHow can we help?: rates",
        "Subject: Damaged Levi jeans\nBody: wet boxes",
        "Objet : Retard de livraison",
    ],
)
@ner
def test_a_company_department_or_subject_field_holds_no_name(model: TextEngine, text: str) -> None:
    assert names(model, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one word no name list knows, which only the model calls a person: no name
        ("The pipeline fails on Docker again and the Kafka lag keeps growing.", []),
        ("Migrated the service from Scala to Kotlin last sprint.", []),
        # a second signal keeps it: a verb of contact, a particle and a surname after it
        ("Called back, no answer. Will try Máire again tomorrow.", ["Máire"]),
        # (the run stops at "ap": a known gap, the mask covers the given name only)
        ("Rang Dafydd ap Gruffydd back about the direct debit.", ["Dafydd"]),
        ("Travellers: PARK Seo-yeon, LEE Min-jun", ["Seo-yeon", "Min-jun"]),
        # a name of several words stays whole over a word the structure found inside it
        ("token revoked (user: Trần Văn Hùng)", ["Trần Văn Hùng"]),
    ],
)
@ner
def test_a_lone_word_only_the_model_vouches_for_needs_a_second_signal(
    model: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(model, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # seasonal greetings in many languages, and interjections opening a line
        (
            "Buongiorno,\n\nBuone Feste e Felice Anno Nuovo!\n\nCordiali saluti,\nOttavio",
            ["Ottavio"],
        ),
        ("Agent: Oh dear, sorry about that.\nCaller: no worries", []),
        # a shop's or a depot's name in a CSV cell
        ("customer;status\nHarrods Stores;delivered\nWickes Depot;pending", []),
        # in a text not English, a noun and its complement: the complement alone is judged
        ("Beschreibung: Kartons von Rittersport sind nass, bitte prüfen.", []),
        ("Der Urlaubsantrag von Heike liegt beim Betriebsrat.", ["Heike"]),
        # a declined Cyrillic form capitalised only because a sentence starts there
        ("Дмитрий: Привет! Машина пришла на склад.", ["Дмитрий"]),
    ],
)
@ner
def test_greetings_depots_noun_phrases_and_sentence_starts(
    model: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(model, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a party's field holds a company unless its value starts with a given name
        ("Caller: Kroger Receiving\nNotes: two pallets short", []),
        ("Ship to: Trader Joe's #118\nNotes: dock 2", []),
        ("Caller: Wendy Okafor\nNotes: two pallets short", ["Wendy Okafor"]),
        # a role and a firm under a signature are not one name (the firm alone, two list
        # names, is still taken: a known gap), and a courier company
        (
            "Regards,\nHarriet Blackwood\nSolicitor, Clifford Chance",
            ["Harriet Blackwood", "Clifford Chance"],
        ),
        ("Agent: Swiftline Couriers, good morning.\nCaller: hi", []),
        ("Operator: Afternoon, Redline Transport.\nCustomer: hi there", []),
        ("ref,recipient,town\n5501,Halfords Superstore,Swindon", []),
        # a German or Dutch noun's complement after von/van
        ("Beschreibung: Paletten von Bahlsen umgekippt.", []),
        ("Hoi! De Vrachtwagen van Jumbo is er nog niet.", []),
    ],
)
@ner
def test_party_fields_firms_and_noun_complements(
    model: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(model, text) == expected


@ner
def test_a_driver_field_holds_a_person(model: TextEngine) -> None:
    """A one-word given name in a driver's field is a name whatever the model's window says
    (the lone-word rule above must not lose it)."""
    text = "Hi! Your Boots order is out for delivery with DPD. Driver: Raj. ETA 2-3pm"
    assert names(model, text) == ["Raj"]
