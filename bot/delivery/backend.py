"""Which delivery ledger goes with a store: PostgreSQL's beside a PostgreSQL store (so
whichever process sends next finds what was pending), else the journal in the data folder."""

from __future__ import annotations

from pathlib import Path

from bot.delivery.contract import DeliveryLedger
from bot.delivery.ledger import Ledger
from bot.delivery.pgledger import PgLedger
from bot.store.contract import ArticleStore
from bot.store.pgarchive import PgStore


def open_ledger(store: ArticleStore, data_dir: Path, *, retention_days: int) -> DeliveryLedger:
    """The ledger of ``store``: in its database, or in ``data_dir``."""
    if isinstance(store, PgStore):
        return PgLedger.open(store.db, retention_days=retention_days)
    return Ledger.open(data_dir, retention_days=retention_days)
