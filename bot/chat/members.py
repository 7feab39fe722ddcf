"""The bot's own membership (``my_chat_member`` updates): added, promoted, demoted, removed.

- Added to a group: a short hello saying who may configure it and how. Removed (or the group
  deleted): every subscription of the group pauses at once, not on the next failed send.
- Made an admin of a channel with "Post messages": nothing is subscribed yet; the user who
  did it is offered the set-up in their private chat (if they have one with the bot). A
  paused channel's managers are told it can be resumed.
- Demoted, removed or without "Post messages" in a channel: it pauses and its managers are
  told once (bot.chat.pauses).
- A private chat that blocked the bot pauses too.
"""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberAdministrator, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat import pauses
from bot.chat.buttons import ChannelMenu, ResumeChannel, encode_button
from bot.chat.replies import keyboard
from bot.chat.services import services
from bot.chat.settings_ui import Row
from bot.delivery.target import Target
from bot.delivery.telegram_html import escape_text
from bot.logfields import fields

log = logging.getLogger("newsbot.members")

PRESENT = frozenset({"creator", "administrator", "member", "restricted"})
HELLO = (
    "Hello! I send news digests and alerts. This group's admins can send /start here to "
    "subscribe it — or inside a forum topic, to give that topic digests of its own — and "
    "/settings to choose times and feeds. /help lists everything."
)


def can_post(member: ChatMember, chat_type: str) -> bool:
    """Whether a bot with this membership may post in the chat."""
    if chat_type == "channel":
        return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    if member.status == "restricted":
        return bool(
            getattr(member, "is_member", False) and getattr(member, "can_send_messages", False)
        )
    return member.status in PRESENT


async def member_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """React to the bot being added, changed or removed somewhere."""
    change = update.my_chat_member
    if change is None:
        return
    chat, s = change.chat, services(context)
    s.statuses.forget(chat.id)
    before = can_post(change.old_chat_member, chat.type)
    after = can_post(change.new_chat_member, chat.type)
    log.info("bot membership changed %s", fields(chat=chat.id, type=chat.type,
             old=change.old_chat_member.status, new=change.new_chat_member.status))  # fmt: skip
    if not after:
        reason = pauses.CANNOT_POST if change.new_chat_member.status in PRESENT else pauses.REMOVED
        await pauses.pause_chat(s, chat.id, reason)
        return
    if before:
        return
    if chat.type == "channel":
        await _offer_channel(context, chat.id, chat.title or str(chat.id), change.from_user.id)
    elif chat.type in ("group", "supergroup"):
        try:
            await context.bot.send_message(chat.id, HELLO)
        except TelegramError as exc:
            log.warning("hello not sent %s", fields(chat=chat.id, error=str(exc)[:80]))


async def _offer_channel(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, title: str, by_user: int
) -> None:
    """The bot may post in a channel now: offer the set-up, or the resume."""
    s = services(context)
    prefs = s.chats.get(Target(chat_id))
    name = f"<b>{escape_text(title)}</b>"
    button: ChannelMenu | ResumeChannel
    if prefs is not None and prefs.is_channel and not prefs.active and prefs.paused:
        text = f"I can post in {name} again. Press Resume to get its digests going."
        button, people = ResumeChannel(chat_id), set(prefs.managers) | {by_user}
    elif prefs is None:
        text = (
            f"You made me an administrator of {name}. Nothing is posted there until you set "
            "it up: press the button to subscribe it and choose its times and feeds."
        )
        button, people = ChannelMenu(chat_id), {by_user}
    else:
        return
    label = "▶ Resume" if isinstance(button, ResumeChannel) else f"📣 Set up {title[:40]}"
    row: Row = ((label, encode_button(button)),)
    markup = keyboard([row])
    for user_id in sorted(people):
        try:
            await context.bot.send_message(user_id, text, parse_mode="HTML", reply_markup=markup)
        except TelegramError:  # no private chat with the bot yet: nothing to do
            log.info("channel offer not sent %s", fields(chat=chat_id, user=user_id))
