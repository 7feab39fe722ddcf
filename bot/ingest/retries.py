"""Entries whose page read ran past the job limit: stored from the feed's text at once, and
read from their page once more, later (a server can be slow for a while; a hostile page is
not tried a third time). The list lives in the store's small state, so a restart neither
forgets a retry nor repeats one: a retry is taken off the list before it is tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import StoreError
from bot.models import FeedEntry
from bot.store.datadir import Store
from bot.store.documents import record_from_doc, record_to_doc

RETRY_AFTER = timedelta(hours=1)
TABLE = "read_retries"


@dataclass(frozen=True, slots=True)
class Retry:
    """One entry to read from its page once more."""

    feed: str
    entry: FeedEntry
    article_id: str


def remember(store: Store, retries: list[Retry], now: datetime) -> None:
    """Add ``retries``, due ``RETRY_AFTER`` from ``now``."""
    if not retries:
        return
    due = (now + RETRY_AFTER).isoformat()
    table = store.state_table(TABLE)
    table.put(
        {
            r.article_id: {"feed": r.feed, "entry": record_to_doc(r.entry), "due": due}
            for r in retries
        }
    )
    store.flush()


def take_due(store: Store, now: datetime) -> list[Retry]:
    """The retries due at ``now``, taken off the list (durably) before they are tried."""
    table = store.state_table(TABLE)
    due: list[Retry] = []
    damaged: list[str] = []
    for key, doc in list(table.keyed()):
        try:
            when = datetime.fromisoformat(str(doc["due"]))
        except (KeyError, TypeError, ValueError):
            when = now  # a damaged entry: tried now, then gone
        if when > now:
            continue
        try:
            entry = record_from_doc(FeedEntry, doc.get("entry") or {}, f"{TABLE} {key}")
        except (StoreError, TypeError):
            entry = None  # a damaged entry: dropped below, never tried
        if entry is not None:
            due.append(Retry(str(doc.get("feed", "")), entry, key))
        else:
            damaged.append(key)
    if due or damaged:
        table.drop_keys([r.article_id for r in due] + damaged)
        store.flush()
    return due
