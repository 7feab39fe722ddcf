"""Inline search: ``@yourbot words`` in any chat answers with the articles /search finds, in
the same order: the same index, query language and ranking, paged with ``next_offset``.

Each result shows the title, the article's picture (og:image) as its thumbnail, and as its
description the source, the date and the lead;
choosing one posts a compact card (the linked title, source · date). Answers are kept per
query and offset for ``CACHE_S`` seconds (Telegram is told to cache them as long), so typing
and scrolling cost one index query per page; a query that is not cached counts against the
user's search budget, shared with /search (bot.chat.services.SearchLimits). A button opens
the private chat with the same search, for a query the user wants to read at length.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from zoneinfo import ZoneInfo

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.chat.services import Services, services
from bot.delivery.render import card_description, render_card
from bot.delivery.telegram_html import clean_text, cut_words
from bot.errors import QueryError
from bot.logfields import fields
from bot.search.index import SearchHit

log = logging.getLogger("newsbot.inline")

RESULTS_PER_PAGE = 10  # Telegram takes up to 50
CACHE_S = 60
MAX_CACHED = 1000
MAX_OFFSET = 500
SEARCH_PAYLOAD = "search"
_PAYLOAD_PREFIX = "search-"
TITLE_MAX_CHARS = 120

Answer = tuple[list[InlineQueryResultArticle], str]


def search_payload(words: str) -> str:
    """The /start payload that opens the private chat with this search: the words when they
    fit Telegram's 64 characters of ``A-Za-z0-9_-``, else plain ``search``."""
    encoded = base64.urlsafe_b64encode(words.encode("utf-8")).decode("ascii").rstrip("=")
    payload = _PAYLOAD_PREFIX + encoded
    return payload if len(payload) <= 64 else SEARCH_PAYLOAD


def words_of_payload(payload: str) -> str | None:
    """The search words a ``search-…`` payload carries; None when it carries none (or is
    forged beyond reading)."""
    if not payload.startswith(_PAYLOAD_PREFIX):
        return None
    encoded = payload[len(_PAYLOAD_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        words = " ".join(raw.decode("utf-8").split())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return words if words and words.isprintable() else None


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer ``@bot words`` with one page of search results."""
    query = update.inline_query
    if query is None:
        return
    s = services(context)
    words = " ".join(query.query.split())
    button = InlineQueryResultsButton(
        text="Search in a private chat",
        start_parameter=search_payload(words) if words else "search",
    )
    if not words:
        await query.answer([], cache_time=CACHE_S, button=button)
        return
    offset = _offset(query.offset)
    key = (words.casefold(), offset)
    now_s = time.monotonic()
    cached = s.inline_answers.get(key)
    if cached is not None and now_s - cached[0] < CACHE_S:
        results, next_offset = cached[1]
    else:
        wait_s = s.search_limits.wait_s(query.from_user.id)
        if wait_s:
            note = f"Too many searches: wait {max(1, round(wait_s))} s"
            await query.answer([], cache_time=0, is_personal=True, button=_note(note))
            return
        try:
            results, next_offset = await _search(s, query.from_user.id, words, offset)
        except QueryError as exc:
            await query.answer([], cache_time=0, button=_note(str(exc)))
            return
        _remember(s, key, now_s, (results, next_offset))
    log.info("inline search %s", fields(user=query.from_user.id, offset=offset, hits=len(results)))
    await query.answer(results, cache_time=CACHE_S, next_offset=next_offset, button=button)


async def _search(s: Services, user_id: int, words: str, offset: int) -> Answer:
    now = s.clock()
    page = await asyncio.to_thread(
        s.index.search, words, now=now, limit=RESULTS_PER_PAGE, offset=offset
    )
    prefs = s.chats.get(user_id)
    zone = prefs.zone if prefs is not None else ZoneInfo(s.defaults.time_zone)
    stored = await asyncio.to_thread(s.digests.store.get, [hit.id for hit in page.hits])
    leads = {a.id: " ".join(a.lead[:1]) for a in stored}
    images = {a.id: a.image for a in stored}
    results = [
        _result(hit, leads.get(hit.id, ""), zone, s, image=images.get(hit.id)) for hit in page.hits
    ]
    more = page.has_more and offset + RESULTS_PER_PAGE <= MAX_OFFSET
    return results, str(offset + len(page.hits)) if more else ""


def _result(
    hit: SearchHit, lead: str, zone: ZoneInfo, s: Services, *, image: str | None = None
) -> InlineQueryResultArticle:
    """One result; ``image`` (the article's og:image) is its thumbnail."""
    now = s.clock()
    card = render_card(hit, tz=zone, now=now)
    return InlineQueryResultArticle(
        id=hit.id[:64],
        title=cut_words(clean_text(hit.title), TITLE_MAX_CHARS) or "(untitled)",
        description=card_description(hit, lead, tz=zone, now=now),
        url=hit.link or None,
        thumbnail_url=image,
        input_message_content=InputTextMessageContent(
            card,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(url=hit.link) if hit.link else None,
        ),
    )


def _note(text: str) -> InlineQueryResultsButton:
    """A button above the (empty) results that says why there are none."""
    return InlineQueryResultsButton(cut_words(clean_text(text), 60), start_parameter="search")


def _offset(text: str) -> int:
    """The offset Telegram hands back (ours, but clients can send anything): 0 if unreadable."""
    return int(text) if text.isdigit() and int(text) <= MAX_OFFSET else 0


def _remember(s: Services, key: tuple[str, int], now_s: float, answer: Answer) -> None:
    s.inline_answers[key] = (now_s, answer)
    s.inline_answers.move_to_end(key)
    while len(s.inline_answers) > MAX_CACHED:
        s.inline_answers.popitem(last=False)
