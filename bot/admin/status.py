"""The admins' health commands: /feedstatus (each feed's health) and /stats (today's numbers)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin.access import admins_only, command_args
from bot.admin.args import parse_feed
from bot.admin.desk import AdminDesk
from bot.chat.replies import reply
from bot.config import FeedConfig
from bot.delivery.telegram_html import escape_text
from bot.errors import InputError
from bot.ingest.health import (
    RATE_DAYS,
    compute_stats,
    count_articles_by_feed,
    feed_health,
    format_health,
    format_stats,
)

MAX_CHUNK_CHARS = 3500


@admins_only("feedstatus")
async def feedstatus(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Each feed's health (or one feed's, by name)."""
    feeds: Sequence[FeedConfig] = desk.feeds
    query = command_args(context)
    if query:
        try:
            feeds = [parse_feed(query, desk.feeds, "feedstatus")]
        except InputError as exc:
            await reply(update, str(exc), html=False)
            return
    now = desk.clock()
    text = await asyncio.to_thread(_health_text, desk, feeds, now)
    for chunk in split_lines(text, MAX_CHUNK_CHARS):
        await reply(update, f"<pre>{escape_text(chunk)}</pre>")


def _health_text(desk: AdminDesk, feeds: Sequence[FeedConfig], now: datetime) -> str:
    since = now - timedelta(days=RATE_DAYS)
    recent = count_articles_by_feed(desk.store.iter_articles(since), now)
    rows = feed_health(feeds, desk.store.feed_states(), recent, desk.default_interval_minutes)
    return format_health(rows, now)


def split_lines(text: str, max_chars: int) -> list[str]:
    """Chunks of whole lines, each at most ``max_chars`` (a longer line is cut)."""
    chunks: list[str] = []
    current = ""
    for line in text.rstrip("\n").split("\n"):
        line = line[:max_chars]
        if current and len(current) + 1 + len(line) > max_chars:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not chunks:
        chunks.append(current or "(nothing)")
    return chunks


@admins_only("stats")
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Chats, articles, digests and messages today, feeds paused and failing."""
    now = desk.clock()
    day = desk.ledger.stats(now.date())
    numbers = compute_stats(
        (p.active for p in desk.chats.all().values()),
        desk.store.article_count(),
        day.digests,
        day.messages,
        day.errors + day.abandoned,
        desk.feeds,
        desk.store.feed_states(),
        now.date(),
    )
    await reply(update, format_stats(numbers), html=False)
