"""The search index: the query language, SQLite FTS5 ranking by relevance and recency,
snippets and the index's catch-up journal; or PostgreSQL full-text search in its place
(``pgindex``, ``pgquery``, ``pgsnippet``; alerts: ``pgmatch``), both behind
``contract.TextIndex``. Reads the store; never sends or fetches."""
