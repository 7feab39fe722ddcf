"""The data directory: the archive, the seen-entries registry and the bot's small state.

Layout (``data/``)::

    state.json                  small mutable state: schema version, feed states, admin
                                notices; rewritten only when it changes
    chats/                      each chat's preferences and alerts (bot.store.chatstore: a
                                snapshot and a journal, so a change costs the same at any size)
    archive/2026-11-28.000.json articles written by one UTC day's cycles (see bot.store.archive)
    seen/2026-11-28.000.json    the seen marks those cycles wrote
    .lock                       held while a process has the store open for writing

Every file is a TinyDB database replaced atomically (bot.store.storage), so a crash leaves each
file whole. One poll cycle is ``commit_cycle``: archive shard, then seen shard, then state.
A crash after the archive write is repaired on open (bot.store.archive); a crash before the state
write leaves a feed's old validators, so the feed is fetched again and its entries are
already seen. A damaged file stops the open with a StoreError naming it; the store never
starts afresh over data it cannot read.

Chats and alerts were tables of ``state.json`` before ``chats/`` existed: the first open
copies them into the chat store and drops them from ``state.json`` only once the copy is
durable (a crash in between copies them again, or finds the copy made and just drops them).

(Over 300 lines: one class, the one door to the data folder for every other part.)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.errors import StoreError
from bot.models import FeedState, StoredArticle
from bot.store.archive import (
    ARCHIVE,
    SEEN,
    SHARD_MAX_ARTICLES,
    SHARD_MAX_MARKS,
    Archive,
    PruneResult,
    Seen,
    SeenMark,
    check_cycle,
)
from bot.store.chatstore import (
    CHAT_TABLES,
    CHATS_DIR,
    ChatStore,
    JournalChatStore,
    VolumeChatStore,
    adopt_state_tables,
)
from bot.store.documents import record_from_doc, record_to_doc
from bot.store.storage import (
    SCHEMA_VERSION,
    DirectoryVolume,
    KeyedTable,
    MemoryVolume,
    Volume,
    open_database,
)

__all__ = ["SCHEMA_VERSION", "PruneResult", "Seen", "SeenMark", "Store"]

STATE = "state.json"


class Store:
    """Articles, the seen-entries registry and feed states of one data directory.

    Every write method is durable when it returns. Use it from one thread (the event loop);
    commit a poll cycle in one ``commit_cycle`` (one fsync'd write per file, ~60 ms here),
    not one per feed or article.
    """

    def __init__(
        self,
        volume: Volume,
        *,
        read_only: bool = False,
        shard_max_articles: int = SHARD_MAX_ARTICLES,
        shard_max_marks: int = SHARD_MAX_MARKS,
    ) -> None:
        self._read_only = read_only
        self._lock_fd: int | None = None
        self._state = open_database(volume, STATE, stamp=True)
        if not read_only:
            self._state.flush()
        self._archive = Archive(
            volume,
            read_only=read_only,
            shard_max_articles=shard_max_articles,
            shard_max_marks=shard_max_marks,
        )
        self._chat_store: ChatStore | None = None
        if not read_only:
            if isinstance(volume, DirectoryVolume):
                self._chat_store = JournalChatStore.open(volume.root / CHATS_DIR)
            else:
                self._chat_store = VolumeChatStore(volume)
            try:
                adopt_state_tables(self._state, self._chat_store)
            except BaseException:
                self._chat_store.close()
                raise

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        read_only: bool = False,
        shard_max_articles: int = SHARD_MAX_ARTICLES,
        shard_max_marks: int = SHARD_MAX_MARKS,
    ) -> Store:
        """Open (creating it if needed) the store in ``data_dir``. ``read_only`` opens it
        beside a running writer (no lock, no repairs, no writes)."""
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {data_dir}: {exc}") from exc
        volume = DirectoryVolume(data_dir)
        lock_fd = None if read_only else _lock(data_dir)
        try:
            if not read_only:
                volume.remove_leftovers(("", ARCHIVE, SEEN))
            store = cls(
                volume,
                read_only=read_only,
                shard_max_articles=shard_max_articles,
                shard_max_marks=shard_max_marks,
            )
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        store._lock_fd = lock_fd
        return store

    @classmethod
    def in_memory(
        cls,
        volume: MemoryVolume | None = None,
        *,
        shard_max_articles: int = SHARD_MAX_ARTICLES,
        shard_max_marks: int = SHARD_MAX_MARKS,
    ) -> Store:
        """A store over an in-memory volume (unit tests; pass the same volume to reopen)."""
        return cls(
            volume if volume is not None else MemoryVolume(),
            shard_max_articles=shard_max_articles,
            shard_max_marks=shard_max_marks,
        )

    # -- the seen-entries registry ------------------------------------------------------

    def iter_marks(self) -> Iterator[SeenMark]:
        """Every seen mark, once (for moving the store elsewhere)."""
        return self._archive.iter_marks()

    def seen(self, feed: str, identity: str) -> Seen | None:
        """The article id and content hash of a feed's entry processed before, else None."""
        return self._archive.seen(feed, identity)

    def is_seen(self, feed: str, identity: str) -> bool:
        return self._archive.seen(feed, identity) is not None

    def seen_hashes(self, feed: str, identities: Iterable[str]) -> dict[str, str]:
        """Identity -> content hash of those of a feed's entries processed before (the
        ``seen`` mapping the poll decider takes, for the entries of one poll)."""
        found = {}
        for identity in identities:
            mark = self._archive.seen(feed, identity)
            if mark is not None:
                found[identity] = mark.content_hash
        return found

    # -- feed states --------------------------------------------------------------------

    def feed_state(self, name: str) -> FeedState | None:
        doc = self._state.keyed("feeds").get_key(name)
        return None if doc is None else _feed_state(name, doc)

    def feed_states(self) -> dict[str, FeedState]:
        return {name: _feed_state(name, doc) for name, doc in self._state.keyed("feeds").keyed()}

    def remove_feed_state(self, name: str) -> None:
        self._writable()
        self._state.keyed("feeds").drop_keys([name])
        self._state.flush()

    def rename_feed(self, old: str, new: str) -> int:
        """Carry a renamed feed's history to its new name: its state (validators, errors,
        next poll) and its seen marks, so its entries are not news again. Safe to run again
        after a crash midway; returns how many seen marks moved."""
        self._writable()
        moved = self._archive.rename_feed(old, new)
        feeds = self._state.keyed("feeds")
        doc = feeds.get_key(old)
        if doc is not None and old != new:
            feeds.put({new: dict(doc)})
            feeds.drop_keys([old])
            self._state.flush()
        return moved

    # -- chats ------------------------------------------------------------------------------

    @property
    def chat_store(self) -> ChatStore:
        """Each chat's preferences and alerts (bot.store.chatstore)."""
        if self._chat_store is None:
            raise StoreError("the store was opened read-only: its chats are not open")
        return self._chat_store

    # -- other small state --------------------------------------------------------------

    def state_table(self, name: str) -> KeyedTable:
        """A keyed table of ``state.json`` for another module's small state (admin notices).

        Changes stay in memory until ``flush()``; call it once per change set. ``feeds`` and
        ``_meta`` belong to the store itself; chats and alerts live in ``chat_store``.
        """
        if name in ("feeds", "_meta", *CHAT_TABLES):
            raise ValueError(f"the state table {name!r} belongs to the store")
        if name.startswith("_") or not name:
            raise ValueError(f"not a state table name: {name!r}")
        return self._state.keyed(name)

    # -- one poll cycle -----------------------------------------------------------------

    def commit_cycle(
        self,
        now: datetime,
        articles: Sequence[StoredArticle] = (),
        marks: Sequence[SeenMark] = (),
        feed_states: Mapping[str, FeedState] | None = None,
    ) -> None:
        """Store a cycle's new and updated articles, their seen marks and the feeds' states,
        durably, in the crash-safe order the module docstring gives.

        Every article needs a mark naming it; every mark naming an article needs that
        article in the same call (``ValueError`` otherwise, before anything is written).
        A mark without an article records an entry deliberately skipped.
        """
        self._writable()
        check_cycle(articles, marks)
        if articles or marks:
            self._archive.write(now, articles, marks)
        if feed_states:
            states = {name: record_to_doc(state) for name, state in feed_states.items()}
            self._state.keyed("feeds").put(states)
            self._state.flush()

    # -- articles -----------------------------------------------------------------------

    def get(self, ids: Iterable[str]) -> list[StoredArticle]:
        """The stored articles with these ids, in the order given; unknown ids are skipped."""
        return self._archive.get(ids)

    def iter_articles(self, since: datetime | None = None) -> Iterator[StoredArticle]:
        """Every stored article once, in its newest version, oldest first by shard.

        With ``since``: at least every article stored since then (whole shards of that UTC
        day and later; filter on ``fetched`` for an exact cut).
        """
        return self._archive.iter_articles(since)

    def article_count(self) -> int:
        return self._archive.article_count()

    def prune(self, now: datetime, retention_days: int, seen_retention_days: int) -> PruneResult:
        """Delete articles fetched more than ``retention_days`` ago (whole shards) and forget
        entries seen more than ``seen_retention_days`` ago, except those looked up since the
        store opened (still listed by a feed: forgetting them would make them news again)."""
        self._writable()
        return self._archive.prune(now, retention_days, seen_retention_days)

    def expired_ids(self, now: datetime, retention_days: int) -> list[str]:
        """Ids of the articles ``prune(now, retention_days, ...)`` will delete."""
        return self._archive.expired_ids(now, retention_days)

    # -- lifecycle ----------------------------------------------------------------------

    def flush(self) -> None:
        """Write anything not yet durable (every write method is durable when it returns;
        ``state_table`` changes are durable after this)."""
        if not self._read_only:
            self._state.flush()

    def close(self) -> None:
        self.flush()
        if self._chat_store is not None:
            self._chat_store.close()
            self._chat_store = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writable(self) -> None:
        if self._read_only:
            raise StoreError("the store was opened read-only")


def _lock(data_dir: Path) -> int:
    try:
        fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:  # a read-only folder or disk: one clear line, no traceback
        raise StoreError(
            f"cannot write in the data directory {data_dir} ({error.strerror or error}); "
            "newsbot needs to write there: check its permissions and free space, or point "
            "NEWSBOT_DATA elsewhere"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreError(
            f"the data directory {data_dir} is in use by another newsbot process; "
            "stop it first, or point NEWSBOT_DATA elsewhere"
        ) from None
    return fd


def _feed_state(name: str, doc: Mapping[str, Any]) -> FeedState:
    return record_from_doc(FeedState, doc, f"{STATE}: feed {name!r}")
