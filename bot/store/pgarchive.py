"""The archive, the seen-entries registry and feed states in PostgreSQL (``PgStore``).

The same contract as the data folder's ``Store`` (bot.store.contract), so the poller, the
digests and the commands cannot tell them apart; the contract tests run against both. A poll
cycle is one transaction: articles, their seen marks and the feeds' states are committed
together, so there is no crash order to repair. Articles and marks carry the UTC day they
were stored, which is what retention counts from (the data folder's shards are per day too).

Feed text reaches the database without NUL characters or lone surrogates, which PostgreSQL
text cannot hold (``safe_json``). A mark consulted by a poll (its entry is still in a feed)
records the day; retention forgets only marks neither written nor consulted within
``seen_retention_days``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.models import FeedState, StoredArticle
from bot.store.archive import PruneResult, Seen, SeenMark, check_cycle
from bot.store.documents import article_from_doc, article_to_doc, record_from_doc, record_to_doc
from bot.store.pg import Database, jsonb, safe_json, safe_text
from bot.store.pgchats import PgChatStore

_BATCH = 500


class PgStore:
    """Articles, seen marks and feed states in a PostgreSQL database."""

    def __init__(self, db: Database, *, owns_db: bool = False) -> None:
        self.db = db
        self.chat_store = PgChatStore(db)
        self._owns_db = owns_db

    @classmethod
    def open(cls, url: str) -> PgStore:
        """Connect to (and migrate) the database at ``url``; ``close`` closes it."""
        return cls(Database.open(url), owns_db=True)

    def state_table(self, name: str) -> PgStateTable:
        """Small keyed records of another part's state (the data folder's ``state.json``
        tables); each ``put`` is committed when it returns."""
        return PgStateTable(self.db, name)

    # -- the seen-entries registry ------------------------------------------------------

    def iter_marks(self) -> Iterator[SeenMark]:
        """Every seen mark, once (for moving the store elsewhere)."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT feed, identity, article_id, content_hash FROM seen ORDER BY feed, identity"
            ).fetchall()
        for feed, identity, article_id, content_hash in rows:
            yield SeenMark(identity, content_hash, feed, article_id)

    def seen(self, feed: str, identity: str) -> Seen | None:
        found = self._seen(feed, [identity])
        return found.get(identity)

    def is_seen(self, feed: str, identity: str) -> bool:
        return self.seen(feed, identity) is not None

    def seen_hashes(self, feed: str, identities: Iterable[str]) -> dict[str, str]:
        return {i: s.content_hash for i, s in self._seen(feed, list(identities)).items()}

    def _seen(self, feed: str, identities: list[str]) -> dict[str, Seen]:
        if not identities:
            return {}
        today = datetime.now(UTC).date()
        stored = {safe_text(i): i for i in identities}
        with self.db.connection() as conn:
            rows = conn.execute(
                "UPDATE seen SET consulted_on = %s WHERE feed = %s AND identity = ANY(%s) "
                "RETURNING identity, article_id, content_hash",
                (today, safe_text(feed), list(stored)),
            ).fetchall()
        return {stored[row[0]]: Seen(row[1], row[2]) for row in rows}

    # -- feed states --------------------------------------------------------------------

    def feed_state(self, name: str) -> FeedState | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT doc FROM feed_states WHERE name = %s", (name,)).fetchone()
        return None if row is None else _feed_state(name, row[0])

    def feed_states(self) -> dict[str, FeedState]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT name, doc FROM feed_states ORDER BY name").fetchall()
        return {name: _feed_state(name, doc) for name, doc in rows}

    def remove_feed_state(self, name: str) -> None:
        with self.db.connection() as conn:
            conn.execute("DELETE FROM feed_states WHERE name = %s", (name,))

    def rename_feed(self, old: str, new: str) -> int:
        """Carry a renamed feed's state and seen marks to its new name (merged with any the
        new name has); returns how many marks moved."""
        if old == new:
            return 0
        with self.db.connection() as conn:
            moved = conn.execute(
                "INSERT INTO seen (feed, identity, article_id, content_hash, marked_on, "
                "consulted_on) SELECT %s, identity, article_id, content_hash, marked_on, "
                "consulted_on FROM seen WHERE feed = %s "
                "ON CONFLICT (feed, identity) DO UPDATE SET article_id = excluded.article_id, "
                "content_hash = excluded.content_hash, marked_on = excluded.marked_on",
                (new, old),
            ).rowcount
            conn.execute("DELETE FROM seen WHERE feed = %s", (old,))
            conn.execute(
                "INSERT INTO feed_states (name, doc) SELECT %s, doc FROM feed_states "
                "WHERE name = %s ON CONFLICT (name) DO UPDATE SET doc = excluded.doc",
                (new, old),
            )
            conn.execute("DELETE FROM feed_states WHERE name = %s", (old,))
        return max(moved, 0)

    # -- claims: which process polls a feed -------------------------------------------------

    def claim_feeds(self, names: Sequence[str], owner: str, lease_s: float) -> set[str]:
        """Claim feeds for one poll: those no other owner holds, or whose claim has expired
        (its process died); the claims last ``lease_s`` unless released. Returns the names
        claimed; concurrent claimers never get the same feed."""
        if not names:
            return set()
        with self.db.connection() as conn:
            rows = conn.execute(
                "INSERT INTO feed_claims (name, owner, until) "
                "SELECT unnest(%s::text[]), %s, clock_timestamp() + make_interval(secs => %s) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE feed_claims.until < clock_timestamp() OR feed_claims.owner = excluded.owner "
                "RETURNING name",
                (list(names), owner, lease_s),
            ).fetchall()
        return {row[0] for row in rows}

    def release_feeds(self, names: Sequence[str], owner: str) -> None:
        """Give up this owner's claims on ``names`` (their polls are committed)."""
        if names:
            with self.db.connection() as conn:
                conn.execute(
                    "DELETE FROM feed_claims WHERE name = ANY(%s) AND owner = %s",
                    (list(names), owner),
                )

    # -- one poll cycle -----------------------------------------------------------------

    def commit_cycle(
        self,
        now: datetime,
        articles: Sequence[StoredArticle] = (),
        marks: Sequence[SeenMark] = (),
        feed_states: Mapping[str, FeedState] | None = None,
    ) -> None:
        """Store a cycle's articles, seen marks and feed states in one transaction."""
        by_article = check_cycle(articles, marks)
        day = now.astimezone(UTC).date()
        with self.db.connection() as conn, conn.cursor() as cur:
            if articles:
                cur.executemany(
                    "INSERT INTO articles (id, feed, identity, content_hash, stored_on, doc) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                    "feed = excluded.feed, identity = excluded.identity, "
                    "content_hash = excluded.content_hash, stored_on = excluded.stored_on, "
                    "stored_seq = nextval('articles_stored_seq_seq'), doc = excluded.doc",
                    [_article_row(a, by_article[a.id], day) for a in articles],
                )
            if marks:
                cur.executemany(
                    "INSERT INTO seen (feed, identity, article_id, content_hash, marked_on) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (feed, identity) DO UPDATE SET "
                    "article_id = excluded.article_id, content_hash = excluded.content_hash, "
                    "marked_on = excluded.marked_on",
                    [
                        (
                            safe_text(m.feed),
                            safe_text(m.identity),
                            m.article_id,
                            m.content_hash,
                            day,
                        )
                        for m in marks
                    ],
                )
            if feed_states:
                cur.executemany(
                    "INSERT INTO feed_states (name, doc) VALUES (%s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET doc = excluded.doc",
                    [(name, jsonb(record_to_doc(s))) for name, s in feed_states.items()],
                )

    # -- articles -----------------------------------------------------------------------

    def get(self, ids: Iterable[str]) -> list[StoredArticle]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT id, doc FROM articles WHERE id = ANY(%s)", (wanted,)
            ).fetchall()
        found = {row[0]: article_from_doc(row[0], row[1], "database") for row in rows}
        return [found[i] for i in wanted if i in found]

    def iter_articles(self, since: datetime | None = None) -> Iterator[StoredArticle]:
        """Every stored article once, oldest stored first; with ``since``, those stored on
        that UTC day or later (callers filter on ``fetched`` for an exact cut)."""
        first_day = since.astimezone(UTC).date() if since is not None else date.min
        after: tuple[date, int] = (first_day, -1)
        while True:
            with self.db.connection() as conn:
                rows = conn.execute(
                    "SELECT id, doc, stored_on, stored_seq FROM articles "
                    "WHERE (stored_on, stored_seq) > (%s, %s) "
                    "ORDER BY stored_on, stored_seq LIMIT %s",
                    (*after, _BATCH),
                ).fetchall()
            for article_id, doc, _, _ in rows:
                yield article_from_doc(article_id, doc, "database")
            if len(rows) < _BATCH:
                return
            after = (rows[-1][2], rows[-1][3])

    def article_count(self) -> int:
        with self.db.connection() as conn:
            row = conn.execute("SELECT count(*) FROM articles").fetchone()
        return int(row[0]) if row else 0

    def prune(self, now: datetime, retention_days: int, seen_retention_days: int) -> PruneResult:
        """Delete articles stored more than ``retention_days`` days ago and marks neither
        written nor consulted within ``max(seen_retention_days, retention_days)`` days."""
        today = now.astimezone(UTC).date()
        keep_days = max(seen_retention_days, retention_days)
        seen_cut = today - timedelta(days=keep_days)
        with self.db.connection() as conn:
            articles = conn.execute(
                "DELETE FROM articles WHERE stored_on < %s",
                (today - timedelta(days=retention_days),),
            ).rowcount
            marks = conn.execute(
                "DELETE FROM seen WHERE marked_on < %s "
                "AND (consulted_on IS NULL OR consulted_on < %s)",
                (seen_cut, seen_cut),
            ).rowcount
            carried = conn.execute(
                "UPDATE seen SET marked_on = %s WHERE marked_on < %s", (today, seen_cut)
            ).rowcount
        return PruneResult(max(articles, 0), max(marks, 0), max(carried, 0))

    def expired_ids(self, now: datetime, retention_days: int) -> list[str]:
        cut = now.astimezone(UTC).date() - timedelta(days=retention_days)
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT id FROM articles WHERE stored_on < %s ORDER BY id", (cut,)
            ).fetchall()
        return [row[0] for row in rows]

    # -- lifecycle ----------------------------------------------------------------------

    def flush(self) -> None:
        """Nothing to do: every write is committed when its method returns."""

    def close(self) -> None:
        """Close the database if this store opened it (the index and ledger share it, so
        they are closed first)."""
        if self._owns_db:
            self.db.close()
            self._owns_db = False

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PgStateTable:
    """One named table of small records, kept beside the chat store's (``state:<name>``)."""

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self._table = f"state:{name}"

    def get_key(self, key: str) -> dict[str, Any] | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT doc FROM chat_records WHERE tbl = %s AND key = %s", (self._table, key)
            ).fetchone()
        return None if row is None else dict(row[0])

    def put(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        with self.db.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO chat_records (tbl, key, doc) VALUES (%s, %s, %s) "
                "ON CONFLICT (tbl, key) DO UPDATE SET doc = excluded.doc",
                [(self._table, key, jsonb(dict(doc))) for key, doc in docs.items()],
            )


def _article_row(article: StoredArticle, mark: SeenMark, day: date) -> tuple[Any, ...]:
    doc = safe_json(article_to_doc(article, mark.identity, mark.content_hash))
    return (article.id, doc["feed"], doc["identity"], mark.content_hash, day, jsonb(doc))


def _feed_state(name: str, doc: Mapping[str, Any]) -> FeedState:
    return record_from_doc(FeedState, doc, f"database: feed {name!r}")
