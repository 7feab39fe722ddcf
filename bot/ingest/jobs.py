"""Scheduling the polls: one tick job, standalone (APScheduler) or on PTB's JobQueue.

Design: a single job ticks every ``tick_s`` (30 s) and starts a cycle for the feeds whose
``FeedState.next_poll`` has come, rather than one job per feed. The store's ``next_poll``
already carries everything a per-feed trigger would have to duplicate: the feed's interval
with jitter, exponential backoff after errors, Retry-After, and the state survives restarts
(a feed due while newsbot was down is polled once at start, not once per missed interval).
Feeds added, removed or re-timed in the configuration need no job bookkeeping.

Guarantees: a tick only starts a cycle and returns, so ticks never overlap; the job is
registered with ``max_instances=1`` and ``coalesce=True`` (missed ticks run once); a feed is
*in flight* from its fetch until its outcome is committed (``Poller``), and a tick skips
feeds in flight, so no feed is ever polled twice at once, even when a cycle outlasts ticks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.job import Job  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from bot.errors import NewsbotError
from bot.ingest.poll import FeedReport, Poller
from bot.logfields import fields

if TYPE_CHECKING:
    from telegram.ext import CallbackContext, JobQueue

log = logging.getLogger("newsbot.jobs")

TICK_S = 30.0
PRUNE_EVERY_S = 3600.0
POLL_JOB = "poll-tick"
JOB_KWARGS: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}


@dataclass
class PollTicker:
    """Starts a cycle for the due feeds on each tick; remembers the cycles still running."""

    poller: Poller
    cycles: set[asyncio.Task[list[FeedReport]]] = field(default_factory=set)
    prune_every_s: float = PRUNE_EVERY_S
    on_tick: Callable[[], None] | None = None  # the running bot's heartbeat
    _cycles_done: int = field(default=0, init=False)
    _last_prune: float | None = field(default=None, init=False)

    async def tick(self) -> int:
        """Start polling every due feed not in flight; returns how many were started.
        Between cycles, at most once per ``prune_every_s``, expired articles are pruned."""
        if self.on_tick is not None:
            self.on_tick()
        await self._prune_if_due()
        due = self.poller.due_feeds(self.poller.clock())
        if not due:
            return 0
        task = asyncio.create_task(self.poller.poll_feeds(due), name="poll-cycle")
        self.cycles.add(task)
        task.add_done_callback(self._cycle_done)
        return len(due)

    def _cycle_done(self, task: asyncio.Task[list[FeedReport]]) -> None:
        self.cycles.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("poll cycle failed %s", fields(error=repr(exc)), exc_info=exc)
            return
        reports = task.result()
        self._cycles_done += 1
        log.info(
            "poll cycle done %s",
            fields(
                feeds=len(reports),
                new=sum(r.new for r in reports),
                updated=sum(r.updated for r in reports),
                failed=sum(1 for r in reports if r.errors),
            ),
        )

    async def _prune_if_due(self) -> None:
        # after a completed cycle, so the store knows which old entries feeds still list
        if self.cycles or not self._cycles_done:
            return
        started = time.monotonic()
        if self._last_prune is not None and started - self._last_prune < self.prune_every_s:
            return
        self._last_prune = started
        try:
            await self.poller.prune()
        except NewsbotError as exc:
            log.error("prune failed %s", fields(error=str(exc)))

    async def drain(self) -> None:
        """Wait for the running cycles to commit what they found."""
        while self.cycles:
            await asyncio.gather(*list(self.cycles), return_exceptions=True)


def add_poll_job(scheduler: AsyncIOScheduler, ticker: PollTicker, *, tick_s: float = TICK_S) -> Job:
    """Register the poll tick on a standalone scheduler (the CLI); the first tick is now."""
    return scheduler.add_job(
        ticker.tick,
        "interval",
        seconds=tick_s,
        id=POLL_JOB,
        name=POLL_JOB,
        next_run_time=datetime.now(UTC),
        replace_existing=True,
        **JOB_KWARGS,
    )


def register_poll_job(
    job_queue: JobQueue[Any], ticker: PollTicker, *, tick_s: float = TICK_S
) -> Any:
    """Register the same tick on a python-telegram-bot JobQueue (the bot)."""
    return job_queue.run_repeating(
        _ptb_tick,
        interval=tick_s,
        first=0.0,
        name=POLL_JOB,
        data=ticker,
        job_kwargs=dict(JOB_KWARGS),
    )


async def _ptb_tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The JobQueue callback: tick the ticker the job carries."""
    job = context.job
    if job is not None and isinstance(job.data, PollTicker):
        await job.data.tick()
