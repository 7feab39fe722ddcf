"""The search index: the query language, SQLite FTS5 ranking by relevance and recency,
snippets and the index's catch-up journal. Reads the store; never sends or fetches."""
