"""Read jobs that never end: the worker is killed and replaced, stop never waits for it, and
no worker outlives the main process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import BotSettings, Config, FeedConfig, Settings
from bot.ingest.entry import ReadJob, ReadSettings, read_entry
from bot.ingest.pollsetup import open_poller
from bot.ingest.workers import JobTimeout, ProcessWorkers, WorkerDied, WorkerPool
from tests.hostile.test_attribution import QUOTE_BOMB
from tests.support.feedgen import Item, rss
from tests.support.httpserver import LoopbackServer, Response

ROOT = Path(__file__).resolve().parents[2]
_HTML = {"Content-Type": "text/html; charset=utf-8"}
_RSS = {"Content-Type": "application/rss+xml"}


def spin() -> None:
    """A job that never ends on its own (a hostile page stuck in C code looks the same)."""
    while True:
        pass


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: its parent has not reaped it yet
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: list[int], within_s: float = 20.0) -> list[int]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if is_alive(pid)]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def test_a_job_past_its_limit_has_its_worker_killed_and_replaced() -> None:
    """The stuck job fails with JobTimeout, its process is gone, the next job runs."""

    async def scenario() -> tuple[int, int]:
        pool = WorkerPool(lambda: ProcessWorkers(1, job_timeout_s=5.0))
        try:
            # os.getpid needs no import in the worker, so a busy machine cannot push it past
            # the limit; only the endless job meets it.
            first = await pool.run(os.getpid)
            with pytest.raises(JobTimeout):
                await pool.run(spin)
            second = await pool.run(os.getpid)
        finally:
            pool.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first != second
    assert wait_gone([first]) == []


def test_closing_the_pool_never_waits_for_a_stuck_job() -> None:
    """close() kills a worker in the middle of an endless job; the job fails, nothing hangs."""

    async def scenario() -> list[int]:
        workers = ProcessWorkers(2, job_timeout_s=3600)
        pool = WorkerPool(lambda: workers)
        stuck = [asyncio.ensure_future(pool.run(spin)) for _ in range(2)]
        while len(workers.worker_pids) < 2:
            await asyncio.sleep(0.05)
        pids = workers.worker_pids
        pool.close()
        for job in stuck:
            with pytest.raises((WorkerDied, asyncio.CancelledError)):
                await job
        return pids

    pids = asyncio.run(scenario())
    assert wait_gone(pids) == []


_ORPHAN_SCRIPT = """
import asyncio, sys
from bot.ingest.workers import ProcessWorkers, WorkerPool
from tests.hostile.test_workers import spin

async def main():
    workers = ProcessWorkers(2, job_timeout_s=3600)
    pool = WorkerPool(lambda: workers)
    jobs = [asyncio.ensure_future(pool.run(spin)) for _ in range(2)]
    while len(workers.worker_pids) < 2:
        await asyncio.sleep(0.05)
    print(" ".join(map(str, workers.worker_pids)), flush=True)
    await asyncio.sleep(3600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_workers_exit_when_the_main_process_is_killed(tmp_path: Path) -> None:
    """kill -9 of the main process during endless jobs leaves no worker running."""
    script = tmp_path / "orphans.py"
    script.write_text(_ORPHAN_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    main = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert main.stdout is not None
        pids = [int(pid) for pid in main.stdout.readline().split()]
        assert len(pids) == 2
        assert all(is_alive(pid) for pid in pids)
        main.send_signal(signal.SIGKILL)
        main.wait(timeout=10)
        assert wait_gone(pids) == []
    finally:
        if main.poll() is None:
            main.kill()
            main.wait(timeout=10)


def _page(body: str) -> bytes:
    head = "<html><head><title>Hostile</title></head>"
    return f"{head}<body><article>{body}</article></body></html>".encode()


def test_a_quote_bomb_page_is_read_within_the_job_limit() -> None:
    """400 “Yes,” he said. quotes (minutes of work before the fix) are read from the page."""
    paragraphs = "".join(f"<p>{part}</p>" for part in [QUOTE_BOMB] * 2)
    job = ReadJob(
        url="https://news.test/bomb",
        title="Hostile",
        page=_page(paragraphs),
        page_content_type="text/html",
        page_problem=None,
        feed_html="<p>The feed's own short text.</p>",
        settings=ReadSettings(),
    )

    async def scenario() -> str:
        pool = WorkerPool(lambda: ProcessWorkers(1, job_timeout_s=30.0))
        try:
            return (await pool.run(read_entry, job)).source
        finally:
            pool.close()

    assert asyncio.run(scenario()) == "page"


def test_a_page_past_the_job_limit_is_stored_from_the_feed_and_retried_once_later(
    tmp_path: Path,
) -> None:
    """An element with 100 000 attributes (minutes of date search): the worker is stopped at
    the limit, the entry is stored with the feed's own text, and its page is read once more
    an hour later (not at a restart before that, and never a third time)."""
    hostile = " ".join(f'data-a{i}="2020-01-{i % 28 + 1:02d}"' for i in range(100_000))
    good = _page("<p>" + "The harbour wall was rebuilt over the winter by the town. " * 20 + "</p>")
    summary = "<p>The feed's own words about the harbour wall, kept when the page fails.</p>"
    clock = [datetime(2026, 3, 1, 8, 0, tzinfo=UTC)]
    with LoopbackServer() as server:
        server.add_sequence(
            "/story.html",
            [
                Response(body=_page(f"<div {hostile}>x</div>"), headers=_HTML),
                Response(body=good, headers=_HTML),
            ],
        )
        entry = Item("s1", "Harbour wall", server.url("/story.html"), clock[0], summary)
        server.add("/feed.xml", Response(body=rss([entry]), headers=_RSS))
        config = Config(
            settings=Settings(bot=BotSettings(allow_private_feeds=True)),
            feeds=(FeedConfig(name="Coast", url=server.url("/feed.xml")),),
            config_dir=tmp_path,
            data_dir=tmp_path / "data",
        )

        async def poll(minutes_later: float) -> str:
            clock[0] += timedelta(minutes=minutes_later)
            workers = lambda: ProcessWorkers(1, job_timeout_s=8.0)  # noqa: E731
            async with open_poller(config, executor_factory=workers) as poller:
                poller.clock = lambda: clock[0]
                await poller.poll_feeds(config.feeds)
                (article,) = poller.store.iter_articles()
                return article.text

        first = asyncio.run(poll(0))
        assert "The feed's own words" in first
        assert server.hits("/story.html") == 1
        assert "The feed's own words" in asyncio.run(poll(10))  # a restart: not due yet
        assert server.hits("/story.html") == 1
        assert "harbour wall was rebuilt" in asyncio.run(poll(60))
        assert server.hits("/story.html") == 2
        asyncio.run(poll(180))
        assert server.hits("/story.html") == 2
