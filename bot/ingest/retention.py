"""Retention pruning: articles older than the retention leave the search index, then the
store (with the seen marks past their own retention)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.logfields import fields
from bot.search.contract import TextIndex
from bot.store.contract import ArticleStore
from bot.store.datadir import PruneResult

log = logging.getLogger("newsbot.poll")


async def prune_expired(
    store: ArticleStore,
    index: TextIndex,
    commit_lock: asyncio.Lock,
    clock: Callable[[], datetime],
    *,
    retention_days: int,
    seen_retention_days: int,
) -> PruneResult:
    """Delete the articles older than the retention, from the index first and then from
    the store, so a crash in between leaves only expired articles the search no longer
    shows (the next prune finishes). Holds ``commit_lock`` (waits for a running commit)."""
    async with commit_lock:
        now = clock()
        expired = store.expired_ids(now, retention_days)
        if expired:
            await asyncio.to_thread(index.remove, expired)
        result = store.prune(now, retention_days, seen_retention_days)
    if expired or result.seen_shards:
        log.info(
            "archive pruned %s",
            fields(
                articles=len(expired),
                shards=result.archive_shards,
                seen_shards=result.seen_shards,
                carried=result.marks_carried,
            ),
        )
    return result
