"""Opening a poller: its store, search index, HTTP client and worker pool, wired from the
configuration, with the search index caught up; all closed on exit.

    async with open_poller(config) as poller:
        reports = await poller.poll_feeds(poller.due_feeds(now))
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from functools import partial

from bot.config import Config
from bot.ingest.fetch import Fetcher
from bot.ingest.poll import Poller
from bot.ingest.pollsettings import settings_from_config
from bot.ingest.workers import process_pool
from bot.search.backend import open_index
from bot.search.journal import INDEX_JOURNAL
from bot.search.pgindex import PgSearchIndex
from bot.store.backend import open_store


@asynccontextmanager
async def open_poller(
    config: Config,
    *,
    executor_factory: Callable[[], Executor] | None = None,
    fetcher: Fetcher | None = None,
) -> AsyncIterator[Poller]:
    """The poller of a configuration: its store, search index, HTTP client and worker pool
    (worker processes with ``[poll] read_job_timeout_s`` unless ``executor_factory`` is
    given), with the index caught up; everything is closed on exit. With a database URL the
    store and index are PostgreSQL's and the data folder holds nothing."""
    store = open_store(config)
    try:
        index = open_index(store, config.data_dir)
    except BaseException:
        store.close()
        raise
    fetch_settings, cycle_settings = settings_from_config(config)
    if executor_factory is None:
        executor_factory = partial(
            process_pool, job_timeout_s=config.settings.poll.read_job_timeout_s
        )
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(fetch_settings)
    poller = Poller(
        config,
        store,
        fetcher,
        index,
        executor_factory,
        settings=cycle_settings,
        journal=None if isinstance(index, PgSearchIndex) else config.data_dir / INDEX_JOURNAL,
    )
    try:
        poller.catch_up_index()
        if isinstance(index, PgSearchIndex):  # what a process stopped between commit and index
            index.index_articles(store.get(index.missing_ids()))
        yield poller
    finally:
        poller.close()
        if own_fetcher:
            await fetcher.aclose()
        index.close()
        store.close()
