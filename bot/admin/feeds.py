"""The admins' feed-editing commands: /addfeed, /removefeed, /pausefeed, /resumefeed,
/renamefeed, /setinterval and /reload.

A command that changes the feeds parses its arguments (``bot.admin.args``), edits
``feeds.toml`` off the event loop (``bot.feedconfig.file``: comments kept, atomic, never over a hand
edit), has the watcher apply the file at once, and answers with what changed. Feed arguments
take a name (any case, or its start); without one, the command offers buttons (handled by
``bot.admin.commands.press``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin.access import admins_only, command_args, sender_id
from bot.admin.args import parse_addfeed, parse_feed, parse_interval, parse_rename
from bot.admin.desk import AdminDesk, invalid_text
from bot.chat.buttons import AdminPick, encode_button, name_key
from bot.chat.replies import reply
from bot.chat.settings_ui import Row
from bot.config import FeedConfig
from bot.errors import ConfigFileError, FeedEditError, InputError
from bot.feedconfig.check import FeedCheck, check_feed, new_feed
from bot.feedconfig.diff import FeedChanges, describe_changes, diff_feeds
from bot.feedconfig.file import (
    EditResult,
    add_feed,
    remove_feed,
    rename_feed,
    set_enabled,
    set_interval,
)

PRIVATE_HINT = " (an admin of the server can allow them: [bot] allow_private_feeds = true)"
_PICK_VERBS = {"remove": "remove", "pause": "pause", "resume": "resume"}


# -- applying an edit -----------------------------------------------------------------------


async def apply_edit(desk: AdminDesk, edit: Callable[[], EditResult], user_id: int | None) -> str:
    """Run a file edit off the loop, apply the file at once; the answer (plain text)."""
    try:
        result = await asyncio.to_thread(edit)
    except FeedEditError as exc:
        return str(exc)
    desk.told = user_id
    try:
        outcome = await desk.watcher.check()
    finally:
        desk.told = None
    changes = (
        outcome if isinstance(outcome, FeedChanges) else diff_feeds(result.before, result.after)
    )
    lines = describe_changes(changes, desk.default_interval_minutes)
    if not lines:
        return "Nothing to change: feeds.toml says so already."
    text = "Done. feeds.toml changed:\n" + "\n".join(f"- {line}" for line in lines)
    if result.reapplied:
        text += "\n(feeds.toml was edited by hand meanwhile: that edit is kept too.)"
    if isinstance(outcome, ConfigFileError):
        text += "\n" + invalid_text(outcome)
    return text


def _feed_list(desk: AdminDesk, typed: str) -> str:
    """The feeds' names after a usage line, when no feed was named at all."""
    if typed or not desk.feeds:
        return ""
    return "\nFeeds: " + ", ".join(f.name for f in desk.feeds)


def _picker(desk: AdminDesk, action: str, feeds: Sequence[FeedConfig]) -> list[Row]:
    return [((f.name[:60], encode_button(AdminPick(action, name_key(f.name)))),) for f in feeds]


async def _feed_command(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    desk: AdminDesk,
    action: str,
    command: str,
) -> None:
    """/removefeed, /pausefeed, /resumefeed: by name, or buttons to pick one."""
    text = command_args(context)
    if not text:
        offered = [
            f
            for f in desk.feeds
            if action == "remove" or (f.enabled if action == "pause" else not f.enabled)
        ]
        if not offered:
            await reply(update, f"No feed to {_PICK_VERBS[action]}.", html=False)
            return
        await reply(
            update,
            f"Which feed shall I {_PICK_VERBS[action]}? (or /{command} <feed>)",
            html=False,
            rows=_picker(desk, action, offered),
        )
        return
    try:
        feed = parse_feed(text, desk.feeds, command)
    except InputError as exc:
        await reply(update, str(exc), html=False)
        return
    await reply(update, await change_feed(desk, action, feed.name, sender_id(update)), html=False)


async def change_feed(desk: AdminDesk, action: str, name: str, user_id: int | None) -> str:
    path = desk.path
    if action == "remove":
        return await apply_edit(desk, lambda: remove_feed(path, name), user_id)
    enabled = action == "resume"
    return await apply_edit(desk, lambda: set_enabled(path, name, enabled), user_id)


# -- the commands ---------------------------------------------------------------------------


@admins_only("addfeed")
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Fetch and check a feed, show what it is, add it."""
    try:
        args = parse_addfeed(command_args(context))
    except InputError as exc:
        await reply(update, str(exc), html=False)
        return
    check = await check_feed(desk.get_fetcher(), args.url, allow_private=desk.allow_private)
    if not check.is_ok:
        hint = PRIVATE_HINT if "private or local network" in (check.error or "") else ""
        await reply(update, f"Cannot add {args.url}: {check.error}{hint}", html=False)
        return
    try:
        feed = new_feed(check, desk.feeds, name=args.name, topic=args.topic)
    except FeedEditError as exc:
        await reply(update, f"Not added: {exc}", html=False)
        return
    done = await apply_edit(desk, lambda: add_feed(desk.path, feed), sender_id(update))
    await reply(update, describe_check(check) + "\n\n" + done, html=False)


def describe_check(check: FeedCheck) -> str:
    """What a fetched feed is: title, entries, the latest one."""
    lines = [f"Feed: {check.title or '(no title)'} — {check.entry_count} entries"]
    if check.latest_title or check.latest_link:
        when = f" ({check.latest_published:%Y-%m-%d %H:%M} UTC)" if check.latest_published else ""
        lines.append(f"Latest: {check.latest_title or check.latest_link}{when}")
    return "\n".join(lines)


@admins_only("removefeed")
async def removefeed(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Remove a feed (its block and the comments directly above it)."""
    await _feed_command(update, context, desk, "remove", "removefeed")


@admins_only("pausefeed")
async def pausefeed(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Stop polling a feed; it stays listed."""
    await _feed_command(update, context, desk, "pause", "pausefeed")


@admins_only("resumefeed")
async def resumefeed(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Poll a paused feed again."""
    await _feed_command(update, context, desk, "resume", "resumefeed")


@admins_only("renamefeed")
async def renamefeed(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Rename a feed; its history and subscribers follow."""
    try:
        args = parse_rename(command_args(context), desk.feeds)
    except InputError as exc:
        await reply(update, str(exc) + _feed_list(desk, command_args(context)), html=False)
        return
    old, new = args.feed.name, args.new_name
    text = await apply_edit(desk, lambda: rename_feed(desk.path, old, new), sender_id(update))
    await reply(update, text, html=False)


@admins_only("setinterval")
async def setinterval(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Set how often a feed is polled, or back to the default."""
    try:
        args = parse_interval(command_args(context), desk.feeds)
    except InputError as exc:
        await reply(update, str(exc) + _feed_list(desk, command_args(context)), html=False)
        return
    name, minutes = args.feed.name, args.minutes
    text = await apply_edit(desk, lambda: set_interval(desk.path, name, minutes), sender_id(update))
    await reply(update, text, html=False)


@admins_only("reload")
async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Read feeds.toml now."""
    desk.told = sender_id(update)
    try:
        outcome = await desk.watcher.check()
    finally:
        desk.told = None
    if isinstance(outcome, ConfigFileError):
        text = invalid_text(outcome)
    elif isinstance(outcome, FeedChanges):
        lines = describe_changes(outcome, desk.default_interval_minutes)
        text = "feeds.toml changed:\n" + "\n".join(f"- {line}" for line in lines)
    else:
        text = f"feeds.toml is unchanged: {len(desk.feeds)} feeds in force."
    await reply(update, text, html=False)
