"""The PostgreSQL schema, as numbered migrations applied at start.

``migrate(conn)`` brings a database up to ``SCHEMA_VERSION`` in one transaction under a
transaction-level advisory lock, so processes starting together apply each migration once
(the others wait, then find nothing to do). A database from a newer newsbot is refused. The
role needs only to own its database: ``unaccent`` is a trusted extension (PostgreSQL 13+),
and text search configurations are ordinary objects in the role's schema.

Every table of every part lives here (the archive, seen marks, feed states and claims, chats,
alerts, the delivery ledger, the search documents), so one number says what a database holds.
"""

from __future__ import annotations

import string
from typing import Any

from bot.errors import StoreError

# ASCII punctuation separates words in the embedded index (unicode61); PostgreSQL's parser would
# read "end.Start", "a/b" or "x@y" as one host, file or email token. Both the indexed text and
# the query's words pass through this one-for-one translation (offsets are kept for snippets).
WORD_SEPARATORS = string.punctuation
_WORDS_FUNCTION = (
    "CREATE FUNCTION newsbot_words(text) RETURNS text IMMUTABLE STRICT PARALLEL SAFE "
    "LANGUAGE sql AS $$ SELECT translate($1, '"
    + WORD_SEPARATORS.replace("'", "''")
    + "', '"
    + " " * len(WORD_SEPARATORS)
    + "') $$"
)
# The same one-for-one translation as a regular expression over the four ASCII ranges that
# are string.punctuation: translate() compares each character with each separator (about
# 1.5 µs a character, most of an article's indexing time); the expression is ten times faster.
_WORDS_FUNCTION_FAST = (
    "CREATE OR REPLACE FUNCTION newsbot_words(text) RETURNS text IMMUTABLE STRICT PARALLEL SAFE "
    "LANGUAGE sql AS $$ SELECT regexp_replace($1, '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60"
    "\\x7b-\\x7e]', ' ', 'g') $$"
)
# Languages PostgreSQL (13 and later) ships a Snowball stemmer for, by ISO 639-1 code. An
# article in one of them gets its own stemmed configuration (``stemmed_config``); English
# keeps ``newsbot_stemmed``, as does an article whose language is unknown (the embedded
# index stems every text as English); any other known language is indexed unstemmed.
SNOWBALL_LANGUAGES = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "fi": "finnish", "fr": "french", "ga": "irish", "hu": "hungarian",
    "id": "indonesian", "it": "italian", "lt": "lithuanian", "nb": "norwegian",
    "ne": "nepali", "nl": "dutch", "nn": "norwegian", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip
STEMMED_CONFIG = "newsbot_stemmed"
EXACT_CONFIG = "newsbot_exact"
_TOKENS = (
    "asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, hword_numpart, "
    "numhword"
)


def stemmed_config(language: str | None) -> str:
    """The text search configuration an article's stemmed vector is built with."""
    if not language:
        return STEMMED_CONFIG
    snowball = SNOWBALL_LANGUAGES.get(language.split("-")[0].lower())
    if snowball is None:
        return EXACT_CONFIG
    return STEMMED_CONFIG if snowball == "english" else f"newsbot_stemmed_{snowball}"


def _language_configs() -> tuple[str, ...]:
    """Migration 3's statements: a stemmer without stop words per language, after unaccent."""
    statements: list[str] = []
    for snowball in sorted(set(SNOWBALL_LANGUAGES.values()) - {"english"}):
        config = f"newsbot_stemmed_{snowball}"
        statements += [
            f"CREATE TEXT SEARCH DICTIONARY newsbot_{snowball} "
            f"(TEMPLATE = snowball, Language = {snowball})",
            f"CREATE TEXT SEARCH CONFIGURATION {config} (COPY = simple)",
            f"ALTER TEXT SEARCH CONFIGURATION {config} "
            f"ALTER MAPPING FOR {_TOKENS} WITH unaccent, newsbot_{snowball}",
        ]
    return tuple(statements)


MIGRATION_LOCK = 0x6E657773  # "news": the advisory lock key migrations take
LEADER_LOCK = 0x6C656164  # "lead": the session lock the sending process holds

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: everything newsbot keeps
    (
        """CREATE TABLE articles (
            id text PRIMARY KEY,
            feed text NOT NULL,
            identity text NOT NULL,
            content_hash text NOT NULL,
            stored_on date NOT NULL,
            stored_seq bigserial,
            doc jsonb NOT NULL
        )""",
        "CREATE INDEX articles_stored ON articles (stored_on, stored_seq)",
        """CREATE TABLE seen (
            feed text NOT NULL,
            identity text NOT NULL,
            article_id text,
            content_hash text NOT NULL,
            marked_on date NOT NULL,
            consulted_on date,
            PRIMARY KEY (feed, identity)
        )""",
        "CREATE INDEX seen_marked ON seen (marked_on)",
        "CREATE TABLE feed_states (name text PRIMARY KEY, doc jsonb NOT NULL)",
        """CREATE TABLE feed_claims (
            name text PRIMARY KEY,
            owner text NOT NULL,
            until timestamptz NOT NULL
        )""",
        # the chat store's records (bot.store.chatstore): preferences, alerts, marks
        """CREATE TABLE chat_records (
            tbl text NOT NULL,
            key text NOT NULL,
            doc jsonb NOT NULL,
            PRIMARY KEY (tbl, key)
        )""",
        """CREATE TABLE ledger_pending (
            key text PRIMARY KEY,
            seq bigserial,
            chat_id bigint NOT NULL,
            text text NOT NULL,
            articles text[] NOT NULL,
            kind text NOT NULL,
            planned_at timestamptz NOT NULL
        )""",
        "CREATE INDEX ledger_pending_seq ON ledger_pending (seq)",
        """CREATE TABLE ledger_delivered (
            chat_id bigint NOT NULL,
            article_id text NOT NULL,
            day date NOT NULL,
            PRIMARY KEY (chat_id, article_id)
        )""",
        "CREATE INDEX ledger_delivered_day ON ledger_delivered (day)",
        "CREATE TABLE ledger_chats (chat_id bigint PRIMARY KEY, last_digest_at timestamptz)",
        """CREATE TABLE ledger_days (
            day date PRIMARY KEY,
            digests integer NOT NULL DEFAULT 0,
            messages integer NOT NULL DEFAULT 0,
            abandoned integer NOT NULL DEFAULT 0,
            errors integer NOT NULL DEFAULT 0
        )""",
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        # Words: English stemming (as Porter does in the embedded index) after unaccent, with no
        # stop words ("who", "us" stay searchable); other scripts pass the stemmer unchanged.
        # Exact: no stemming, no stop words, unaccented.
        "CREATE TEXT SEARCH DICTIONARY newsbot_english (TEMPLATE = snowball, Language = english)",
        "CREATE TEXT SEARCH CONFIGURATION newsbot_stemmed (COPY = simple)",
        """ALTER TEXT SEARCH CONFIGURATION newsbot_stemmed
            ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part,
            numword, hword_numpart, numhword WITH unaccent, newsbot_english""",
        "CREATE TEXT SEARCH CONFIGURATION newsbot_exact (COPY = simple)",
        """ALTER TEXT SEARCH CONFIGURATION newsbot_exact
            ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part,
            numword, hword_numpart, numhword WITH unaccent, simple""",
        _WORDS_FUNCTION,
        """CREATE TABLE search_docs (
            id text PRIMARY KEY,
            published timestamptz NOT NULL,
            feed text NOT NULL,
            link text NOT NULL,
            title text NOT NULL,
            lead text NOT NULL,
            text text NOT NULL,
            config regconfig NOT NULL,
            stemmed tsvector NOT NULL,
            exact tsvector NOT NULL
        )""",
        "CREATE INDEX search_docs_stemmed ON search_docs USING gin (stemmed)",
        "CREATE INDEX search_docs_exact ON search_docs USING gin (exact)",
    ),
    # 2: the ledger keeps forum topics apart (bot.delivery.target: thread 0 is the chat
    # itself), messages' buttons and previews, and held-back stories
    (
        "ALTER TABLE ledger_pending ADD COLUMN thread_id bigint NOT NULL DEFAULT 0",
        # a message's inline buttons and link preview (bot.delivery.ledger.Outgoing)
        "ALTER TABLE ledger_pending ADD COLUMN buttons jsonb NOT NULL DEFAULT '[]'",
        "ALTER TABLE ledger_pending ADD COLUMN preview_url text",
        "ALTER TABLE ledger_pending ADD COLUMN preview_above boolean NOT NULL DEFAULT false",
        "ALTER TABLE ledger_delivered ADD COLUMN thread_id bigint NOT NULL DEFAULT 0",
        "ALTER TABLE ledger_delivered DROP CONSTRAINT ledger_delivered_pkey",
        "ALTER TABLE ledger_delivered ADD PRIMARY KEY (chat_id, thread_id, article_id)",
        "ALTER TABLE ledger_chats ADD COLUMN thread_id bigint NOT NULL DEFAULT 0",
        "ALTER TABLE ledger_chats DROP CONSTRAINT ledger_chats_pkey",
        "ALTER TABLE ledger_chats ADD PRIMARY KEY (chat_id, thread_id)",
        # where the stories a digest held back begin (bot.delivery.ledger: "held")
        "ALTER TABLE ledger_chats ADD COLUMN held_since timestamptz",
    ),
    # 3: search by each article's language: a stemmed configuration per language (the
    # search_docs.config column says which built an article's vector; rows indexed before
    # keep newsbot_stemmed until ``newsbot reindex``), the configurations in use (a query is
    # parsed with each), and a faster newsbot_words (the same characters, one for one)
    (
        *_language_configs(),
        "CREATE TABLE search_configs (config regconfig PRIMARY KEY)",
        "INSERT INTO search_configs SELECT DISTINCT config FROM search_docs",
        _WORDS_FUNCTION_FAST,
    ),
    # 4: which transaction last wrote each chat record, and chat records deleted, so each
    # process learns what the others changed (bot.store.pgchats: PgChatStore.changes)
    (
        "ALTER TABLE chat_records ADD COLUMN changed xid8 NOT NULL DEFAULT pg_current_xact_id()",
        "CREATE INDEX chat_records_changed ON chat_records (tbl, changed)",
        """CREATE TABLE chat_deletions (
            tbl text NOT NULL,
            key text NOT NULL,
            changed xid8 NOT NULL DEFAULT pg_current_xact_id(),
            PRIMARY KEY (tbl, key)
        )""",
        "CREATE INDEX chat_deletions_changed ON chat_deletions (tbl, changed)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Any) -> int:
    """Apply the migrations this database lacks (``conn``: a psycopg connection outside a
    transaction); returns how many were applied. StoreError for a newer database."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS newsbot_schema "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM newsbot_schema").fetchone()
        current = int(row[0])
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the database has schema version {current}, newer than this newsbot "
                f"understands ({SCHEMA_VERSION}): upgrade newsbot to use it"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO newsbot_schema (version) VALUES (%s)", (version,))
    return SCHEMA_VERSION - current
