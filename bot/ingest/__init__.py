"""The poll cycle: due feeds fetched (the only network client), parsed and decided, new
entries read in worker processes, stored and indexed; feed health and retention.
Knows nothing of Telegram or chats."""
