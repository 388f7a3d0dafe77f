"""Access and portability: one person's data as a bundle, with the statement the law requires.

- `answer`: `answer_access_requests` (one pass over the data for a whole batch), the bundle
  writer, `read_batch_requests`.
- `report`: the access statement (GDPR Art. 15, CCPA right to know) as blocks, rendered to
  Markdown and HTML.
"""

from __future__ import annotations

from dsar.access.answer import AccessBundle, answer_access_requests, new_label, read_batch_requests

__all__ = ["AccessBundle", "answer_access_requests", "new_label", "read_batch_requests"]
