"""Where a query's terms are in the texts of a page of hits, found in a bounded window.

FTS5's ``highlight()`` over a stored text costs time quadratic in the matches of that text
(its output grows by one copy per match), so one large article stalled every search while
the index lock was held. Here only the first ``SCAN_CHARS`` of each text are looked at (its
first ``FIRST_CHARS``, and the rest only when they hold no term), cut in chunks of about
``CHUNK_CHARS`` that are highlighted one by one in a private in-memory FTS5 database with
the index's tokenizers, outside the index lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from bot.search.fts import MARK_CLOSE, MARK_OPEN, TOKENIZE_EXACT, TOKENIZE_STEMMED
from bot.search.query import Fts5Query
from bot.search.snippet import Span, spans_from_marked

SCAN_CHARS = 65_536
FIRST_CHARS = 8_192
CHUNK_CHARS = 4_096
_local = threading.local()


def match_spans(texts: Sequence[str], query: Fts5Query) -> list[list[Span]]:
    """For each text, the spans of ``query``'s terms within its first ``SCAN_CHARS``: its
    first ``FIRST_CHARS`` are looked at, the rest of the window only when they hold none."""
    spans: list[list[Span]] = [[] for _ in texts]
    _mark(spans, [(n, 0, text[:FIRST_CHARS]) for n, text in enumerate(texts)], query)
    rest = [
        (n, FIRST_CHARS, text[FIRST_CHARS:SCAN_CHARS])
        for n, text in enumerate(texts)
        if not spans[n] and len(text) > FIRST_CHARS
    ]
    _mark(spans, rest, query)
    return spans


def _mark(spans: list[list[Span]], pieces: list[tuple[int, int, str]], query: Fts5Query) -> None:
    """Add to ``spans[n]`` the terms found in each (n, offset, text) piece, chunk by chunk."""
    chunks = [(n, offset + at, chunk) for n, offset, text in pieces for at, chunk in _chunks(text)]
    if not chunks:
        return
    db = _scratch()
    rows = [(i, chunk) for i, (_, _, chunk) in enumerate(chunks)]
    for table, side in (("hl_stemmed", query.stemmed), ("hl_exact", query.exact)):
        if not side.match:
            continue
        db.execute("BEGIN")
        try:
            db.executemany(f"INSERT INTO {table} (rowid, text) VALUES (?, ?)", rows)  # noqa: S608
            found = db.execute(
                f"SELECT rowid, highlight({table}, 0, ?, ?) FROM {table} WHERE {table} MATCH ?",  # noqa: S608
                (MARK_OPEN, MARK_CLOSE, side.match),
            ).fetchall()
        finally:
            db.execute("ROLLBACK")
        for rowid, marked in found:
            n, base, _ = chunks[rowid]
            marks = spans_from_marked(marked, MARK_OPEN, MARK_CLOSE)[1]
            spans[n] += [(base + start, base + end) for start, end in marks]


def _chunks(text: str) -> list[tuple[int, str]]:
    """``text`` in pieces of about CHUNK_CHARS, cut after a space where one is near."""
    chunks: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):
            space = text.rfind(" ", start + CHUNK_CHARS // 2, end)
            end = space + 1 if space >= 0 else end
        chunks.append((start, text[start:end]))
        start = end
    return chunks


def _scratch() -> sqlite3.Connection:
    """This thread's in-memory database with one FTS5 table per tokenizer of the index."""
    db: sqlite3.Connection | None = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.execute(
            f'CREATE VIRTUAL TABLE hl_stemmed USING fts5(text, tokenize="{TOKENIZE_STEMMED}")'
        )
        db.execute(f'CREATE VIRTUAL TABLE hl_exact USING fts5(text, tokenize="{TOKENIZE_EXACT}")')
        _local.db = db
    return db
