"""Read jobs that never end: the worker is killed and replaced, stop never waits for it, and
no worker outlives the main process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.ingest.entry import ReadJob, ReadSettings, read_entry
from bot.ingest.workers import JobTimeout, ProcessWorkers, WorkerDied, WorkerPool
from tests.hostile.test_attribution import QUOTE_BOMB

ROOT = Path(__file__).resolve().parents[2]


def spin() -> None:
    """A job that never ends on its own (a hostile page stuck in C code looks the same)."""
    while True:
        pass


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: its parent has not reaped it yet
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: list[int], within_s: float = 20.0) -> list[int]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if is_alive(pid)]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def test_a_job_past_its_limit_has_its_worker_killed_and_replaced() -> None:
    """The stuck job fails with JobTimeout, its process is gone, the next job runs."""

    async def scenario() -> tuple[int, int]:
        pool = WorkerPool(lambda: ProcessWorkers(1, job_timeout_s=1.0))
        try:
            # os.getpid needs no import in the worker, so a busy machine cannot push it past
            # the limit; only the endless job meets it.
            first = await pool.run(os.getpid)
            with pytest.raises(JobTimeout):
                await pool.run(spin)
            second = await pool.run(os.getpid)
        finally:
            pool.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first != second
    assert wait_gone([first]) == []


def test_closing_the_pool_never_waits_for_a_stuck_job() -> None:
    """close() kills a worker in the middle of an endless job; the job fails, nothing hangs."""

    async def scenario() -> list[int]:
        workers = ProcessWorkers(2, job_timeout_s=3600)
        pool = WorkerPool(lambda: workers)
        stuck = [asyncio.ensure_future(pool.run(spin)) for _ in range(2)]
        while len(workers.worker_pids) < 2:
            await asyncio.sleep(0.05)
        pids = workers.worker_pids
        pool.close()
        for job in stuck:
            with pytest.raises((WorkerDied, asyncio.CancelledError)):
                await job
        return pids

    pids = asyncio.run(scenario())
    assert wait_gone(pids) == []


_ORPHAN_SCRIPT = """
import asyncio, sys
from bot.ingest.workers import ProcessWorkers, WorkerPool
from tests.hostile.test_workers import spin

async def main():
    workers = ProcessWorkers(2, job_timeout_s=3600)
    pool = WorkerPool(lambda: workers)
    jobs = [asyncio.ensure_future(pool.run(spin)) for _ in range(2)]
    while len(workers.worker_pids) < 2:
        await asyncio.sleep(0.05)
    print(" ".join(map(str, workers.worker_pids)), flush=True)
    await asyncio.sleep(3600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_workers_exit_when_the_main_process_is_killed(tmp_path: Path) -> None:
    """kill -9 of the main process during endless jobs leaves no worker running."""
    script = tmp_path / "orphans.py"
    script.write_text(_ORPHAN_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    main = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert main.stdout is not None
        pids = [int(pid) for pid in main.stdout.readline().split()]
        assert len(pids) == 2
        assert all(is_alive(pid) for pid in pids)
        main.send_signal(signal.SIGKILL)
        main.wait(timeout=10)
        assert wait_gone(pids) == []
    finally:
        if main.poll() is None:
            main.kill()
            main.wait(timeout=10)


def _page(body: str) -> bytes:
    head = "<html><head><title>Hostile</title></head>"
    return f"{head}<body><article>{body}</article></body></html>".encode()


def test_a_quote_bomb_page_is_read_within_the_job_limit() -> None:
    """400 “Yes,” he said. quotes (minutes of work before the fix) are read from the page."""
    paragraphs = "".join(f"<p>{part}</p>" for part in [QUOTE_BOMB] * 2)
    job = ReadJob(
        url="https://news.test/bomb",
        title="Hostile",
        page=_page(paragraphs),
        page_content_type="text/html",
        page_problem=None,
        feed_html="<p>The feed's own short text.</p>",
        settings=ReadSettings(),
    )

    async def scenario() -> str:
        pool = WorkerPool(lambda: ProcessWorkers(1, job_timeout_s=30.0))
        try:
            return (await pool.run(read_entry, job)).source
        finally:
            pool.close()

    assert asyncio.run(scenario()) == "page"
