"""Writing ``feeds.toml`` for admin commands: atomically, and never over a hand edit.

``edit_feeds_file`` applies one of ``bot.feedconfig.text``'s changes to the file: read, change,
check that the file is still what was read, replace it atomically (temporary file, fsync,
rename, fsync of the folder). A hand edit landing in between is not overwritten: the change is
applied again on top of the new text (it is a semantic operation: "pause BBC"), or refused with
``EditConflictError`` when it no longer fits (the feed was removed by hand). The window left is
the instant between that last check and the rename, which no editor's save can be told from. Our
own writers (the bot, the console) take a lock file beside it, so they never race each other.
``add_feed``, ``remove_feed``, ``set_enabled``, ``set_interval`` and ``rename_feed`` are the
commands; they block (fsync, lock): call them off the event loop."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import FeedConfig
from bot.errors import EditConflictError, FeedEditError
from bot.feedconfig.text import (
    Edited,
    add_feeds_text,
    current_feeds,
    find_feed,
    remove_feed_text,
    rename_feed_text,
    set_enabled_text,
    set_interval_text,
)
from bot.store.atomic import write_atomically

log = logging.getLogger("newsbot.feedfile")

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class EditResult:
    """What ``edit_feeds_file`` did: the feeds before and after, and how often it re-read a
    file changed by hand under it (``reapplied``)."""

    before: tuple[FeedConfig, ...]
    after: tuple[FeedConfig, ...]
    feed: FeedConfig | None
    reapplied: int = 0


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_text(path: Path) -> str:
    """The file's text ("" when it does not exist yet)."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise FeedEditError(f"{path}: not UTF-8 text (byte {exc.start}); fix it by hand") from None
    except OSError as exc:
        raise FeedEditError(f"cannot read {path}: {exc.strerror or exc}") from None


def edit_feeds_file(
    path: Path,
    change: Callable[[str], Edited],
    *,
    before_replace: Callable[[], None] | None = None,
) -> EditResult:
    """Apply a change to the file, keeping any hand edit that lands meanwhile (see the
    module docstring). ``before_replace`` runs between the change and the check that the
    file is unchanged: the seam where tests land a hand edit."""
    with _writers_lock(path):
        for attempt in range(MAX_ATTEMPTS):
            text = read_text(path)
            digest = file_digest(text.encode("utf-8"))
            try:
                before = current_feeds(text, str(path))
                edited = change(text)
            except FeedEditError as exc:
                if attempt == 0:
                    raise
                raise EditConflictError(
                    f"{path} was edited by hand while the command ran, and the command no "
                    f"longer applies: {exc}\nNothing was written; look at the file and try again."
                ) from None
            if before_replace is not None:
                before_replace()
            if file_digest(read_text(path).encode("utf-8")) != digest:
                log.info("feeds file changed while editing; applying again path=%s", path)
                continue
            if edited.text != text:
                try:
                    write_text_atomically(path, edited.text)
                except OSError as exc:
                    raise FeedEditError(f"cannot write {path}: {exc.strerror or exc}") from None
            return EditResult(before, edited.feeds, edited.feed, reapplied=attempt)
    raise EditConflictError(
        f"{path} kept changing while the command ran; nothing was written. Try again when "
        "nobody is editing it."
    )


def add_feeds(path: Path, feeds: Sequence[FeedConfig]) -> EditResult:
    return edit_feeds_file(path, lambda text: add_feeds_text(text, feeds))


def add_feed(path: Path, feed: FeedConfig) -> EditResult:
    return add_feeds(path, [feed])


def remove_feed(path: Path, query: str) -> EditResult:
    name = _resolve(path, query)
    return edit_feeds_file(path, lambda text: remove_feed_text(text, name))


def set_enabled(path: Path, query: str, enabled: bool) -> EditResult:
    name = _resolve(path, query)
    return edit_feeds_file(path, lambda text: set_enabled_text(text, name, enabled))


def set_interval(path: Path, query: str, minutes: int | None) -> EditResult:
    name = _resolve(path, query)
    return edit_feeds_file(path, lambda text: set_interval_text(text, name, minutes))


def rename_feed(path: Path, query: str, new_name: str) -> EditResult:
    name = _resolve(path, query)
    return edit_feeds_file(path, lambda text: rename_feed_text(text, name, new_name))


def _resolve(path: Path, query: str) -> str:
    """The exact name a query means now; a change applied again after a hand edit looks for
    that name, never for another feed the query would also fit."""
    return find_feed(current_feeds(read_text(path), str(path)), query).name


def write_text_atomically(path: Path, text: str) -> None:
    """Replace the file: temporary file beside it (same permissions), fsync, rename, fsync
    of the folder. A crash leaves the old file or the new one, never a mix. A symbolic
    link is followed: the file it points at is replaced, the link stays."""
    write_atomically(path.resolve(), text.encode("utf-8"), keep_mode=True)


@contextlib.contextmanager
def _writers_lock(path: Path) -> Iterator[None]:
    """Serialise newsbot's own writers of the file (bot and console); a folder where no lock
    file can be made (read-only) will refuse the write itself."""
    try:
        fd = os.open(path.parent / f".{path.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
