"""Retention: articles older than [store] retention_days leave the archive and the search."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ingest.jobs import PollTicker
from bot.search.index import SearchIndex
from bot.store.datadir import Store
from tests.ingest.test_ingest import Clock, feed, make_config, polling, serve
from tests.support.feedgen import items
from tests.support.httpserver import LoopbackServer


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A feed server; the entries' pages are missing, so articles come from the feed's text."""
    with LoopbackServer() as running:
        yield running


def test_expired_articles_leave_store_and_search_and_do_not_come_back(
    server: LoopbackServer,
    tmp_path: Path,
) -> None:
    """After the retention, a tick between cycles prunes the old articles from the store and
    the index; entries the feed still lists stay seen, so they are not news again."""
    serve(server, "metro", items("metro", 3, server.url("/missing")))
    config = make_config(tmp_path, [feed(server, "metro")])
    clock = Clock()

    async def run() -> tuple[int, int, int]:
        async with polling(config, clock) as poller:
            ticker = PollTicker(poller)
            await ticker.tick()  # first cycle: three new articles
            await ticker.drain()
            stored_before = poller.store.article_count()
            clock.advance(minutes=60 * 24 * (config.settings.store.retention_days + 2))
            await ticker.tick()  # prunes (a cycle has completed), then polls the feed again
            await ticker.drain()
            return stored_before, poller.store.article_count(), len(poller.index)

    before, after, indexed = asyncio.run(run())

    assert before == 3
    assert after == 0
    assert indexed == 0
    with Store.open(config.data_dir, read_only=True) as store:
        assert list(store.iter_articles()) == []
    with SearchIndex.in_data_dir(config.data_dir) as index:
        assert index.search("metro", now=clock.now).total == 0


def test_prune_waits_for_a_completed_cycle(server: LoopbackServer, tmp_path: Path) -> None:
    """Right after start nothing is pruned: the store must first learn which old entries the
    feeds still list (so they are carried forward, not forgotten)."""
    serve(server, "metro", items("metro", 2, server.url("/missing")))
    config = make_config(tmp_path, [feed(server, "metro")])
    clock = Clock()

    async def first_run() -> None:
        async with polling(config, clock) as poller:
            ticker = PollTicker(poller)
            await ticker.tick()
            await ticker.drain()

    asyncio.run(first_run())
    clock.advance(minutes=60 * 24 * (config.settings.store.retention_days + 2))

    async def restart_first_tick() -> int:
        async with polling(config, clock) as poller:
            ticker = PollTicker(poller)
            await ticker.tick()  # no cycle has completed in this process: no prune yet
            count = poller.store.article_count()
            await ticker.drain()
            return count

    assert asyncio.run(restart_first_tick()) == 2
