"""Changing ``feeds.toml`` for admin commands: comments and order kept, every result validated.

The pure half takes the file's text and returns the new text: ``add_feeds_text``,
``remove_feed_text``, ``set_enabled_text``, ``rename_feed_text``, ``set_interval_text``. Each
parses the result with ``bot.config.parse_feeds`` and checks that it lists exactly the feeds
the change means (the others untouched, in order); anything else is refused with a
``FeedEditError`` and nothing is written. Values change through tomlkit, which keeps comments
and layout; a removed feed takes its own block with it (the comment lines directly above its
``[[feeds]]`` header and those inside it) and nothing else (``bot.feedblocks``).

The shell, ``edit_feeds_file``, applies one of them to the file: read, change, check that the
file is still what was read, replace it atomically (temporary file, fsync, rename, fsync of the
folder). A hand edit landing in between is not overwritten: the change is applied again on top
of the new text (it is a semantic operation: "pause BBC"), or refused with
``EditConflictError`` when it no longer fits (the feed was removed by hand). Our own writers
(the bot, the console) take a lock file beside it, so they never race each other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Item, Table

from bot.config import FeedConfig, parse_feeds
from bot.errors import ConfigFileError, EditConflictError, FeedEditError, UnknownFeedError
from bot.feedblocks import cut_block, key_line, split_lines
from bot.storage import fsync_dir

log = logging.getLogger("newsbot.feedfile")

MAX_ATTEMPTS = 3
_LIST_MAX_NAMES = 30


@dataclass(frozen=True, slots=True)
class Edited:
    """A changed text, the feeds it lists, and the feed the change was about (None: several)."""

    text: str
    feeds: tuple[FeedConfig, ...]
    feed: FeedConfig | None = None


@dataclass(frozen=True, slots=True)
class EditResult:
    """What ``edit_feeds_file`` did: the feeds before and after, and how often it re-read a
    file changed by hand under it (``reapplied``)."""

    before: tuple[FeedConfig, ...]
    after: tuple[FeedConfig, ...]
    feed: FeedConfig | None
    reapplied: int = 0


# -- finding a feed -------------------------------------------------------------------------


def find_feed(feeds: Sequence[FeedConfig], query: str) -> FeedConfig:
    """The feed a person means: its name in any case, else the one name starting with it."""
    wanted = _folded(query)
    for feed in feeds:
        if _folded(feed.name) == wanted:
            return feed
    starting = [f for f in feeds if wanted and _folded(f.name).startswith(wanted)]
    if len(starting) == 1:
        return starting[0]
    if starting:
        raise UnknownFeedError(
            f"{query.strip()!r} could be {_names(starting)}: give more of the name"
        )
    raise UnknownFeedError(_no_feed_message(feeds, query))


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def _exact(feeds: Sequence[FeedConfig], name: str) -> int:
    wanted = name.casefold()
    for index, feed in enumerate(feeds):
        if feed.name.casefold() == wanted:
            return index
    raise UnknownFeedError(_no_feed_message(feeds, name))


def _no_feed_message(feeds: Sequence[FeedConfig], query: str) -> str:
    if not feeds:
        return f"no feed named {query.strip()!r}: feeds.toml lists no feeds"
    names = [f.name for f in feeds]
    close = difflib.get_close_matches(query.strip(), names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"no feed named {query.strip()!r}{hint}; feeds are: {_names(feeds)}"


def _names(feeds: Sequence[FeedConfig]) -> str:
    names = [f.name for f in feeds[:_LIST_MAX_NAMES]]
    more = f" and {len(feeds) - _LIST_MAX_NAMES} more" if len(feeds) > _LIST_MAX_NAMES else ""
    return ", ".join(names) + more


# -- the pure edits -------------------------------------------------------------------------


def current_feeds(text: str, source: str = "feeds.toml") -> tuple[FeedConfig, ...]:
    """The feeds of the text a command is about to change; a file with problems is not
    changed by commands (the person fixing it by hand might lose work)."""
    try:
        return parse_feeds(text, source)
    except ConfigFileError as exc:
        raise FeedEditError(
            f"{source} has problems, so no command changes it until they are fixed:\n{exc}"
        ) from None


def add_feeds_text(text: str, new: Sequence[FeedConfig]) -> Edited:
    """Append ``[[feeds]]`` blocks for new feeds at the end of the file."""
    feeds = current_feeds(text)
    for feed in new:
        _refuse_duplicate(feeds, feed.name, feed.url)
        feeds = (*feeds, feed)
    if not new:
        return Edited(text, feeds)
    block = tomlkit.document()
    blocks = tomlkit.aot()
    for feed in new:
        blocks.append(_table(feed))
    block["feeds"] = blocks
    head = text.rstrip("\n")
    result = (head + "\n\n" if head.strip() else head) + tomlkit.dumps(block).lstrip("\n")
    return _checked(result, feeds, new[0] if len(new) == 1 else None)


def remove_feed_text(text: str, name: str) -> Edited:
    """Remove one feed's block: its lines and the comments that belong to it."""
    feeds = current_feeds(text)
    index = _exact(feeds, name)
    expected = feeds[:index] + feeds[index + 1 :]
    cut = cut_block(text, index)
    if cut is None:
        raise FeedEditError(
            "refused: feeds.toml is written in a way this command cannot change safely; "
            "edit it by hand"
        )
    return _checked(cut, expected, feeds[index])


def set_enabled_text(text: str, name: str, enabled: bool) -> Edited:
    """Pause (``enabled = false``) or resume (``enabled = true``) a feed."""
    return _set(text, name, "enabled", enabled)


def set_interval_text(text: str, name: str, minutes: int | None) -> Edited:
    """Set a feed's poll interval; None returns it to the ``[poll]`` default."""
    return _set(text, name, "interval_minutes", minutes)


def rename_feed_text(text: str, name: str, new_name: str) -> Edited:
    """Give a feed a new name (its store history moves with it: ``Store.rename_feed``)."""
    feeds = current_feeds(text)
    index = _exact(feeds, name)
    new_name = " ".join(new_name.split())
    others = feeds[:index] + feeds[index + 1 :]
    _refuse_duplicate(others, new_name, None)
    return _set(text, name, "name", new_name)


def _set(text: str, name: str, key: str, value: object) -> Edited:
    feeds = current_feeds(text)
    index = _exact(feeds, name)
    feed = dataclasses.replace(feeds[index], **{key: value})  # type: ignore[arg-type]
    expected = (*feeds[:index], feed, *feeds[index + 1 :])
    doc = tomlkit.parse(text)
    table = _blocks(doc)[index]
    if value is None:
        if key in table:
            return _checked(_drop_key(text, doc, table, index, key), expected, feed)
        return Edited(text, feeds, feed)
    if key in table:
        table[key] = value
    else:
        _insert_key(table, key, value)
    return _checked(tomlkit.dumps(doc), expected, feed)


def _refuse_duplicate(feeds: Sequence[FeedConfig], name: str, url: str | None) -> None:
    for index, other in enumerate(feeds, start=1):
        if other.name.casefold() == name.casefold():
            raise FeedEditError(f"a feed named {other.name!r} exists already (feed #{index})")
        if url is not None and url_key(other.url) == url_key(url):
            raise FeedEditError(f"feed {other.name!r} (#{index}) already has the address {url}")


def url_key(url: str) -> str:
    """A feed address as compared for duplicates: scheme and host in lower case, no default
    port, no fragment, no trailing slash."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/") or ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{host}{path}{query}"


def _checked(text: str, expected: tuple[FeedConfig, ...], feed: FeedConfig | None) -> Edited:
    """The edit's result, unless it is invalid or lists other feeds than the change means."""
    try:
        feeds = parse_feeds(text, "feeds.toml as changed")
    except ConfigFileError as exc:
        raise FeedEditError(f"refused: the change would make feeds.toml invalid:\n{exc}") from None
    if feeds != expected:
        raise FeedEditError(
            "refused: feeds.toml is written in a way this command cannot change safely; "
            "edit it by hand"
        )
    return Edited(text, feeds, feed)


def _blocks(doc: tomlkit.TOMLDocument) -> AoT:
    blocks = doc.get("feeds")
    if not isinstance(blocks, AoT):
        raise FeedEditError(
            "feeds.toml lists its feeds in a form commands cannot change ([[feeds]] blocks "
            "are needed); edit it by hand"
        )
    return blocks


def _table(feed: FeedConfig) -> Table:
    table = tomlkit.table()
    table["name"] = feed.name
    table["url"] = feed.url
    if feed.topic is not None:
        table["topic"] = feed.topic
    if feed.tags:
        table["tags"] = list(feed.tags)
    if feed.interval_minutes is not None:
        table["interval_minutes"] = feed.interval_minutes
    if not feed.enabled:
        table["enabled"] = False
    return table


def _insert_key(table: Table, key: str, value: object) -> None:
    """Add a key after the block's last key, before comments that close the block (tomlkit
    would append it after them, under the next block's heading comment)."""
    container = table.value
    keys = [k for k, _ in container.body if k is not None]
    if not keys:
        table[key] = value
        return
    container._insert_after(keys[-1].key, key, tomlkit.item(value))


def _drop_key(text: str, doc: tomlkit.TOMLDocument, table: Table, index: int, key: str) -> str:
    """Remove a key's line; a comment at its end stays, as a line of its own."""
    item = table.value.item(key)
    comment = item.trivia.comment.strip() if isinstance(item, Item) else ""
    line = key_line(text, index, key)
    if comment and line is not None:
        lines = split_lines(text)
        indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
        lines[line] = f"{indent}{comment}\n"
        return "".join(lines)
    del table[key]
    return tomlkit.dumps(doc)


# -- the file -------------------------------------------------------------------------------


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
    path = path.resolve()
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)


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
