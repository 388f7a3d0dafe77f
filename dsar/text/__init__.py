"""Free text: the one engine that finds and replaces personal data in it.

- `engine`: `TextEngine` (analyse and redact Arrow arrays of text), `TextPolicy`,
  `EntityRule`, `Operator`, `Replacements` (consistent placeholders within one artifact).
- `detectors`: the pattern detectors (emails, phones, cards with Luhn, IBANs with mod-97,
  IP addresses, government IDs, secrets) and `Span`; also used by `dsar verify`.
- `names`: people's names from the spaCy model, the catalog's known people and cues.
- `redact`: what every access bundle goes through (`Redactor`, `RedactionLog`).
- `evaluation`: precision and recall on a labelled set (`read_labelled`, `evaluate`).
- `nlp`: `NlpSettings` (which model), and `build_analyzer` (Presidio's own analyzer, built
  offline: the baseline the benchmark compares against).
"""

from __future__ import annotations

from dsar.text.detectors import ENTITIES, GOVERNMENT_IDS, Span
from dsar.text.engine import (
    GOVERNMENT_ID,
    EntityRule,
    Operator,
    Redacted,
    Replacements,
    TextEngine,
    TextPolicy,
    mask,
)
from dsar.text.evaluation import Labelled, Report, evaluate, read_labelled
from dsar.text.nlp import AnalyzerInfo, NlpSettings, build_analyzer, model_available
from dsar.text.redact import RedactionLog, Redactor, mask_secret_column

__all__ = [
    "ENTITIES",
    "GOVERNMENT_ID",
    "GOVERNMENT_IDS",
    "AnalyzerInfo",
    "EntityRule",
    "Labelled",
    "NlpSettings",
    "Operator",
    "Redacted",
    "RedactionLog",
    "Redactor",
    "Replacements",
    "Report",
    "Span",
    "TextEngine",
    "TextPolicy",
    "build_analyzer",
    "evaluate",
    "mask",
    "mask_secret_column",
    "model_available",
    "read_labelled",
]
