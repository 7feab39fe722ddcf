"""Changes to the text of ``feeds.toml`` for admin commands (pure): comments and order kept.

``add_feeds_text``, ``remove_feed_text``, ``set_enabled_text``, ``rename_feed_text`` and
``set_interval_text`` take the file's text and return the new text. Each parses the result
with ``bot.config.parse_feeds`` and checks that it lists exactly the feeds the change means
(the others untouched, in order); anything else is refused with a ``FeedEditError``. Values
change through tomlkit, which keeps comments and layout; a removed feed takes its own block
with it (the comment lines directly above its ``[[feeds]]`` header and those inside it) and
nothing else (``bot.feedconfig.blocks``). ``find_feed`` turns what a person typed into a feed.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import tomlkit
from tomlkit.items import AoT, Item, Table

from bot.config import FeedConfig, parse_feeds
from bot.errors import ConfigFileError, FeedEditError, UnknownFeedError
from bot.feedconfig.blocks import cut_block, key_line, split_lines

_LIST_MAX_NAMES = 30


@dataclass(frozen=True, slots=True)
class Edited:
    """A changed text, the feeds it lists, and the feed the change was about (None: several)."""

    text: str
    feeds: tuple[FeedConfig, ...]
    feed: FeedConfig | None = None


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
