"""When each chat's digests are due, DST-correct, and a queue of many chats' next due times.

Pure: ``now`` and ``after`` are passed in, timezone-aware; every instant returned is in UTC.
One periodic job pops the chats that are due (``due_chats``) instead of one scheduler job
per chat.

The wall-time rules, for a chat's local time T on a local day D:
- T happens once on D: it fires then.
- T happens twice (clocks set back): it fires once, at the first occurrence (fold=0).
- T does not exist (clocks set forward over it): it fires once, at the first instant after
  the gap, when the local clock shows the gap's end (02:30 in Berlin on the spring-forward
  Sunday fires at 03:00 CEST). Two times in one gap share that instant and fire once.
"Every N hours" counts real elapsed hours from its anchor, so it is immune to DST; its local
clock times move by the change.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.delivery.prefs import ChatPrefs, DailyTimes, EveryHours
from bot.delivery.target import Target

_COMPACT_MIN_STALE = 64
K = TypeVar("K", bound=Hashable)


def resolve_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant the wall time ``at`` on ``day`` in ``zone`` stands for (rules above)."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    if _wall(first, zone) == naive and _wall(second, zone) == naive:
        return min(first, second)  # happens twice: the first occurrence
    return _transition_between(min(first, second), max(first, second), zone)


def next_due(prefs: ChatPrefs, after: datetime) -> datetime | None:
    """The chat's next digest time strictly after ``after``; None when it gets no digests."""
    _require_aware(after)
    if not prefs.active:
        return None
    schedule = prefs.schedule
    if isinstance(schedule, DailyTimes):
        return _next_daily(schedule.times, prefs.zone, after)
    if isinstance(schedule, EveryHours):
        anchor = resolve_local(schedule.anchor.date(), schedule.anchor.time(), prefs.zone)
        period = timedelta(hours=schedule.hours)
        return anchor + ((after - anchor) // period + 1) * period
    return None


def initial_due(
    prefs: ChatPrefs, last_digest_at: datetime | None, now: datetime
) -> datetime | None:
    """When a chat is due as the bot starts: its first slot since its last digest.

    That slot is at or before ``now`` when digests were missed (the bot was down): the chat is
    due once, now, however many slots it missed; otherwise it is the next slot. A slot before
    the chat chose its current preferences (``prefs.updated``) is not missed.
    """
    _require_aware(now)
    since = prefs.updated if last_digest_at is None else max(last_digest_at, prefs.updated)
    return next_due(prefs, min(since, now))


def catch_up(prefs: ChatPrefs, last_digest_at: datetime | None, now: datetime) -> bool:
    """Whether the chat missed a digest since ``last_digest_at`` and is owed one now."""
    due = initial_due(prefs, last_digest_at, now)
    return due is not None and due <= now


@dataclass(frozen=True, slots=True)
class Due(Generic[K]):
    """A subscriber due for its digest: ``slot`` is the scheduled time it is for (at or
    before now)."""

    target: K
    slot: datetime


class DueQueue(Generic[K]):
    """Each chat's next due time, earliest first, for many thousands of chats.

    A binary heap with lazy invalidation: ``put`` pushes a new entry under a fresh version and
    the chat's older entries become stale, skipped when they surface. ``put`` and ``discard``
    cost O(log n); ``pop_due`` O(log n) per chat popped or stale entry skipped; stale entries
    are dropped in one O(n) rebuild once they outnumber the live ones, so every operation is
    O(log n) amortised and memory stays O(n). Not thread-safe; no I/O.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, K]] = []  # (due, version, key): keys never compared
        self._live: dict[K, tuple[datetime, int]] = {}  # key -> (due, version)
        self._version = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self._live

    def due_at(self, chat_id: K) -> datetime | None:
        """When the chat is due, or None when it is not in the queue."""
        entry = self._live.get(chat_id)
        return entry[0] if entry else None

    def put(self, chat_id: K, due: datetime | None) -> None:
        """Set the chat's next due time, replacing any earlier one; None takes it out."""
        if due is None:
            self.discard(chat_id)
            return
        _require_aware(due)
        due = due.astimezone(UTC)
        current = self._live.get(chat_id)
        if current is not None and current[0] == due:
            return
        self._version += 1
        self._live[chat_id] = (due, self._version)
        heapq.heappush(self._heap, (due, self._version, chat_id))
        self._compact_if_stale()

    def discard(self, chat_id: K) -> None:
        """Take the chat out of the queue (unsubscribed, digests off); absent chats are fine."""
        if self._live.pop(chat_id, None) is not None:
            self._compact_if_stale()

    def peek(self) -> datetime | None:
        """The earliest due time in the queue, or None when it is empty."""
        self._drop_stale_head()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: datetime) -> list[Due[K]]:
        """Take out every chat due at or before ``now``, earliest first, each once."""
        _require_aware(now)
        popped: list[Due[K]] = []
        while True:
            self._drop_stale_head()
            if not self._heap or self._heap[0][0] > now:
                return popped
            due, _, chat_id = heapq.heappop(self._heap)
            del self._live[chat_id]
            popped.append(Due(chat_id, due))

    def _drop_stale_head(self) -> None:
        while self._heap and not self._is_live(self._heap[0]):
            heapq.heappop(self._heap)

    def _is_live(self, entry: tuple[datetime, int, K]) -> bool:
        live = self._live.get(entry[2])
        return live is not None and live[1] == entry[1]

    def _compact_if_stale(self) -> None:
        stale = len(self._heap) - len(self._live)
        if stale > max(_COMPACT_MIN_STALE, len(self._live)):
            self._heap = [(due, v, chat_id) for chat_id, (due, v) in self._live.items()]
            heapq.heapify(self._heap)


def build_queue(
    chats: Iterable[tuple[ChatPrefs, datetime | None]], now: datetime
) -> DueQueue[Target]:
    """The queue at start: each subscriber with its last digest time, due by ``initial_due``."""
    queue: DueQueue[Target] = DueQueue()
    for prefs, last_digest_at in chats:
        queue.put(prefs.target, initial_due(prefs, last_digest_at, now))
    return queue


def due_chats(
    queue: DueQueue[K], prefs_by_chat: Mapping[K, ChatPrefs], now: datetime
) -> list[Due[K]]:
    """Pop the chats due at ``now`` and put each back at its next slot after now.

    A chat that missed several slots comes out once. A chat no longer in ``prefs_by_chat``,
    stopped, or with digests off leaves the queue and is not returned. The caller sends the
    digests and records them (the record is what ``initial_due`` reads after a restart).
    """
    due: list[Due[K]] = []
    for item in queue.pop_due(now):
        prefs = prefs_by_chat.get(item.target)
        following = None if prefs is None else next_due(prefs, max(item.slot, now))
        if following is not None:
            queue.put(item.target, following)
            due.append(item)
    return due


def _next_daily(times: tuple[time, ...], zone: ZoneInfo, after: datetime) -> datetime:
    local_day = after.astimezone(zone).date()
    # The day before covers a time pushed past midnight by a gap; two days on, a skipped day.
    candidates = (
        resolve_local(local_day + timedelta(days=offset), at, zone)
        for offset in range(-1, 3)
        for at in times
    )
    return min(instant for instant in candidates if instant > after)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _transition_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (before, after] whose UTC offset differs from ``before``'s."""
    offset = before.astimezone(zone).utcoffset()
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if (before + timedelta(seconds=middle)).astimezone(zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return before + timedelta(seconds=high)


def _require_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
