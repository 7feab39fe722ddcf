"""The search index in PostgreSQL: tsvector columns with GIN indexes, ranked by ts_rank_cd and
recency, snippets from ts_headline. The same contract as the embedded SearchIndex (the
contract tests run both), so /search and the digest cannot tell them apart.

Ranking, as in bot.search.index: ``score = relevance × recency``. Relevance is ``ts_rank_cd``
with title > lead > text weights (A, B, D), summed over the stemmed and exact vectors when a
query uses both; recency is ``floor + (1 − floor) · h / (h + age_days)``. Ties go to the newer
article. Snippets mark what ``ts_headline`` highlights in the text and cut the window as the
embedded index does (bot.search.snippet), so both read the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from bot.errors import QueryError, StoreError
from bot.models import StoredArticle
from bot.search.fts import MARK_CLOSE, MARK_OPEN, clean, minute_of, utc
from bot.search.highlight import SCAN_CHARS
from bot.search.index import Ranking, SearchHit, SearchPage
from bot.search.pgquery import EXACT_CONFIG, STEMMED_CONFIG, PgQuery, to_pg
from bot.search.query import Query, parse_query
from bot.search.snippet import Span, make_snippet, merge_spans, spans_from_marked
from bot.store.pg import Database, safe_text

_HEADLINE = f"HighlightAll=true, StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}"
_UPSERT = f"""INSERT INTO search_docs
    (id, published, feed, link, title, lead, text, config, stemmed, exact)
    SELECT v.id, v.published, v.feed, v.link, v.title, v.lead, v.text, '{STEMMED_CONFIG}',
        setweight(to_tsvector('{STEMMED_CONFIG}', newsbot_words(v.title)), 'A')
        || setweight(to_tsvector('{STEMMED_CONFIG}', newsbot_words(v.lead)), 'B')
        || setweight(to_tsvector('{STEMMED_CONFIG}', newsbot_words(v.text)), 'D'),
        setweight(to_tsvector('{EXACT_CONFIG}', newsbot_words(v.title)), 'A')
        || setweight(to_tsvector('{EXACT_CONFIG}', newsbot_words(v.lead)), 'B')
        || setweight(to_tsvector('{EXACT_CONFIG}', newsbot_words(v.text)), 'D')
    FROM (SELECT %s::text AS id, %s::timestamptz AS published, %s::text AS feed,
          %s::text AS link, %s::text AS title, %s::text AS lead, %s::text AS text) AS v
    ON CONFLICT (id) DO UPDATE SET published = excluded.published, feed = excluded.feed,
        link = excluded.link, title = excluded.title, lead = excluded.lead,
        text = excluded.text, config = excluded.config, stemmed = excluded.stemmed,
        exact = excluded.exact"""  # noqa: S608 - our configuration names only


class PgSearchIndex:
    """Full-text search over the ``search_docs`` table of a PostgreSQL database."""

    def __init__(self, db: Database, *, ranking: Ranking | None = None) -> None:
        self.db = db
        self.ranking = ranking or Ranking()

    def close(self) -> None:
        """The database is the caller's to close (it is shared with the other parts)."""

    def __enter__(self) -> PgSearchIndex:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------

    def index_articles(self, articles: Iterable[StoredArticle]) -> int:
        """Add or replace articles (by id) in one transaction; returns how many."""
        rows = [_row(a) for a in articles]
        if rows:
            with self.db.connection() as conn, conn.cursor() as cur:
                cur.executemany(_UPSERT, rows)
        return len(rows)

    def remove(self, ids: Iterable[str]) -> int:
        wanted = list(ids)
        if not wanted:
            return 0
        with self.db.connection() as conn:
            count = conn.execute("DELETE FROM search_docs WHERE id = ANY(%s)", (wanted,)).rowcount
        return max(count, 0)

    def rebuild(self, articles: Iterable[StoredArticle]) -> int:
        """Replace the whole index with ``articles`` in one transaction (readers see the old
        index until it commits; a failure keeps it)."""
        count = 0
        with self.db.connection() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM search_docs")
            batch: list[tuple[Any, ...]] = []
            for article in articles:
                batch.append(_row(article))
                count += 1
                if len(batch) >= 500:
                    cur.executemany(_UPSERT, batch)
                    batch = []
            if batch:
                cur.executemany(_UPSERT, batch)
        return count

    def missing_ids(self) -> list[str]:
        """Ids of the stored articles (the same database's archive) not indexed yet: what a
        process stopped between its commit and its index update left."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT a.id FROM articles a WHERE NOT EXISTS "
                "(SELECT 1 FROM search_docs s WHERE s.id = a.id)"
            ).fetchall()
        return [row[0] for row in rows]

    def __len__(self) -> int:
        with self.db.connection() as conn:
            row = conn.execute("SELECT count(*) FROM search_docs").fetchone()
        return int(row[0]) if row else 0

    def __contains__(self, article_id: object) -> bool:
        with self.db.connection() as conn:
            row = conn.execute("SELECT 1 FROM search_docs WHERE id = %s", (article_id,))
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
        """One page of the best matches for ``query``, best first, as of ``now``."""
        if limit < 1 or offset < 0:
            raise ValueError(f"limit must be ≥ 1 and offset ≥ 0, got {limit}, {offset}")
        parsed = parse_query(query) if isinstance(query, str) else query
        pg = to_pg(parsed)
        where, where_params = pg.where()
        rank, rank_params = pg.rank()
        r = self.ranking
        half_life_min = r.half_life_days * 1440.0
        score = (
            f"({rank}) * ({r.recency_floor} + {1.0 - r.recency_floor} * {half_life_min} / "
            f"({half_life_min} + greatest(0, %s - floor(extract(epoch FROM published) / 60))))"
        )
        try:
            with self.db.connection() as conn:
                ranked = conn.execute(
                    f"SELECT id, title, feed, published, link, text, {score} AS score, "  # noqa: S608
                    f"count(*) OVER () FROM search_docs WHERE {where} "
                    "ORDER BY score DESC, published DESC, id DESC LIMIT %s OFFSET %s",
                    [*rank_params, minute_of(now), *where_params, limit, offset],
                ).fetchall()
                if ranked:
                    total = int(ranked[0][-1])
                elif offset == 0:
                    total = 0
                else:  # past the last page: count on its own
                    row = conn.execute(
                        f"SELECT count(*) FROM search_docs WHERE {where}",  # noqa: S608
                        where_params,
                    ).fetchone()
                    total = int(row[0]) if row else 0
                ranked = [r[:-1] for r in ranked]
                hits = self._hits(conn, ranked, pg, snippet_chars)
        except QueryError:
            raise
        except Exception as exc:  # psycopg is optional: its errors are caught by kind here
            if type(exc).__module__.startswith("psycopg"):
                raise StoreError(f"the search index cannot be read: {exc}") from exc
            raise
        return SearchPage(hits=hits, total=total, offset=offset, limit=limit)

    def matching_ids(self, query: str | Query) -> set[str]:
        """The ids of every indexed article that matches ``query`` (no ranking)."""
        parsed = parse_query(query) if isinstance(query, str) else query
        where, params = to_pg(parsed).where()
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT id FROM search_docs WHERE {where}",  # noqa: S608
                params,
            ).fetchall()
        return {row[0] for row in rows}

    def _hits(
        self, conn: Any, ranked: Sequence[tuple[Any, ...]], pg: PgQuery, snippet_chars: int
    ) -> tuple[SearchHit, ...]:
        if not ranked:
            return ()
        ids = [row[0] for row in ranked]
        spans: dict[str, list[Span]] = {i: [] for i in ids}
        for side in pg.sides:
            if not side.match:
                continue
            rows = conn.execute(
                f"SELECT id, ts_headline('{side.config}', newsbot_words(left(text, {SCAN_CHARS})), "  # noqa: S608
                f"({side.match}), %s) "
                "FROM search_docs WHERE id = ANY(%s)",
                [*side.match_params, _HEADLINE, ids],
            ).fetchall()
            for article_id, marked in rows:
                spans[article_id] += spans_from_marked(marked or "", MARK_OPEN, MARK_CLOSE)[1]
        return tuple(
            SearchHit(
                id=article_id,
                title=title,
                feed=feed,
                published=utc(published),
                link=link,
                snippet=make_snippet(
                    text[:SCAN_CHARS], merge_spans(spans[article_id]), snippet_chars
                ),
                score=float(score),
            )
            for article_id, title, feed, published, link, text, score in ranked
        )


def _row(article: StoredArticle) -> tuple[Any, ...]:
    return (
        safe_text(article.id),
        utc(article.published),
        safe_text(article.feed),
        safe_text(article.link),
        safe_text(clean(article.title)),
        safe_text(clean(" ".join(article.lead))),
        safe_text(clean(article.text)),
    )
