"""Emails, phones and IP addresses in the forms people write them (issue 24, point 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.text.engine import TextEngine
from dsar.text.evaluation import evaluate, read_labelled

DEV_PHONES = Path(__file__).parent / "text_eval" / "dev_phones.jsonl"


@pytest.fixture(scope="module")
def engine() -> TextEngine:
    return TextEngine(nlp=None)


def found(engine: TextEngine, text: str, entity: str) -> list[str]:
    return [text[s.start : s.end] for s in engine.analyze([text])[0] if s.entity == entity]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ann at example dot com please", ["ann at example dot com"]),
        ("ann[at]example[dot]com", ["ann[at]example[dot]com"]),
        ("ann (at) example (dot) co (dot) uk.", ["ann (at) example (dot) co (dot) uk"]),
        ("j.doe{at}mail{dot}example{dot}de", ["j.doe{at}mail{dot}example{dot}de"]),
        ("ANN AT EXAMPLE DOT COM", ["ANN AT EXAMPLE DOT COM"]),
        ("Mail: ann.lee at example.com", ["ann.lee at example.com"]),
        ("reach ann @ example.com today", ["ann @ example.com"]),
        ("reach ann@ example.com today", ["ann@ example.com"]),
        ("ann(at)example.org", ["ann(at)example.org"]),
        ("o'brien@example.ie wrote", ["o'brien@example.ie"]),
        ("o\u2019brien@example.ie wrote", ["o\u2019brien@example.ie"]),
        ("quoted 'ann@example.com' here", ["ann@example.com"]),
        ("it's ann@example.com", ["ann@example.com"]),
        (
            "user@xn--80ak6aa92e.com and a@xn--d1acufc.xn--p1ai",
            [
                "user@xn--80ak6aa92e.com",
                "a@xn--d1acufc.xn--p1ai",
            ],
        ),
        # ordinary sentences with "at" and "dot", and chat mentions, are not addresses
        ("find me at example dot com", []),
        ("we met at noon. Then at home.", []),
        ("look at example.com for details", []),
        ("cc @ann.lee on this", []),
        ("Thanks @ann. See you", []),
        ("the meeting is at the office dot matrix printer", []),
        # a space before "@" alone, a spelled dot in the local part, dashes, Nordic "(a)",
        # the full-width at sign, spaced dots, newer top-level domains
        ("new address omar.haddad @example.ae", ["omar.haddad @example.ae"]),
        ("its jane dot doe at outlook dot com", ["jane dot doe at outlook dot com"]),
        ("Mail: m.rossi -at- ospedale -dot- it", ["m.rossi -at- ospedale -dot- it"]),
        ("Kontakt: eva.lindqvist(a)karolinska.se", ["eva.lindqvist(a)karolinska.se"]),
        ("contact: booking\uff20clinic-east.co.uk", ["booking\uff20clinic-east.co.uk"]),
        ("anna.weber @ klinik-nord . de", ["anna.weber @ klinik-nord . de"]),
        ("l.chen at greenfield dot health", ["l.chen at greenfield dot health"]),
        ("escreva para ana.souza arroba hospital ponto br", ["ana.souza arroba hospital ponto br"]),
        ("see clause (a) gov.uk guidance", []),
        ("thanks @support.team for help", []),
        ("data (at) rest, the dot at the end . com", []),
    ],
)
def test_emails_in_every_written_form(engine: TextEngine, text: str, expected: list[str]) -> None:
    assert found(engine, text, "EMAIL_ADDRESS") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 415-555-0132 ext. 42 today", ["415-555-0132 ext. 42"]),
        ("Tel 415-555-0132x204", ["415-555-0132x204"]),
        ("Tel 415-555-0132 x 204.", ["415-555-0132 x 204"]),
        ("Tel. 030 1234567, Durchwahl 12", ["030 1234567, Durchwahl 12"]),
        ("+44 20 7946 0018 extension 3", ["+44 20 7946 0018 extension 3"]),
        ("my number is 4155550132", ["4155550132"]),
        ("My CN number is 13812345678", ["13812345678"]),
        # an order's or account's number is not a phone
        ("order number 12345678", []),
        ("order number is 12345678", []),
        ("account number: 12345678", []),
        ("phone number: 12345678", ["12345678"]),
        # the extension in brackets or after a dash; the trunk prefix and country code
        ("Tel. 030 4502 6000 Durchwahl -17", ["030 4502 6000 Durchwahl -17"]),
        ("+44 20 7946 0958 (ext. 214)", ["+44 20 7946 0958 (ext. 214)"]),
        ("0161 496 0000 (x42)", ["0161 496 0000 (x42)"]),
        ("Fax +49-(0)30-1234567", ["+49-(0)30-1234567"]),
        ("Tel.: +49 (0) 30 / 123 456-78", ["+49 (0) 30 / 123 456-78"]),
        ("Telefon: 0171 - 2345678", ["0171 - 2345678"]),
        ("Reach us at (+44) 20 7946 0958 today", ["(+44) 20 7946 0958"]),
        # CSV cells, a date in the next cell, two numbers side by side
        ("name,phone\nAnna,415-555-0132\nBen,(212) 555-0188", ["415-555-0132", "(212) 555-0188"]),
        ("1042,Anna,+48 512 345 678,4B,2026-03-01", ["+48 512 345 678"]),
        ("phone,+1 415 555 0132,ok", ["+1 415 555 0132"]),
        ("Tel: 0161 496 0000 / 0161 496 0001", ["0161 496 0000", "0161 496 0001"]),
        ("Tel: 0161 496 0000\n0161 496 0001", ["0161 496 0000", "0161 496 0001"]),
        # wrapped over two lines, OCR's O and l, short numbers a word calls phones
        ("please telephone +44 161\n496 0732 after 9", ["+44 161\n496 0732"]),
        ("Phone: 4l5-555-Ol32", ["4l5-555-Ol32"]),
        ("Patient tel: O7700 9OO461", ["O7700 9OO461"]),
        ("ring the ward on 2231", ["2231"]),
        ("On call: SpR bleep 4471", ["4471"]),
        ("pharmacy is x4471", ["x4471"]),
        ("call the desk at extension 4471", ["extension 4471"]),
        ("Ring mig p\u00e5 20 12 34 56", ["20 12 34 56"]),
        # and not: a spreadsheet's cell, doses, years, dates, long reference numbers
        ("Cell 1234 of the spreadsheet", []),
        ("3 x 250 mg and 2 x1000 ml", []),
        ("call me on 2026; ring the ward on 2026-03-01", []),
        ("Rota 2025 - 2026, room 4471, page 1234", []),
        ("Parcel 4174 1301 1098 7569 is held at the depot", []),
        ("Preis 1234567,89 EUR; the Oil 12 filter", []),
        ("Bestell-Nummer: 12345678, numer zam\u00f3wienia 87654321", []),
        ("ver anexo 12; le poste 12 est libre; Via Roma 5, interno 12", []),
    ],
)
def test_phones_with_their_extension(engine: TextEngine, text: str, expected: list[str]) -> None:
    assert found(engine, text, "PHONE_NUMBER") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connect to [2001:0db8::0001]:8080 now", ["2001:0db8::0001"]),
        ("from fe80::1%eth0 and fe80::1%eth0/64", ["fe80::1%eth0", "fe80::1%eth0/64"]),
        (
            "routes 10.0.0.0/8, 192.168.1.0/24 and 2001:db8::/32.",
            [
                "10.0.0.0/8",
                "192.168.1.0/24",
                "2001:db8::/32",
            ],
        ),
        ("bad suffix 10.0.0.0/123", ["10.0.0.0"]),
        ("loopback ::1 and fe80::/10", ["::1", "fe80::/10"]),
        ("mapped ::ffff:192.0.2.1 and ::192.168.1.1", ["::ffff:192.0.2.1", "::192.168.1.1"]),
        # not a prefix of an invalid address, nor code, times or MAC addresses
        ("::ffff:256.0.0.1 and 2001:db8::256.1.1.1", []),
        ("std::cout at 12:30:45, MAC 00:1A:2B:3C:4D:5E", []),
        ("the unspecified address :: names no machine", []),
    ],
)
def test_ip_addresses_keep_suffix_and_zone(
    engine: TextEngine, text: str, expected: list[str]
) -> None:
    assert found(engine, text, "IP_ADDRESS") == expected


def test_every_mention_of_a_phone_or_email_is_masked_in_full(engine: TextEngine) -> None:
    """Entity level on tests/text_eval/dev_phones.jsonl (the shapes above, in texts): an
    entity counts only when every mention is masked, each word character covered. Plain
    Presidio scores 0.718 on its phones, 0.333 on its emails; the engine 0.648 and 0.833
    before the shapes above were read. One wrapped local number is still cut at the break."""
    records = read_labelled(DEV_PHONES)

    def detect(texts: object) -> list[list[tuple[int, int, str]]]:
        return [[(s.start, s.end, s.entity) for s in x] for x in engine.analyze(texts)]

    report = evaluate(records, detect, ["PHONE_NUMBER", "EMAIL_ADDRESS"])
    phones, mails = report.scores["PHONE_NUMBER"], report.scores["EMAIL_ADDRESS"]
    assert (phones.entities, mails.entities) == (71, 18)
    assert phones.protected >= 70 and mails.protected == 18
    assert phones.precision == 1.0 and mails.precision == 1.0
    assert report.over_redaction < 0.01
