"""The poll cycle: due feeds fetched, parsed and decided, their new entries read and stored.
Longer than ~300 lines: one poll cycle, from due feeds to committed and indexed articles.

    poller = Poller(config, store, fetcher, index, executor_factory=process_pool)
    poller.catch_up_index()
    reports = await poller.poll_feeds(poller.due_feeds(now))

Each due feed is polled concurrently (the fetcher's global and per-host caps bound the
requests): conditional GET, parse, decide against the store's seen registry, then for each
new or updated entry fetch its page and read it (extract + summarise) in a worker process,
off the event loop. A broken feed comes back as a report with its error; it never stops the
others. A feed's articles, seen marks and state are committed together in one
``Store.commit_cycle`` (batched across feeds), then indexed for search. A crash between the
store commit and the index update is repaired by ``catch_up_index`` at the next start: the
ids of a commit are written to a small journal before the commit and cleared once indexed.

A feed stays *in flight* from its fetch until its outcome is committed, so it is never polled
twice at once and never polled again before what it found is stored. On a shared database,
processes share the feeds through claims taken a window at a time (bot.ingest.claims).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from bot import metrics
from bot.config import Config, FeedConfig
from bot.ingest.claims import FeedClaims
from bot.ingest.decide import decide_entries, is_due, moved_state, record_poll
from bot.ingest.entry import ReadResult, build_article, parse_feed_job
from bot.ingest.fetch import Fetcher, fetch_feed
from bot.ingest.pollsettings import CycleSettings, settings_from_config
from bot.ingest.reading import read_feed_entry
from bot.ingest.report import FeedReport, error_kind, log_report
from bot.ingest.retention import prune_expired
from bot.ingest.retries import Retry, remember, take_due
from bot.ingest.workers import JobTimeout, WorkerPool, process_pool
from bot.logfields import fields
from bot.models import FeedEntry, FeedState, FetchResult, ParsedFeed, StoredArticle
from bot.search.contract import TextIndex
from bot.search.journal import catch_up_index, index_unindexed, write_journal
from bot.store.contract import ArticleStore
from bot.store.datadir import PruneResult, SeenMark
from bot.store.pgarchive import PgStore
from bot.store.versions import previous_versions, seen_mark

# Names other modules import from here; open_poller lives in bot.ingest.pollsetup.
__all__ = [
    "CycleSettings",
    "FeedReport",
    "Poller",
    "process_pool",
    "settings_from_config",
]

log = logging.getLogger("newsbot.poll")


@dataclass(frozen=True, slots=True)
class _Outcome:
    report: FeedReport
    state: FeedState
    articles: tuple[StoredArticle, ...] = ()
    marks: tuple[SeenMark, ...] = ()
    retries: tuple[Retry, ...] = ()


def utc_now() -> datetime:
    return datetime.now(UTC)


def claim_owner() -> str:
    """Who holds a feed claim: this host and process, unique across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Poller:
    """Polls feeds into a store and a search index; one per process, used on one event loop.

    ``executor_factory`` makes the pool that reads pages (a process pool in production);
    it is made on first use and made again if a worker dies. ``clock`` is the seam for time.
    ``journal`` is the index journal's path (None: no crash repair, e.g. in-memory stores).
    """

    config: Config
    store: ArticleStore
    fetcher: Fetcher
    index: TextIndex
    executor_factory: Callable[[], Executor]
    settings: CycleSettings = field(default_factory=CycleSettings)
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    journal: Path | None = None
    _workers: WorkerPool = field(init=False)
    owner: str = field(default_factory=claim_owner)
    _in_flight: set[str] = field(default_factory=set, init=False)
    _soon: set[str] = field(default_factory=set, init=False)
    _seen_states: dict[str, FeedState] | None = field(default=None, init=False)
    _unindexed: set[str] = field(default_factory=set, init=False)
    _commit_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _page_slots: asyncio.Semaphore | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._workers = WorkerPool(self.executor_factory)

    # -- what is due ----------------------------------------------------------------------

    def due_feeds(self, now: datetime, *, every: bool = False) -> list[FeedConfig]:
        """Enabled feeds not in flight whose poll is due (``decide.is_due``: never polled,
        next poll come, or address changed) or asked for with ``poll_soon``; ``every``: all
        enabled feeds, whatever their schedule."""
        states = self.store.feed_states()
        self._seen_states = states
        due = []
        for feed in self.config.feeds:
            if not feed.enabled or feed.name in self._in_flight:
                continue
            if every or feed.name in self._soon or is_due(states.get(feed.name), feed.url, now):
                due.append(feed)
        return due

    def poll_soon(self, names: Iterable[str]) -> None:
        """Poll these feeds at the next tick, whatever their backoff (resumed, reloaded)."""
        self._soon |= set(names)

    @property
    def in_flight(self) -> frozenset[str]:
        """Names of the feeds being polled right now."""
        return frozenset(self._in_flight)

    # -- one cycle ------------------------------------------------------------------------

    async def poll_feeds(
        self,
        feeds: Sequence[FeedConfig],
        on_polled: Callable[[FeedReport], None] | None = None,
    ) -> list[FeedReport]:
        """Poll ``feeds`` (those already in flight are skipped) and commit what they found;
        ``on_polled`` hears of each feed as its poll ends. Reports come in ``feeds`` order.
        On a shared database only the feeds this process claims are polled (and reported)."""
        # the states due_feeds decided on, taken before any wait (the next tick replaces them)
        expected, self._seen_states = self._seen_states, None
        await self._retry_due()
        feeds = [f for f in feeds if f.name not in self._in_flight]
        names = {f.name for f in feeds}
        self._soon -= names
        self._in_flight |= names
        claims: FeedClaims | None = None
        if isinstance(self.store, PgStore):  # processes sharing a database share the feeds
            if expected is None:
                expected = self.store.feed_states()
            claims = FeedClaims(self.store, self.owner, feeds, expected, self.rng)
        unclaimed = deque(feeds if claims is None else ())
        running: set[asyncio.Task[_Outcome]] = set()
        reports: dict[str, FeedReport] = {}
        batch: list[_Outcome] = []
        batch_articles = 0
        last_commit = time.monotonic()

        async def commit() -> None:
            nonlocal batch, batch_articles, last_commit
            await self._commit(batch)
            done = [o.report.feed for o in batch]
            reports.update((o.report.feed, o.report) for o in batch)
            self._in_flight -= set(done)
            if claims is not None:
                claims.release(done)
            batch, batch_articles, last_commit = [], 0, time.monotonic()

        try:
            while True:
                if claims is None:
                    while unclaimed:
                        running.add(asyncio.create_task(self._poll_feed(unclaimed.popleft())))
                elif claims.pending and (room := self._room_for_feeds(len(running))):
                    for feed in claims.next(room):
                        running.add(asyncio.create_task(self._poll_feed(feed)))
                    if not running:
                        continue  # every feed asked for was another process's: ask for more
                if not running:
                    break
                finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    outcome = task.result()
                    if on_polled is not None:
                        on_polled(outcome.report)
                    batch.append(outcome)
                    batch_articles += len(outcome.articles)
                if (
                    batch_articles >= self.settings.commit_every_articles
                    or time.monotonic() - last_commit >= self.settings.commit_every_s
                ):
                    await commit()
            await commit()
        finally:
            for task in running:
                task.cancel()
            self._in_flight -= names
            if claims is not None:
                claims.release_all()
        return [reports[f.name] for f in feeds if f.name in reports]

    def _room_for_feeds(self, running: int) -> int:
        """How many more feeds to claim now, ``running`` being polled: none while the
        workers have enough to do (what this process has not started, another may take)."""
        s = self.settings
        if running and (running >= s.feeds_in_flight or self._workers.jobs >= s.jobs_ahead):
            return 0
        return min(s.claim_batch, s.feeds_in_flight - running)

    async def _poll_feed(self, feed: FeedConfig) -> _Outcome:
        started = time.monotonic()
        now = self.clock()
        state = self.store.feed_state(feed.name) or FeedState(url=feed.url)
        state = moved_state(state, feed.url)  # a new address: old validators and backoff void
        try:
            outcome = await self._poll(feed, state, now)
        except Exception as exc:  # a bug on one feed's data must not stop the others
            log.exception("feed poll crashed %s", fields(name=feed.name))
            failed = FetchResult(
                url=feed.url, final_url=feed.url, error=f"internal error: {exc!r}"[:500]
            )
            new_state = self._record(feed, state, failed, now, None)
            report = FeedReport(
                feed.name,
                None,
                errors=new_state.consecutive_errors,
                error=failed.error,
                error_kind="internal",
            )
            outcome = _Outcome(report, new_state)
        report = replace(outcome.report, seconds=time.monotonic() - started)
        log_report(report, outcome.state)
        metrics.feed_polled(report.error_kind)
        return replace(outcome, report=report)

    async def _poll(self, feed: FeedConfig, state: FeedState, now: datetime) -> _Outcome:
        result = await fetch_feed(self.fetcher, feed.url, state, allow_private=feed.allow_private)
        parsed: ParsedFeed | None = None
        if result.is_ok:
            try:
                parsed = await self._workers.run(
                    parse_feed_job, result.body, result.final_url, result.content_type
                )
            except JobTimeout as exc:
                parsed = ParsedFeed(error=f"parsing the feed took too long: {exc}")
        new_state = self._record(feed, state, result, now, parsed)
        error = result.error or (parsed.error if parsed is not None else None)
        report = FeedReport(
            feed.name,
            result.status,
            errors=new_state.consecutive_errors,
            error=error,
            error_kind=error_kind(result, parsed),
        )
        if parsed is None or not parsed.entries:
            return _Outcome(report, new_state)
        identities = [entry.identity for entry in parsed.entries]
        seen = self.store.seen_hashes(feed.name, identities)
        decision = decide_entries(parsed, state, seen, self.settings.decide, now)
        marks = [seen_mark(feed, entry, None) for entry in decision.backlog]
        work: list[tuple[FeedEntry, StoredArticle | None]] = [(e, None) for e in decision.new]
        work += previous_versions(self.store, feed, decision.updated, marks)
        reads = await asyncio.gather(*(self._read(feed, entry) for entry, _ in work))
        articles = []
        for (entry, previous), read in zip(work, reads, strict=True):
            article = build_article(
                entry,
                read,
                feed=feed.name,
                topic=feed.topic,
                tags=feed.tags,
                fetched=self.clock(),
                previous=previous,
                feed_title=parsed.title,
            )
            articles.append(article)
            marks.append(seen_mark(feed, entry, article.id))
        report = replace(
            report,
            new=len(decision.new),
            updated=len(work) - len(decision.new),
            backlog=len(decision.backlog),
            fallbacks=sum(1 for read in reads if read.source != "page"),
        )
        retries = tuple(
            Retry(feed.name, entry, article.id)
            for (entry, _), read, article in zip(work, reads, articles, strict=True)
            if read.timed_out
        )
        return _Outcome(report, new_state, tuple(articles), tuple(marks), retries)

    async def _read(self, feed: FeedConfig, entry: FeedEntry) -> ReadResult:
        if self._page_slots is None:
            self._page_slots = asyncio.Semaphore(self.settings.pages_in_memory)
        return await read_feed_entry(
            self.fetcher, self._workers, self._page_slots, self.settings.read, feed, entry
        )

    def _record(
        self,
        feed: FeedConfig,
        state: FeedState,
        result: FetchResult,
        now: datetime,
        parsed: ParsedFeed | None,
    ) -> FeedState:
        return record_poll(
            state,
            result,
            now,
            interval_s=self.config.interval_minutes(feed) * 60.0,
            jitter=self.rng.random(),
            settings=self.settings.decide,
            parsed=parsed,
        )

    # -- commit and index -----------------------------------------------------------------

    async def _commit(self, batch: Sequence[_Outcome]) -> None:
        if not batch:
            return
        articles = [a for outcome in batch for a in outcome.articles]
        marks = [m for outcome in batch for m in outcome.marks]
        states = {outcome.report.feed: outcome.state for outcome in batch}
        async with self._commit_lock:
            started = time.monotonic()
            if articles:
                self._unindexed |= {a.id for a in articles}
                write_journal(self.journal, self._unindexed)
            self.store.commit_cycle(self.clock(), articles, marks, states)
            metrics.articles_ingested(len(articles))
            remember(self.store, [r for outcome in batch for r in outcome.retries], self.clock())
            log.info(
                "cycle committed %s",
                fields(
                    feeds=len(batch),
                    articles=len(articles),
                    ms=round((time.monotonic() - started) * 1000),
                ),
            )
            if self._unindexed:
                await index_unindexed(
                    self.store, self.index, self.journal, self._unindexed, articles
                )

    async def _retry_due(self) -> None:
        """Read once more the pages of entries whose read ran past the limit an hour ago."""
        configured = {f.name: f for f in self.config.feeds}
        for retry in take_due(self.store, self.clock()):
            feed = configured.get(retry.feed)
            if feed is None:
                continue
            read = await self._read(feed, retry.entry)
            log.info("page retried %s", fields(feed=feed.name, used=read.source))
            if read.source != "page":
                continue  # the feed's text stays, for good
            previous = self.store.get([retry.article_id])
            article = build_article(
                retry.entry,
                read,
                feed=feed.name,
                topic=feed.topic,
                tags=feed.tags,
                fetched=self.clock(),
                previous=previous[0] if previous else None,
            )
            state = self.store.feed_state(feed.name) or FeedState(url=feed.url)
            mark = seen_mark(feed, retry.entry, article.id)
            await self._commit([_Outcome(FeedReport(feed.name, None), state, (article,), (mark,))])

    def catch_up_index(self) -> int:
        """Index what the store committed but the index missed (a crash in between); build
        the whole index when it is empty and the store is not. Returns articles indexed."""
        return catch_up_index(self.store, self.index, self.journal, self._unindexed)

    async def prune(self) -> PruneResult:
        """Delete the articles older than the retention, from the index first and then from
        the store, so a crash in between leaves only expired articles the search no longer
        shows (the next prune finishes). Waits for a running commit."""
        return await prune_expired(
            self.store,
            self.index,
            self._commit_lock,
            self.clock,
            retention_days=self.settings.retention_days,
            seen_retention_days=self.settings.seen_retention_days,
        )

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the worker pool (in-flight polls must have ended)."""
        self._workers.close()
