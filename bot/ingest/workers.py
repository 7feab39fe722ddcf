"""The worker pool that runs the poll cycle's CPU-bound work (parsing feeds, reading pages).

    workers = WorkerPool(process_pool)
    parsed = await workers.run(parse_feed_job, body, url, content_type)
    workers.close()

In production the pool is a process pool whose workers ignore stop signals (the main process
decides when to stop); a pool whose worker died is replaced on the next use.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger("newsbot.poll")

T = TypeVar("T")


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for the CPU-bound reading (one per core by default).

    Workers come from a fork server that has imported the reading code once, so a new
    worker starts in milliseconds; they ignore SIGINT/SIGTERM (the main process decides
    when to stop) and exit on their own when the main process dies.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bot.ingest.entry"])
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=context,
        initializer=_ignore_stop_signals,
    )


def _ignore_stop_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@dataclass
class WorkerPool:
    """The pool ``factory`` makes, made on first use and made again if a worker dies."""

    factory: Callable[[], Executor]
    _executor: Executor | None = field(default=None, init=False)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work in the pool; a pool whose worker died is replaced."""
        if self._executor is None:
            self._executor = self.factory()
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, function, *args)
        except BrokenProcessPool:
            if self._executor is executor:
                log.warning("worker pool broken; starting a new one")
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            raise

    def close(self) -> None:
        """Stop the pool (the work in it must have ended)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
