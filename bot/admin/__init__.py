"""The admins' commands in chat: feed edits, health and stats, OPML, notices. Every handler
checks the configured admin list first."""
