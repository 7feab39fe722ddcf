"""The chats a loopback Bot API server knows, as Telegram keeps them: groups, forum
supergroups with their topics, channels; who belongs to each with what status and rights;
and the checks Telegram makes before the bot may post to a chat or a topic.

Chats the world was not told about behave as before (any chat id works, the bot is a member
of every group): only chats added with ``add_channel``/``add_group`` are checked. Statuses
and rights are Telegram's (``creator``, ``administrator`` with ``can_post_messages`` and the
rest, ``member``, ``left``, ``kicked``); the answers carry every field python-telegram-bot
needs to build its ChatMember classes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories",
)  # fmt: skip
CHANNEL_RIGHTS = ("can_post_messages", "can_edit_messages")
GROUP_RIGHTS = ("can_pin_messages", "can_manage_topics")
PRESENT = frozenset({"creator", "administrator", "member"})


class ApiError(Exception):
    """An error answer in the Bot API envelope."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class Member:
    """One user's (or the bot's) place in a chat."""

    status: str
    rights: dict[str, bool] = field(default_factory=dict)

    @property
    def can_post(self) -> bool:
        return self.status == "creator" or (
            self.status == "administrator" and self.rights.get("can_post_messages", False)
        )


@dataclass
class Topic:
    """A forum topic: its thread id is the id of the service message that created it."""

    thread_id: int
    name: str
    is_closed: bool = False
    is_deleted: bool = False


@dataclass
class Chat:
    id: int
    type: str  # "group" | "supergroup" | "channel"
    title: str
    username: str | None = None
    is_forum: bool = False
    members: dict[int, Member] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)

    def json(self) -> JSON:
        found: JSON = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            found["username"] = self.username
        if self.is_forum:
            found["is_forum"] = True
        return found


def member_json(member: Member, user: JSON, chat_type: str) -> JSON:
    """A ChatMember as getChatMember and chat_member updates give it."""
    found: JSON = {"status": member.status, "user": user}
    if member.status == "creator":
        found["is_anonymous"] = False
    elif member.status == "administrator":
        found |= {"can_be_edited": False, "is_anonymous": False}
        found |= {right: member.rights.get(right, True) for right in ADMIN_RIGHTS}
        extra = CHANNEL_RIGHTS if chat_type == "channel" else GROUP_RIGHTS
        found |= {right: member.rights.get(right, False) for right in extra}
    elif member.status == "kicked":
        found["until_date"] = 0
    return found


class ChatWorld:
    """Every chat the server was told about; thread-safe (one lock)."""

    def __init__(self, bot_id: int) -> None:
        self.bot_id = bot_id
        self._lock = threading.Lock()
        self._chats: dict[int, Chat] = {}

    # -- building the world -------------------------------------------------------------------

    def add_channel(
        self,
        chat_id: int,
        title: str,
        *,
        username: str | None = None,
        creator: int,
        admins: tuple[int, ...] = (),
        bot: Member | None = None,
    ) -> Chat:
        """A channel with its creator, its other admins, and the bot (by default an admin
        with "Post messages"; ``Member("left")`` when it was never added)."""
        chat = Chat(chat_id, "channel", title, username)
        chat.members[creator] = Member("creator")
        for user_id in admins:
            chat.members[user_id] = Member("administrator", {"can_post_messages": True})
        chat.members[self.bot_id] = bot or Member("administrator", {"can_post_messages": True})
        with self._lock:
            self._chats[chat_id] = chat
        return chat

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        forum: bool = False,
        creator: int | None = None,
        admins: tuple[int, ...] = (),
        has_bot: bool = True,
    ) -> Chat:
        """A group (a supergroup when its id starts with -100; ``forum`` has topics)."""
        kind = "supergroup" if str(chat_id).startswith("-100") or forum else "group"
        chat = Chat(chat_id, kind, title, is_forum=forum)
        if creator is not None:
            chat.members[creator] = Member("creator")
        for user_id in admins:
            chat.members[user_id] = Member("administrator")
        chat.members[self.bot_id] = Member("member" if has_bot else "left")
        with self._lock:
            self._chats[chat_id] = chat
        return chat

    def set_member(self, chat_id: int, user_id: int, member: Member) -> tuple[Member, Member]:
        """Change someone's status; returns (old, new)."""
        with self._lock:
            chat = self._require(chat_id)
            old = chat.members.get(user_id, Member("left"))
            chat.members[user_id] = member
            return old, member

    def open_topic(self, chat_id: int, thread_id: int, name: str) -> Topic:
        with self._lock:
            chat = self._require(chat_id)
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum")
            topic = chat.topics[thread_id] = Topic(thread_id, name)
            return topic

    def topic(self, chat_id: int, thread_id: int) -> Topic | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            return chat.topics.get(thread_id) if chat is not None else None

    def close_topic(self, chat_id: int, thread_id: int, *, deleted: bool = False) -> None:
        with self._lock:
            topic = self._require(chat_id).topics[thread_id]
            topic.is_closed = True
            topic.is_deleted = topic.is_deleted or deleted

    def reopen_topic(self, chat_id: int, thread_id: int) -> None:
        with self._lock:
            self._require(chat_id).topics[thread_id].is_closed = False

    # -- what the API answers -----------------------------------------------------------------

    def get(self, chat_id: int) -> Chat | None:
        with self._lock:
            return self._chats.get(chat_id)

    def resolve(self, ref: Any) -> int | None:
        """A chat id from an API ``chat_id`` parameter (a number or ``@username``)."""
        if isinstance(ref, str) and ref.startswith("@"):
            wanted = ref[1:].casefold()
            with self._lock:
                return next(
                    (c.id for c in self._chats.values() if (c.username or "").casefold() == wanted),
                    None,
                )
        try:
            return int(ref) if ref is not None else None
        except (TypeError, ValueError):
            return None

    def member(self, chat_id: int, user_id: int) -> Member | None:
        """The user's status in a known chat; None for a chat the world does not know."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return None
            return chat.members.get(user_id, Member("left"))

    def admins(self, chat_id: int) -> list[int]:
        with self._lock:
            chat = self._require(chat_id)
            return [u for u, m in chat.members.items() if m.status in ("creator", "administrator")]

    def check_post(self, chat_id: int, thread_id: int | None) -> None:
        """Raise the ApiError Telegram gives when the bot may not post there."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return
            bot = chat.members.get(self.bot_id, Member("left"))
            where = f"{chat.type} chat"
            if bot.status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {where}")
            if bot.status not in PRESENT:
                raise ApiError(403, f"Forbidden: bot is not a member of the {where}")
            if chat.type == "channel" and not bot.can_post:
                raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
            if thread_id is None:
                return
            topic = chat.topics.get(thread_id) if chat.is_forum else None
            if topic is None or topic.is_deleted:
                raise ApiError(400, "Bad Request: message thread not found")
            if topic.is_closed:
                raise ApiError(400, "Bad Request: TOPIC_CLOSED")

    def _require(self, chat_id: int) -> Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise KeyError(f"the server knows no chat {chat_id}")
        return chat
