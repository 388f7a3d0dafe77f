"""Emails, phones and IP addresses in the forms people write them (issue 24, point 3)."""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine


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
