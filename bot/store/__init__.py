"""The data folder: crash-safe TinyDB files, the sharded archive and seen registry, journals,
atomic writes, and the chat store (bot.store.chatstore: records kept without being read); or
PostgreSQL in their place (``pg``: pool and migrations, ``pgschema``, ``pgarchive``), behind
the same contracts (``contract.ArticleStore``, ``chatstore.ChatStore``). Knows nothing of
feeds' network, search, what a chat's settings mean, or Telegram."""
