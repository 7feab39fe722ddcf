"""Hostile inputs benchmark: memory and time under attack, each attack in its own process.

    python -m bench.hostile                  # the sizes of the issue (4 GB of stacked gzip)
    python -m bench.hostile --small          # CI smoke size

Each scenario runs in a fresh process; its peak RSS (ru_maxrss) is reported over the RSS the
same process had just before the attack (everything imported, servers started):

- stacked gzip: ``Content-Encoding: gzip, gzip`` whose inner layer is N zero bytes (a few KB
  on the wire), fetched from a loopback server; also one gzip layer of the same zeros. Also
  the longest the event loop went without running a 10 ms ticker during the fetch.
- quote bomb: ``“Yes,” he said.`` × 400 in one paragraph (8 KB), and × 100 000 (1.5 MB),
  read as a page by ``read_entry`` in a worker process under the job limit.
- 100k attributes: one element with 100 000 attributes, read the same way: the job is
  stopped at its limit (``--job-limit``) and the feed's text is used.
- 4 MB search: ``SearchIndex.search`` p50/p95 over the same queries on an index of real
  news articles (CNN/DailyMail from the shared corpus), without and with five 4 MB articles
  made of the same words; the ratio is the one the issue bounds (≤ 1.5×).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _gzip_stream(zero_bytes: int, layers: int) -> bytes:
    """``layers`` gzip layers around ``zero_bytes`` zeros, built a MiB at a time."""
    inner = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = bytes(2**20)
    parts = [inner.compress(chunk) for _ in range(zero_bytes // len(chunk))]
    data = b"".join(parts) + inner.flush()
    for _ in range(layers - 1):
        data = _gzip(data)
    return data


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return packer.compress(data) + packer.flush()


def compression(zero_bytes: int) -> dict[str, Any]:
    from bot.ingest.fetch import Fetcher, FetchSettings, build_client, fetch_feed
    from tests.support.httpserver import LoopbackServer, Response

    stacked = _gzip_stream(zero_bytes, 2)
    single = _gzip_stream(zero_bytes, 1)
    out: dict[str, Any] = {"inner_bytes": zero_bytes, "stacked_wire_bytes": len(stacked)}
    build_client(FetchSettings())  # loads the certificates once, as a running bot has
    with LoopbackServer() as server:
        server.add("/stacked", Response(body=stacked, headers={"Content-Encoding": "gzip, gzip"}))
        server.add("/single", Response(body=single, headers={"Content-Encoding": "gzip"}))
        server.add("/warm", Response(body=b"<rss/>"))

        async def warm() -> None:  # a running bot has made requests before: imports, pools
            async with Fetcher(FetchSettings(allow_private=True)) as fetcher:
                await fetch_feed(fetcher, server.url("/warm"))

        asyncio.run(warm())
        for name in ("stacked", "single"):
            before = _rss_mib()

            async def go(path: str = name) -> tuple[str, float]:
                stall = 0.0
                last = time.perf_counter()
                done = False

                async def tick() -> None:
                    nonlocal stall, last
                    while not done:
                        await asyncio.sleep(0.01)
                        now = time.perf_counter()
                        stall = max(stall, now - last)
                        last = now

                ticker = asyncio.create_task(tick())
                async with Fetcher(FetchSettings(allow_private=True)) as fetcher:
                    result = await fetch_feed(fetcher, server.url(f"/{path}"))
                done = True
                await ticker
                return str(result.error_kind), stall

            started = time.perf_counter()
            kind, stall = asyncio.run(go())
            out[name] = {
                "seconds": round(time.perf_counter() - started, 3),
                "result": kind,
                "event_loop_stall_ms": round(stall * 1000, 1),
                "peak_rss_over_idle_mib": round(_peak_mib() - before, 1),
            }
    return out


def _page(body: str) -> bytes:
    head = "<html><head><title>Hostile</title></head>"
    return f"{head}<body><article>{body}</article></body></html>".encode()


def _read(page: bytes, job_limit_s: float) -> dict[str, Any]:
    from bot.ingest.entry import ReadJob, ReadSettings, read_entry
    from bot.ingest.workers import JobTimeout, ProcessWorkers, WorkerPool

    job = ReadJob(
        url="https://news.test/hostile",
        title="Hostile",
        page=page,
        page_content_type="text/html",
        page_problem=None,
        feed_html="<p>The feed's own text.</p>",
        settings=ReadSettings(),
    )

    async def go() -> tuple[str, float]:
        workers = ProcessWorkers(1, job_timeout_s=job_limit_s)
        pool = WorkerPool(lambda: workers)
        try:
            # the worker's start and first read (loading models) are not the job's time
            await pool.run(read_entry, replace(job, page=_page("<p>Warm up.</p>")))
            started = time.perf_counter()
            try:
                source = (await pool.run(read_entry, job)).source
            except JobTimeout:
                source = "stopped at the job limit"
            return source, time.perf_counter() - started
        finally:
            pool.close()

    source, seconds = asyncio.run(go())
    return {"page_bytes": len(page), "seconds": round(seconds, 3), "result": source}


def quote_bomb(job_limit_s: float, repeats: int) -> dict[str, Any]:
    from bot.article.quotes import find_quotes

    out: dict[str, Any] = {}
    for n in (400, repeats):
        text = "John Smith spoke. " + " ".join(["“Yes,” he said."] * n)
        before = _rss_mib()
        started = time.perf_counter()
        find_quotes(text[:50_000])
        direct = time.perf_counter() - started
        out[f"x{n}"] = {
            "find_quotes_seconds": round(direct, 3),
            "peak_rss_over_idle_mib": round(_peak_mib() - before, 1),
            "read_job": _read(_page(f"<p>{text}</p>"), job_limit_s),
        }
    return out


def attributes(job_limit_s: float, count: int) -> dict[str, Any]:
    attrs = " ".join(f'data-a{i}="2020-01-{i % 28 + 1:02d}"' for i in range(count))
    body = f"<div {attrs}>x</div>" + "<p>Some ordinary words of the story. </p>" * 20
    before = _rss_mib()
    result = _read(_page(body), job_limit_s)
    result["attributes"] = count
    result["job_limit_s"] = job_limit_s
    result["past_limit_s"] = round(max(0.0, result["seconds"] - job_limit_s), 3)
    result["peak_rss_over_idle_mib"] = round(_peak_mib() - before, 1)
    return result


def _corpus_texts() -> list[str]:
    path = CORPUS / "summaries" / "realsumm_cnndm_100.jsonl"
    return [json.loads(line)["article"] for line in path.read_text("utf-8").splitlines()]


def search(articles: int, big_mib: int, rounds: int) -> dict[str, Any]:
    import tempfile

    from bot.models import StoredArticle
    from bot.search.index import SearchIndex
    from bot.search.query import STOP_WORDS

    texts = _corpus_texts()
    words = {w.lower() for t in texts for w in t.split() if w.isalpha() and len(w) > 5}
    vocabulary = sorted(words - STOP_WORDS)
    queries = vocabulary[:: max(1, len(vocabulary) // 40)][:40]

    def article(n: int, text: str) -> StoredArticle:
        return StoredArticle(
            id=f"a{n}",
            feed="bench",
            title=f"Story {n}",
            link=f"https://news.test/{n}",
            published=NOW,
            fetched=NOW,
            text=text,
        )

    normal = [article(n, texts[n % len(texts)]) for n in range(articles)]
    big_text = (" ".join(texts) + " ") * (big_mib * 2**20 // (len(" ".join(texts)) + 1) + 1)
    big = [article(articles + n, big_text[: big_mib * 2**20]) for n in range(5)]
    out: dict[str, Any] = {"articles": articles, "big_articles": f"5 x {big_mib} MiB"}
    with tempfile.TemporaryDirectory() as folder:
        plain = SearchIndex(Path(folder) / "plain.sqlite")
        loaded = SearchIndex(Path(folder) / "loaded.sqlite")
        plain.index_articles(normal)
        loaded.index_articles(normal + big)
        times: dict[str, list[float]] = {"without": [], "with": []}
        before = _rss_mib()
        for _ in range(rounds):
            for query in queries:  # taking turns, so a busy machine slows both alike
                for name, index in (("without", plain), ("with", loaded)):
                    started = time.perf_counter()
                    index.search(query, now=NOW)
                    times[name].append(time.perf_counter() - started)
        plain.close()
        loaded.close()
    for name, values in times.items():
        values.sort()
        out[name] = {
            "p50_ms": round(statistics.median(values) * 1000, 2),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))] * 1000, 2),
        }
    out["p95_ratio"] = round(out["with"]["p95_ms"] / out["without"]["p95_ms"], 2)
    out["peak_rss_over_idle_mib"] = round(_peak_mib() - before, 1)
    return out


def _child(scenario: Callable[..., dict[str, Any]], args: tuple[Any, ...], conn: Any) -> None:
    conn.send(scenario(*args))


def run_isolated(scenario: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run one scenario in a fresh process (its own peak RSS)."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_child, args=(scenario, args, theirs))
    process.start()
    theirs.close()
    try:
        result: dict[str, Any] = ours.recv()
    except EOFError:
        result = {"error": f"the scenario's process failed (exit code {process.exitcode})"}
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="CI smoke sizes")
    parser.add_argument("--job-limit", type=float, default=10.0, help="read job limit, seconds")
    options = parser.parse_args()
    small = options.small
    report = {
        "stacked_gzip": run_isolated(compression, (256 if small else 4096) * 2**20),
        "quote_bomb": run_isolated(quote_bomb, options.job_limit, 2_000 if small else 100_000),
        "attributes_100k": run_isolated(
            attributes, 2.0 if small else options.job_limit, 20_000 if small else 100_000
        ),
        "search_4mb": run_isolated(
            search, 200 if small else 2_000, 1 if small else 4, 2 if small else 5
        ),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
