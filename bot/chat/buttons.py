"""Inline buttons' callback data: what each button means, encoded in Telegram's 64 bytes.

Callback data comes back from clients, so it is untrusted: ``parse_button`` turns it into one
of the small dataclasses below or None (unknown, stale or forged), never an exception. Names
of feeds and topics travel as short keys (``name_key``) that the handler looks up in the
configuration in force; a key that no longer names anything is a stale button.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.delivery.digests import MORE_BUTTON_DATA
from bot.delivery.prefs import MAX_ITEMS, MIN_ITEMS, EmptyDigest, LinkPreview

MAX_DATA_BYTES = 64
MAX_OFFSET = 10_000
SCREENS = ("main", "times", "zone", "items", "feeds", "empty", "previews", "alerts")

# Digest time presets: button key -> (label, what /settings times would take).
TIME_PRESETS: dict[str, tuple[str, str]] = {
    "d8": ("08:00", "08:00"),
    "d7": ("07:00", "07:00"),
    "d18": ("18:00", "18:00"),
    "d8_18": ("08:00 + 18:00", "08:00 18:00"),
    "d7_12_19": ("07:00, 12:00, 19:00", "07:00 12:00 19:00"),
    "e6": ("every 6 hours", "every 6h from 06:00"),
    "e3": ("every 3 hours", "every 3h from 06:00"),
    "off": ("off", "off"),
}
ITEM_PRESETS = (3, 5, 10, 15, 20, 30)
ZONE_PRESETS = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Tokyo",
)


@dataclass(frozen=True, slots=True)
class SearchMore:
    """The next page of a search: the query inline, or a reference to it kept in memory."""

    offset: int
    query: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class ShowScreen:
    screen: str


@dataclass(frozen=True, slots=True)
class SetTimes:
    preset: str


@dataclass(frozen=True, slots=True)
class SetZone:
    zone: str


@dataclass(frozen=True, slots=True)
class SetItems:
    count: int


@dataclass(frozen=True, slots=True)
class SetEmpty:
    mode: EmptyDigest


@dataclass(frozen=True, slots=True)
class SetPreview:
    mode: LinkPreview


@dataclass(frozen=True, slots=True)
class ToggleFeed:
    """Subscribe or unsubscribe a feed (``is_topic`` False) or a topic, by its name key."""

    is_topic: bool
    key: str


@dataclass(frozen=True, slots=True)
class AllFeeds:
    """Read every feed again."""


@dataclass(frozen=True, slots=True)
class RemoveAlert:
    alert_id: int


@dataclass(frozen=True, slots=True)
class CloseMenu:
    """Remove the keyboard."""


@dataclass(frozen=True, slots=True)
class NextDigest:
    """Send the stories a digest held back, now (the "Next N" button under a digest)."""


ADMIN_ACTIONS = ("remove", "pause", "resume", "status")


@dataclass(frozen=True, slots=True)
class AdminPick:
    """An admin picked a feed for a command (``action`` one of ``ADMIN_ACTIONS``)."""

    action: str
    key: str


@dataclass(frozen=True, slots=True)
class ImportAnswer:
    """Confirm (or cancel) the OPML import kept under ``ref``."""

    confirm: bool
    ref: str


@dataclass(frozen=True, slots=True)
class ChannelMenu:
    """Open a channel's settings from the private chat (``chat_id``: the channel)."""

    chat_id: int


@dataclass(frozen=True, slots=True)
class AddChannel:
    """Start adding a channel: the bot asks for a forwarded post or the channel's name."""


@dataclass(frozen=True, slots=True)
class ResumeChannel:
    """Serve a paused channel again (once the bot may post there)."""

    chat_id: int


Button = (
    SearchMore
    | ShowScreen
    | SetTimes
    | SetZone
    | SetItems
    | SetEmpty
    | SetPreview
    | ToggleFeed
    | AllFeeds
    | RemoveAlert
    | CloseMenu
    | NextDigest
    | AdminPick
    | ImportAnswer
    | ChannelMenu
    | AddChannel
    | ResumeChannel
)


def name_key(name: str) -> str:
    """A short, stable key for a feed or topic name in callback data."""
    return hashlib.sha256(name.casefold().encode("utf-8", "surrogatepass")).hexdigest()[:10]


def encode_button(button: Button) -> str:
    """The callback data of a button; raises ValueError when it would not fit."""
    data = _encode(button)
    if len(data.encode("utf-8")) > MAX_DATA_BYTES:
        raise ValueError(f"callback data over {MAX_DATA_BYTES} bytes: {data!r}")
    return data


def search_more(offset: int, query: str, ref: str) -> str:
    """The "More" button's data: the query inline when it fits, else the memory reference."""
    try:
        return encode_button(SearchMore(offset, query=query))
    except ValueError:
        return encode_button(SearchMore(offset, ref=ref))


def _encode(button: Button) -> str:
    match button:
        case SearchMore(offset=offset, query=query, ref=ref):
            return f"s:{offset}:={query}" if query is not None else f"s:{offset}:#{ref}"
        case ShowScreen(screen=screen):
            return f"st:{screen}"
        case SetTimes(preset=preset):
            return f"tm:{preset}"
        case SetZone(zone=zone):
            return f"tz:{zone}"
        case SetItems(count=count):
            return f"it:{count}"
        case SetEmpty(mode=mode):
            return f"em:{mode.value}"
        case SetPreview(mode=preview):
            return f"pv:{preview.value}"
        case ToggleFeed(is_topic=is_topic, key=key):
            return f"{'tp' if is_topic else 'fd'}:{key}"
        case AllFeeds():
            return "fd:all"
        case RemoveAlert(alert_id=alert_id):
            return f"al:rm:{alert_id}"
        case CloseMenu():
            return "x"
        case NextDigest():
            return MORE_BUTTON_DATA
        case AdminPick(action=action, key=key):
            return f"ad:{action}:{key}"
        case ChannelMenu(chat_id=chat_id):
            return f"ch:{chat_id}"
        case AddChannel():
            return "ch:add"
        case ResumeChannel(chat_id=chat_id):
            return f"ch:rs:{chat_id}"
        case ImportAnswer(confirm=confirm, ref=ref):
            return f"im:{'y' if confirm else 'n'}:{ref}"
    raise TypeError(f"not a button: {button!r}")


_NUMBER = re.compile(r"\d{1,6}")
_KEY = re.compile(r"[0-9a-f]{10}")
_REF = re.compile(r"[0-9a-f]{1,8}")


def parse_button(data: str | None) -> Button | None:
    """What a pressed button means, or None for data no current button carries."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_DATA_BYTES:
        return None
    if data == "x":
        return CloseMenu()
    if data == MORE_BUTTON_DATA:
        return NextDigest()
    kind, _, rest = data.partition(":")
    if kind == "s":
        offset_text, _, query = rest.partition(":")
        if not _NUMBER.fullmatch(offset_text) or int(offset_text) > MAX_OFFSET or not query:
            return None
        if query.startswith("#") and len(query) > 1:
            return SearchMore(int(offset_text), ref=query[1:])
        if query.startswith("=") and len(query) > 1:
            return SearchMore(int(offset_text), query=query[1:])
        return None
    if kind == "st":
        return ShowScreen(rest) if rest in SCREENS else None
    if kind == "tm":
        return SetTimes(rest) if rest in TIME_PRESETS else None
    if kind == "tz":
        return SetZone(rest) if rest in ZONE_PRESETS else None
    if kind == "it":
        ok = _NUMBER.fullmatch(rest) and MIN_ITEMS <= int(rest) <= MAX_ITEMS
        return SetItems(int(rest)) if ok else None
    if kind == "pv":
        return SetPreview(LinkPreview(rest)) if rest in {p.value for p in LinkPreview} else None
    if kind == "em":
        return SetEmpty(EmptyDigest(rest)) if rest in {e.value for e in EmptyDigest} else None
    if kind in ("fd", "tp"):
        if data == "fd:all":
            return AllFeeds()
        return ToggleFeed(kind == "tp", rest) if _KEY.fullmatch(rest) else None
    if kind == "al":
        action, _, number = rest.partition(":")
        return RemoveAlert(int(number)) if action == "rm" and _NUMBER.fullmatch(number) else None
    if kind == "ad":
        action, _, key = rest.partition(":")
        return AdminPick(action, key) if action in ADMIN_ACTIONS and _KEY.fullmatch(key) else None
    if kind == "ch":
        return _channel_button(rest)
    if kind == "im":
        answer, _, ref = rest.partition(":")
        return (
            ImportAnswer(answer == "y", ref)
            if answer in ("y", "n") and _REF.fullmatch(ref)
            else None
        )
    return None


_CHANNEL_ID = re.compile(r"-100\d{1,13}")


def _channel_button(rest: str) -> Button | None:
    if rest == "add":
        return AddChannel()
    if rest.startswith("rs:") and _CHANNEL_ID.fullmatch(rest[3:]):
        return ResumeChannel(int(rest[3:]))
    return ChannelMenu(int(rest)) if _CHANNEL_ID.fullmatch(rest) else None


def for_channel(chat_id: int, data: str) -> str:
    """A settings button's data, bound to a channel edited from a private chat."""
    bound = f"@{chat_id}|{data}"
    if len(bound.encode("utf-8")) > MAX_DATA_BYTES:
        raise ValueError(f"callback data over {MAX_DATA_BYTES} bytes: {bound!r}")
    return bound


def split_channel(data: str | None) -> tuple[int | None, str | None]:
    """(the channel a button is bound to or None, the button's own data)."""
    if not data or not data.startswith("@"):
        return None, data
    chat, _, rest = data[1:].partition("|")
    return (int(chat), rest) if _CHANNEL_ID.fullmatch(chat) and rest else (None, None)
