"""Feed health for admins: the ``/feedstatus`` rows, failure and recovery notices, ``/stats``.

All pure: the caller passes the feeds, their stored states, counts from the store and ``now``.

Notices: a feed that has failed ``threshold`` polls in a row (setting, default 3) earns one
"failing" notice; when it succeeds again, one "back" notice. Which feeds were announced as
failing is the notice state, kept by the caller between polls (``decide_notices`` returns the
new one). No storms: a feed is announced once per failure spell, however long it lasts, and
when many feeds fail at once (the server lost its network) they come as one notice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.config import FeedConfig
from bot.models import FeedState, StoredArticle

DEFAULT_FAILURE_THRESHOLD = 3
MAX_SINGLE_NOTICES = 3
RATE_DAYS = 7


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One ``/feedstatus`` row. ``status``: "ok", "failing" (errors now), "new" (never
    polled successfully), or "paused". ``entries_per_day`` counts articles stored over the
    last ``RATE_DAYS`` days; ``not_modified_share`` is the share of polls answered 304."""

    name: str
    status: str
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_errors: int
    next_poll: datetime | None
    entries_per_day: float
    not_modified_share: float | None
    interval_minutes: int


def count_articles_by_feed(
    articles: Iterable[StoredArticle], now: datetime, days: int = RATE_DAYS
) -> dict[str, int]:
    """Articles fetched in the last ``days`` days, per feed name (pass the store's
    ``iter_articles(since)``)."""
    since = now - timedelta(days=days)
    return dict(Counter(a.feed for a in articles if a.fetched >= since))


def feed_health(
    feeds: Sequence[FeedConfig],
    states: Mapping[str, FeedState],
    recent_articles: Mapping[str, int],
    default_interval_minutes: int,
    days: int = RATE_DAYS,
) -> list[FeedHealth]:
    """A row per configured feed, in file order."""
    rows = []
    for feed in feeds:
        state = states.get(feed.name)
        interval = feed.interval_minutes or default_interval_minutes
        if state is None:
            rows.append(
                FeedHealth(
                    feed.name,
                    "paused" if not feed.enabled else "new",
                    None,
                    None,
                    None,
                    0,
                    None,
                    0.0,
                    None,
                    interval,
                )
            )
            continue
        if not feed.enabled:
            status = "paused"
        elif state.consecutive_errors:
            status = "failing"
        elif state.last_success is None:
            status = "new"
        else:
            status = "ok"
        rows.append(
            FeedHealth(
                name=feed.name,
                status=status,
                last_success=state.last_success,
                last_error=state.last_error,
                last_error_at=state.last_error_at,
                consecutive_errors=state.consecutive_errors,
                next_poll=state.next_poll if feed.enabled else None,
                entries_per_day=recent_articles.get(feed.name, 0) / days,
                not_modified_share=state.not_modified_count / state.polls if state.polls else None,
                interval_minutes=interval,
            )
        )
    return rows


def format_health(rows: Sequence[FeedHealth], now: datetime) -> str:
    """Plain-text ``/feedstatus`` (the console prints it; the bot escapes it into <pre>)."""
    if not rows:
        return "No feeds are configured.\n"
    lines = []
    for row in rows:
        share = "-" if row.not_modified_share is None else f"{row.not_modified_share:.0%}"
        head = f"{_mark(row.status)} {row.name} [{row.status}]"
        lines.append(head)
        lines.append(
            f"    last success {_ago(row.last_success, now)} · next poll "
            f"{_until(row.next_poll, now)} · every {row.interval_minutes} min"
        )
        lines.append(f"    {row.entries_per_day:.1f} new/day · 304 answers {share}")
        if row.last_error:
            errors = f"{row.consecutive_errors} in a row, " if row.consecutive_errors else ""
            lines.append(
                f"    last error ({errors}{_ago(row.last_error_at, now)}): "
                f"{_one_line(row.last_error, 160)}"
            )
    return "\n".join(lines) + "\n"


# -- notices --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """One message for admins. ``kind``: "failing", "recovered", or "many_failing" (one
    notice for several feeds: ``feeds`` names them)."""

    kind: str
    feeds: tuple[str, ...]
    text: str


def decide_notices(
    feeds: Sequence[FeedConfig],
    states: Mapping[str, FeedState],
    announced: frozenset[str],
    threshold: int = DEFAULT_FAILURE_THRESHOLD,
    max_single: int = MAX_SINGLE_NOTICES,
) -> tuple[list[Notice], frozenset[str]]:
    """The notices to send now and the feeds announced as failing afterwards (keep it for the
    next call). A feed removed or paused while announced is forgotten without a notice."""
    live = {f.name for f in feeds if f.enabled}
    still = {name for name in announced if name in live}
    failing: list[str] = []
    recovered: list[str] = []
    for feed in feeds:
        state = states.get(feed.name)
        if not feed.enabled or state is None:
            continue
        if feed.name in still and state.consecutive_errors == 0:
            recovered.append(feed.name)
            still.discard(feed.name)
        elif feed.name not in still and state.consecutive_errors >= threshold:
            failing.append(feed.name)
            still.add(feed.name)
    notices: list[Notice] = []
    if len(failing) > max_single:
        listed = "\n".join(
            f"- {name}: {_one_line(states[name].last_error or 'unknown error', 120)}"
            for name in failing
        )
        notices.append(
            Notice(
                "many_failing",
                tuple(failing),
                f"{len(failing)} feeds are failing (each {threshold} or more polls in a row); "
                f"if they all fail the same way, the server's network may be down:\n{listed}",
            )
        )
    else:
        for name in failing:
            state = states[name]
            notices.append(
                Notice(
                    "failing",
                    (name,),
                    f"Feed {name} is failing ({state.consecutive_errors} polls in a row): "
                    f"{_one_line(state.last_error or 'unknown error', 300)}",
                )
            )
    if recovered:
        names = ", ".join(recovered)
        verb = "is" if len(recovered) == 1 else "are"
        notices.append(Notice("recovered", tuple(recovered), f"{names} {verb} back: polled fine."))
    return notices, frozenset(still)


# -- /stats ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stats:
    """The ``/stats`` numbers. "today" is the UTC day the delivery figures are for."""

    chats_active: int
    chats_inactive: int
    articles_stored: int
    digests_today: int
    messages_today: int
    delivery_errors_today: int
    feeds: int
    feeds_paused: int
    feeds_failing: int
    feed_errors_today: int


def compute_stats(
    chats_active: Iterable[bool],
    articles_stored: int,
    digests_today: int,
    messages_today: int,
    delivery_errors_today: int,
    feeds: Sequence[FeedConfig],
    states: Mapping[str, FeedState],
    today: date,
) -> Stats:
    """``/stats`` from what the bot holds: each chat's active flag, the store's article
    count, the delivery ledger's figures for today, and the feeds with their states.
    ``feed_errors_today``: enabled feeds whose last error came today (UTC)."""
    flags = list(chats_active)
    active = sum(1 for flag in flags if flag)
    enabled = [f for f in feeds if f.enabled]
    failing = sum(1 for f in enabled if (s := states.get(f.name)) and s.consecutive_errors)
    errors_today = sum(
        1
        for f in enabled
        if (s := states.get(f.name)) and s.last_error_at and s.last_error_at.date() == today
    )
    return Stats(
        chats_active=active,
        chats_inactive=len(flags) - active,
        articles_stored=articles_stored,
        digests_today=digests_today,
        messages_today=messages_today,
        delivery_errors_today=delivery_errors_today,
        feeds=len(feeds),
        feeds_paused=len(feeds) - len(enabled),
        feeds_failing=failing,
        feed_errors_today=errors_today,
    )


def format_stats(stats: Stats) -> str:
    return (
        f"Chats: {stats.chats_active} subscribed, {stats.chats_inactive} inactive\n"
        f"Articles stored: {stats.articles_stored}\n"
        f"Today (UTC): {stats.digests_today} digests, {stats.messages_today} messages sent, "
        f"{stats.delivery_errors_today} delivery errors\n"
        f"Feeds: {stats.feeds} ({stats.feeds_paused} paused), {stats.feeds_failing} failing now, "
        f"{stats.feed_errors_today} with an error today\n"
    )


# -- wording --------------------------------------------------------------------------------


def _mark(status: str) -> str:
    return {"ok": "✅", "failing": "❌", "new": "🆕", "paused": "⏸"}.get(status, "•")


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{_span(now - moment)} ago" if moment <= now else "just now"


def _until(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    return f"in {_span(moment - now)}" if moment > now else "due now"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _one_line(text: str, max_chars: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= max_chars else line[: max_chars - 1] + "…"
