"""Which search index goes with a store: PostgreSQL's full-text search beside a PostgreSQL
store (the same database), else the SQLite index file in the data folder; and the alert
matcher with the same semantics as that index."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from bot.models import StoredArticle
from bot.search.contract import TextIndex
from bot.search.index import ArticleMatcher, SearchIndex
from bot.search.pgindex import PgSearchIndex
from bot.search.pgmatch import PgArticleMatcher
from bot.search.query import Query
from bot.store.contract import ArticleStore
from bot.store.pgarchive import PgStore


class AlertMatcher(Protocol):
    """Tests new articles against saved queries as a search of the store's index would."""

    def matches(self, query: str | Query, article: StoredArticle) -> bool: ...


def open_index(store: ArticleStore, data_dir: Path) -> TextIndex:
    """The index of ``store``: in its database, or in ``data_dir``."""
    if isinstance(store, PgStore):
        return PgSearchIndex(store.db)
    return SearchIndex.in_data_dir(data_dir)


@contextlib.contextmanager
def open_matcher(store: ArticleStore, articles: Sequence[StoredArticle]) -> Iterator[AlertMatcher]:
    """A matcher for ``articles`` (new in ``store``): PostgreSQL's semantics in its database
    (a temporary table, nothing kept), else an in-memory SQLite index of one article at a
    time; neither writes to the data folder."""
    if isinstance(store, PgStore):
        with PgArticleMatcher(store.db, articles) as matcher:
            yield matcher
        return
    embedded = _EmbeddedMatcher()
    try:
        yield embedded
    finally:
        embedded.close()


class _EmbeddedMatcher:
    """bot.search.index.ArticleMatcher for the article asked about (the last one is kept)."""

    def __init__(self) -> None:
        self._id: str | None = None
        self._matcher: ArticleMatcher | None = None

    def matches(self, query: str | Query, article: StoredArticle) -> bool:
        if self._matcher is None or self._id != article.id:
            self.close()
            self._matcher, self._id = ArticleMatcher(article), article.id
        return self._matcher.matches(query)

    def close(self) -> None:
        if self._matcher is not None:
            self._matcher.close()
        self._matcher = self._id = None
