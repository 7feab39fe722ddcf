"""Chats the bot serves: their preferences and keyword alerts, kept in a chat store.

Tables of the chat store (bot.store.chatstore): ``chats`` (chat id -> preferences,
``bot.delivery.prefs.prefs_to_dict``), ``alerts`` (chat id -> the chat's alerts) and ``marks``
(named instants the bot's jobs resume from). Every change is durable when the method returns
and writes only the records it changes. Preferences are cached in memory: the digest job
reads them all on every tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.delivery.prefs import ChatPrefs, prefs_from_dict, prefs_to_dict
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
        self._prefs: dict[int, ChatPrefs] = {}
        for key, doc in store.items("chats"):
            prefs = prefs_from_dict(doc)
            if str(prefs.chat_id) != key:
                raise StoreError(f"chat store: chat {key!r} holds the preferences of another chat")
            self._prefs[prefs.chat_id] = prefs

    # -- preferences --------------------------------------------------------------------

    def get(self, chat_id: int) -> ChatPrefs | None:
        return self._prefs.get(chat_id)

    def all(self) -> Mapping[int, ChatPrefs]:
        """Every known chat's preferences, active or not (a read-only view)."""
        return self._prefs

    def put(self, *prefs: ChatPrefs) -> None:
        """Store chats' preferences (replacing what they had), in one write."""
        self._store.write({"chats": {str(p.chat_id): prefs_to_dict(p) for p in prefs}})
        self._prefs.update((p.chat_id, p) for p in prefs)

    def deactivate(self, chat_id: int, now: datetime) -> ChatPrefs | None:
        """Stop serving a chat (it sent /stop, blocked the bot or is gone); prefs are kept."""
        prefs = self._prefs.get(chat_id)
        if prefs is None or not prefs.active:
            return prefs
        stopped = prefs.changed(now, active=False)
        self.put(stopped)
        return stopped

    def move(self, old_chat_id: int, new_chat_id: int, now: datetime) -> ChatPrefs | None:
        """A group became a supergroup: its preferences and alerts move to the new id."""
        prefs = self._prefs.get(old_chat_id)
        if prefs is None:
            return None
        moved = prefs.changed(now, chat_id=new_chat_id)
        old, new = str(old_chat_id), str(new_chat_id)
        changes: dict[str, dict[str, dict[str, Any] | None]] = {
            "chats": {old: None, new: prefs_to_dict(moved)}
        }
        alerts = self._store.get("alerts", old)
        if alerts is not None:
            changes["alerts"] = {old: None, new: alerts}
        self._store.write(changes)
        del self._prefs[old_chat_id]
        self._prefs[new_chat_id] = moved
        return moved

    def rename_feed(self, old: str, new: str, now: datetime) -> int:
        """A feed was renamed: chats subscribed to it by name follow it; returns how many."""
        wanted = old.casefold()
        moved = []
        for prefs in self._prefs.values():
            if any(name.casefold() == wanted for name in prefs.feeds):
                names = tuple(new if n.casefold() == wanted else n for n in prefs.feeds)
                moved.append(prefs.changed(now, feeds=tuple(dict.fromkeys(names))))
        if moved:
            self.put(*moved)
        return len(moved)

    # -- alerts -------------------------------------------------------------------------

    def alerts(self, chat_id: int) -> tuple[Alert, ...]:
        """The chat's alerts, oldest first."""
        doc = self._store.get("alerts", str(chat_id))
        if doc is None:
            return ()
        return tuple(_alert_from_dict(item, chat_id) for item in doc.get("alerts", []))

    def all_alerts(self) -> dict[int, tuple[Alert, ...]]:
        """Every chat's alerts, for chats that have any."""
        found = {}
        for key, doc in self._store.items("alerts"):
            chat_id = int(key)
            items = tuple(_alert_from_dict(item, chat_id) for item in doc.get("alerts", []))
            if items:
                found[chat_id] = items
        return found

    def add_alert(self, chat_id: int, words: str, now: datetime) -> Alert:
        """Save an alert; raises QueryError for words search cannot run and InputError when
        the chat has it already or has too many."""
        words = " ".join(words.split())
        parse_query(words)
        current = self.alerts(chat_id)
        if any(a.words.casefold() == words.casefold() for a in current):
            raise InputError(f"You have that alert already: {words}")
        if len(current) >= MAX_ALERTS_PER_CHAT:
            raise InputError(
                f"You have {MAX_ALERTS_PER_CHAT} alerts, the most a chat can have; "
                "remove one in /alerts first."
            )
        doc = self._store.get("alerts", str(chat_id))
        next_id = int(doc.get("next_id", 1)) if doc is not None else 1
        alert = Alert(id=next_id, words=words, created=now)
        items = [_alert_to_dict(a) for a in (*current, alert)]
        self._store.write({"alerts": {str(chat_id): {"next_id": next_id + 1, "alerts": items}}})
        return alert

    def remove_alert(self, chat_id: int, alert_id: int) -> Alert | None:
        """Remove one alert; returns it, or None when the chat has no such alert."""
        current = self.alerts(chat_id)
        gone = next((a for a in current if a.id == alert_id), None)
        if gone is None:
            return None
        doc = self._store.get("alerts", str(chat_id))
        next_id = doc.get("next_id", 1) if doc is not None else 1
        kept = [_alert_to_dict(a) for a in current if a.id != alert_id]
        self._store.write({"alerts": {str(chat_id): {"next_id": next_id, "alerts": kept}}})
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


def _alert_from_dict(item: Any, chat_id: int) -> Alert:
    try:
        return Alert(
            id=int(item["id"]),
            words=str(item["words"]),
            created=datetime.fromisoformat(str(item["created"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"chat store: an alert of chat {chat_id} is malformed: {exc!r}") from None
