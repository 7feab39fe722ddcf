"""The chat store in PostgreSQL (``PgChatStore``): the ``ChatStore`` contract
(bot.store.chatstore) over one table keyed by (table, key). A write is one transaction that
touches only the records it names, so its cost does not grow with the number of chats."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.store.chatstore import JSON, Changes, check_changes
from bot.store.pg import Database, jsonb


class PgChatStore:
    """Chats' records in the ``chat_records`` table of a PostgreSQL database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, table: str, key: str) -> JSON | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT doc FROM chat_records WHERE tbl = %s AND key = %s", (table, key)
            ).fetchone()
        return None if row is None else _record(row[0])

    def items(self, table: str) -> Iterator[tuple[str, JSON]]:
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT key, doc FROM chat_records WHERE tbl = %s", (table,)
            ).fetchall()
        for key, doc in rows:
            yield key, _record(doc)

    def write(self, changes: Changes) -> None:
        check_changes(changes)
        puts = [
            (table, key, jsonb(doc))
            for table, records in changes.items()
            for key, doc in records.items()
            if doc is not None
        ]
        deletes = [
            (table, key)
            for table, records in changes.items()
            for key, doc in records.items()
            if doc is None
        ]
        with self.db.connection() as conn, conn.cursor() as cur:
            if deletes:
                cur.executemany("DELETE FROM chat_records WHERE tbl = %s AND key = %s", deletes)
            if puts:
                cur.executemany(
                    "INSERT INTO chat_records (tbl, key, doc) VALUES (%s, %s, %s) "
                    "ON CONFLICT (tbl, key) DO UPDATE SET doc = excluded.doc",
                    puts,
                )

    def close(self) -> None:
        """The database is the caller's to close (it is shared with the other parts)."""


def _record(doc: Any) -> JSON:
    return dict(doc)
