"""Keyword alerts on PostgreSQL: new articles tested against saved queries with exactly the
PostgreSQL search's semantics (each article stemmed in its language, queries parsed for it),
so an alert fires when /search would find the article.

The articles' vectors are built once, in a temporary table of the matcher's own transaction
(nothing is stored, and an article need not be indexed yet); each distinct query is then one
statement over all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from bot.models import StoredArticle
from bot.search.pgindex import LOAD_TABLE, LOAD_VECTORS, copy_rows, doc_row
from bot.search.pgquery import prepare
from bot.search.query import Query, parse_query
from bot.store.pg import Database


class PgArticleMatcher:
    """``matches(query, article)`` for a batch of new articles (a context manager)."""

    def __init__(self, db: Database, articles: Sequence[StoredArticle]) -> None:
        self._db = db
        self._rows = list({row[0]: row for row in map(doc_row, articles)}.values())
        self._verdicts: dict[str, set[str]] = {}
        self._stack = ExitStack()
        self._conn: Any = None

    def __enter__(self) -> PgArticleMatcher:
        conn = self._stack.enter_context(self._db.connection())
        try:
            with conn.cursor() as cur:
                cur.execute(LOAD_TABLE)
                copy_rows(cur, self._rows)
                cur.execute(f"CREATE TEMP TABLE alert_docs ON COMMIT DROP AS {LOAD_VECTORS}")
        except BaseException:
            self._stack.close()
            raise
        self._conn = conn
        return self

    def matches(self, query: str | Query, article: StoredArticle) -> bool:
        """Whether ``article`` (one of the batch) is among the results of ``query``."""
        parsed = parse_query(query) if isinstance(query, str) else query
        key = str(parsed)
        if key not in self._verdicts:
            configs = sorted({row[-1] for row in self._rows})
            where, params = prepare(self._conn, parsed, configs).where()
            found = self._conn.execute(
                f"SELECT id FROM alert_docs WHERE {where}",  # noqa: S608
                params,
            ).fetchall()
            self._verdicts[key] = {row[0] for row in found}
        return article.id in self._verdicts[key]

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._conn = None
        self._stack.__exit__(kind, exc, tb)
