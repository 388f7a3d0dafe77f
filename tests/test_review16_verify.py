"""Review 16 finding 3: `verify --source` against a large source (dsar/review/published.py).

- a published cell that is wholly one replacement (a body that is just a name) fitted every
  source row: the work grew with rows squared, and every source row's whole text was taken
  as a name "original", so a kept column's capitalised value sharing any word with any
  ticket ("Refund", "Berlin") was flagged;
- a published row of many ", "-separated replacements against a source row with fewer
  separators backtracked exponentially (nested lazy groups).

The source rows' engine findings are built in the test (no engine run), and the check is
called on them directly.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

from dsar.review.bundle import Finding
from dsar.review.published import _check_source_rows, _fit


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    score: float = 0.9


def _names(n: int, seed: str) -> list[str]:
    """`n` distinct two-word names made of letters only."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ra", "ve", "to", "su", "ne", "pa", "di", "go", "ru"]
    out: set[str] = set()
    while len(out) < n:
        first = "".join(rng.choice(syllables) for _ in range(3)).capitalize()
        last = "".join(rng.choice(syllables) for _ in range(4)).capitalize()
        out.add(f"{first} {last}")
    return sorted(out)


def _check(
    published: list[str | None],
    listed: dict[int, list[tuple[int, int, str]]],
    source: list[str | None],
    found: list[list[Span]],
    others: dict[str, list[Any]] | None = None,
) -> list[Finding]:
    findings: list[Finding] = []
    _check_source_rows(
        "tickets.jsonl", published, listed, source, found, set(), others or {}, findings.append
    )
    return findings


TICKET = "Please send the Refund for order {i} to our office in Berlin, it has not arrived."


def test_thousands_of_whole_cell_replacements_verify_in_bounded_time() -> None:
    n = 3000
    originals, surrogates = _names(n, "orig"), _names(2 * n, "surr")
    surrogates = [s for s in surrogates if s not in set(originals)][:n]
    source: list[str | None] = []
    found: list[list[Span]] = []
    published: list[str | None] = []
    listed: dict[int, list[tuple[int, int, str]]] = {}
    for i in range(n):
        # a body that is just a name, replaced whole; and an ordinary ticket, kept whole
        source.append(originals[i])
        found.append([Span("PERSON", 0, len(originals[i]))])
        listed[len(published)] = [(0, len(surrogates[i]), "PERSON")]
        published.append(surrogates[i])
        ticket = TICKET.format(i=i)
        source.append(ticket)
        found.append([])
        published.append(ticket)
    started = time.perf_counter()
    findings = _check(published, listed, source, found, {"city": ["Berlin"] * len(published)})
    took = time.perf_counter() - started
    assert findings == []
    assert took < 5.0, f"{took:.1f} s for {2 * n} source rows"


def test_a_kept_value_sharing_a_word_with_a_ticket_is_not_flagged() -> None:
    name = "Anna Kowalski"
    source: list[str | None] = [name, TICKET.format(i=1)]
    found = [[Span("PERSON", 0, len(name))], []]
    published: list[str | None] = ["Lena Moor", TICKET.format(i=1)]
    listed = {0: [(0, 9, "PERSON")]}
    kept: dict[str, list[Any]] = {"subject": ["Refund", "Refund"], "city": ["Berlin", "Office"]}
    assert _check(published, listed, source, found, kept) == []
    # the source's real name in a kept column is still found
    leaked = _check(published, listed, source, found, {**kept, "agent": ["Kowalski", None]})
    assert [(f.check, f.where) for f in leaked] == [("original", "tickets.jsonl column 'agent'")]


def test_a_surrogate_that_is_a_whole_source_text_is_still_flagged() -> None:
    source: list[str | None] = ["Anna Kowalski", "Lena Moor", TICKET.format(i=1)]
    found = [[Span("PERSON", 0, 13)], [Span("PERSON", 0, 9)], []]
    published: list[str | None] = ["Lena Moor", "Anna Kowalski", TICKET.format(i=1)]
    listed = {0: [(0, 9, "PERSON")], 1: [(0, 13, "PERSON")]}
    findings = _check(published, listed, source, found)
    assert {f.where for f in findings} == {
        "tickets.jsonl row 1 chars 0-9",
        "tickets.jsonl row 2 chars 0-13",
    }
    assert all("the original name of its source row" in f.message for f in findings)


@pytest.mark.parametrize("separators", [24, 30])
def test_a_row_of_many_separated_replacements_does_not_blow_up(separators: int) -> None:
    names = _names(separators + 1, "many")
    text = ", ".join(names)
    spans, at = [], 0
    for name in names:
        spans.append((at, at + len(name), "PERSON"))
        at += len(name) + 2
    # a candidate source row with fewer separators than the published row
    source: list[str | None] = [", ".join(["word"] * (separators - 2)) + " and more text"]
    started = time.perf_counter()
    findings = _check([text], {0: spans}, source, [[]])
    assert time.perf_counter() - started < 2.0
    assert [f.message for f in findings] == [
        "reads as no source row outside its listed replacements (edited, or not made from"
        " this source)"
    ]


def test_fit_gives_what_the_lazy_pattern_gives() -> None:
    rng = random.Random(16)
    alphabet = "ab, "
    for _ in range(3000):
        pieces = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3)))]
        for _ in range(rng.randint(0, 4)):
            pieces.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3))))
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        pattern = re.compile("(.+?)".join(re.escape(p) for p in pieces), re.DOTALL)
        m = pattern.fullmatch(text)
        assert _fit(text, pieces) == (list(m.groups()) if m else None), (pieces, text)
    for three in itertools.product(["", "a", "\n"], repeat=3):
        text = "a\na\nba"
        m = re.compile("(.+?)".join(map(re.escape, three)), re.DOTALL).fullmatch(text)
        assert _fit(text, list(three)) == (list(m.groups()) if m else None)
