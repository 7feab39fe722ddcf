"""Feed health: /feedstatus rows, failing/back notices without storms, and /stats."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import FeedConfig
from bot.ingest.health import (
    Notice,
    compute_stats,
    count_articles_by_feed,
    decide_notices,
    feed_health,
    format_health,
    format_stats,
)
from bot.models import FeedState, StoredArticle

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FEEDS = (
    FeedConfig("BBC", "https://bbc.example/rss"),
    FeedConfig("Dawn", "https://dawn.example/rss", interval_minutes=15),
    FeedConfig("DW", "https://dw.example/rss", enabled=False),
    FeedConfig("New", "https://new.example/rss"),
)


def state(errors: int = 0, **changes: object) -> FeedState:
    base = FeedState(
        url="https://x.example/",
        last_success=NOW - timedelta(hours=1),
        consecutive_errors=errors,
        last_error="HTTP 503" if errors else None,
        last_error_at=NOW - timedelta(minutes=5) if errors else None,
        next_poll=NOW + timedelta(minutes=10),
        polls=20,
        not_modified_count=15,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def article(feed: str, age: timedelta) -> StoredArticle:
    return StoredArticle(
        id=f"{feed}{age}",
        feed=feed,
        title="t",
        link="https://x.example/a",
        published=NOW - age,
        fetched=NOW - age,
        text="x",
    )


def test_feed_health_rows_show_status_rates_and_next_poll() -> None:
    """Each configured feed gets a row, in file order, with its rates from the store."""
    states = {"BBC": state(), "Dawn": state(errors=4), "DW": state()}
    recent = count_articles_by_feed([article("BBC", timedelta(days=d)) for d in (1, 2, 3, 8)], NOW)
    rows = feed_health(FEEDS, states, recent, default_interval_minutes=30)

    assert [(r.name, r.status) for r in rows] == [
        ("BBC", "ok"),
        ("Dawn", "failing"),
        ("DW", "paused"),
        ("New", "new"),
    ]
    bbc, dawn, dw, new = rows
    assert bbc.entries_per_day == pytest.approx(3 / 7)
    assert bbc.not_modified_share == pytest.approx(0.75)
    assert (bbc.interval_minutes, dawn.interval_minutes) == (30, 15)
    assert dawn.consecutive_errors == 4
    assert dawn.last_error == "HTTP 503"
    assert dw.next_poll is None
    assert new.last_success is None
    assert new.not_modified_share is None


def test_feedstatus_text_names_every_fact_the_admin_needs() -> None:
    """Last success, next poll, rate, 304 share and the last error are in the text."""
    rows = feed_health(FEEDS[:2], {"BBC": state(), "Dawn": state(errors=4)}, {"BBC": 14}, 30)
    text = format_health(rows, NOW)
    assert "BBC [ok]" in text
    assert "last success 60 min ago" in text
    assert "next poll in 10 min" in text
    assert "2.0 new/day · 304 answers 75%" in text
    assert "last error (4 in a row, 5 min ago): HTTP 503" in text


def test_a_feed_failing_n_times_earns_one_notice_and_one_back_notice() -> None:
    """Notices come at the threshold, once per failure spell, and once on recovery."""
    feeds = FEEDS[:1]
    announced: frozenset[str] = frozenset()
    sent: list[Notice] = []
    for errors in (1, 2, 3, 4, 5, 6, 0, 0, 1):
        notices, announced = decide_notices(feeds, {"BBC": state(errors)}, announced, threshold=3)
        sent += notices
    assert [(n.kind, n.feeds) for n in sent] == [("failing", ("BBC",)), ("recovered", ("BBC",))]
    assert sent[0].text == "Feed BBC is failing (3 polls in a row): HTTP 503"
    assert sent[1].text == "BBC is back: polled fine."


def test_many_feeds_failing_at_once_make_one_notice() -> None:
    """When the network goes, admins get one message naming the feeds, not one each."""
    feeds = [FeedConfig(f"F{i}", f"https://f{i}.example/") for i in range(10)]
    states = {f.name: state(3) for f in feeds}
    notices, announced = decide_notices(feeds, states, frozenset(), threshold=3)
    assert [n.kind for n in notices] == ["many_failing"]
    assert notices[0].feeds == tuple(f.name for f in feeds)
    assert "network may be down" in notices[0].text
    assert announced == {f.name for f in feeds}
    recovered, _ = decide_notices(feeds, {f.name: state(0) for f in feeds}, announced)
    assert [n.kind for n in recovered] == ["recovered"]


def test_a_paused_or_removed_feed_is_forgotten_without_a_notice() -> None:
    """Pausing a failing feed is the admin's answer; no "back" notice follows."""
    notices, announced = decide_notices(FEEDS, {"DW": state(9)}, frozenset({"DW", "Gone"}))
    assert notices == []
    assert announced == frozenset()


@given(st.lists(st.integers(0, 8), min_size=1, max_size=40), st.integers(1, 5))
def test_notices_alternate_and_never_repeat(errors_per_poll: list[int], threshold: int) -> None:
    """Whatever the error counts, failing and back notices alternate, starting with failing."""
    announced: frozenset[str] = frozenset()
    kinds = []
    for errors in errors_per_poll:
        notices, announced = decide_notices(FEEDS[:1], {"BBC": state(errors)}, announced, threshold)
        kinds += [n.kind for n in notices]
    assert kinds == ["failing", "recovered"] * (len(kinds) // 2) + ["failing"] * (len(kinds) % 2)


def test_stats_count_chats_articles_deliveries_and_feed_errors() -> None:
    """The /stats numbers from the bot's parts."""
    states = {
        "BBC": state(),
        "Dawn": state(errors=2),
        "DW": state(errors=1),  # paused: not counted
        "New": state(last_error="old", last_error_at=NOW - timedelta(days=2)),
    }
    stats = compute_stats(
        [True, True, False],
        articles_stored=1234,
        digests_today=5,
        messages_today=17,
        delivery_errors_today=2,
        feeds=FEEDS,
        states=states,
        today=NOW.date(),
    )
    assert (stats.chats_active, stats.chats_inactive) == (2, 1)
    assert (stats.feeds, stats.feeds_paused, stats.feeds_failing) == (4, 1, 1)
    assert stats.feed_errors_today == 1
    assert format_stats(stats) == (
        "Chats: 2 subscribed, 1 inactive\n"
        "Articles stored: 1234\n"
        "Today (UTC): 5 digests, 17 messages sent, 2 delivery errors\n"
        "Feeds: 4 (1 paused), 1 failing now, 1 with an error today\n"
    )
