"""newsbot: a Telegram news-digest bot with summaries, quotes and their speakers."""

__version__ = "0.1.0"
