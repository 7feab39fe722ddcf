"""How digests, search results and alerts read in Telegram (HTML parse mode).

Every string that came from a feed is cleaned, capped and escaped here; links are kept only when
they are http(s). Functions return finished messages, each at most 4096 UTF-16 units.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.delivery.digest import Digest, DigestItem
from bot.delivery.shown_quote import shown_quote, speaker_to_show
from bot.delivery.telegram_html import (
    MAX_MESSAGE_UNITS,
    clean_text,
    cut_words,
    escape_text,
    fit_markup,
    link,
    pack_messages,
    to_plain_text,
)
from bot.models import StoredArticle

TITLE_MAX_CHARS = 200
SOURCE_MAX_CHARS = 60
LEAD_MAX_CHARS = 480
QUOTE_MAX_CHARS = 280
SPEAKER_MAX_CHARS = 60
SNIPPET_MAX_CHARS = 300
QUERY_MAX_CHARS = 100
CARD_DESCRIPTION_MAX_CHARS = 200
ALSO_IN_MAX_FEEDS = 4

BLOCK_SEPARATOR = "\n\n"


class SearchHit(Protocol):
    """What a search result must offer to be shown (the search engine's hit satisfies it)."""

    @property
    def title(self) -> str: ...
    @property
    def link(self) -> str: ...
    @property
    def feed(self) -> str: ...
    @property
    def published(self) -> datetime: ...
    @property
    def snippet(self) -> Sequence[tuple[str, bool]]:
        """Segments of text in order, each marked True where it matched the query."""
        ...


def format_local_time(when: datetime, *, tz: ZoneInfo, now: datetime) -> str:
    """ "14:05" for today in the chat's zone, "3 Mar" earlier this year, else "3 Mar 2024"."""
    local = when.astimezone(tz)
    today = now.astimezone(tz).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.year == today.year:
        return f"{local.day} {local.strftime('%b')}"
    return f"{local.day} {local.strftime('%b')} {local.year}"


def format_local_date(when: datetime, *, tz: ZoneInfo, now: datetime) -> str:
    """ "today", "yesterday", "3 Mar" or "3 Mar 2024" in the chat's zone."""
    local = when.astimezone(tz).date()
    today = now.astimezone(tz).date()
    if local == today:
        return "today"
    if local == today - timedelta(days=1):
        return "yesterday"
    if local.year == today.year:
        return f"{local.day} {when.astimezone(tz).strftime('%b')}"
    return f"{local.day} {when.astimezone(tz).strftime('%b')} {local.year}"


def _field(text: str | None, max_chars: int) -> str:
    """An untrusted string, cleaned, capped at a word and escaped."""
    return escape_text(cut_words(clean_text(text or ""), max_chars))


def _title_line(title: str, url: str) -> str:
    shown = _field(title, TITLE_MAX_CHARS) or "(untitled)"
    return f"<b>{link(shown, url)}</b>"


def _lead(article: StoredArticle, sentences: int) -> str:
    lead = " ".join(clean_text(s) for s in article.lead[: max(1, min(2, sentences))])
    if not lead:
        lead = clean_text(article.text)
    return _field(lead, LEAD_MAX_CHARS)


def _quote_line(article: StoredArticle, lead: str) -> str:
    """The key quote not already in the lead shown, with its speaker when that is a name."""
    quote = shown_quote(article.quotes, lead)
    if quote is None:
        return ""
    text = _field(quote.text, QUOTE_MAX_CHARS)
    if not text:
        return ""
    shown = speaker_to_show(clean_text(quote.speaker or ""), quote.text)
    speaker = _field(shown, SPEAKER_MAX_CHARS)
    return f"<i>“{text}”</i>" + (f" — {speaker}" if speaker else "")


def render_item(
    item: DigestItem,
    *,
    tz: ZoneInfo,
    now: datetime,
    lead_sentences: int = 2,
    max_units: int = MAX_MESSAGE_UNITS,
) -> str:
    """One story: bold linked title, "source · local time", lead, top quote with its speaker."""
    article = item.article
    when = format_local_time(article.published, tz=tz, now=now)
    meta = f"{_field(article.feed, SOURCE_MAX_CHARS)} · {when}"
    if item.also_in:
        names = [_field(name, SOURCE_MAX_CHARS) for name in item.also_in[:ALSO_IN_MAX_FEEDS]]
        extra = len(item.also_in) - ALSO_IN_MAX_FEEDS
        meta += " · also in: " + ", ".join(names) + (f" +{extra}" if extra > 0 else "")
    lines = [_title_line(article.title, article.link), meta]
    lead = _lead(article, lead_sentences)
    if lead:
        lines.append(lead)
    quote = _quote_line(article, to_plain_text(lead))
    if quote:
        lines.append(quote)
    return fit_markup("\n".join(lines), max_units)


def digest_header(count: int, *, since: datetime | None, tz: ZoneInfo, now: datetime) -> str:
    """ "Your digest · 3 new since 08:00" (the chat's local time)."""
    stories = "1 new story" if count == 1 else f"{count} new"
    text = f"<b>Your digest</b> · {stories}"
    if since is not None:
        text += f" since {format_local_time(since, tz=tz, now=now)}"
    return text


def digest_blocks(
    digest: Digest,
    *,
    tz: ZoneInfo,
    now: datetime,
    lead_sentences: int = 2,
    since: datetime | None = None,
    max_units: int = MAX_MESSAGE_UNITS,
) -> list[str]:
    """The digest as blocks (header, one per item, footer), each fitting one message.

    Joined with BLOCK_SEPARATOR they are the whole digest; render_digest packs them into messages.
    """
    blocks = [digest_header(digest.total, since=since, tz=tz, now=now)]
    blocks.extend(
        render_item(item, tz=tz, now=now, lead_sentences=lead_sentences, max_units=max_units)
        for item in digest.items
    )
    if digest.more:
        blocks.append(f"<i>…and {digest.more} more, kept for your next digest.</i>")
    return [fit_markup(block, max_units) for block in blocks]


def render_digest(
    digest: Digest,
    *,
    tz: ZoneInfo,
    now: datetime,
    lead_sentences: int = 2,
    since: datetime | None = None,
    max_units: int = MAX_MESSAGE_UNITS,
) -> list[str]:
    """The digest as messages, split between items, each at most max_units UTF-16 units."""
    blocks = digest_blocks(
        digest, tz=tz, now=now, lead_sentences=lead_sentences, since=since, max_units=max_units
    )
    return pack_messages(blocks, max_units=max_units, separator=BLOCK_SEPARATOR)


def render_nothing_new(*, since: datetime | None, tz: ZoneInfo, now: datetime) -> str:
    """The one line an empty digest sends when the chat wants to hear it."""
    if since is None:
        return "Nothing new yet."
    return f"Nothing new since {format_local_time(since, tz=tz, now=now)}."


def _snippet(segments: Sequence[tuple[str, bool]]) -> str:
    parts: list[str] = []
    budget = SNIPPET_MAX_CHARS
    for text, is_match in segments:
        if budget <= 0:
            break
        piece = cut_words(clean_text(text, strip=False), budget)
        budget -= len(piece)
        escaped = escape_text(piece)
        if is_match and escaped.strip():
            parts.append(f"<b>{escaped}</b>")
        else:
            parts.append(escaped)
    return "".join(parts).strip()


def render_card(hit: SearchHit, *, tz: ZoneInfo, now: datetime) -> str:
    """What choosing an inline result posts: the linked title, then source · local date."""
    meta = (
        f"{_field(hit.feed, SOURCE_MAX_CHARS)} · {format_local_date(hit.published, tz=tz, now=now)}"
    )
    return f"{_title_line(hit.title, hit.link)}\n{meta}"


def card_description(hit: SearchHit, lead: str, *, tz: ZoneInfo, now: datetime) -> str:
    """An inline result's plain-text description: source · date — the lead (or snippet)."""
    text = clean_text(lead) or clean_text("".join(part for part, _ in hit.snippet))
    meta = f"{cut_words(clean_text(hit.feed), SOURCE_MAX_CHARS)} · "
    meta += format_local_date(hit.published, tz=tz, now=now)
    return cut_words(f"{meta} — {text}" if text else meta, CARD_DESCRIPTION_MAX_CHARS)


def render_search_hit(hit: SearchHit, *, number: int, tz: ZoneInfo, now: datetime) -> str:
    """One result: number, bold linked title, source · local date, snippet with matches in bold."""
    meta = (
        f"{_field(hit.feed, SOURCE_MAX_CHARS)} · {format_local_date(hit.published, tz=tz, now=now)}"
    )
    lines = [f"{number}. {_title_line(hit.title, hit.link)}", meta]
    snippet = _snippet(hit.snippet)
    if snippet:
        lines.append(snippet)
    return fit_markup("\n".join(lines), MAX_MESSAGE_UNITS)


_QUOTE_MARKS = "\"“”„«»'‘’"


def _shown_query(query: str) -> str:
    """The query as typed, shown once: in quotes unless it already has quote marks of its own."""
    shown = _field(" ".join(query.split()), QUERY_MAX_CHARS)
    if any(mark in query for mark in _QUOTE_MARKS):
        return shown
    return f"“{shown}”"


def render_search_results(
    hits: Sequence[SearchHit],
    *,
    query: str,
    tz: ZoneInfo,
    now: datetime,
    offset: int = 0,
    total: int | None = None,
    max_units: int = MAX_MESSAGE_UNITS,
) -> list[str]:
    """One page of results as messages: a header, then the hits numbered from offset + 1."""
    shown_query = _shown_query(query)
    if not hits:
        return [
            f"Nothing found for {shown_query}. Try fewer or broader words, "
            "or a word's beginning with * (elect*)."
        ]
    first, last = offset + 1, offset + len(hits)
    of_total = f" of {total}" if total is not None else ""
    header = f"<b>Results {first}–{last}{of_total}</b> for {shown_query}"
    blocks = [header]
    blocks.extend(
        render_search_hit(hit, number=offset + i + 1, tz=tz, now=now) for i, hit in enumerate(hits)
    )
    return pack_messages(blocks, max_units=max_units, separator=BLOCK_SEPARATOR)


def render_alert(
    article: StoredArticle,
    *,
    words: str,
    tz: ZoneInfo,
    now: datetime,
    lead_sentences: int = 2,
    also_in: Sequence[str] = (),
) -> str:
    """A keyword alert: one message naming the alert's words, then the story as in a digest."""
    header = f"🔔 <b>Alert</b>: {_field(words, QUERY_MAX_CHARS)}"
    item = render_item(
        DigestItem(article=article, also_in=tuple(also_in), article_ids=(article.id,)),
        tz=tz,
        now=now,
        lead_sentences=lead_sentences,
    )
    return fit_markup(f"{header}\n{item}", MAX_MESSAGE_UNITS)
