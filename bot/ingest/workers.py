"""The worker pool that runs the poll cycle's CPU-bound work (parsing feeds, reading pages).

    workers = WorkerPool(process_pool)
    parsed = await workers.run(parse_feed_job, body, url, content_type)
    workers.close()

In production the pool is :class:`ProcessWorkers`: worker processes that ignore stop signals
(the main process decides when to stop) and die with the main process, each job under a time
limit after which its worker is killed and replaced (a hostile page must not hold a worker
for minutes). Closing kills the workers at once: stop never waits on a stuck job. Any other
``Executor`` (a thread pool in tests) works too, without the kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from bot import metrics
from bot.errors import NewsbotError

log = logging.getLogger("newsbot.poll")

T = TypeVar("T")

JOB_TIMEOUT_S = 60.0
_PR_SET_PDEATHSIG = 1
_START_TIMEOUT_S = 120.0


class JobTimeout(NewsbotError):
    """A job ran past its time limit; its worker was killed."""


class WorkerDied(NewsbotError):
    """A worker process died during a job (killed, out of memory, crashed)."""


def process_pool(
    workers: int | None = None, job_timeout_s: float = JOB_TIMEOUT_S
) -> ProcessWorkers:
    """Worker processes for the CPU-bound reading (one per core this process may run on by
    default: a container's or ``taskset``'s share, not the whole machine's), each job limited
    to ``job_timeout_s``."""
    return ProcessWorkers(workers or usable_cores(), job_timeout_s=job_timeout_s)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform
        return os.cpu_count() or 1


class ProcessWorkers(Executor):
    """Worker processes, one dispatcher thread each; a job past its limit has its worker killed
    (the job fails with :class:`JobTimeout`) and a fresh worker takes the next job.

    Workers come from a fork server that has imported the reading code once, so a new worker
    starts in milliseconds.
    """

    def __init__(self, max_workers: int, *, job_timeout_s: float = JOB_TIMEOUT_S) -> None:
        self.job_timeout_s = job_timeout_s
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["bot.ingest.entry", "bot.article.extract"])
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._slots = [_Slot(self._context) for _ in range(max_workers)]
        self._closed = False
        self._threads = [
            threading.Thread(target=self._dispatch, args=(slot,), daemon=True, name="newsbot-work")
            for slot in self._slots
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if kwargs:
            raise TypeError("ProcessWorkers jobs take positional arguments only")
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        future: Future[T] = Future()
        self._jobs.put(_Job(future, fn, args))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Kill every worker now (a stuck job is not waited for); queued jobs are cancelled."""
        if self._closed:
            return
        self._closed = True
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.future.cancel()
        for slot in self._slots:
            slot.kill()
        for _ in self._threads:
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join(timeout=5)

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the live workers."""
        return [pid for slot in self._slots if (pid := slot.pid) is not None]

    def _dispatch(self, slot: _Slot) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self._closed:
                if job is not None:
                    job.future.cancel()
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                result = slot.call(job.fn, job.args, self.job_timeout_s)
            except BaseException as exc:
                closed = WorkerDied("the worker pool was closed during the job")
                job.future.set_exception(closed if self._closed else exc)
            else:
                job.future.set_result(result)


@dataclass(frozen=True, slots=True)
class _Job:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]


class _Slot:
    """One worker process and its pipes; started on demand, replaced after a kill."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._lifeline: Connection | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Any:
        conn = self._ensure_started()
        try:
            conn.send((fn, args))
            if not conn.poll(timeout_s):
                self.kill()
                raise JobTimeout(f"the job ran longer than {timeout_s:g} s; its worker was stopped")
            status, value = conn.recv()
        except (EOFError, OSError) as exc:
            process = self._process
            self.kill()
            code = process.exitcode if process is not None else None
            raise WorkerDied(f"the worker process died (exit code {code})") from exc
        if status == "error":
            raise value
        return value

    def _ensure_started(self) -> Connection:
        with self._lock:
            if self._process is not None and self._process.is_alive() and self._conn is not None:
                return self._conn
            ours: Connection
            ours, theirs = self._context.Pipe(duplex=True)
            life_r, life_w = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=_worker_main, args=(theirs, life_r), daemon=True, name="newsbot-worker"
            )
            process.start()
            theirs.close()
            life_r.close()
            self._process, self._conn, self._lifeline = process, ours, life_w
        # A worker's start (the first one starts the fork server) is not part of any job's time.
        try:
            if not ours.poll(_START_TIMEOUT_S) or ours.recv() != "ready":
                raise EOFError
        except (EOFError, OSError) as exc:
            self.kill()
            raise WorkerDied(
                f"a worker process did not start within {_START_TIMEOUT_S:g} s"
            ) from exc
        return ours

    def kill(self) -> None:
        """Kill the worker (if any) without waiting for its job."""
        with self._lock:
            process, conn, lifeline = self._process, self._conn, self._lifeline
            self._process = self._conn = self._lifeline = None
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
            with contextlib.suppress(OSError, ValueError, AssertionError):
                process.join(timeout=2)
        for end in (conn, lifeline):
            if end is not None:
                with contextlib.suppress(OSError):
                    end.close()


def _worker_main(conn: Connection, lifeline: Connection) -> None:
    """A worker: run jobs until the main process closes the pipe or dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(lifeline)
    conn.send("ready")
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:  # the caller decides what a failed job means
            answer = ("error", exc)
        try:
            conn.send(answer)
        except Exception as exc:  # an unpicklable result or exception
            conn.send(("error", WorkerDied(f"the job's answer could not be sent back: {exc!r}")))


def _die_with_parent(lifeline: Connection) -> None:
    """Exit when the main process is gone: the kernel kills us when our parent (the fork
    server, which exits with the main process) dies, and a thread waits on a pipe that only
    the main process holds open, for when the main process dies first."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            lifeline.recv_bytes()
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="newsbot-lifeline").start()


@dataclass
class WorkerPool:
    """The pool ``factory`` makes, made on first use and made again if a worker dies.
    ``jobs`` is how many jobs it holds now, running or waiting for a worker."""

    factory: Callable[[], Executor]
    _executor: Executor | None = field(default=None, init=False)
    jobs: int = field(default=0, init=False)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work in the pool; a pool whose worker died is replaced. Raises
        :class:`JobTimeout` when the job ran past the pool's limit."""
        if self._executor is None:
            self._executor = self.factory()
        executor = self._executor
        self.jobs += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, function, *args)
        except JobTimeout:
            metrics.read_job_timeout()
            raise
        except BrokenProcessPool:
            if self._executor is executor:
                log.warning("worker pool broken; starting a new one")
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            raise
        finally:
            self.jobs -= 1

    def close(self) -> None:
        """Stop the pool; process workers are killed, not waited for."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
