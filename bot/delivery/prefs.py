"""A subscriber's preferences: when digests come, in which time zone, how many items, from which
feeds. A subscriber is a ``Target`` (bot.delivery.target): a chat, or one forum topic of it.

Longer than ~300 lines: the values, their parsing from chat text and their stored form.

Pure: values in, values out. Chat input is parsed here into values or a PrefsError whose
message can be shown to the chat user as it is (it may quote what they typed: escape it for
HTML). The store keeps preferences as plain JSON-ready dicts (``prefs_to_dict`` and
``prefs_from_dict``).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.delivery.target import Target, as_target
from bot.errors import ConfigError, PrefsError, StoreError
from bot.timeofday import TIMES_USAGE, normalise_times, parse_time, parse_time_word
from bot.timezones import UTC_NAME, parse_timezone, zone_names

MIN_ITEMS, MAX_ITEMS = 1, 50
MIN_LEAD_SENTENCES, MAX_LEAD_SENTENCES = 1, 2
MAX_TIMES_PER_DAY = 24
MAX_EVERY_H = 24
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class DailyTimes:
    """A digest at each of these local wall times every day (whole minutes, sorted, distinct)."""

    times: tuple[time, ...]

    def __post_init__(self) -> None:
        times = tuple(sorted(set(self.times)))
        if not times or len(times) > MAX_TIMES_PER_DAY:
            raise ValueError(f"a daily schedule has 1 to {MAX_TIMES_PER_DAY} times, got {times}")
        if any(t.tzinfo is not None or t.second or t.microsecond or t.fold for t in times):
            raise ValueError(f"daily times are naive wall times in whole minutes, got {times}")
        object.__setattr__(self, "times", times)


@dataclass(frozen=True, slots=True)
class EveryHours:
    """A digest every ``hours`` real hours, counted from ``anchor`` (a naive local wall time).

    Across a DST change the count goes on in elapsed hours, so the local clock times shift
    by the change: "every 6h from 08:00" set in winter fires at 09:00 in summer.
    """

    hours: int
    anchor: datetime

    def __post_init__(self) -> None:
        if not 1 <= self.hours <= MAX_EVERY_H:
            raise ValueError(f"every-hours runs from 1 to {MAX_EVERY_H}, got {self.hours}")
        a = self.anchor
        if a.tzinfo is not None or a.second or a.microsecond or a.fold:
            raise ValueError(f"the anchor is a naive wall time in whole minutes, got {a!r}")


@dataclass(frozen=True, slots=True)
class DigestsOff:
    """No scheduled digests (``/digest`` still works)."""


Schedule = DailyTimes | EveryHours | DigestsOff


class EmptyDigest(enum.StrEnum):
    """What a scheduled digest with nothing new does."""

    NOTICE = "notice"  # a one-line "nothing new"
    SILENT = "silent"


class LinkPreview(enum.StrEnum):
    """Whether a digest message previews its top story's link, and where."""

    BELOW = "below"  # a large preview under the text
    ABOVE = "above"  # a large preview over the text
    OFF = "off"  # no preview


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatPrefs:
    """One subscriber's preferences. Empty ``feeds`` and ``topics`` mean every feed; times are UTC.

    ``thread_id``: the forum topic subscribed (0: the chat itself). A channel
    (``is_channel``) is managed from the private chats of its ``managers`` (user ids);
    ``title`` and ``username`` name a channel or topic to people. ``paused``: why the bot
    stopped serving it on its own (removed, no right to post, topic closed); empty when it
    is active or its users sent /stop.
    """

    chat_id: int
    active: bool
    time_zone: str
    schedule: Schedule
    items_per_digest: int
    feeds: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    empty_digest: EmptyDigest = EmptyDigest.NOTICE
    lead_sentences: int = MAX_LEAD_SENTENCES
    thread_id: int = 0
    is_channel: bool = False
    title: str = ""
    username: str = ""
    managers: tuple[int, ...] = ()
    paused: str = ""
    link_preview: LinkPreview = LinkPreview.BELOW
    created: datetime
    updated: datetime

    def __post_init__(self) -> None:
        if self.time_zone not in zone_names():
            raise ValueError(f"unknown time zone {self.time_zone!r}")
        _check_range("items per digest", self.items_per_digest, MIN_ITEMS, MAX_ITEMS)
        _check_range("lead sentences", self.lead_sentences, MIN_LEAD_SENTENCES, MAX_LEAD_SENTENCES)
        for name in ("created", "updated"):
            moment: datetime = getattr(self, name)
            if moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
            object.__setattr__(self, name, moment.astimezone(UTC))
        object.__setattr__(self, "feeds", _names(self.feeds))
        object.__setattr__(self, "topics", _names(self.topics))
        object.__setattr__(self, "empty_digest", EmptyDigest(self.empty_digest))
        object.__setattr__(self, "link_preview", LinkPreview(self.link_preview))

    @property
    def target(self) -> Target:
        """Where its digests go."""
        return Target(self.chat_id, self.thread_id)

    @property
    def zone(self) -> ZoneInfo:
        """The chat's time zone."""
        return ZoneInfo(self.time_zone)

    @property
    def is_all_feeds(self) -> bool:
        """Whether the chat reads every feed (it picked neither feeds nor topics)."""
        return not self.feeds and not self.topics

    def changed(self, now: datetime, **changes: Any) -> ChatPrefs:
        """A copy with ``changes`` applied and ``updated`` set to ``now``."""
        return dataclasses.replace(self, updated=now, **changes)


@dataclass(frozen=True, slots=True)
class PrefsDefaults:
    """What ``/start`` gives a new chat, from settings."""

    time_zone: str = UTC_NAME
    schedule: Schedule = DailyTimes((time(8, 0),))
    items_per_digest: int = 10
    lead_sentences: int = MAX_LEAD_SENTENCES
    empty_digest: EmptyDigest = EmptyDigest.NOTICE


def defaults_from_settings(
    *, time_zone: str, digest_times: Sequence[str], items_per_digest: int
) -> PrefsDefaults:
    """Defaults from settings values (no times = digests off); raises ConfigError when invalid."""
    try:
        zone = parse_timezone(time_zone)
        times = tuple(parse_time(text) for text in digest_times)
        schedule: Schedule = DailyTimes(times) if times else DigestsOff()
        items = parse_items(str(items_per_digest))
    except (PrefsError, ValueError) as exc:
        raise ConfigError(f"invalid chat defaults in settings: {exc}") from None
    return PrefsDefaults(time_zone=zone, schedule=schedule, items_per_digest=items)


def new_chat_prefs(
    where: Target | int, now: datetime, defaults: PrefsDefaults, **extra: Any
) -> ChatPrefs:
    """The preferences of a chat (or topic, or channel) that has just subscribed; ``extra``
    sets the other fields (``is_channel``, ``title``, ...)."""
    target = as_target(where)
    return ChatPrefs(
        chat_id=target.chat_id,
        thread_id=target.thread_id,
        active=True,
        time_zone=defaults.time_zone,
        schedule=defaults.schedule,
        items_per_digest=defaults.items_per_digest,
        lead_sentences=defaults.lead_sentences,
        empty_digest=defaults.empty_digest,
        created=now,
        updated=now,
        **extra,
    )


# -- chat input -------------------------------------------------------------------------------


def parse_schedule(text: str, *, time_zone: str, now: datetime) -> Schedule:
    """The digest schedule a chat user asks for: times, "every N hours [from HH:MM]" or "off".

    An every-hours schedule is anchored on the chat's local date at ``now``, at 00:00 unless
    a start time is given.
    """
    words = normalise_times(text)
    if not words:
        raise PrefsError(f"When should digests come? {TIMES_USAGE}")
    if words in {"off", "none", "never", "no", "stop", "disable", "disabled"}:
        return DigestsOff()
    every = re.fullmatch(
        r"every\s*(\d{1,3})?\s*(?:h|hr|hrs|hour|hours)(?:\s+(?:from|at|starting(?:\s+at)?)"
        r"\s+(\S+))?",
        words,
    )
    if every:
        hours = int(every.group(1) or 1)
        if not 1 <= hours <= MAX_EVERY_H:
            raise PrefsError(f"“every N hours” takes N from 1 to {MAX_EVERY_H}.")
        start = parse_time_word(every.group(2)) if every.group(2) else time(0, 0)
        today = now.astimezone(ZoneInfo(time_zone)).date()
        return EveryHours(hours, datetime.combine(today, start))
    if words.startswith("every"):
        raise PrefsError(f"I can repeat digests every N hours only. {TIMES_USAGE}")
    tokens = [t for t in re.split(r"[\s,;]+", words) if t and t != "and"]
    if not tokens:
        raise PrefsError(f"When should digests come? {TIMES_USAGE}")
    times = {parse_time_word(token) for token in tokens}
    if len(times) > MAX_TIMES_PER_DAY:
        raise PrefsError(f"At most {MAX_TIMES_PER_DAY} digests a day, please.")
    return DailyTimes(tuple(times))


def parse_items(text: str) -> int:
    """How many items a digest holds (a whole number from 1 to 50)."""
    return _parse_count(text, "Items per digest", MIN_ITEMS, MAX_ITEMS)


def parse_lead_sentences(text: str) -> int:
    """How many lead sentences each item shows (1 or 2)."""
    return _parse_count(text, "Lead sentences", MIN_LEAD_SENTENCES, MAX_LEAD_SENTENCES)


def describe_schedule(schedule: Schedule) -> str:
    """How a schedule reads in a chat: "daily at 08:00 and 18:30", "every 6 hours from 08:00"."""
    if isinstance(schedule, DailyTimes):
        shown = [t.strftime("%H:%M") for t in schedule.times]
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
        return f"daily at {listed}"
    if isinstance(schedule, EveryHours):
        unit = "hour" if schedule.hours == 1 else f"{schedule.hours} hours"
        return f"every {unit} from {schedule.anchor.strftime('%H:%M')}"
    return "off"


def _parse_count(text: str, what: str, low: int, high: int) -> int:
    words = text.strip()
    if not re.fullmatch(r"\d{1,3}", words) or not low <= int(words) <= high:
        raise PrefsError(f"{what}: send a whole number from {low} to {high}.")
    return int(words)


def _check_range(what: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} runs from {low} to {high}, got {value!r}")


def _names(values: Iterable[str]) -> tuple[str, ...]:
    names = tuple(sorted(set(values)))
    if any(not isinstance(name, str) or not name for name in names):
        raise ValueError(f"feed and topic names are non-empty strings, got {names!r}")
    return names


def reads(prefs: ChatPrefs, feed: str, topic: str | None) -> bool:
    """Whether the chat reads articles of this feed (with this topic)."""
    return (
        prefs.is_all_feeds or feed in prefs.feeds or (topic is not None and topic in prefs.topics)
    )


# -- the store's shape ------------------------------------------------------------------------


def prefs_to_dict(prefs: ChatPrefs) -> dict[str, Any]:
    """A JSON-ready dict of ``prefs`` for the store."""
    return {
        "chat_id": prefs.chat_id,
        "active": prefs.active,
        "time_zone": prefs.time_zone,
        "schedule": _schedule_to_dict(prefs.schedule),
        "items_per_digest": prefs.items_per_digest,
        "feeds": list(prefs.feeds),
        "topics": list(prefs.topics),
        "empty_digest": prefs.empty_digest.value,
        "lead_sentences": prefs.lead_sentences,
        "link_preview": prefs.link_preview.value,
        "created": prefs.created.isoformat(),
        "updated": prefs.updated.isoformat(),
        "thread_id": prefs.thread_id,
        "is_channel": prefs.is_channel,
        "title": prefs.title,
        "username": prefs.username,
        "managers": list(prefs.managers),
        "paused": prefs.paused,
    }


def prefs_from_dict(data: dict[str, Any]) -> ChatPrefs:
    """The preferences a store dict holds; raises StoreError when it is malformed."""
    try:
        return ChatPrefs(
            chat_id=_typed(data["chat_id"], int),
            active=_typed(data["active"], bool),
            time_zone=_typed(data["time_zone"], str),
            schedule=_schedule_from_dict(data["schedule"]),
            items_per_digest=_typed(data["items_per_digest"], int),
            feeds=tuple(_typed(data["feeds"], list)),
            topics=tuple(_typed(data["topics"], list)),
            empty_digest=EmptyDigest(data["empty_digest"]),
            lead_sentences=_typed(data["lead_sentences"], int),
            link_preview=LinkPreview(data.get("link_preview", LinkPreview.BELOW.value)),
            created=datetime.fromisoformat(_typed(data["created"], str)),
            updated=datetime.fromisoformat(_typed(data["updated"], str)),
            thread_id=_typed(data.get("thread_id", 0), int),
            is_channel=_typed(data.get("is_channel", False), bool),
            title=_typed(data.get("title", ""), str),
            username=_typed(data.get("username", ""), str),
            managers=tuple(_typed(m, int) for m in _typed(data.get("managers", []), list)),
            paused=_typed(data.get("paused", ""), str),
        )
    except (KeyError, TypeError, ValueError) as exc:
        chat = data.get("chat_id") if isinstance(data, dict) else None
        raise StoreError(f"stored preferences of chat {chat!r} are malformed: {exc!r}") from None


def _schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    if isinstance(schedule, DailyTimes):
        return {"kind": "daily", "times": [t.strftime("%H:%M") for t in schedule.times]}
    if isinstance(schedule, EveryHours):
        anchor = schedule.anchor.isoformat(timespec="minutes")
        return {"kind": "every", "hours": schedule.hours, "anchor": anchor}
    return {"kind": "off"}


def _schedule_from_dict(data: dict[str, Any]) -> Schedule:
    kind = data["kind"]
    if kind == "daily":
        times = tuple(time.fromisoformat(_typed(t, str)) for t in _typed(data["times"], list))
        return DailyTimes(times)
    if kind == "every":
        anchor = datetime.fromisoformat(_typed(data["anchor"], str))
        return EveryHours(_typed(data["hours"], int), anchor)
    if kind == "off":
        return DigestsOff()
    raise ValueError(f"unknown schedule kind {kind!r}")


def _typed(value: Any, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value
