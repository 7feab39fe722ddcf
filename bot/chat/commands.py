"""The bot's commands: small async handlers, each answering bad input in place.

Longer than ~300 lines: the chat commands, each a small handler of a few lines.

Handlers find the running bot's parts with ``services(context)`` (bot.chat.services). Replies to
commands go straight to the chat; digests and alerts go through Delivery (bot.delivery.digests).
Buttons are handled in bot.chat.callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin.desk import AdminDesk
from bot.chat.buttons import RemoveAlert, encode_button, search_more
from bot.chat.inline import SEARCH_PAYLOAD, words_of_payload
from bot.chat.links import (
    GROUP_PAYLOAD,
    INVALID_LINK,
    add_to_channel_link,
    add_to_group_link,
    describe_choice,
    parse_payload,
    subscribe_links,
    with_link_choice,
)
from bot.chat.replies import reply, reply_screen
from bot.chat.services import (
    ADMINS_ONLY,
    Services,
    managed_channel,
    may_change,
    may_manage,
    move_chat,
    save_prefs,
    services,
    target_of,
    too_fast,
    topic_name,
)
from bot.chat.settings_ui import Row, describe_prefs, feeds_screen, main_screen
from bot.config import FeedConfig
from bot.delivery.chats import Chats
from bot.delivery.prefs import (
    ChatPrefs,
    EmptyDigest,
    LinkPreview,
    describe_schedule,
    new_chat_prefs,
    parse_items,
    parse_lead_sentences,
    parse_schedule,
)
from bot.delivery.render import render_search_results
from bot.delivery.target import Target
from bot.delivery.telegram_html import escape_text
from bot.errors import InputError, PrefsError, QueryError, StoreError
from bot.logfields import fields
from bot.timezones import describe_timezone, parse_timezone

log = logging.getLogger("newsbot.commands")


# name, arguments, what it does: the one list behind /help, the menu and the README.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "", "subscribe this chat to news digests"),
    ("stop", "", "unsubscribe (your settings are kept)"),
    ("digest", "", "everything new since your last digest, now"),
    ("search", "<words>", "search the news archive"),
    ("settings", "", "digest times, time zone, items per digest, feeds"),
    ("feeds", "", "the feeds and topics you can subscribe to"),
    ("alert", "<words>", "get new articles matching these words at once"),
    ("alerts", "", "list and remove your alerts"),
    ("timezone", "<zone>", "set your time zone, e.g. Asia/Karachi"),
    ("channels", "", "post digests and alerts in a channel you run"),
    ("help", "", "what I can do"),
)

SETTINGS_USAGE = (
    "Usage: /settings, or /settings times 08:00 18:00 (or “every 6h”, or “off”), "
    "/settings zone Asia/Karachi, /settings items 10, /settings empty note|silent, "
    "/settings lead 1|2, /settings previews below|above|off"
)
CHANNEL_SETTINGS = "Send /channels and press the channel to see its settings."
NOT_SUBSCRIBED = "This chat is not subscribed yet: send /start first."
UNSUBSCRIBED = "You are unsubscribed; /start to subscribe again."


def help_text(bot_username: str = "", feeds: Sequence[FeedConfig] = ()) -> str:
    """/help: every command with what it does, then (knowing the bot's name) inline search,
    the links that add the bot to a group or channel, and subscribe links (plain text)."""
    lines = ["I send news digests at the times you choose, and search the news.", ""]
    for name, args, what in COMMANDS:
        lines.append(f"/{name}{' ' + args if args else ''} — {what}")
    if bot_username:
        lines += ["", f"In any chat, type @{bot_username} and some words to share an article."]
        lines.append(f"Add me to a group: {add_to_group_link(bot_username)}")
        lines.append(
            f"Add me to a channel (then /channels here): {add_to_channel_link(bot_username)}"
        )
        shared = subscribe_links(bot_username, feeds)[:3]
        if shared:
            lines.append("Links that subscribe in one tap (a topic or a feed), e.g.:")
            lines += [f"{label}: {url}" for label, url in shared]
    return "\n".join(lines)


def admin_help_text(bot_username: str = "", feeds: Sequence[FeedConfig] = ()) -> str:
    """/help for an admin: every command, then the admin commands."""
    from bot.admin.commands import admin_help_lines

    text = help_text(bot_username, feeds)
    return text + "\n\nFor admins:\n" + "\n".join(admin_help_lines())


def _chat_id(update: Update) -> Target | None:
    """The subscriber the update speaks for: the chat, or the forum topic it came from."""
    return target_of(update)


def _args(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or ()).strip()


def _subscribed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ChatPrefs | None:
    """The chat's preferences while it is subscribed (None before /start and after /stop)."""
    chat_id = _chat_id(update)
    prefs = None if chat_id is None else services(context).chats.get(chat_id)
    return prefs if prefs is not None and prefs.active else None


def not_subscribed(prefs: ChatPrefs | None) -> str:
    """Why a subscriber-only command or button does nothing here: never subscribed, or
    unsubscribed with /stop."""
    return NOT_SUBSCRIBED if prefs is None else UNSUBSCRIBED


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = _chat_id(update)
    kept = None if chat_id is None else services(context).chats.get(chat_id)
    await reply(update, not_subscribed(kept), html=False)


# -- the commands -------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe the chat (again, with its kept settings) and say what it will get. A deep
    link's payload (``/start topic-world``) subscribes with that topic or feed; one from the
    inline search's button runs the search instead."""
    chat_id = _chat_id(update)
    if chat_id is None:
        return
    s = services(context)
    payload = _args(context)
    if payload.startswith(SEARCH_PAYLOAD):
        words = words_of_payload(payload)
        if words is None:
            await reply(update, "Send /search <words> to search the news.", html=False)
        else:
            await search_reply(update, context, chat_id, words)
        return
    chosen = parse_payload(payload, s.feeds) if payload and payload != GROUP_PAYLOAD else None
    if payload and payload != GROUP_PAYLOAD and chosen is None:
        log.info("start link refused %s", fields(chat=str(chat_id), payload=payload[:64]))
        await reply(update, INVALID_LINK, html=False)
        return
    if not await may_change(update, context):
        await reply(update, ADMINS_ONLY, html=False)
        return
    now = s.clock()
    kept = s.chats.get(chat_id)
    again = kept is not None
    if kept is None:
        prefs = new_chat_prefs(chat_id, now, s.defaults, title=topic_name(update))
    else:
        prefs = kept if kept.active else kept.changed(now, active=True, paused="")
    if chosen is not None:
        prefs = with_link_choice(prefs, chosen, now, is_new=not again)
    if prefs is not kept:
        s.chats.put(prefs)
    s.digests.reschedule(prefs, now)
    log.info("chat subscribed %s", fields(chat=str(chat_id), returning=again))
    zone = escape_text(describe_timezone(prefs.time_zone))
    when = describe_schedule(prefs.schedule)
    schedule = f"a digest {when} ({zone})" if when != "off" else "no scheduled digests"
    linked = f"🔗 You read {escape_text(describe_choice(chosen))} now.\n" if chosen else ""
    await reply(
        update,
        f"{linked}<b>{'Welcome back' if again else 'Subscribed'}!</b> You will get {schedule}, "
        f"up to {prefs.items_per_digest} stories each, from "
        f"{'all feeds' if prefs.is_all_feeds else 'the feeds you picked'}: headline, source, "
        "the lead and the key quote.\n\n"
        "Change times, time zone, items and feeds in /settings (or /timezone Asia/Karachi). "
        "/digest sends the news now, /search finds articles, /alert watches for words, "
        "/stop unsubscribes. /help lists everything.",
    )


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unsubscribe the chat; its settings and alerts are kept for a later /start."""
    if not await may_change(update, context):
        await reply(update, ADMINS_ONLY, html=False)
        return
    chat_id = _chat_id(update)
    if chat_id is None:
        return
    s = services(context)
    prefs = s.chats.deactivate(chat_id, s.clock())
    s.digests.forget(chat_id)
    if prefs is None:
        await reply(update, "This chat was not subscribed. Send /start to subscribe.")
        return
    log.info("chat unsubscribed %s", fields(chat=str(chat_id)))
    await reply(
        update,
        "Unsubscribed: no more digests or alerts here. Your settings are kept; "
        "/start brings them back.",
    )


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send everything new since the chat's last digest, now (through Delivery)."""
    chat_id = _chat_id(update)
    if chat_id is None:
        return
    s = services(context)
    if _subscribed(update, context) is None:
        await _refuse(update, context)
        return
    await s.digests.send_digest(chat_id, s.clock())


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The best matches for the words, with a "More" button that pages on."""
    words = _args(context)
    if not words:
        await reply(
            update,
            'Usage: /search <words> — e.g. /search flood relief, /search "prime minister", '
            "/search elect* -poll",
            html=False,
        )
        return
    chat_id = _chat_id(update)
    if chat_id is None:
        return
    await search_reply(update, context, chat_id, words)


async def search_reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: Target, words: str
) -> None:
    """The first page of a search, within the user's search budget."""
    s = services(context)
    user = update.effective_user
    wait_s = s.search_limits.wait_s(user.id) if user is not None else 0.0
    if wait_s:
        await reply(update, too_fast(wait_s), html=False)
        return
    text, rows, image = await search_page(s, chat_id, words, 0)
    await reply(update, text, rows=rows, image=image)


async def search_page(
    s: Services, chat_id: Target | int, words: str, offset: int
) -> tuple[str, list[Row], str | None]:
    """One page of results as (HTML text, button rows, the top result's lead image); a bad
    query becomes its message."""
    prefs = s.chats.get(chat_id)
    zone = prefs.zone if prefs is not None else _default_zone(s)
    per_page = s.config.settings.bot.search_results_per_page
    now = s.clock()
    try:
        page = await asyncio.to_thread(
            s.index.search, words, now=now, limit=per_page, offset=offset
        )
    except QueryError as exc:
        return escape_text(str(exc)), [], None
    texts = render_search_results(
        page.hits, query=words, tz=zone, now=now, offset=offset, total=page.total
    )
    buttons: list[tuple[str, str]] = []
    ref = None
    if offset > 0:
        ref = s.searches.add(chat_id, words)
        buttons.append(("‹ Back", search_more(max(0, offset - per_page), words, ref)))
    if page.has_more:
        ref = ref or s.searches.add(chat_id, words)
        buttons.append(("More ›", search_more(offset + per_page, words, ref)))
    top = s.digests.store.get([page.hits[0].id]) if page.hits else []
    image = top[0].image if top else None
    return texts[0], [tuple(buttons)] if buttons else [], image


def _default_zone(s: Services) -> ZoneInfo:
    return ZoneInfo(s.defaults.time_zone)


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The settings menu; with arguments, change one setting from text."""
    chat_id = _chat_id(update)
    if chat_id is None:
        return
    s = services(context)
    args = _args(context)
    channel = await _channel_args(update, context, args)
    if isinstance(channel, str):
        await reply(update, channel, html=False)
        return
    if channel is not None:
        prefs, args = channel
        if not args:
            await reply(update, CHANNEL_SETTINGS, html=False)
            return
    else:
        found = _subscribed(update, context)
        if found is None:
            await _refuse(update, context)
            return
        prefs = found
        if not args:
            await reply_screen(update, main_screen(prefs))
            return
        if not await may_change(update, context):
            await reply(update, ADMINS_ONLY, html=False)
            return
    what, _, value = args.partition(" ")
    try:
        changed = change_setting(prefs, what.lower(), value.strip(), s.clock())
    except PrefsError as exc:
        await reply(update, str(exc), html=False)
        return
    if changed is None:
        await reply(update, SETTINGS_USAGE, html=False)
        return
    save_prefs(s, changed)
    where = f" for 📣 <b>{escape_text(changed.title)}</b>" if changed.is_channel else ""
    await reply(update, f"Saved{where}.\n" + describe_prefs(changed))


async def _channel_args(
    update: Update, context: ContextTypes.DEFAULT_TYPE, args: str
) -> tuple[ChatPrefs, str] | str | None:
    """``/settings @channel …`` or ``/alert @channel …`` in a private chat: the channel's
    preferences and the rest of the arguments; a refusal when the user no longer administers
    it; None when the arguments name no channel the user manages."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != "private" or not args:
        return None
    first, _, rest = args.partition(" ")
    prefs = managed_channel(services(context), user.id, first)
    if prefs is None:
        return None
    if not await may_manage(context, prefs.chat_id, user.id):
        return f"You are not an administrator of {prefs.title} any more."
    return prefs, rest.strip()


def change_setting(prefs: ChatPrefs, what: str, value: str, now: datetime) -> ChatPrefs | None:
    """The prefs with one setting changed from text; None when ``what`` names no setting.
    Raises PrefsError with a message for the user when the value is not valid."""
    if what in ("times", "time", "schedule", "digests"):
        schedule = parse_schedule(value, time_zone=prefs.time_zone, now=now)
        return prefs.changed(now, schedule=schedule)
    if what in ("zone", "timezone", "tz"):
        return prefs.changed(now, time_zone=parse_timezone(value))
    if what in ("items", "count"):
        return prefs.changed(now, items_per_digest=parse_items(value))
    if what == "lead":
        return prefs.changed(now, lead_sentences=parse_lead_sentences(value))
    if what in ("previews", "preview"):
        previews = {p.value: p for p in LinkPreview} | {"on": LinkPreview.BELOW}
        if value.lower() not in previews:
            raise PrefsError("Send /settings previews below, above or off.")
        return prefs.changed(now, link_preview=previews[value.lower()])
    if what == "empty":
        modes = {"note": EmptyDigest.NOTICE, "notice": EmptyDigest.NOTICE}
        modes |= {"silent": EmptyDigest.SILENT, "silence": EmptyDigest.SILENT}
        if value.lower() not in modes:
            raise PrefsError("Send /settings empty note, or /settings empty silent.")
        return prefs.changed(now, empty_digest=modes[value.lower()])
    return None


async def timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set the chat's time zone from an IANA name, a city or an offset."""
    prefs = _subscribed(update, context)
    if prefs is None:
        await _refuse(update, context)
        return
    value = _args(context)
    if not value:
        zone = describe_timezone(prefs.time_zone)
        await reply(update, f"Your time zone is {zone}. Usage: /timezone Asia/Karachi", html=False)
        return
    if not await may_change(update, context):
        await reply(update, ADMINS_ONLY, html=False)
        return
    s = services(context)
    try:
        changed = change_setting(prefs, "zone", value, s.clock())
    except PrefsError as exc:
        await reply(update, str(exc), html=False)
        return
    assert changed is not None
    save_prefs(s, changed)
    zone = escape_text(describe_timezone(changed.time_zone))
    await reply(update, f"Time zone set to {zone}. Digests: {describe_schedule(changed.schedule)}.")


async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The feeds and topics, with subscribe toggles for a subscribed chat."""
    s = services(context)
    prefs = _subscribed(update, context)
    if prefs is None:
        names = [
            escape_text(f.name + (f" ({f.topic})" if f.topic else "")) for f in s.feeds if f.enabled
        ]
        kept = s.chats.get(chat_id) if (chat_id := _chat_id(update)) is not None else None
        refusal = escape_text(not_subscribed(kept))
        await reply(update, "<b>Feeds</b>\n" + "\n".join(names) + "\n\n" + refusal)
        return
    await reply_screen(update, feeds_screen(prefs, s.feeds, back=False))


async def alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Save a keyword alert: matching new articles come at once."""
    words = _args(context)
    if not words:
        await reply(
            update,
            'Usage: /alert <words> — e.g. /alert earthquake, /alert "central bank"',
            html=False,
        )
        return
    channel = await _channel_args(update, context, words)
    if isinstance(channel, str):
        await reply(update, channel, html=False)
        return
    if channel is not None:
        prefs, words = channel
    else:
        found = _subscribed(update, context)
        if found is None:
            await _refuse(update, context)
            return
        if not await may_change(update, context):
            await reply(update, ADMINS_ONLY, html=False)
            return
        prefs = found
    s = services(context)
    try:
        saved = s.chats.add_alert(prefs.target, words, s.clock())
    except InputError as exc:
        await reply(update, str(exc), html=False)
        return
    log.info("alert saved %s", fields(chat=prefs.target.key, alert=saved.id))
    await reply(
        update,
        f"🔔 Alert saved: <b>{escape_text(saved.words)}</b>. New articles matching it come "
        "at once, and are not repeated in your digest. /alerts lists yours.",
    )


async def alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the chat's alerts, each with a remove button."""
    chat_id = _chat_id(update)
    if chat_id is None:
        return
    text, rows = alerts_screen(services(context).chats, chat_id)
    await reply(update, text, rows=rows)


def alerts_screen(chats: Chats, chat_id: Target | int) -> tuple[str, list[Row]]:
    found = chats.alerts(chat_id)
    if not found:
        return "No alerts yet. Add one: /alert &lt;words&gt;", []
    lines = ["<b>Your alerts</b> (press one to remove it)"]
    lines += [f"🔔 {escape_text(a.words)}" for a in found]
    rows: list[Row] = [((f"🗑 {a.words[:40]}", encode_button(RemoveAlert(a.id))),) for a in found]
    return "\n".join(lines), rows


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every command and what it does (for an admin, the admin commands too)."""
    desk = context.application.bot_data.get("admin")
    user = update.effective_user
    name, feeds = context.bot.username or "", services(context).feeds
    if isinstance(desk, AdminDesk) and desk.is_admin(user.id if user else None):
        await reply(update, admin_help_text(name, feeds), html=False)
        return
    await reply(update, help_text(name, feeds), html=False)


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have: say so, unless it may be another bot's (in a group,
    only commands addressed to this bot by name are answered)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split()[0]
    name, _, target = command.partition("@")
    is_ours = target.lower() == (context.bot.username or "").lower()
    if (target and not is_ours) or (message.chat.type != "private" and not is_ours):
        return
    await reply(update, f"I don't know {name}. Send /help for what I can do.", html=False)


async def chatter(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text in a private chat: point at what the bot understands."""
    await reply(update, "Send /search <words> to search the news, or /help.", html=False)


async def chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its subscription moves to the new chat id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    await move_chat(services(context), message.chat_id, message.migrate_to_chat_id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what went wrong and tell the chat, briefly."""
    log.error("handler failed %s", fields(error=repr(context.error)), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        text = (
            "Sorry, I could not save that (the server's storage refused it). Nothing changed; "
            "please try again in a moment."
            if isinstance(context.error, StoreError)
            else "Sorry, something went wrong on my side. Please try again in a moment."
        )
        try:
            await context.bot.send_message(update.effective_chat.id, text)
        except Exception:  # the chat may be gone; the log has the error already
            log.warning("error notice not sent %s", fields(chat=update.effective_chat.id))
