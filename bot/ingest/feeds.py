"""Feed documents to :class:`~bot.models.ParsedFeed`: RSS 0.9x/1.0/2.0, Atom, RDF and JSON Feed.

Longer than ~300 lines: four feed formats behind one entry point, each a short reader.

Content in, data out: this module takes the fetched bytes and the response's Content-Type
and never touches the network or the disk. feedparser reads XML feeds (given a byte stream,
never a URL or a bare string, which it would try to open); JSON Feed is read with ``json``.
Whatever a feed says is untrusted: strings are capped, links must be http(s), and an
ill-formed feed yields what could be recovered with the error recorded.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from time import struct_time
from typing import Any

import feedparser

from bot.article.charset import (
    bom_charset,
    charset_from_content_type,
    declared_charset,
    detect_charset,
)
from bot.article.scripts import language_code
from bot.ingest.links import absolute_http_link, canonical_link
from bot.models import FeedEntry, ParsedFeed

_WHITESPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """How much of a feed is considered: entries, and characters per field."""

    max_entries: int = 500
    max_title_chars: int = 1_000
    max_text_chars: int = 200_000
    max_url_chars: int = 4_096


def parse_feed(
    body: bytes,
    url: str | None = None,
    content_type: str | None = None,
    limits: ParseLimits = ParseLimits(),
) -> ParsedFeed:
    """Parse a fetched feed; ``url`` (the final URL) resolves relative links."""
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url, limits)
    return _parse_xml_feed(body, url, content_type, limits)


def entry_identity(guid: str | None, link: str | None, content_hash: str) -> str:
    """An entry's stable identity: its GUID, else its canonical link, else a content hash."""
    if guid:
        return guid
    if link:
        return canonical_link(link)
    return f"sha256:{content_hash}"


def hash_content(*parts: str | None) -> str:
    """A short stable digest of an entry's visible content, to notice when it changes."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type.endswith("json"):
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


# --- XML feeds (feedparser) ---------------------------------------------------------------


def _parse_xml_feed(
    body: bytes, url: str | None, content_type: str | None, limits: ParseLimits
) -> ParsedFeed:
    charset_note = None
    forced = _content_type_for_feedparser(body, content_type)
    declared = declared_charset(body) or "utf-8"  # XML's default without a declaration
    read_as = charset_from_content_type(forced)
    if forced != (content_type or "application/xml") and read_as != declared:
        charset_note = f"ill-formed feed: declared as {declared}, read as {read_as}"
    headers = {"content-type": forced}
    if url:
        headers["content-location"] = url
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    feed = parsed.get("feed", {})
    entries = _latest(
        [_xml_entry(raw, url, limits) for raw in parsed.get("entries", [])], limits.max_entries
    )
    entries = _with_language(entries, feed.get("language"))
    error = charset_note
    if parsed.get("bozo"):
        error = _describe_bozo(parsed.get("bozo_exception"))
    if not parsed.get("version") and not entries:
        error = error or "not a feed: no RSS, Atom, RDF or JSON Feed document found"
    return ParsedFeed(
        title=_text(_plain(feed, "title"), limits.max_title_chars),
        link=_link(feed.get("link"), url, limits),
        entries=tuple(entries),
        error=error,
    )


def _content_type_for_feedparser(body: bytes, content_type: str | None) -> str:
    """The Content-Type to hand feedparser, its charset corrected where the evidence is strong.

    UTF-8 bodies mislabelled as another charset are read as UTF-8 (valid UTF-8 with non-ASCII
    characters is almost never text in a legacy charset, while feeds labelled Latin-1 that are
    really UTF-8 are common), and a body its labels cannot decode gets a detected charset
    instead of feedparser's last resort, Windows-1252.
    """
    content_type = content_type or "application/xml"
    if bom_charset(body) is not None:
        return content_type
    charset = detect_charset(body, content_type)
    if charset.startswith(("utf-16", "utf-32")) or (charset == "cp1252" and body.isascii()):
        return content_type
    media_type = content_type.split(";", 1)[0].strip() or "application/xml"
    return f"{media_type}; charset={charset}"


def _xml_entry(raw: Mapping[str, Any], base: str | None, limits: ParseLimits) -> FeedEntry:
    title = _text(_plain(raw, "title"), limits.max_title_chars)
    link = _link(raw.get("link"), base, limits)
    summary = _text(raw.get("summary"), limits.max_text_chars, collapse=False)
    content = _text(_first_content(raw.get("content")), limits.max_text_chars, collapse=False)
    # dict.get: FeedParserDict.get maps a missing published_parsed to updated_parsed, warning
    published = _struct_to_utc(_own(raw, "published_parsed")) or _struct_to_utc(
        _own(raw, "updated_parsed")
    )
    guid = _text(raw.get("id"), limits.max_url_chars)
    author = _text(_plain(raw, "author"), 500)
    return _entry(guid, link, title, published, author, summary, content)


def _own(raw: Mapping[str, Any], key: str) -> object:
    return dict.get(raw, key) if isinstance(raw, dict) else raw.get(key)


def _plain(raw: Mapping[str, Any], key: str) -> str | None:
    """A feedparser text field as plain text (feedparser keeps markup when it guessed HTML)."""
    value = raw.get(key)
    if not isinstance(value, str):
        return None
    detail = raw.get(f"{key}_detail")
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if "html" in str(kind):
        return html.unescape(_TAG.sub("", value))
    return value


def _first_content(contents: object) -> str | None:
    if not isinstance(contents, list) or not contents:
        return None
    by_type = sorted(contents, key=lambda c: "html" not in str(c.get("type", "")))
    value = by_type[0].get("value")
    return value if isinstance(value, str) else None


def _struct_to_utc(value: object) -> datetime | None:
    if not isinstance(value, struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _describe_bozo(exc: object) -> str:
    if exc is None:
        return "ill-formed feed"
    text = str(exc).strip() or type(exc).__name__
    return f"ill-formed feed: {text}"


# --- JSON Feed --------------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str | None, limits: ParseLimits) -> ParsedFeed:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return ParsedFeed(error=f"not a valid JSON Feed: {exc}")
    if not isinstance(document, dict):
        return ParsedFeed(error="not a valid JSON Feed: the top level is not an object")
    base = _json_str(document.get("feed_url")) or url
    items = document.get("items")
    error = None
    if not isinstance(items, list):
        error = "not a valid JSON Feed: no items list"
        items = []
    entries = _latest(
        [_json_entry(item, base, limits) for item in items if isinstance(item, dict)],
        limits.max_entries,
    )
    entries = _with_language(entries, document.get("language"))
    if "version" not in document and error is None:
        error = "JSON Feed without a version"
    return ParsedFeed(
        title=_text(_json_title(document.get("title")), limits.max_title_chars),
        link=_link(_json_str(document.get("home_page_url")), base, limits),
        entries=tuple(entries),
        error=error,
    )


def _json_entry(item: Mapping[str, Any], base: str | None, limits: ParseLimits) -> FeedEntry:
    raw_id = item.get("id")
    guid = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    link = _link(_json_str(item.get("url")) or _json_str(item.get("external_url")), base, limits)
    title = _text(_json_title(item.get("title")), limits.max_title_chars)
    content = _json_str(item.get("content_html"))
    if content is None and (plain := _json_str(item.get("content_text"))) is not None:
        content = html.escape(plain)
    summary = _json_str(item.get("summary"))
    published = _iso_to_utc(item.get("date_published")) or _iso_to_utc(item.get("date_modified"))
    return _entry(
        _text(guid, limits.max_url_chars),
        link,
        title,
        published,
        _text(_json_author(item), 500),
        _text(summary and html.escape(summary), limits.max_text_chars, collapse=False),
        _text(content, limits.max_text_chars, collapse=False),
    )


def _json_author(item: Mapping[str, Any]) -> str | None:
    authors = item.get("authors")
    candidates: Iterable[object] = authors if isinstance(authors, list) else [item.get("author")]
    names = [
        name
        for author in candidates
        if isinstance(author, dict) and (name := _json_str(author.get("name")))
    ]
    return ", ".join(names) or None


def _json_title(value: object) -> str | None:
    """A JSON Feed title: plain text by the spec, but publishers often leave HTML entities in."""
    return html.unescape(value) if isinstance(value, str) else None


def _json_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _iso_to_utc(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# --- shared -----------------------------------------------------------------------------


def _entry(
    guid: str | None,
    link: str | None,
    title: str | None,
    published: datetime | None,
    author: str | None,
    summary: str | None,
    content: str | None,
) -> FeedEntry:
    content_hash = hash_content(title, link, content or summary)
    return FeedEntry(
        identity=entry_identity(guid, link, content_hash),
        content_hash=content_hash,
        guid=guid,
        link=link,
        title=title,
        published=published,
        author=author,
        summary=summary,
        content=content,
    )


def _with_language(entries: list[FeedEntry], tag: object) -> list[FeedEntry]:
    """The entries with the language their feed declares ("en-us" → "en"), if it does."""
    code = language_code(tag) if isinstance(tag, str) else None
    return [replace(entry, language=code) for entry in entries] if code else entries


def _latest(entries: list[FeedEntry], max_entries: int) -> list[FeedEntry]:
    """At most ``max_entries``: the latest by date (undated ones last), in document order."""
    if len(entries) <= max_entries:
        return entries
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (entries[i].published is None, -_timestamp(entries[i]), i),
    )
    return [entries[i] for i in sorted(ranked[:max_entries])]


def _timestamp(entry: FeedEntry) -> float:
    return entry.published.timestamp() if entry.published is not None else 0.0


def _text(value: object, max_chars: int, *, collapse: bool = True) -> str | None:
    if not isinstance(value, str):
        return None
    text = _WHITESPACE.sub(" ", value).strip() if collapse else value.strip()
    return text[:max_chars] or None


def _link(value: object, base: str | None, limits: ParseLimits) -> str | None:
    return absolute_http_link(value, base, limits.max_url_chars)
