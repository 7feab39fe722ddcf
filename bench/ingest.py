"""Ingest benchmark: N feeds x 20 entries on a loopback server, first poll and a 304 poll.

    python -m bench.ingest                 # 1 000 feeds (about 5 000 new articles)
    python -m bench.ingest --feeds 20      # CI smoke size

Feeds are generated; each entry links to its own URL serving a news page from
``corpus/extraction/zyte``. The server runs in a separate process so it does not share our
CPU accounting. Measured in one run:

- first poll (new feeds: the latest 5 entries of each become articles): seconds, and CPU
  seconds of newsbot's process plus its page-reading workers, per 1 000 new articles;
- second poll, every feed answering 304: seconds;
- baseline: the same pages read by plain extract + summarise in the same kind of pool.

Ratios: 304 poll / first poll, first poll / baseline (wall and CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from bench.procstat import living
from bot.article.extract import extract_html
from bot.article.summary import summarize
from bot.config import Config, FeedConfig, HttpSettings, PollSettings, Settings
from bot.ingest.poll import process_pool
from bot.ingest.pollsetup import open_poller

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("NEWSBOT_SHARED", ROOT.parent / "shared")) / "corpus"
ENTRIES = 20
BACKLOG = 5


def serve(feeds: int, pages_dir: str, port_out: Any, stop: Event) -> None:
    """The server process: feeds with ETags (a repeat poll gets 304), one URL per entry."""
    sys.path.insert(0, str(ROOT))
    from tests.support.feedgen import items, rss
    from tests.support.httpserver import LoopbackServer, Response

    pages = [p.read_bytes() for p in sorted(Path(pages_dir).glob("*.html"))]
    page_type = {"Content-Type": "text/html; charset=utf-8"}
    with LoopbackServer() as server:
        for f in range(feeds):
            name = f"feed{f:04d}"
            for k in range(ENTRIES):
                body = pages[(f * ENTRIES + k) % len(pages)]
                server.add(f"/{name}/{k}.html", Response(body=body, headers=page_type))
            document = rss(items(name, ENTRIES, server.url(f"/{name}"), pages=ENTRIES))
            server.add(
                f"/feeds/{name}.xml",
                Response(
                    body=document, headers={"Content-Type": "application/rss+xml"}, etag='"1"'
                ),
            )
        port_out.put(server.base_url)
        stop.wait()


def read_page(body: bytes) -> int:
    """The baseline's unit of work: extract and summarise one page."""
    return len(summarize(extract_html(body), 2).lead)


def descendant_cpu_s(exclude: set[int]) -> float:
    """CPU seconds so far of this process's living descendants (the page-reading workers and
    their fork server, which includes the workers it has reaped), except ``exclude`` (the
    loopback server), read from /proc. Phases take differences."""
    me = os.getpid()
    stats = list(living())
    parents = {p.pid: p.parent for p in stats}
    cpu = {p.pid: p.cpu_s for p in stats}
    total = 0.0
    for pid in cpu:
        ancestor = parents.get(pid)
        chain = {pid}
        while ancestor and ancestor != me and ancestor not in chain:
            chain.add(ancestor)
            ancestor = parents.get(ancestor)
        if ancestor == me and not chain & exclude:
            total += cpu[pid]
    return total


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def poll(
    config: Config, factory: Callable[[], Executor], at: datetime, exclude: set[int]
) -> dict[str, float]:
    cpu_before = own_cpu_s() + descendant_cpu_s(exclude)
    started = time.perf_counter()
    async with open_poller(config, executor_factory=factory) as poller:
        poller.clock = lambda: at
        reports = await poller.poll_feeds(poller.due_feeds(at))
        seconds = time.perf_counter() - started
        worker_cpu = descendant_cpu_s(exclude)
    return {
        "seconds": seconds,
        "cpu_s": own_cpu_s() - cpu_before + worker_cpu,
        "feeds": len(reports),
        "new": sum(r.new for r in reports),
        "not_modified": sum(1 for r in reports if r.status == 304),
        "failed": sum(1 for r in reports if r.errors),
        "fallbacks": sum(r.fallbacks for r in reports),
    }


def baseline(
    bodies: list[bytes], factory: Callable[[], Executor], exclude: set[int]
) -> dict[str, float]:
    cpu_before = own_cpu_s() + descendant_cpu_s(exclude)
    started = time.perf_counter()
    with factory() as pool:
        list(pool.map(read_page, bodies, chunksize=4))
        seconds = time.perf_counter() - started
        worker_cpu = descendant_cpu_s(exclude)
    return {"seconds": seconds, "cpu_s": own_cpu_s() - cpu_before + worker_cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--executor", choices=("process", "thread"), default="process")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    pages_dir = CORPUS / "extraction" / "zyte" / "pages"
    pages = sorted(pages_dir.glob("*.html"))
    workers = args.workers

    def factory() -> Executor:
        if args.executor == "thread":
            return ThreadPoolExecutor(workers)
        return process_pool(workers)

    context = multiprocessing.get_context("spawn")
    port_out = context.Queue()
    stop = context.Event()
    server = context.Process(target=serve, args=(args.feeds, str(pages_dir), port_out, stop))
    server.start()
    try:
        base_url = port_out.get(timeout=600)
        exclude = {server.pid or -1}
        with tempfile.TemporaryDirectory() as tmp:
            feeds = tuple(
                # the loopback server is a private address: allowed by hand, as an admin would
                FeedConfig(
                    name=f"feed{f:04d}",
                    url=f"{base_url}/feeds/feed{f:04d}.xml",
                    allow_private=True,
                )
                for f in range(args.feeds)
            )
            settings = Settings(
                poll=PollSettings(new_feed_backlog=BACKLOG),
                http=HttpSettings(max_concurrent=16, max_per_host=16),
            )
            config = Config(settings, feeds, Path(tmp), Path(tmp) / "data")
            now = datetime.now(UTC)
            first = asyncio.run(poll(config, factory, now, exclude))
            second = asyncio.run(poll(config, factory, now + timedelta(days=1), exclude))
            # the pages the first poll read: the latest BACKLOG entries of every feed
            bodies = [
                pages[(f * ENTRIES + k) % len(pages)].read_bytes()
                for f in range(args.feeds)
                for k in range(BACKLOG)
            ]
            base = baseline(bodies, factory, exclude)
    finally:
        stop.set()
        server.join(timeout=30)
    new = max(first["new"], 1)
    result = {
        "feeds": args.feeds,
        "executor": f"{args.executor} x{workers}",
        "first_poll": first,
        "first_poll_s_per_1000_new": round(first["seconds"] * 1000 / new, 2),
        "first_poll_cpu_s_per_1000_new": round(first["cpu_s"] * 1000 / new, 2),
        "poll_304": second,
        "baseline_extract_summarise": base,
        "ratio_304_poll_vs_first_poll": round(second["seconds"] / first["seconds"], 4),
        "ratio_first_poll_vs_baseline_wall": round(first["seconds"] / base["seconds"], 3),
        "ratio_first_poll_vs_baseline_cpu": round(first["cpu_s"] / base["cpu_s"], 3),
    }
    print(json.dumps(_rounded(result), indent=2))
    if first["failed"] or second["failed"] or not first["new"]:
        print("a feed failed or nothing was read: the figures above measure nothing")
        return 1
    return 0


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


if __name__ == "__main__":
    raise SystemExit(main())
