"""The Telegram face: the application wiring, commands, buttons, settings screens and replies.
It asks the parts below for everything; it holds no state of its own."""
