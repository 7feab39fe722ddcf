"""The admins' commands: change the feeds in chat, see their health, move them as OPML.

Every handler checks the admin list first (``[bot] admins`` and ``NEWSBOT_ADMINS``): anyone
else gets one polite line, nothing changes, and the attempt is logged with the user id and
the command name only. A command that changes the feeds parses its arguments
(``bot.feedargs``), edits ``feeds.toml`` off the event loop (``bot.feedfile``: comments kept,
atomic, never over a hand edit), has the watcher apply the file at once, and answers with
what changed. Feed arguments take a name (any case, or its start); without one, the command
offers buttons (handled by ``press``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.addresses import ensure_public_url
from bot.admin_notices import AdminDesk, admin_desk, invalid_text
from bot.buttons import AdminPick, ImportAnswer, encode_button, name_key
from bot.config import FeedConfig
from bot.errors import ConfigFileError, FeedEditError, FeedError, InputError, OpmlError
from bot.feedargs import parse_addfeed, parse_feed, parse_interval, parse_rename
from bot.feedcheck import FeedCheck, check_feed, new_feed
from bot.feeddiff import FeedChanges, describe_changes, diff_feeds
from bot.feedfile import (
    EditResult,
    add_feed,
    add_feeds,
    remove_feed,
    rename_feed,
    set_enabled,
    set_interval,
)
from bot.feeds_cli import format_plan
from bot.health import (
    RATE_DAYS,
    compute_stats,
    count_articles_by_feed,
    feed_health,
    format_health,
    format_stats,
)
from bot.logfields import fields
from bot.opml import MAX_OPML_BYTES, ImportPlan, OpmlFeed, feeds_to_opml, plan_import, read_opml
from bot.replies import reply
from bot.settings_ui import Row
from bot.telegram_html import escape_text

log = logging.getLogger("newsbot.admin")

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

NOT_ALLOWED = "Sorry, only the bot's admins can use /{command}."
EXPORT_NAME = "newsbot-feeds.opml"
PRIVATE_HINT = " (an admin of the server can allow them: [bot] allow_private_feeds = true)"
MAX_CHUNK_CHARS = 3500
_PICK_VERBS = {"remove": "remove", "pause": "pause", "resume": "resume"}

AdminHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, AdminDesk], Coroutine[Any, Any, None]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def admin_help_lines() -> list[str]:
    return [f"/{name}{' ' + args if args else ''} — {what}" for name, args, what in ADMIN_COMMANDS]


def admins_only(command: str) -> Callable[[AdminHandler], Handler]:
    """Run the handler for admins; anyone else gets one line and is logged."""

    def wrap(handler: AdminHandler) -> Handler:
        @functools.wraps(handler)
        async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            desk = admin_desk(context.application.bot_data)
            user = update.effective_user
            if not desk.is_admin(user.id if user else None):
                log.warning(
                    "admin command refused %s",
                    fields(user=user.id if user else None, command=command),
                )
                await reply(update, NOT_ALLOWED.format(command=command), html=False)
                return
            log.info("admin command %s", fields(user=user.id if user else None, command=command))
            await handler(update, context, desk)

        return checked

    return wrap


def _args(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or ()).strip()


def _user(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user else None


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
    text = _args(context)
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
    await reply(update, await change_feed(desk, action, feed.name, _user(update)), html=False)


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
        args = parse_addfeed(_args(context))
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
    done = await apply_edit(desk, lambda: add_feed(desk.path, feed), _user(update))
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
        args = parse_rename(_args(context), desk.feeds)
    except InputError as exc:
        await reply(update, str(exc) + _feed_list(desk, _args(context)), html=False)
        return
    old, new = args.feed.name, args.new_name
    text = await apply_edit(desk, lambda: rename_feed(desk.path, old, new), _user(update))
    await reply(update, text, html=False)


@admins_only("setinterval")
async def setinterval(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Set how often a feed is polled, or back to the default."""
    try:
        args = parse_interval(_args(context), desk.feeds)
    except InputError as exc:
        await reply(update, str(exc) + _feed_list(desk, _args(context)), html=False)
        return
    name, minutes = args.feed.name, args.minutes
    text = await apply_edit(desk, lambda: set_interval(desk.path, name, minutes), _user(update))
    await reply(update, text, html=False)


@admins_only("reload")
async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Read feeds.toml now."""
    desk.told = _user(update)
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


@admins_only("feedstatus")
async def feedstatus(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Each feed's health (or one feed's, by name)."""
    feeds: Sequence[FeedConfig] = desk.feeds
    query = _args(context)
    if query:
        try:
            feeds = [parse_feed(query, desk.feeds, "feedstatus")]
        except InputError as exc:
            await reply(update, str(exc), html=False)
            return
    now = desk.clock()
    text = await asyncio.to_thread(_health_text, desk, feeds, now)
    for chunk in split_lines(text, MAX_CHUNK_CHARS):
        await reply(update, f"<pre>{escape_text(chunk)}</pre>")


def _health_text(desk: AdminDesk, feeds: Sequence[FeedConfig], now: datetime) -> str:
    since = now - timedelta(days=RATE_DAYS)
    recent = count_articles_by_feed(desk.store.iter_articles(since), now)
    rows = feed_health(feeds, desk.store.feed_states(), recent, desk.default_interval_minutes)
    return format_health(rows, now)


def split_lines(text: str, max_chars: int) -> list[str]:
    """Chunks of whole lines, each at most ``max_chars`` (a longer line is cut)."""
    chunks: list[str] = []
    current = ""
    for line in text.rstrip("\n").split("\n"):
        line = line[:max_chars]
        if current and len(current) + 1 + len(line) > max_chars:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not chunks:
        chunks.append(current or "(nothing)")
    return chunks


@admins_only("stats")
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Chats, articles, digests and messages today, feeds paused and failing."""
    now = desk.clock()
    day = desk.ledger.stats(now.date())
    numbers = compute_stats(
        (p.active for p in desk.chats.all().values()),
        desk.store.article_count(),
        day.digests,
        day.messages,
        day.errors + day.abandoned,
        desk.feeds,
        desk.store.feed_states(),
        now.date(),
    )
    await reply(update, format_stats(numbers), html=False)


@admins_only("export")
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Send the feed list as an OPML file."""
    message = update.effective_message
    if message is None:
        return
    text = feeds_to_opml(desk.feeds, now=desk.clock())
    await message.reply_document(
        InputFile(text.encode("utf-8"), filename=EXPORT_NAME),
        caption=f"{len(desk.feeds)} feeds. /import takes this file back.",
        do_quote=False,
    )


@admins_only("import")
async def import_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk
) -> None:
    """Ask for the OPML file (or take it when it came with the command as its caption)."""
    message = update.effective_message
    if message is None:
        return
    if message.document is not None:
        await _import_document(update, context, desk)
        return
    desk.awaiting_import.add(message.chat_id)
    await reply(
        update,
        "Send the OPML file now (as a file). I will show what it would add before anything "
        "changes.",
        html=False,
    )


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file: an OPML import when it came with /import, after /import, or is named .opml."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    desk = admin_desk(context.application.bot_data)
    caption = (message.caption or "").strip()
    name = (message.document.file_name or "").lower()
    wanted = (
        caption.startswith("/import")
        or message.chat_id in desk.awaiting_import
        or name.endswith(".opml")
    )
    if not wanted:
        return
    await _checked_import(update, context)


@admins_only("import")
async def _checked_import(
    update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk
) -> None:
    await _import_document(update, context, desk)


async def _import_document(
    update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk
) -> None:
    message = update.effective_message
    assert message is not None
    assert message.document is not None
    desk.awaiting_import.discard(message.chat_id)
    size = message.document.file_size or 0
    if size > MAX_OPML_BYTES:
        await reply(update, f"That file is too large for OPML ({size} bytes).", html=False)
        return
    file = await message.document.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        outlines = await asyncio.to_thread(read_opml, data)
    except OpmlError as exc:
        await reply(update, f"Cannot import that file: {exc}", html=False)
        return
    plan = await public_plan(desk, plan_import(desk.feeds, outlines))
    preview = format_plan(plan).rstrip("\n")
    if not plan.to_add:
        await reply(update, preview + "\nNothing to add.", html=False)
        return
    ref = desk.keep_import(outlines)
    rows: list[Row] = [
        (
            (f"✅ Add {len(plan.to_add)}", encode_button(ImportAnswer(True, ref))),
            ("Cancel", encode_button(ImportAnswer(False, ref))),
        )
    ]
    await reply(update, preview + "\nAdd them?", html=False, rows=rows)


async def public_plan(desk: AdminDesk, plan: ImportPlan) -> ImportPlan:
    """The plan with feeds on the server's own network moved to the invalid ones, unless
    settings allow them (the same rule as /addfeed)."""
    if desk.allow_private or not plan.to_add:
        return plan
    problems = await asyncio.gather(*(_private_problem(f.url) for f in plan.to_add))
    keep = tuple(f for f, problem in zip(plan.to_add, problems, strict=True) if problem is None)
    refused = tuple(
        (OpmlFeed(f.url, f.name, f.topic), problem + PRIVATE_HINT)
        for f, problem in zip(plan.to_add, problems, strict=True)
        if problem is not None
    )
    return ImportPlan(keep, plan.present, plan.invalid + refused)


async def _private_problem(url: str) -> str | None:
    try:
        await ensure_public_url(url)
    except FeedError as exc:
        return str(exc)
    return None


# -- buttons --------------------------------------------------------------------------------


async def press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pressed: AdminPick | ImportAnswer
) -> None:
    """An admin's button: a picked feed, or an import confirmed or cancelled."""
    query = update.callback_query
    assert query is not None
    desk = admin_desk(context.application.bot_data)
    user = _user(update)
    if not desk.is_admin(user):
        log.warning("admin button refused %s", fields(user=user, command="button"))
        await query.answer("Sorry, only the bot's admins can do that.", show_alert=True)
        return
    if isinstance(pressed, ImportAnswer):
        text = await _answer_import(desk, pressed, user)
    else:
        feed = next((f for f in desk.feeds if name_key(f.name) == pressed.key), None)
        if feed is None:
            await query.answer("That feed is no longer in the list.", show_alert=True)
            return
        text = await change_feed(desk, pressed.action, feed.name, user)
    await query.answer()
    await query.edit_message_text(text)


async def _answer_import(desk: AdminDesk, pressed: ImportAnswer, user: int | None) -> str:
    outlines = desk.imports.pop(pressed.ref, None)
    if outlines is None:
        return "That import has expired or was answered already; send the file again."
    if not pressed.confirm:
        return "Import cancelled; nothing was added."
    plan = await public_plan(desk, plan_import(desk.feeds, outlines))
    if not plan.to_add:
        return "Nothing to add any more: every feed of the file is in the list."
    return await apply_edit(desk, lambda: add_feeds(desk.path, plan.to_add), user)
