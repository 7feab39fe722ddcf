"""The small frozen dataclasses the functional core passes around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Article:
    """An article's cleaned main text and metadata.

    ``text`` is the body only: paragraphs separated by one blank line, with no
    title, captions, bylines, share prompts, related links or sidebars. ``language`` is
    its ISO 639-1 code ("en", "ur"), None until known. ``image`` is the page's lead image
    (og:image) as an absolute http(s) address. ``description`` is the page's own summary
    (its description meta, or the feed entry's summary): a signal of where the story starts.
    """

    text: str
    title: str | None = None
    published: date | None = None
    author: str | None = None
    url: str | None = None
    language: str | None = None
    image: str | None = None
    description: str | None = None

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
    language: str | None = None
    image: str | None = None
    """The page's lead image (og:image), an absolute http(s) address; None when it has none."""


@dataclass(frozen=True, slots=True)
class FeedState:
    """What newsbot remembers about polling one feed between polls and across restarts.

    ``etag`` and ``last_modified`` are the validators the server sent, replayed as
    If-None-Match / If-Modified-Since. A feed is new until it has been polled successfully
    once (``last_success`` is None): then only its latest few entries count as news.
    ``polls`` counts answered polls, ``not_modified_count`` those answered 304. Times are
    timezone-aware UTC.
    """

    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_errors: int = 0
    next_poll: datetime | None = None
    polls: int = 0
    not_modified_count: int = 0
    title: str | None = None

    @property
    def is_new(self) -> bool:
        return self.last_success is None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed, as newsbot sees it; every string in it is untrusted feed content.

    ``identity`` is stable across polls: the GUID/id, else the canonical link, else a hash of
    the content. ``content_hash`` changes when the title, link, summary or content change.
    ``title`` and ``author`` are plain text; ``summary`` and ``content`` are HTML as the feed
    gave it. ``link`` is absolute http(s). ``published`` is aware UTC. ``language`` is the
    ISO 639-1 code the feed declares (RSS ``<language>``, Atom ``xml:lang``, JSON Feed
    ``language``), None when it declares none.
    """

    identity: str
    content_hash: str
    guid: str | None = None
    link: str | None = None
    title: str | None = None
    published: datetime | None = None
    author: str | None = None
    summary: str | None = None
    content: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: what could be recovered, and the parse error when it was ill-formed."""

    title: str | None = None
    link: str | None = None
    entries: tuple[FeedEntry, ...] = ()
    error: str | None = None


class FetchErrorKind(StrEnum):
    """Why a fetch brought no usable body."""

    BAD_URL = "bad_url"
    REFUSED_ADDRESS = "refused_address"
    CONNECTION = "connection"
    BAD_RESPONSE = "bad_response"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    HTTP_STATUS = "http_status"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one GET, as a value: a failure never raises into the caller.

    ``status`` is the final HTTP status (None when no answer came). ``body`` holds the whole
    (decompressed) body of a 2xx answer; a body over the size cap is an error, never cut.
    ``etag`` / ``last_modified`` are the validators to store: the server's, or on a 304 the
    ones sent when the server did not repeat them. ``retry_after_s`` is how long the server
    asked us to wait (429/503 Retry-After), in seconds from the answer.
    """

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error_kind: FetchErrorKind | None = None
    error: str | None = None
    retry_after_s: float | None = None

    @property
    def is_ok(self) -> bool:
        """Whether a 2xx answer with its whole body arrived."""
        return self.error_kind is None and self.status is not None and 200 <= self.status < 300

    @property
    def is_not_modified(self) -> bool:
        """Whether the server answered 304: nothing changed since the validators were stored."""
        return self.error_kind is None and self.status == 304
