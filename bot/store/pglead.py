"""Who sends: one process at a time holds PostgreSQL's session advisory lock ``LEADER_LOCK``.

The lock lives on a connection of its own. When the leader dies its connection closes and
PostgreSQL releases the lock at once (a machine that vanishes is noticed by TCP keepalives
within about 25 s); a standby trying every ``RETRY_S`` takes over well within 30 s. A leader
whose lock connection breaks must stop sending at once (``still_held`` says so): another may
be leading already.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.config.database import describe
from bot.store.pg import import_psycopg
from bot.store.pgschema import LEADER_LOCK

log = logging.getLogger("newsbot.store")

RETRY_S = 2.0
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}  # fmt: skip


class Leadership:
    """The sending lock of one process (see the module docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_leader = False
        self._conn: Any = None

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True when this process leads."""
        if self.is_leader:
            return True
        psycopg = import_psycopg()
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.url, autocommit=True, **_KEEPALIVE)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
        except psycopg.Error as exc:
            log.warning("leader lock not reachable url=%s error=%s", describe(self.url), exc)
            self._drop()
            return False
        self.is_leader = bool(row and row[0])
        return self.is_leader

    def still_held(self) -> bool:
        """Whether the lock's connection is alive (so the lock is still ours)."""
        if not self.is_leader:
            return False
        psycopg = import_psycopg()
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            log.error("leader lock lost: its database connection broke")
            self.is_leader = False
            self._drop()
            return False
        return True

    async def acquire(self, stop: asyncio.Event, retry_s: float = RETRY_S) -> bool:
        """Wait until this process leads (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            if await asyncio.to_thread(self.try_acquire):
                return True
            try:
                await asyncio.wait_for(stop.wait(), retry_s)
            except TimeoutError:
                continue
        return False

    def close(self) -> None:
        """Release the lock (closing its connection)."""
        self.is_leader = False
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
