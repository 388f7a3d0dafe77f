"""The access statement's blocks and their rendering: `dsar.statement`, where the bundle
writer and the reviewer share them (the reviewer renders the statement again to compare)."""

from __future__ import annotations

from dsar.statement import (
    CSP,
    HEADINGS,
    Block,
    BlockKind,
    href,
    links_in,
    to_html,
    to_markdown,
)

__all__ = ["CSP", "HEADINGS", "Block", "BlockKind", "href", "links_in", "to_html", "to_markdown"]
