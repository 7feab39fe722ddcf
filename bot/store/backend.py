"""Which store a configuration uses: PostgreSQL when it names a database
(``NEWSBOT_DATABASE_URL`` or ``[store] database_url``), else the data folder."""

from __future__ import annotations

from bot.config import Config
from bot.store.contract import ArticleStore
from bot.store.datadir import Store
from bot.store.pgarchive import PgStore


def open_store(config: Config, *, read_only: bool = False) -> ArticleStore:
    """The configuration's store, opened (``read_only`` applies to the data folder: beside a
    running writer; a database is shared by design)."""
    if config.database_url:
        return PgStore.open(config.database_url)
    return Store.open(config.data_dir, read_only=read_only)
