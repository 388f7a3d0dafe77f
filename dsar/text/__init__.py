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

from typing import TYPE_CHECKING

from dsar._lazy import facade

if TYPE_CHECKING:
    from dsar.text.detectors import (
        ENTITIES as ENTITIES,
        GOVERNMENT_IDS as GOVERNMENT_IDS,
        Span as Span,
    )
    from dsar.text.engine import (
        GOVERNMENT_ID as GOVERNMENT_ID,
        EntityRule as EntityRule,
        Operator as Operator,
        Redacted as Redacted,
        Replacements as Replacements,
        TextEngine as TextEngine,
        TextPolicy as TextPolicy,
        mask as mask,
    )
    from dsar.text.evaluation import (
        Labelled as Labelled,
        Report as Report,
        evaluate as evaluate,
        read_labelled as read_labelled,
    )
    from dsar.text.nlp import (
        AnalyzerInfo as AnalyzerInfo,
        NlpSettings as NlpSettings,
        build_analyzer as build_analyzer,
        model_available as model_available,
    )
    from dsar.text.redact import (
        RedactionLog as RedactionLog,
        Redactor as Redactor,
        mask_secret_column as mask_secret_column,
    )


# the names above, each imported from its module on first use (the one list)
# listed for readers and the API docs (which cannot run `facade`); facade checks that the
# list and the imports above agree
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
_EXPORTS, __all__, __getattr__, __dir__ = facade(__name__, listed=__all__)
