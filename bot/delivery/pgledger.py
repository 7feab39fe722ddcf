"""The delivery ledger in PostgreSQL (``PgLedger``): the same contract as bot.delivery.ledger.
Longer than ~300 lines: the whole ledger contract in SQL, one method per operation.

A plan is one transaction (pending messages, the articles they deliver, the chat's last
digest, the day's counts), committed before ``plan`` returns, as the journal's fsync is.
Confirmations with ``durable=False`` wait in memory for ``sync()``, which commits them in one
transaction from a worker thread (group commit); a confirmation lost in a crash means the
message is sent once more, the only duplicate the design allows. The ledger lives in the
database, so the process that takes over sending after a crash resends what was pending.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.delivery.ledger import DayStats, Outgoing
from bot.delivery.target import Target, as_target
from bot.store.pg import Database, jsonb

_DAY_COLUMNS = ("digests", "messages", "abandoned", "errors")


class PgLedger:
    """What each chat was sent, in a PostgreSQL database; see the module docstring."""

    def __init__(self, db: Database, *, retention_days: int = 30) -> None:
        self.db = db
        self._retention_days = retention_days
        self._lock = threading.Lock()
        self._buffer: list[tuple[str, str, str, datetime]] = []  # (op, key, reason, at)
        self._buffered_keys: set[str] = set()
        self._done_keys: set[str] = set()  # finished here: never pending again in this process
        self._errors: list[datetime] = []
        self._appended = 0
        self._synced = 0

    @classmethod
    def open(
        cls, db: Database, *, retention_days: int = 30, now: datetime | None = None
    ) -> PgLedger:
        ledger = cls(db, retention_days=retention_days)
        ledger.compact(now=now or datetime.now(UTC))
        return ledger

    # -- the interface ----------------------------------------------------------------------

    def plan(self, messages: Sequence[Outgoing], *, now: datetime) -> list[Outgoing]:
        """Record the intent to send; messages whose key is pending or whose articles were
        already delivered or planned to that chat are dropped. Returns what was planned."""
        self.sync()
        planned: list[Outgoing] = []
        digest_chats: set[Target] = set()
        day = now.astimezone(UTC).date()
        with self.db.connection() as conn:
            for message in messages:
                if conn.execute(
                    "SELECT 1 FROM ledger_pending WHERE key = %s UNION ALL "
                    "SELECT 1 FROM ledger_delivered WHERE chat_id = %s AND thread_id = %s "
                    "AND article_id = ANY(%s) LIMIT 1",
                    (message.key, message.chat_id, message.thread_id, list(message.article_ids)),
                ).fetchone():
                    continue
                conn.execute(
                    "INSERT INTO ledger_pending (key, chat_id, thread_id, text, articles, kind, "
                    "planned_at, buttons, preview_url, preview_above) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (message.key, message.chat_id, message.thread_id, message.text,
                     list(message.article_ids), message.kind, now,
                     jsonb([list(b) for b in message.buttons]), message.preview_url,
                     message.preview_above),
                )  # fmt: skip
                if message.article_ids:
                    with conn.cursor() as cur:
                        cur.executemany(
                            "INSERT INTO ledger_delivered (chat_id, thread_id, article_id, day) "
                            "VALUES (%s, %s, %s, %s) ON CONFLICT (chat_id, thread_id, article_id) "
                            "DO UPDATE SET day = excluded.day",
                            [
                                (message.chat_id, message.thread_id, a, day)
                                for a in message.article_ids
                            ],
                        )
                if message.kind == "digest":
                    _set_last_digest(conn, message.target, now)
                    if message.target not in digest_chats:
                        digest_chats.add(message.target)
                        _count(conn, now, "digests")
                planned.append(message)
        return planned

    def pending(self) -> list[Outgoing]:
        """Planned and not yet confirmed or abandoned, in the order planned."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT key, chat_id, text, articles, kind, thread_id, buttons, preview_url, "
                "preview_above FROM ledger_pending ORDER BY seq"
            ).fetchall()
        with self._lock:
            gone = self._buffered_keys | self._done_keys
        return [
            Outgoing(
                key=k,
                chat_id=c,
                text=t,
                article_ids=tuple(a),
                kind=kind,
                thread_id=th,
                buttons=tuple((str(b[0]), str(b[1])) for b in buttons),
                preview_url=url,
                preview_above=above,
            )
            for k, c, t, a, kind, th, buttons, url, above in rows
            if k not in gone
        ]

    def is_pending(self, key: str) -> bool:
        with self._lock:
            if key in self._buffered_keys:
                return False
        with self.db.connection() as conn:
            row = conn.execute("SELECT 1 FROM ledger_pending WHERE key = %s", (key,)).fetchone()
        return row is not None

    def confirm(
        self, key: str, *, message_id: int | None, now: datetime, durable: bool = True
    ) -> None:
        """Telegram accepted the message; with ``durable=False`` it is recorded at ``sync()``."""
        self._finish("sent", key, "", now, durable)

    def abandon(self, key: str, *, reason: str, now: datetime, durable: bool = True) -> None:
        """Give up a message (its articles stay counted as delivered)."""
        self._finish("abandon", key, reason, now, durable)

    def abandon_chat(self, chat_id: int, *, reason: str, now: datetime) -> list[str]:
        """Give up every pending message to a chat; returns the keys."""
        self.sync()
        with self.db.connection() as conn:
            rows = conn.execute(
                "DELETE FROM ledger_pending WHERE chat_id = %s RETURNING key, seq", (chat_id,)
            ).fetchall()
            if rows:
                _count(conn, now, "abandoned", len(rows))
        return [key for key, _ in sorted(rows, key=lambda row: row[1])]

    def abandon_target(self, target: Target, *, reason: str, now: datetime) -> list[str]:
        """Give up every pending message to one forum topic; returns the keys."""
        self.sync()
        with self.db.connection() as conn:
            rows = conn.execute(
                "DELETE FROM ledger_pending WHERE chat_id = %s AND thread_id = %s "
                "RETURNING key, seq",
                (target.chat_id, target.thread_id),
            ).fetchall()
            if rows:
                _count(conn, now, "abandoned", len(rows))
        return [key for key, _ in sorted(rows, key=lambda row: row[1])]

    def move_chat(self, old_chat_id: int, new_chat_id: int, *, now: datetime | None = None) -> None:
        """A group became a supergroup: its record and pending messages follow the new id."""
        self.sync()
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE ledger_pending SET chat_id = %s WHERE chat_id = %s",
                (new_chat_id, old_chat_id),
            )
            conn.execute(
                "INSERT INTO ledger_delivered (chat_id, thread_id, article_id, day) "
                "SELECT %s, thread_id, article_id, day FROM ledger_delivered WHERE chat_id = %s "
                "ON CONFLICT (chat_id, thread_id, article_id) DO UPDATE SET day = excluded.day",
                (new_chat_id, old_chat_id),
            )
            conn.execute("DELETE FROM ledger_delivered WHERE chat_id = %s", (old_chat_id,))
            rows = conn.execute(
                "DELETE FROM ledger_chats WHERE chat_id = %s "
                "RETURNING thread_id, last_digest_at, held_since",
                (old_chat_id,),
            ).fetchall()
            for thread_id, last, held in rows:
                conn.execute(
                    "INSERT INTO ledger_chats (chat_id, thread_id, last_digest_at, held_since) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (chat_id, thread_id) DO UPDATE SET "
                    "last_digest_at = greatest(ledger_chats.last_digest_at, "
                    "excluded.last_digest_at), held_since = coalesce(least("
                    "ledger_chats.held_since, excluded.held_since), ledger_chats.held_since, "
                    "excluded.held_since)",
                    (new_chat_id, thread_id, last, held),
                )

    def record_digest(self, where: Target | int, *, now: datetime) -> None:
        """A digest fell due and had nothing to send: it still counts as the chat's last."""
        with self.db.connection() as conn:
            _set_last_digest(conn, as_target(where), now)
            _count(conn, now, "digests")

    def hold(self, where: Target | int, since: datetime | None, *, now: datetime) -> None:
        """Stories fetched after ``since`` were held back from the chat's (or topic's) digest
        (None: none were)."""
        target = as_target(where)
        with self.db.connection() as conn:
            conn.execute(
                "INSERT INTO ledger_chats (chat_id, thread_id, held_since) VALUES (%s, %s, %s) "
                "ON CONFLICT (chat_id, thread_id) DO UPDATE SET held_since = excluded.held_since",
                (target.chat_id, target.thread_id, since),
            )

    def held_since(self, where: Target | int) -> datetime | None:
        """Where the held-back stories begin (None: the last digest held none back)."""
        target = as_target(where)
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT held_since FROM ledger_chats WHERE chat_id = %s AND thread_id = %s",
                (target.chat_id, target.thread_id),
            ).fetchone()
        return None if row is None or row[0] is None else row[0].astimezone(UTC)

    def note_error(self, what: str, *, now: datetime) -> None:
        """Count a failed attempt for the day's stats (written with the next sync)."""
        with self._lock:
            self._errors.append(now)
            self._appended += 1

    def delivered_ids(self, where: Target | int) -> set[str]:
        target = as_target(where)
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT article_id FROM ledger_delivered WHERE chat_id = %s AND thread_id = %s",
                (target.chat_id, target.thread_id),
            ).fetchall()
        return {row[0] for row in rows}

    def last_digest_at(self, where: Target | int) -> datetime | None:
        target = as_target(where)
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT last_digest_at FROM ledger_chats WHERE chat_id = %s AND thread_id = %s",
                (target.chat_id, target.thread_id),
            ).fetchone()
        return None if row is None or row[0] is None else row[0].astimezone(UTC)

    def stats(self, day: date) -> DayStats:
        self.sync()
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT digests, messages, abandoned, errors FROM ledger_days WHERE day = %s",
                (day,),
            ).fetchone()
        if row is None:
            return DayStats(day)
        return DayStats(day, **dict(zip(_DAY_COLUMNS, row, strict=True)))

    # -- durability -------------------------------------------------------------------------

    def sync(self) -> None:
        """Commit the buffered confirmations and error counts (callable from a thread)."""
        with self._lock:
            buffer, self._buffer = self._buffer, []
            errors, self._errors = self._errors, []
            target = self._appended
        if buffer or errors:
            with self.db.connection() as conn:
                for op, key, _, at in buffer:
                    _finish(conn, op, key, at)
                for at in errors:
                    _count(conn, at, "errors")
        with self._lock:
            self._buffered_keys -= {key for _, key, _, _ in buffer}
            self._done_keys |= {key for _, key, _, _ in buffer}
            self._synced = max(self._synced, target)

    @property
    def appended(self) -> int:
        return self._appended

    @property
    def synced(self) -> int:
        return self._synced

    @property
    def journal_bytes(self) -> int:
        return 0

    def compact(self, *, now: datetime) -> None:
        """Forget delivered ids and stats older than the retention."""
        self.sync()
        cutoff = (now.astimezone(UTC) - timedelta(days=self._retention_days)).date()
        with self.db.connection() as conn:
            conn.execute("DELETE FROM ledger_delivered WHERE day < %s", (cutoff,))
            conn.execute("DELETE FROM ledger_days WHERE day < %s", (cutoff,))

    def compact_if_large(self, *, now: datetime, max_bytes: int = 0) -> bool:
        return False

    def close(self) -> None:
        self.sync()

    def __enter__(self) -> PgLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _finish(self, op: str, key: str, reason: str, now: datetime, durable: bool) -> None:
        if durable:
            self.sync()
            with self.db.connection() as conn:
                _finish(conn, op, key, now)
            with self._lock:
                self._done_keys.add(key)
            return
        with self._lock:
            self._buffer.append((op, key, reason, now))
            self._buffered_keys.add(key)
            self._appended += 1


def _finish(conn: Any, op: str, key: str, at: datetime) -> None:
    gone = conn.execute("DELETE FROM ledger_pending WHERE key = %s", (key,)).rowcount
    if gone:
        _count(conn, at, "messages" if op == "sent" else "abandoned")


def _count(conn: Any, at: datetime, column: str, n: int = 1) -> None:
    assert column in _DAY_COLUMNS
    conn.execute(
        f"INSERT INTO ledger_days (day, {column}) VALUES (%s, %s) "  # noqa: S608
        f"ON CONFLICT (day) DO UPDATE SET {column} = ledger_days.{column} + excluded.{column}",
        (at.astimezone(UTC).date(), n),
    )


def _set_last_digest(conn: Any, target: Target, at: datetime) -> None:
    conn.execute(
        "INSERT INTO ledger_chats (chat_id, thread_id, last_digest_at) VALUES (%s, %s, %s) "
        "ON CONFLICT (chat_id, thread_id) DO UPDATE SET last_digest_at = "
        "greatest(ledger_chats.last_digest_at, excluded.last_digest_at)",
        (target.chat_id, target.thread_id, at),
    )
