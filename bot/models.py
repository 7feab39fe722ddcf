"""The small frozen dataclasses the functional core passes around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Article:
    """An article's cleaned main text and metadata.

    ``text`` is the body only: paragraphs separated by one blank line, with no
    title, captions, bylines, share prompts, related links or sidebars.
    """

    text: str
    title: str | None = None
    published: date | None = None
    author: str | None = None
    url: str | None = None

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p.strip()]


@dataclass(frozen=True, slots=True)
class Quote:
    """A direct quote without its quotation marks, and who said it (None when unknown)."""

    text: str
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """What the bot shows of an article: its lead sentences and key quotes, most important first."""

    article: Article
    lead: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as the archive keeps it: found in a feed, read, summarised, searchable.

    ``id`` is stable across restarts (derived from the entry's identity: GUID, else canonical
    link, else a content hash). Times are timezone-aware UTC.
    """

    id: str
    feed: str
    title: str
    link: str
    published: datetime
    fetched: datetime
    text: str
    lead: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = ()
    author: str | None = None
    topic: str | None = None
    tags: tuple[str, ...] = ()
    updated: datetime | None = None
