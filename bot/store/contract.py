"""The storage contract the rest of newsbot codes against: one Protocol, two implementations.

``ArticleStore``: the archive, the seen-entries registry, feed states, the chat store
(bot.store.chatstore) and a few small state records. The data folder's
``Store`` (bot.store.datadir) and PostgreSQL's ``PgStore`` (bot.store.pgarchive) both satisfy
it, and tests/store/test_contract.py runs the same tests against both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.models import FeedState, StoredArticle
from bot.store.archive import PruneResult, Seen, SeenMark
from bot.store.chatstore import ChatStore


class StateTable(Protocol):
    """A few small keyed records of another part's state (admin notices)."""

    def get_key(self, key: str) -> Mapping[str, Any] | None: ...

    def put(self, docs: Mapping[str, Mapping[str, Any]]) -> None: ...


class ArticleStore(Protocol):
    """Articles, seen marks and feed states; every write is durable when it returns."""

    @property
    def chat_store(self) -> ChatStore: ...

    def state_table(self, name: str) -> StateTable: ...

    def iter_marks(self) -> Iterator[SeenMark]: ...

    def seen(self, feed: str, identity: str) -> Seen | None: ...

    def is_seen(self, feed: str, identity: str) -> bool: ...

    def seen_hashes(self, feed: str, identities: Iterable[str]) -> dict[str, str]: ...

    def feed_state(self, name: str) -> FeedState | None: ...

    def feed_states(self) -> dict[str, FeedState]: ...

    def remove_feed_state(self, name: str) -> None: ...

    def rename_feed(self, old: str, new: str) -> int: ...

    def commit_cycle(
        self,
        now: datetime,
        articles: Sequence[StoredArticle] = (),
        marks: Sequence[SeenMark] = (),
        feed_states: Mapping[str, FeedState] | None = None,
    ) -> None: ...

    def get(self, ids: Iterable[str]) -> list[StoredArticle]: ...

    def iter_articles(self, since: datetime | None = None) -> Iterator[StoredArticle]: ...

    def article_count(self) -> int: ...

    def prune(
        self, now: datetime, retention_days: int, seen_retention_days: int
    ) -> PruneResult: ...

    def expired_ids(self, now: datetime, retention_days: int) -> list[str]: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> ArticleStore: ...

    def __exit__(self, *exc: object) -> None: ...
