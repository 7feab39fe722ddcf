"""Digest schedules: local times in each chat's zone across DST, missed digests, the due queue."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.delivery.prefs import ChatPrefs, DailyTimes, DigestsOff, EveryHours, Schedule
from bot.delivery.schedule import (
    Due,
    DueQueue,
    build_queue,
    catch_up,
    due_chats,
    initial_due,
    next_due,
    resolve_local,
)

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Karachi",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Apia",
    "America/Sao_Paulo",
]
START = datetime(2026, 1, 1, tzinfo=UTC)


def _prefs(schedule: Schedule, zone: str = "UTC", **changes: Any) -> ChatPrefs:
    values: dict[str, Any] = {
        "chat_id": 7,
        "active": True,
        "time_zone": zone,
        "schedule": schedule,
        "items_per_digest": 10,
        "created": datetime(2000, 1, 1, tzinfo=UTC),
        "updated": datetime(2000, 1, 1, tzinfo=UTC),
    }
    return ChatPrefs(**{**values, **changes})


def _daily(*times: str) -> DailyTimes:
    return DailyTimes(tuple(time.fromisoformat(t) for t in times))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _fires(prefs: ChatPrefs, start: datetime, end: datetime) -> list[datetime]:
    fires: list[datetime] = []
    moment = next_due(prefs, start)
    while moment is not None and moment <= end:
        fires.append(moment)
        moment = next_due(prefs, moment)
    return fires


def _expected_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The rule worked out independently of the code: try every offset the zone uses that
    week; the earliest instant that shows the wall time wins; a wall time no instant shows
    fires at the first instant whose wall clock has passed it."""
    wall = datetime.combine(day, at)
    probes = [(wall - timedelta(hours=h)).replace(tzinfo=UTC) for h in range(-48, 49, 6)]
    offsets = {probe.astimezone(zone).utcoffset() for probe in probes}
    shown = [
        instant
        for offset in offsets
        if offset is not None
        for instant in [(wall - offset).replace(tzinfo=UTC)]
        if instant.astimezone(zone).replace(tzinfo=None) == wall
    ]
    if shown:
        return min(shown)
    instant = (wall - max(o for o in offsets if o is not None)).replace(tzinfo=UTC)
    while instant.astimezone(zone).replace(tzinfo=None) < wall:
        instant += timedelta(minutes=1)
    while (instant - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None) > wall:
        instant -= timedelta(seconds=1)
    return instant


# -- wall times across DST ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "at", "fires_at"),
    [
        # Ordinary days, offsets of whole, half and three-quarter hours.
        ("Asia/Karachi", "2026-07-01", "08:00", "2026-07-01T03:00Z"),
        ("Asia/Kathmandu", "2026-01-01", "08:00", "2026-01-01T02:15Z"),
        ("Europe/Berlin", "2026-01-15", "08:00", "2026-01-15T07:00Z"),
        ("Europe/Berlin", "2026-07-15", "08:00", "2026-07-15T06:00Z"),
        # Spring forward: a time in the gap fires when the clock shows the gap's end.
        ("Europe/Berlin", "2026-03-29", "02:30", "2026-03-29T01:00Z"),
        ("Europe/Berlin", "2026-03-29", "02:00", "2026-03-29T01:00Z"),
        ("Europe/Berlin", "2026-03-29", "03:00", "2026-03-29T01:00Z"),
        ("America/New_York", "2026-03-08", "02:30", "2026-03-08T07:00Z"),
        ("Australia/Lord_Howe", "2026-10-04", "02:15", "2026-10-03T15:30Z"),
        ("Pacific/Chatham", "2026-09-27", "02:50", "2026-09-26T14:00Z"),
        # Fall back: a time that happens twice fires at its first occurrence.
        ("Europe/Berlin", "2026-10-25", "02:30", "2026-10-25T00:30Z"),
        ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30Z"),
        ("Australia/Lord_Howe", "2026-04-05", "01:45", "2026-04-04T14:45Z"),
        # Samoa skipped 30 December 2011: its times fire as the 31st begins.
        ("Pacific/Apia", "2011-12-30", "08:00", "2011-12-30T10:00Z"),
        ("Pacific/Apia", "2011-12-31", "08:00", "2011-12-30T18:00Z"),
    ],
)
def test_local_time_fires_at_the_right_instant(zone: str, day: str, at: str, fires_at: str) -> None:
    """A chat's local digest time lands on the instant the DST rules give, once."""
    prefs = _prefs(_daily(at), zone)
    local_day = date.fromisoformat(day)
    expected = _utc(fires_at.replace("Z", "+00:00"))
    assert resolve_local(local_day, time.fromisoformat(at), ZoneInfo(zone)) == expected
    assert next_due(prefs, expected - timedelta(hours=1)) == expected
    assert next_due(prefs, expected - timedelta(microseconds=1)) == expected


@pytest.mark.parametrize(
    ("zone", "day", "at"),
    [
        ("Europe/Berlin", "2026-10-25", "02:30"),
        ("America/New_York", "2026-11-01", "01:30"),
        ("Australia/Lord_Howe", "2026-04-05", "01:45"),
    ],
)
def test_time_repeated_by_fall_back_fires_once(zone: str, day: str, at: str) -> None:
    """On the night clocks go back, a digest time that happens twice brings one digest."""
    prefs = _prefs(_daily(at), zone)
    midnight = datetime.combine(date.fromisoformat(day), time(0), ZoneInfo(zone))
    fires = _fires(
        prefs, midnight.astimezone(UTC), (midnight + timedelta(hours=23)).astimezone(UTC)
    )
    assert len(fires) == 1
    assert fires[0].astimezone(ZoneInfo(zone)).fold == 0


def test_times_sharing_a_gap_bring_one_digest() -> None:
    """02:15 and 02:45 both skipped by spring-forward fire together at 03:00, as one digest."""
    prefs = _prefs(_daily("02:15", "02:45", "09:00"), "Europe/Berlin")
    fires = _fires(prefs, _utc("2026-03-28T23:00+00:00"), _utc("2026-03-29T21:59+00:00"))
    assert fires == [_utc("2026-03-29T03:00+02:00"), _utc("2026-03-29T09:00+02:00")]


def test_every_n_hours_counts_real_hours_across_dst() -> None:
    """ "every 6h from 08:00" keeps six real hours between digests when the clocks change."""
    prefs = _prefs(EveryHours(6, datetime(2026, 3, 28, 8, 0)), "Europe/Berlin")
    fires = _fires(prefs, _utc("2026-03-28T06:00+00:00"), _utc("2026-03-30T00:00+00:00"))
    gaps = {later - earlier for earlier, later in itertools.pairwise(fires)}
    assert gaps == {timedelta(hours=6)}
    local = [f.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d %H:%M") for f in fires]
    assert local == ["28 08:00", "28 14:00", "28 20:00", "29 03:00", "29 09:00", "29 15:00",
                     "29 21:00"]  # fmt: skip


def test_every_n_hours_also_fires_before_its_anchor() -> None:
    """The anchor fixes the rhythm, not a start: times before it follow the same rhythm."""
    prefs = _prefs(EveryHours(5, datetime(2026, 6, 1, 12, 0)), "Asia/Karachi")
    # 12:00 PKT on 1 June is 07:00 UTC; 30 hours (six periods) earlier is 01:00 UTC on 31 May.
    assert next_due(prefs, _utc("2026-05-31T00:00+00:00")) == _utc("2026-05-31T01:00+00:00")


@pytest.mark.parametrize(
    "prefs",
    [
        _prefs(DigestsOff()),
        _prefs(_daily("08:00"), active=False),
        _prefs(EveryHours(2, datetime(2026, 1, 1)), active=False),
    ],
)
def test_chats_without_digests_are_never_due(prefs: ChatPrefs) -> None:
    """Digests off, or the chat stopped: no next digest time."""
    assert next_due(prefs, START) is None
    assert not catch_up(prefs, None, START)


def test_naive_times_are_refused() -> None:
    """The schedule only works with aware instants; a naive one is a programming error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        next_due(_prefs(_daily("08:00")), datetime(2026, 1, 1))  # naive on purpose


@pytest.mark.parametrize("zone", ZONES)
def test_a_year_brings_one_digest_per_time_per_day(zone: str) -> None:
    """Over 2026 each configured time fires exactly once each local day, DST days included."""
    times = ("01:30", "02:30", "08:00", "23:45")
    _assert_one_fire_per_time_per_day(zone, 2026, tuple(time.fromisoformat(t) for t in times))


def _assert_one_fire_per_time_per_day(zone_name: str, year: int, times: tuple[time, ...]) -> None:
    zone = ZoneInfo(zone_name)
    prefs = _prefs(DailyTimes(times), zone_name)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year, 12, 31, 12, tzinfo=zone).astimezone(UTC)
    fires = _fires(prefs, start, end)
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(-1, 367)]
    expected = {_expected_instant(day, at, zone) for day in days for at in times}
    assert fires == sorted(instant for instant in expected if start < instant <= end)
    assert len(fires) == len(set(fires))
    assert len(fires) >= 360 * len(times)  # the oracle itself covered the whole year


_wall_times = st.one_of(
    st.sampled_from([time(h, m) for h in (0, 1, 2, 3, 23) for m in (0, 15, 30, 45, 59)]),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)


@settings(max_examples=15, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    year=st.integers(2015, 2035),
    times=st.lists(_wall_times, min_size=1, max_size=3, unique=True),
)
def test_any_year_brings_one_digest_per_time_per_day(
    zone: str, year: int, times: list[time]
) -> None:
    """For any times and year, iterating next_due fires once per time per local day."""
    _assert_one_fire_per_time_per_day(zone, year, tuple(sorted(times)))


# Instants near the 2026 transitions of each zone (and some anywhere), to probe DST edges.
_TRANSITIONS = {
    "Europe/Berlin": ["2026-03-29T01:00Z", "2026-10-25T01:00Z"],
    "America/New_York": ["2026-03-08T07:00Z", "2026-11-01T06:00Z"],
    "Australia/Lord_Howe": ["2026-04-04T15:00Z", "2026-10-03T15:30Z"],
    "Pacific/Chatham": ["2026-04-04T14:00Z", "2026-09-26T14:00Z"],
    "Pacific/Apia": ["2011-12-30T10:00Z"],
    "Asia/Karachi": ["2026-06-01T00:00Z"],
    "Asia/Kathmandu": ["1986-01-01T00:00Z"],
}


@st.composite
def _zone_and_after(draw: st.DrawFn) -> tuple[str, datetime]:
    zone = draw(st.sampled_from(sorted(_TRANSITIONS)))
    near = _utc(draw(st.sampled_from(_TRANSITIONS[zone])).replace("Z", "+00:00"))
    shift = draw(st.one_of(st.integers(-86400 * 2, 86400 * 2), st.integers(-7200, 7200)))
    anywhere = draw(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)))
    after = near + timedelta(seconds=shift) if draw(st.booleans()) else anywhere.replace(tzinfo=UTC)
    return zone, after


@given(_zone_and_after(), st.lists(_wall_times, min_size=1, max_size=4, unique=True))
def test_next_due_is_the_first_local_time_after(
    zone_and_after: tuple[str, datetime], times: list[time]
) -> None:
    """next_due is later than ``after``, shows a chosen wall time (first occurrence) or ends a
    DST gap that swallowed one, and no chosen time comes between."""
    zone_name, after = zone_and_after
    zone = ZoneInfo(zone_name)
    due = next_due(_prefs(DailyTimes(tuple(times)), zone_name), after)
    assert due is not None
    assert due > after
    local = due.astimezone(zone)
    if local.time() in times:
        assert local.fold == 0
    else:
        before_gap = (due - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None)
        assert (due - timedelta(seconds=1)).astimezone(zone).utcoffset() != local.utcoffset()
        swallowed = [
            at
            for day in (local.date() - timedelta(days=1), local.date())
            for at in times
            if before_gap < datetime.combine(day, at) < local.replace(tzinfo=None)
        ]
        assert swallowed
    around = after.astimezone(zone).date()
    candidates = [
        _expected_instant(around + timedelta(days=n), at, zone)
        for n in range(-1, 3)
        for at in times
    ]
    assert due == min(c for c in candidates if c > after)


@given(
    hours=st.integers(1, 24),
    anchor=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    after=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    zone=st.sampled_from(ZONES),
)
def test_every_n_hours_keeps_its_rhythm(
    hours: int, anchor: datetime, after: datetime, zone: str
) -> None:
    """Every-N-hours digests fall a whole number of N real hours from the anchor, within N
    hours after ``after``."""
    anchor = anchor.replace(second=0, microsecond=0, fold=0)
    prefs = _prefs(EveryHours(hours, anchor), zone)
    after = after.replace(tzinfo=UTC)
    due = next_due(prefs, after)
    assert due is not None
    assert after < due <= after + timedelta(hours=hours)
    anchor_instant = resolve_local(anchor.date(), anchor.time(), ZoneInfo(zone))
    assert (due - anchor_instant) % timedelta(hours=hours) == timedelta(0)


# -- missed digests ----------------------------------------------------------------------------


def test_digests_missed_while_down_come_once_then_the_schedule_resumes() -> None:
    """Two days down: the chat is due once at start, then at its next normal slot."""
    prefs = _prefs(_daily("08:00", "18:30"), "Asia/Karachi")
    last = _utc("2026-03-01T08:00:05+05:00")
    now = _utc("2026-03-03T12:00:00+05:00")
    assert catch_up(prefs, last, now)
    queue = build_queue([(prefs, last)], now)
    assert due_chats(queue, {prefs.target: prefs}, now) == [
        Due(prefs.target, _utc("2026-03-01T18:30+05:00"))
    ]
    assert due_chats(queue, {prefs.target: prefs}, now + timedelta(minutes=5)) == []
    assert queue.due_at(prefs.target) == _utc("2026-03-03T18:30+05:00")


def test_no_catch_up_when_nothing_was_missed() -> None:
    """A restart between two slots owes the chat nothing; it waits for its next slot."""
    prefs = _prefs(_daily("08:00"), "Europe/Berlin")
    last = _utc("2026-03-02T08:00:10+01:00")
    now = _utc("2026-03-02T20:00+01:00")
    assert not catch_up(prefs, last, now)
    assert initial_due(prefs, last, now) == _utc("2026-03-03T08:00+01:00")


def test_new_chat_is_owed_only_slots_after_it_subscribed() -> None:
    """A chat that never had a digest is owed one only for a slot after its /start."""
    subscribed = _utc("2026-03-02T09:00+00:00")
    prefs = _prefs(_daily("08:00"), created=subscribed, updated=subscribed)
    assert not catch_up(prefs, None, _utc("2026-03-03T07:00+00:00"))
    assert catch_up(prefs, None, _utc("2026-03-03T09:00+00:00"))


def test_slots_before_the_current_preferences_are_not_missed() -> None:
    """A chat that re-subscribed after a week away is not owed the week's digests."""
    back = _utc("2026-03-10T09:00+00:00")
    prefs = _prefs(_daily("08:00"), updated=back)
    assert not catch_up(prefs, _utc("2026-03-02T08:00+00:00"), back + timedelta(hours=1))


def test_a_clock_set_back_does_not_skip_a_digest() -> None:
    """A last digest recorded in the future (clock moved back) does not push the next away."""
    prefs = _prefs(_daily("08:00"))
    now = _utc("2026-03-02T07:00+00:00")
    assert initial_due(prefs, now + timedelta(days=3), now) == _utc("2026-03-02T08:00+00:00")


# -- the due queue -----------------------------------------------------------------------------


def test_queue_pops_due_chats_earliest_first_and_leaves_the_rest() -> None:
    """Only chats due by now come out, in due order, each once."""
    queue: DueQueue[int] = DueQueue()
    queue.put(1, START + timedelta(minutes=3))
    queue.put(2, START + timedelta(minutes=1))
    queue.put(3, START + timedelta(hours=1))
    assert queue.pop_due(START + timedelta(minutes=5)) == [
        Due(2, START + timedelta(minutes=1)),
        Due(1, START + timedelta(minutes=3)),
    ]
    assert len(queue) == 1
    assert queue.peek() == START + timedelta(hours=1)


def test_changed_settings_replace_the_old_due_time() -> None:
    """A chat that changes its schedule is due at the new time only, never also the old one."""
    queue: DueQueue[int] = DueQueue()
    queue.put(1, START + timedelta(hours=1))
    queue.put(1, START + timedelta(hours=5))
    assert queue.pop_due(START + timedelta(hours=2)) == []
    queue.put(1, None)
    assert queue.pop_due(START + timedelta(days=1)) == []
    assert 1 not in queue


def test_many_reschedules_still_give_each_chat_once() -> None:
    """After thousands of changes each chat comes out once, at its latest due time."""
    queue: DueQueue[int] = DueQueue()
    for round_ in range(500):
        for chat in range(20):
            queue.put(chat, START + timedelta(minutes=round_ + chat))
    for chat in range(0, 20, 2):
        queue.discard(chat)
    popped = queue.pop_due(START + timedelta(days=1))
    assert popped == [Due(chat, START + timedelta(minutes=499 + chat)) for chat in range(1, 20, 2)]
    assert len(queue) == 0
    assert queue.peek() is None


def test_due_chats_puts_each_chat_back_at_its_next_slot() -> None:
    """After a digest tick every due chat waits for its next slot; gone or stopped chats leave."""
    stay = _prefs(_daily("08:00", "20:00"), chat_id=1)
    stopped = _prefs(_daily("08:00"), chat_id=3, active=False)
    now = _utc("2026-03-02T08:00:20+00:00")
    queue: DueQueue[int] = DueQueue()
    for chat in (1, 2, 3):
        queue.put(chat, _utc("2026-03-02T08:00+00:00"))
    due = due_chats(queue, {1: stay, 3: stopped}, now)  # chat 2 has left
    assert due == [Due(1, _utc("2026-03-02T08:00+00:00"))]
    assert queue.due_at(1) == _utc("2026-03-02T20:00+00:00")
    assert 2 not in queue
    assert 3 not in queue


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Australia/Lord_Howe"])
def test_queue_driven_by_a_ticking_job_delivers_every_slot_once(zone: str) -> None:
    """A 30-second tick over a DST month gives each chat each slot exactly once."""
    chats = {
        n: _prefs(_daily(t), zone, chat_id=n)
        for n, t in enumerate(["01:30", "02:30", "03:00", "08:00", "23:59"])
    }
    start = _utc("2026-03-25T00:00+00:00" if zone == "Europe/Berlin" else "2026-04-01T00:00+00:00")
    end = start + timedelta(days=8)
    queue = build_queue(((prefs, start) for prefs in chats.values()), start)
    delivered: dict[int, list[datetime]] = {n: [] for n in chats}
    by_target = {prefs.target: prefs for prefs in chats.values()}
    now = start
    while now < end:
        now += timedelta(seconds=30)
        for item in due_chats(queue, by_target, now):
            assert item.slot <= now < item.slot + timedelta(seconds=30)
            delivered[item.target.chat_id].append(item.slot)
    for n, prefs in chats.items():
        assert delivered[n] == _fires(prefs, start, now)
        assert len(delivered[n]) >= 8


class DueQueueAgainstADict(RuleBasedStateMachine):
    """The queue behaves like a plain dict of due times, searched on every pop."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: DueQueue[int] = DueQueue()
        self.model: dict[int, datetime] = {}

    @rule(chat=st.integers(0, 12), minutes=st.none() | st.integers(0, 600))
    def put(self, chat: int, minutes: int | None) -> None:
        due = None if minutes is None else START + timedelta(minutes=minutes)
        self.queue.put(chat, due)
        if due is None:
            self.model.pop(chat, None)
        else:
            self.model[chat] = due

    @rule(chat=st.integers(0, 12))
    def discard(self, chat: int) -> None:
        self.queue.discard(chat)
        self.model.pop(chat, None)

    @rule(minutes=st.integers(0, 600))
    def pop_due(self, minutes: int) -> None:
        now = START + timedelta(minutes=minutes)
        expected = sorted((due, chat) for chat, due in self.model.items() if due <= now)
        popped = self.queue.pop_due(now)
        # Earliest first; chats due at the same minute may come in any order.
        assert [item.slot for item in popped] == [due for due, _ in expected]
        assert sorted((item.slot, item.target) for item in popped) == expected
        for _, chat in expected:
            del self.model[chat]

    @invariant()
    def agrees_with_the_model(self) -> None:
        assert len(self.queue) == len(self.model)
        assert self.queue.peek() == min(self.model.values(), default=None)
        for chat in range(13):
            assert self.queue.due_at(chat) == self.model.get(chat)


DueQueueAgainstADict.TestCase.settings = settings(max_examples=40, stateful_step_count=50)
test_due_queue_behaves_like_a_dict = DueQueueAgainstADict.TestCase
