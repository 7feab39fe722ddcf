"""The delivery ledger: what each chat was sent, durable across restarts and crashes.

Longer than ~300 lines: planning, confirming, replaying and compacting one journal.

Every message is *planned* (its intent written and fsynced) before it is sent, and
*confirmed* after Telegram accepted it; on start, planned and unconfirmed messages are sent
again (``pending()``). A message's articles count as delivered to the chat from the moment it
is planned, so a digest planned twice (a restart, a second digest tick) never repeats an item,
and an item planned is never skipped: it stays pending until it is sent or its chat is gone.

Files (``data/ledger/``, see bot.store.journal): a snapshot plus a journal of JSON lines::

    {"op":"plan","key":"digest:42:b7:0","chat":42,"text":"<b>…</b>","articles":["a1"],
     "kind":"digest","at":"2026-01-05T08:00:00+00:00","first":true}
    {"op":"sent","key":"digest:42:b7:0","mid":311,"at":"…"}
    {"op":"abandon","key":"…","reason":"blocked","at":"…"}
    {"op":"move","old":-100,"new":-1001234,"at":"…"}
    {"op":"digest","chat":42,"at":"…"}           an empty digest (nothing to send)
    {"op":"held","chat":42,"since":"…"|null,"at":"…"}  stories a digest held back (see below)
    {"op":"error","what":"retry_after","at":"…"}   counted for /stats

``plan`` fsyncs before it returns; ``confirm`` may defer its fsync to a group commit
(``durable=False`` then ``sync()``): a confirmation lost in a crash means the message is
sent once more, which is the only duplicate this design allows (Telegram has no idempotency
key). Records about a forum topic carry ``"thread": <message_thread_id>``. Delivered article
ids and the last digest's time are kept per target (a chat, or one topic of it), ids per UTC
day, forgotten after the store's retention (the articles themselves are gone by then).

Held back: a digest shows at most the chat's ``items_per_digest`` stories; the rest are not
delivered and stay news for the next digest (or the "Next" button). ``held_since`` is the
instant just before the earliest of them was fetched: the next digest looks back that far
instead of only to the last digest.

Not thread-safe: one thread (the event loop) calls everything but ``sync()``.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.delivery.delivered import ArticleNumbers, Delivered, decode_numbers, encode_numbers
from bot.delivery.target import Target, as_target
from bot.store.journal import Journal

log = logging.getLogger(__name__)

LEDGER_DIR = "ledger"
COMPACT_AT_BYTES = 32 * 1024 * 1024
IDS_PER_LINE = 5000
BUNDLE_MIN_ARTICLES = 32
"""A message delivering this many articles marks them as one bundle, shared by every chat
given the same articles (bot.delivery.delivered)."""
PLAN_SYNC_BYTES = 4 * 1024 * 1024
"""``plan`` writes its records out whenever this much waits in memory (a rush of large
messages must not wait in memory whole)."""


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send."""

    key: str  # unique, deterministic: f"{kind}:{chat_id}:{batch_id}:{index}"
    chat_id: int
    text: str  # Telegram HTML, already rendered (<= 4096 UTF-16 units)
    article_ids: tuple[str, ...]  # the articles this message delivers
    kind: str  # "digest" | "alert" | "notice"
    thread_id: int = 0  # the forum topic it goes to (0: the chat itself)
    buttons: tuple[tuple[str, str], ...] = ()  # one row of inline buttons: (label, data)
    preview_url: str | None = None  # the link Telegram previews (None: no preview)
    preview_above: bool = False  # the preview above the text instead of below

    @property
    def target(self) -> Target:
        return Target(self.chat_id, self.thread_id)


@dataclass(frozen=True)
class DayStats:
    """What delivery did on one UTC day."""

    day: date
    digests: int = 0  # chats a digest was planned for
    messages: int = 0  # messages Telegram accepted
    abandoned: int = 0  # messages given up (chat blocked or gone, message refused)
    errors: int = 0  # failed attempts retried (429, network) and refusals


@dataclass
class _Chat:
    delivered: Delivered = field(default_factory=Delivered)  # article numbers, with their day
    last_digest_at: datetime | None = None
    held_since: datetime | None = None


class Ledger:
    """The delivery ledger of one data directory; see the module docstring."""

    def __init__(self, journal: Journal, retention_days: int) -> None:
        self._journal = journal
        self._retention_days = retention_days
        self._pending: dict[str, Outgoing] = {}
        self._chats: dict[Target, _Chat] = {}
        self._days: dict[date, DayStats] = {}
        self._articles = ArticleNumbers()
        self._loaded_bundles: dict[int, array[int]] = {}  # while the snapshot loads

    @classmethod
    def open(
        cls, data_dir: Path, *, retention_days: int = 30, now: datetime | None = None
    ) -> Ledger:
        """Open (creating) ``data_dir/ledger``: load the snapshot, replay the journal (a torn
        last line is ignored), forget ids older than ``retention_days``, compact."""
        journal = Journal.open(Path(data_dir) / LEDGER_DIR)
        ledger = cls(journal, retention_days)
        if journal.snapshot is not None:
            ledger._load(journal.snapshot)
            for record in journal.snapshot_records():
                ledger._load_record(record)
            ledger._loaded_bundles = {}
            journal.release_snapshot()
        replayed = 0
        for record in journal.replay():
            ledger._apply(record)
            replayed += 1
        ledger.compact(now=now or datetime.now(UTC))
        log.info(
            "ledger opened dir=%s replayed=%d pending=%d chats=%d",
            journal.folder, replayed, len(ledger._pending), len(ledger._chats),
        )  # fmt: skip
        return ledger

    # -- the interface ----------------------------------------------------------------------

    def plan(self, messages: Sequence[Outgoing], *, now: datetime) -> list[Outgoing]:
        """Record the intent to send, durably; messages whose key is pending or whose articles
        were already delivered or planned to that chat are dropped. Returns what was planned."""
        planned: list[Outgoing] = []
        digest_chats: set[Target] = set()
        for message in messages:
            chat = self._chats.get(message.target)
            repeated = [
                a for a in message.article_ids if chat and self._articles.find(a) in chat.delivered
            ]
            if message.key in self._pending or repeated:
                log.info(
                    "ledger plan dropped key=%s chat=%d repeated_articles=%d",
                    message.key, message.chat_id, len(repeated),
                )  # fmt: skip
                continue
            first = message.kind == "digest" and message.target not in digest_chats
            if first:
                digest_chats.add(message.target)
            record = {"op": "plan", **_message_to_doc(message), "at": now.isoformat(),
                      "first": first}  # fmt: skip
            self._apply_plan(message, now, first=first)
            self._journal.append(record)
            planned.append(message)
            if self._journal.buffered_bytes >= PLAN_SYNC_BYTES:
                self._journal.sync()
        if planned:
            self._journal.sync()
        return planned

    def pending(self) -> list[Outgoing]:
        """Planned and not yet confirmed or abandoned, in the order planned."""
        return list(self._pending.values())

    def is_pending(self, key: str) -> bool:
        return key in self._pending

    def confirm(
        self, key: str, *, message_id: int | None, now: datetime, durable: bool = True
    ) -> None:
        """Telegram accepted the message. With ``durable=False`` the record waits for the next
        ``sync()`` (group commit)."""
        if key not in self._pending:
            return
        record = {"op": "sent", "key": key, "mid": message_id, "at": now.isoformat()}
        self._apply(record)
        self._append(record, durable)

    def abandon(self, key: str, *, reason: str, now: datetime, durable: bool = True) -> None:
        """Give up a message (its articles stay counted as delivered: no retry next digest)."""
        if key not in self._pending:
            return
        record = {"op": "abandon", "key": key, "reason": reason, "at": now.isoformat()}
        self._apply(record)
        self._append(record, durable)

    def abandon_chat(self, chat_id: int, *, reason: str, now: datetime) -> list[str]:
        """Give up every pending message to a chat (blocked, kicked, deleted); returns the keys."""
        keys = [k for k, m in self._pending.items() if m.chat_id == chat_id]
        for key in keys:
            self.abandon(key, reason=reason, now=now, durable=False)
        self._journal.sync()
        return keys

    def abandon_target(self, target: Target, *, reason: str, now: datetime) -> list[str]:
        """Give up every pending message to one forum topic (closed, deleted); returns the
        keys."""
        keys = [k for k, m in self._pending.items() if m.target == target]
        for key in keys:
            self.abandon(key, reason=reason, now=now, durable=False)
        self._journal.sync()
        return keys

    def move_chat(self, old_chat_id: int, new_chat_id: int, *, now: datetime | None = None) -> None:
        """A group became a supergroup: its record and pending messages follow the new id."""
        record = {"op": "move", "old": old_chat_id, "new": new_chat_id,
                  "at": (now or datetime.now(UTC)).isoformat()}  # fmt: skip
        self._apply(record)
        self._append(record, durable=True)

    def record_digest(self, where: Target | int, *, now: datetime) -> None:
        """A digest fell due and had nothing to send: it still counts as the chat's last."""
        target = as_target(where)
        record: dict[str, Any] = {"op": "digest", "chat": target.chat_id, "at": now.isoformat()}
        if target.thread_id:
            record["thread"] = target.thread_id
        self._apply(record)
        self._append(record, durable=True)

    def hold(self, where: Target | int, since: datetime | None, *, now: datetime) -> None:
        """Stories fetched after ``since`` were held back from the chat's (or topic's) digest
        (None: none were); written with the next sync (the digest's plan)."""
        target = as_target(where)
        if self.held_since(target) == since:
            return
        record: dict[str, Any] = {"op": "held", "chat": target.chat_id,
                                  "since": since.isoformat() if since is not None else None,
                                  "at": now.isoformat()}  # fmt: skip
        if target.thread_id:
            record["thread"] = target.thread_id
        self._apply(record)
        self._append(record, durable=False)

    def held_since(self, where: Target | int) -> datetime | None:
        """Where the held-back stories begin (None: the last digest held none back)."""
        chat = self._chats.get(as_target(where))
        return chat.held_since if chat else None

    def note_error(self, what: str, *, now: datetime) -> None:
        """Count a failed attempt for the day's stats (written with the next sync)."""
        record = {"op": "error", "what": what, "at": now.isoformat()}
        self._apply(record)
        self._append(record, durable=False)

    def delivered_ids(self, where: Target | int) -> set[str]:
        """Article ids sent or planned to the chat or topic (within the retention)."""
        chat = self._chats.get(as_target(where))
        return {self._articles.ids[n] for n in chat.delivered.all_numbers()} if chat else set()

    def last_digest_at(self, where: Target | int) -> datetime | None:
        """When the chat's (or topic's) last digest was planned (None: never)."""
        chat = self._chats.get(as_target(where))
        return chat.last_digest_at if chat else None

    def stats(self, day: date) -> DayStats:
        return self._days.get(day, DayStats(day))

    # -- durability -------------------------------------------------------------------------

    def sync(self) -> None:
        """Make every record so far durable (one fsync; callable from a worker thread)."""
        self._journal.sync()

    @property
    def appended(self) -> int:
        """Sequence number of the last record appended (see ``synced``)."""
        return self._journal.appended

    @property
    def synced(self) -> int:
        """Sequence number up to which records are durable."""
        return self._journal.synced

    @property
    def journal_bytes(self) -> int:
        return self._journal.journal_bytes

    def compact(self, *, now: datetime) -> None:
        """Forget ids and stats older than the retention, write the state as the snapshot and
        start an empty journal."""
        self._prune(now)
        self._journal.compact(self._header(), self._records())

    def compact_if_large(self, *, now: datetime, max_bytes: int = COMPACT_AT_BYTES) -> bool:
        if self._journal.journal_bytes < max_bytes:
            return False
        self.compact(now=now)
        return True

    def close(self) -> None:
        self._journal.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state ------------------------------------------------------------------------------

    def _append(self, record: dict[str, Any], durable: bool) -> None:
        self._journal.append(record)
        if durable:
            self._journal.sync()

    def _chat(self, target: Target) -> _Chat:
        chat = self._chats.get(target)
        if chat is None:
            chat = self._chats[target] = _Chat()
        return chat

    def _count(self, at: datetime, **increments: int) -> None:
        day = at.astimezone(UTC).date()
        stats = self._days.get(day, DayStats(day))
        changes = {name: getattr(stats, name) + n for name, n in increments.items()}
        self._days[day] = replace(stats, **changes)

    def _apply_plan(self, message: Outgoing, at: datetime, *, first: bool) -> None:
        self._pending[message.key] = message
        chat = self._chat(message.target)
        day = at.astimezone(UTC).date().toordinal()
        numbers = [self._articles.number(article_id) for article_id in message.article_ids]
        if len(numbers) >= BUNDLE_MIN_ARTICLES:  # shared by the chats given the same message
            chat.delivered.mark_bundle(self._articles.bundle(numbers), day)
        else:
            for number in numbers:
                chat.delivered.mark(number, day)
        if message.kind == "digest":
            if chat.last_digest_at is None or at > chat.last_digest_at:
                chat.last_digest_at = at
            if first:
                self._count(at, digests=1)

    def _apply(self, record: dict[str, Any]) -> None:
        op = record.get("op")
        at = datetime.fromisoformat(record["at"]) if "at" in record else datetime.now(UTC)
        if op == "plan":
            message = _message_from_doc(record)
            if message.key not in self._pending:
                self._apply_plan(message, at, first=bool(record.get("first")))
        elif op == "sent":
            if self._pending.pop(record["key"], None) is not None:
                self._count(at, messages=1)
        elif op == "abandon":
            if self._pending.pop(record["key"], None) is not None:
                self._count(at, abandoned=1)
        elif op == "move":
            self._apply_move(int(record["old"]), int(record["new"]))
        elif op == "digest":
            chat = self._chat(Target(int(record["chat"]), int(record.get("thread", 0))))
            if chat.last_digest_at is None or at > chat.last_digest_at:
                chat.last_digest_at = at
            self._count(at, digests=1)
        elif op == "held":
            since = record.get("since")
            chat = self._chat(Target(int(record["chat"]), int(record.get("thread", 0))))
            chat.held_since = datetime.fromisoformat(since) if since else None
        elif op == "error":
            self._count(at, errors=1)
        else:
            log.warning("ledger record of unknown kind ignored op=%s", op)

    def _apply_move(self, old: int, new: int) -> None:
        for key, message in list(self._pending.items()):
            if message.chat_id == old:
                self._pending[key] = replace(message, chat_id=new)
        for where in [t for t in self._chats if t.chat_id == old]:
            moved = self._chats.pop(where)
            target = self._chat(Target(new, where.thread_id))
            target.delivered.update(moved.delivered)
            if moved.last_digest_at and (
                target.last_digest_at is None or moved.last_digest_at > target.last_digest_at
            ):
                target.last_digest_at = moved.last_digest_at
            if moved.held_since and (
                target.held_since is None or moved.held_since < target.held_since
            ):
                target.held_since = moved.held_since

    def _prune(self, now: datetime) -> None:
        cutoff = (now.astimezone(UTC) - timedelta(days=self._retention_days)).date()
        cutoff_day = cutoff.toordinal()
        for chat in self._chats.values():
            chat.delivered.forget_before(cutoff_day)
        self._articles.keep_only(chat.delivered for chat in self._chats.values())
        for day in [d for d in self._days if d < cutoff]:
            del self._days[day]

    def _header(self) -> dict[str, Any]:
        """The snapshot's first line: pending messages and the days' stats."""
        return {
            "format": 3,
            "pending": [_message_to_doc(m) for m in self._pending.values()],
            "days": {d.isoformat(): _stats_to_doc(s) for d, s in self._days.items()},
        }

    def _records(self) -> Iterator[dict[str, Any]]:
        """The rest of the snapshot, a line each: article ids in number order, the bundles
        (numbered in order), then chats."""
        ids = self._articles.ids
        for start in range(0, len(ids), IDS_PER_LINE):
            yield {"ids": ids[start : start + IDS_PER_LINE]}
        bundle_numbers: dict[int, int] = {}  # id() of a shared bundle -> its number here
        for chat in self._chats.values():
            for bundle in chat.delivered.bundles:
                if id(bundle) not in bundle_numbers:
                    bundle_numbers[id(bundle)] = len(bundle_numbers)
                    yield {"bundle": bundle_numbers[id(bundle)], "numbers": encode_numbers(bundle)}
        for target, chat in self._chats.items():
            last = chat.last_digest_at.isoformat() if chat.last_digest_at else None
            delivered = {
                date.fromordinal(day).isoformat(): encode_numbers(numbers)
                for day, numbers in sorted(chat.delivered.by_day().items())
            }
            record: dict[str, Any] = {"chat": target.key, "delivered": delivered,
                                      "last_digest_at": last}  # fmt: skip
            if chat.delivered.bundles:
                record["bundles"] = {
                    date.fromordinal(day).isoformat(): [bundle_numbers[id(b)] for b in bundles]
                    for day, bundles in sorted(chat.delivered.bundles_by_day().items())
                }
            if chat.held_since is not None:
                record["held_since"] = chat.held_since.isoformat()
            yield record

    def _load(self, doc: dict[str, Any]) -> None:
        """The snapshot's first line (and, from a snapshot of the older one-line format,
        everything)."""
        for item in doc.get("pending", []):
            message = _message_from_doc(item)
            self._pending[message.key] = message
        for chat_id, item in doc.get("chats", {}).items():
            delivered = Delivered.from_days(
                (date.fromisoformat(day).toordinal(), [self._articles.number(a) for a in ids])
                for day, ids in item.get("delivered", {}).items()
            )
            last = item.get("last_digest_at")
            held = item.get("held_since")
            self._chats[Target.from_key(chat_id)] = _Chat(
                delivered,
                datetime.fromisoformat(last) if last else None,
                datetime.fromisoformat(held) if held else None,
            )
        for day, item in doc.get("days", {}).items():
            self._days[date.fromisoformat(day)] = DayStats(date.fromisoformat(day), **item)

    def _load_record(self, record: dict[str, Any]) -> None:
        """One line of the snapshot after the first (see ``_records``)."""
        for article_id in record.get("ids", ()):
            self._articles.number(article_id)
        if "bundle" in record:
            bundle = self._articles.bundle(decode_numbers(record["numbers"]))
            self._loaded_bundles[int(record["bundle"])] = bundle
        if "chat" in record:
            delivered = Delivered.from_days(
                (date.fromisoformat(day).toordinal(), decode_numbers(text))
                for day, text in record.get("delivered", {}).items()
            )
            for day, numbers in record.get("bundles", {}).items():
                for number in numbers:
                    delivered.mark_bundle(
                        self._loaded_bundles[int(number)], date.fromisoformat(day).toordinal()
                    )
            last, held = record.get("last_digest_at"), record.get("held_since")
            self._chats[Target.from_key(record["chat"])] = _Chat(
                delivered,
                datetime.fromisoformat(last) if last else None,
                datetime.fromisoformat(held) if held else None,
            )


def _message_to_doc(message: Outgoing) -> dict[str, Any]:
    doc = {"key": message.key, "chat": message.chat_id, "text": message.text,
           "articles": list(message.article_ids), "kind": message.kind}  # fmt: skip
    if message.thread_id:
        doc["thread"] = message.thread_id
    if message.buttons:
        doc["buttons"] = [list(button) for button in message.buttons]
    if message.preview_url:
        doc["preview"] = message.preview_url
        doc["above"] = message.preview_above
    return doc


def _message_from_doc(doc: dict[str, Any]) -> Outgoing:
    return Outgoing(
        key=doc["key"],
        chat_id=int(doc["chat"]),
        text=doc["text"],
        article_ids=tuple(doc["articles"]),
        kind=doc["kind"],
        thread_id=int(doc.get("thread", 0)),
        buttons=tuple((str(label), str(data)) for label, data in doc.get("buttons", ())),
        preview_url=doc.get("preview"),
        preview_above=bool(doc.get("above", False)),
    )


def _stats_to_doc(stats: DayStats) -> dict[str, int]:
    return {"digests": stats.digests, "messages": stats.messages,
            "abandoned": stats.abandoned, "errors": stats.errors}  # fmt: skip
