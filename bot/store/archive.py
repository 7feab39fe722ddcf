"""The sharded archive of articles and the seen-entries registry that travels with it.

Longer than ~300 lines: archive and seen shards are written and repaired together.

Shards (``archive/2026-11-28.000.json`` and ``seen/2026-11-28.000.json``, one pair per key)
keep the cost of a cycle's write independent of the archive's size: a cycle writes only the
newest pair, which rolls over to ``.001``, ``.002``... when full and to a new key each UTC
day. An article updated later is written again into the newest shard; the newest copy wins.

The seen registry maps every feed entry ever processed, by feed and entry identity, to
``(article id, content hash)``: two feeds may carry the same GUID for different things, and
one story in two feeds is two entries (the digest groups them).
All marks are loaded into memory at open (compactly: bot.store.marks), so consulting them
costs no I/O.
Seen shards outlive archive shards (``seen_retention_days``), and a mark still being
consulted (its entry is still in a feed) is carried into the newest shard, not forgotten.

Crash order of one cycle: the archive shard, then the seen shard, each replaced atomically.
A crash between the two leaves articles without marks in the newest archive shard; opening
restores those marks from the articles (each archive document names its entry), so a stored
article is never processed again, and a marked entry always has its article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from bot.errors import StoreError
from bot.models import StoredArticle
from bot.store.documents import article_from_doc, article_to_doc
from bot.store.marks import Marks
from bot.store.storage import Database, Volume, open_database

ARCHIVE = "archive"
SEEN = "seen"
SHARD_MAX_ARTICLES = 500
SHARD_MAX_MARKS = 5000
_SHARD_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(\d{3})\.json$")
_FEED_TABLE = "feed:"  # a seen shard has one table of marks per feed: "feed:BBC World"

EntryKey = tuple[str, str]  # (feed name, entry identity)


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


class Archive:
    """Articles and seen marks in shard pairs of a volume; only the newest pair is written."""

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
        self._marks = Marks()  # (feed, identity) -> (article id, content hash, shard key)
        self._where: dict[str, str] = {}  # article id -> shard key of its newest copy
        self._consulted: set[EntryKey] = set()
        self._current: tuple[str, Database, Database] | None = None
        self._archive_keys = _keys(volume.names(ARCHIVE))
        self._seen_keys = _keys(volume.names(SEEN))
        for key in self._seen_keys:
            for mark, carried in _read_marks(self._seen_db(key), key):
                self._marks.put(mark.feed, mark.identity, (mark.article_id, mark.content_hash, key))
                if mark.article_id is not None and not carried:
                    self._where[mark.article_id] = key
        self._recover_marks()

    def seen(self, feed: str, identity: str) -> Seen | None:
        self._consulted.add((feed, identity))
        mark = self._marks.get(feed, identity)
        return None if mark is None else Seen(mark[0], mark[1])

    def iter_marks(self) -> Iterator[SeenMark]:
        """Every seen mark, once (for moving the store elsewhere)."""
        for feed, identity, (article_id, content_hash, _) in self._marks.items():
            yield SeenMark(identity, content_hash, feed, article_id)

    def rename_feed(self, old: str, new: str) -> int:
        """Move a feed's seen marks to a new name in every seen shard (merged with any the new
        name has); returns how many marks moved. Each shard is replaced atomically and moved
        marks are dropped from the old name last, so running it again after a crash finishes
        the move. Articles keep the feed name they were fetched under."""
        if old == new:
            return 0
        moved = 0
        for key in list(self._seen_keys):
            db = self._seen_db(key)
            if _FEED_TABLE + old not in db.tables():
                continue
            docs = {identity: dict(doc) for identity, doc in db.keyed(_FEED_TABLE + old).keyed()}
            db.keyed(_FEED_TABLE + new).put(docs)
            db.drop_table(_FEED_TABLE + old)
            db.flush()
            moved += len(docs)
        self._marks.rename_feed(old, new)
        self._consulted = {(new if f == old else f, i) for f, i in self._consulted}
        return moved

    def write(
        self, now: datetime, articles: Sequence[StoredArticle], marks: Sequence[SeenMark]
    ) -> None:
        """Write a cycle's articles, then its marks, into the newest shard pair."""
        by_article = check_cycle(articles, marks)
        key, archive_db, seen_db = self._shard_for(now)
        if articles:
            docs = {}
            for article in articles:
                mark = by_article[article.id]
                docs[article.id] = article_to_doc(article, mark.identity, mark.content_hash)
            archive_db.keyed("articles").put(docs)
            archive_db.flush()
            self._archive_keys = sorted({*self._archive_keys, key})
        _put_marks(seen_db, marks)
        seen_db.flush()
        self._seen_keys = sorted({*self._seen_keys, key})
        for mark in marks:
            self._marks.put(mark.feed, mark.identity, (mark.article_id, mark.content_hash, key))
            if mark.article_id is not None:
                self._where[mark.article_id] = key

    def get(self, ids: Iterable[str]) -> list[StoredArticle]:
        """The stored articles with these ids, in the order given; unknown ids are skipped."""
        wanted = list(dict.fromkeys(ids))
        by_key: dict[str, list[str]] = {}
        for article_id in wanted:
            key = self._where.get(article_id)
            if key in self._archive_keys:
                by_key.setdefault(key, []).append(article_id)
        found: dict[str, StoredArticle] = {}
        for key, key_ids in by_key.items():
            table = self._archive_db(key).keyed("articles")
            for article_id in key_ids:
                doc = table.get_key(article_id)
                if doc is not None:
                    found[article_id] = article_from_doc(article_id, doc, _name(ARCHIVE, key))
        return [found[i] for i in wanted if i in found]

    def iter_articles(self, since: datetime | None = None) -> Iterator[StoredArticle]:
        """Every stored article once (its newest copy), oldest shard first; with ``since``,
        only shards of that UTC day or later (callers filter on ``fetched`` for an exact cut)."""
        first_day = since.astimezone(UTC).date() if since is not None else date.min
        for key in list(self._archive_keys):
            if _day(key) < first_day:
                continue
            for article_id, doc in self._archive_db(key).keyed("articles").keyed():
                if self._where.get(article_id, key) == key:
                    yield article_from_doc(article_id, doc, _name(ARCHIVE, key))

    def article_count(self) -> int:
        existing = set(self._archive_keys)
        return sum(1 for key in self._where.values() if key in existing)

    def prune(self, now: datetime, retention_days: int, seen_retention_days: int) -> PruneResult:
        """Drop whole archive shards older than ``retention_days`` and seen shards older than
        ``seen_retention_days``, carrying marks consulted since opening into the newest shard."""
        today = now.astimezone(UTC).date()
        old_archive = self._expired_archive_keys(now, retention_days)
        for key in old_archive:
            self._volume.remove(_name(ARCHIVE, key))
        self._archive_keys = [k for k in self._archive_keys if k not in old_archive]
        keep_days = max(seen_retention_days, retention_days)
        old_seen = [k for k in self._seen_keys if _day(k) < today - timedelta(days=keep_days)]
        carried = [
            mark
            for key in old_seen
            for mark, _ in _read_marks(self._seen_db(key), key)
            if (entry := (mark.feed, mark.identity)) in self._consulted
            and (self._marks.get(*entry) or ("", "", ""))[2] == key
        ]
        if self._current is not None and self._current[0] in {*old_archive, *old_seen}:
            self._current = None
        if carried:
            new_key, _, seen_db = self._shard_for(now)
            _put_marks(seen_db, carried, carried=True)
            seen_db.flush()
            self._seen_keys = sorted({*self._seen_keys, new_key})
            for mark in carried:
                self._marks.put(
                    mark.feed, mark.identity, (mark.article_id, mark.content_hash, new_key)
                )
        for key in old_seen:
            self._volume.remove(_name(SEEN, key))
        gone = set(old_seen)
        self._seen_keys = [k for k in self._seen_keys if k not in gone]
        self._marks.drop_shards(gone)
        self._where = {a: k for a, k in self._where.items() if k not in gone}
        return PruneResult(len(old_archive), len(old_seen), len(carried))

    def expired_ids(self, now: datetime, retention_days: int) -> list[str]:
        """Ids of the articles that ``prune`` with this retention will delete."""
        expired = set(self._expired_archive_keys(now, retention_days))
        return sorted(a for a, key in self._where.items() if key in expired)

    def _expired_archive_keys(self, now: datetime, retention_days: int) -> list[str]:
        cut = now.astimezone(UTC).date() - timedelta(days=retention_days)
        return [k for k in self._archive_keys if _day(k) < cut]

    def _recover_marks(self) -> None:
        """Restore the marks of the newest archive shard's articles that a crash kept from
        being written (the archive is written first; see the module docstring)."""
        if not self._archive_keys:
            return
        key = self._archive_keys[-1]
        if self._seen_keys and self._seen_keys[-1] > key:
            return  # a later cycle completed, so this shard's cycles did too
        missing: list[SeenMark] = []
        for article_id, doc in self._archive_db(key).keyed("articles").keyed():
            feed, identity = doc.get("feed"), doc.get("identity")
            content_hash = doc.get("content_hash")
            if not all(isinstance(v, str) for v in (feed, identity, content_hash)):
                raise StoreError(f"{_name(ARCHIVE, key)}: article {article_id!r} names no entry")
            mark = SeenMark(str(identity), str(content_hash), str(feed), article_id)
            if self._marks.get(mark.feed, mark.identity) != (article_id, mark.content_hash, key):
                missing.append(mark)
                self._marks.put(mark.feed, mark.identity, (article_id, mark.content_hash, key))
                self._where[article_id] = key
        if missing and not self._read_only:
            seen_db = self._seen_db(key, stamp=True)
            _put_marks(seen_db, missing)
            seen_db.flush()
            self._seen_keys = sorted({*self._seen_keys, key})

    def _shard_for(self, now: datetime) -> tuple[str, Database, Database]:
        """The newest shard pair, or a new one when the UTC day changed or the newest is full.
        Never an older pair, even if the clock went back: the newest copy must win."""
        today = now.astimezone(UTC).date().isoformat()
        keys = sorted({*self._archive_keys, *self._seen_keys})
        key = keys[-1] if keys and keys[-1][:10] >= today else f"{today}.000"
        if self._current is None or self._current[0] != key:
            self._current = (key, self._archive_db(key, stamp=True), self._seen_db(key, stamp=True))
        _, archive_db, seen_db = self._current
        if (
            len(archive_db.keyed("articles")) >= self._shard_max[0]
            or _count_marks(seen_db) >= self._shard_max[1]
        ):
            key = f"{key[:10]}.{int(key[11:]) + 1:03d}"
            self._current = (key, self._archive_db(key, stamp=True), self._seen_db(key, stamp=True))
        return self._current

    def _archive_db(self, key: str, *, stamp: bool = False) -> Database:
        if self._current is not None and self._current[0] == key:
            return self._current[1]
        return open_database(self._volume, _name(ARCHIVE, key), stamp=stamp)

    def _seen_db(self, key: str, *, stamp: bool = False) -> Database:
        if self._current is not None and self._current[0] == key:
            return self._current[2]
        return open_database(self._volume, _name(SEEN, key), stamp=stamp)


def check_cycle(
    articles: Sequence[StoredArticle], marks: Sequence[SeenMark]
) -> dict[str, SeenMark]:
    """Each article's mark by article id; a ValueError unless every article has exactly one
    mark and every mark naming an article has that article here."""
    by_article: dict[str, SeenMark] = {}
    identities: set[EntryKey] = set()
    for mark in marks:
        if (mark.feed, mark.identity) in identities:
            raise ValueError(
                f"entry {mark.identity!r} of {mark.feed!r} is marked twice in one cycle"
            )
        identities.add((mark.feed, mark.identity))
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


def _put_marks(db: Database, marks: Iterable[SeenMark], *, carried: bool = False) -> None:
    """Write marks into their feeds' tables; ``carried`` ones name an article kept elsewhere."""
    by_feed: dict[str, dict[str, dict[str, Any]]] = {}
    for mark in marks:
        doc: dict[str, Any] = {"hash": mark.content_hash, "article": mark.article_id}
        if carried:
            doc["carried"] = True
        by_feed.setdefault(mark.feed, {})[mark.identity] = doc
    for feed, docs in by_feed.items():
        db.keyed(_FEED_TABLE + feed).put(docs)


def _read_marks(db: Database, key: str) -> Iterator[tuple[SeenMark, bool]]:
    """Every mark of a seen shard, and whether it was carried from an older shard."""
    for table in sorted(db.tables()):
        if not table.startswith(_FEED_TABLE):
            continue
        feed = table[len(_FEED_TABLE) :]
        for identity, doc in db.keyed(table).keyed():
            content_hash, article_id = doc.get("hash"), doc.get("article")
            if not isinstance(content_hash, str) or not isinstance(article_id, str | None):
                raise StoreError(
                    f"{_name(SEEN, key)}: the mark of entry {identity!r} of {feed!r} is malformed"
                )
            yield SeenMark(identity, content_hash, feed, article_id), bool(doc.get("carried"))


def _count_marks(db: Database) -> int:
    return sum(len(db.keyed(t)) for t in db.tables() if t.startswith(_FEED_TABLE))


def _keys(names: Iterable[str]) -> list[str]:
    keys = []
    for name in names:
        match = _SHARD_NAME.match(name.rsplit("/", 1)[-1])
        if match is not None:
            keys.append(f"{match[1]}.{match[2]}")
    return sorted(keys)


def _day(key: str) -> date:
    return date.fromisoformat(key[:10])


def _name(folder: str, key: str) -> str:
    return f"{folder}/{key}.json"
