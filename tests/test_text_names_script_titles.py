"""Names after the titles and honorifics of scripts without capitals (issue 24): the word
after "السيد", "श्रीमती", "מר" or joined to Thai "คุณ" is a name whether a list holds it or
not; "Dear Sir" ("السيد المحترم"), Thai words built on "คุณ" (quality, value) and role
speakers ("ลูกค้า:", the customer) are not."""

from __future__ import annotations

import pytest

from dsar.text.names import NameFinder


def _names(text: str) -> set[str]:
    return {text[s.start : s.end] for s in NameFinder(None).find([text])[0]}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("العميل يقول إن السيد عبدالولي لم يستلم الطلب بعد.", "عبدالولي"),
        ("يرجى التواصل مع الدكتورة هيفاء غدا.", "هيفاء"),
        ("ग्राहक ने बताया कि श्रीमती कलावती को पार्सल नहीं मिला।", "कलावती"),
        ("कृपया श्री रघुवीर से संपर्क करें।", "रघुवीर"),
        ("הלקוח ביקש שגברת צביה תחזור אליו מחר.", "צביה"),
        ("[10:00] สมศรี: คุณวุฒิชัย ส่งของหรือยังคะ", "วุฒิชัย"),
        ("ฝากบอกคุณอรอุมาค่ะ พรุ่งนี้ส่งของ", "อรอุมา"),
    ],
)
def test_the_word_after_a_title_is_a_name(text: str, name: str) -> None:
    assert name in _names(text)


@pytest.mark.parametrize(
    "text",
    [
        "السيد المحترم،\nنود إبلاغكم بأن الشحنة ستصل يوم الخميس.",
        "สินค้ามีคุณภาพดีมาก ขอบคุณครับ",
        "ตรวจสอบคุณวุฒิ ของผู้สมัคร",
        "[10:00] ลูกค้า: ยังไม่ได้รับของค่ะ\n[10:01] ลูกค้า: ช่วยเช็คให้หน่อย",
        "श्रीमती जी, आपका पार्सल भेज दिया गया है।",
    ],
)
def test_titles_that_address_and_words_built_on_them_are_no_names(text: str) -> None:
    assert not _names(text)
