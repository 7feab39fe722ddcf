"""The data folder: crash-safe TinyDB files, the sharded archive and seen registry, journals
and atomic writes. Knows nothing of feeds' network, search, chats or Telegram."""
