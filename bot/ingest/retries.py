"""Entries whose page read ran past the job limit: stored from the feed's text at once, and
read from their page once more, later (a server can be slow for a while; a hostile page is
not tried a third time). The list lives in the store's small state, so a restart neither
forgets a retry nor repeats one: a retry is taken off the list before it is tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.errors import StoreError
from bot.models import FeedEntry
from bot.store.contract import ArticleStore
from bot.store.documents import record_from_doc, record_to_doc

RETRY_AFTER = timedelta(hours=1)
TABLE = "read_retries"
_KEY = "pending"


@dataclass(frozen=True, slots=True)
class Retry:
    """One entry to read from its page once more."""

    feed: str
    entry: FeedEntry
    article_id: str


def remember(store: ArticleStore, retries: list[Retry], now: datetime) -> None:
    """Add ``retries``, due ``RETRY_AFTER`` from ``now``."""
    if not retries:
        return
    due = (now + RETRY_AFTER).isoformat()
    pending = _pending(store)
    for r in retries:
        pending[r.article_id] = {"feed": r.feed, "entry": record_to_doc(r.entry), "due": due}
    _save(store, pending)


def take_due(store: ArticleStore, now: datetime) -> list[Retry]:
    """The retries due at ``now``, taken off the list (durably) before they are tried."""
    pending = _pending(store)
    due: list[Retry] = []
    for key, doc in list(pending.items()):
        try:
            when = datetime.fromisoformat(str(doc["due"]))
        except (KeyError, TypeError, ValueError):
            when = now  # a damaged entry: dropped below, never tried
        if when > now:
            continue
        del pending[key]
        try:
            entry = record_from_doc(FeedEntry, doc.get("entry") or {}, f"{TABLE} {key}")
        except (StoreError, TypeError, AttributeError):
            continue
        due.append(Retry(str(doc.get("feed", "")), entry, key))
    if due or len(pending) != len(_pending(store)):
        _save(store, pending)
    return due


def _pending(store: ArticleStore) -> dict[str, Any]:
    doc = store.state_table(TABLE).get_key(_KEY)
    items = doc.get("items") if doc is not None else None
    return dict(items) if isinstance(items, dict) else {}


def _save(store: ArticleStore, pending: dict[str, Any]) -> None:
    store.state_table(TABLE).put({_KEY: {"items": pending}})
    store.flush()
