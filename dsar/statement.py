"""The access statement's blocks, rendered to Markdown and to one standalone HTML page.

Shared by the bundle writer (`dsar.access.report` builds the blocks) and the reviewer
(`dsar.review.bundle` renders the statement again from the bundle's data and compares), so
that both render with the same code; `dsar.access.render` re-exports it.

The page has no script and loads nothing: long tables fold into `<details>`, which every
browser opens without JavaScript. Every text is HTML-escaped; only the controller's own
addresses (its contact, its data protection officer, the supervisory authority) become
links, `mailto:` or `https://`, never a value from the person's data.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import StrEnum


class BlockKind(StrEnum):
    """What a block of the report is (named after the HTML element it renders as)."""

    H1 = "h1"
    H2 = "h2"
    H3 = "h3"
    P = "p"
    UL = "ul"
    TABLE = "table"


HEADINGS = (BlockKind.H1, BlockKind.H2, BlockKind.H3)


@dataclass(frozen=True)
class Block:
    """One piece of the report: a heading, a paragraph, a list or a table.

    `summary`: the block folds under this line (`<details>`), for long tables and lists.
    `links`: parts of the text that are the controller's addresses, made links in HTML.
    `data`: the block holds values from the person's data: escaped for Markdown too.
    `table`: the block shows the person's rows of this table (`dsar.access.rows.records`);
    `dsar verify` fills its data cells again.
    """

    kind: BlockKind
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    summary: str = ""
    links: tuple[str, ...] = ()
    data: bool = False
    table: str = ""  # a table of the person's rows of this bundle table (verify fills it again)


# An email address, a web address, or a bare domain with an optional path (ico.org.uk)
_LINK = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|https?://[^\s<>\"')]+"
    r"|(?<![@\w.])(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?:/[^\s<>\"')]*)?"
)


def links_in(text: str) -> tuple[str, ...]:
    """The email and web addresses in a text (a controller's contact), to make links of.

    Examples:
        >>> links_in("Autoriteit Persoonsgegevens, autoriteitpersoonsgegevens.nl")
        ('autoriteitpersoonsgegevens.nl',)
        >>> links_in("privacy@example.org or https://example.org/privacy.")
        ('privacy@example.org', 'https://example.org/privacy')
    """
    return tuple(m.group().rstrip(".,;:") for m in _LINK.finditer(text))


def href(text: str) -> str:
    """The link target of an address: `mailto:` for an email, `https://` for a domain."""
    if "@" in text and "://" not in text:
        return f"mailto:{text}"
    if text.startswith(("https://", "http://")):
        return text
    return f"https://{text}"


_MD_SPECIAL = re.compile(r"([\\`<>\[\]|])")


def _md(text: str, data: bool) -> str:
    """Markdown text; a value from the person's data with every character that could make
    markup (a tag, a link, a table cell) escaped, and on one line."""
    if not data:
        return text
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    """Render blocks as Markdown (a folded block: its summary line, then the block)."""
    out: list[str] = []
    for block in blocks:
        if block.summary:
            out += [f"**{block.summary}**", ""]
        if block.kind in HEADINGS:
            out.append("#" * int(block.kind[1]) + " " + _md(block.text, block.data))
        elif block.kind is BlockKind.P:
            out.append(_md(block.text, block.data))
        elif block.kind is BlockKind.UL:
            out.append("\n".join(f"- {_md(item, block.data)}" for item in block.items))
        elif block.kind is BlockKind.TABLE:
            lines = ["| " + " | ".join(_md(h, True) for h in block.header) + " |"]
            lines.append("|" + " --- |" * len(block.header))
            lines += ["| " + " | ".join(_md(c, True) for c in row) + " |" for row in block.rows]
            out.append("\n".join(lines))
        out.append("")
    return "\n".join(out)


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;"
    "white-space:pre-wrap;overflow-wrap:anywhere}"
    "th{background:#f3f3f3}h2{margin-top:2rem;border-bottom:1px solid #ddd}"
    ".rows{overflow-x:auto}summary{cursor:pointer;color:#0645ad}details{margin:.5rem 0}"
)


CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _linked(text: str, links: tuple[str, ...]) -> str:
    """`text` HTML-escaped, with each of `links` made an `<a href>` (escaped too)."""
    e = html.escape
    if not links:
        return e(text)
    pattern = re.compile("|".join(re.escape(k) for k in sorted(set(links), key=len, reverse=True)))
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(e(text[last : match.start()]))
        out.append(f'<a href="{e(href(match.group()))}">{e(match.group())}</a>')
        last = match.end()
    out.append(e(text[last:]))
    return "".join(out)


def to_html(blocks: list[Block], title: str) -> str:
    """Render blocks as one standalone HTML page (no scripts, no external resources)."""
    e = html.escape
    body: list[str] = []
    for block in blocks:
        part = ""
        if block.kind in HEADINGS:
            part = f"<{block.kind}>{e(block.text)}</{block.kind}>"
        elif block.kind is BlockKind.P:
            part = f"<p>{_linked(block.text, block.links)}</p>"
        elif block.kind is BlockKind.UL:
            items = "".join(f"<li>{_linked(i, block.links)}</li>" for i in block.items)
            part = f"<ul>{items}</ul>"
        elif block.kind is BlockKind.TABLE:
            head = "".join(f"<th>{e(h)}</th>" for h in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows
            )
            part = (
                f'<div class="rows"><table><thead><tr>{head}</tr></thead>'
                f"<tbody>{rows}</tbody></table></div>"
            )
        if block.summary:
            part = f"<details><summary>{e(block.summary)}</summary>{part}</details>"
        body.append(part)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        # should anything ever slip through the escaping: no script runs, nothing loads
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
