"""The chat store in PostgreSQL (``PgChatStore``): the ``ChatStore`` contract
(bot.store.chatstore) over one table keyed by (table, key). A write is one transaction that
touches only the records it names, so its cost does not grow with the number of chats.

Several processes share the records, and each keeps the chats' preferences in memory, so
``changes`` tells a process what was written since it last asked. Every record carries the
id of the transaction that last wrote it (``changed``; deletions are kept in
``chat_deletions``). A point is the oldest transaction still running when it was taken
(``pg_snapshot_xmin``): whatever a reader did not see then commits later under an id at
least that old, so asking from the point misses nothing (and may repeat a little).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.store.chatstore import JSON, Changed, Changes, check_changes
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
                cur.executemany(
                    "INSERT INTO chat_deletions (tbl, key) VALUES (%s, %s) ON CONFLICT (tbl, key) "
                    "DO UPDATE SET changed = pg_current_xact_id()",
                    deletes,
                )
            if puts:
                cur.executemany(
                    "INSERT INTO chat_records (tbl, key, doc) VALUES (%s, %s, %s) "
                    "ON CONFLICT (tbl, key) DO UPDATE "
                    "SET doc = excluded.doc, changed = pg_current_xact_id()",
                    puts,
                )

    def changes(self, table: str, since: int | None) -> tuple[int | None, Changed]:
        with self.db.connection() as conn:
            row = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()
            point = int(row[0]) if row is not None else None
            if since is None:
                return point, []
            rows = conn.execute(
                "SELECT k.key, r.doc FROM ("
                " SELECT key FROM chat_records WHERE tbl = %(t)s AND changed >= %(s)s::xid8"
                " UNION SELECT key FROM chat_deletions WHERE tbl = %(t)s AND changed >= %(s)s::xid8"
                ") k LEFT JOIN chat_records r ON r.tbl = %(t)s AND r.key = k.key",
                {"t": table, "s": str(since)},
            ).fetchall()
        return point, [(key, None if doc is None else _record(doc)) for key, doc in rows]

    def close(self) -> None:
        """The database is the caller's to close (it is shared with the other parts)."""


def _record(doc: Any) -> JSON:
    return dict(doc)
