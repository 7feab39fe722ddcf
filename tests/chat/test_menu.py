"""Every command is in the menu, in /help and in the README, and the three agree: the public
commands in everyone's menu and the README's "## Commands", the admin commands in the admins'
own menus (scope: their private chat), an admin's /help and the README's "## Admin guide"."""

from __future__ import annotations

import re
from pathlib import Path

from telegram.ext import CommandHandler

from bot.admin.commands import ADMIN_COMMANDS, admin_help_lines
from bot.chat.app import admin_menu, menu
from bot.chat.commands import COMMANDS, admin_help_text, help_text
from tests.support.botharness import Harness

README = Path(__file__).resolve().parents[2] / "README.md"
_ITEM = re.compile(r"^- `/(?P<name>[a-z_]+)(?: (?P<args>[^`]+))?` — (?P<text>.*)$")


def readme_commands(heading: str = "Commands") -> dict[str, tuple[str, str]]:
    """name -> (arguments, text) from the list of the README's "## <heading>" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    items: list[str] = []
    for line in section.splitlines():
        if line.startswith("- "):
            items.append(line)
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    items = [item for item in items if item.startswith("- `/")]  # other lists: not commands
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
    assert handled == {name for name, _, _ in COMMANDS + ADMIN_COMMANDS}


def test_readme_admin_guide_lists_every_admin_command_as_the_admin_menu_does() -> None:
    """The README's admin guide lists exactly the admin commands, each opening with its menu
    text."""
    listed = readme_commands("Admin guide")
    assert list(listed) == [name for name, _, _ in ADMIN_COMMANDS]
    for name, args, what in ADMIN_COMMANDS:
        readme_args, text = listed[name]
        assert readme_args == args, name
        assert text.startswith(what), f"/{name}: README says {text!r}, the menu {what!r}"


def test_admins_menu_and_help_add_the_admin_commands_and_the_public_ones_do_not() -> None:
    """An admin's menu and /help: every public command, then the admin ones; everyone else's
    name no admin command."""
    registered = admin_menu()
    assert [c.command for c in registered] == [n for n, _, _ in COMMANDS + ADMIN_COMMANDS]
    for command in registered:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
        assert 1 <= len(command.description) <= 256
    public = {c.command for c in menu()}
    assert not public & {name for name, _, _ in ADMIN_COMMANDS}
    lines = admin_help_text().splitlines()
    for line in admin_help_lines():
        assert line in lines
    assert not any(line in help_text() for line in admin_help_lines())
