"""``newsbot fetch``: poll the configured feeds into the archive, once or until stopped."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC
from typing import Any, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from bot import metrics
from bot.config import Config, load_config
from bot.errors import InputError
from bot.feedconfig.diff import pending_renames
from bot.feedconfig.watch import move_renamed_history, watch_poller
from bot.ingest.jobs import TICK_S, PollTicker, add_poll_job
from bot.ingest.poll import FeedReport
from bot.ingest.pollsetup import open_poller
from bot.logfields import fields

log = logging.getLogger("newsbot.fetch")
_BAR_CELLS = 30


def add_commands(commands: Any) -> None:
    """Add ``fetch`` to the ``newsbot`` command line."""
    fetch = commands.add_parser(
        "fetch",
        help="poll the feeds into the archive",
        description=(
            "Poll the feeds of feeds.toml (NEWSBOT_CONFIG) into the archive and search index "
            "(NEWSBOT_DATA). Without --once, keeps polling each feed on its interval until "
            "interrupted (SIGINT or SIGTERM)."
        ),
    )
    fetch.add_argument(
        "--once",
        action="store_true",
        help="poll every due feed once, print a table and exit",
    )
    fetch.add_argument(
        "--now",
        action="store_true",
        help="with --once: poll every enabled feed, whatever its schedule or backoff",
    )
    fetch.add_argument(
        "--tick-seconds",
        type=_positive_float,
        default=TICK_S,
        metavar="S",
        help=f"how often to look for due feeds when running on (default {TICK_S:g})",
    )
    fetch.add_argument(
        "-v", "--verbose", action="store_true", help="log every feed polled (stderr)"
    )
    fetch.set_defaults(handler=_cmd_fetch)


def _cmd_fetch(args: argparse.Namespace) -> int:
    config = load_config(os.environ)
    configure_logging(logging.INFO if args.verbose or not args.once else logging.WARNING)
    if args.now and not args.once:
        raise InputError("--now goes with --once: newsbot fetch --once --now")
    if args.once:
        return asyncio.run(
            fetch_once(config, sys.stdout, show_progress=sys.stdout.isatty(), every=args.now)
        )
    return asyncio.run(fetch_forever(config, tick_s=args.tick_seconds))


def configure_logging(level: int) -> None:
    """Event lines on stderr; the ``httpx`` logger stays at WARNING (it logs full URLs)."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def fetch_once(
    config: Config, out: TextIO, *, show_progress: bool = False, every: bool = False
) -> int:
    """Poll every due feed once (``every``: every enabled feed) and print the table; failing
    feeds do not fail the run. A feed whose address changed is due at once."""
    async with open_poller(config) as poller:
        now = poller.clock()
        due = poller.due_feeds(now, every=every)
        if not due:
            out.write(_nothing_due(config, poller.store.feed_states()))
            return 0
        progress = _Progress(len(due), sys.stderr) if show_progress else None
        started = time.monotonic()
        reports = await poller.poll_feeds(due, progress.step if progress else None)
        if progress is not None:
            progress.close()
        out.write(format_table(reports))
        out.write(_summary(reports, time.monotonic() - started))
    return 0


async def fetch_forever(config: Config, *, tick_s: float = TICK_S) -> int:
    """Poll each feed when due until SIGINT/SIGTERM; then let polls in flight commit."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    served = config.settings.metrics
    with metrics.serving(served.listen, served.port):
        return await _fetch_forever(config, loop, stop, tick_s)


async def _fetch_forever(
    config: Config, loop: asyncio.AbstractEventLoop, stop: asyncio.Event, tick_s: float
) -> int:
    async with open_poller(config) as poller:
        move_renamed_history(
            poller.store, pending_renames(config.feeds, poller.store.feed_states())
        )
        watcher = watch_poller(poller)  # feeds.toml edits apply while it runs (logged)
        ticker = PollTicker(poller)
        scheduler = AsyncIOScheduler(timezone=UTC)
        add_poll_job(scheduler, ticker, tick_s=tick_s)
        scheduler.start()
        watcher.start()
        log.info("fetching %s", fields(feeds=len(config.feeds), tick_s=tick_s))
        await stop.wait()
        await watcher.stop()
        scheduler.shutdown(wait=False)
        log.info("stopping %s", fields(polls_in_flight=len(poller.in_flight)))
        drain = asyncio.create_task(ticker.drain())
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second signal: stop at once
            loop.add_signal_handler(signum, drain.cancel)
        try:
            await drain
        except asyncio.CancelledError:
            log.warning("stopped before polls in flight ended; they run again at next start")
    return 0


def format_table(reports: Sequence[FeedReport]) -> str:
    """The per-feed table: feed, HTTP status, new, updated, errors, time; then each error."""
    header = ("feed", "status", "new", "updated", "errors", "time")
    rows = [
        (
            _one_line(r.feed, 40),
            str(r.status) if r.status is not None else "-",
            str(r.new),
            str(r.updated),
            str(r.errors),
            f"{r.seconds:.2f} s",
        )
        for r in reports
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        numbers = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        cells = [row[0].ljust(widths[0]), *numbers]
        lines.append("  ".join(cells).rstrip())
    problems = [f"{_one_line(r.feed, 40)}: {_one_line(r.error, 200)}" for r in reports if r.error]
    if problems:
        lines += ["", *problems]
    return "\n".join(lines) + "\n"


def _summary(reports: Sequence[FeedReport], seconds: float) -> str:
    failed = sum(1 for r in reports if r.errors)
    return (
        f"\n{len(reports)} feeds polled in {seconds:.1f} s: {sum(r.new for r in reports)} new, "
        f"{sum(r.updated for r in reports)} updated, {failed} failed\n"
    )


def _nothing_due(config: Config, states: dict[str, Any]) -> str:
    enabled = [f for f in config.feeds if f.enabled]
    if not enabled:
        return "no enabled feed in feeds.toml: nothing to poll\n"
    upcoming = sorted(
        (states[f.name].next_poll, f.name)
        for f in enabled
        if f.name in states and states[f.name].next_poll is not None
    )
    when, name = upcoming[0]
    return f"no feed is due; the next is {name} at {when.isoformat(timespec='seconds')}\n"


def _one_line(text: str | None, max_chars: int) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= max_chars else line[: max_chars - 1] + "…"


class _Progress:
    """A one-line progress bar on a terminal: feeds polled out of those due."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = max(total, 1)
        self._done = 0
        self._stream = stream
        self._draw()

    def step(self, report: FeedReport) -> None:
        self._done += 1
        self._draw()

    def close(self) -> None:
        self._stream.write("\r\x1b[2K")
        self._stream.flush()

    def _draw(self) -> None:
        filled = _BAR_CELLS * self._done // self._total
        bar = "█" * filled + "·" * (_BAR_CELLS - filled)
        self._stream.write(f"\r{bar} {self._done}/{self._total} feeds")
        self._stream.flush()


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0, got {number:g}")
    return number
