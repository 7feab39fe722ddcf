"""Where a subscription's digests and alerts go: a chat, or one forum topic of a chat.

A ``Target`` is the subscriber: every forum topic that sent /start has its own preferences,
schedule, alerts and delivery record, apart from the chat's General topic (``thread_id`` 0,
which is also what every chat without topics has). ``key`` is its name in stored records:
``"42"`` for a chat, ``"-1001234/7"`` for topic 7 of a forum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"(-?\d{1,20})(?:/(\d{1,12}))?")


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """A chat (``thread_id`` 0) or one forum topic of it (``thread_id``: the topic's
    ``message_thread_id``)."""

    chat_id: int
    thread_id: int = 0

    def __post_init__(self) -> None:
        if self.thread_id < 0:
            raise ValueError(f"a topic's thread id is positive, got {self.thread_id}")

    @property
    def is_topic(self) -> bool:
        return self.thread_id != 0

    @property
    def key(self) -> str:
        return f"{self.chat_id}/{self.thread_id}" if self.thread_id else str(self.chat_id)

    @property
    def chat(self) -> Target:
        """The chat itself (its General topic, in a forum)."""
        return Target(self.chat_id) if self.thread_id else self

    def __str__(self) -> str:
        return self.key

    @classmethod
    def from_key(cls, key: str) -> Target:
        """The target a stored ``key`` names; raises ValueError for anything else."""
        match = _KEY.fullmatch(key)
        if match is None:
            raise ValueError(f"not a chat or topic key: {key!r}")
        return cls(int(match.group(1)), int(match.group(2) or 0))


def as_target(where: Target | int) -> Target:
    """A chat id stands for the chat itself."""
    return where if isinstance(where, Target) else Target(where)
