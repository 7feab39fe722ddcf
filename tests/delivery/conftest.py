"""The ledger contract's fixture: the ledger tests run against both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.delivery.contract import DeliveryLedger
from bot.delivery.ledger import Ledger
from bot.delivery.pgledger import PgLedger

NOW = datetime(2026, 1, 5, 8, tzinfo=UTC)

LedgerOpener = Callable[..., DeliveryLedger]


@pytest.fixture(params=["journal", "postgres"])
def open_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerOpener:
    """Opens the backend's ledger again over the same data (the ledger contract: every test
    taking this fixture runs against the data folder's journal and PostgreSQL)."""

    def open_again(retention_days: int = 30) -> DeliveryLedger:
        if request.param == "journal":
            return Ledger.open(tmp_path, retention_days=retention_days, now=NOW)
        db = request.getfixturevalue("pg_database")
        return PgLedger.open(db, retention_days=retention_days, now=NOW)

    return open_again
