"""Reading one new feed entry: its page fetched, then extracted and summarised in the worker
pool; the feed's own text when the page fails or a worker dies on it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.config import FeedConfig
from bot.ingest.entry import ReadJob, ReadResult, ReadSettings, read_entry
from bot.ingest.fetch import Fetcher, fetch_page
from bot.ingest.workers import WorkerPool
from bot.logfields import fields
from bot.models import FeedEntry

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
        )
        if entry.link:
            page = await fetch_page(fetcher, entry.link)
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
        except Exception as exc:  # a worker died on this page: the feed's own text
            log.warning(
                "page reading failed %s",
                fields(feed=feed.name, link=entry.link, error=repr(exc)),
            )
            read = read_entry(replace(job, page=None, page_problem=f"reading failed: {exc}"))
    if read.source != "page":
        log.info(
            "page fallback %s",
            fields(feed=feed.name, link=entry.link, used=read.source, why=read.page_problem),
        )
    return read
