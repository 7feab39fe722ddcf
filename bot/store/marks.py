"""The seen registry in memory: every processed feed entry's article id, content hash and shard.

A registry of 100 000 entries is held for the whole run, so it is kept small: marks are
grouped by feed (one dict of identities per feed, no (feed, identity) pair per entry) and a
SHA-256 content hash in hex (64 characters, 113 bytes as a str) is held as its 32 bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")

Mark = tuple[str | None, str, str]
"""(article id, content hash, shard key) of an entry."""


def _pack(content_hash: str) -> str | bytes:
    return bytes.fromhex(content_hash) if _HEX_SHA256.fullmatch(content_hash) else content_hash


def _unpack(packed: str | bytes) -> str:
    return packed.hex() if isinstance(packed, bytes) else packed


class Marks:
    """Seen marks by feed and entry identity (see the module docstring)."""

    def __init__(self) -> None:
        self._feeds: dict[str, dict[str, tuple[str | None, str | bytes, str]]] = {}

    def get(self, feed: str, identity: str) -> Mark | None:
        found = self._feeds.get(feed, {}).get(identity)
        return None if found is None else (found[0], _unpack(found[1]), found[2])

    def put(self, feed: str, identity: str, mark: Mark) -> None:
        article_id, content_hash, shard = mark
        self._feeds.setdefault(feed, {})[identity] = (article_id, _pack(content_hash), shard)

    def items(self) -> Iterator[tuple[str, str, Mark]]:
        """Every (feed, identity, mark), from a copy (the registry may change meanwhile)."""
        for feed, entries in list(self._feeds.items()):
            for identity, (article_id, packed, shard) in list(entries.items()):
                yield feed, identity, (article_id, _unpack(packed), shard)

    def rename_feed(self, old: str, new: str) -> None:
        """The old feed's marks join the new name's (the old name's win)."""
        moved = self._feeds.pop(old, None)
        if moved:
            self._feeds.setdefault(new, {}).update(moved)

    def drop_shards(self, gone: Iterable[str]) -> None:
        """Forget the marks kept in these shards."""
        gone = set(gone)
        for feed, entries in list(self._feeds.items()):
            kept = {i: m for i, m in entries.items() if m[2] not in gone}
            if kept:
                self._feeds[feed] = kept
            else:
                del self._feeds[feed]

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._feeds.values())
