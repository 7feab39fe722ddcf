"""The archive and the bot's state, in TinyDB files under the data directory.

Layout (``data/``)::

    state.json                  small mutable state: schema version, feed states
                                (later: subscribers, deliveries); rewritten when it changes
    archive/2026-11-28.000.json articles stored by the cycles of one UTC day (a shard)
    seen/2026-11-28.000.json    the seen-entries marks those cycles wrote (same shard key)
    .lock                       held while a process has the store open for writing

Shards keep the cost of a cycle's write independent of the archive's size: a cycle writes
only the newest shard pair, and a shard rolls over to ``.001``, ``.002``... when it is full.
An article updated later is written again into the newest shard; the newest copy wins.

Seen registry: every feed entry ever processed has a mark ``identity -> (article id, content
hash)``; all marks are loaded into a dict at open (they are small), so consulting it costs no
I/O. Seen shards are kept ``seen_retention_days``, longer than the articles, and a mark that
is still being consulted (its entry is still in a feed) is carried into the newest shard
rather than forgotten.

Crash order of one cycle: archive shard, then seen shard, then state — each file replaced
atomically. A crash after the archive write leaves articles without marks; opening the store
restores those marks from the articles themselves (each archive document names its entry),
so no stored article is processed again. A crash before the state write leaves old feed
validators: the feed is fetched again and its entries are already seen. Nothing is lost.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from tinydb import TinyDB
from tinydb.table import Document, Table

from bot.documents import article_from_doc, article_to_doc, record_from_doc, record_to_doc
from bot.errors import StoreError
from bot.models import FeedState, StoredArticle
from bot.storage import BatchStorage, DirectoryVolume, MemoryVolume, Volume

SCHEMA_VERSION = 1
STATE = "state.json"
ARCHIVE = "archive"
SEEN = "seen"
SHARD_MAX_ARTICLES = 500
SHARD_MAX_MARKS = 5000
_SHARD_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(\d{3})\.json$")


class Seen(NamedTuple):
    """What the registry knows of an entry: its article (None when skipped) and content hash."""

    article_id: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class SeenMark:
    """Marks a feed entry as processed. ``article_id`` is None for an entry deliberately
    skipped (the backlog of a newly added feed); otherwise that article is in the same cycle."""

    identity: str
    content_hash: str
    feed: str
    article_id: str | None = None


@dataclass(frozen=True, slots=True)
class PruneResult:
    archive_shards: int
    seen_shards: int
    marks_carried: int


class _KeyedTable(Table):
    """A TinyDB table whose documents are keyed by our own string ids (TinyDB's typing
    assumes integer ids; the ignores below are confined to this class)."""

    document_id_class = str  # type: ignore[assignment]

    def _get_next_id(self) -> int:
        raise TypeError("documents here are keyed: use put()")

    def get_key(self, key: str) -> Document | None:
        return self.get(doc_id=key)  # type: ignore[call-overload, no-any-return]

    def put(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Insert or replace documents by key, in two passes over the table."""
        self.drop_keys(docs)
        self.insert_multiple(Document(doc, doc_id=key) for key, doc in docs.items())  # type: ignore[arg-type]

    def drop_keys(self, keys: Iterable[str]) -> None:
        present = [k for k in keys if self.contains(doc_id=k)]  # type: ignore[arg-type]
        if present:
            self.remove(doc_ids=present)  # type: ignore[arg-type]

    def keyed(self) -> Iterator[tuple[str, Document]]:
        for doc in self:
            yield str(doc.doc_id), doc


class _Database(TinyDB):
    table_class = _KeyedTable

    def keyed(self, name: str) -> _KeyedTable:
        table = self.table(name)
        assert isinstance(table, _KeyedTable)
        return table


def _open_db(volume: Volume, name: str) -> _Database:
    return _Database(volume, name, storage=BatchStorage)


def _flush(db: TinyDB) -> None:
    storage = db.storage
    assert isinstance(storage, BatchStorage)
    storage.flush()


class Store:
    """The data directory: articles, the seen-entries registry and feed states."""

    def __init__(
        self,
        volume: Volume,
        *,
        read_only: bool = False,
        shard_max_articles: int = SHARD_MAX_ARTICLES,
        shard_max_marks: int = SHARD_MAX_MARKS,
    ) -> None:
        self._volume = volume
        self._read_only = read_only
        self._shard_max = (shard_max_articles, shard_max_marks)
        self._lock_fd: int | None = None
        self._seen: dict[str, tuple[str | None, str, str]] = {}  # identity -> (id, hash, key)
        self._where: dict[str, str] = {}  # article id -> shard key of its newest copy
        self._consulted: set[str] = set()
        self._current: tuple[str, _Database, _Database] | None = None
        self._state = _open_db(volume, STATE)
        self._check_schema(self._state, STATE, create=not read_only)
        for name in volume.names(SEEN):
            self._load_marks(name)
        self._recover_marks()

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        read_only: bool = False,
        shard_max_articles: int = SHARD_MAX_ARTICLES,
        shard_max_marks: int = SHARD_MAX_MARKS,
    ) -> Store:
        """Open (creating it if needed) the store in ``data_dir``; a damaged file is an error."""
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

    # -- the seen-entries registry -------------------------------------------------------

    def seen(self, identity: str) -> Seen | None:
        """The entry's article id and content hash when it was processed before, else None."""
        self._consulted.add(identity)
        mark = self._seen.get(identity)
        return None if mark is None else Seen(mark[0], mark[1])

    def is_seen(self, identity: str) -> bool:
        return self.seen(identity) is not None

    # -- feed states --------------------------------------------------------------------

    def feed_state(self, name: str) -> FeedState | None:
        doc = self._state.keyed("feeds").get_key(name)
        return None if doc is None else _feed_state(name, doc)

    def feed_states(self) -> dict[str, FeedState]:
        return {str(d.doc_id): _feed_state(str(d.doc_id), d) for d in self._state.keyed("feeds")}

    def remove_feed_state(self, name: str) -> None:
        self._writable()
        self._state.keyed("feeds").drop_keys([name])
        _flush(self._state)

    # -- one poll cycle -----------------------------------------------------------------

    def commit_cycle(
        self,
        now: datetime,
        articles: Sequence[StoredArticle] = (),
        marks: Sequence[SeenMark] = (),
        feed_states: Mapping[str, FeedState] | None = None,
    ) -> None:
        """Store a cycle's new and updated articles, their seen marks and the feeds' states.

        Every article needs a mark naming it, and every mark naming an article needs that
        article here: that is what lets a crash at any point be recovered without loss or
        duplicates (see the module docstring for the order of writes).
        """
        self._writable()
        by_article = _check_cycle(articles, marks)
        if articles or marks:
            key, archive, seen_db = self._shard_for(now)
            if articles:
                archive.keyed("articles").put(
                    {
                        a.id: article_to_doc(
                            a, by_article[a.id].identity, by_article[a.id].content_hash
                        )
                        for a in articles
                    },
                )
                _flush(archive)
            seen_db.keyed("seen").put({m.identity: _mark_doc(m) for m in marks})
            _flush(seen_db)
            for mark in marks:
                self._seen[mark.identity] = (mark.article_id, mark.content_hash, key)
                if mark.article_id is not None:
                    self._where[mark.article_id] = key
        if feed_states:
            states = {name: record_to_doc(state) for name, state in feed_states.items()}
            self._state.keyed("feeds").put(states)
            _flush(self._state)

    # -- articles -----------------------------------------------------------------------

    def get(self, ids: Iterable[str]) -> list[StoredArticle]:
        """The stored articles with these ids, in the order given; unknown ids are skipped."""
        wanted = list(dict.fromkeys(ids))
        by_key: dict[str, list[str]] = {}
        for article_id in wanted:
            key = self._where.get(article_id)
            if key is not None:
                by_key.setdefault(key, []).append(article_id)
        found: dict[str, StoredArticle] = {}
        existing = set(self._archive_keys())
        for key, key_ids in by_key.items():
            if key in existing:
                table = self._archive(key).keyed("articles")
                for article_id in key_ids:
                    doc = table.get_key(article_id)
                    if doc is not None:
                        found[article_id] = article_from_doc(article_id, doc, _where(key))
        return [found[i] for i in wanted if i in found]

    def iter_articles(self, since: datetime | None = None) -> Iterator[StoredArticle]:
        """Every stored article once (its newest copy), oldest shard first.

        With ``since``, only shards written on or after that UTC day: at least every article
        stored since then (callers filter on ``fetched`` for an exact cut).
        """
        first_day = since.astimezone(UTC).date() if since is not None else date.min
        for key in self._archive_keys():
            if _day(key) < first_day:
                continue
            for doc in self._archive(key).keyed("articles"):
                article_id = str(doc.doc_id)
                if self._where.get(article_id, key) == key:
                    yield article_from_doc(article_id, doc, _where(key))

    def article_count(self) -> int:
        existing = set(self._archive_keys())
        return sum(1 for key in self._where.values() if key in existing)

    # -- retention ----------------------------------------------------------------------

    def prune(self, now: datetime, retention_days: int, seen_retention_days: int) -> PruneResult:
        """Drop archive shards older than ``retention_days`` and seen shards older than
        ``seen_retention_days``; marks consulted since the store opened (entries still in
        a feed) are carried into the newest seen shard instead of being forgotten."""
        self._writable()
        today = now.astimezone(UTC).date()
        archive_gone = 0
        for key in self._archive_keys():
            if _day(key) < today - timedelta(days=retention_days):
                self._drop_current(key)
                self._volume.remove(f"{ARCHIVE}/{key}.json")
                archive_gone += 1
        old_seen = [
            key
            for key in self._seen_keys()
            if _day(key) < today - timedelta(days=max(seen_retention_days, retention_days))
        ]
        carried: list[SeenMark] = []
        for key in old_seen:
            for doc in _open_db(self._volume, f"{SEEN}/{key}.json").keyed("seen"):
                identity = str(doc.doc_id)
                if identity in self._consulted and self._seen.get(identity, ("", "", ""))[2] == key:
                    carried.append(_mark_from_doc(identity, doc))
        if carried:
            _, _, seen_db = self._shard_for(now)
            seen_db.keyed("seen").put(
                {m.identity: {**_mark_doc(m), "carried": True} for m in carried},
            )
            _flush(seen_db)
        current_key = self._current[0] if self._current else None
        for key in old_seen:
            if key == current_key:
                continue
            self._volume.remove(f"{SEEN}/{key}.json")
        carried_ids = {m.identity for m in carried}
        gone = set(old_seen) - {current_key}
        for identity, (article_id, content_hash, key) in list(self._seen.items()):
            if identity in carried_ids:
                self._seen[identity] = (article_id, content_hash, current_key or key)
            elif key in gone:
                del self._seen[identity]
        self._where = {a: k for a, k in self._where.items() if k not in gone}
        return PruneResult(archive_gone, len(gone), len(carried))

    # -- lifecycle ----------------------------------------------------------------------

    def flush(self) -> None:
        """Write anything not yet durable (commits are durable already)."""
        if not self._read_only:
            _flush(self._state)

    def close(self) -> None:
        self.flush()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _writable(self) -> None:
        if self._read_only:
            raise StoreError("the store was opened read-only")

    def _check_schema(self, db: _Database, name: str, *, create: bool) -> None:
        meta = db.keyed("_meta").get_key("schema")
        if meta is None:
            if db.storage.read() and db.tables():
                raise StoreError(
                    f"{self._volume.where(name)} has no schema version: it was not written by "
                    "newsbot, or is damaged; move it aside or restore it from a backup"
                )
            if create:
                db.keyed("_meta").put({"schema": {"version": SCHEMA_VERSION}})
                _flush(db)
            return
        version = meta.get("version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise StoreError(
                f"{self._volume.where(name)} has schema version {version!r}, newer than this "
                f"newsbot understands ({SCHEMA_VERSION}): upgrade newsbot to open this data"
            )

    def _load_marks(self, name: str) -> None:
        key = _key(name)
        if key is None:
            return
        db = _open_db(self._volume, name)
        self._check_schema(db, name, create=False)
        for doc in db.keyed("seen"):
            mark = _mark_from_doc(str(doc.doc_id), doc)
            self._seen[mark.identity] = (mark.article_id, mark.content_hash, key)
            if mark.article_id is not None and not doc.get("carried"):
                self._where[mark.article_id] = key

    def _recover_marks(self) -> None:
        """Marks for the newest archive shard's articles that a crash kept from being written."""
        archive_keys = self._archive_keys()
        if not archive_keys or (self._seen_keys() and self._seen_keys()[-1] > archive_keys[-1]):
            return
        key = archive_keys[-1]
        missing: list[SeenMark] = []
        for doc in self._archive(key).keyed("articles"):
            article_id = str(doc.doc_id)
            identity, content_hash = doc.get("identity"), doc.get("content_hash")
            if not isinstance(identity, str) or not isinstance(content_hash, str):
                raise StoreError(f"{_where(key)}: article {article_id!r} names no feed entry")
            if self._seen.get(identity) != (article_id, content_hash, key):
                missing.append(SeenMark(identity, content_hash, str(doc.get("feed")), article_id))
                self._seen[identity] = (article_id, content_hash, key)
                self._where[article_id] = key
        if missing and not self._read_only:
            name = f"{SEEN}/{key}.json"
            seen_db = _open_db(self._volume, name)
            self._check_schema(seen_db, name, create=True)
            seen_db.keyed("seen").put({m.identity: _mark_doc(m) for m in missing})
            _flush(seen_db)

    def _archive_keys(self) -> list[str]:
        return [k for k in map(_key, self._volume.names(ARCHIVE)) if k is not None]

    def _seen_keys(self) -> list[str]:
        return [k for k in map(_key, self._volume.names(SEEN)) if k is not None]

    def _archive(self, key: str) -> _Database:
        if self._current is not None and self._current[0] == key:
            return self._current[1]
        db = _open_db(self._volume, f"{ARCHIVE}/{key}.json")
        self._check_schema(db, f"{ARCHIVE}/{key}.json", create=False)
        return db

    def _shard_for(self, now: datetime) -> tuple[str, _Database, _Database]:
        """The newest shard pair, or a new one when the day changed or the newest is full."""
        keys = sorted({*self._archive_keys(), *self._seen_keys()})
        today = now.astimezone(UTC).date().isoformat()
        key = keys[-1] if keys else f"{today}.000"
        if key[:10] < today:
            key = f"{today}.000"
        if self._current is None or self._current[0] != key:
            self._current = self._open_pair(key)
        articles = len(self._current[1].keyed("articles"))
        marks = len(self._current[2].keyed("seen"))
        if articles >= self._shard_max[0] or marks >= self._shard_max[1]:
            key = f"{key[:10]}.{int(key[11:14]) + 1:03d}"
            self._current = self._open_pair(key)
        return self._current

    def _open_pair(self, key: str) -> tuple[str, _Database, _Database]:
        pair = []
        for folder in (ARCHIVE, SEEN):
            name = f"{folder}/{key}.json"
            db = _open_db(self._volume, name)
            self._check_schema(db, name, create=False)
            if db.keyed("_meta").get_key("schema") is None:
                db.keyed("_meta").put({"schema": {"version": SCHEMA_VERSION}})
            pair.append(db)
        return key, pair[0], pair[1]

    def _drop_current(self, key: str) -> None:
        if self._current is not None and self._current[0] == key:
            self._current = None


def _lock(data_dir: Path) -> int:
    path = data_dir / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreError(
            f"the data directory {data_dir} is in use by another newsbot process; "
            "stop it first, or point NEWSBOT_DATA elsewhere"
        ) from None
    return fd


def _check_cycle(
    articles: Sequence[StoredArticle], marks: Sequence[SeenMark]
) -> dict[str, SeenMark]:
    by_article: dict[str, SeenMark] = {}
    identities: set[str] = set()
    for mark in marks:
        if mark.identity in identities:
            raise ValueError(f"entry {mark.identity!r} is marked twice in one cycle")
        identities.add(mark.identity)
        if mark.article_id is not None:
            by_article[mark.article_id] = mark
    article_ids = [a.id for a in articles]
    if len(set(article_ids)) != len(article_ids):
        raise ValueError("an article appears twice in one cycle")
    unmarked = set(article_ids) - by_article.keys()
    dangling = by_article.keys() - set(article_ids)
    if unmarked or dangling:
        raise ValueError(
            "every article needs its seen mark and every mark's article must be stored in the "
            f"same cycle: unmarked articles {sorted(unmarked)}, "
            f"marks without article {sorted(dangling)}"
        )
    return by_article


def _mark_doc(mark: SeenMark) -> dict[str, Any]:
    return {"hash": mark.content_hash, "article": mark.article_id, "feed": mark.feed}


def _mark_from_doc(identity: str, doc: Mapping[str, Any]) -> SeenMark:
    return SeenMark(identity, str(doc["hash"]), str(doc.get("feed", "")), doc.get("article"))


def _feed_state(name: str, doc: Mapping[str, Any]) -> FeedState:
    return record_from_doc(FeedState, doc, f"{STATE}: feed {name!r}")


def _key(name: str) -> str | None:
    match = _SHARD_NAME.match(name.rsplit("/", 1)[-1])
    return None if match is None else f"{match[1]}.{match[2]}"


def _day(key: str) -> date:
    return date.fromisoformat(key[:10])


def _where(key: str) -> str:
    return f"{ARCHIVE}/{key}.json"
