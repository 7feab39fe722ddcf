"""Reading one new feed entry: its page fetched, then extracted and summarised in the worker
pool; the feed's own text when the page fails, a worker dies on it or runs past its time
limit (the feed's text is read in a worker too, under the same limit: it is as untrusted as
the page; past the limit again the entry keeps its title only)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.config import FeedConfig
from bot.ingest.entry import ReadJob, ReadResult, ReadSettings, read_entry
from bot.ingest.fetch import Fetcher, fetch_page
from bot.ingest.workers import JobTimeout, WorkerPool
from bot.logfields import fields
from bot.models import Article, FeedEntry, Summary

log = logging.getLogger("newsbot.poll")


async def read_feed_entry(
    fetcher: Fetcher,
    workers: WorkerPool,
    page_slots: asyncio.Semaphore,
    settings: ReadSettings,
    feed: FeedConfig,
    entry: FeedEntry,
) -> ReadResult:
    """Fetch ``entry``'s page and read it in ``workers``, holding one of ``page_slots``
    (pages held in memory) meanwhile; a fallback to the feed's text is logged."""
    async with page_slots:
        job = ReadJob(
            url=entry.link,
            title=entry.title,
            page=None,
            page_content_type=None,
            page_problem="the entry has no link",
            feed_html=entry.content or entry.summary,
            settings=settings,
            language=entry.language,
        )
        if entry.link:
            page = await fetch_page(fetcher, entry.link, allow_private=feed.allow_private)
            if page.is_ok:
                job = replace(
                    job,
                    url=page.final_url,
                    page=page.body,
                    page_content_type=page.content_type,
                    page_problem=None,
                )
            else:
                job = replace(job, page_problem=page.error or f"HTTP {page.status}")
        try:
            read = await workers.run(read_entry, job)
        except Exception as exc:  # a worker died on this page, or ran past its limit
            timed_out = isinstance(exc, JobTimeout)
            log.warning(
                "page reading failed %s",
                fields(feed=feed.name, link=entry.link, timeout=timed_out, error=repr(exc)),
            )
            why = (
                f"reading the page took too long: {exc}" if timed_out else f"reading failed: {exc}"
            )
            read = await _read_feed_text(workers, replace(job, page=None, page_problem=why))
            read = replace(read, timed_out=timed_out)
    if read.source != "page":
        log.info(
            "page fallback %s",
            fields(feed=feed.name, link=entry.link, used=read.source, why=read.page_problem),
        )
    return read


async def _read_feed_text(workers: WorkerPool, job: ReadJob) -> ReadResult:
    """The entry read from the feed's own text in a worker; the title only when that fails."""
    try:
        return await workers.run(read_entry, job)
    except Exception as exc:
        log.warning("feed text reading failed %s", fields(link=job.url, error=repr(exc)))
        empty = Article(text="", title=job.title, url=job.url)
        return ReadResult(Summary(article=empty), "none", f"{job.page_problem}; then {exc}")
