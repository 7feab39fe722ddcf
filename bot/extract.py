"""Main text of an article: from an HTML page (trafilatura, then our cleaning) or plain text."""

from __future__ import annotations

import re
from datetime import date

import trafilatura
from trafilatura.settings import Document

from bot.errors import InputError
from bot.models import Article

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def extract_html(html: str | bytes, url: str | None = None) -> Article:
    """Extract an article's title, date, author and cleaned body from a page."""
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=False
        )
    except Exception as exc:  # trafilatura raises many kinds on hostile markup
        raise InputError(f"cannot parse the page: {exc}") from exc
    if not isinstance(doc, Document) or not doc.text:
        raise InputError("no article text found in the page")
    paragraphs = [p.strip() for p in doc.text.split("\n") if p.strip()]
    title = _clean_inline(doc.title) if doc.title else None
    return Article(
        text="\n\n".join(clean_paragraphs(paragraphs, title=title)),
        title=title,
        published=_parse_iso_date(doc.date),
        author=_clean_inline(doc.author) if doc.author else None,
        url=url,
    )


def parse_text(text: str, url: str | None = None) -> Article:
    """Read plain article text; its first line is the title when a blank line follows it
    and it has no final full stop."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    title: str | None = None
    if len(lines) >= 2 and not lines[1].strip() and not lines[0].rstrip().endswith("."):
        title = _clean_inline(lines[0])
        lines = lines[1:]
    paragraphs = [line.strip() for line in lines if line.strip()]
    return Article(
        text="\n\n".join(clean_paragraphs(paragraphs, title=title)),
        title=title,
        url=url,
    )


def clean_paragraphs(paragraphs: list[str], title: str | None = None) -> list[str]:
    """Drop what is not article body: captions, bylines, share prompts, related links, sidebars."""
    out: list[str] = []
    for paragraph in paragraphs:
        if title and _clean_inline(paragraph) == title and not out:
            continue
        out.append(_clean_inline(paragraph))
    return out


def _clean_inline(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _parse_iso_date(value: str | None) -> date | None:
    if not value:
        return None
    match = _ISO_DATE.match(value)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
