"""The search index's catch-up journal: the ids of a store commit are written to a small file
before the commit and cleared once indexed, so a crash in between is repaired at the next
start by ``catch_up_index``.

The set of unindexed ids is the poller's; these functions keep the file in step with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from bot.logfields import fields
from bot.models import StoredArticle
from bot.search.contract import TextIndex
from bot.store.atomic import write_atomically
from bot.store.contract import ArticleStore

log = logging.getLogger("newsbot.poll")

INDEX_JOURNAL = "index-pending.json"


def write_journal(journal: Path | None, unindexed: set[str]) -> None:
    """Mirror ``unindexed`` to ``journal`` (None: no journal); an empty set removes it."""
    if journal is None:
        return
    if not unindexed:
        journal.unlink(missing_ok=True)
        return
    write_atomically(journal, json.dumps(sorted(unindexed)).encode())


async def index_unindexed(
    store: ArticleStore,
    index: TextIndex,
    journal: Path | None,
    unindexed: set[str],
    fresh: Sequence[StoredArticle],
) -> None:
    """Index ``fresh`` and the stored articles of ``unindexed``; on success clear the set
    and the journal. A failure is logged and leaves both for the next commit or start."""
    fresh_ids = {a.id for a in fresh}
    older = store.get(unindexed - fresh_ids)
    todo = [*older, *fresh]
    try:
        await asyncio.to_thread(index.index_articles, todo)
    except Exception:  # the store has them; the next commit or start indexes them
        log.exception("search index update failed %s", fields(articles=len(todo)))
        return
    unindexed.clear()
    write_journal(journal, unindexed)


def catch_up_index(
    store: ArticleStore, index: TextIndex, journal: Path | None, unindexed: set[str]
) -> int:
    """Index what the store committed but the index missed (a crash in between); build
    the whole index when it is empty and the store is not. Clears ``unindexed`` and the
    journal. Returns articles indexed."""
    pending: set[str] = set()
    rebuild = len(index) == 0 and store.article_count() > 0
    if journal is not None and journal.exists():
        try:
            pending = {str(i) for i in json.loads(journal.read_text("utf-8"))}
        except (OSError, ValueError, TypeError):
            log.warning("index journal unreadable; rebuilding the search index")
            rebuild = True
    count = 0
    if rebuild:
        count = index.rebuild(store.iter_articles())
    elif pending:
        count = index.index_articles(store.get(pending))
    unindexed.clear()
    write_journal(journal, unindexed)
    if count:
        log.info("search index caught up %s", fields(articles=count))
    return count
