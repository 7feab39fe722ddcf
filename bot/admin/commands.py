"""The admins' commands: change the feeds in chat, see their health, move them as OPML.

This module holds the admins' command list (their menu, /help and the README) and the
handler for their buttons; the handlers live by what they own and are re-exported here for
``bot.chat.app``: ``bot.admin.feeds`` (editing ``feeds.toml``), ``bot.admin.status`` (health and
numbers) and ``bot.admin.opml`` (export and import). Every handler checks the admin list
first (``bot.admin.access``).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin.access import log, sender_id
from bot.admin.desk import admin_desk
from bot.admin.feeds import addfeed as addfeed
from bot.admin.feeds import change_feed
from bot.admin.feeds import pausefeed as pausefeed
from bot.admin.feeds import reload as reload
from bot.admin.feeds import removefeed as removefeed
from bot.admin.feeds import renamefeed as renamefeed
from bot.admin.feeds import resumefeed as resumefeed
from bot.admin.feeds import setinterval as setinterval
from bot.admin.opml import answer_import
from bot.admin.opml import document as document
from bot.admin.opml import export as export
from bot.admin.opml import import_command as import_command
from bot.admin.status import feedstatus as feedstatus
from bot.admin.status import stats as stats
from bot.chat.buttons import AdminPick, ImportAnswer, name_key
from bot.logfields import fields

# name, arguments, what it does: the admins' menu (their private chats), /help and README.
ADMIN_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("addfeed", "<url> [name] [#topic]", "add a feed (fetched and checked first)"),
    ("removefeed", "<feed>", "remove a feed"),
    ("pausefeed", "<feed>", "stop polling a feed, keep it listed"),
    ("resumefeed", "<feed>", "poll a paused feed again"),
    ("renamefeed", "<feed> -> <new name>", "rename a feed; it keeps history and subscribers"),
    ("setinterval", "<feed> <minutes>", "poll a feed every N minutes (or default)"),
    ("reload", "", "read feeds.toml now"),
    ("feedstatus", "", "each feed's health: last success, errors, next poll"),
    ("stats", "", "chats, articles, digests and messages sent today"),
    ("export", "", "the feed list as an OPML file"),
    ("import", "", "add feeds from an OPML file (preview, then confirm)"),
)


def admin_help_lines() -> list[str]:
    return [f"/{name}{' ' + args if args else ''} — {what}" for name, args, what in ADMIN_COMMANDS]


async def press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pressed: AdminPick | ImportAnswer
) -> None:
    """An admin's button: a picked feed, or an import confirmed or cancelled."""
    query = update.callback_query
    assert query is not None
    desk = admin_desk(context.application.bot_data)
    user = sender_id(update)
    if not desk.is_admin(user):
        log.warning("admin button refused %s", fields(user=user, command="button"))
        await query.answer("Sorry, only the bot's admins can do that.", show_alert=True)
        return
    if isinstance(pressed, ImportAnswer):
        text = await answer_import(desk, pressed, user)
    else:
        feed = next((f for f in desk.feeds if name_key(f.name) == pressed.key), None)
        if feed is None:
            await query.answer("That feed is no longer in the list.", show_alert=True)
            return
        text = await change_feed(desk, pressed.action, feed.name, user)
    await query.answer()
    await query.edit_message_text(text)
