"""What a poll means: which entries are news, which changed, when to poll next.

Pure functions only: they take the parsed feed, the stored state, what has been seen and
``now``, and return values the shell applies (store, fetch pages, schedule). No clock, no
network, no storage in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.models import FeedEntry, FeedState, FetchResult, ParsedFeed


@dataclass(frozen=True, slots=True)
class DecideSettings:
    """How new entries are chosen and how polls are spaced.

    ``new_feed_backlog``: how many of a newly added feed's latest entries are news (the rest
    are only marked seen). ``jitter_ratio``: polls spread by up to this fraction either way.
    ``max_backoff_s``: the longest wait after repeated errors. ``max_retry_after_s``: the
    longest Retry-After honoured, so a server cannot park a feed for a year.
    """

    new_feed_backlog: int = 5
    jitter_ratio: float = 0.1
    max_backoff_s: float = 6 * 3600.0
    max_retry_after_s: float = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with each entry of one poll.

    ``new``: news, to fetch, summarise and deliver. ``updated``: seen before with different
    content, to update in the store without being news again. ``backlog``: entries of a
    newly added feed beyond its latest few, to mark seen without processing. ``unchanged``:
    nothing to do.
    """

    new: tuple[FeedEntry, ...] = ()
    updated: tuple[FeedEntry, ...] = ()
    backlog: tuple[FeedEntry, ...] = ()
    unchanged: tuple[FeedEntry, ...] = ()

    @property
    def seen(self) -> dict[str, str]:
        """Identity -> content hash for every entry the store must now remember."""
        return {e.identity: e.content_hash for e in (*self.new, *self.updated, *self.backlog)}


def decide_entries(
    feed: ParsedFeed,
    state: FeedState,
    seen: Mapping[str, str],
    settings: DecideSettings,
    now: datetime,
) -> Decision:
    """Sort a poll's entries into new, updated, backlog and unchanged.

    ``seen`` maps the identities already stored for this feed to their content hashes. An
    entry listed twice in one document counts once (its first appearance). For a feed never
    polled successfully only its ``new_feed_backlog`` latest entries (by published date, the
    document order breaking ties and placing undated entries) can be news; a future date
    counts as ``now``.
    """
    entries = _unique(feed.entries)
    latest: set[str] | None = None
    if state.is_new:
        ranked = sorted(enumerate(entries), key=lambda pair: _recency_key(pair, now))
        latest = {entry.identity for _, entry in ranked[: max(0, settings.new_feed_backlog)]}
    new: list[FeedEntry] = []
    updated: list[FeedEntry] = []
    backlog: list[FeedEntry] = []
    unchanged: list[FeedEntry] = []
    for entry in entries:
        known_hash = seen.get(entry.identity)
        if known_hash is None:
            (new if latest is None or entry.identity in latest else backlog).append(entry)
        elif known_hash != entry.content_hash:
            updated.append(entry)
        else:
            unchanged.append(entry)
    return Decision(tuple(new), tuple(updated), tuple(backlog), tuple(unchanged))


def next_poll_after_success(
    now: datetime, interval_s: float, jitter: float, settings: DecideSettings
) -> datetime:
    """When to poll a healthy feed next; ``jitter`` in [0, 1) comes from the caller's RNG."""
    return now + timedelta(seconds=_jittered(interval_s, jitter, settings))


def next_poll_after_error(
    now: datetime,
    consecutive_errors: int,
    interval_s: float,
    jitter: float,
    settings: DecideSettings,
    retry_after_s: float | None = None,
) -> datetime:
    """When to retry a failing feed: the interval doubled per consecutive error, capped.

    A failing feed is never polled more often than a healthy one, never waits longer than
    ``max_backoff_s`` (or its interval, if that is longer) on its own account, and waits at
    least what the server asked for in Retry-After (up to ``max_retry_after_s``).
    """
    doublings = min(max(consecutive_errors, 1) - 1, 32)
    delay_s = min(interval_s * 2.0**doublings, max(settings.max_backoff_s, interval_s))
    delay_s = _jittered(delay_s, jitter, settings)
    if retry_after_s is not None:
        delay_s = max(delay_s, min(retry_after_s, settings.max_retry_after_s))
    return now + timedelta(seconds=delay_s)


def is_due(state: FeedState | None, url: str, now: datetime) -> bool:
    """Whether a feed is due: never polled, its next poll has come, or its address changed
    since it was last polled (a corrected address does not wait out the old one's backoff)."""
    return state is None or state.next_poll is None or state.next_poll <= now or state.url != url


def moved_state(state: FeedState, url: str) -> FeedState:
    """The state of a feed polled at a new address: the old one's validators and error
    count (its backoff) do not carry over; its history (polls, title) does."""
    if state.url == url:
        return state
    return replace(
        state, url=url, etag=None, last_modified=None, consecutive_errors=0, next_poll=None
    )


def record_poll(
    state: FeedState,
    result: FetchResult,
    now: datetime,
    *,
    interval_s: float,
    jitter: float,
    settings: DecideSettings,
    parsed: ParsedFeed | None = None,
) -> FeedState:
    """The feed's state after a poll: validators, counters, last error and next poll time.

    A poll succeeds on a 304, or a 2xx whose body parsed into a feed: a well-formed one, or an
    ill-formed one with entries recovered (its parse error is still recorded as last error).
    Store this state only after the poll's entries are stored, so a crash in between re-reads
    them instead of getting a 304 for entries never processed.
    """
    polls = state.polls + (1 if result.status is not None else 0)
    error = result.error
    if error is None and not result.is_not_modified:
        if parsed is None:
            error = "the feed was fetched but not parsed"
        elif parsed.error is not None and not parsed.entries:
            error = parsed.error
    if error is not None:
        errors = state.consecutive_errors + 1
        return replace(
            state,
            last_error=error,
            last_error_at=now,
            consecutive_errors=errors,
            polls=polls,
            next_poll=next_poll_after_error(
                now, errors, interval_s, jitter, settings, result.retry_after_s
            ),
        )
    title = parsed.title if parsed is not None and parsed.title else state.title
    recovered = parsed.error if parsed is not None else None
    return replace(
        state,
        etag=result.etag,
        last_modified=result.last_modified,
        last_success=now,
        last_error=recovered if recovered is not None else state.last_error,
        last_error_at=now if recovered is not None else state.last_error_at,
        consecutive_errors=0,
        polls=polls,
        not_modified_count=state.not_modified_count + (1 if result.is_not_modified else 0),
        next_poll=next_poll_after_success(now, interval_s, jitter, settings),
        title=title,
    )


def _unique(entries: tuple[FeedEntry, ...]) -> list[FeedEntry]:
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if entry.identity not in seen:
            seen.add(entry.identity)
            unique.append(entry)
    return unique


def _recency_key(pair: tuple[int, FeedEntry], now: datetime) -> tuple[int, float, int]:
    position, entry = pair
    if entry.published is None:
        return (1, 0.0, position)
    return (0, -min(entry.published, now).timestamp(), position)


def _jittered(delay_s: float, jitter: float, settings: DecideSettings) -> float:
    return delay_s * (1.0 + settings.jitter_ratio * (2.0 * jitter - 1.0))
