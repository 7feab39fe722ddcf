"""The Telegram face: the application wiring, commands, buttons, settings screens, replies,
channels, membership changes, inline search and deep links. It asks the parts below for
everything; it holds no state of its own beyond short-lived caches."""
