"""Channels, managed from a private chat with the bot: /channels, adding one, its settings.

A user adds a channel by forwarding one of its posts, or sending its ``@username`` or id.
The bot checks with getChatMember that it is an administrator there with "Post messages"
and that the user is an administrator (or the creator); either failing gets a message that
says what to fix. A channel has the settings of any chat, edited through the same screens
with its name on top and its buttons bound to it (``@<id>|<data>``, bot.chat.buttons);
every press re-checks that the user still administers it (cached for minutes). Several
admins may manage one channel: each who adds it becomes one of its managers.
"""

from __future__ import annotations

import logging
import re

from telegram import CallbackQuery, Message, MessageOriginChannel, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat.buttons import (
    AddChannel,
    ChannelMenu,
    RemoveAlert,
    ResumeChannel,
    ShowScreen,
    encode_button,
    for_channel,
    parse_button,
    split_channel,
)
from bot.chat.callbacks import STALE, edit, settings_button
from bot.chat.commands import alerts_screen, chatter
from bot.chat.links import add_to_channel_link, add_to_group_link
from bot.chat.replies import reply
from bot.chat.services import Services, may_manage, save_prefs, services
from bot.chat.settings_ui import Row, Screen, screen
from bot.delivery.prefs import ChatPrefs, new_chat_prefs
from bot.delivery.target import Target
from bot.delivery.telegram_html import escape_text, link
from bot.logfields import fields

log = logging.getLogger("newsbot.channels")

CHANNEL_REF = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{1,13}")
ADD_PROMPT = (
    "Forward me a post from your channel, or send its @username or id (-100…).\n"
    "I must be one of its administrators with “Post messages”, and so must you."
)
PRIVATE_ONLY = "Channels are managed in a private chat with me: open it and send /channels."


def title_of(prefs: ChatPrefs) -> str:
    return prefs.title or (f"@{prefs.username}" if prefs.username else str(prefs.chat_id))


def ref_of(prefs: ChatPrefs) -> str:
    """How commands name the channel: its @username, or its id."""
    return f"@{prefs.username}" if prefs.username else str(prefs.chat_id)


# -- screens -----------------------------------------------------------------------------


def channel_screen(name: str, prefs: ChatPrefs, s: Services) -> Screen:
    """A settings screen of a channel: its name on top, text commands naming it, every
    button bound to it, and its alerts one press away."""
    head = f"📣 <b>{escape_text(title_of(prefs))}</b> · channel\n"
    ref = escape_text(ref_of(prefs))
    if name == "alerts":
        text, rows = alerts_screen(s.chats, prefs.target)
        text = text.replace("/alert &lt;words&gt;", f"/alert {ref} &lt;words&gt;")
        text += f"\nAdd one: <code>/alert {ref} words</code>"
        back: Row = (("« Back", encode_button(ShowScreen("main"))),)
        base = Screen(text, (*rows, back))
    else:
        base = screen(name, prefs, s.feeds)
    text = base.text.replace("/settings ", f"/settings {ref} ")
    text = text.replace("/timezone ", f"/settings {ref} zone ")
    text = text.replace("send /start to get digests again", "press Resume in /channels")
    rows = list(base.rows)
    if name == "main":
        rows.insert(-1, (("🔔 Alerts", encode_button(ShowScreen("alerts"))),))
    bound = tuple(tuple((label, for_channel(prefs.chat_id, data)) for label, data in row)
                  for row in rows)  # fmt: skip
    return Screen(head + text, bound)


def channels_screen(s: Services, user_id: int, bot_username: str) -> Screen:
    """/channels: the user's channels with their state, Add, and the add-me links."""
    mine = s.chats.managed_by(user_id)
    lines = ["<b>Your channels</b>"]
    rows: list[Row] = []
    for prefs in mine:
        state = "active" if prefs.active else "⏸ paused"
        lines.append(f"📣 {escape_text(title_of(prefs))} — {state}")
        row = [(f"⚙ {title_of(prefs)[:40]}", encode_button(ChannelMenu(prefs.chat_id)))]
        if not prefs.active:
            row.append(("▶ Resume", encode_button(ResumeChannel(prefs.chat_id))))
        rows.append(tuple(row))
    if not mine:
        lines.append("None yet. I can post digests and alerts into a channel you run.")
    lines.append(
        f"\nFirst {link('add me to your channel', add_to_channel_link(bot_username))} "
        "as an administrator with “Post messages”, then press Add. "
        f"For a group: {link('add me to it', add_to_group_link(bot_username))} "
        "and send /start there."
    )
    rows.append((("➕ Add a channel", encode_button(AddChannel())),))
    return Screen("\n".join(lines), tuple(rows))


# -- handlers ----------------------------------------------------------------------------


async def channels_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the channels this user manages with the bot; ``/channels @name`` adds one."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if chat.type != "private":
        await reply(update, PRIVATE_ONLY, html=False)
        return
    ref = " ".join(context.args or ()).strip()
    if ref:
        await add_channel(update, context, ref)
        return
    shown = channels_screen(services(context), user.id, context.bot.username)
    await reply(update, shown.text, rows=shown.rows)


async def private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message in a private chat that is not a command: a forwarded channel post or a
    channel's name adds that channel; anything else gets the usual pointer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    s = services(context)
    origin = message.forward_origin
    if isinstance(origin, MessageOriginChannel):
        await add_channel(update, context, origin.chat.id)
        return
    text = (message.text or "").strip()
    if user.id in s.awaiting_channel and CHANNEL_REF.fullmatch(text):
        await add_channel(update, context, text)
        return
    if message.forward_origin is not None and user.id in s.awaiting_channel:
        await reply(update, "That post is not from a channel. " + ADD_PROMPT, html=False)
        return
    await chatter(update, context)


async def add_channel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, ref: str | int
) -> ChatPrefs | None:
    """Check the bot and the user are admins of the channel, then subscribe it (again) with
    the user among its managers; every refusal says what to fix."""
    user = update.effective_user
    if user is None:
        return None
    s = services(context)
    s.awaiting_channel.discard(user.id)
    try:
        chat = await context.bot.get_chat(ref)
    except TelegramError:
        await reply(
            update,
            f"I cannot see {escape_text(str(ref))}. Add me to the channel as an administrator "
            f"with “Post messages” ({link('this link', add_to_channel_link(context.bot.username))}"
            " does it), then send it again.",
        )
        return None
    if chat.type != "channel":
        await reply(
            update,
            "That is not a channel. For a group, add me to it and send /start there.",
            html=False,
        )
        return None
    title = chat.title or str(chat.id)
    problem = await bot_problem(context, chat.id, title)
    if problem is not None:
        await reply(update, problem)
        return None
    s.statuses.forget(chat.id)
    if not await may_manage(context, chat.id, user.id):
        await reply(
            update,
            f"Only administrators of <b>{escape_text(title)}</b> can add it, and you are "
            "not one of them.",
        )
        return None
    now = s.clock()
    target = Target(chat.id)
    kept = s.chats.get(target)
    known = {"title": title, "username": chat.username or "", "is_channel": True}
    if kept is None:
        prefs = new_chat_prefs(target, now, s.defaults, managers=(user.id,), **known)
    else:
        managers = tuple(sorted({*kept.managers, user.id}))
        prefs = kept.changed(now, active=True, paused="", managers=managers, **known)
    save_prefs(s, prefs)
    log.info("channel added %s", fields(chat=chat.id, by=user.id, again=kept is not None))
    shown = channel_screen("main", prefs, s)
    await reply(
        update,
        f"📣 <b>{escape_text(title)}</b> is subscribed. Digests and alerts go there as "
        "its settings say:\n\n" + shown.text,
        rows=shown.rows,
    )
    return prefs


async def bot_problem(context: ContextTypes.DEFAULT_TYPE, chat_id: int, title: str) -> str | None:
    """What keeps the bot from posting in the channel, as a message saying what to fix;
    None when it may post."""
    name = f"<b>{escape_text(title)}</b>"
    try:
        me = await context.bot.get_chat_member(chat_id, context.bot.id)
    except TelegramError:
        return f"I am not in {name}. Add me to it as an administrator with “Post messages”."
    if me.status != "administrator":
        return (
            f"I am not an administrator of {name}. Make the bot an admin with “Post "
            "messages” (channel settings → Administrators → Add admin), then try again."
        )
    if not getattr(me, "can_post_messages", False):
        return (
            f"I am an administrator of {name} but without “Post messages”. Turn on “Post "
            "messages” for me in its administrators, then try again."
        )
    return None


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Channel buttons: Add, open a channel's settings, Resume, and bound settings buttons."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    s = services(context)
    user_id = query.from_user.id
    chat_id, data = split_channel(query.data)
    pressed = parse_button(data)
    if chat_id is None:
        chat_id = getattr(pressed, "chat_id", None)
    if isinstance(pressed, AddChannel):
        s.awaiting_channel.add(user_id)
        await query.answer()
        await reply(update, ADD_PROMPT, html=False)
        return
    if pressed is None or chat_id is None:
        await query.answer(STALE)
        return
    prefs = s.chats.get(Target(chat_id))
    if prefs is None or not prefs.is_channel:
        await query.answer()
        if isinstance(pressed, ChannelMenu):  # the set-up offered when the bot was added
            await add_channel(update, context, chat_id)
        return
    if not await may_manage(context, chat_id, user_id):
        await query.answer(
            f"You are not an administrator of {title_of(prefs)} (any more).", show_alert=True
        )
        return
    if isinstance(pressed, ChannelMenu):
        await query.answer()
        await _show(query, channel_screen("main", prefs, s))
    elif isinstance(pressed, ResumeChannel):
        await _resume(query, context, s, prefs)
    elif isinstance(pressed, RemoveAlert):
        gone = s.chats.remove_alert(prefs.target, pressed.alert_id)
        await query.answer(f"Removed: {gone.words}" if gone else "That alert was removed already.")
        await _show(query, channel_screen("alerts", prefs, s))
    elif isinstance(pressed, ShowScreen) and pressed.screen == "alerts":
        await query.answer()
        await _show(query, channel_screen("alerts", prefs, s))
    else:
        await settings_button(
            query, s, prefs, pressed, show=lambda name, p: channel_screen(name, p, s)
        )


async def _resume(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, s: Services, prefs: ChatPrefs
) -> None:
    problem = await bot_problem(context, prefs.chat_id, title_of(prefs))
    if problem is not None:
        await query.answer(re.sub(r"<[^>]+>", "", problem)[:190], show_alert=True)
        return
    resumed = prefs.changed(s.clock(), active=True, paused="")
    save_prefs(s, resumed)
    log.info("channel resumed %s", fields(chat=prefs.chat_id, by=query.from_user.id))
    await query.answer("Resumed: digests go to the channel again.")
    await _show(query, channel_screen("main", resumed, s))


async def _show(query: CallbackQuery, shown: Screen) -> None:
    if isinstance(query.message, Message):
        await edit(query, shown.text, shown.rows)
