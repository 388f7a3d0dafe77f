"""Free text: the offline Presidio analyzer and the redaction every bundle goes through.

- `nlp`: `build_analyzer` (patterns always, a spaCy model when installed, never a download)
  and its `NlpSettings`.
- `redact`: secrets masked to their last four characters; other people's names, emails and
  phones replaced in free text (`Redactor`, `RedactionLog`).
"""

from __future__ import annotations

from dsar.text.nlp import AnalyzerInfo, NlpSettings, build_analyzer, model_available
from dsar.text.redact import RedactionLog, Redactor, mask_secret_column

__all__ = [
    "AnalyzerInfo",
    "NlpSettings",
    "RedactionLog",
    "Redactor",
    "build_analyzer",
    "mask_secret_column",
    "model_available",
]
