"""Access and portability: one person's data as a bundle, with the statement the law requires.

- `answer`: `answer_access_requests` (one pass over the data for a whole batch).
- `bundle`: the bundle writer (`AccessBundle`): a temporary folder, verified, then named
  and zipped; a bundle with findings set aside; nothing left behind.
- `batch`: `read_batch_requests` (a CSV of many requests) and `new_label`.
- `report`: the access statement (GDPR Art. 15, CCPA right to know) as blocks; `render`
  turns them into Markdown and one standalone HTML page; `rows`: the person's rows as the
  statement shows them (columns in plain words, rows past retention) and as CSV.
"""

from __future__ import annotations

from dsar.access.answer import answer_access_requests
from dsar.access.batch import new_label, read_batch_requests
from dsar.access.bundle import AccessBundle

__all__ = ["AccessBundle", "answer_access_requests", "new_label", "read_batch_requests"]
