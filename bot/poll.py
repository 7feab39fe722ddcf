"""The poll cycle: due feeds fetched, parsed and decided, their new entries read and stored.

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
twice at once and never polled again before what it found is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import random
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.atomic import write_atomically
from bot.config import Config, FeedConfig
from bot.decide import DecideSettings, decide_entries, record_poll
from bot.fetch import Fetcher, FetchSettings, fetch_feed, fetch_page
from bot.ingest import ReadJob, ReadResult, ReadSettings, build_article, parse_feed_job, read_entry
from bot.logfields import fields
from bot.models import FeedEntry, FeedState, FetchResult, ParsedFeed, StoredArticle
from bot.search import SearchIndex
from bot.store import PruneResult, SeenMark, Store

log = logging.getLogger("newsbot.poll")

INDEX_JOURNAL = "index-pending.json"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FeedReport:
    """What one poll of one feed did: the table row of ``newsbot fetch``.

    ``errors`` is the feed's consecutive error count after this poll; ``error`` this poll's
    error (a failed fetch, or an ill-formed feed); ``fallbacks`` how many entries were read
    from the feed's own text because their page failed.
    """

    feed: str
    status: int | None
    new: int = 0
    updated: int = 0
    backlog: int = 0
    errors: int = 0
    error: str | None = None
    fallbacks: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Outcome:
    report: FeedReport
    state: FeedState
    articles: tuple[StoredArticle, ...] = ()
    marks: tuple[SeenMark, ...] = ()


@dataclass(frozen=True, slots=True)
class CycleSettings:
    """How a cycle reads entries and how often it commits: after ``commit_every_articles``
    articles or ``commit_every_s`` seconds, whichever comes first, and at its end."""

    read: ReadSettings = field(default_factory=ReadSettings)
    decide: DecideSettings = field(default_factory=DecideSettings)
    commit_every_articles: int = 100
    commit_every_s: float = 5.0
    pages_in_memory: int = 32
    retention_days: int = 30
    seen_retention_days: int = 365


def settings_from_config(config: Config) -> tuple[FetchSettings, CycleSettings]:
    """The fetcher's and the cycle's settings from the configuration in force."""
    s = config.settings
    fetch = FetchSettings(**{name: getattr(s.http, name) for name in s.http.__slots__})
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
        retention_days=s.store.retention_days,
        seen_retention_days=s.store.seen_retention_days,
    )


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for the CPU-bound reading (one per core by default).

    Workers come from a fork server that has imported the reading code once, so a new
    worker starts in milliseconds; they ignore SIGINT/SIGTERM (the main process decides
    when to stop) and exit on their own when the main process dies.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bot.ingest"])
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=context,
        initializer=_ignore_stop_signals,
    )


def _ignore_stop_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Poller:
    """Polls feeds into a store and a search index; one per process, used on one event loop.

    ``executor_factory`` makes the pool that reads pages (a process pool in production);
    it is made on first use and made again if a worker dies. ``clock`` is the seam for time.
    ``journal`` is the index journal's path (None: no crash repair, e.g. in-memory stores).
    """

    config: Config
    store: Store
    fetcher: Fetcher
    index: SearchIndex
    executor_factory: Callable[[], Executor]
    settings: CycleSettings = field(default_factory=CycleSettings)
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    journal: Path | None = None
    _executor: Executor | None = field(default=None, init=False)
    _in_flight: set[str] = field(default_factory=set, init=False)
    _unindexed: set[str] = field(default_factory=set, init=False)
    _commit_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _page_slots: asyncio.Semaphore | None = field(default=None, init=False)

    # -- what is due ----------------------------------------------------------------------

    def due_feeds(self, now: datetime) -> list[FeedConfig]:
        """Enabled feeds whose next poll has come (never polled: at once), not in flight."""
        states = self.store.feed_states()
        due = []
        for feed in self.config.feeds:
            if not feed.enabled or feed.name in self._in_flight:
                continue
            state = states.get(feed.name)
            if state is None or state.next_poll is None or state.next_poll <= now:
                due.append(feed)
        return due

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
        ``on_polled`` hears of each feed as its poll ends. Reports come in ``feeds`` order."""
        feeds = [f for f in feeds if f.name not in self._in_flight]
        names = {f.name for f in feeds}
        self._in_flight |= names
        tasks = [asyncio.create_task(self._poll_feed(feed)) for feed in feeds]
        reports: dict[str, FeedReport] = {}
        batch: list[_Outcome] = []
        batch_articles = 0
        last_commit = time.monotonic()
        try:
            for next_done in asyncio.as_completed(tasks):
                outcome = await next_done
                if on_polled is not None:
                    on_polled(outcome.report)
                batch.append(outcome)
                batch_articles += len(outcome.articles)
                if (
                    batch_articles >= self.settings.commit_every_articles
                    or time.monotonic() - last_commit >= self.settings.commit_every_s
                ):
                    await self._commit(batch)
                    reports.update((o.report.feed, o.report) for o in batch)
                    self._in_flight -= {o.report.feed for o in batch}
                    batch, batch_articles, last_commit = [], 0, time.monotonic()
            await self._commit(batch)
            reports.update((o.report.feed, o.report) for o in batch)
        finally:
            for task in tasks:
                task.cancel()
            self._in_flight -= names
        return [reports[f.name] for f in feeds if f.name in reports]

    async def _poll_feed(self, feed: FeedConfig) -> _Outcome:
        started = time.monotonic()
        now = self.clock()
        state = self.store.feed_state(feed.name) or FeedState(url=feed.url)
        if state.url != feed.url:  # the configuration moved the feed: old validators are void
            state = replace(state, url=feed.url, etag=None, last_modified=None)
        try:
            outcome = await self._poll(feed, state, now)
        except Exception as exc:  # a bug on one feed's data must not stop the others
            log.exception("feed poll crashed %s", fields(name=feed.name))
            failed = FetchResult(
                url=feed.url, final_url=feed.url, error=f"internal error: {exc!r}"[:500]
            )
            new_state = self._record(feed, state, failed, now, None)
            report = FeedReport(
                feed.name, None, errors=new_state.consecutive_errors, error=failed.error
            )
            outcome = _Outcome(report, new_state)
        report = replace(outcome.report, seconds=time.monotonic() - started)
        _log_report(report, outcome.state)
        return replace(outcome, report=report)

    async def _poll(self, feed: FeedConfig, state: FeedState, now: datetime) -> _Outcome:
        result = await fetch_feed(self.fetcher, feed.url, state)
        parsed: ParsedFeed | None = None
        if result.is_ok:
            parsed = await self._cpu(
                parse_feed_job, result.body, result.final_url, result.content_type
            )
        new_state = self._record(feed, state, result, now, parsed)
        error = result.error or (parsed.error if parsed is not None else None)
        report = FeedReport(
            feed.name, result.status, errors=new_state.consecutive_errors, error=error
        )
        if parsed is None or not parsed.entries:
            return _Outcome(report, new_state)
        identities = [entry.identity for entry in parsed.entries]
        seen = self.store.seen_hashes(feed.name, identities)
        decision = decide_entries(parsed, state, seen, self.settings.decide, now)
        marks = [_mark(feed, entry, None) for entry in decision.backlog]
        work: list[tuple[FeedEntry, StoredArticle | None]] = [(e, None) for e in decision.new]
        work += self._previous_versions(feed, decision.updated, marks)
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
            )
            articles.append(article)
            marks.append(_mark(feed, entry, article.id))
        report = replace(
            report,
            new=len(decision.new),
            updated=len(work) - len(decision.new),
            backlog=len(decision.backlog),
            fallbacks=sum(1 for read in reads if read.source != "page"),
        )
        return _Outcome(report, new_state, tuple(articles), tuple(marks))

    def _previous_versions(
        self, feed: FeedConfig, updated: Iterable[FeedEntry], marks: list[SeenMark]
    ) -> list[tuple[FeedEntry, StoredArticle | None]]:
        """Updated entries with their stored article. One without an article (skipped as
        backlog, or pruned) only gets its mark refreshed: a change does not make it news."""
        wanted: dict[str, FeedEntry] = {}
        for entry in updated:
            seen = self.store.seen(feed.name, entry.identity)
            if seen is None or seen.article_id is None:
                marks.append(_mark(feed, entry, None))
            else:
                wanted[seen.article_id] = entry
        stored = {article.id: article for article in self.store.get(wanted)}
        work: list[tuple[FeedEntry, StoredArticle | None]] = []
        for article_id, entry in wanted.items():
            if article_id in stored:
                work.append((entry, stored[article_id]))
            else:
                marks.append(_mark(feed, entry, None))
        return work

    async def _read(self, feed: FeedConfig, entry: FeedEntry) -> ReadResult:
        if self._page_slots is None:
            self._page_slots = asyncio.Semaphore(self.settings.pages_in_memory)
        async with self._page_slots:
            job = ReadJob(
                url=entry.link,
                title=entry.title,
                page=None,
                page_content_type=None,
                page_problem="the entry has no link",
                feed_html=entry.content or entry.summary,
                settings=self.settings.read,
            )
            if entry.link:
                page = await fetch_page(self.fetcher, entry.link)
                if page.is_ok:
                    job = replace(
                        job,
                        url=page.final_url,
                        page=page.body,
                        page_content_type=page.content_type,
                        page_problem=None,
                    )
                else:
                    job = replace(job, page_problem=page.error or f"HTTP {page.status}")
            try:
                read = await self._cpu(read_entry, job)
            except Exception as exc:  # a worker died on this page: the feed's own text
                log.warning(
                    "page reading failed %s",
                    fields(feed=feed.name, link=entry.link, error=repr(exc)),
                )
                read = read_entry(replace(job, page=None, page_problem=f"reading failed: {exc}"))
        if read.source != "page":
            log.info(
                "page fallback %s",
                fields(feed=feed.name, link=entry.link, used=read.source, why=read.page_problem),
            )
        return read

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

    async def _cpu(self, function: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work in the pool; a pool whose worker died is replaced."""
        if self._executor is None:
            self._executor = self.executor_factory()
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, function, *args)
        except BrokenProcessPool:
            if self._executor is executor:
                log.warning("worker pool broken; starting a new one")
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            raise

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
                self._write_journal()
            self.store.commit_cycle(self.clock(), articles, marks, states)
            log.info(
                "cycle committed %s",
                fields(
                    feeds=len(batch),
                    articles=len(articles),
                    ms=round((time.monotonic() - started) * 1000),
                ),
            )
            if self._unindexed:
                await self._index_unindexed(articles)

    async def _index_unindexed(self, fresh: Sequence[StoredArticle]) -> None:
        fresh_ids = {a.id for a in fresh}
        older = self.store.get(self._unindexed - fresh_ids)
        todo = [*older, *fresh]
        try:
            await asyncio.to_thread(self.index.index_articles, todo)
        except Exception:  # the store has them; the next commit or start indexes them
            log.exception("search index update failed %s", fields(articles=len(todo)))
            return
        self._unindexed.clear()
        self._write_journal()

    def catch_up_index(self) -> int:
        """Index what the store committed but the index missed (a crash in between); build
        the whole index when it is empty and the store is not. Returns articles indexed."""
        pending: set[str] = set()
        rebuild = len(self.index) == 0 and self.store.article_count() > 0
        if self.journal is not None and self.journal.exists():
            try:
                pending = {str(i) for i in json.loads(self.journal.read_text("utf-8"))}
            except (OSError, ValueError, TypeError):
                log.warning("index journal unreadable; rebuilding the search index")
                rebuild = True
        count = 0
        if rebuild:
            count = self.index.rebuild(self.store.iter_articles())
        elif pending:
            count = self.index.index_articles(self.store.get(pending))
        self._unindexed.clear()
        self._write_journal()
        if count:
            log.info("search index caught up %s", fields(articles=count))
        return count

    async def prune(self) -> PruneResult:
        """Delete the articles older than the retention, from the index first and then from
        the store, so a crash in between leaves only expired articles the search no longer
        shows (the next prune finishes). Waits for a running commit."""
        async with self._commit_lock:
            now = self.clock()
            expired = self.store.expired_ids(now, self.settings.retention_days)
            if expired:
                await asyncio.to_thread(self.index.remove, expired)
            result = self.store.prune(
                now, self.settings.retention_days, self.settings.seen_retention_days
            )
        if expired or result.seen_shards:
            log.info(
                "archive pruned %s",
                fields(
                    articles=len(expired),
                    shards=result.archive_shards,
                    seen_shards=result.seen_shards,
                    carried=result.marks_carried,
                ),
            )
        return result

    def _write_journal(self) -> None:
        if self.journal is None:
            return
        if not self._unindexed:
            self.journal.unlink(missing_ok=True)
            return
        write_atomically(self.journal, json.dumps(sorted(self._unindexed)).encode())

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the worker pool (in-flight polls must have ended)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _mark(feed: FeedConfig, entry: FeedEntry, article_id: str | None) -> SeenMark:
    return SeenMark(entry.identity, entry.content_hash, feed.name, article_id)


def _log_report(report: FeedReport, state: FeedState) -> None:
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


@asynccontextmanager
async def open_poller(
    config: Config,
    *,
    executor_factory: Callable[[], Executor] = process_pool,
    fetcher: Fetcher | None = None,
) -> AsyncIterator[Poller]:
    """The poller of a configuration: its store, search index, HTTP client and worker pool,
    with the index caught up; everything is closed on exit."""
    store = Store.open(config.data_dir)
    try:
        index = SearchIndex.in_data_dir(config.data_dir)
    except BaseException:
        store.close()
        raise
    fetch_settings, cycle_settings = settings_from_config(config)
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(fetch_settings)
    poller = Poller(
        config,
        store,
        fetcher,
        index,
        executor_factory,
        settings=cycle_settings,
        journal=config.data_dir / INDEX_JOURNAL,
    )
    try:
        poller.catch_up_index()
        yield poller
    finally:
        poller.close()
        if own_fetcher:
            await fetcher.aclose()
        index.close()
        store.close()
