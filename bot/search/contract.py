"""The search contract the bot codes against: ``TextIndex``, met by the embedded SQLite index
(bot.search.index.SearchIndex) and PostgreSQL's (bot.search.pgindex.PgSearchIndex). The search
tests run against both (tests/search/test_search.py's ``index`` fixture)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from bot.models import StoredArticle
from bot.search.index import Ranking, SearchPage
from bot.search.query import Query


class TextIndex(Protocol):
    """Articles indexed for search: written by the poller, read by /search and alerts."""

    ranking: Ranking

    def index_articles(self, articles: Iterable[StoredArticle]) -> int: ...

    def remove(self, ids: Iterable[str]) -> int: ...

    def rebuild(self, articles: Iterable[StoredArticle]) -> int: ...

    def __len__(self) -> int: ...

    def __contains__(self, article_id: object) -> bool: ...

    def search(
        self,
        query: str | Query,
        *,
        now: datetime,
        limit: int = 10,
        offset: int = 0,
        snippet_chars: int = 200,
    ) -> SearchPage: ...

    def matching_ids(self, query: str | Query) -> set[str]: ...

    def close(self) -> None: ...
