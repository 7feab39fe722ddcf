"""Article understanding: a page or text becomes clean text, its lead sentences and its key
quotes with speakers. Pure: no network, files, clock, Telegram or storage; imports only
bot.models and bot.errors."""
