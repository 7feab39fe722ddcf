"""Where each chat's preferences and alerts live: the ``ChatStore`` contract and its two
embedded implementations.

A chat store keeps small JSON records under a table name and a key (``chats``: a chat's
preferences; ``alerts``: its alerts; ``marks``: instants the bot's jobs resume from). A
write names the records it changes and costs the same however many chats there are; it is
atomic (all of it or none after a crash) and durable when it returns. The contract says
nothing of files, so another backend (a database table keyed by table and key) implements
the same methods. Where several processes share the store (PostgreSQL), ``changes`` tells
each what the others wrote, so what a process keeps in memory follows; a data folder has one
process, and its stores have no one else's changes to tell.

- ``JournalChatStore`` (the data folder's ``chats/``): every record in memory as its JSON
  text; a write appends one line to a journal and fsyncs it (bot.store.journal). When the
  journal outgrows the records (and 1 MiB), a snapshot of every record (one a line)
  replaces it, so the cost of compaction per write stays flat too. A kill -9 mid-write
  tears at most the last line, which is ignored: the previous good state stays.
- ``VolumeChatStore``: the records as one database of a volume (unit tests, over a
  ``MemoryVolume``; each write rewrites it, which is fine at a test's size).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from bot.errors import StoreError
from bot.store.journal import Journal
from bot.store.storage import Database, Volume, open_database

JSON = dict[str, Any]
Changes = Mapping[str, Mapping[str, JSON | None]]
"""table -> key -> the record's new value, or None to delete it."""
Changed = list[tuple[str, JSON | None]]
"""key -> the record as it is now (None: deleted), for ``ChatStore.changes``."""

CHAT_TABLES = ("chats", "alerts", "marks")
"""The tables the bot keeps (a store accepts any lowercase name)."""

CHATS_DIR = "chats"
COMPACT_MIN_BYTES = 1024 * 1024
_TABLE_NAME = re.compile(r"[a-z][a-z_]*")


class ChatStore(Protocol):
    """Records of the chats the bot serves, each changed on its own; see the module docstring."""

    def get(self, table: str, key: str) -> JSON | None:
        """One record, or None."""

    def items(self, table: str) -> Iterator[tuple[str, JSON]]:
        """Every record of a table, with its key (in no particular order)."""

    def write(self, changes: Changes) -> None:
        """Put (or delete, for None) these records, atomically and durably."""

    def changes(self, table: str, since: int | None) -> tuple[int | None, Changed]:
        """The records of ``table`` written (or deleted: None) since the point ``since`` an
        earlier call returned, possibly with some seen before, and the point to ask from
        next; ``since`` None: only the point. Each record as it is now."""

    def close(self) -> None:
        """Release the store; writes were durable already."""


def check_changes(changes: Changes) -> None:
    """A ValueError for a table name no store accepts (before anything is written)."""
    for table in changes:
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"not a chat store table name: {table!r}")


def adopt_state_tables(state: Database, chat_store: ChatStore) -> int:
    """Move the chat tables an older newsbot kept in ``state.json`` into ``chat_store``:
    copied durably first (unless the store has records: a crash came after the copy), then
    dropped from ``state.json``. Returns how many records were copied."""
    tables = [t for t in CHAT_TABLES if t in state.tables()]
    if not tables:
        return 0
    old = {t: {key: dict(doc) for key, doc in state.keyed(t).keyed()} for t in tables}
    copied = 0
    if not any(True for table in CHAT_TABLES for _ in chat_store.items(table)):
        chat_store.write(old)
        copied = sum(len(records) for records in old.values())
    for table in tables:
        state.drop_table(table)
    state.flush()
    return copied


class JournalChatStore:
    """The data folder's chat records: a snapshot and a journal (see the module docstring)."""

    def __init__(self, journal: Journal, compact_min_bytes: int = COMPACT_MIN_BYTES) -> None:
        self._journal = journal
        self._compact_min_bytes = compact_min_bytes
        self._tables: dict[str, dict[str, str]] = {}
        self._bytes = 0  # the records' JSON text, about the size of the next snapshot

    @classmethod
    def open(cls, folder: Path, *, compact_min_bytes: int = COMPACT_MIN_BYTES) -> JournalChatStore:
        """Open (creating) ``folder``: load the snapshot, replay the journal up to its first
        torn line, and compact when the journal held anything (so nothing is ever appended
        after a torn line)."""
        journal = Journal.open(folder, what="chat store")
        store = cls(journal, compact_min_bytes)
        try:
            snapshot = journal.snapshot
            if snapshot is not None:
                store._load(snapshot.get("tables", {}), folder)
                for record in journal.snapshot_records():
                    store._load_record(record, folder)
                journal.release_snapshot()
            replayed = 0
            for record in journal.replay():
                changes = record.get("changes")
                if record.get("op") == "write" and isinstance(changes, dict):
                    store._apply(changes)
                    replayed += 1
            if replayed:
                store._compact()
        except BaseException:
            journal.close()
            raise
        return store

    def get(self, table: str, key: str) -> JSON | None:
        text = self._tables.get(table, {}).get(key)
        return None if text is None else _decode(text)

    def items(self, table: str) -> Iterator[tuple[str, JSON]]:
        for key, text in list(self._tables.get(table, {}).items()):
            yield key, _decode(text)

    def write(self, changes: Changes) -> None:
        check_changes(changes)
        if not any(changes.values()):
            return
        self._journal.append({"op": "write", "changes": changes})
        self._journal.sync()
        self._apply(changes)
        if self._journal.journal_bytes > max(self._compact_min_bytes, self._bytes):
            self._compact()

    def changes(self, table: str, since: int | None) -> tuple[int | None, Changed]:
        """None: this process is the folder's only writer (its lock says so)."""
        return None, []

    def close(self) -> None:
        self._journal.close()

    def __len__(self) -> int:
        """Records in all tables."""
        return sum(len(t) for t in self._tables.values())

    def _apply(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        for table, records in changes.items():
            texts = self._tables.setdefault(table, {})
            for key, record in records.items():
                old = texts.pop(key, None)
                if old is not None:
                    self._bytes -= len(old) + len(key)
                if record is not None:
                    text = _encode(record)
                    texts[key] = text
                    self._bytes += len(text) + len(key)

    def _compact(self) -> None:
        records = (
            {"table": table, "key": key, "text": text}
            for table, texts in self._tables.items()
            for key, text in texts.items()
        )
        self._journal.compact({"tables": {}}, records)

    def _load_record(self, record: JSON, folder: Path) -> None:
        table, key, text = record.get("table"), record.get("key"), record.get("text")
        if not (isinstance(table, str) and isinstance(key, str) and isinstance(text, str)):
            raise StoreError(
                f"the chat store snapshot in {folder} holds a malformed record; "
                "restore it from a backup"
            )
        self._tables.setdefault(table, {})[key] = text
        self._bytes += len(key) + len(text)

    def _load(self, tables: object, folder: Path) -> None:
        if not isinstance(tables, dict) or not all(
            isinstance(records, dict) and all(isinstance(t, str) for t in records.values())
            for records in tables.values()
        ):
            raise StoreError(
                f"the chat store snapshot in {folder} is not a table of records; "
                "restore it from a backup"
            )
        self._tables = tables
        self._bytes = sum(len(k) + len(t) for r in tables.values() for k, t in r.items())


class VolumeChatStore:
    """Chat records as one database of a volume; every write rewrites it (unit tests)."""

    def __init__(self, volume: Volume, name: str = "chats.json") -> None:
        self._db = open_database(volume, name, stamp=True)

    def get(self, table: str, key: str) -> JSON | None:
        doc = self._db.keyed(table).get_key(key)
        return None if doc is None else dict(doc)

    def items(self, table: str) -> Iterator[tuple[str, JSON]]:
        for key, doc in self._db.keyed(table).keyed():
            yield key, dict(doc)

    def write(self, changes: Changes) -> None:
        check_changes(changes)
        for table, records in changes.items():
            keyed = self._db.keyed(table)
            keyed.drop_keys(records)
            keyed.put({k: v for k, v in records.items() if v is not None})
        self._db.flush()

    def changes(self, table: str, since: int | None) -> tuple[int | None, Changed]:
        """None: this process is the folder's only writer (its lock says so)."""
        return None, []

    def close(self) -> None:
        self._db.flush()


def _encode(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _decode(text: str) -> JSON:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value
