"""One problem a verification found (`Finding`): its own module, so the checks of every
artifact kind (`dsar.review.bundle`, `dsar.review.snapshot`, ...) share it without importing
each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem: which check, where, and what is wrong (no personal data)."""

    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.where}: {self.message}"
