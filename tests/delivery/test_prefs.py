"""Chat preferences: what chat users may type for them, and how the store keeps them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.delivery.prefs import (
    ChatPrefs,
    DailyTimes,
    DigestsOff,
    EmptyDigest,
    EveryHours,
    LinkPreview,
    PrefsDefaults,
    Schedule,
    defaults_from_settings,
    describe_schedule,
    new_chat_prefs,
    parse_items,
    parse_lead_sentences,
    parse_schedule,
    prefs_from_dict,
    prefs_to_dict,
)
from bot.errors import ConfigError, NewsbotError, PrefsError, StoreError
from bot.timeofday import parse_time
from bot.timezones import describe_timezone, parse_timezone, zone_names

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _prefs(**changes: Any) -> ChatPrefs:
    values: dict[str, Any] = {
        "chat_id": 42,
        "active": True,
        "time_zone": "Asia/Karachi",
        "schedule": DailyTimes((time(8, 0),)),
        "items_per_digest": 10,
        "created": NOW,
        "updated": NOW,
    }
    return ChatPrefs(**{**values, **changes})


# -- /timezone ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Asia/Karachi", "Asia/Karachi"),
        ("  asia/KARACHI ", "Asia/Karachi"),
        ("Karachi", "Asia/Karachi"),
        ("new york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("Kathmandu", "Asia/Kathmandu"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("GMT", "UTC"),
        ("Z", "UTC"),
        ("Etc/UTC", "UTC"),
        ("UTC+5", "Etc/GMT-5"),
        ("utc + 5", "Etc/GMT-5"),
        ("+05:00", "Etc/GMT-5"),
        ("+0500", "Etc/GMT-5"),
        ("GMT-3", "Etc/GMT+3"),
        ("UTC\u22123", "Etc/GMT+3"),
        ("UTC-12", "Etc/GMT+12"),
        ("UTC+14", "Etc/GMT-14"),
        ("GMT+0", "UTC"),
        ("Etc/GMT-5", "Etc/GMT-5"),
    ],
)
def test_timezone_accepts_what_people_type(typed: str, zone: str) -> None:
    """Names in any case, cities alone, UTC/GMT and whole-hour offsets become IANA zones."""
    assert parse_timezone(typed) == zone


@pytest.mark.parametrize(
    ("typed", "advice"),
    [
        ("Asia/Karachii", "Did you mean Asia/Karachi?"),
        ("Europe/Berln", "Did you mean Europe/Berlin?"),
        ("Kathmandoo", "Asia/Kathmandu"),
        ("Mars/Olympus", "Send a name like Europe/Berlin"),
        ("", "Which time zone?"),
        ("UTC+15", "from UTC-12 to UTC+14"),
        ("UTC-13", "from UTC-12 to UTC+14"),
        ("+05:30", "Asia/Kolkata"),
        ("+05:45", "Asia/Kathmandu"),
        ("+05:75", "minutes run from 00 to 59"),
        ("Europe/Berlin\x00", "not a time zone name"),
        ("x" * 5000, "not a time zone name"),
    ],
)
def test_timezone_refusal_tells_the_user_what_to_send(typed: str, advice: str) -> None:
    """A near miss gets a suggestion, nonsense gets an example, half-hour offsets a place."""
    with pytest.raises(PrefsError) as caught:
        parse_timezone(typed)
    assert advice in str(caught.value)
    assert len(str(caught.value)) < 300


def test_every_zone_name_is_accepted_as_itself() -> None:
    """Each name the time zone database lists is accepted unchanged (UTC aliases become UTC)."""
    for name in zone_names():
        assert parse_timezone(name) in {name, "UTC"}


@pytest.mark.parametrize("hours", range(-12, 15))
def test_offset_zone_keeps_the_offset_the_user_typed(hours: int) -> None:
    """ "UTC+5" is five hours east all year, and reads back as "UTC+5" (Etc signs are inverted)."""
    typed = f"UTC{hours:+d}"
    zone = parse_timezone(typed)
    for month in (1, 7):
        wall = datetime(2026, month, 1, 12, tzinfo=ZoneInfo(zone))
        assert wall.utcoffset() == timedelta(hours=hours)
    assert describe_timezone(zone) == ("UTC" if hours == 0 else typed)


@given(st.text(max_size=80))
def test_timezone_input_never_crashes(typed: str) -> None:
    """Any text gives a zone the database knows, or a PrefsError for the user."""
    try:
        zone = parse_timezone(typed)
    except PrefsError:
        return
    assert zone in zone_names()


# -- digest times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "times"),
    [
        ("08:00", ["08:00"]),
        ("08:00 18:30", ["08:00", "18:30"]),
        ("18:30, 08:00", ["08:00", "18:30"]),
        ("8am, 6pm", ["08:00", "18:00"]),
        ("8 AM and 6:30 p.m.", ["08:00", "18:30"]),
        ("12am 12pm", ["00:00", "12:00"]),
        ("noon; midnight", ["00:00", "12:00"]),
        ("0830 2015", ["08:30", "20:15"]),
        ("7h 20h", ["07:00", "20:00"]),
        ("7.15 19.45", ["07:15", "19:45"]),
        ("9 21", ["09:00", "21:00"]),
        ("08:00 8am 08:00", ["08:00"]),
    ],
)
def test_digest_times_read_as_people_write_them(typed: str, times: list[str]) -> None:
    """24-hour and am/pm times, any separators; repeats collapse and times come out sorted."""
    schedule = parse_schedule(typed, time_zone="UTC", now=NOW)
    assert schedule == DailyTimes(tuple(time.fromisoformat(t) for t in times))


@pytest.mark.parametrize(
    ("typed", "hours", "anchor"),
    [
        ("every 6h", 6, "00:00"),
        ("every 6 hours", 6, "00:00"),
        ("Every 12 hrs from 07:30", 12, "07:30"),
        ("every 3h at 9am", 3, "09:00"),
        ("every hour", 1, "00:00"),
        ("every 24h starting at 6pm", 24, "18:00"),
    ],
)
def test_every_n_hours_is_anchored_on_the_chats_local_day(
    typed: str, hours: int, anchor: str
) -> None:
    """ "every N hours" counts from a local time on the chat's current local date."""
    # 20:00 UTC on 1 March is already 2 March in Kathmandu.
    now = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    schedule = parse_schedule(typed, time_zone="Asia/Kathmandu", now=now)
    expected = datetime.fromisoformat(f"2026-03-02T{anchor}")
    assert schedule == EveryHours(hours, expected)


@pytest.mark.parametrize("typed", ["off", "OFF", " none ", "never", "disable"])
def test_digests_can_be_turned_off(typed: str) -> None:
    """ "off" and its synonyms stop scheduled digests."""
    assert parse_schedule(typed, time_zone="UTC", now=NOW) == DigestsOff()


@pytest.mark.parametrize(
    ("typed", "advice"),
    [
        ("", "When should digests come?"),
        (", and ;", "When should digests come?"),
        ("25:00", "“25:00” is not a time of day"),
        ("24:00", "midnight is 00:00"),
        ("08:61", "not a time of day"),
        ("13pm", "with am/pm the hour runs from 1 to 12"),
        ("0am", "with am/pm the hour runs from 1 to 12"),
        ("tomorrow", "“tomorrow” is not a time I understand"),
        ("every 0h", "from 1 to 24"),
        ("every 25 hours", "from 1 to 24"),
        ("every 10 minutes", "every N hours only"),
        ("every 6h from later", "“later” is not a time"),
        (" ".join(f"{h:02d}:{m:02d}" for h in range(13) for m in (0, 30)), "At most 24"),
        ("08:00\x0718:00", "not a schedule I can read"),
        ("8" * 5000, "not a schedule I can read"),
    ],
)
def test_unreadable_digest_times_get_a_usage_line(typed: str, advice: str) -> None:
    """Bad times are refused with what was wrong and how to write them."""
    with pytest.raises(PrefsError) as caught:
        parse_schedule(typed, time_zone="UTC", now=NOW)
    assert advice in str(caught.value)
    assert len(str(caught.value)) < 300


@given(st.text(max_size=60))
def test_schedule_input_never_crashes(typed: str) -> None:
    """Any text gives a schedule or a PrefsError for the user."""
    try:
        schedule = parse_schedule(typed, time_zone="Europe/Berlin", now=NOW)
    except PrefsError:
        return
    assert isinstance(schedule, DailyTimes | EveryHours | DigestsOff)


_minute_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))


@given(st.lists(_minute_times, min_size=1, max_size=24))
def test_written_times_read_back_in_both_clocks(times: list[time]) -> None:
    """Times written as 24-hour or as am/pm read back as the same daily schedule."""
    expected = DailyTimes(tuple(times))
    as_24h = " ".join(t.strftime("%H:%M") for t in times)
    as_12h = ", ".join(t.strftime("%I:%M%p").lstrip("0") for t in times)
    assert parse_schedule(as_24h, time_zone="UTC", now=NOW) == expected
    assert parse_schedule(as_12h, time_zone="UTC", now=NOW) == expected
    assert parse_time(as_24h.split()[0]) == times[0]


@pytest.mark.parametrize(
    ("schedule", "reads"),
    [
        (DailyTimes((time(8, 0),)), "daily at 08:00"),
        (DailyTimes((time(18, 30), time(8, 0), time(12, 0))), "daily at 08:00, 12:00 and 18:30"),
        (EveryHours(6, datetime(2026, 3, 1, 7, 30)), "every 6 hours from 07:30"),
        (EveryHours(1, datetime(2026, 3, 1)), "every hour from 00:00"),
        (DigestsOff(), "off"),
    ],
)
def test_schedule_reads_back_to_the_user(schedule: Schedule, reads: str) -> None:
    """A chat is told its schedule in plain words."""
    assert describe_schedule(schedule) == reads


# -- items and lead sentences ------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "items"), [("1", 1), ("10", 10), (" 50 ", 50)])
def test_items_per_digest_in_range_are_accepted(typed: str, items: int) -> None:
    """Items per digest take a whole number from 1 to 50."""
    assert parse_items(typed) == items


@pytest.mark.parametrize("typed", ["0", "51", "-3", "ten", "", "2.5", "1e3", "99999999999"])
def test_items_per_digest_out_of_range_are_refused(typed: str) -> None:
    """Anything else gets the allowed range."""
    with pytest.raises(PrefsError, match="whole number from 1 to 50"):
        parse_items(typed)


@pytest.mark.parametrize(("typed", "valid"), [("1", True), ("2", True), ("0", False), ("3", False)])
def test_lead_sentences_are_one_or_two(typed: str, valid: bool) -> None:
    """A digest item shows one or two lead sentences."""
    if valid:
        assert parse_lead_sentences(typed) == int(typed)
    else:
        with pytest.raises(PrefsError, match="from 1 to 2"):
            parse_lead_sentences(typed)


def test_prefs_error_is_a_newsbot_input_error() -> None:
    """Handlers catching NewsbotError also catch bad preference input."""
    assert issubclass(PrefsError, NewsbotError)


# -- defaults and changes ----------------------------------------------------------------------


def test_start_gives_the_defaults_from_settings() -> None:
    """A new chat gets the settings' zone, times and items, active, all feeds."""
    defaults = defaults_from_settings(
        time_zone="Asia/Karachi", digest_times=["08:00", "18:30"], items_per_digest=7
    )
    prefs = new_chat_prefs(-100123, NOW, defaults)
    assert prefs.active
    assert prefs.is_all_feeds
    assert prefs.time_zone == "Asia/Karachi"
    assert prefs.schedule == DailyTimes((time(8, 0), time(18, 30)))
    assert prefs.items_per_digest == 7
    assert prefs.created == prefs.updated == NOW
    assert prefs.empty_digest is EmptyDigest.NOTICE


def test_defaults_without_settings_are_one_digest_at_eight_utc() -> None:
    """The built-in defaults: daily at 08:00 UTC, ten items."""
    prefs = new_chat_prefs(1, NOW, PrefsDefaults())
    assert (prefs.time_zone, prefs.items_per_digest) == ("UTC", 10)
    assert prefs.schedule == DailyTimes((time(8, 0),))


@pytest.mark.parametrize(
    "values",
    [
        {"time_zone": "Mars/Olympus", "digest_times": ["08:00"], "items_per_digest": 10},
        {"time_zone": "UTC", "digest_times": ["25:00"], "items_per_digest": 10},
        {"time_zone": "UTC", "digest_times": ["08:00"], "items_per_digest": 0},
    ],
)
def test_invalid_defaults_in_settings_are_a_config_error(values: dict[str, Any]) -> None:
    """A bad default in settings stops start-up with a ConfigError naming the problem."""
    with pytest.raises(ConfigError, match="invalid chat defaults"):
        defaults_from_settings(**values)


def test_changing_a_preference_stamps_the_update_time() -> None:
    """``changed`` applies the change and records when it happened."""
    later = NOW + timedelta(hours=3)
    prefs = _prefs().changed(later, items_per_digest=5, feeds=("bbc", "aljazeera"))
    assert prefs.items_per_digest == 5
    assert prefs.feeds == ("aljazeera", "bbc")
    assert (prefs.created, prefs.updated) == (NOW, later)
    assert not prefs.is_all_feeds


@pytest.mark.parametrize(
    "changes",
    [
        {"time_zone": "Mars/Olympus"},
        {"items_per_digest": 0},
        {"items_per_digest": 51},
        {"lead_sentences": 3},
        {"created": datetime(2026, 3, 1)},  # naive on purpose
        {"feeds": ("",)},
    ],
)
def test_invalid_preferences_cannot_be_built(changes: dict[str, Any]) -> None:
    """The model refuses values no chat can have."""
    with pytest.raises(ValueError, match=r"\w"):
        _prefs(**changes)


@pytest.mark.parametrize(
    ("schedule_args", "fault"),
    [
        (((),), "1 to 24 times"),
        (((time(8, 0, 30),),), "whole minutes"),
        (((time(8, 0, tzinfo=UTC),),), "naive"),
    ],
)
def test_daily_times_must_be_whole_wall_minutes(schedule_args: tuple[Any, ...], fault: str) -> None:
    """A daily schedule holds 1-24 naive wall times in whole minutes."""
    with pytest.raises(ValueError, match=fault):
        DailyTimes(*schedule_args)


# -- the store's shape -------------------------------------------------------------------------

_wall_minutes = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(second=0, microsecond=0, fold=0)
)
_schedules: st.SearchStrategy[Schedule] = st.one_of(
    st.lists(_minute_times, min_size=1, max_size=24).map(lambda ts: DailyTimes(tuple(ts))),
    st.builds(EveryHours, st.integers(1, 24), _wall_minutes),
    st.just(DigestsOff()),
)
_moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, ZoneInfo("Asia/Kathmandu"), ZoneInfo("America/New_York")]),
)
_names = st.lists(st.text(min_size=1, max_size=20), max_size=5).map(tuple)
_chat_prefs = st.builds(
    ChatPrefs,
    chat_id=st.integers(-(2**52), 2**52),
    active=st.booleans(),
    time_zone=st.sampled_from(sorted(zone_names())),
    schedule=_schedules,
    items_per_digest=st.integers(1, 50),
    feeds=_names,
    topics=_names,
    empty_digest=st.sampled_from(EmptyDigest),
    lead_sentences=st.integers(1, 2),
    thread_id=st.integers(0, 2**31),
    is_channel=st.booleans(),
    title=st.text(max_size=30),
    username=st.text(max_size=30),
    managers=st.lists(st.integers(1, 2**40), max_size=3).map(tuple),
    paused=st.sampled_from(["", "removed", "cannot post", "topic closed"]),
    link_preview=st.sampled_from(LinkPreview),
    created=_moments,
    updated=_moments,
)


@given(_chat_prefs)
def test_preferences_survive_the_store_unchanged(prefs: ChatPrefs) -> None:
    """Preferences written to the store as JSON read back equal."""
    stored = json.loads(json.dumps(prefs_to_dict(prefs)))
    assert prefs_from_dict(stored) == prefs


def test_stored_shape_is_plain_json() -> None:
    """The stored dict is readable JSON with named schedule kinds."""
    prefs = _prefs(schedule=EveryHours(6, datetime(2026, 3, 1, 7, 30)), topics=("world",))
    assert prefs_to_dict(prefs) == {
        "chat_id": 42,
        "active": True,
        "time_zone": "Asia/Karachi",
        "schedule": {"kind": "every", "hours": 6, "anchor": "2026-03-01T07:30"},
        "items_per_digest": 10,
        "feeds": [],
        "topics": ["world"],
        "empty_digest": "notice",
        "lead_sentences": 2,
        "link_preview": "below",
        "created": "2026-03-01T12:00:00+00:00",
        "updated": "2026-03-01T12:00:00+00:00",
        "thread_id": 0,
        "is_channel": False,
        "title": "",
        "username": "",
        "managers": [],
        "paused": "",
    }


def test_preferences_stored_before_topics_and_channels_read_as_a_whole_chat() -> None:
    """A chat saved by an older version (no thread, channel or pause fields) is read as the
    chat itself, active as it was."""
    stored = prefs_to_dict(_prefs())
    for key in ("thread_id", "is_channel", "title", "username", "managers", "paused"):
        del stored[key]
    prefs = prefs_from_dict(stored)
    assert prefs == _prefs()
    assert prefs.target.key == "42"


@pytest.mark.parametrize(
    "damage",
    [
        {"time_zone": "Mars/Olympus"},
        {"time_zone": None},
        {"items_per_digest": "10"},
        {"items_per_digest": True},
        {"items_per_digest": 500},
        {"active": 1},
        {"schedule": {"kind": "weekly"}},
        {"schedule": {"kind": "daily", "times": []}},
        {"schedule": {"kind": "daily", "times": ["8 o'clock"]}},
        {"schedule": {"kind": "every", "hours": 0, "anchor": "2026-03-01T07:30"}},
        {"empty_digest": "loud"},
        {"created": "yesterday"},
        {"feeds": "bbc"},
    ],
)
def test_malformed_stored_preferences_are_a_store_error(damage: dict[str, Any]) -> None:
    """A damaged store document is reported with its chat, never half-read."""
    data = {**prefs_to_dict(_prefs()), **damage}
    with pytest.raises(StoreError, match="chat 42"):
        prefs_from_dict(data)


def test_stored_preferences_missing_a_key_are_a_store_error() -> None:
    """A document missing a field is reported, not filled in silently."""
    data = prefs_to_dict(_prefs())
    del data["schedule"]
    with pytest.raises(StoreError, match="schedule"):
        prefs_from_dict(data)


def test_a_full_day_of_times_written_the_long_way_is_read() -> None:
    """The most times a schedule holds (24), each written "12:00 a.m."-style, fit the input cap."""
    times = [time(hour, 0) for hour in range(24)]
    text = ", ".join(t.strftime("%I:%M %p").lower().replace("m", ".m.") for t in times)
    assert parse_schedule(text, time_zone="UTC", now=NOW) == DailyTimes(tuple(times))
