"""Subscribers the bot serves (chats, forum topics, channels): their preferences and keyword
alerts, kept in a chat store.

Tables of the chat store (bot.store.chatstore): ``chats`` (target key -> preferences,
``bot.delivery.prefs.prefs_to_dict``), ``alerts`` (target key -> its alerts) and ``marks``
(named instants the bot's jobs resume from). A target key is ``"42"`` for a chat and
``"-1001234/7"`` for a forum topic (bot.delivery.target). Every change is durable when the
method returns and writes only the records it changes. Preferences are cached in memory: the
digest job reads them all on every tick. Where processes share the store (PostgreSQL: several
bot processes answering webhooks, a standby taking over the sending), every read first takes
in what the others wrote since (``ChatStore.changes``), so a /settings change one process
answered is what the next process serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.delivery.prefs import ChatPrefs, prefs_from_dict, prefs_to_dict
from bot.delivery.target import Target, as_target
from bot.errors import InputError, StoreError
from bot.search.query import parse_query
from bot.store.chatstore import ChatStore

MAX_ALERTS_PER_CHAT = 20


@dataclass(frozen=True, slots=True)
class Alert:
    """A keyword alert: the words as the chat typed them (a valid search query)."""

    id: int
    words: str
    created: datetime


class Chats:
    """Preferences and alerts of every chat that ever sent /start; one per process."""

    def __init__(self, store: ChatStore) -> None:
        self._store = store
        self._prefs: dict[Target, ChatPrefs] = {}
        self._since, _ = store.changes("chats", None)  # before reading: later writes come again
        for key, doc in store.items("chats"):
            self._take(key, doc)

    def _take(self, key: str, doc: dict[str, Any] | None) -> None:
        if doc is None:
            self._prefs.pop(Target.from_key(key), None)
            return
        prefs = prefs_from_dict(doc)
        if prefs.target.key != key:
            raise StoreError(f"chat store: chat {key!r} holds the preferences of another chat")
        self._prefs[prefs.target] = prefs

    def _follow(self) -> None:
        """Take in the preferences other processes wrote since the last read."""
        if self._since is None:
            return
        self._since, changed = self._store.changes("chats", self._since)
        for key, doc in changed:
            self._take(key, doc)

    # -- preferences --------------------------------------------------------------------

    def get(self, where: Target | int) -> ChatPrefs | None:
        """A subscriber's preferences (a chat id stands for the chat itself)."""
        self._follow()
        return self._prefs.get(as_target(where))

    def all(self) -> Mapping[Target, ChatPrefs]:
        """Every known subscriber's preferences, active or not (a read-only view)."""
        self._follow()
        return self._prefs

    def of_chat(self, chat_id: int) -> list[ChatPrefs]:
        """The chat's own subscription and its topics', chat first."""
        self._follow()
        found = (p for t, p in self._prefs.items() if t.chat_id == chat_id)
        return sorted(found, key=lambda p: p.thread_id)

    def managed_by(self, user_id: int) -> list[ChatPrefs]:
        """The channels this user manages with the bot, by title."""
        self._follow()
        found = (p for p in self._prefs.values() if p.is_channel and user_id in p.managers)
        return sorted(found, key=lambda p: (p.title.casefold(), p.chat_id))

    def put(self, *prefs: ChatPrefs) -> None:
        """Store subscribers' preferences (replacing what they had), in one write."""
        self._store.write({"chats": {p.target.key: prefs_to_dict(p) for p in prefs}})
        self._prefs.update((p.target, p) for p in prefs)

    def deactivate(
        self, where: Target | int, now: datetime, *, paused: str = ""
    ) -> ChatPrefs | None:
        """Stop serving a subscriber (it sent /stop, or ``paused`` says why the bot stopped:
        blocked, removed, topic closed); prefs are kept. Returns the prefs as they are now."""
        prefs = self.get(where)
        if prefs is None or not prefs.active:
            return prefs
        stopped = prefs.changed(now, active=False, paused=paused)
        self.put(stopped)
        return stopped

    def move(self, old_chat_id: int, new_chat_id: int, now: datetime) -> list[ChatPrefs]:
        """A group became a supergroup: its subscriptions (its topics' too) and their alerts
        move to the new id, in one write. Returns the moved preferences."""
        changes: dict[str, dict[str, dict[str, Any] | None]] = {"chats": {}, "alerts": {}}
        moved: list[ChatPrefs] = []
        for prefs in self.of_chat(old_chat_id):
            old, new = prefs.target, Target(new_chat_id, prefs.thread_id)
            changed = prefs.changed(now, chat_id=new_chat_id)
            changes["chats"] |= {old.key: None, new.key: prefs_to_dict(changed)}
            alerts = self._store.get("alerts", old.key)
            if alerts is not None:
                changes["alerts"] |= {old.key: None, new.key: alerts}
            moved.append(changed)
        if not moved:
            return []
        self._store.write({table: found for table, found in changes.items() if found})
        for prefs in moved:
            del self._prefs[Target(old_chat_id, prefs.thread_id)]
            self._prefs[prefs.target] = prefs
        return moved

    def rename_feed(self, old: str, new: str, now: datetime) -> int:
        """A feed was renamed: chats subscribed to it by name follow it; returns how many."""
        wanted = old.casefold()
        moved = []
        for prefs in self.all().values():
            if any(name.casefold() == wanted for name in prefs.feeds):
                names = tuple(new if n.casefold() == wanted else n for n in prefs.feeds)
                moved.append(prefs.changed(now, feeds=tuple(dict.fromkeys(names))))
        if moved:
            self.put(*moved)
        return len(moved)

    # -- alerts -------------------------------------------------------------------------

    def alerts(self, where: Target | int) -> tuple[Alert, ...]:
        """The subscriber's alerts, oldest first."""
        key = as_target(where).key
        doc = self._store.get("alerts", key)
        if doc is None:
            return ()
        return tuple(_alert_from_dict(item, key) for item in doc.get("alerts", []))

    def all_alerts(self) -> dict[Target, tuple[Alert, ...]]:
        """Every subscriber's alerts, for those that have any."""
        found = {}
        for key, doc in self._store.items("alerts"):
            try:
                target = Target.from_key(key)
            except ValueError:
                raise StoreError(f"chat store: alerts under {key!r}, not a chat") from None
            items = tuple(_alert_from_dict(item, key) for item in doc.get("alerts", []))
            if items:
                found[target] = items
        return found

    def add_alert(self, where: Target | int, words: str, now: datetime) -> Alert:
        """Save an alert; raises QueryError for words search cannot run and InputError when
        the subscriber has it already or has too many."""
        key = as_target(where).key
        words = " ".join(words.split())
        parse_query(words)
        current = self.alerts(where)
        if any(a.words.casefold() == words.casefold() for a in current):
            raise InputError(f"You have that alert already: {words}")
        if len(current) >= MAX_ALERTS_PER_CHAT:
            raise InputError(
                f"You have {MAX_ALERTS_PER_CHAT} alerts, the most a chat can have; "
                "remove one in /alerts first."
            )
        doc = self._store.get("alerts", key)
        next_id = int(doc.get("next_id", 1)) if doc is not None else 1
        alert = Alert(id=next_id, words=words, created=now)
        items = [_alert_to_dict(a) for a in (*current, alert)]
        self._store.write({"alerts": {key: {"next_id": next_id + 1, "alerts": items}}})
        return alert

    def remove_alert(self, where: Target | int, alert_id: int) -> Alert | None:
        """Remove one alert; returns it, or None when the subscriber has no such alert."""
        key = as_target(where).key
        current = self.alerts(where)
        gone = next((a for a in current if a.id == alert_id), None)
        if gone is None:
            return None
        doc = self._store.get("alerts", key)
        next_id = doc.get("next_id", 1) if doc is not None else 1
        kept = [_alert_to_dict(a) for a in current if a.id != alert_id]
        self._store.write({"alerts": {key: {"next_id": next_id, "alerts": kept}}})
        return gone

    # -- marks --------------------------------------------------------------------------

    def mark(self, name: str) -> datetime | None:
        """A named instant a job saved (None when never saved)."""
        doc = self._store.get("marks", name)
        if doc is None:
            return None
        try:
            return datetime.fromisoformat(str(doc["at"]))
        except (KeyError, ValueError) as exc:
            raise StoreError(f"chat store: mark {name!r} is malformed: {exc!r}") from None

    def set_mark(self, name: str, at: datetime) -> None:
        self._store.write({"marks": {name: {"at": at.isoformat()}}})


def _alert_to_dict(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "words": alert.words, "created": alert.created.isoformat()}


def _alert_from_dict(item: Any, chat_id: str) -> Alert:
    try:
        return Alert(
            id=int(item["id"]),
            words=str(item["words"]),
            created=datetime.fromisoformat(str(item["created"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"chat store: an alert of chat {chat_id} is malformed: {exc!r}") from None
