"""The running bot's parts as handlers see them, and the changes to a chat that touch several.

``build_app`` puts a ``Services`` in ``bot_data["services"]``; handlers get it with
``services(context)``. ``save_prefs``, ``move_chat`` and ``deactivate`` keep the stored
preferences, the digest queue and the ledger in step.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import Bot, ChatMember, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.config import Config, FeedConfig
from bot.delivery.chats import Chats
from bot.delivery.digests import Digests
from bot.delivery.prefs import ChatPrefs, PrefsDefaults
from bot.delivery.sender import Delivery
from bot.delivery.target import Target
from bot.logfields import fields
from bot.search.contract import TextIndex

log = logging.getLogger("newsbot.chats")

MAX_SEARCH_REFS = 2000
STATUS_TTL_S = 300.0
SEARCHES_PER_MINUTE = 20
MAX_STATUSES = 10_000


class SearchRefs:
    """Queries too long for a button's data, by a short random reference bound to the chat
    that searched (newest kept): a forged button cannot show another chat's query."""

    def __init__(self, limit: int = MAX_SEARCH_REFS) -> None:
        self._limit = limit
        self._queries: OrderedDict[str, tuple[object, str]] = OrderedDict()

    def add(self, chat: object, query: str) -> str:
        ref = secrets.token_hex(4)
        while ref in self._queries:
            ref = secrets.token_hex(4)
        self._queries[ref] = (chat, query)
        while len(self._queries) > self._limit:
            self._queries.popitem(last=False)
        return ref

    def get(self, chat: object, ref: str) -> str | None:
        """The query kept under ``ref`` for ``chat`` (None for any other chat)."""
        found = self._queries.get(ref)
        return found[1] if found is not None and found[0] == chat else None


class SearchLimits:
    """Each user's searches in the last minute (/search, its pages and inline queries share
    the budget): at most ``per_minute`` (``[bot] searches_per_minute``)."""

    def __init__(self, per_minute: int = SEARCHES_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._recent: dict[int, deque[float]] = {}

    def wait_s(self, user_id: int) -> float:
        """0 when the user may search now (the search is counted), else the seconds to wait."""
        now = time.monotonic()
        recent = self._recent.setdefault(user_id, deque())
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return 60.0 - (now - recent[0])
        recent.append(now)
        if len(self._recent) > MAX_STATUSES:
            self._recent = {u: q for u, q in self._recent.items() if q and now - q[-1] < 60.0}
        return 0.0


def too_fast(wait_s: float) -> str:
    return f"You are searching very fast: please wait {max(1, round(wait_s))} s and try again."


class StatusCache:
    """Chat members as getChatMember gave them, kept for ``ttl_s`` (admin rights change
    rarely; a change is seen within minutes, not never)."""

    def __init__(self, ttl_s: float = STATUS_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[tuple[int, int], tuple[float, ChatMember]] = {}

    async def member(self, bot: Bot, chat_id: int, user_id: int) -> ChatMember:
        """The user's membership (raises TelegramError when Telegram cannot tell)."""
        now = time.monotonic()
        found = self._seen.get((chat_id, user_id))
        if found is not None and now - found[0] < self.ttl_s:
            return found[1]
        member = await bot.get_chat_member(chat_id, user_id)
        if len(self._seen) > MAX_STATUSES:
            self._seen.clear()
        self._seen[(chat_id, user_id)] = (now, member)
        return member

    def forget(self, chat_id: int) -> None:
        """Statuses in this chat changed (the bot's own did): ask again."""
        self._seen = {k: v for k, v in self._seen.items() if k[0] != chat_id}


@dataclass
class Services:
    """What the handlers use: the running bot's parts."""

    config: Config
    chats: Chats
    digests: Digests
    index: TextIndex
    defaults: PrefsDefaults
    clock: Callable[[], datetime]
    searches: SearchRefs = field(default_factory=SearchRefs)
    statuses: StatusCache = field(default_factory=lambda: StatusCache())
    search_limits: SearchLimits = field(default_factory=lambda: SearchLimits())

    def __post_init__(self) -> None:
        self.search_limits.per_minute = self.config.settings.bot.searches_per_minute

    inline_answers: OrderedDict[tuple[str, int], tuple[float, Any]] = field(
        default_factory=OrderedDict
    )  # (query, offset) -> (when, the answer): bot.chat.inline
    awaiting_channel: set[int] = field(default_factory=set)  # users asked for a channel
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


async def may_manage(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    """Whether the user is an administrator (or the creator) of the chat now (cached for
    minutes); False when Telegram cannot tell."""
    try:
        member = await services(context).statuses.member(context.bot, chat_id, user_id)
    except TelegramError:
        return False
    return member.status in ADMIN_STATUSES


def managed_channel(s: Services, user_id: int, ref: str) -> ChatPrefs | None:
    """The channel among those the user manages that ``ref`` names (``@username`` or its id),
    or None."""
    wanted = ref.strip().casefold()
    for prefs in s.chats.managed_by(user_id):
        names = {str(prefs.chat_id)} | (
            {"@" + prefs.username.casefold()} if prefs.username else set()
        )
        if wanted in names:
            return prefs
    return None
