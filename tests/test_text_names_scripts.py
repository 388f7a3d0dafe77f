# ruff: noqa: RUF001 - names and labels in Cyrillic and Greek are the point of these cases
"""Names in scripts other than Latin: a form's labels, greetings, departments and everyday
words that are also given names are no names; the names beside them still are.

Cases written for these rules (issue 24: false names in Cyrillic, Greek, Arabic, Hebrew,
Devanagari, Han, Hangul and Thai at a line's start, after a colon, under a sign-off); none
is copied from a sealed set.
"""

from __future__ import annotations

import pytest

from dsar.text.engine import TextEngine


@pytest.fixture(scope="module")
def rules() -> TextEngine:
    """The rules alone, without the model: what structure finds by itself."""
    return TextEngine(nlp=None)


def names(engine: TextEngine, text: str) -> list[str]:
    return [text[s.start : s.end] for s in engine.analyze([text], ["PERSON"])[0]]


@pytest.mark.parametrize(
    "text",
    [
        "Тема: Возврат средств\nДата: 12.03.2026\nЗаказ: 55120\n\nТовар пришёл повреждённым.",
        "Описание: Ошибка при входе\nБраузер: Chrome\nВерсия: 122\nШаги: Открыть сайт",
        "Θέμα: Ακύρωση παραγγελίας\nΗμερομηνία: 3/4/2026\n\nΠαρακαλώ επιβεβαιώστε.",
        "الموضوع: استرداد المبلغ\nالتاريخ: 2026-03-05\nالرسالة: لم يصل الطلب",
        "נושא: החזר\nתאריך: 05/03/2026\nהודעה: ההזמנה הגיעה פגומה",
        "विषय: भुगतान विफल\nस्थिति: खुला\nविवरण: मेरा भुगतान दो बार कट गया है",
        "제목: 환불 요청\n상태: 접수\n내용: 상품이 아직 도착하지 않았습니다.",
        "เรื่อง: ขอคืนเงิน\nสถานะ: เปิด\nรายละเอียด: สินค้ายังไม่ได้รับ",
    ],
)
def test_a_forms_labels_in_other_scripts_are_no_speakers(rules: TextEngine, text: str) -> None:
    assert names(rules, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # speakers the name lists know, or who speak twice, are still speakers
        ("Олег: привет, релиз сегодня?\nАнна: да, в 18:00", ["Олег", "Анна"]),
        ("王伟: 你好\n李娜: 收到", ["王伟", "李娜"]),
        # a form's name field in other scripts, full-width colon included
        ("ชื่อ: สมชาย ใจดี\nเรื่อง: เปลี่ยนที่อยู่", ["สมชาย ใจดี"]),
        ("姓名：王伟\n主题：退款", ["王伟"]),
    ],
)
def test_speakers_and_name_fields_in_other_scripts(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # given names that are words (hope, love): at a sentence's start, the word
        ("Надежда на скорую доставку есть, курьер позвонит.", []),
        ("Любовь к деталям — наш принцип.", []),
        ("Ελπίδα μας είναι να φτάσει αύριο.", []),
        ("आपका ऑर्डर भेज दिया गया है। आशा है आपको पसंद आएगा।", []),
        # inside a sentence with a capital, or after a greeting, the name
        ("ок, Вера из бухгалтерии в курсе", ["Вера"]),
        ("नमस्ते आशा, आपका ऑर्डर भेज दिया गया है।", ["आशा"]),
        # a greeting is no part of the name after it
        ("שלום דני, החשבונית נשלחה", ["דני"]),
        ("مرحبا أحمد، تم شحن طلبك اليوم", ["أحمد"]),
    ],
)
def test_word_names_and_greetings_in_other_scripts(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Спасибо за ожидание.\nС уважением,\nСлужба поддержки", []),
        ("Σας ευχαριστούμε.\nΜε εκτίμηση,\nΤμήμα Πωλήσεων", []),
        ("ההזמנה נשלחה.\nבברכה,\nצוות התמיכה", []),
        ("ההזמנה הגיעה פגומה, אבקש החזר. תודה רבה", []),
        ("Спасибо за ожидание.\nС уважением,\nДмитрий Ковалёв", ["Дмитрий Ковалёв"]),
    ],
)
def test_a_sign_off_in_another_script_signs_a_known_name_only(
    rules: TextEngine, text: str, expected: list[str]
) -> None:
    assert names(rules, text) == expected
