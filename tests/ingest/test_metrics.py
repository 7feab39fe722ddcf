"""The ingest side's metrics: articles ingested, feed errors by kind, read-job timeouts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot import metrics
from bot.ingest.workers import JobTimeout, ProcessWorkers, WorkerPool
from tests.ingest.test_ingest import PAGES, feed, make_config, pages, poll_once, serve, server
from tests.support.feedgen import items
from tests.support.httpserver import LoopbackServer, Response
from tests.support.metrics import counting, value

__all__ = ["pages", "server"]  # fixtures


def test_polls_count_articles_ingested_and_each_failing_feed_by_kind(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """Two good feeds bring 4 articles; a 500 and a garbage feed each count as their kind."""
    link = server.url("/pages")
    serve(server, "good1", items("good1", 2, link, pages=PAGES))
    serve(server, "good2", items("good2", 2, link, pages=PAGES))
    server.add("/feeds/down.xml", Response(status=500, body=b"down"))
    server.add("/feeds/junk.xml", Response(body=b"\x00\x01 not a feed at all"))
    config = make_config(tmp_path, [feed(server, n) for n in ("good1", "down", "junk", "good2")])
    with counting() as registry:
        reports = poll_once(config)
    assert value(registry, "newsbot_articles_ingested_total") == 4
    assert value(registry, "newsbot_feed_polls_total") == 4
    assert value(registry, "newsbot_feed_errors_total", kind="http_status") == 1
    assert value(registry, "newsbot_feed_errors_total", kind="parse") == 1
    kinds = {r.feed: r.error_kind for r in reports}
    assert kinds == {"good1": None, "down": "http_status", "junk": "parse", "good2": None}


def test_nothing_is_counted_while_metrics_are_off(server: LoopbackServer, tmp_path: Path) -> None:
    """Metrics off (the default): the poll runs the same and no registry gets a sample."""
    serve(server, "good1", items("good1", 2, server.url("/pages"), pages=PAGES))
    with counting() as registry:
        metrics.disable()
        reports = poll_once(make_config(tmp_path, [feed(server, "good1")]))
    assert reports[0].new == 2
    assert value(registry, "newsbot_articles_ingested_total") == 0
    assert value(registry, "newsbot_feed_polls_total") == 0


def _sleep_long() -> None:
    time.sleep(30)


def test_a_job_past_its_limit_counts_one_read_job_timeout() -> None:
    async def scenario() -> None:
        pool = WorkerPool(lambda: ProcessWorkers(1, job_timeout_s=1.0))
        try:
            with pytest.raises(JobTimeout):
                await pool.run(_sleep_long)
        finally:
            pool.close()

    with counting() as registry:
        asyncio.run(scenario())
    assert value(registry, "newsbot_read_job_timeouts_total") == 1
