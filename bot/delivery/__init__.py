"""Who is due what: chats and their preferences, schedules in their time zones, digest
composition and rendering to Telegram HTML, alerts, the ledger and the rate-limited sender.
No command handlers here: those are bot.chat's."""
