"""Several processes polling one PostgreSQL database: they share the feeds, a window of claims
at a time, and no feed is polled twice. Each ``Poller`` here stands for one process (its own
store connections and claim owner), against a loopback feed server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from bot.config import BotSettings, Config, FeedConfig, HttpSettings, PollSettings, Settings
from bot.ingest.poll import FeedReport
from bot.ingest.pollsetup import open_poller
from tests.support.e2e import page
from tests.support.feedgen import items, rss
from tests.support.httpserver import LoopbackServer, Response

FEEDS = 24
ENTRIES = 2
PAGES = 4


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    html = {"Content-Type": "text/html; charset=utf-8"}
    with LoopbackServer() as running:
        for i in range(PAGES):
            body = page(f"Story {i} of the day", f"Story number {i} happened today")
            running.add(f"/pages/{i}.html", Response(body=body, headers=html))
        for f in range(FEEDS):
            document = rss(items(f"feed{f}", ENTRIES, running.url("/pages"), pages=PAGES))
            running.add(
                f"/feeds/feed{f}.xml",
                Response(
                    body=document, headers={"Content-Type": "application/rss+xml"}, stall_s=0.05
                ),
            )
        yield running


def make_config(tmp_path: Path, server: LoopbackServer, url: str) -> Config:
    settings = Settings(
        bot=BotSettings(allow_private_feeds=True),
        poll=PollSettings(new_feed_backlog=ENTRIES),
        http=HttpSettings(max_concurrent=2, max_per_host=2),  # claims: 4 feeds at a time
    )
    feeds = tuple(
        FeedConfig(name=f"feed{f}", url=server.url(f"/feeds/feed{f}.xml")) for f in range(FEEDS)
    )
    return Config(settings, feeds, tmp_path, tmp_path / "data", database_url=url)


async def _two_processes(config: Config, *, one_after_the_other: bool) -> list[list[FeedReport]]:
    async with (
        open_poller(config, executor_factory=lambda: ThreadPoolExecutor(1)) as one,
        open_poller(config, executor_factory=lambda: ThreadPoolExecutor(1)) as two,
    ):
        due = [p.due_feeds(p.clock()) for p in (one, two)]  # both decide before either polls
        if one_after_the_other:
            return [await one.poll_feeds(due[0]), await two.poll_feeds(due[1])]
        return list(await asyncio.gather(one.poll_feeds(due[0]), two.poll_feeds(due[1])))


def _articles(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])  # type: ignore[index]


def _pages_read(server: LoopbackServer) -> int:
    return sum(server.hits(f"/pages/{i}.html") for i in range(PAGES))


def test_two_processes_share_the_feeds_and_poll_each_once(
    server: LoopbackServer, tmp_path: Path, pg_url: str
) -> None:
    """Started together, both processes get feeds to poll (neither claims them all), and
    together they poll every feed once and store every article once."""
    config = make_config(tmp_path, server, pg_url)
    one, two = asyncio.run(_two_processes(config, one_after_the_other=False))
    assert one, "the first process left no feed to the second"
    assert two, "the second process left no feed to the first"
    polled = sorted(r.feed for r in (*one, *two))
    assert polled == sorted(f.name for f in config.feeds)
    assert all(server.hits(f"/feeds/feed{f}.xml") == 1 for f in range(FEEDS))
    assert _articles(pg_url) == _pages_read(server) == FEEDS * ENTRIES


def test_a_new_feed_another_process_polled_meanwhile_is_not_polled_again(
    server: LoopbackServer, tmp_path: Path, pg_url: str
) -> None:
    """A process that found the feeds due (never polled) before another polled them all
    polls none of them: their state changed since it decided."""
    config = make_config(tmp_path, server, pg_url)
    one, two = asyncio.run(_two_processes(config, one_after_the_other=True))
    assert (len(one), len(two)) == (FEEDS, 0)
    assert all(server.hits(f"/feeds/feed{f}.xml") == 1 for f in range(FEEDS))
    assert _articles(pg_url) == _pages_read(server) == FEEDS * ENTRIES
