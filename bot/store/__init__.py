"""The data folder: crash-safe TinyDB files, the sharded archive and seen registry, journals,
atomic writes, and the chat store (bot.store.chatstore: records kept without being read).
Knows nothing of feeds' network, search, what a chat's settings mean, or Telegram."""
