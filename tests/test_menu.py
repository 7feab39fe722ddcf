"""Every command is in the menu, in /help and in the README, and the three agree."""

from __future__ import annotations

import re
from pathlib import Path

from telegram.ext import CommandHandler

from bot.app import menu
from bot.commands import COMMANDS, help_text
from tests.botharness import Harness

README = Path(__file__).resolve().parents[1] / "README.md"
_ITEM = re.compile(r"^- `/(?P<name>[a-z_]+)(?: (?P<args><[^>]+>))?` — (?P<text>.*)$")


def readme_commands() -> dict[str, tuple[str, str]]:
    """name -> (arguments, text) from the README's "## Commands" list."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    items: list[str] = []
    for line in section.splitlines():
        if line.startswith("- "):
            items.append(line)
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    found = {}
    for item in items:
        match = _ITEM.match(item)
        assert match, f"README command line not in the form - `/name <args>` — text: {item!r}"
        found[match["name"]] = (match["args"] or "", match["text"])
    return found


def test_readme_lists_every_command_with_its_arguments_and_description() -> None:
    """The README's command list has exactly the bot's commands, each opening with its menu text."""
    listed = readme_commands()
    assert list(listed) == [name for name, _, _ in COMMANDS]
    for name, args, what in COMMANDS:
        readme_args, text = listed[name]
        assert readme_args == args, name
        assert text.startswith(what), f"/{name}: README says {text!r}, the menu {what!r}"


def test_help_names_every_command_as_the_menu_describes_it() -> None:
    """/help has one line per command: /name <args> — description."""
    lines = help_text().splitlines()
    for name, args, what in COMMANDS:
        assert f"/{name}{' ' + args if args else ''} — {what}" in lines


def test_menu_registers_every_command_within_telegram_limits() -> None:
    """setMyCommands gets every command, lower-case names, descriptions of 1 to 256 chars."""
    registered = menu()
    assert [c.command for c in registered] == [name for name, _, _ in COMMANDS]
    for command, (_, args, what) in zip(registered, COMMANDS, strict=True):
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
        assert 1 <= len(command.description) <= 256
        assert what in command.description
        assert args in command.description


def test_every_command_in_the_menu_has_a_handler(tmp_path: Path) -> None:
    """The app answers each command it advertises, and advertises each one it answers."""
    bot = Harness(tmp_path)
    handled = {
        name
        for group in bot.app.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    bot.ledger.close()
    assert handled == {name for name, _, _ in COMMANDS}
