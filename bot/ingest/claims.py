"""Sharing one poll's feeds between processes on one database: claims taken a few at a time.

A cycle does not claim all its due feeds at once: the first process to start would hold them
all and the others would have nothing to do while it reads thousands of pages. It claims a
few feeds at a time, and more as polls end while its page workers are short of work
(``Poller``), so every process keeps busy while feeds remain and none holds feeds it cannot
start soon. Each process walks its feeds from its own random
starting point, so processes rarely ask for the same feeds at the same moment.

A feed claimed here is polled only if its state is still the one the cycle decided on: a
feed another process polled and committed meanwhile (its claim since released) is skipped.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping, Sequence

from bot.config import FeedConfig
from bot.models import FeedState
from bot.store.pgarchive import PgStore

CLAIM_LEASE_S = 900.0
"""How long a feed claim lasts unless released: longer than any poll, so only a process that
died (or hung) loses its claims, and then another polls the feed."""


class FeedClaims:
    """The feeds of one cycle not yet claimed, and those this process holds."""

    def __init__(
        self,
        store: PgStore,
        owner: str,
        feeds: Sequence[FeedConfig],
        expected: Mapping[str, FeedState | None],
        rng: random.Random,
    ) -> None:
        self._store = store
        self._owner = owner
        self._expected = expected
        start = rng.randrange(len(feeds)) if feeds else 0
        self._pending = deque([*feeds[start:], *feeds[:start]])
        self._held: set[str] = set()

    @property
    def pending(self) -> bool:
        """Whether feeds remain that this cycle has not tried to claim."""
        return bool(self._pending)

    def next(self, count: int) -> list[FeedConfig]:
        """Claim up to ``count`` of the pending feeds; returns those this process should poll
        (possibly none, while feeds remain pending: call again). Feeds another process holds
        or polled meanwhile leave the cycle."""
        asked = [self._pending.popleft() for _ in range(min(count, len(self._pending)))]
        if not asked:
            return []
        claimed = self._store.claim_feeds([f.name for f in asked], self._owner, CLAIM_LEASE_S)
        kept = [
            f
            for f in asked
            if f.name in claimed and self._store.feed_state(f.name) == self._expected.get(f.name)
        ]
        self._held |= {f.name for f in kept}
        self.release(sorted(claimed - {f.name for f in kept}))
        return kept

    def release(self, names: Sequence[str]) -> None:
        """Give up the claims on ``names`` (their outcomes are committed, or they are skipped)."""
        if names:
            self._store.release_feeds(sorted(names), self._owner)
            self._held -= set(names)

    def release_all(self) -> None:
        """Give up every claim still held (the cycle ends, or stops)."""
        self.release(sorted(self._held))
