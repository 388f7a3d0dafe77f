"""Measure a detector on a labelled set: per-entity precision and recall, words destroyed.

The labelled set is JSON Lines, one text per line:
``{"id": "t1", "text": "...", "entities": [{"type": "PERSON", "value": "Aoife"}]}``. Every
occurrence of a labelled value in its text is a span of that type; government IDs are
labelled `GOVERNMENT_ID` (with their scheme) and every government ID type a detector
reports counts as one. A detected span is right when it overlaps a labelled span of the same
type. Words outside every labelled span that a detector covers are "destroyed": ordinary
words a redaction would have removed; over-redaction is their share of the ordinary words.

Entity-level recall follows the Text Anonymization Benchmark (Pilán et al., 2022): an entity
is a distinct labelled value in one text, and it counts as protected only when every one of
its mentions is masked, each word character of each mention covered by some detected span
(of any type: a name masked as something else is still hidden). One mention left in clear
leaks the entity, however many others were caught.

Companies can measure the engine on texts of their own with the same file format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dsar.text.detectors import GOVERNMENT_IDS
from dsar.text.engine import GOVERNMENT_ID

GROUPS = dict.fromkeys(GOVERNMENT_IDS, GOVERNMENT_ID)
# the entity types a labelled set is scored on (government IDs as one)
EVALUATED = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    GOVERNMENT_ID,
    "SECRET",
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Labelled:
    """One labelled text: its spans as (start, end, type)."""

    id: str
    text: str
    spans: tuple[tuple[int, int, str], ...]


def read_labelled(path: Path) -> list[Labelled]:
    """Read a labelled set; every occurrence of a labelled value is a span."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        spans = []
        for entity in record.get("entities", []):
            value, kind = entity["value"], entity["type"]
            starts = [m.start() for m in re.finditer(re.escape(value), text)]
            if not starts:
                raise ValueError(f"line {n}: a labelled value does not occur in its text")
            spans += [(s, s + len(value), kind) for s in starts]
        out.append(Labelled(str(record.get("id", n)), text, tuple(sorted(spans))))
    return out


@dataclass
class Score:
    """Counts for one entity type."""

    labelled: int = 0
    found: int = 0  # labelled spans that a detected span of the type overlaps
    detected: int = 0
    correct: int = 0  # detected spans that overlap a labelled span of the type
    entities: int = 0  # distinct labelled values, per text
    protected: int = 0  # of those, every mention masked in full

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else 1.0

    @property
    def entity_recall(self) -> float:
        """The share of entities with every mention masked (TAB's entity-level recall)."""
        return self.protected / self.entities if self.entities else 1.0


@dataclass
class Report:
    """Scores per entity type, and how many ordinary words the detector covered."""

    scores: dict[str, Score] = field(default_factory=dict)
    words: int = 0  # words outside every labelled span
    destroyed: int = 0  # of those, covered by some detected span

    @property
    def over_redaction(self) -> float:
        """The share of ordinary words (outside every labelled span) that were covered."""
        return self.destroyed / self.words if self.words else 0.0

    def table(self) -> list[dict[str, object]]:
        return [
            {
                "entity": e,
                "labelled": s.labelled,
                "detected": s.detected,
                "recall": round(s.recall, 3),
                "precision": round(s.precision, 3),
                "entities": s.entities,
                "entity_recall": round(s.entity_recall, 3),
            }
            for e, s in sorted(self.scores.items())
        ]


Detect = Callable[[Sequence[str]], Iterable[Iterable[tuple[int, int, str]]]]
"""Given texts, (start, end, type) spans for each text."""


def evaluate(records: Sequence[Labelled], detect: Detect, entities: Iterable[str]) -> Report:
    """Score `detect` on the labelled records, for the given entity types."""
    wanted = set(entities)
    report = Report({e: Score() for e in sorted(wanted)})
    results = detect([r.text for r in records])
    for record, spans in zip(records, results, strict=True):
        detected = [(s, e, GROUPS.get(t, t)) for s, e, t in spans]
        gold = [g for g in record.spans if g[2] in wanted]
        masked = bytearray(len(record.text) + 1)
        for s, e, _ in detected:
            masked[s:e] = b"\x01" * (e - s)
        mentions: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for g in gold:
            report.scores[g[2]].labelled += 1
            if any(t == g[2] and s < g[1] and g[0] < e for s, e, t in detected):
                report.scores[g[2]].found += 1
            mentions.setdefault((g[2], record.text[g[0] : g[1]]), []).append((g[0], g[1]))
        for (kind, _), places in mentions.items():
            report.scores[kind].entities += 1
            if all(_masked(record.text, masked, a, b) for a, b in places):
                report.scores[kind].protected += 1
        for s, e, t in detected:
            if t not in wanted:
                continue
            report.scores[t].detected += 1
            if any(g[2] == t and s < g[1] and g[0] < e for g in gold):
                report.scores[t].correct += 1
        for word in _WORD.finditer(record.text):
            a, b = word.span()
            if any(g[0] < b and a < g[1] for g in record.spans):
                continue
            report.words += 1
            if any(s < b and a < e for s, e, _ in detected):
                report.destroyed += 1
    return report


def _masked(text: str, masked: bytearray, start: int, end: int) -> bool:
    """True when every word character of text[start:end] is covered."""
    return all(masked[i] or not text[i].isalnum() for i in range(start, end))
