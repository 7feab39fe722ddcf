"""Before a feed is added: fetch it once, show what it is, and make its ``feeds.toml`` entry.

``check_feed`` (the shell) fetches and parses a feed address and returns a ``FeedCheck``:
its title, site, entry count and latest entry, or a clear error, never an exception.
``new_feed`` (pure) turns a good check into the ``FeedConfig`` to add: it refuses an address
or name the list has already, and names the feed after its title when no name is given.
Addresses on the server's own network (loopback, private, link-local) are refused unless the
caller allows them (settings, or the console, whose user runs the server anyway).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from bot.config import FeedConfig
from bot.errors import FeedEditError, FeedError
from bot.feedconfig.text import url_key
from bot.ingest.addresses import ensure_public_url
from bot.ingest.feeds import parse_feed
from bot.ingest.fetch import Fetcher, fetch_feed
from bot.models import FeedEntry, FetchErrorKind, FetchResult, ParsedFeed

MAX_NAME_CHARS = 40
_NAME_UNSAFE = re.compile(r"[^\w .&'+:-]+")


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """What one fetch of a feed address showed. ``error`` None: a feed with entries."""

    url: str
    final_url: str | None = None
    status: int | None = None
    title: str | None = None
    site_url: str | None = None
    entry_count: int = 0
    latest_title: str | None = None
    latest_link: str | None = None
    latest_published: datetime | None = None
    error: str | None = None

    @property
    def is_ok(self) -> bool:
        return self.error is None


async def check_feed(fetcher: Fetcher, url: str, *, allow_private: bool = False) -> FeedCheck:
    """Fetch and parse ``url`` once; what it is, or why it cannot be added."""
    url = url.strip()
    problem = url_problem(url)
    if problem:
        return FeedCheck(url, error=problem)
    if not allow_private:
        try:
            await ensure_public_url(url)
        except FeedError as exc:
            return FeedCheck(url, error=str(exc))
    result = await fetch_feed(fetcher, url, allow_private=allow_private)
    if not result.is_ok:
        return FeedCheck(url, result.final_url, result.status, error=_fetch_problem(result))
    parsed = await asyncio.to_thread(parse_feed, result.body, result.final_url, result.content_type)
    return describe_feed(url, result, parsed)


def describe_feed(url: str, result: FetchResult, parsed: ParsedFeed) -> FeedCheck:
    """The check of a fetched and parsed feed (pure)."""
    base = FeedCheck(url, result.final_url, result.status, parsed.title, parsed.link)
    if not parsed.entries:
        if _looks_like_page(result):
            why = "this address is a web page, not a feed: look on the page for its RSS link"
        elif parsed.error:
            why = f"this is not a feed newsbot can read ({parsed.error})"
        else:
            why = "the feed has no entries yet, so there is nothing to check it by"
        return _with_error(base, why)
    latest = _latest(parsed.entries)
    return FeedCheck(
        url,
        result.final_url,
        result.status,
        parsed.title,
        parsed.link,
        entry_count=len(parsed.entries),
        latest_title=latest.title,
        latest_link=latest.link,
        latest_published=latest.published,
    )


def new_feed(
    check: FeedCheck,
    feeds: Sequence[FeedConfig],
    *,
    name: str | None = None,
    topic: str | None = None,
    tags: Sequence[str] = (),
    interval_minutes: int | None = None,
) -> FeedConfig:
    """The entry to add for a checked feed; ``FeedEditError`` for a duplicate or a failed
    check. Without ``name``, the feed's title (or host) made into a short unique name."""
    if not check.is_ok:
        raise FeedEditError(f"{check.url} cannot be added: {check.error}")
    addresses = {url_key(check.url)}
    if check.final_url:
        addresses.add(url_key(check.final_url))
    for feed in feeds:
        if url_key(feed.url) in addresses:
            raise FeedEditError(f"this feed is in the list already, as {feed.name!r}")
    if name is not None and name.strip():
        name = " ".join(name.split())
        taken = next((f for f in feeds if f.name.casefold() == name.casefold()), None)
        if taken is not None:
            raise FeedEditError(f"a feed named {taken.name!r} exists already: choose another name")
    else:
        name = default_name(check.title, check.url, [f.name for f in feeds])
    return FeedConfig(
        name=name,
        url=check.url,
        topic=topic.strip() if topic and topic.strip() else None,
        tags=tuple(t.strip() for t in tags if t.strip()),
        interval_minutes=interval_minutes,
        enabled=True,
    )


def default_name(title: str | None, url: str, taken: Sequence[str]) -> str:
    """A short name from a feed's title: letters, digits and plain punctuation, at most
    ``MAX_NAME_CHARS`` cut at a word, unique among ``taken`` (" 2", " 3"... added)."""
    base = " ".join(_NAME_UNSAFE.sub(" ", title or "").split())
    if len(base) > MAX_NAME_CHARS:
        base = base[:MAX_NAME_CHARS].rsplit(" ", 1)[0] if " " in base[:MAX_NAME_CHARS] else ""
        base = base or " ".join(_NAME_UNSAFE.sub(" ", title or "").split())[:MAX_NAME_CHARS]
    base = base.strip(" .:-&'+")
    if not base:
        host = urlsplit(url).hostname or "feed"
        base = host.removeprefix("www.")[:MAX_NAME_CHARS]
    used = {t.casefold() for t in taken}
    name, number = base, 1
    while name.casefold() in used:
        number += 1
        name = f"{base[: MAX_NAME_CHARS - len(str(number)) - 1]} {number}"
    return name


def url_problem(url: str) -> str | None:
    """Why a text is not a feed address, or None."""
    if not url:
        return "give the feed's address, like https://example.org/rss.xml"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "a feed address has no spaces or control characters"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return f"{url!r} is not a valid address"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        return f"{url!r} is not an http:// or https:// address"
    return None


def _fetch_problem(result: FetchResult) -> str:
    if result.error_kind is FetchErrorKind.HTTP_STATUS or (result.error is None and result.status):
        return f"the server answered HTTP {result.status}" + (
            f" ({result.error})" if result.error else ""
        )
    return result.error or "no answer"


def _looks_like_page(result: FetchResult) -> bool:
    kind = (result.content_type or "").lower()
    head = result.body[:512].lstrip().lower()
    return "html" in kind or head.startswith((b"<!doctype html", b"<html"))


def _with_error(check: FeedCheck, error: str) -> FeedCheck:
    return FeedCheck(
        check.url, check.final_url, check.status, check.title, check.site_url, error=error
    )


def _latest(entries: Sequence[FeedEntry]) -> FeedEntry:
    dated = [e for e in entries if e.published is not None]
    if dated:
        return max(dated, key=lambda e: e.published or datetime.min)
    return entries[0]
