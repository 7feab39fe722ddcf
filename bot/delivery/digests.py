"""The digest job: which chats are due, what each gets, handed to delivery.

One job ticks every ``[bot] digest_tick_s``: it pops the chats whose digest is due from a
DueQueue (bot.delivery.schedule; not one scheduler job per chat), reads the archive once for all of
them and submits each chat's digest through Delivery, so it is in the ledger before it is
sent. The same tick runs the keyword alerts (bot.delivery.alerts).

What a chat gets: articles fetched since its last digest (its first: ``first_digest_hours``
before it subscribed) from the feeds it reads, minus every article already delivered or
planned to it (the ledger's ``delivered_ids``: an alert's article is not repeated in the
digest, a digest planned twice never repeats an item). A digest shows at most
``items_per_digest`` stories; the rest are held back, not dropped: they stay news (the
ledger's ``held_since`` widens the next digest's window back to them) and come in the next
digest, or at once with the "Next N" button under the digest.

``digest_messages`` is the pure core; ``Digests`` is the shell.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.config import BotSettings
from bot.delivery.alerts import Alerts
from bot.delivery.chats import Chats
from bot.delivery.contract import DeliveryLedger
from bot.delivery.digest import compose_digest, for_digest
from bot.delivery.ledger import Outgoing
from bot.delivery.prefs import ChatPrefs, EmptyDigest, LinkPreview, reads
from bot.delivery.render import digest_blocks, render_nothing_new
from bot.delivery.schedule import DueQueue, build_queue, due_chats, next_due
from bot.delivery.target import Target, as_target
from bot.delivery.telegram_html import pack_messages, safe_link
from bot.logfields import fields
from bot.models import StoredArticle
from bot.store.contract import ArticleStore

log = logging.getLogger("newsbot.digests")
_JUST_BEFORE = timedelta(microseconds=1)

SUBMIT_EVERY_MESSAGES = 500
SUBMIT_EVERY_S = 0.5
"""Planned digests are submitted (one fsync) and the event loop let run (commands, polls,
sends) at least this often during a rush, however slowly the digests compose."""
MEMO_DIGESTS = 32
"""Rendered digests a tick keeps for the next chats: most chats share a few; a chat whose
alerts already delivered some of the news gets its own, which must not stay in memory."""


class Sender(Protocol):
    """What the digest job needs of Delivery."""

    async def submit(self, messages: Sequence[Outgoing]) -> list[Outgoing]: ...


# -- the pure core ------------------------------------------------------------------------


def digest_since(
    prefs: ChatPrefs, last_digest_at: datetime | None, first_digest_hours: int
) -> datetime:
    """Articles fetched after this instant are news to the chat."""
    if last_digest_at is not None:
        return last_digest_at
    return prefs.created - timedelta(hours=first_digest_hours)


def unseen_articles(
    articles: Iterable[StoredArticle],
    prefs: ChatPrefs,
    *,
    since: datetime,
    delivered: set[str],
) -> list[StoredArticle]:
    """The chat's news: fetched after ``since``, from its feeds, not yet delivered to it."""
    return [
        a
        for a in articles
        if a.fetched > since and a.id not in delivered and reads(prefs, a.feed, a.topic)
    ]


MORE_BUTTON_DATA = "dg:next"
"""The callback data of the "Next N" button under a digest that held stories back."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A digest rendered: its messages, and the stories each delivers or it held back."""

    texts: tuple[str, ...]
    ids: tuple[tuple[str, ...], ...]
    """The article ids each message delivers."""
    previews: tuple[str | None, ...]
    """Each message's top story link (the link preview)."""
    held: frozenset[str] = frozenset()
    """Article ids of the stories past ``items_per_digest``: not delivered, still news."""
    held_stories: int = 0


class RecentMemo(OrderedDict[Hashable, Rendered]):
    """A memo that forgets its oldest entries beyond ``size`` (see ``MEMO_DIGESTS``)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: Hashable, value: Rendered) -> None:
        super().__setitem__(key, value)
        while len(self) > self.size:
            self.popitem(last=False)


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """The messages of a chat's digest, and the article ids it held back for the next one."""

    messages: list[Outgoing]
    held: frozenset[str] = frozenset()


def digest_messages(
    prefs: ChatPrefs,
    articles: Sequence[StoredArticle],
    *,
    batch: str,
    since: datetime | None,
    now: datetime,
    memo: MutableMapping[Hashable, Rendered] | None = None,
) -> list[Outgoing]:
    """The chat's digest as messages to plan (see ``plan_digest``)."""
    return plan_digest(prefs, articles, batch=batch, since=since, now=now, memo=memo).messages


def plan_digest(
    prefs: ChatPrefs,
    articles: Sequence[StoredArticle],
    *,
    batch: str,
    since: datetime | None,
    now: datetime,
    memo: MutableMapping[Hashable, Rendered] | None = None,
) -> DigestPlan:
    """The chat's digest as messages to plan, each naming the articles its items deliver.

    At most ``items_per_digest`` stories are shown; the rest are held back (not delivered)
    and the last message says how many, with a button that sends the next ones at once.
    Each message previews its top story unless the chat turned previews off. Nothing new:
    a one-line notice when the chat wants one, else no message. ``memo`` shares the
    composing and rendering between chats given the same news the same way (one digest
    tick: most chats read the same feeds and had their last digest at the same time).
    """
    chat_id, thread_id, where = prefs.chat_id, prefs.thread_id, prefs.target.key
    if not articles:
        if prefs.empty_digest is EmptyDigest.SILENT:
            return DigestPlan([])
        text = render_nothing_new(since=since, tz=prefs.zone, now=now)
        return DigestPlan(
            [Outgoing(f"digest:{where}:{batch}:0", chat_id, text, (), "digest", thread_id)]
        )
    key = (
        frozenset(a.id for a in articles),
        prefs.items_per_digest,
        prefs.time_zone,
        prefs.lead_sentences,
        since,
        now,
    )
    rendered = memo.get(key) if memo is not None else None
    if rendered is None:
        rendered = render_news(articles, prefs, since=since, now=now)
        if memo is not None:
            memo[key] = rendered
    previewing = prefs.link_preview is not LinkPreview.OFF
    last = len(rendered.texts) - 1
    more = min(rendered.held_stories, prefs.items_per_digest)
    # A channel's readers cannot ask for a digest: held stories wait for its next one there.
    is_pressable = more and not prefs.is_channel
    next_button = ((f"Next {more} ›", MORE_BUTTON_DATA),) if is_pressable else ()
    messages = [
        Outgoing(
            f"digest:{where}:{batch}:{i}",
            chat_id,
            text,
            rendered.ids[i],
            "digest",
            thread_id,
            buttons=next_button if i == last else (),
            preview_url=rendered.previews[i] if previewing else None,
            preview_above=prefs.link_preview is LinkPreview.ABOVE,
        )
        for i, text in enumerate(rendered.texts)
    ]
    return DigestPlan(messages, rendered.held)


def render_news(
    articles: Sequence[StoredArticle], prefs: ChatPrefs, *, since: datetime | None, now: datetime
) -> Rendered:
    """Compose and render a digest of ``articles`` for a chat with these preferences."""
    digest = compose_digest(articles, max_items=prefs.items_per_digest)
    blocks = digest_blocks(
        digest, tz=prefs.zone, now=now, lead_sentences=prefs.lead_sentences, since=since
    )
    texts = pack_messages(blocks)
    # Blocks are packed whole, in order: find which message holds each item's block.
    item_blocks = blocks[1 : 1 + len(digest.items)]
    ids: list[list[str]] = [[] for _ in texts]
    previews: list[str | None] = [None for _ in texts]
    message, position = 0, 0
    for item, block in zip(digest.items, item_blocks, strict=True):
        while message < len(texts) and texts[message].find(block, position) < 0:
            message, position = message + 1, 0
        if message == len(texts):  # cannot happen with pack_messages; keep ids anyway
            message = len(texts) - 1
        else:
            position = texts[message].find(block, position) + len(block)
        if not ids[message]:
            previews[message] = safe_link(item.article.link)
        ids[message].extend(item.article_ids)
    # Stories that did not fit are not delivered: they stay news for the next digest.
    held = frozenset(a for item in digest.left_out for a in item.article_ids)
    return Rendered(
        tuple(texts),
        tuple(tuple(i) for i in ids),
        tuple(previews),
        held,
        len(digest.left_out),
    )


# -- the shell ----------------------------------------------------------------------------


@dataclass
class Digests:
    """The digest job (and the alerts it ticks) of one running bot (one event loop)."""

    chats: Chats
    store: ArticleStore
    ledger: DeliveryLedger
    sender: Sender
    settings: BotSettings
    clock: Callable[[], datetime]

    def __post_init__(self) -> None:
        self.queue: DueQueue[Target] = DueQueue()
        self.alerts = Alerts(self.chats, self.store, self.sender)

    def start(self, now: datetime) -> int:
        """Queue every active chat at its first due time; a digest missed while the bot was
        down is due now, once. Returns how many chats are due right away."""
        chats = [
            (prefs, self.ledger.last_digest_at(prefs.target))
            for prefs in self.chats.all().values()
            if prefs.active
        ]
        self.queue = build_queue(chats, now)
        self.alerts.start(now)
        return sum(
            1
            for target in self.chats.all()
            if (at := self.queue.due_at(target)) is not None and at <= now
        )

    def reschedule(self, prefs: ChatPrefs, now: datetime) -> None:
        """The chat changed its schedule, subscribed or stopped: its next digest moves."""
        self.queue.put(prefs.target, next_due(prefs, now))

    def forget(self, where: Target | int) -> None:
        self.queue.discard(as_target(where))

    async def tick(self) -> int:
        """Send the digests that are due and the alerts new articles match; returns how many
        messages were planned."""
        now = self.clock()
        planned = 0
        due = due_chats(self.queue, self.chats.all(), now)
        if due:
            articles = self._recent_articles([d.target for d in due])
            memo = RecentMemo(MEMO_DIGESTS)
            batch: list[Outgoing] = []
            submitted = time.monotonic()
            for n, item in enumerate(due, 1):
                batch += self.digest_for(item.target, now, f"{item.slot.timestamp():.0f}",
                                         articles=articles, memo=memo)  # fmt: skip
                if (
                    len(batch) >= SUBMIT_EVERY_MESSAGES
                    or n == len(due)
                    or time.monotonic() - submitted >= SUBMIT_EVERY_S
                ):
                    planned += len(await self.sender.submit(batch))  # one fsync per batch
                    batch = []
                    await asyncio.sleep(0)  # let updates and sends run between batches
                    submitted = time.monotonic()
            log.info("digests planned %s", fields(chats=len(due), messages=planned))
        planned += await self.alerts.check(now)
        return planned

    async def send_digest(self, chat_id: Target | int, now: datetime) -> int:
        """Plan and queue the chat's digest now, on demand (an empty one says so); returns
        the messages planned."""
        messages = self.digest_for(chat_id, now, f"{now.timestamp():.3f}d", on_demand=True)
        planned = await self.sender.submit(messages) if messages else []
        log.info("digest on demand %s", fields(chat=str(chat_id), messages=len(planned)))
        return len(planned)

    def digest_for(
        self,
        chat_id: Target | int,
        now: datetime,
        batch: str,
        *,
        articles: Sequence[StoredArticle] | None = None,
        memo: MutableMapping[Hashable, Rendered] | None = None,
        on_demand: bool = False,
    ) -> list[Outgoing]:
        """The chat's digest messages now; an empty digest the chat wants silent is recorded
        in the ledger (it still counts as the chat's last) and gives no message."""
        prefs = self.chats.get(chat_id)
        if prefs is None:
            return []
        last = self.ledger.last_digest_at(chat_id)
        since = self._news_since(prefs)
        if articles is None:
            articles = self._recent_articles([chat_id])
        news = unseen_articles(
            articles, prefs, since=since, delivered=self.ledger.delivered_ids(chat_id)
        )
        if on_demand and prefs.empty_digest is EmptyDigest.SILENT:
            prefs = replace(prefs, empty_digest=EmptyDigest.NOTICE)  # asked for: always answer
        held = self.ledger.held_since(chat_id)
        shown_since = held if held is not None and news else last
        plan = plan_digest(prefs, news, batch=batch, since=shown_since, now=now, memo=memo)
        first_held = min((a.fetched for a in news if a.id in plan.held), default=None)
        self.ledger.hold(chat_id, first_held and first_held - _JUST_BEFORE, now=now)
        if not plan.messages:
            self.ledger.record_digest(chat_id, now=now)
        return plan.messages

    def _news_since(self, prefs: ChatPrefs) -> datetime:
        """Articles fetched after this are news to the chat: since its last digest, or since
        the first story its last digest held back."""
        last = self.ledger.last_digest_at(prefs.target)
        since = digest_since(prefs, last, self.settings.first_digest_hours)
        held = self.ledger.held_since(prefs.target)
        return min(since, held) if held is not None else since

    def _recent_articles(self, chat_ids: Iterable[Target | int]) -> list[StoredArticle]:
        """Every stored article some of these chats may be owed (one pass over the archive)."""
        starts = []
        for chat_id in chat_ids:
            prefs = self.chats.get(chat_id)
            if prefs is not None:
                starts.append(self._news_since(prefs))
        if not starts:
            return []
        earliest = min(starts)
        articles = self.store.iter_articles(since=earliest)
        return [for_digest(a) for a in articles if a.fetched > earliest]
