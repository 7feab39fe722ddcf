"""Benchmark: one digest tick for many chats due at once (the 08:00 rush).

    python -m bench.digests [--chats 10000] [--articles 200] [--baseline-chats 200]

Composing a digest folds stories across feeds (quadratic in the articles), so it is shared
between chats given the same news the same way (``digest_messages(memo=...)``). The baseline,
measured in the same run, composes every chat's digest on its own. Planning goes through the
real Delivery and ledger (one fsync per batch of messages); nothing is sent.
Prints per-chat milliseconds for both, their ratio, and the whole tick's time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Bot

from bot.config import BotSettings
from bot.delivery.chats import Chats
from bot.delivery.digests import Digests, digest_messages, unseen_articles
from bot.delivery.ledger import Ledger
from bot.delivery.prefs import PrefsDefaults, new_chat_prefs
from bot.delivery.sender import Delivery
from bot.delivery.target import Target
from bot.models import StoredArticle
from bot.store.datadir import SeenMark, Store

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
FEEDS = ("World Wire", "Daily Planet", "Sport Desk", "Coast News", "Metro")


def news(count: int) -> list[StoredArticle]:
    """Articles from five feeds over the last hours, some telling the same story."""
    articles = []
    for i in range(count):
        story = i % (count // 2 or 1)
        fetched = NOW - timedelta(minutes=i)
        articles.append(
            StoredArticle(
                id=f"a{i}",
                feed=FEEDS[i % len(FEEDS)],
                title=f"Story {story} on the harbour budget and ferry number {story * 7 % 101}",
                link=f"https://example.org/{i}",
                published=fetched,
                fetched=fetched,
                text=f"The council met about item {story}. Officials spoke about {i % 13} plans.",
                lead=(f"The council met about item {story} in district {story % 17}.",),
            )
        )
    return articles


async def tick(chats_n: int, articles: list[StoredArticle], data_dir: Path) -> float:
    """Seconds one tick takes to plan every due chat's digest."""
    store = Store.in_memory()
    marks = [SeenMark(a.id, "h" + a.id, a.feed, a.id) for a in articles]
    store.commit_cycle(NOW, articles, marks)
    chats = Chats(store.chat_store)
    subscribed = NOW - timedelta(hours=3)
    chats.put(*(new_chat_prefs(c, subscribed, PrefsDefaults()) for c in range(1, chats_n + 1)))

    async def ignore(*_: int) -> None:
        return None

    with Ledger.open(data_dir, now=NOW) as ledger:
        delivery = Delivery(Bot("1:x"), ledger, on_blocked=ignore, on_migrated=ignore)
        digests = Digests(chats, store, ledger, delivery, BotSettings(), lambda: NOW)
        digests.start(NOW)
        for chat_id in range(1, chats_n + 1):
            digests.queue.put(Target(chat_id), NOW - timedelta(seconds=1))
        started = time.perf_counter()
        planned = await digests.tick()
        seconds = time.perf_counter() - started
    assert planned >= chats_n, planned
    return seconds


def baseline(chats_n: int, articles: list[StoredArticle]) -> float:
    """Seconds to compose and render every chat's digest on its own (no sharing)."""
    prefs = new_chat_prefs(1, NOW - timedelta(hours=3), PrefsDefaults())
    started = time.perf_counter()
    for _ in range(chats_n):
        mine = unseen_articles(articles, prefs, since=prefs.created, delivered=set())
        digest_messages(prefs, mine, batch="b", since=None, now=NOW)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--baseline-chats", type=int, default=200)
    args = parser.parse_args()
    articles = news(args.articles)
    with tempfile.TemporaryDirectory() as folder:
        shared_s = asyncio.run(tick(args.chats, articles, Path(folder)))
    alone_s = baseline(args.baseline_chats, articles)
    shared_ms = shared_s / args.chats * 1000
    alone_ms = alone_s / args.baseline_chats * 1000
    print(f"chats={args.chats} articles={args.articles}")
    print(
        f"tick (shared composing, planned in the ledger): {shared_s:.2f} s, {shared_ms:.3f} ms/chat"
    )
    print(f"baseline (each chat composed alone):            {alone_ms:.3f} ms/chat")
    print(f"baseline / shared per chat: {alone_ms / shared_ms:.1f}x")


if __name__ == "__main__":
    main()
