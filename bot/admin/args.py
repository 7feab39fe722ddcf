"""The arguments of the admins' feed commands, as typed in chat (pure).

Feed names may hold spaces ("BBC World"), so a command's words are split by what they can be:
``/setinterval BBC World 15`` ends with the minutes, ``/renamefeed BBC World -> BBC`` names
the feed first and the new name after an arrow (or ``|``, or the feed's full name followed by
the new one). Each parser returns a small dataclass or raises ``InputError`` whose message is
the usage line to answer with.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import FeedConfig
from bot.errors import InputError
from bot.feedconfig.text import find_feed

ADDFEED_USAGE = "Usage: /addfeed <url> [name] [#topic]"
FEED_USAGE = "Usage: /{command} <feed>"
INTERVAL_USAGE = "Usage: /setinterval <feed> <minutes, 1 to 10080, or default>"
RENAME_USAGE = "Usage: /renamefeed <feed> -> <new name>"
MAX_MINUTES = 10080
_ARROWS = ("->", "→", "|", "=>")


@dataclass(frozen=True, slots=True)
class AddFeedArgs:
    url: str
    name: str | None = None
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class IntervalArgs:
    feed: FeedConfig
    minutes: int | None  # None: back to the default


@dataclass(frozen=True, slots=True)
class RenameArgs:
    feed: FeedConfig
    new_name: str


def parse_addfeed(text: str) -> AddFeedArgs:
    """``<url> [name words] [#topic]``: the first word is the address, a word starting with
    ``#`` the topic, the other words the name."""
    words = text.split()
    if not words:
        raise InputError(ADDFEED_USAGE)
    url, rest = words[0], words[1:]
    topics = [w[1:] for w in rest if w.startswith("#") and len(w) > 1]
    if len(topics) > 1:
        raise InputError(f"one #topic only, got {', '.join('#' + t for t in topics)}")
    name = " ".join(w for w in rest if not (w.startswith("#") and len(w) > 1))
    return AddFeedArgs(url.strip("<>"), name or None, topics[0] if topics else None)


def parse_feed(text: str, feeds: Sequence[FeedConfig], command: str) -> FeedConfig:
    """The feed a ``/removefeed``, ``/pausefeed``... argument names (any case, or the start
    of a name); ``UnknownFeedError`` lists the feeds."""
    if not text.strip():
        raise InputError(FEED_USAGE.format(command=command))
    return find_feed(feeds, text)


def parse_interval(text: str, feeds: Sequence[FeedConfig]) -> IntervalArgs:
    """``<feed> <minutes|default>``: the last word is the interval."""
    words = text.split()
    if len(words) < 2:
        raise InputError(INTERVAL_USAGE)
    value = words[-1].lower()
    if value in ("default", "reset"):
        minutes = None
    else:
        try:
            minutes = int(value.removesuffix("min").removesuffix("m"))
        except ValueError:
            raise InputError(
                f"{words[-1]!r} is not a number of minutes. {INTERVAL_USAGE}"
            ) from None
        if not 1 <= minutes <= MAX_MINUTES:
            raise InputError(f"the interval must be 1 to {MAX_MINUTES} minutes, got {minutes}")
    return IntervalArgs(find_feed(feeds, " ".join(words[:-1])), minutes)


def parse_rename(text: str, feeds: Sequence[FeedConfig]) -> RenameArgs:
    """``<feed> -> <new name>`` (also ``|``, ``→``), ``"old name" "new name"``, or the feed's
    full name followed by the new name."""
    for arrow in _ARROWS:
        if arrow in text:
            old, new = (part.strip() for part in text.split(arrow, 1))
            if not old or not new:
                raise InputError(RENAME_USAGE)
            return RenameArgs(find_feed(feeds, old), " ".join(new.split()))
    if '"' in text or "'" in text:
        try:
            parts = shlex.split(text)
        except ValueError:
            parts = []
        if len(parts) == 2:
            return RenameArgs(find_feed(feeds, parts[0]), " ".join(parts[1].split()))
    words = text.split()
    if len(words) < 2:
        raise InputError(RENAME_USAGE)
    splits = [
        (feed, " ".join(words[cut:]))
        for cut in range(1, len(words))
        for feed in feeds
        if feed.name.casefold() == " ".join(words[:cut]).casefold()
    ]
    if len(splits) == 1:
        return RenameArgs(*splits[0])
    if not splits and len(words) == 2:
        return RenameArgs(find_feed(feeds, words[0]), words[1])
    raise InputError(f"which part is the feed? Write it with an arrow. {RENAME_USAGE}")
