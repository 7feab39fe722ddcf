"""Subscribe links: ``https://t.me/<bot>?start=<payload>`` and the links that add the bot to
a group or a channel as an admin. Pure: names in, payloads and URLs out.

A payload names a topic or a feed: ``topic-<slug>`` / ``feed-<slug>``, where the slug is the
name lower-cased with every run of other characters than a-z and 0-9 written as one ``-``
(Telegram allows 64 characters of ``A-Za-z0-9_-``). ``parse_payload`` turns what a /start
carried into a ``LinkTarget`` or None: an unknown or forged payload is never an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from bot.config import FeedConfig

MAX_PAYLOAD_CHARS = 64
PAYLOAD_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")
SEARCH_PAYLOAD = "search"
GROUP_RIGHTS = "delete_messages+pin_messages+manage_topics"
CHANNEL_RIGHTS = "post_messages+edit_messages"


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a subscribe link subscribes to: a topic or a feed, by its name in force."""

    is_topic: bool
    name: str


def slug(name: str) -> str:
    """``Dawn (Pakistan)`` -> ``dawn-pakistan``: lower-cased, other runs as ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def payload_for(target: LinkTarget) -> str | None:
    """The /start payload of a topic or feed, or None when its slug is empty or too long."""
    kind = "topic" if target.is_topic else "feed"
    name = slug(target.name)
    found = f"{kind}-{name}"
    return found if name and len(found) <= MAX_PAYLOAD_CHARS else None


def parse_payload(payload: str, feeds: Sequence[FeedConfig]) -> LinkTarget | None:
    """The topic or feed an enabled feed configuration offers under this payload, or None."""
    if not PAYLOAD_CHARS.fullmatch(payload):
        return None
    kind, _, wanted = payload.partition("-")
    enabled = [f for f in feeds if f.enabled]
    if kind == "topic":
        names = sorted({f.topic for f in enabled if f.topic})
    elif kind == "feed":
        names = sorted(f.name for f in enabled)
    else:
        return None
    found = next((n for n in names if wanted and slug(n) == wanted), None)
    return LinkTarget(kind == "topic", found) if found is not None else None


def subscribe_links(bot_username: str, feeds: Sequence[FeedConfig]) -> list[tuple[str, str]]:
    """(label, URL) of every topic's and feed's subscribe link, topics first."""
    enabled = [f for f in feeds if f.enabled]
    targets = [LinkTarget(True, t) for t in sorted({f.topic for f in enabled if f.topic})]
    targets += [LinkTarget(False, f.name) for f in enabled]
    links = []
    for target in targets:
        payload = payload_for(target)
        if payload is not None:
            label = f"topic {target.name}" if target.is_topic else target.name
            links.append((label, start_link(bot_username, payload)))
    return links


def start_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={quote(payload)}"


def add_to_group_link(bot_username: str) -> str:
    """Opens Telegram's "add to group" with the admin rights the bot asks for."""
    return f"https://t.me/{bot_username}?startgroup=hello&admin={GROUP_RIGHTS}"


def add_to_channel_link(bot_username: str) -> str:
    """Opens Telegram's "add to channel" with "Post messages" (and editing) asked for."""
    return f"https://t.me/{bot_username}?startchannel&admin={CHANNEL_RIGHTS}"
