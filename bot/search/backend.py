"""Which search index goes with a store: PostgreSQL's full-text search beside a PostgreSQL
store (the same database), else the SQLite index file in the data folder."""

from __future__ import annotations

from pathlib import Path

from bot.search.contract import TextIndex
from bot.search.index import SearchIndex
from bot.search.pgindex import PgSearchIndex
from bot.store.contract import ArticleStore
from bot.store.pgarchive import PgStore


def open_index(store: ArticleStore, data_dir: Path) -> TextIndex:
    """The index of ``store``: in its database, or in ``data_dir``."""
    if isinstance(store, PgStore):
        return PgSearchIndex(store.db)
    return SearchIndex.in_data_dir(data_dir)
