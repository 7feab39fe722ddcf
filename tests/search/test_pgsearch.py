"""PostgreSQL search beyond the shared contract: each article stemmed in its own language,
the schema migration that brought languages, the word separation both sides share, and
alerts matched with the database's semantics."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import QueryError
from bot.models import StoredArticle
from bot.search.backend import open_matcher
from bot.search.pgindex import PgSearchIndex
from bot.search.query import parse_query
from bot.search.snippet import render_snippet
from bot.store.pg import Database
from bot.store.pgarchive import PgStore
from bot.store.pgschema import MIGRATION_LOCK, MIGRATIONS, stemmed_config

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def article(article_id: str, title: str, text: str, language: str | None) -> StoredArticle:
    published = NOW - timedelta(hours=1)
    return StoredArticle(
        id=article_id,
        feed="Example News",
        title=title,
        link=f"https://news.example/{article_id}",
        published=published,
        fetched=published,
        text=text,
        language=language,
    )


def ids(index: PgSearchIndex, query: str) -> set[str]:
    return {hit.id for hit in index.search(query, now=NOW, limit=50).hits}


GERMAN = article(
    "de",
    "Bundestag",
    "Die Wahl in Berlin war knapp. Viele Wähler blieben zu Hause.",
    "de",
)
ENGLISH = article(
    "en",
    "Results",
    "The elections were close; Mr Wahl, the candidate, conceded at night.",
    "en",
)


def test_a_german_article_is_found_by_an_inflected_form(pg_database: Database) -> None:
    """ "Wahlen" finds the German article about one "Wahl", and marks it in the snippet."""
    index = PgSearchIndex(pg_database)
    index.index_articles([GERMAN, ENGLISH])
    (hit,) = index.search("Wahlen", now=NOW).hits
    assert hit.id == "de"
    assert "**Wahl**" in render_snippet(hit.snippet)
    assert ids(index, "Wähler") == {"de"}
    assert ids(index, "election") == {"en"}  # English stemming as before
    assert ids(index, "conceding") == {"en"}


def test_each_article_is_matched_in_its_own_language(pg_database: Database) -> None:
    """A query is parsed in every language in use, but an English article is not found
    through a German stem: "Wahlen" does not find Mr Wahl, his name does."""
    index = PgSearchIndex(pg_database)
    index.index_articles([GERMAN, ENGLISH])
    assert ids(index, "Wahlen") == {"de"}
    assert ids(index, "Wahl") == {"de", "en"}
    assert ids(index, "Wahlen -knapp") == set()
    assert ids(index, "Wahl -knapp") == {"en"}
    assert index.matching_ids("Wahlen") == {"de"}


def test_rebuild_keeps_each_article_in_its_language(pg_database: Database) -> None:
    """``newsbot reindex`` (a rebuild) stems as indexing does, and a repeated id counts once."""
    index = PgSearchIndex(pg_database)
    index.rebuild([ENGLISH, GERMAN, GERMAN])
    assert len(index) == 2
    assert ids(index, "Wahlen") == {"de"}
    assert ids(index, "elected") == {"en"}


def test_languages_without_a_stemmer_are_indexed_unstemmed() -> None:
    """English and unknown languages stem as the embedded index does; a language PostgreSQL
    has no stemmer for is not stemmed as English."""
    assert stemmed_config("en") == stemmed_config(None) == "newsbot_stemmed"
    assert stemmed_config("de") == "newsbot_stemmed_german"
    assert stemmed_config("pt-BR") == "newsbot_stemmed_portuguese"
    assert stemmed_config("pl") == "newsbot_exact"


def test_articles_indexed_before_languages_stay_found_after_the_migration(
    pg_empty_url: str,
) -> None:
    """A database at schema 2 with an indexed article: migrating keeps it findable (stemmed
    as it was built), and new articles get their language's stemming beside it."""
    with psycopg.connect(pg_empty_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE newsbot_schema "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for version, statements in enumerate(MIGRATIONS[:2], start=1):
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO newsbot_schema (version) VALUES (%s)", (version,))
        conn.execute(
            "INSERT INTO search_docs (id, published, feed, link, title, lead, text, config, "
            "stemmed, exact) VALUES ('old', %s, 'f', 'https://x.example', 'Vote', '', "
            "%s, 'newsbot_stemmed', to_tsvector('newsbot_stemmed', %s), "
            "to_tsvector('newsbot_exact', %s))",
            (NOW, ENGLISH.text, ENGLISH.text, ENGLISH.text),
        )
    with Database.open(pg_empty_url) as db:
        index = PgSearchIndex(db)
        assert ids(index, "election") == {"old"}
        index.index_articles([GERMAN])
        assert ids(index, "Wahlen") == {"de"}
        assert ids(index, "Wahl") == {"de", "old"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text().map(lambda text: text.replace("\x00", "")))
def test_documents_and_queries_separate_words_alike(pg_database: Database, text: str) -> None:
    """The database's newsbot_words (documents, snippets) turns exactly the characters a
    query's words lose (ASCII punctuation) into spaces, one for one: offsets hold."""
    expected = text.translate(str.maketrans(string.punctuation, " " * len(string.punctuation)))
    with pg_database.connection() as conn:
        row = conn.execute("SELECT newsbot_words(%s)", (text,)).fetchone()
    assert row is not None
    assert row[0] == expected


def test_alerts_match_as_the_database_search_does_and_keep_nothing(
    pg_database: Database,
) -> None:
    """In PostgreSQL mode an alert is matched with the database's semantics ("Wahlen" fires
    for the German article only), and matching stores nothing."""
    with open_matcher(PgStore(pg_database), [GERMAN, ENGLISH]) as matcher:
        assert matcher.matches("Wahlen", GERMAN)
        assert not matcher.matches("Wahlen", ENGLISH)
        assert matcher.matches("Wahl -knapp", ENGLISH)
        assert not matcher.matches("Wahl -knapp", GERMAN)
        assert matcher.matches('"mr wahl" elect*', ENGLISH)
    assert len(PgSearchIndex(pg_database)) == 0


_WORDS = ["Wahl", "Wahlen", "Wähler", "election", "elections", "vote", "voted", "Berlin", "die"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["de", "en", None]),
            st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6),
        ),
        min_size=1,
        max_size=5,
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["", "-"]),
            st.sampled_from(_WORDS),
            st.sampled_from(["word", "phrase", "prefix"]),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_the_alert_matcher_agrees_with_search_in_every_language(
    pg_database: Database,
    texts: list[tuple[str | None, list[str]]],
    parts: list[tuple[str, str, str]],
) -> None:
    """An alert fires for an article exactly when searching the database would find it,
    whatever the articles' languages."""
    articles = [
        article(f"a{n}", "News", " ".join(words), language)
        for n, (language, words) in enumerate(texts)
    ]
    query_text = " ".join(
        sign + {"word": word, "phrase": f'"{word} {word}"', "prefix": f"{word[:3]}*"}[kind]
        for sign, word, kind in parts
    )
    try:
        query = parse_query(query_text)
    except QueryError:
        return
    index = PgSearchIndex(pg_database)
    index.rebuild(articles)
    found = {hit.id for hit in index.search(query, now=NOW, limit=100).hits}
    with open_matcher(PgStore(pg_database), articles) as matcher:
        assert found == {a.id for a in articles if matcher.matches(query, a)}
