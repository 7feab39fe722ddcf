"""Updated feed entries and their previous versions: the stored article an update replaces,
and the seen mark each entry leaves in the store."""

from __future__ import annotations

from collections.abc import Iterable

from bot.config import FeedConfig
from bot.models import FeedEntry, StoredArticle
from bot.store.contract import ArticleStore
from bot.store.datadir import SeenMark


def previous_versions(
    store: ArticleStore, feed: FeedConfig, updated: Iterable[FeedEntry], marks: list[SeenMark]
) -> list[tuple[FeedEntry, StoredArticle | None]]:
    """Updated entries with their stored article. One without an article (skipped as
    backlog, or pruned) only gets its mark refreshed (appended to ``marks``): a change does
    not make it news."""
    wanted: dict[str, FeedEntry] = {}
    for entry in updated:
        seen = store.seen(feed.name, entry.identity)
        if seen is None or seen.article_id is None:
            marks.append(seen_mark(feed, entry, None))
        else:
            wanted[seen.article_id] = entry
    stored = {article.id: article for article in store.get(wanted)}
    work: list[tuple[FeedEntry, StoredArticle | None]] = []
    for article_id, entry in wanted.items():
        if article_id in stored:
            work.append((entry, stored[article_id]))
        else:
            marks.append(seen_mark(feed, entry, None))
    return work


def seen_mark(feed: FeedConfig, entry: FeedEntry, article_id: str | None) -> SeenMark:
    """The mark ``entry`` of ``feed`` leaves in the seen registry (``article_id``: None
    when no article was stored for it)."""
    return SeenMark(entry.identity, entry.content_hash, feed.name, article_id)
