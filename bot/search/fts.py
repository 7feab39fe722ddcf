"""The SQLite FTS5 side of search: the schema, writing articles, building a fresh index file,
and the SQL that selects a query's matches. Used by bot.search.index only.

SQL here is assembled from our own table names; user text only ever travels as bound
parameters, and queries reach MATCH only as bot.search.query's string literals.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from bot.models import StoredArticle
from bot.search.query import Fts5Query, Fts5Side

SCHEMA_VERSION = 1
TABLES = ("fts_stemmed", "fts_exact")
SEQ_BITS = 20  # row id = publication minute << SEQ_BITS | sequence within that minute
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # highlight markers; never in indexed text

TOKENIZE_EXACT = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
TOKENIZE_STEMMED = f"porter {TOKENIZE_EXACT}"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")

SCHEMA = (
    """CREATE TABLE articles (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        published TEXT NOT NULL,
        feed TEXT NOT NULL,
        link TEXT NOT NULL,
        title TEXT NOT NULL,
        lead TEXT NOT NULL,
        text TEXT NOT NULL
    )""",
    f"""CREATE VIRTUAL TABLE fts_stemmed USING fts5(
        title, lead, text, content='articles', content_rowid='rowid',
        tokenize="{TOKENIZE_STEMMED}"
    )""",
    f"""CREATE VIRTUAL TABLE fts_exact USING fts5(
        title, lead, text, content='articles', content_rowid='rowid',
        tokenize="{TOKENIZE_EXACT}", prefix='3'
    )""",
    """CREATE TRIGGER articles_insert AFTER INSERT ON articles BEGIN
        INSERT INTO fts_stemmed(rowid, title, lead, text)
            VALUES (new.rowid, new.title, new.lead, new.text);
        INSERT INTO fts_exact(rowid, title, lead, text)
            VALUES (new.rowid, new.title, new.lead, new.text);
    END""",
    """CREATE TRIGGER articles_delete AFTER DELETE ON articles BEGIN
        INSERT INTO fts_stemmed(fts_stemmed, rowid, title, lead, text)
            VALUES ('delete', old.rowid, old.title, old.lead, old.text);
        INSERT INTO fts_exact(fts_exact, rowid, title, lead, text)
            VALUES ('delete', old.rowid, old.title, old.lead, old.text);
    END""",
)


class Transaction:
    """BEGIN IMMEDIATE … COMMIT under the index's lock; ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._db.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self._lock.release()


def upsert(db: sqlite3.Connection, article: StoredArticle) -> None:
    """Insert or replace one article; its rowid encodes its publication minute."""
    db.execute("DELETE FROM articles WHERE id = ?", (article.id,))
    low = max(0, minute_of(article.published)) << SEQ_BITS
    last = db.execute(
        "SELECT max(rowid) FROM articles WHERE rowid BETWEEN ? AND ?",
        (low, low + (1 << SEQ_BITS) - 1),
    ).fetchone()[0]
    db.execute(
        "INSERT INTO articles (rowid, id, published, feed, link, title, lead, text) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            low if last is None else last + 1,
            article.id,
            utc(article.published).isoformat(),
            article.feed,
            article.link,
            clean(article.title),
            clean(" ".join(article.lead)),
            clean(article.text),
        ),
    )


def build(path: Path, articles: Iterable[StoredArticle]) -> int:
    """Write a new index file at ``path`` from scratch, quickly (no journal, no syncs until
    the end); returns how many articles it holds."""
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -65536")
        db.execute("BEGIN")
        for statement in SCHEMA:
            db.execute(statement)
        count = 0
        for article in articles:
            upsert(db, article)
            count += 1
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
        optimize(db)
    finally:
        db.close()
    with open(path, "rb") as file:
        os.fsync(file.fileno())
    return count


def optimize(db: sqlite3.Connection) -> None:
    """Merge each full-text index into one segment: smaller and faster to query."""
    for table in ("fts_stemmed", "fts_exact"):
        db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")  # noqa: S608


def match_sql(fts: Fts5Query) -> tuple[str, list[str], str]:
    """``FROM … WHERE …`` selecting matching rows, and the table whose rowid to read; both
    tables are joined by rowid when a query has words (stemmed) and phrases or prefixes (exact).

    SQL is assembled from our table names only; user text travels as bound parameters."""
    sides: list[tuple[str, Fts5Side]] = [("fts_stemmed", fts.stemmed), ("fts_exact", fts.exact)]
    positive = [(table, side) for table, side in sides if side.match]
    main_table = positive[0][0]
    sql = f"FROM {main_table}"
    where = [f"{main_table} MATCH ?"]
    params: list[str] = [positive[0][1].match or ""]
    for table, side in positive[1:]:
        sql += f" JOIN {table} ON {table}.rowid = {main_table}.rowid"
        where.append(f"{table} MATCH ?")
        params.append(side.match or "")
    for table, side in sides:
        if side.excluded:
            where.append(
                f"{main_table}.rowid NOT IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"  # noqa: S608
            )
            params.append(side.excluded)
    return f"{sql} WHERE {' AND '.join(where)}", params, main_table


def minute_of(moment: datetime) -> int:
    return int(utc(moment).timestamp() // 60)


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def clean(text: str) -> str:
    """Control characters (our highlight markers among them) become spaces."""
    return _CONTROL.sub(" ", text)
