"""The bot as unit tests drive it: build_app with an in-memory store and index, a recording
``BaseRequest`` (PTB's request seam) instead of the network, updates fed to
``app.process_update`` and the real Delivery sending through the same seam."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.chat.app import BotApp, Runtime, build_app, runtime
from bot.chat.services import Services, services
from bot.config import BotSettings, Config, FeedConfig, Settings
from bot.delivery.ledger import Ledger
from bot.models import Quote, StoredArticle
from bot.search.index import SearchIndex
from bot.store.datadir import SeenMark, Store

TOKEN = "123456:TestTokenForUnitTestsOnly"
BOT_ID = 123456
BOT_NAME = "newsbot_test_bot"
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)

FEEDS = (
    FeedConfig("World Wire", "https://example.org/world.xml", topic="world"),
    FeedConfig("Daily Planet", "https://example.org/planet.xml", topic="world"),
    FeedConfig("Sport Desk", "https://example.org/sport.xml", topic="sport"),
)

JSON = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made."""

    method: str
    params: JSON

    @property
    def chat_id(self) -> int | None:
        chat = self.params.get("chat_id")
        return int(chat) if chat is not None else None

    @property
    def thread_id(self) -> int:
        """The forum topic it went to (0: none)."""
        return int(self.params.get("message_thread_id") or 0)

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row after row."""
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup:
            return []
        return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


@dataclass
class RecordingRequest(BaseRequest):
    """Answers every Bot API call like Telegram would, and records it; chats in ``blocked``
    get 403, methods in ``faults`` get the scripted error answers first."""

    calls: list[Call] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    faults: dict[str, list[tuple[int, str, JSON | None]]] = field(default_factory=dict)
    admins: set[int] = field(default_factory=lambda: {500})
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[1]
        params = dict(request_data.parameters) if request_data is not None else {}
        call = Call(name, params)
        self.calls.append(call)
        scripted = self.faults.get(name)
        if scripted:
            status, description, parameters = scripted.pop(0)
            return status, _envelope_error(status, description, parameters)
        if call.chat_id is not None and call.chat_id in self.blocked:
            return 403, _envelope_error(403, "Forbidden: bot was blocked by the user", None)
        return 200, json.dumps({"ok": True, "result": self._result(call)}).encode()

    def _result(self, call: Call) -> Any:
        if call.method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Newsbot", "username": BOT_NAME}
        if call.method in ("sendMessage", "editMessageText"):
            chat_id = call.chat_id or 0
            message_id = call.params.get("message_id") or next(self._ids)
            return {
                "message_id": message_id,
                "date": int(NOW.timestamp()),
                "chat": chat_json(chat_id),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Newsbot"},
                "text": call.text,
            }
        if call.method == "getChatMember":
            user_id = int(call.params["user_id"])
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            if user_id in self.admins:
                return {"status": "creator", "user": user, "is_anonymous": False}
            return {"status": "member", "user": user}
        return True

    def to(self, chat_id: int, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.chat_id == chat_id]


def _envelope_error(status: int, description: str, parameters: JSON | None) -> bytes:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body).encode()


def chat_json(chat_id: int) -> JSON:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
    return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def article(
    article_id: str,
    title: str,
    text: str,
    *,
    feed: str = "World Wire",
    topic: str | None = "world",
    fetched: datetime = NOW - timedelta(hours=1),
    quote: tuple[str, str] | None = None,
) -> StoredArticle:
    return StoredArticle(
        id=article_id,
        feed=feed,
        title=title,
        link=f"https://example.org/{article_id}",
        published=fetched - timedelta(minutes=5),
        fetched=fetched,
        text=text,
        lead=(text.split(". ")[0] + ".",),
        quotes=(Quote(*quote),) if quote else (),
        topic=topic,
    )


class Harness:
    """A built bot with its parts; ``send``/``press`` play a user and let delivery finish."""

    def __init__(
        self,
        data_dir: Path,
        *,
        bot: BotSettings | None = None,
        feeds: Sequence[FeedConfig] = FEEDS,
        store: Store | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.request = RecordingRequest()
        self.store = store or Store.in_memory()
        self.index = SearchIndex(":memory:")
        self.data_dir = data_dir
        self.ledger = Ledger.open(data_dir, now=self.clock())
        config = Config(
            settings=Settings(bot=bot or BotSettings()),
            feeds=tuple(feeds),
            config_dir=data_dir,
            data_dir=data_dir,
        )
        self.app: BotApp = build_app(
            config,
            token=TOKEN,
            store=self.store,
            index=self.index,
            ledger=self.ledger,
            request=self.request,
            clock=self.clock,
        )
        self._sender: asyncio.Task[None] | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    @property
    def runtime(self) -> Runtime:
        return runtime(self.app)

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]  # type: ignore[no-any-return]

    async def __aenter__(self) -> Harness:
        await self.app.initialize()
        self.runtime.digests.start(self.clock())
        self._sender = asyncio.create_task(self.runtime.delivery.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runtime.delivery.drain(2.0)
        if self._sender is not None:
            await self._sender
        await self.app.shutdown()
        self.ledger.close()

    def add_articles(self, *articles: StoredArticle) -> None:
        """Articles as a poll cycle stores and indexes them."""
        marks = [SeenMark(a.id, "h" + a.id, a.feed, a.id) for a in articles]
        self.store.commit_cycle(self.clock(), list(articles), marks)
        self.index.index_articles(articles)

    async def settle(self) -> None:
        """Let delivery send what was submitted."""
        await asyncio.wait_for(self.runtime.delivery.wait_idle(), 5.0)

    async def update(self, payload: JSON) -> list[Call]:
        before = len(self.request.calls)
        update = Update.de_json({"update_id": next(self._update_ids), **payload}, self.app.bot)
        await self.app.process_update(update)
        await self.settle()
        return self.request.calls[before:]

    async def send(
        self, chat_id: int, text: str, *, user_id: int | None = None, thread_id: int = 0
    ) -> list[Call]:
        """A user (by default the one named like the chat) writes in a chat (in a forum
        topic when ``thread_id`` is given); returns the calls the bot made in answer."""
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(self.clock().timestamp()),
            "chat": chat_json(chat_id),
            "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "User"},
            "text": text,
        }
        if thread_id:
            message["chat"] |= {"type": "supergroup", "is_forum": True}
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
            message["reply_to_message"] = {
                "message_id": thread_id,
                "date": int(self.clock().timestamp()),
                "chat": message["chat"],
                "forum_topic_created": {"name": f"Topic {thread_id}", "icon_color": 7322096},
            }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self.update({"message": message})

    async def press(
        self, chat_id: int, data: str, message_id: int = 1, *, user_id: int | None = None
    ) -> list[Call]:
        """A user presses an inline button with this callback data."""
        query = {
            "id": str(next(self._update_ids)),
            "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "User"},
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(self.clock().timestamp()),
                "chat": chat_json(chat_id),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Newsbot"},
                "text": "menu",
            },
        }
        return await self.update({"callback_query": query})

    async def tick(self) -> list[Call]:
        """One digest/alert tick; returns the calls delivery made."""
        before = len(self.request.calls)
        await self.runtime.digests.tick()
        await self.settle()
        return self.request.calls[before:]


def texts(calls: Sequence[Call], method: str = "sendMessage") -> list[str]:
    return [c.text for c in calls if c.method == method]


def answers(calls: Sequence[Call]) -> list[str]:
    """The texts of callback query answers."""
    return [str(c.params.get("text", "")) for c in calls if c.method == "answerCallbackQuery"]


__all__ = ["Harness", "services"]
