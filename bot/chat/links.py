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
from datetime import datetime
from urllib.parse import quote

from bot.config import FeedConfig
from bot.delivery.prefs import ChatPrefs

MAX_PAYLOAD_CHARS = 64
PAYLOAD_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")
GROUP_PAYLOAD = "hello"  # what ?startgroup= links carry: a plain /start in the group
CHANNEL_RIGHTS = "post_messages"
INVALID_LINK = (
    "That subscribe link is not valid: it names no topic or feed I have, so nothing changed. "
    "/feeds lists them."
)


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
    """Opens Telegram's "add to group" (the bot needs no admin right in a group); the group
    then gets ``/start hello``, which subscribes it."""
    return f"https://t.me/{bot_username}?startgroup={GROUP_PAYLOAD}"


def add_to_channel_link(bot_username: str) -> str:
    """Opens Telegram's "add to channel" asking for the one right the bot needs there."""
    return f"https://t.me/{bot_username}?startchannel&admin={CHANNEL_RIGHTS}"


def with_link_choice(
    prefs: ChatPrefs, chosen: LinkTarget, now: datetime, *, is_new: bool
) -> ChatPrefs:
    """The preferences after following a subscribe link: a new subscriber reads just the
    linked topic or feed; one that picked feeds gets it added; one reading every feed keeps
    reading every feed (the linked one among them)."""
    if is_new:
        if chosen.is_topic:
            return prefs.changed(now, feeds=(), topics=(chosen.name,))
        return prefs.changed(now, feeds=(chosen.name,), topics=())
    if prefs.is_all_feeds:
        return prefs
    if chosen.is_topic:
        return prefs.changed(now, topics=(*prefs.topics, chosen.name))
    return prefs.changed(now, feeds=(*prefs.feeds, chosen.name))


def describe_choice(chosen: LinkTarget) -> str:
    return f"topic {chosen.name}" if chosen.is_topic else chosen.name
