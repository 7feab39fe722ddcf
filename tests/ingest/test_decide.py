"""Deciding what is new: exactly-once entries, no backlog burst, updates, backoff."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.decide import (
    DecideSettings,
    Decision,
    decide_entries,
    next_poll_after_error,
    next_poll_after_success,
    record_poll,
)
from bot.ingest.feeds import hash_content, parse_feed
from bot.ingest.fetch import Fetcher, FetchSettings, fetch_feed
from bot.models import FeedEntry, FeedState, FetchErrorKind, FetchResult, ParsedFeed
from tests.support.httpserver import LoopbackServer, Response

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SETTINGS = DecideSettings()
NEW_FEED = FeedState(url="https://news.example/feed.xml")
KNOWN_FEED = replace(NEW_FEED, last_success=NOW - timedelta(hours=1))


def entry(n: int, *, hours_ago: float | None = None, text: str = "") -> FeedEntry:
    """A feed entry with identity ``n``, published ``hours_ago`` (None: undated)."""
    published = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    title = f"Entry {n}"
    return FeedEntry(
        identity=f"id-{n}",
        content_hash=hash_content(title, None, text),
        guid=f"id-{n}",
        title=title,
        published=published,
        summary=text or None,
    )


def feed_of(entries: Iterable[FeedEntry]) -> ParsedFeed:
    """A parsed feed holding ``entries``."""
    return ParsedFeed(title="News", entries=tuple(entries))


def identities(entries: Iterable[FeedEntry]) -> list[str]:
    """The identities of ``entries``, in order."""
    return [e.identity for e in entries]


def test_new_feed_contributes_only_its_latest_entries() -> None:
    """A newly added feed with 100 entries gives 5 news items, the latest by date."""
    entries = [entry(n, hours_ago=n) for n in range(100)]
    random.Random(3).shuffle(entries)
    decision = decide_entries(feed_of(entries), NEW_FEED, {}, SETTINGS, NOW)
    assert sorted(identities(decision.new)) == [f"id-{n}" for n in range(5)]
    assert len(decision.backlog) == 95
    assert len(decision.seen) == 100


@pytest.mark.parametrize("backlog", [0, 1, 5, 20])
def test_new_feed_backlog_is_a_setting(backlog: int) -> None:
    """The number of a new feed's entries that are news follows the setting."""
    entries = [entry(n, hours_ago=n) for n in range(10)]
    settings = DecideSettings(new_feed_backlog=backlog)
    decision = decide_entries(feed_of(entries), NEW_FEED, {}, settings, NOW)
    assert len(decision.new) == min(backlog, 10)


def test_undated_entries_of_a_new_feed_count_in_document_order() -> None:
    """Without dates, the first entries in the document (newest first by convention) are news."""
    entries = [entry(n) for n in range(10)]
    decision = decide_entries(feed_of(entries), NEW_FEED, {}, SETTINGS, NOW)
    assert identities(decision.new) == [f"id-{n}" for n in range(5)]


def test_a_far_future_date_does_not_crowd_out_real_news() -> None:
    """An entry dated in the future counts as published now, ties broken by document order."""
    entries = [entry(n, hours_ago=n + 1) for n in range(10)]
    entries.append(entry(99, hours_ago=-24 * 365))
    decision = decide_entries(feed_of(entries), NEW_FEED, {}, SETTINGS, NOW)
    assert "id-99" in identities(decision.new)
    assert identities(decision.new) == ["id-0", "id-1", "id-2", "id-3", "id-99"]


def test_known_feed_gives_every_unseen_entry() -> None:
    """On a feed polled before, every entry not seen yet is news, however many."""
    entries = [entry(n, hours_ago=n) for n in range(30)]
    decision = decide_entries(feed_of(entries), KNOWN_FEED, {}, SETTINGS, NOW)
    assert len(decision.new) == 30
    assert decision.backlog == ()


def test_seen_entries_are_never_new_again() -> None:
    """Entries already seen with the same content are skipped."""
    entries = [entry(n, hours_ago=n) for n in range(5)]
    seen = {e.identity: e.content_hash for e in entries[1:]}
    decision = decide_entries(feed_of(entries), KNOWN_FEED, seen, SETTINGS, NOW)
    assert identities(decision.new) == ["id-0"]
    assert len(decision.unchanged) == 4


def test_changed_entry_is_updated_not_new() -> None:
    """An entry whose content changed is an update, not news again."""
    before = entry(1, hours_ago=2, text="first version")
    after = entry(1, hours_ago=2, text="corrected version")
    seen = {before.identity: before.content_hash}
    decision = decide_entries(feed_of([after]), KNOWN_FEED, seen, SETTINGS, NOW)
    assert decision.new == ()
    assert decision.updated == (after,)
    assert decision.seen == {after.identity: after.content_hash}


def test_an_entry_listed_twice_counts_once() -> None:
    """Duplicate identities in one document are one entry (the first)."""
    first = entry(1, hours_ago=1, text="a")
    duplicate = entry(1, hours_ago=1, text="b")
    decision = decide_entries(feed_of([first, duplicate]), KNOWN_FEED, {}, SETTINGS, NOW)
    assert decision.new == (first,)


def test_new_feed_resumed_after_a_crash_does_not_repeat_news() -> None:
    """A new feed whose entries were stored before a crash does not make them news again."""
    entries = [entry(n, hours_ago=n) for n in range(20)]
    first = decide_entries(feed_of(entries), NEW_FEED, {}, SETTINGS, NOW)
    again = decide_entries(feed_of(entries), NEW_FEED, first.seen, SETTINGS, NOW)
    assert again.new == ()
    assert again.backlog == ()
    assert len(again.unchanged) == 20


@given(
    st.lists(st.integers(0, 40), max_size=40),
    st.lists(st.integers(0, 40), max_size=40),
    st.booleans(),
)
def test_every_entry_gets_exactly_one_fate(
    present: list[int], seen_ids: list[int], new: bool
) -> None:
    """Each distinct entry is in exactly one of new, updated, backlog and unchanged."""
    entries = [entry(n, hours_ago=n % 7) for n in present]
    seen = {f"id-{n}": ("x" if n % 3 else entry(n, hours_ago=n % 7).content_hash) for n in seen_ids}
    state = NEW_FEED if new else KNOWN_FEED
    decision = decide_entries(feed_of(entries), state, seen, SETTINGS, NOW)
    fates = [*decision.new, *decision.updated, *decision.backlog, *decision.unchanged]
    assert sorted(identities(fates)) == sorted({e.identity for e in entries})
    assert not set(identities(decision.new)) & set(seen)
    assert len(decision.new) <= (SETTINGS.new_feed_backlog if new else len(entries))


# --- backoff and the state after a poll ---------------------------------------------------


def test_backoff_doubles_per_error_and_is_capped() -> None:
    """A failing feed waits its interval, then twice, four times ... up to the cap."""
    settings = DecideSettings(jitter_ratio=0.0, max_backoff_s=3600.0)
    waits = [
        (next_poll_after_error(NOW, errors, 600.0, 0.5, settings) - NOW).total_seconds()
        for errors in range(1, 7)
    ]
    assert waits == [600.0, 1200.0, 2400.0, 3600.0, 3600.0, 3600.0]


def test_backoff_never_polls_faster_than_the_interval() -> None:
    """With an interval above the cap, a failing feed still waits at least its interval."""
    settings = DecideSettings(jitter_ratio=0.0, max_backoff_s=600.0)
    wait = next_poll_after_error(NOW, 5, 7200.0, 0.5, settings) - NOW
    assert wait == timedelta(hours=2)


def test_retry_after_is_honoured_and_bounded() -> None:
    """A server's Retry-After lengthens the wait, up to max_retry_after_s."""
    settings = DecideSettings(jitter_ratio=0.0, max_retry_after_s=86_400.0)
    assert next_poll_after_error(NOW, 1, 600.0, 0.5, settings, 7200.0) - NOW == timedelta(hours=2)
    far = next_poll_after_error(NOW, 1, 600.0, 0.5, settings, 10**9)
    assert far - NOW == timedelta(days=1)


@given(st.integers(1, 200), st.floats(0.0, 0.999), st.floats(60.0, 86_400.0))
def test_backoff_stays_within_jittered_bounds(
    errors: int, jitter: float, interval_s: float
) -> None:
    """The wait is at least the interval and at most the cap, each give or take the jitter."""
    wait_s = (
        next_poll_after_error(NOW, errors, interval_s, jitter, SETTINGS) - NOW
    ).total_seconds()
    spread = SETTINGS.jitter_ratio
    assert interval_s * (1 - spread) - 1e-6 <= wait_s
    assert wait_s <= max(SETTINGS.max_backoff_s, interval_s) * (1 + spread) + 1e-6


@given(st.floats(0.0, 0.999))
def test_backoff_grows_with_errors(jitter: float) -> None:
    """More consecutive errors never mean an earlier retry (for the same jitter)."""
    times = [next_poll_after_error(NOW, n, 300.0, jitter, SETTINGS) for n in range(1, 15)]
    assert times == sorted(times)


def test_success_schedules_the_next_poll_at_the_interval() -> None:
    """A healthy feed is polled again after its interval, spread by the jitter."""
    earliest = next_poll_after_success(NOW, 900.0, 0.0, SETTINGS) - NOW
    latest = next_poll_after_success(NOW, 900.0, 0.999, SETTINGS) - NOW
    assert timedelta(seconds=809) <= earliest <= latest <= timedelta(seconds=991)


def ok(etag: str | None = '"v2"', status: int = 200) -> FetchResult:
    """A successful fetch result."""
    return FetchResult(url="u", final_url="u", status=status, body=b"<rss/>", etag=etag)


def test_record_poll_after_success_stores_validators_and_resets_errors() -> None:
    """A good poll stores the new ETag, the success time and the title, and clears the count."""
    state = replace(KNOWN_FEED, consecutive_errors=3, last_error="HTTP 500", etag='"v1"')
    after = record_poll(
        state, ok(), NOW, interval_s=900, jitter=0.5, settings=SETTINGS, parsed=feed_of([])
    )
    assert after.etag == '"v2"'
    assert after.last_success == NOW
    assert after.consecutive_errors == 0
    assert after.last_error == "HTTP 500"
    assert after.title == "News"
    assert after.polls == state.polls + 1
    assert after.next_poll == NOW + timedelta(seconds=900)


def test_record_poll_counts_304s() -> None:
    """A 304 is a success and counts toward the share of unchanged answers."""
    result = replace(ok(status=304), body=b"")
    after = record_poll(KNOWN_FEED, result, NOW, interval_s=900, jitter=0.5, settings=SETTINGS)
    assert after.not_modified_count == 1
    assert after.polls == 1
    assert after.last_success == NOW


def test_record_poll_after_error_backs_off_and_keeps_the_message() -> None:
    """A failed poll raises the error count, keeps the message and schedules a backoff."""
    result = FetchResult(
        url="u",
        final_url="u",
        status=503,
        error_kind=FetchErrorKind.HTTP_STATUS,
        error="HTTP 503 Service Unavailable",
        retry_after_s=7200.0,
    )
    state = replace(KNOWN_FEED, consecutive_errors=1, etag='"v1"')
    after = record_poll(state, result, NOW, interval_s=600, jitter=0.5, settings=SETTINGS)
    assert after.consecutive_errors == 2
    assert after.last_error == "HTTP 503 Service Unavailable"
    assert after.last_error_at == NOW
    assert after.etag == '"v1"'
    assert after.last_success == KNOWN_FEED.last_success
    assert after.next_poll == NOW + timedelta(hours=2)


def test_record_poll_treats_an_unparsable_body_as_an_error() -> None:
    """A 200 whose body is not a feed counts as a failure with the parser's message."""
    parsed = ParsedFeed(error="not a feed: no RSS, Atom, RDF or JSON Feed document found")
    after = record_poll(
        KNOWN_FEED, ok(), NOW, interval_s=600, jitter=0.5, settings=SETTINGS, parsed=parsed
    )
    assert after.consecutive_errors == 1
    assert after.last_error == parsed.error
    assert after.etag is None


# --- end to end: loopback server -> fetch -> parse -> decide ----------------------------


def rss(items: Iterable[tuple[int, datetime, str]]) -> bytes:
    """An RSS 2.0 document with the given (number, published, description) items."""
    body = "".join(
        f"<item><title>Story {n}</title><link>https://news.example/story/{n}?utm_source=rss</link>"
        f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for n, when, text in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Loopback News</title><link>https://news.example/</link>{body}</channel></rss>"
    ).encode()


class Poller:
    """The poll loop's bookkeeping in miniature: state and seen entries kept between polls."""

    def __init__(self, url: str) -> None:
        self.state = FeedState(url=url)
        self.seen: dict[str, str] = {}
        self.processed: list[str] = []
        self.updated: list[str] = []

    def poll(self, now: datetime) -> Decision:
        """Fetch, parse, decide, then record the outcome as the store would."""
        result = asyncio.run(self._fetch())
        parsed = None
        decision = Decision()
        if result.is_ok:
            parsed = parse_feed(result.body, result.final_url, result.content_type)
            decision = decide_entries(parsed, self.state, self.seen, SETTINGS, now)
            self.processed += identities(decision.new)
            self.updated += identities(decision.updated)
            self.seen.update(decision.seen)
        self.state = record_poll(
            self.state, result, now, interval_s=600, jitter=0.5, settings=SETTINGS, parsed=parsed
        )
        return decision

    async def _fetch(self) -> FetchResult:
        async with Fetcher(FetchSettings(allow_private=True)) as fetcher:
            return await fetch_feed(fetcher, self.state.url, self.state)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A scriptable HTTP server on 127.0.0.1."""
    with LoopbackServer() as loopback:
        yield loopback


def test_new_feed_of_100_entries_served_on_loopback_gives_5(server: LoopbackServer) -> None:
    """Adding a feed of 100 entries delivers its 5 latest; the next poll delivers nothing."""
    items = [(n, NOW - timedelta(hours=n), f"text {n}") for n in range(100)]
    random.Random(5).shuffle(items)
    server.add("/feed.xml", Response(body=rss(items), etag='"a"'))
    poller = Poller(server.url("/feed.xml"))
    first = poller.poll(NOW)
    assert sorted(e.title or "" for e in first.new) == [f"Story {n}" for n in range(5)]
    assert len(first.backlog) == 95
    second = poller.poll(NOW + timedelta(minutes=10))
    assert second == Decision()
    assert poller.state.not_modified_count == 1
    assert len(poller.processed) == 5


def test_reappearing_entries_are_not_news_again(server: LoopbackServer) -> None:
    """Entries that leave the feed and come back are not processed a second time."""

    def items(numbers: Iterable[int]) -> bytes:
        return rss((n, NOW - timedelta(hours=n), f"text {n}") for n in numbers)

    server.add_sequence(
        "/feed.xml",
        [
            Response(body=items([1, 2, 3])),
            Response(body=items([0, 1, 2])),
            Response(body=items([1, 2, 3, 0])),
            Response(body=items([4, 0, 1, 2, 3])),
        ],
    )
    poller = Poller(server.url("/feed.xml"))
    for minutes in range(4):
        poller.poll(NOW + timedelta(minutes=10 * minutes))
    processed = sorted(poller.processed)
    assert processed == sorted(set(processed))
    assert len(processed) == 5
    assert poller.updated == []


def test_changed_entry_on_loopback_is_updated_not_new(server: LoopbackServer) -> None:
    """A corrected entry (same link, new text) is an update, delivered once as news only."""
    server.add_sequence(
        "/feed.xml",
        [
            Response(body=rss([(1, NOW, "first version")])),
            Response(body=rss([(1, NOW, "corrected version")])),
        ],
    )
    poller = Poller(server.url("/feed.xml"))
    poller.poll(NOW)
    poller.poll(NOW + timedelta(minutes=10))
    assert poller.processed == ["https://news.example/story/1"]
    assert poller.updated == ["https://news.example/story/1"]


def test_failing_feed_backs_off_and_recovers(server: LoopbackServer) -> None:
    """Errors are counted and spaced out; the first good answer resets the count."""
    server.add_sequence(
        "/feed.xml",
        [Response(status=500), Response(status=500), Response(body=rss([(1, NOW, "x")]))],
    )
    poller = Poller(server.url("/feed.xml"))
    poller.poll(NOW)
    first_wait = (poller.state.next_poll or NOW) - NOW
    poller.poll(NOW)
    assert poller.state.consecutive_errors == 2
    assert (poller.state.next_poll or NOW) - NOW > first_wait
    assert poller.state.last_error == "HTTP 500 Internal Server Error"
    poller.poll(NOW)
    assert poller.state.consecutive_errors == 0
    assert poller.state.last_success == NOW
    assert len(poller.processed) == 1
