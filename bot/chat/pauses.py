"""When the bot can no longer post somewhere: the subscription pauses at once, nothing queued
is retried, and the people who can fix it are told once.

- A chat blocked the bot, removed it, or (a channel) took its right to post: every
  subscription of that chat (its topics' too) pauses; what was queued for it is abandoned in
  the ledger; a channel's managers hear it in their private chats.
- A forum topic was closed or deleted: only that topic pauses, and the group's General topic
  hears it, once.

"Once": a notice goes out on the change from active to paused, never again while paused.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.chat.services import Services
from bot.delivery.ledger import Outgoing
from bot.delivery.prefs import ChatPrefs
from bot.delivery.target import Target
from bot.delivery.telegram_html import escape_text
from bot.logfields import fields

log = logging.getLogger("newsbot.pauses")

REMOVED = "removed"  # the bot was removed from the chat or blocked
CANNOT_POST = "cannot post"  # a channel took the bot's right to post
TOPIC_GONE = "topic closed"  # a forum topic was closed or deleted


async def pause_chat(s: Services, chat_id: int, reason: str) -> list[ChatPrefs]:
    """Pause every subscription of the chat; returns those that were active until now."""
    now = s.clock()
    paused: list[ChatPrefs] = []
    for prefs in s.chats.of_chat(chat_id):
        if prefs.active:
            stopped = s.chats.deactivate(prefs.target, now, paused=reason)
            if stopped is not None:
                paused.append(stopped)
        s.digests.forget(prefs.target)
    if s.delivery is not None:
        s.delivery.drop(Target(chat_id), reason=reason)
    if paused:
        log.info("chat paused %s", fields(chat=chat_id, why=reason, targets=len(paused)))
    notices = [n for prefs in paused if prefs.is_channel for n in manager_notices(prefs, now)]
    if notices:
        await s.digests.sender.submit(notices)
    return paused


async def pause_topic(s: Services, target: Target, reason: str) -> ChatPrefs | None:
    """Pause one forum topic's subscription and say so in the group's General topic (once)."""
    before = s.chats.get(target)
    s.digests.forget(target)
    if before is None or not before.active:
        return None
    now = s.clock()
    stopped = s.chats.deactivate(target, now, paused=TOPIC_GONE)
    if s.delivery is not None:
        s.delivery.drop(target, reason=reason)
    log.info("topic paused %s", fields(chat=target.chat_id, thread=target.thread_id))
    name = escape_text(before.title) if before.title else f"#{target.thread_id}"
    text = (
        f"⏸ Digests for the topic “{name}” are paused: I can no longer post there (the topic "
        "was closed or deleted). Reopen it and send /start inside it to get them again."
    )
    key = f"notice:{target.chat_id}:topic-paused:{target.thread_id}:{now.timestamp():.0f}"
    await s.digests.sender.submit([Outgoing(key, target.chat_id, text, (), "notice")])
    return stopped


def manager_notices(prefs: ChatPrefs, now: datetime) -> list[Outgoing]:
    """What a paused channel's managers are told in their private chats."""
    title = escape_text(prefs.title or str(prefs.chat_id))
    why = {
        CANNOT_POST: "I lost the right to post there",
        REMOVED: "I can no longer post there (removed, or not an admin with “Post messages”)",
    }.get(prefs.paused, "I can no longer post there")
    text = (
        f"⏸ Digests to the channel <b>{title}</b> are paused: {why}. Nothing queued for it "
        "will be sent. Make me an administrator with “Post messages” again, then press "
        "Resume in /channels."
    )
    stamp = f"{now.timestamp():.0f}"
    return [
        Outgoing(f"notice:{user}:channel-paused:{prefs.chat_id}:{stamp}", user, text, (), "notice")
        for user in prefs.managers
    ]
