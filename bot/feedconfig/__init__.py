"""``feeds.toml`` as a file and as text: edits that keep comments, atomic writes, live reload,
changes between two lists, OPML, the check before a feed is added. Knows nothing of chats."""
