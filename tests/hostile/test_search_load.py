"""Large articles and searches: snippets are worked out on a bounded window, outside the
index lock, and mark what FTS5 itself would mark there."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.models import StoredArticle
from bot.search.fts import MARK_CLOSE, MARK_OPEN, TOKENIZE_STEMMED
from bot.search.highlight import SCAN_CHARS, match_spans
from bot.search.index import SearchIndex
from bot.search.query import highlight_fts5, parse_query
from bot.search.snippet import spans_from_marked

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def article(n: int, text: str) -> StoredArticle:
    return StoredArticle(
        id=f"big{n}",
        feed="Hostile",
        title=f"Big page {n}",
        link=f"https://news.test/{n}",
        published=NOW,
        fetched=NOW,
        text=text,
    )


def test_a_huge_article_is_found_and_its_snippet_comes_from_its_start() -> None:
    """A 4 MB article with a word on every line: found, its snippet marks the first ones."""
    text = "The harbour wall gave way in the storm. " * 100_000
    with SearchIndex(":memory:") as index:
        index.index_articles([article(n, text) for n in range(3)])
        page = index.search("harbour", now=NOW)
    assert page.total == 3
    for hit in page.hits:
        marked = [part for part, is_match in hit.snippet if is_match]
        assert marked
        assert set(marked) == {"harbour"}


def test_terms_only_deep_in_a_huge_article_find_it_without_marking_it() -> None:
    """The snippet reads a bounded window: a term met only past it is not looked for."""
    text = "Nothing of note here today. " * 10_000 + "The volcano erupted at dawn."
    assert text.index("volcano") > SCAN_CHARS
    with SearchIndex(":memory:") as index:
        index.index_articles([article(1, text)])
        (hit,) = index.search("volcano", now=NOW).hits
    assert not any(is_match for _, is_match in hit.snippet)
    assert hit.snippet[0][0].startswith("Nothing of note")


_WORDS = st.sampled_from(["storm", "storms", "harbour", "wall", "the", "gave", "way", "Storm"])


@given(st.lists(_WORDS, min_size=1, max_size=3000), _WORDS.filter(lambda word: word != "the"))
def test_marks_match_what_fts5_marks_over_the_whole_text(words: list[str], term: str) -> None:
    """Cut in chunks or not, the same words are marked (chunks are cut between words)."""
    text = " ".join(words)
    query = highlight_fts5(parse_query(term))
    db = sqlite3.connect(":memory:")
    db.execute(f'CREATE VIRTUAL TABLE t USING fts5(text, tokenize="{TOKENIZE_STEMMED}")')
    db.execute("INSERT INTO t (rowid, text) VALUES (1, ?)", (text,))
    row = db.execute(
        "SELECT highlight(t, 0, ?, ?) FROM t WHERE t MATCH ?",
        (MARK_OPEN, MARK_CLOSE, query.stemmed.match),
    ).fetchone()
    expected = spans_from_marked(row[0], MARK_OPEN, MARK_CLOSE)[1] if row else []
    assert match_spans([text], query) == [expected]
