"""The running bot's parts as handlers see them, and the changes to a chat that touch several.

``build_app`` puts a ``Services`` in ``bot_data["services"]``; handlers get it with
``services(context)``. ``save_prefs``, ``move_chat`` and ``deactivate`` keep the stored
preferences, the digest queue and the ledger in step.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.config import Config, FeedConfig
from bot.delivery.chats import Chats
from bot.delivery.digests import Digests
from bot.delivery.prefs import ChatPrefs, PrefsDefaults
from bot.delivery.sender import Delivery
from bot.delivery.target import Target
from bot.logfields import fields
from bot.search.index import SearchIndex

log = logging.getLogger("newsbot.chats")

MAX_SEARCH_REFS = 2000


class SearchRefs:
    """Queries too long for a button's data, by a short reference (newest kept)."""

    def __init__(self, limit: int = MAX_SEARCH_REFS) -> None:
        self._limit = limit
        self._queries: OrderedDict[str, str] = OrderedDict()
        self._next = 0

    def add(self, query: str) -> str:
        self._next += 1
        ref = f"{self._next:x}"
        self._queries[ref] = query
        while len(self._queries) > self._limit:
            self._queries.popitem(last=False)
        return ref

    def get(self, ref: str) -> str | None:
        return self._queries.get(ref)


@dataclass
class Services:
    """What the handlers use: the running bot's parts."""

    config: Config
    chats: Chats
    digests: Digests
    index: SearchIndex
    defaults: PrefsDefaults
    clock: Callable[[], datetime]
    searches: SearchRefs = field(default_factory=SearchRefs)
    feeds_in_force: Callable[[], tuple[FeedConfig, ...]] | None = None
    delivery: Delivery | None = None  # to drop what is queued for a paused chat

    @property
    def feeds(self) -> tuple[FeedConfig, ...]:
        """The feeds offered now (the poller's, which follow feeds.toml when it is watched)."""
        return self.feeds_in_force() if self.feeds_in_force else self.config.feeds


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.application.bot_data.get("services")
    if not isinstance(found, Services):
        raise RuntimeError("the bot was built without its services (use bot.chat.app.build_app)")
    return found


ADMIN_STATUSES = frozenset({"creator", "administrator"})
ADMINS_ONLY = "Only this group's admins can change its subscription and settings."


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the user behind the update may change the chat's subscription: anyone in a
    private chat; in a group, its admins (anonymous admins too) unless settings allow all."""
    chat = update.effective_chat
    if chat is None or chat.type == "private":
        return chat is not None
    if not services(context).config.settings.bot.group_admins_only:
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # an anonymous admin writes as the group
    user = update.effective_user
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in ADMIN_STATUSES


def save_prefs(s: Services, prefs: ChatPrefs) -> None:
    """Store changed preferences and move the chat's next digest accordingly."""
    s.chats.put(prefs)
    if prefs.active:
        s.digests.reschedule(prefs, s.clock())


async def move_chat(
    s: Services, old_chat_id: int, new_chat_id: int, *, ledger: bool = True
) -> None:
    """Move a chat's subscriptions (its topics' too), alerts, schedule (and ledger record) to
    its new id."""
    moved = s.chats.move(old_chat_id, new_chat_id, s.clock())
    if not moved:
        return
    if ledger:
        s.digests.ledger.move_chat(old_chat_id, new_chat_id, now=s.clock())
    for prefs in moved:
        s.digests.forget(Target(old_chat_id, prefs.thread_id))
        if prefs.active:
            s.digests.reschedule(prefs, s.clock())
    log.info("chat moved %s", fields(old=old_chat_id, new=new_chat_id))


def target_of(update: Update) -> Target | None:
    """The subscriber an update speaks for: its chat, or the forum topic it was sent in."""
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.effective_message
    if isinstance(message, Message) and message.is_topic_message and message.message_thread_id:
        return Target(chat.id, message.message_thread_id)
    return Target(chat.id)


def topic_name(update: Update) -> str:
    """The name of the forum topic a message was sent in, when Telegram says it (a topic's
    messages reply to the service message that created it); else empty."""
    message = update.effective_message
    if not isinstance(message, Message) or not message.is_topic_message:
        return ""
    origin = message.reply_to_message
    created = origin.forum_topic_created if origin is not None else None
    return created.name if created is not None else ""
