"""Live reload of ``feeds.toml``: notice hand edits within seconds and hand over the difference.

``diff_feeds`` (pure) compares two feed lists: added, removed and changed feeds, where a feed
that kept its address under a new name is *renamed* (its history moves with it:
``Store.rename_feed``). ``FeedsWatcher`` is the shell: an asyncio task that looks at the file
every ``interval_s`` (2 s) by a hash of its bytes (the file is small, and unlike a modification
time a hash cannot miss two saves within one clock tick; no dependency), validates a changed
file with ``parse_feeds`` and calls ``on_change`` with the difference, or ``on_error`` with the
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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import FEEDS_FILE, FeedConfig, parse_feeds
from bot.errors import ConfigFileError
from bot.feedfile import url_key
from bot.logfields import fields as log_fields
from bot.models import FeedState
from bot.store import Store

if TYPE_CHECKING:
    from bot.poll import Poller

log = logging.getLogger("newsbot.watch")

WATCH_INTERVAL_S = 2.0


@dataclass(frozen=True, slots=True)
class FeedChange:
    """One feed kept across the change, with the fields that differ (``name``: renamed)."""

    before: FeedConfig
    after: FeedConfig
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """The difference between the feeds in force and a new list (``feeds``)."""

    feeds: tuple[FeedConfig, ...]
    added: tuple[FeedConfig, ...] = ()
    removed: tuple[FeedConfig, ...] = ()
    changed: tuple[FeedChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def renamed(self) -> tuple[tuple[str, str], ...]:
        """(old name, new name) of every renamed feed."""
        return tuple((c.before.name, c.after.name) for c in self.changed if "name" in c.fields)


def diff_feeds(before: Sequence[FeedConfig], after: Sequence[FeedConfig]) -> FeedChanges:
    """What changed from ``before`` to ``after``: matched by name (any case), then by
    address (a rename); the rest were added or removed."""
    old_by_name = {f.name.casefold(): f for f in before}
    pairs: list[tuple[FeedConfig, FeedConfig]] = []
    unmatched_new: list[FeedConfig] = []
    for feed in after:
        old = old_by_name.pop(feed.name.casefold(), None)
        if old is None:
            unmatched_new.append(feed)
        else:
            pairs.append((old, feed))
    old_by_url = {url_key(f.url): f for f in old_by_name.values()}
    added = []
    for feed in unmatched_new:
        old = old_by_url.pop(url_key(feed.url), None)
        if old is None:
            added.append(feed)
        else:
            pairs.append((old, feed))
    removed = tuple(f for f in before if f in old_by_url.values())
    changed = []
    for old, new in pairs:
        differing = tuple(
            f.name for f in fields(FeedConfig) if getattr(old, f.name) != getattr(new, f.name)
        )
        if differing:
            changed.append(FeedChange(old, new, differing))
    order = {f.name: i for i, f in enumerate(after)}
    changed.sort(key=lambda c: order[c.after.name])
    return FeedChanges(tuple(after), tuple(added), removed, tuple(changed))


def describe_changes(
    changes: FeedChanges, default_interval_minutes: int | None = None
) -> list[str]:
    """One line per change, for admins (plain text; the bot escapes it)."""
    lines = [f"added {f.name} ({f.url})" for f in changes.added]
    lines += [f"removed {f.name}" for f in changes.removed]
    for change in changes.changed:
        old, new = change.before, change.after
        parts = []
        if "name" in change.fields:
            parts.append(f"renamed from {old.name}")
        if "enabled" in change.fields:
            parts.append("resumed" if new.enabled else "paused")
        if "interval_minutes" in change.fields:
            parts.append(
                f"interval {_interval(old, default_interval_minutes)} → "
                f"{_interval(new, default_interval_minutes)}"
            )
        if "url" in change.fields:
            parts.append(f"address now {new.url}")
        if "topic" in change.fields:
            parts.append(f"topic {old.topic or '(none)'} → {new.topic or '(none)'}")
        if "tags" in change.fields:
            parts.append(f"tags {', '.join(new.tags) or '(none)'}")
        lines.append(f"{new.name}: {', '.join(parts)}")
    return lines


def _interval(feed: FeedConfig, default: int | None) -> str:
    if feed.interval_minutes is not None:
        return f"{feed.interval_minutes} min"
    return f"default ({default} min)" if default is not None else "default"


def pending_renames(
    feeds: Sequence[FeedConfig], states: Mapping[str, FeedState]
) -> list[tuple[str, str]]:
    """Renames the store has not caught up with (the file was changed while newsbot was
    down, or it stopped midway): a stored state under a name the file no longer has, whose
    address a configured feed without a state of its own now carries. Run
    ``Store.rename_feed`` for each at start."""
    configured = {f.name for f in feeds}
    orphans = {url_key(s.url): name for name, s in states.items() if name not in configured}
    renames = []
    for feed in feeds:
        old = orphans.pop(url_key(feed.url), None)
        if old is not None and feed.name not in states:
            renames.append((old, feed.name))
    return renames


def move_renamed_history(store: Store, renames: Sequence[tuple[str, str]]) -> int:
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
    bot): changes take effect at the next poll tick, renamed feeds keep their history.
    ``on_change`` / ``on_error`` then hear of it (the bot tells admins). Call ``start()``."""

    async def changed(changes: FeedChanges) -> None:
        if changes.renamed:
            moving = {name for pair in changes.renamed for name in pair}
            resting = tuple(f for f in changes.feeds if f.name not in moving)
            poller.config = dataclasses.replace(poller.config, feeds=resting)
            await _until_not_in_flight(poller, {old for old, _ in changes.renamed})
            move_renamed_history(poller.store, changes.renamed)
        poller.config = dataclasses.replace(poller.config, feeds=changes.feeds)
        if on_change is not None:
            await on_change(changes)

    async def invalid(error: ConfigFileError) -> None:
        if on_error is not None:
            await on_error(error)

    path = poller.config.config_dir / FEEDS_FILE
    return FeedsWatcher(path, poller.config.feeds, changed, invalid, interval_s=interval_s)


async def _until_not_in_flight(poller: Poller, names: set[str]) -> None:
    """Wait for polls of feeds about to be renamed to commit (their state and marks are
    written under the old name, then moved)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RENAME_WAIT_S
    while names & poller.in_flight and loop.time() < deadline:
        await asyncio.sleep(0.1)
