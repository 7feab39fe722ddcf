"""The search index in PostgreSQL: tsvector columns with GIN indexes, ranked by ts_rank_cd and
recency, snippets from the matched words of a bounded window. The same contract as the
embedded SearchIndex (the contract tests run both), so /search and the digest cannot tell
them apart.

Each article's words are stemmed in its own language where PostgreSQL has a stemmer for it
(bot.store.pgschema.stemmed_config; the row's ``config``), and queries are parsed for each
configuration in use (bot.search.pgquery), so a German article is found by "Wahlen".

Ranking, as in bot.search.index: ``score = relevance × recency``. Relevance is ``ts_rank_cd``
with title > lead > text weights (A, B, D), summed over the stemmed and exact vectors when a
query uses both; recency is ``floor + (1 − floor) · h / (h + age_days)``. Ties go to the newer
article. The matches are ranked and counted from their vectors alone, and only the page's
rows are read, with the start of their texts. Snippets mark the query's words in a bounded
window of each (its first ``FIRST_CHARS``, the rest of ``SCAN_CHARS`` only when they hold no
term, as the embedded index reads them; bot.search.pgsnippet) and cut the window as the
embedded index does (bot.search.snippet), so both read the same. Indexing builds both vectors
of an article in one statement; ``rebuild`` copies the articles in (``COPY``) and indexes them
a batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from bot.errors import QueryError, StoreError
from bot.models import StoredArticle
from bot.search.fts import clean, minute_of, utc
from bot.search.highlight import FIRST_CHARS, SCAN_CHARS
from bot.search.index import Ranking, SearchHit, SearchPage
from bot.search.pgquery import EXACT_CONFIG, PgQuery, prepare
from bot.search.pgsnippet import Lexemes, Piece, find_spans
from bot.search.query import Query, parse_query
from bot.search.snippet import make_snippet, merge_spans
from bot.store.pg import Database, safe_text
from bot.store.pgschema import stemmed_config

# The vectors of the rows of ``source`` (a VALUES list or the load table), each built with
# its article's configuration; the configurations used are recorded for queries to parse with.
_VECTORS = """SELECT v.id, v.published, v.feed, v.link, v.title, v.lead, v.text, v.config,
        setweight(to_tsvector(v.config, w.title), 'A')
        || setweight(to_tsvector(v.config, w.lead), 'B')
        || setweight(to_tsvector(v.config, w.text), 'D') AS stemmed,
        setweight(to_tsvector('{exact}', w.title), 'A')
        || setweight(to_tsvector('{exact}', w.lead), 'B')
        || setweight(to_tsvector('{exact}', w.text), 'D') AS exact
    FROM {source} AS v,
    LATERAL (SELECT newsbot_words(v.title) AS title, newsbot_words(v.lead) AS lead,
        newsbot_words(v.text) AS text) AS w"""
_INSERT = """INSERT INTO search_docs
    (id, published, feed, link, title, lead, text, config, stemmed, exact) {vectors}
    ON CONFLICT (id) DO UPDATE SET published = excluded.published, feed = excluded.feed,
        link = excluded.link, title = excluded.title, lead = excluded.lead,
        text = excluded.text, config = excluded.config, stemmed = excluded.stemmed,
        exact = excluded.exact"""
_ONE = (
    "(SELECT %s::text AS id, %s::timestamptz AS published, %s::text AS feed, %s::text AS link, "
    "%s::text AS title, %s::text AS lead, %s::text AS text, %s::regconfig AS config)"
)
_UPSERT = _INSERT.format(vectors=_VECTORS.format(exact=EXACT_CONFIG, source=_ONE))
LOAD_TABLE = """CREATE TEMP TABLE search_load (id text, published timestamptz, feed text,
    link text, title text, lead text, text text, config regconfig) ON COMMIT DROP"""
LOAD_VECTORS = _VECTORS.format(exact=EXACT_CONFIG, source="search_load")
_LOAD = _INSERT.format(vectors=LOAD_VECTORS)
_CONFIGS = "INSERT INTO search_configs VALUES (%s::regconfig) ON CONFLICT DO NOTHING"
_LOAD_ROWS = 2_000


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
        rows = list({row[0]: row for row in map(doc_row, articles)}.values())
        if rows:
            with self.db.connection() as conn, conn.cursor() as cur:
                cur.executemany(_UPSERT, rows)
                cur.executemany(_CONFIGS, [(c,) for c in sorted({row[-1] for row in rows})])
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
        index until it commits; a failure keeps it). Rows are copied in batches to a
        temporary table and indexed from there, one statement a batch."""
        count = 0
        configs: set[str] = set()
        with self.db.connection() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM search_docs")
            cur.execute("DELETE FROM search_configs")
            cur.execute(LOAD_TABLE)
            batch: dict[str, tuple[Any, ...]] = {}
            for article in articles:
                one = doc_row(article)
                batch[one[0]] = one
                count += 1
                if len(batch) >= _LOAD_ROWS:
                    configs |= _load(cur, batch.values())
                    batch = {}
            configs |= _load(cur, batch.values())
            cur.executemany(_CONFIGS, [(c,) for c in sorted(configs)])
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
        r = self.ranking
        half_life_min = r.half_life_days * 1440.0
        try:
            with self.db.connection() as conn:
                pg = prepare(conn, parsed)
                if pg.is_empty:
                    return SearchPage(hits=(), total=0, offset=offset, limit=limit)
                where, where_params = pg.where()
                rank, rank_params = pg.rank()
                score = (
                    f"({rank}) * ({r.recency_floor} + {1.0 - r.recency_floor} * "
                    f"{half_life_min} / ({half_life_min} + "
                    "greatest(0, %s - floor(extract(epoch FROM published) / 60))))"
                )
                # the page's rows join the ranked ids: their texts are read for 10 rows only
                # (enough of each for a window around a term in its first FIRST_CHARS to read
                # as over the whole: make_snippet looks ≤ 30 characters past the window)
                ranked = conn.execute(
                    "WITH page AS ("  # noqa: S608
                    f"SELECT id, published, {score} AS score, count(*) OVER () AS total "
                    f"FROM search_docs WHERE {where} "
                    "ORDER BY score DESC, published DESC, id DESC LIMIT %s OFFSET %s) "
                    "SELECT p.id, p.score, p.total, d.title, d.feed, d.published, d.link, "
                    "d.config::text, left(d.text, %s) FROM page p JOIN search_docs d USING (id) "
                    "ORDER BY p.score DESC, p.published DESC, p.id DESC",
                    [*rank_params, minute_of(now), *where_params, limit, offset,
                     FIRST_CHARS + snippet_chars + 64],
                ).fetchall()  # fmt: skip
                if ranked:
                    total = int(ranked[0][2])
                elif offset == 0:
                    total = 0
                else:  # past the last page: count on its own
                    row = conn.execute(
                        f"SELECT count(*) FROM search_docs WHERE {where}",  # noqa: S608
                        where_params,
                    ).fetchone()
                    total = int(row[0]) if row else 0
                hits = _hits(conn, ranked, pg, snippet_chars)
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
        with self.db.connection() as conn:
            where, params = prepare(conn, parsed).where()
            rows = conn.execute(
                f"SELECT id FROM search_docs WHERE {where}",  # noqa: S608
                params,
            ).fetchall()
        return {row[0] for row in rows}


def _hits(
    conn: Any, ranked: Sequence[tuple[Any, ...]], pg: PgQuery, snippet_chars: int
) -> tuple[SearchHit, ...]:
    """The page's hits with their snippets: the terms are found in a bounded window of each
    text (bot.search.pgsnippet)."""
    words = (
        {config: Lexemes.of(text) for configs, text in pg.words.groups for config in configs}
        if pg.words is not None
        else {}
    )
    exact = Lexemes.of(pg.exact) if pg.has_exact else None
    texts = [row[8] for row in ranked]
    configs = [row[7] for row in ranked]
    pieces = [Piece(n, 0, text[:FIRST_CHARS], configs[n]) for n, text in enumerate(texts)]
    spans = find_spans(conn, pieces, words, exact)
    rest = [n for n, text in enumerate(texts) if not spans[n] and len(text) > FIRST_CHARS]
    if rest:  # no term in the first FIRST_CHARS: look at the rest of SCAN_CHARS
        found = dict(
            conn.execute(
                "SELECT id, left(text, %s) FROM search_docs WHERE id = ANY(%s)",
                [SCAN_CHARS, [ranked[n][0] for n in rest]],
            ).fetchall()
        )
        for n in rest:
            texts[n] = found.get(ranked[n][0], texts[n])
        pieces = [Piece(n, FIRST_CHARS, texts[n][FIRST_CHARS:], configs[n]) for n in rest]
        spans |= find_spans(conn, pieces, words, exact)
    return tuple(
        SearchHit(
            id=article_id,
            title=title,
            feed=feed,
            published=utc(published),
            link=link,
            snippet=make_snippet(texts[n], merge_spans(spans[n]), snippet_chars),
            score=float(score),
        )
        for n, (article_id, score, _, title, feed, published, link, _, _) in enumerate(ranked)
    )


def _load(cur: Any, rows: Iterable[tuple[Any, ...]]) -> set[str]:
    """Copy ``rows`` to the load table and index them from there; returns their configs."""
    rows = list(rows)
    if not rows:
        return set()
    copy_rows(cur, rows)
    cur.execute(_LOAD)
    cur.execute("TRUNCATE search_load")
    return {row[-1] for row in rows}


def copy_rows(cur: Any, rows: Iterable[tuple[Any, ...]]) -> None:
    """Copy rows (of ``doc_row``) into the load table (``LOAD_TABLE``)."""
    with cur.copy("COPY search_load FROM STDIN") as copy:
        for values in rows:
            copy.write_row(values)


def doc_row(article: StoredArticle) -> tuple[Any, ...]:
    return (
        safe_text(article.id),
        utc(article.published),
        safe_text(article.feed),
        safe_text(article.link),
        safe_text(clean(article.title)),
        safe_text(clean(" ".join(article.lead))),
        safe_text(clean(article.text)),
        stemmed_config(article.language),
    )
