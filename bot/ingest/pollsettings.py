"""The poll cycle's settings (``CycleSettings``) and the fetcher's, from the configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Config
from bot.ingest.decide import DecideSettings
from bot.ingest.entry import ReadSettings
from bot.ingest.fetch import FetchSettings
from bot.ingest.workers import usable_cores


@dataclass(frozen=True, slots=True)
class CycleSettings:
    """How a cycle reads entries and how often it commits: after ``commit_every_articles``
    articles or ``commit_every_s`` seconds, whichever comes first, and at its end.

    On a shared database a cycle claims more feeds (``claim_batch`` at a time, at most
    ``feeds_in_flight`` polled at once) only while its workers have fewer than ``jobs_ahead``
    jobs waiting: a process busy reading pages leaves the next feeds to the others."""

    read: ReadSettings = field(default_factory=ReadSettings)
    decide: DecideSettings = field(default_factory=DecideSettings)
    commit_every_articles: int = 100
    commit_every_s: float = 5.0
    pages_in_memory: int = 32
    feeds_in_flight: int = 32
    jobs_ahead: int = field(default_factory=lambda: 2 * usable_cores())
    claim_batch: int = 4
    retention_days: int = 30
    seen_retention_days: int = 365


def settings_from_config(config: Config) -> tuple[FetchSettings, CycleSettings]:
    """The fetcher's and the cycle's settings from the configuration in force."""
    s = config.settings
    fetch = FetchSettings(
        **{name: getattr(s.http, name) for name in s.http.__slots__},
        allow_private=s.bot.allow_private_feeds,
    )
    decide = DecideSettings(
        new_feed_backlog=s.poll.new_feed_backlog,
        jitter_ratio=s.poll.jitter_ratio,
        max_backoff_s=s.poll.max_backoff_minutes * 60.0,
        max_retry_after_s=s.poll.max_retry_after_minutes * 60.0,
    )
    read = ReadSettings(lead_sentences=s.summary.lead_sentences)
    return fetch, CycleSettings(
        read=read,
        decide=decide,
        pages_in_memory=2 * s.http.max_concurrent + 8,
        feeds_in_flight=2 * s.http.max_concurrent,
        retention_days=s.store.retention_days,
        seen_retention_days=s.store.seen_retention_days,
    )
