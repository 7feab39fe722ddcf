"""Keyword alerts: a new article matching a chat's saved words is pushed at once.

Each tick, articles stored since the last check are matched against every chat's alerts
with the search's own semantics (bot.search.backend.open_matcher: the embedded index's, or
PostgreSQL's in PostgreSQL mode, so an alert fires when /search would find the article; neither
keeps anything in the data folder) and submitted through Delivery
as kind "alert": the ledger then counts the article as delivered to the chat, so its digest
does not repeat it, and a second match (a restart, an overlap) is dropped.

``alert_messages`` is the pure core; ``Alerts`` is the shell.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from bot.delivery.chats import Alert, Chats
from bot.delivery.ledger import Outgoing
from bot.delivery.prefs import ChatPrefs
from bot.delivery.render import render_alert
from bot.delivery.target import Target
from bot.errors import QueryError
from bot.logfields import fields
from bot.models import StoredArticle
from bot.search.backend import open_matcher
from bot.search.query import Query, parse_query
from bot.store.contract import ArticleStore

log = logging.getLogger("newsbot.alerts")
K = TypeVar("K", bound=Hashable)

ALERTS_MARK = "alerts_checked"
ALERT_OVERLAP = timedelta(minutes=15)
"""Articles are matched against alerts again this far back: a poll cycle stamps ``fetched``
before it commits, so an article may land in the store after a tick has passed its time."""
ALERT_RESCAN = timedelta(minutes=5)
"""The archive is read at least this often (and the mark saved), changed or not."""


class Sender(Protocol):
    """What alerts need of Delivery."""

    async def submit(self, messages: Sequence[Outgoing]) -> list[Outgoing]: ...


def alert_messages(
    article: StoredArticle,
    alerts_by_chat: Mapping[K, Sequence[tuple[Alert, Query]]],
    prefs_by_chat: Mapping[K, ChatPrefs],
    *,
    now: datetime,
    is_match: Callable[[Query], bool],
) -> list[Outgoing]:
    """One alert message per chat with an alert the article matches (its first such alert);
    ``is_match`` tells whether the article matches a query.

    Each distinct query runs once per article, however many chats saved it."""
    messages: list[Outgoing] = []
    verdicts: dict[str, bool] = {}

    def matched(query: Query) -> bool:
        key = str(query)
        if key not in verdicts:
            verdicts[key] = is_match(query)
        return verdicts[key]

    for chat_id, alerts in alerts_by_chat.items():
        prefs = prefs_by_chat.get(chat_id)
        if prefs is None or not prefs.active:
            continue
        hit = next((alert for alert, query in alerts if matched(query)), None)
        if hit is None:
            continue
        text = render_alert(
            article,
            words=hit.words,
            tz=prefs.zone,
            now=now,
            lead_sentences=prefs.lead_sentences,
        )
        key = f"alert:{prefs.target.key}:{article.id}:0"
        messages.append(Outgoing(key, prefs.chat_id, text, (article.id,), "alert", prefs.thread_id))
    return messages


class Alerts:
    """The alert check of one running bot (one event loop)."""

    def __init__(self, chats: Chats, store: ArticleStore, sender: Sender) -> None:
        self.chats = chats
        self.store = store
        self.sender = sender
        self._alerts_seen: dict[str, datetime] = {}
        self._alert_mark: datetime | None = None
        self._saved_mark = datetime.min.replace(tzinfo=UTC)
        self._scanned_at = datetime.min.replace(tzinfo=UTC)
        self._article_count = -1

    def start(self, now: datetime) -> None:
        """A first start matches only articles stored from now on."""
        if self.chats.mark(ALERTS_MARK) is None:
            self.chats.set_mark(ALERTS_MARK, now)

    async def check(self, now: datetime) -> int:
        """Match articles stored since the last check against every chat's alerts.

        The archive is read only when its article count changed, or every ``ALERT_RESCAN``
        anyway; the mark reaches state.json as often (a restart rescans ``ALERT_OVERLAP``
        more, and the ledger drops what was sent already)."""
        if self._alert_mark is None:
            self._alert_mark = self._saved_mark = self.chats.mark(ALERTS_MARK) or now
        mark = self._alert_mark
        count = self.store.article_count()
        is_due = now - self._scanned_at >= ALERT_RESCAN
        planned: list[Outgoing] = []
        if count != self._article_count or is_due:
            self._article_count, self._scanned_at = count, now
            planned = await self._match_alerts(mark - ALERT_OVERLAP, now)
        self._alert_mark = max(now, mark)
        if now - self._saved_mark >= ALERT_RESCAN:
            self.chats.set_mark(ALERTS_MARK, self._alert_mark)
            self._saved_mark = self._alert_mark
        return len(planned)

    async def _match_alerts(self, start: datetime, now: datetime) -> list[Outgoing]:
        self._alerts_seen = {k: v for k, v in self._alerts_seen.items() if v > start}
        fresh = [
            a
            for a in self.store.iter_articles(since=start)
            if a.fetched > start and a.id not in self._alerts_seen
        ]
        alerts = self._parsed_alerts() if fresh else {}
        messages: list[Outgoing] = []
        if alerts:
            prefs = self.chats.all()
            with open_matcher(self.store, fresh) as matcher:
                for article in fresh:
                    messages += alert_messages(
                        article,
                        alerts,
                        prefs,
                        now=now,
                        is_match=functools.partial(matcher.matches, article=article),
                    )
        for article in fresh:
            self._alerts_seen[article.id] = article.fetched
        planned = await self.sender.submit(messages) if messages else []
        if fresh:
            log.info("alerts checked %s", fields(articles=len(fresh), alerts_planned=len(planned)))
        return planned

    def _parsed_alerts(self) -> dict[Target, list[tuple[Alert, Query]]]:
        parsed: dict[Target, list[tuple[Alert, Query]]] = {}
        for chat_id, alerts in self.chats.all_alerts().items():
            for alert in alerts:
                try:
                    parsed.setdefault(chat_id, []).append((alert, parse_query(alert.words)))
                except QueryError:  # saved under older rules; it can only be removed now
                    continue
        return parsed
