"""The search index: SQLite FTS5 over the archive, ranked by relevance and recency.

Longer than ~300 lines: writes, queries and ranking share one connection and lock.

The index file lives in the data directory and is derived from the store: ``rebuild`` makes
it again from scratch, ``index_articles`` upserts, ``remove`` deletes. Every article is indexed
twice over the same content table: once stemmed (Porter, for plain words: "runs" finds
"running") and once exact (for "phrases" and prefix*). Both tokenise with unicode61,
``remove_diacritics 2`` (café = cafe, Zürich = zurich) and combining marks counted as parts of
words, so Devanagari and Arabic-script words stay whole. Porter only rewrites ASCII endings,
so Urdu, Russian or Hindi words pass through it unchanged.

Ranking: ``score = relevance × recency``. ``relevance`` is FTS5's BM25 with column weights
(title 10, lead 4, text 1; summed over both tables when a query uses both) and
``recency = floor + (1 − floor) · h / (h + age_days)``: 1 for an article published now, halfway
to ``floor`` after ``h`` (the half-life, 30 days by default), never below ``floor`` (0.5): a
fresh article gets at most twice the score of an old one, so an old article that matches far
better (its title is about the words) still wins. Ties go to the newer article.

Row ids encode the publication minute (``minute << 20 | sequence``), so recency is computed
from the full-text index alone, without reading any article row. Tables and SQL: bot.search.fts.

Keyword alerts use ``ArticleMatcher``: the same SQL over an in-memory index of one article,
so an alert fires exactly when a search would find the article.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.errors import QueryError, StoreError
from bot.models import StoredArticle
from bot.search.fts import (
    SCHEMA,
    SCHEMA_VERSION,
    SEQ_BITS,
    Transaction,
    build,
    match_sql,
    minute_of,
    optimize,
    upsert,
)
from bot.search.highlight import SCAN_CHARS, match_spans
from bot.search.query import Fts5Query, Query, highlight_fts5, parse_query, to_fts5
from bot.search.snippet import Segment, make_snippet, merge_spans
from bot.store.atomic import fsync_dir

INDEX_FILENAME = "search.sqlite3"


@dataclass(frozen=True, slots=True)
class Ranking:
    """Weights of the ranking; see the module docstring."""

    title_weight: float = 10.0
    lead_weight: float = 4.0
    text_weight: float = 1.0
    half_life_days: float = 30.0
    recency_floor: float = 0.5


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the article's identity and a snippet as (text, is_match) segments."""

    id: str
    title: str
    feed: str
    published: datetime
    link: str
    snippet: tuple[Segment, ...]
    score: float


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results; ``total`` counts every match."""

    hits: tuple[SearchHit, ...]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


class SearchIndex:
    """An FTS5 index in one SQLite file (``":memory:"`` for a private in-memory one).

    Safe to share between threads of one process; other processes may read it meanwhile.
    """

    def __init__(self, path: Path | str, *, ranking: Ranking | None = None) -> None:
        self.path = path
        self.ranking = ranking or Ranking()
        self._lock = threading.RLock()
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"the search index {path} cannot be opened ({exc}); "
                "run `newsbot reindex` to build it again"
            ) from exc

    @classmethod
    def in_data_dir(cls, data_dir: Path, *, ranking: Ranking | None = None) -> SearchIndex:
        """The index file of a data directory (created when missing)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / INDEX_FILENAME, ranking=ranking)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------

    def index_articles(self, articles: Iterable[StoredArticle]) -> int:
        """Add or replace articles (by id) in one transaction; returns how many."""
        count = 0
        with self._write():
            for article in articles:
                upsert(self._db, article)
                count += 1
        return count

    def remove(self, ids: Iterable[str]) -> int:
        """Delete articles by id; returns how many were indexed."""
        count = 0
        with self._write():
            for article_id in ids:
                count += self._db.execute(
                    "DELETE FROM articles WHERE id = ?", (article_id,)
                ).rowcount
        return count

    def rebuild(self, articles: Iterable[StoredArticle]) -> int:
        """Replace the whole index with ``articles``, atomically: a failure keeps the old.

        A file index is built beside the old one (no journal: it is thrown away on failure)
        and renamed over it, so no other process may have the file open meanwhile
        (``newsbot reindex`` holds the store's lock, so the bot is not running).
        """
        if self.path == ":memory:":
            with self._write():
                for table in ("fts_stemmed", "fts_exact", "articles"):
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                self._create_schema()
                count = 0
                for article in articles:
                    upsert(self._db, article)
                    count += 1
            optimize(self._db)
            return count
        path = Path(self.path)
        fresh = path.with_name(path.name + ".rebuild")
        with self._lock:
            fresh.unlink(missing_ok=True)
            try:
                count = build(fresh, articles)
            except BaseException:
                fresh.unlink(missing_ok=True)
                raise
            self._db.close()
            try:
                os.replace(fresh, path)
                fsync_dir(path.parent)
            finally:
                self._connect()
        return count

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def __contains__(self, article_id: object) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,))
            return row.fetchone() is not None

    # -- reading -------------------------------------------------------------------------

    def search(
        self,
        query: str | Query,
        *,
        now: datetime,
        limit: int = 10,
        offset: int = 0,
        snippet_chars: int = 200,
    ) -> SearchPage:
        """One page of the best matches for ``query``, best first, as of ``now``.

        A string is parsed first: a malformed one raises QueryError with a message for the
        user. Nothing else the user typed can make the engine fail.
        """
        if limit < 1 or offset < 0:
            raise ValueError(f"limit must be ≥ 1 and offset ≥ 0, got {limit}, {offset}")
        parsed = parse_query(query) if isinstance(query, str) else query
        fts = to_fts5(parsed)
        where_sql, params, main = match_sql(fts)
        r = self.ranking
        relevance = " + ".join(
            f"bm25({table}, {r.title_weight}, {r.lead_weight}, {r.text_weight})"
            for table, side in (("fts_stemmed", fts.stemmed), ("fts_exact", fts.exact))
            if side.match
        )
        half_life_min = r.half_life_days * 1440.0
        now_min = minute_of(now)
        score = (
            f"-({relevance}) * ({r.recency_floor} + {1.0 - r.recency_floor} * {half_life_min} / "
            f"({half_life_min} + max(0, {now_min} - ({main}.rowid >> {SEQ_BITS}))))"
        )
        with self._lock:
            try:
                total = self._db.execute(f"SELECT count(*) {where_sql}", params).fetchone()[0]
                ranked = self._db.execute(
                    f"SELECT {main}.rowid, {score} AS score {where_sql} "
                    f"ORDER BY score DESC, {main}.rowid DESC LIMIT ? OFFSET ?",
                    (*params, limit, offset),
                ).fetchall()
                meta = self._meta([row[0] for row in ranked])
            except sqlite3.OperationalError as exc:
                if "fts5" in str(exc):  # a query the engine refuses after all
                    raise QueryError("That search could not be run; try plainer words.") from exc
                raise StoreError(f"the search index cannot be read: {exc}") from exc
        hits = _hits(ranked, meta, highlight_fts5(parsed), snippet_chars)  # outside the lock
        return SearchPage(hits=hits, total=int(total), offset=offset, limit=limit)

    def matching_ids(self, query: str | Query) -> set[str]:
        """The ids of every indexed article that matches ``query`` (no ranking)."""
        parsed = parse_query(query) if isinstance(query, str) else query
        where_sql, params, main = match_sql(to_fts5(parsed))
        with self._lock:
            rows = self._db.execute(
                f"SELECT id FROM articles WHERE rowid IN (SELECT {main}.rowid {where_sql})",  # noqa: S608
                params,
            ).fetchall()
        return {row[0] for row in rows}

    # -- internals -----------------------------------------------------------------------

    def _prepare(self) -> None:
        self._db.execute("PRAGMA foreign_keys = OFF")
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA cache_size = -65536")  # KiB: 64 MiB
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        has_tables = self._db.execute(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'articles'"
        ).fetchone()[0]
        if not has_tables:
            with self._write():
                self._create_schema()
        elif version != SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"it was built by another version of newsbot (schema {version})"
            )

    def _create_schema(self) -> None:
        for statement in SCHEMA:
            self._db.execute(statement)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._db = db
        self._prepare()
        return db

    def _write(self) -> Transaction:
        return Transaction(self._db, self._lock)

    def _meta(self, rowids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """Each hit's identity and the start of its text (all a snippet reads)."""
        if not rowids:
            return {}
        marks = ", ".join("?" * len(rowids))
        return {
            row[0]: row[1:]
            for row in self._db.execute(
                "SELECT rowid, id, title, feed, published, link, substr(text, 1, ?) "  # noqa: S608
                f"FROM articles WHERE rowid IN ({marks})",
                (SCAN_CHARS, *rowids),
            )
        }


def _hits(
    ranked: Sequence[tuple[int, float]],
    meta: dict[int, tuple[Any, ...]],
    query: Fts5Query,
    snippet_chars: int,
) -> tuple[SearchHit, ...]:
    """The hits with their snippets: the terms are found in a bounded window of each text."""
    texts = [meta[rowid][5] for rowid, _ in ranked]
    spans = match_spans(texts, query)
    hits = []
    for (rowid, score), text, found in zip(ranked, texts, spans, strict=True):
        article_id, title, feed, published, link, _ = meta[rowid]
        hits.append(
            SearchHit(
                id=article_id,
                title=title,
                feed=feed,
                published=datetime.fromisoformat(published),
                link=link,
                snippet=make_snippet(text, merge_spans(found), snippet_chars),
                score=float(score),
            )
        )
    return tuple(hits)


class ArticleMatcher:
    """Tests one article against many queries with exactly the search's semantics (an
    in-memory index holding just that article): for keyword alerts."""

    def __init__(self, article: StoredArticle) -> None:
        self._index = SearchIndex(":memory:")
        self._index.index_articles([article])
        self._id = article.id

    def matches(self, query: str | Query) -> bool:
        """Whether the article is among the results of ``query``."""
        return self._id in self._index.matching_ids(query)

    def close(self) -> None:
        self._index.close()

    def __enter__(self) -> ArticleMatcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def matches(query: str | Query, article: StoredArticle) -> bool:
    """Whether ``article`` would be found by searching ``query`` (see ArticleMatcher)."""
    with ArticleMatcher(article) as matcher:
        return matcher.matches(query)


def matching_queries(queries: Iterable[Query], article: StoredArticle) -> Iterator[Query]:
    """The saved queries that ``article`` matches, in order."""
    with ArticleMatcher(article) as matcher:
        for query in queries:
            if matcher.matches(query):
                yield query
