"""What one poll of one feed did (``FeedReport``), and its event log line."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.logfields import fields
from bot.models import FeedState, FetchResult, ParsedFeed

log = logging.getLogger("newsbot.poll")


@dataclass(frozen=True, slots=True)
class FeedReport:
    """What one poll of one feed did: the table row of ``newsbot fetch``.

    ``errors`` is the feed's consecutive error count after this poll; ``error`` this poll's
    error (a failed fetch, or an ill-formed feed) and ``error_kind`` its kind (a
    ``FetchErrorKind``, ``"parse"`` or ``"internal"``); ``fallbacks`` how many entries were read
    from the feed's own text because their page failed.
    """

    feed: str
    status: int | None
    new: int = 0
    updated: int = 0
    backlog: int = 0
    errors: int = 0
    error: str | None = None
    error_kind: str | None = None
    fallbacks: int = 0
    seconds: float = 0.0


def error_kind(result: FetchResult, parsed: ParsedFeed | None) -> str | None:
    """Why a poll failed, for the feed-errors metric: the fetch's ``FetchErrorKind``,
    ``"parse"`` for a feed that could not be read, None for a poll that worked."""
    if result.error_kind is not None:
        return str(result.error_kind)
    if result.error is not None:
        return "internal"
    if parsed is not None and parsed.error is not None:
        return "parse"
    return None


def log_report(report: FeedReport, state: FeedState) -> None:
    """Log one feed's poll: ``feed polled`` at INFO, ``feed failed`` at WARNING."""
    values = fields(
        name=report.feed,
        status=report.status,
        new=report.new,
        updated=report.updated,
        backlog=report.backlog,
        fallbacks=report.fallbacks,
        errors=report.errors,
        ms=round(report.seconds * 1000),
    )
    if report.errors:
        next_poll = state.next_poll.isoformat(timespec="seconds") if state.next_poll else None
        log.warning("feed failed %s", f"{values} {fields(error=report.error, next=next_poll)}")
    else:
        log.info("feed polled %s", values)
