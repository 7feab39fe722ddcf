"""Live reload of ``feeds.toml``: notice hand edits within seconds and hand over the difference.

``FeedsWatcher`` is an asyncio task that looks at the file every ``interval_s`` (2 s) by a hash
of its bytes (the file is small, and unlike a modification time a hash cannot miss two saves
within one clock tick; no dependency), validates a changed file with ``parse_feeds`` and calls
``on_change`` with the difference (``bot.feedconfig.diff``), or ``on_error`` with the
``ConfigFileError`` (file, line, key) while the last good feeds stay in force. An invalid text
is reported once. A new text is acted on when two looks in a row saw it, so an editor caught
halfway through a save (an empty or cut file) neither removes feeds nor alarms anyone.
``check()`` looks at once (``/reload``, and after an admin command wrote the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import FEEDS_FILE, FeedConfig, parse_feeds
from bot.errors import ConfigFileError
from bot.feedconfig.diff import FeedChanges, diff_feeds
from bot.logfields import fields as log_fields
from bot.store.contract import ArticleStore

if TYPE_CHECKING:
    from bot.ingest.poll import Poller

log = logging.getLogger("newsbot.watch")

WATCH_INTERVAL_S = 2.0


def move_renamed_history(store: ArticleStore, renames: Sequence[tuple[str, str]]) -> int:
    """Carry each renamed feed's state and seen entries to its new name (``changes.renamed``
    from the watcher, or ``pending_renames`` at start); returns the seen marks moved."""
    moved = 0
    for old, new in renames:
        moved += store.rename_feed(old, new)
        log.info("feed renamed %s", log_fields(old=old, new=new))
    return moved


# -- the watcher ----------------------------------------------------------------------------

OnChange = Callable[[FeedChanges], Awaitable[None]]
OnError = Callable[[ConfigFileError], Awaitable[None]]
RENAME_WAIT_S = 300.0


class FeedsWatcher:
    """Watches one ``feeds.toml`` and keeps ``feeds``, the last good list, in force."""

    def __init__(
        self,
        path: Path,
        feeds: Sequence[FeedConfig],
        on_change: OnChange,
        on_error: OnError,
        *,
        interval_s: float = WATCH_INTERVAL_S,
    ) -> None:
        self.path = path
        self.feeds: tuple[FeedConfig, ...] = tuple(feeds)
        self._on_change = on_change
        self._on_error = on_error
        self.interval_s = interval_s
        self._good_digest: str | None = None  # the first look compares the file with ``feeds``
        self._last_error: ConfigFileError | None = None
        self._pending_digest: str | None = None  # a new text waiting one look to settle
        self._reported_digest: str | None = None  # the invalid text admins were told of
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> asyncio.Task[None]:
        """Run ``watch()`` as a task on the running loop."""
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self.watch(), name="feeds-watcher")
        return self._task

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def watch(self) -> None:
        """Look every ``interval_s`` until ``stop()``; a failing callback is logged, the
        watching goes on."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)
            if self._stopping.is_set():
                return
            try:
                await self.check(settle=True)
            except Exception:
                log.exception("feeds watcher check failed %s", log_fields(path=str(self.path)))

    async def check(self, *, settle: bool = False) -> FeedChanges | ConfigFileError | None:
        """Look at the file now: the changes applied, the error reported, or None when the
        file says what is in force already. ``settle`` (the periodic watch): act on a new text
        only when the previous look saw it too, so a save caught halfway (an empty or cut
        file) is never applied; without it (``/reload``, after a command), at once."""
        async with self._lock:
            data, problem = self._read()
            digest = hashlib.sha256(data).hexdigest() if problem is None else problem
            if digest == self._good_digest:
                self._pending_digest = self._reported_digest = None
                return None
            if digest == self._reported_digest:
                self._pending_digest = None
                return None if settle else self._last_error
            if settle and digest != self._pending_digest:
                self._pending_digest = digest  # act on it at the next look if it stays
                return None
            self._pending_digest = None
            try:
                if problem is not None:
                    raise ConfigFileError([problem])
                feeds = parse_feeds(_decode(data, self.path), str(self.path))
            except ConfigFileError as exc:
                self._reported_digest, self._last_error = digest, exc
                log.warning(
                    "feeds file invalid; last good feeds kept %s", log_fields(path=str(self.path))
                )
                await self._on_error(exc)
                return exc
            self._good_digest, self._reported_digest = digest, None
            if feeds == self.feeds:
                return None
            changes = diff_feeds(self.feeds, feeds)
            self.feeds = feeds
            log.info(
                "feeds file changed %s",
                log_fields(
                    added=len(changes.added),
                    removed=len(changes.removed),
                    changed=len(changes.changed),
                ),
            )
            await self._on_change(changes)
            return changes

    def _read(self) -> tuple[bytes, str | None]:
        """The file's bytes, or why there are none (a missing file is an invalid edit)."""
        try:
            return self.path.read_bytes(), None
        except FileNotFoundError:
            return b"", f"{self.path}: missing; the feeds in force stay until it is back"
        except OSError as exc:
            return b"", f"{self.path}: cannot be read: {exc.strerror or exc}"


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None


def watch_poller(
    poller: Poller,
    *,
    on_change: OnChange | None = None,
    on_error: OnError | None = None,
    interval_s: float = WATCH_INTERVAL_S,
) -> FeedsWatcher:
    """A watcher that keeps a poller's feeds in step with the file (``newsbot fetch`` and the
    bot): changes take effect at the next poll tick, renamed feeds keep their history, and
    resumed feeds and feeds at a new address are polled at that tick.
    ``on_change`` / ``on_error`` then hear of it (the bot tells admins). Call ``start()``."""

    async def changed(changes: FeedChanges) -> None:
        if changes.renamed:
            moving = {name for pair in changes.renamed for name in pair}
            resting = tuple(f for f in changes.feeds if f.name not in moving)
            poller.config = dataclasses.replace(poller.config, feeds=resting)
            await _until_not_in_flight(poller, {old for old, _ in changes.renamed})
            move_renamed_history(poller.store, changes.renamed)
        poller.config = dataclasses.replace(poller.config, feeds=changes.feeds)
        poller.poll_soon(_to_poll_now(changes))
        if on_change is not None:
            await on_change(changes)

    async def invalid(error: ConfigFileError) -> None:
        if on_error is not None:
            await on_error(error)

    path = poller.config.config_dir / FEEDS_FILE
    return FeedsWatcher(path, poller.config.feeds, changed, invalid, interval_s=interval_s)


def _to_poll_now(changes: FeedChanges) -> list[str]:
    """Feeds a change asks to poll at the next tick, whatever their backoff: resumed ones and
    ones at a new address (a fix is tried at once, not after the old address's wait)."""
    return [
        c.after.name
        for c in changes.changed
        if c.after.enabled and ("url" in c.fields or "enabled" in c.fields)
    ]


async def _until_not_in_flight(poller: Poller, names: set[str]) -> None:
    """Wait for polls of feeds about to be renamed to commit (their state and marks are
    written under the old name, then moved)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RENAME_WAIT_S
    while names & poller.in_flight and loop.time() < deadline:
        await asyncio.sleep(0.1)
