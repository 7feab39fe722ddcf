"""Sending planned messages to Telegram: rate-limited, retried, never lost, in order per chat.

Longer than ~300 lines: its failure handling (429, 403, 400, network) is one state machine.

``submit`` plans messages in the ledger (intent fsynced) and queues them; ``run`` is the
sending loop: ``concurrency`` workers, each taking one chat at a time (so a chat's messages
go out in order, one in flight per chat) through the rate limiter: at most
``messages_per_s`` overall and ``group_messages_per_min`` per group (negative chat ids).
After Telegram accepts a message its confirmation is appended to the ledger and fsynced
before the worker sends anything else; confirmations of concurrent workers share one fsync
(group commit). A crash can therefore repeat at most one message per worker: one that
Telegram accepted but whose confirmation was not yet on disk.

Failures, per message:

- 429 ``RetryAfter``: every worker pauses for the time given, then the message is retried.
- 403 ``Forbidden`` (blocked, kicked, chat deleted) and chat-level 400s ("chat not found"):
  the chat's pending messages are abandoned in the ledger and ``on_blocked(chat_id)`` runs.
- 400 "message thread not found"/"TOPIC_CLOSED"/"TOPIC_DELETED" for a message to a forum
  topic: that topic's pending messages are abandoned and ``on_thread_gone(target, reason)``
  runs; the chat's other topics go on.
- 400 "can't parse entities": sent again as plain text, and logged.
- 400 refusing the message itself ("message is too long", "text is empty"): that message is
  abandoned and logged; the chat keeps its subscription.
- ``ChatMigrated``: the ledger and the queue follow the new id, ``on_migrated(old, new)``
  runs, and the message goes to the new id.
- ``NetworkError``/``TimedOut`` and any other Telegram error: retried with exponential
  backoff up to ``max_retry_backoff_s``, never dropped. (A timed-out request that Telegram
  did in fact accept is sent twice: the Bot API has no idempotency key.)

``drain`` stops taking work, lets queued messages finish for most of its time budget, then
parks the rest: they stay pending in the ledger and go out on the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot

from bot import metrics
from bot.delivery.contract import DeliveryLedger
from bot.delivery.ledger import Outgoing
from bot.delivery.target import Target
from bot.delivery.telegram_html import to_plain_text

log = logging.getLogger(__name__)

# 400 answers that refuse one message, not the chat: abandon the message, keep the chat.
_MESSAGE_REFUSALS = (
    "message is too long",
    "message text is empty",
    "text must be non-empty",
    "entities too long",
    "too many entities",
)
_PARSE_ERROR = "can't parse entities"
# 400 answers about a forum topic (deleted, closed): the topic is gone, not the chat.
_THREAD_GONE = ("message thread not found", "topic_closed", "topic_deleted", "topic_id_invalid")
_PARK_SHARE = 0.8  # of drain's time budget spent finishing queued work before parking


@dataclass(frozen=True)
class DeliverySettings:
    """How fast and how stubbornly messages are sent ([bot] settings)."""

    messages_per_s: float = 30.0
    group_messages_per_min: float = 20.0
    concurrency: int = 8  # sends in flight at once (one per chat); also the crash-duplicate bound
    first_retry_backoff_s: float = 0.5
    max_retry_backoff_s: float = 60.0
    drain_timeout_s: float = 20.0


def build_rate_limiter(settings: DeliverySettings) -> AIORateLimiter:
    """PTB's rate limiter set to the delivery limits; give it to ``ApplicationBuilder
    .rate_limiter(...)`` so every request the bot makes shares the same budget."""
    overall_rate, overall_period_s = rate_window(settings.messages_per_s, 1.0)
    group_rate, group_period_s = rate_window(settings.group_messages_per_min, 60.0)
    return AIORateLimiter(
        overall_max_rate=overall_rate,
        overall_time_period=overall_period_s,
        group_max_rate=group_rate,
        group_time_period=group_period_s,
        max_retries=0,  # Delivery retries 429s itself, never dropping the message
    )


def rate_window(per_period: float, period_s: float) -> tuple[float, float]:
    """``per_period`` messages every ``period_s`` as a bucket that holds at least one
    message: 0.2 a second is 1 every 5 s (a bucket under one message would refuse every
    message, and a rounded-up one would send faster than asked)."""
    if per_period >= 1:
        return per_period, period_s
    return 1.0, period_s / per_period


class _Parked(Exception):
    """Drain asked the worker to stop; the message stays pending in the ledger."""


class Delivery:
    """The sender; see the module docstring."""

    def __init__(
        self,
        bot: telegram.Bot,
        ledger: DeliveryLedger,
        *,
        on_blocked: Callable[[int], Awaitable[None]],
        on_migrated: Callable[[int, int], Awaitable[None]],
        on_thread_gone: Callable[[Target, str], Awaitable[None]] | None = None,
        settings: DeliverySettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._bot = bot
        self._ledger = ledger
        self._on_blocked = on_blocked
        self._on_migrated = on_migrated
        self._on_thread_gone = on_thread_gone
        self.settings = settings or DeliverySettings()
        self._clock = clock
        # A bot built with a rate limiter (the Application's) already limits every request;
        # a bare Bot gets the delivery limiter here.
        own_limiter = isinstance(bot, ExtBot) and bot.rate_limiter is not None
        self._limiter: BaseRateLimiter[Any] | None = (
            None if own_limiter else build_rate_limiter(self.settings)
        )
        self._queues: dict[int, deque[Outgoing]] = {}  # chat -> its messages; in _ready or busy
        self._ready: asyncio.Queue[int] = asyncio.Queue()
        self._in_flight = 0
        self._busy: set[int] = set()  # chats a worker is sending to now
        self._idle = asyncio.Event()
        self._park = asyncio.Event()
        self._paused_until = 0.0  # monotonic time a 429 pauses everyone until
        self._closing = False
        self._workers: list[asyncio.Task[None]] = []
        self._sync_task: asyncio.Future[None] | None = None
        self._enqueue(ledger.pending())
        metrics.watch_queue(self._queue_length)

    # -- the interface ----------------------------------------------------------------------

    def adopt_pending(self) -> int:
        """Queue what the ledger holds pending that this sender does not know of: planned by
        another process sharing the database (a webhook standby answering /digest). Returns
        how many were queued."""
        if self._closing:
            return 0
        known = {m.key for queue in self._queues.values() for m in queue}
        fresh = [m for m in self._ledger.pending() if m.key not in known]
        self._enqueue(fresh)
        return len(fresh)

    def take_over(self) -> None:
        """Queue afresh what the ledger holds pending (before ``run``): the process that sent
        before may have sent some since this one was built, or died mid-way."""
        if self._workers:
            raise RuntimeError("take_over must come before run")
        self._queues.clear()
        self._ready = asyncio.Queue()
        self._enqueue(self._ledger.pending())

    async def submit(self, messages: Sequence[Outgoing]) -> list[Outgoing]:
        """Plan the messages (durably) and queue them; returns those actually planned (a
        message repeating an article already delivered to its chat is dropped). After
        ``drain`` began, planned messages wait in the ledger for the next start."""
        planned = self._ledger.plan(messages, now=self._clock())
        if not self._closing:
            self._enqueue(planned)
        return planned

    async def run(self) -> None:
        """Send until drained (or cancelled); raises if the ledger cannot be written."""
        if self._workers:
            raise RuntimeError("Delivery.run is already running")
        self._workers = [
            asyncio.create_task(self._worker(), name=f"delivery-{n}")
            for n in range(max(1, self.settings.concurrency))
        ]
        log.info("delivery started workers=%d pending=%d", len(self._workers), self.queued_count)
        done, _ = await asyncio.wait(self._workers, return_when=asyncio.FIRST_EXCEPTION)
        failed = [t for t in done if not t.cancelled() and t.exception() is not None]
        if failed:  # the ledger cannot be written, or a bug: stop loudly, nothing is lost
            for task in self._workers:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            raise cast(BaseException, failed[0].exception())

    async def drain(self, timeout_s: float | None = None) -> None:
        """Stop taking work; finish queued sends within most of ``timeout_s``, then park the
        rest (still pending in the ledger) and stop the workers."""
        budget_s = self.settings.drain_timeout_s if timeout_s is None else timeout_s
        self._closing = True
        deadline = time.monotonic() + budget_s
        try:
            if not self._workers:  # never started: everything queued stays pending
                raise TimeoutError
            await asyncio.wait_for(self._idle_now(), budget_s * _PARK_SHARE)
        except TimeoutError:
            parked = self.queued_count
            self._park.set()
            while self._in_flight and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            log.warning("delivery drain parked messages=%d in_flight=%d", parked, self._in_flight)
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await asyncio.to_thread(self._ledger.sync)
        log.info("delivery drained pending=%d", len(self._ledger.pending()))

    async def wait_idle(self) -> None:
        """Return once nothing is queued or in flight."""
        await self._idle_now()

    def drop(self, target: Target, *, reason: str) -> int:
        """Stop sending to a paused chat (a topic: only that topic): its queued messages are
        abandoned in the ledger (kept as a record, never retried). A message already in
        flight finishes. Returns how many were abandoned."""
        now = self._clock()
        if target.is_topic:
            keys = self._ledger.abandon_target(target, reason=reason, now=now)
        else:
            keys = self._ledger.abandon_chat(target.chat_id, reason=reason, now=now)
        queue = self._queues.get(target.chat_id)
        if queue:
            head = [queue[0]] if target.chat_id in self._busy else []
            rest = [m for m in list(queue)[len(head) :] if target.is_topic and m.target != target]
            queue.clear()
            queue.extend(head + rest)
        self._update_idle()
        return len(keys)

    @property
    def queued_count(self) -> int:
        return sum(len(q) for q in self._queues.values())

    # -- queues -----------------------------------------------------------------------------

    def _queue_length(self) -> int:
        """``queued_count`` safe to read from another thread (the metrics server's): the
        queues are copied in one step, never iterated while the loop changes them."""
        return sum(len(queue) for queue in tuple(self._queues.values()))

    def _enqueue(self, messages: Sequence[Outgoing]) -> None:
        for message in messages:
            queue = self._queues.get(message.chat_id)
            if queue is None:
                self._queues[message.chat_id] = deque([message])
                self._ready.put_nowait(message.chat_id)
            else:
                queue.append(message)
        self._update_idle()

    def _update_idle(self) -> None:
        if self._queues or self._in_flight:
            self._idle.clear()
        else:
            self._idle.set()

    async def _idle_now(self) -> None:
        self._update_idle()
        await self._idle.wait()

    async def _worker(self) -> None:
        while not self._park.is_set():
            chat_id = await self._ready.get()
            if self._park.is_set():
                return
            if not self._queues.get(chat_id):
                self._queues.pop(chat_id, None)
                continue
            self._in_flight += 1
            self._busy.add(chat_id)
            try:
                owned = await self._send_head(chat_id)
            except _Parked:
                return
            finally:
                self._in_flight -= 1
                self._busy.discard(chat_id)
            if owned is not None:
                if self._queues.get(owned):
                    self._ready.put_nowait(owned)
                else:
                    self._queues.pop(owned, None)
            self._update_idle()
            if self._idle.is_set():
                self._ledger.compact_if_large(now=self._clock())

    # -- one message ------------------------------------------------------------------------

    async def _send_head(self, chat_id: int) -> int | None:
        """Send the first message queued for the chat until it is delivered or given up;
        returns the chat id its queue lives under now (it changes on migration), or None
        when the queue joined one another worker owns."""
        queue = self._queues[chat_id]
        plain = False
        attempt = 0
        while True:
            message = queue[0]
            await self._wait_unpaused()
            try:
                sent = await self._send(message, plain=plain)
            except RetryAfter as error:
                # the timedelta form: .retry_after warns while PTB moves from int to timedelta
                wait_s = error._retry_after.total_seconds()
                log.warning("delivery rate limited chat=%d retry_after_s=%.1f", chat_id, wait_s)
                self._ledger.note_error("retry_after", now=self._clock())
                metrics.rate_limited(wait_s)
                metrics.message_retried("retry_after")
                self._paused_until = max(self._paused_until, time.monotonic() + wait_s)
            except Forbidden as error:
                await self._give_up_chat(chat_id, reason="forbidden", error=error)
                return chat_id
            except ChatMigrated as error:
                moved = await self._migrate(chat_id, error.new_chat_id)
                if moved is None:
                    return None
                chat_id, queue = error.new_chat_id, moved
            except BadRequest as error:
                text = error.message.lower()
                if message.thread_id and any(gone in text for gone in _THREAD_GONE):
                    await self._give_up_thread(message.target, error)
                    return chat_id
                if _PARSE_ERROR in text and not plain:
                    log.warning("delivery html refused, sending plain key=%s error=%s",
                                message.key, error.message)  # fmt: skip
                    self._ledger.note_error("parse_entities", now=self._clock())
                    metrics.message_retried("plain_text")
                    plain = True
                elif any(refusal in text for refusal in _MESSAGE_REFUSALS) or _PARSE_ERROR in text:
                    log.error(
                        "delivery message refused key=%s error=%s", message.key, error.message
                    )
                    self._ledger.note_error("refused", now=self._clock())
                    self._ledger.abandon(message.key, reason=error.message, now=self._clock())
                    metrics.messages_failed("refused")
                    queue.popleft()
                    return chat_id
                else:
                    await self._give_up_chat(chat_id, reason=error.message, error=error)
                    return chat_id
            except TelegramError as error:  # NetworkError, TimedOut, server errors
                delay_s = min(
                    self.settings.max_retry_backoff_s,
                    self.settings.first_retry_backoff_s * 2**attempt,
                )
                attempt += 1
                log.warning("delivery send failed chat=%d attempt=%d retry_in_s=%.1f error=%s",
                            chat_id, attempt, delay_s, error)  # fmt: skip
                self._ledger.note_error(type(error).__name__, now=self._clock())
                metrics.message_retried("network")
                await self._sleep(delay_s)
            else:
                self._ledger.confirm(
                    message.key, message_id=sent.message_id, now=self._clock(), durable=False
                )
                queue.popleft()
                metrics.message_sent()
                await self._commit()
                return chat_id

    async def _send(self, message: Outgoing, *, plain: bool) -> Message:
        kwargs: dict[str, Any] = {
            "chat_id": message.chat_id,
            "message_thread_id": message.thread_id or None,
            "text": to_plain_text(message.text) if plain else message.text,
            "parse_mode": None if plain else ParseMode.HTML,
            "link_preview_options": _preview(message),
        }
        if message.buttons:
            kwargs["reply_markup"] = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(label, callback_data=data)
                        for label, data in message.buttons
                    ]
                ]
            )
        if self._limiter is None:
            return await self._bot.send_message(**kwargs)
        result = await self._limiter.process_request(
            callback=self._bot.send_message,  # type: ignore[arg-type]
            args=(),
            kwargs=kwargs,
            endpoint="sendMessage",
            data={"chat_id": message.chat_id},
            rate_limit_args=None,
        )
        return cast(Message, result)

    async def _commit(self) -> None:
        """Wait until every ledger record appended so far is fsynced, sharing the fsync with
        the other workers (group commit)."""
        target = self._ledger.appended
        while self._ledger.synced < target:
            if self._sync_task is None or self._sync_task.done():
                self._sync_task = asyncio.ensure_future(asyncio.to_thread(self._ledger.sync))
            await asyncio.shield(self._sync_task)

    async def _wait_unpaused(self) -> None:
        while (wait_s := self._paused_until - time.monotonic()) > 0:
            await self._sleep(wait_s)
        if self._park.is_set():
            raise _Parked

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._park.wait(), seconds)
        except TimeoutError:
            return
        raise _Parked

    # -- chats ------------------------------------------------------------------------------

    async def _give_up_chat(self, chat_id: int, *, reason: str, error: TelegramError) -> None:
        try:
            await self._on_blocked(chat_id)
        except Exception:
            log.exception("delivery on_blocked failed chat=%d", chat_id)
        # After the callback: messages submitted meanwhile are abandoned too.
        keys = self._ledger.abandon_chat(chat_id, reason=reason, now=self._clock())
        self._queues.pop(chat_id, None)
        metrics.messages_failed("chat_gone", len(keys))
        log.warning("delivery chat deactivated chat=%d abandoned=%d error=%s",
                    chat_id, len(keys), error)  # fmt: skip

    async def _give_up_thread(self, target: Target, error: BadRequest) -> None:
        """A forum topic is closed or deleted: abandon its messages, keep the chat's others."""
        queue = self._queues.get(target.chat_id)
        if queue is not None:
            kept = [m for m in queue if m.target != target]
            queue.clear()
            queue.extend(kept)
        keys = self._ledger.abandon_target(target, reason=error.message, now=self._clock())
        metrics.messages_failed("topic_gone", len(keys))
        log.warning("delivery topic paused chat=%d thread=%d abandoned=%d error=%s",
                    target.chat_id, target.thread_id, len(keys), error.message)  # fmt: skip
        if self._on_thread_gone is not None:
            try:
                await self._on_thread_gone(target, error.message)
            except Exception:
                log.exception("delivery on_thread_gone failed target=%s", target)

    async def _migrate(self, old: int, new: int) -> deque[Outgoing] | None:
        """Move the ledger record and the queue to the new chat id; returns the queue to go on
        with, or None when the new id's queue belongs to another worker (ours joined it)."""
        self._ledger.move_chat(old, new, now=self._clock())
        log.info("delivery chat migrated old=%d new=%d", old, new)
        moved = deque(replace(m, chat_id=new) for m in self._queues.pop(old))
        existing = self._queues.get(new)
        if existing is not None:
            existing.extend(moved)
        else:
            self._queues[new] = moved
        try:
            await self._on_migrated(old, new)
        except Exception:
            log.exception("delivery on_migrated failed old=%d new=%d", old, new)
        return None if existing is not None else moved


def _preview(message: Outgoing) -> LinkPreviewOptions:
    """The message's link preview: its top story, large, above or below; else none."""
    if not message.preview_url:
        return LinkPreviewOptions(is_disabled=True)
    return LinkPreviewOptions(
        url=message.preview_url,
        prefer_large_media=True,
        show_above_text=message.preview_above,
    )
