"""Free text: the one engine that finds and replaces personal data in it.

- `engine`: `TextEngine` (analyse and redact Arrow arrays of text), `TextPolicy`,
  `EntityRule`, `Operator`, `Replacements` (consistent placeholders within one artifact).
- `detectors`: the pattern detectors (cards with Luhn, IBANs with mod-97, secrets, and those
  of `contacts` and `identifiers`), how overlapping spans are settled; also used by `dsar
  verify`. `spans`: `Span` and the entity names.
- `contacts`: emails, phones and IP addresses in the forms people write them.
- `identifiers`: government IDs, Presidio's patterns and checksums without Presidio.
- `names`: people's names from the spaCy model, the catalog's known people and cues.
- `redact`: what every access bundle goes through (`Redactor`, `RedactionLog`).
- `evaluation`: precision and recall on a labelled set (`read_labelled`, `evaluate`).
- `nlp`: `NlpSettings` (which model), the model's NER alone loaded on first need
  (`LazyModel`), and `build_analyzer` (Presidio's own analyzer, built offline: the baseline
  the benchmark compares against).

Names load on first use: importing the engine does not import the redactor's catalog models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# each public name and the module that defines it: imported on first use, so that importing
# one module of the package (the engine) does not import the others (the redactor imports
# the catalog, pydantic and DuckDB)
_EXPORTS = {
    "ENTITIES": "dsar.text.detectors",
    "GOVERNMENT_IDS": "dsar.text.detectors",
    "Span": "dsar.text.detectors",
    "GOVERNMENT_ID": "dsar.text.engine",
    "EntityRule": "dsar.text.engine",
    "Operator": "dsar.text.engine",
    "Redacted": "dsar.text.engine",
    "Replacements": "dsar.text.engine",
    "TextEngine": "dsar.text.engine",
    "TextPolicy": "dsar.text.engine",
    "mask": "dsar.text.engine",
    "Labelled": "dsar.text.evaluation",
    "Report": "dsar.text.evaluation",
    "evaluate": "dsar.text.evaluation",
    "read_labelled": "dsar.text.evaluation",
    "AnalyzerInfo": "dsar.text.nlp",
    "NlpSettings": "dsar.text.nlp",
    "build_analyzer": "dsar.text.nlp",
    "model_available": "dsar.text.nlp",
    "RedactionLog": "dsar.text.redact",
    "Redactor": "dsar.text.redact",
    "mask_secret_column": "dsar.text.redact",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'dsar.text' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
