"""A Bot-API-speaking HTTP server on 127.0.0.1 for end-to-end tests (python-telegram-bot 22).

It answers ``POST /bot<TOKEN>/<method>`` (form, multipart or JSON bodies) the way Telegram does:
the ``{"ok": ..., "result" | "error_code", "description", "parameters"}`` envelope, dates in
seconds, 401 for a wrong token, 400 for an unknown method (never 404: PTB reads 404 as a bad
token). HTML messages are checked against Telegram's parse-mode subset and length limit, so a
rendering bug fails the way it would in production.

A test plays the users and scripts the faults::

    with BotApiServer() as server:
        app = Application.builder().token(server.token).base_url(server.base_url)...
        server.send_user_message(chat_id=42, text="/start")
        server.wait_for(lambda: server.sent_texts(42))
        server.press_button(chat_id=42, message_id=..., data="more:2")
        server.fail("sendMessage", retry_after_s=1, chat_id=42, times=1)
        server.block(chat_id=43)                  # 403 until unblock(43)
        server.migrate_group(-100, -1001234)      # 400 migrate_to_chat_id, plus service updates
        server.fail("sendMessage", drop=True)     # close the socket without an answer
        server.make_admin(-100, user_id=7)        # getChatMember says "administrator"
        server.send_user_document(42, "feeds.opml", data, caption="/import")  # getFile too
        server.post_to_webhook(update, secret_token="wrong")  # -> the webhook's HTTP status
        server.world.add_channel(-1009, "Daily", username="daily", creator=7)  # chatworld.py
        server.world.add_group(-1008, "Forum", forum=True, admins=(7,))
        thread = server.open_topic(-1008, "World")     # message_thread_id of a new topic
        server.send_user_message(-1008, "/start", thread_id=thread)
        server.close_topic(-1008, thread, deleted=True)  # "message thread not found"
        server.set_bot_status(-1009, Member("member"), by_user=7)  # + my_chat_member update
        server.forward_channel_post(7, -1009)     # a forwarded post (forward_origin: channel)
        query_id = server.send_inline_query(7, "flood")  # then server.inline_answer(query_id)

Webhooks as Telegram has them: setWebhook records the url, secret_token, allowed_updates and
drop_pending_updates (``server.webhook``), getWebhookInfo reports them, deleteWebhook removes
them, and getUpdates answers 409 Conflict while a webhook is set. Updates then go to the
webhook instead: a pusher thread POSTs each queued update, oldest first, to the registered URL
with the ``X-Telegram-Bot-Api-Secret-Token`` header, and keeps it queued (retrying) until the
bot answers 2xx. Only loopback webhook URLs are accepted.

Channels, groups and forum topics the test declares in ``server.world`` (tests/support/
chatworld.py) are checked as Telegram checks them: getChat by id or @username, getChatMember
with statuses and rights, posting needs membership (a channel: "Post messages"), a topic that
is deleted or closed refuses posts; a channel post has ``sender_chat`` and no ``from``. Inline
queries are answered with answerInlineQuery, checked for Telegram's limits.
Longer than ~300 lines: one server for every method the bot uses.

``calls`` records every request (method, params, time, chat, HTTP status); ``sent`` holds the
messages that were really delivered, per chat. The server runs in a daemon thread
(``ThreadingHTTPServer`` on port 0) and only ever listens on the loopback interface.
"""

from __future__ import annotations

import email.parser
import email.policy
import http.client
import ipaddress
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.chatworld import ApiError, ChatWorld, Member, member_json
from tests.support.telegram_markup import parse_telegram_html, utf16_units

__all__ = ["ApiError", "BotApiServer", "Call", "Member"]

TOKEN = "123456789:AAFakeTokenForLoopbackTestsOnly_0123"
MAX_TEXT_UNITS = 4096
MAX_POLL_S = 5.0
WEBHOOK_RETRY_S = 0.2
WEBHOOK_TIMEOUT_S = 5.0
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
GET_UPDATES_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

JSON = dict[str, Any]

# Parameters whose form value is a plain string even when it looks like JSON.
_STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "url", "description", "name",
     "short_description", "language_code", "query", "data", "emoji", "title",
     "next_offset", "inline_query_id"}
)  # fmt: skip

# --- what the server records and how faults are scripted -----------------------------------


@dataclass(frozen=True)
class Call:
    """One request the bot made."""

    method: str
    params: JSON
    at: float
    chat_id: int | None
    status: int


@dataclass
class Fault:
    """An answer given instead of the real one to matching calls, `times` times (None: always)."""

    method: str | None
    chat_id: int | None
    times: int | None
    status: int = 400
    description: str = ""
    parameters: JSON | None = None
    drop: bool = False

    def matches(self, method: str, chat_id: int | None) -> bool:
        return (
            (self.times is None or self.times > 0)
            and (self.method is None or self.method.lower() == method.lower())
            and (self.chat_id is None or self.chat_id == chat_id)
        )


@dataclass
class _State:
    updates: list[JSON] = field(default_factory=list)
    next_update_id: int = 1
    next_message_id: dict[int, int] = field(default_factory=dict)
    messages: dict[tuple[int, int], JSON] = field(default_factory=dict)
    commands: dict[str, list[JSON]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    migrated: dict[int, int] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    callback_answers: list[JSON] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    chat_admins: dict[int, set[int]] = field(default_factory=dict)
    webhook: JSON | None = None
    webhook_posts: list[tuple[int, int]] = field(default_factory=list)
    by_bot: set[tuple[int, int]] = field(default_factory=set)  # (chat, message id) it sent
    inline_queries: dict[str, JSON] = field(default_factory=dict)  # id -> the query
    inline_answers: dict[str, JSON] = field(default_factory=dict)  # id -> answerInlineQuery


class BotApiServer:
    """A loopback Telegram Bot API for one bot; see the module docstring for how to drive it."""

    def __init__(
        self, token: str = TOKEN, *, username: str = "newsbot_test_bot", first_name: str = "Newsbot"
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.calls: list[Call] = []
        self._state = _State()
        self.world = ChatWorld(self.bot_id)
        self._changed = threading.Condition()
        self._stopping = False
        self._ids = itertools.count(1)
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._pusher = threading.Thread(target=self._push_updates, daemon=True)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` takes (the token is appended to it)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What PTB's ``base_file_url`` takes."""
        return f"{self.url}/file/bot"

    def start(self) -> BotApiServer:
        self._thread.start()
        self._pusher.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._http.shutdown()
        self._http.server_close()
        self._pusher.join(timeout=WEBHOOK_TIMEOUT_S + 1)

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- playing the users ------------------------------------------------------------------

    def user(self, user_id: int) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}",
                "username": f"user{user_id}", "language_code": "en"}  # fmt: skip

    def chat(self, chat_id: int) -> JSON:
        known = self.world.get(chat_id)
        if known is not None:
            return known.json()
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}",
                    "username": f"user{chat_id}"}  # fmt: skip
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def send_user_message(
        self, chat_id: int, text: str, *, user_id: int | None = None, thread_id: int = 0
    ) -> JSON:
        """A user writes in a chat, in a forum topic when ``thread_id`` is given (a /command
        gets its bot_command entity); returns the Update."""
        message = self._new_message(chat_id, self.user(user_id or abs(chat_id)), text)
        if thread_id:
            self._in_topic(message, chat_id, thread_id)
        command = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": utf16_units(command.group(0))}]  # fmt: skip
        return self.inject_update({"message": message})

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> JSON:
        """A user presses an inline button with callback data under a bot message."""
        with self._changed:
            message = self._state.messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query = {
            "id": str(next(self._ids)),
            "from": self.user(user_id or abs(chat_id)),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        return self.inject_update({"callback_query": query})

    def inject_update(self, update: JSON) -> JSON:
        """Queue any Update (without update_id) for getUpdates, or for the webhook when one is
        set; returns it with its id."""
        with self._changed:
            full = {"update_id": self._state.next_update_id, **update}
            self._state.next_update_id += 1
            self._state.updates.append(full)
            self._changed.notify_all()
        return full

    def send_user_document(
        self,
        chat_id: int,
        file_name: str,
        data: bytes,
        *,
        caption: str | None = None,
        user_id: int | None = None,
    ) -> JSON:
        """A user sends a file (with an optional caption); the bot can getFile and download it."""
        file_id = f"up{next(self._ids)}"
        with self._changed:
            self._state.files[file_id] = (file_name, data)
        message = self._new_message(chat_id, self.user(user_id or abs(chat_id)), None)
        message["document"] = {"file_id": file_id, "file_unique_id": file_id,
                               "file_name": file_name, "file_size": len(data)}  # fmt: skip
        if caption is not None:
            message["caption"] = caption
            command = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", caption)
            if command:
                length = utf16_units(command.group(0))
                message["caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": length}
                ]
        return self.inject_update({"message": message})

    def make_admin(self, chat_id: int, *, user_id: int) -> None:
        """getChatMember answers "administrator" for this user in this group."""
        with self._changed:
            self._state.chat_admins.setdefault(chat_id, set()).add(user_id)

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group becomes a supergroup: sends to the old id fail with migrate_to_chat_id."""
        with self._changed:
            self._state.migrated[old_chat_id] = new_chat_id
        bot = self._bot_user()
        old = self._new_message(old_chat_id, bot, None)
        old["migrate_to_chat_id"] = new_chat_id
        new = self._new_message(new_chat_id, bot, None)
        new["migrate_from_chat_id"] = old_chat_id
        self.inject_update({"message": old})
        self.inject_update({"message": new})

    # -- channels, forum topics, membership, inline queries -----------------------------------

    def open_topic(self, chat_id: int, name: str, *, user_id: int | None = None) -> int:
        """A user creates a forum topic; returns its thread id (the id of the service message
        that created it, as in Telegram)."""
        opener = self._new_message(chat_id, self.user(user_id or 1), None)
        thread_id = int(opener["message_id"])
        opener["forum_topic_created"] = {"name": name, "icon_color": 7322096}
        opener |= {"message_thread_id": thread_id, "is_topic_message": True}
        self.world.open_topic(chat_id, thread_id, name)
        return thread_id

    def close_topic(self, chat_id: int, thread_id: int, *, deleted: bool = False) -> None:
        """An admin closes (or deletes) a topic: posts there get TOPIC_CLOSED (or "message
        thread not found")."""
        self.world.close_topic(chat_id, thread_id, deleted=deleted)

    def set_bot_status(self, chat_id: int, member: Member, *, by_user: int) -> JSON:
        """Someone adds, promotes, demotes or removes the bot: its status changes and the bot
        gets a ``my_chat_member`` update; returns the Update."""
        old, new = self.world.set_member(chat_id, self.bot_id, member)
        kind = self.chat(chat_id)["type"]
        change = {
            "chat": self.chat(chat_id),
            "from": self.user(by_user),
            "date": int(time.time()),
            "old_chat_member": member_json(old, self._bot_user(), kind),
            "new_chat_member": member_json(new, self._bot_user(), kind),
        }
        return self.inject_update({"my_chat_member": change})

    def forward_channel_post(
        self, chat_id: int, channel_id: int, *, user_id: int | None = None
    ) -> JSON:
        """A user forwards a post of a channel into a chat with the bot; returns the Update."""
        message = self._new_message(chat_id, self.user(user_id or abs(chat_id)), "A post")
        message["forward_origin"] = {"type": "channel", "chat": self.chat(channel_id),
                                     "message_id": 1, "date": int(time.time())}  # fmt: skip
        return self.inject_update({"message": message})

    def send_inline_query(self, user_id: int, query: str, *, offset: str = "") -> str:
        """A user types ``@bot query`` in some chat; returns the inline query's id."""
        query_id = f"iq{next(self._ids)}"
        inline = {"id": query_id, "from": self.user(user_id), "query": query,
                  "offset": offset, "chat_type": "sender"}  # fmt: skip
        with self._changed:
            self._state.inline_queries[query_id] = inline
        self.inject_update({"inline_query": inline})
        return query_id

    def inline_answer(self, query_id: str) -> JSON | None:
        """What the bot answered to an inline query (answerInlineQuery's parameters)."""
        with self._changed:
            return self._state.inline_answers.get(query_id)

    def choose_inline_result(self, query_id: str, result_id: str, *, chat_id: int) -> JSON:
        """The user picks a result: its message is posted in ``chat_id`` "via" the bot."""
        answer = self.inline_answer(query_id)
        if answer is None:
            raise KeyError(f"inline query {query_id} was not answered")
        found = next(r for r in answer["results"] if r["id"] == result_id)
        content = found["input_message_content"]
        text, _ = self._text(content, "message_text", required=True)
        with self._changed:
            user = self._state.inline_queries[query_id]["from"]
        message = self._new_message(chat_id, user, text)
        message["via_bot"] = self._bot_user()
        return message

    def _in_topic(self, message: JSON, chat_id: int, thread_id: int) -> None:
        """Mark a message as sent in a forum topic, as Telegram does: the thread id, and a
        reply to the service message that created the topic."""
        topic = self.world.topic(chat_id, thread_id)
        message |= {"message_thread_id": thread_id, "is_topic_message": True}
        if topic is not None:
            message["reply_to_message"] = {
                "message_id": thread_id, "date": message["date"], "chat": message["chat"],
                "message_thread_id": thread_id, "is_topic_message": True,
                "forum_topic_created": {"name": topic.name, "icon_color": 7322096},
            }  # fmt: skip

    def _full_chat(self, params: JSON, chat_id: int | None) -> JSON:
        """getChat: a ChatFullInfo; an unknown @username is "chat not found"."""
        found = self.chat(_require_chat(chat_id))
        self._check_chat(found["id"])
        known = self.world.get(found["id"])
        if known is not None and self.world.member(found["id"], self.bot_id) is None:
            raise ApiError(400, "Bad Request: chat not found")
        gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}  # fmt: skip
        return found | {"accent_color_id": 0, "max_reaction_count": 11,
                        "accepted_gift_types": gifts}  # fmt: skip

    def _answer_inline(self, params: JSON) -> bool:
        """answerInlineQuery, checked as Telegram checks it: a known query answered once, at
        most 50 results with unique ids of 1-64 bytes, offsets and start parameters of
        Telegram's sizes, message texts of valid HTML."""
        query_id = str(params.get("inline_query_id") or "")
        results = params.get("results")
        with self._changed:
            if query_id not in self._state.inline_queries or query_id in self._state.inline_answers:
                raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                    "or query ID is invalid")  # fmt: skip
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if len(str(params.get("next_offset") or "").encode()) > 64:
            raise ApiError(400, "Bad Request: NEXT_OFFSET_INVALID")
        button = params.get("button")
        parameter = str(button.get("start_parameter", "-")) if isinstance(button, dict) else "-"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", parameter):
            raise ApiError(400, "Bad Request: START_PARAM_INVALID")
        for result in results:
            self._text(result.get("input_message_content") or {}, "message_text", required=True)
        with self._changed:
            self._state.inline_answers[query_id] = params
        return True

    # -- scripting faults -------------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        times: int | None = 1,
        retry_after_s: int | None = None,
        status: int = 400,
        description: str = 'Bad Request: can\'t parse entities: Unsupported start tag "x"',
        drop: bool = False,
    ) -> Fault:
        """Answer matching calls with an error (or drop the connection) `times` times."""
        parameters = None
        if retry_after_s is not None:
            status = 429
            description = f"Too Many Requests: retry after {retry_after_s}"
            parameters = {"retry_after": retry_after_s}
        fault = Fault(method, chat_id, times, status, description, parameters, drop)
        with self._changed:
            self._state.faults.append(fault)
        return fault

    def block(self, chat_id: int) -> None:
        """The user blocks the bot (or the bot is kicked): every call to the chat gets 403."""
        with self._changed:
            self._state.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._changed:
            self._state.blocked.discard(chat_id)

    # -- what happened ----------------------------------------------------------------------

    def calls_to(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        with self._changed:
            return [
                c for c in self.calls
                if (method is None or c.method.lower() == method.lower())
                and (chat_id is None or c.chat_id == chat_id)
            ]  # fmt: skip

    def sent(self, chat_id: int, thread_id: int | None = None) -> list[JSON]:
        """Messages the bot delivered to a chat (as they stand now), in order; with
        ``thread_id``, only those in that forum topic (0: outside every topic)."""
        with self._changed:
            return [
                m for key, m in sorted(self._state.messages.items())
                if key[0] == chat_id and key in self._state.by_bot
                and (thread_id is None or m.get("message_thread_id", 0) == thread_id)
            ]  # fmt: skip

    def sent_texts(self, chat_id: int) -> list[str]:
        return [str(m.get("text") or m.get("caption") or "") for m in self.sent(chat_id)]

    def sent_chats(self) -> set[int]:
        with self._changed:
            return {chat for chat, _ in self._state.by_bot}

    @property
    def commands(self) -> list[JSON]:
        """The default command menu the bot registered."""
        with self._changed:
            return list(self._state.commands.get("default", []))

    def chat_commands(self, chat_id: int) -> list[JSON]:
        """The command menu the bot registered for one chat (scope ``chat``)."""
        with self._changed:
            return list(self._state.commands.get(f"chat{chat_id}", []))

    @property
    def callback_answers(self) -> list[JSON]:
        with self._changed:
            return list(self._state.callback_answers)

    def file(self, file_id: str) -> tuple[str, bytes]:
        """(file name, bytes) of a document the bot uploaded."""
        with self._changed:
            return self._state.files[file_id]

    def pending_updates(self) -> int:
        with self._changed:
            return len(self._state.updates)

    @property
    def webhook(self) -> JSON | None:
        """The webhook setWebhook registered (its parameters), None when there is none."""
        with self._changed:
            return dict(self._state.webhook) if self._state.webhook is not None else None

    @property
    def webhook_posts(self) -> list[tuple[int, int]]:
        """(update_id, HTTP status) of every POST the server made to the webhook, in order."""
        with self._changed:
            return list(self._state.webhook_posts)

    def post_to_webhook(self, update: JSON, *, secret_token: str | None = None) -> int:
        """POST one Update to the registered webhook now, with ``secret_token`` in the header
        (default: the registered one); returns the HTTP status (0: no connection)."""
        with self._changed:
            hook = self._state.webhook
            if hook is None:
                raise RuntimeError("no webhook is set")
            url = str(hook["url"])
            secret = secret_token if secret_token is not None else hook.get("secret_token")
        return self._post(url, update, secret)

    def _post(self, url: str, update: JSON, secret_token: Any) -> int:
        status = _post_json(url, update, secret_token)
        with self._changed:
            self._state.webhook_posts.append((int(update.get("update_id", 0)), status))
            self._changed.notify_all()
        return status

    def _push_updates(self) -> None:
        """Telegram's side of a webhook: deliver queued updates in order until each is taken."""
        with self._changed:
            while not self._stopping:
                if self._state.webhook is None or not self._state.updates:
                    self._changed.wait(WEBHOOK_RETRY_S)
                    continue
                update = self._state.updates[0]
                url, secret = str(self._state.webhook["url"]), self._state.webhook["secret_token"]
                self._changed.release()
                try:
                    status = self._post(url, update, secret)
                finally:
                    self._changed.acquire()
                if 200 <= status < 300:
                    if self._state.updates and self._state.updates[0] is update:
                        self._state.updates.pop(0)
                else:
                    self._changed.wait(WEBHOOK_RETRY_S)

    def wait_for(self, condition: Callable[[], Any], timeout_s: float = 5.0) -> Any:
        """Block until condition() is truthy (re-checked after every request); returns its value."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not do what the test waited for")
                self._changed.wait(min(left, 0.05))

    # -- the API ----------------------------------------------------------------------------

    def _bot_user(self) -> JSON:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name,
                "username": self.username}  # fmt: skip

    def _new_message(self, chat_id: int, sender: JSON, text: str | None) -> JSON:
        with self._changed:
            message_id = self._state.next_message_id.get(chat_id, 1)
            self._state.next_message_id[chat_id] = message_id + 1
            message: JSON = {"message_id": message_id, "date": int(time.time()),
                             "chat": self.chat(chat_id), "from": sender}  # fmt: skip
            if text is not None:
                message["text"] = text
            self._state.messages[(chat_id, message_id)] = message
            return message

    def handle(self, method: str, params: JSON) -> tuple[int, JSON | None]:
        """Answer one call: (HTTP status, envelope), or (0, None) to drop the connection."""
        chat_id = _chat_of(params)
        if chat_id is None and params.get("chat_id") is not None:
            chat_id = self.world.resolve(params["chat_id"])
            if chat_id is None:
                with self._changed:
                    self.calls.append(Call(method, params, time.time(), None, 400))
                    self._changed.notify_all()
                return 400, _error(400, "Bad Request: chat not found", None)
        status, body = self._answer(method, params, chat_id)
        with self._changed:
            self.calls.append(Call(method, params, time.time(), chat_id, status))
            self._changed.notify_all()
        return status, body

    def _answer(self, method: str, params: JSON, chat_id: int | None) -> tuple[int, JSON | None]:
        with self._changed:
            fault = next((f for f in self._state.faults if f.matches(method, chat_id)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
        if fault is not None:
            if fault.drop:
                return 0, None
            return fault.status, _error(fault.status, fault.description, fault.parameters)
        try:
            result = self._dispatch(method.lower(), params, chat_id)
        except ApiError as error:
            return error.status, _error(error.status, error.description, error.parameters)
        return 200, {"ok": True, "result": result}

    def _dispatch(self, method: str, params: JSON, chat_id: int | None) -> Any:
        if method == "getupdates":
            return self._get_updates(params)
        if method == "getme":
            return {**self._bot_user(), "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": True,
                    "can_connect_to_business": False, "has_main_web_app": False}  # fmt: skip
        if method in ("deletewebhook", "setwebhook", "getwebhookinfo"):
            return self._webhook(method, params)
        if method in ("close", "logout", "sendchataction", "setmydescription",
                      "setmyshortdescription", "setchatmenubutton"):  # fmt: skip
            return True
        if method in ("setmycommands", "getmycommands", "deletemycommands"):
            return self._commands(method, params)
        if method == "answercallbackquery":
            if not params.get("callback_query_id"):
                raise ApiError(400, "Bad Request: query is too old and response timeout expired")
            with self._changed:
                self._state.callback_answers.append(params)
            return True
        if method == "getchat":
            return self._full_chat(params, chat_id)
        if method == "answerinlinequery":
            return self._answer_inline(params)
        if method == "getchatmember":
            return self._chat_member(_require_chat(chat_id), int(params.get("user_id") or 0))
        if method == "getfile":
            return self._file_info(str(params.get("file_id") or ""))
        if method in ("sendmessage", "senddocument"):
            return self._send(method, params, _require_chat(chat_id))
        if method in ("editmessagetext", "editmessagereplymarkup"):
            return self._edit(method, params, _require_chat(chat_id))
        if method == "deletemessage":
            key = (_require_chat(chat_id), int(params.get("message_id", 0)))
            with self._changed:
                if self._state.messages.pop(key, None) is None:
                    raise ApiError(400, "Bad Request: message to delete not found")
            return True
        raise ApiError(400, f"Bad Request: method {method!r} is not supported by this test server")

    def _webhook(self, method: str, params: JSON) -> Any:
        """setWebhook (an empty url removes it), deleteWebhook and getWebhookInfo."""
        url = str(params.get("url") or "") if method == "setwebhook" else ""
        if url:
            _check_webhook_url(url)
            secret = params.get("secret_token")
            if secret is not None and not SECRET_TOKEN.match(str(secret)):
                raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._changed:
            if method == "getwebhookinfo":
                hook = self._state.webhook or {}
                info: JSON = {"url": hook.get("url", ""), "has_custom_certificate": False,
                              "pending_update_count": len(self._state.updates)}  # fmt: skip
                for key in ("max_connections", "allowed_updates", "ip_address"):
                    if hook.get(key) is not None:
                        info[key] = hook[key]
                return info
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
            if url:
                self._state.webhook = {
                    "url": url,
                    "secret_token": params.get("secret_token"),
                    "allowed_updates": params.get("allowed_updates"),
                    "drop_pending_updates": bool(params.get("drop_pending_updates")),
                    "max_connections": params.get("max_connections"),
                    "ip_address": params.get("ip_address"),
                }
            else:
                self._state.webhook = None
            self._changed.notify_all()
        return True

    def _get_updates(self, params: JSON) -> list[JSON]:
        with self._changed:
            if self._state.webhook is not None:
                raise ApiError(409, GET_UPDATES_CONFLICT)
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout_s = min(float(params.get("timeout") or 0), MAX_POLL_S)
        deadline = time.monotonic() + timeout_s
        with self._changed:
            if offset:
                self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
            while not self._state.updates and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self._state.updates[:limit]

    def _chat_member(self, chat_id: int, user_id: int) -> JSON:
        self._check_chat(chat_id)
        user = self._bot_user() if user_id == self.bot_id else self.user(user_id)
        known = self.world.get(chat_id)
        member = self.world.member(chat_id, user_id)
        if known is not None and member is not None:
            return member_json(member, user, known.type)
        with self._changed:
            is_admin = user_id in self._state.chat_admins.get(chat_id, set())
        if is_admin:
            return {"status": "administrator", "user": user, "can_be_edited": False,
                    "is_anonymous": False, "can_manage_chat": True,
                    "can_delete_messages": True, "can_manage_video_chats": True,
                    "can_restrict_members": True, "can_promote_members": False,
                    "can_change_info": True, "can_invite_users": True,
                    "can_post_stories": False, "can_edit_stories": False,
                    "can_delete_stories": False}  # fmt: skip
        return {"status": "member", "user": user}

    def _file_info(self, file_id: str) -> JSON:
        with self._changed:
            found = self._state.files.get(file_id)
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(found[1]),
                "file_path": f"documents/{file_id}"}  # fmt: skip

    def file_bytes(self, file_path: str) -> bytes | None:
        """The bytes behind a ``file_path`` getFile gave (downloads)."""
        file_id = file_path.removeprefix("documents/")
        with self._changed:
            found = self._state.files.get(file_id)
        return found[1] if found is not None else None

    def _commands(self, method: str, params: JSON) -> Any:
        scope = params.get("scope") or {"type": "default"}
        kind = str(scope.get("type"))
        if kind == "chat":
            kind = f"chat{scope.get('chat_id')}"
        key = f"{kind}:{params.get('language_code', '')}".rstrip(":")
        with self._changed:
            if method == "setmycommands":
                commands = params.get("commands")
                if not isinstance(commands, list):
                    raise ApiError(400, "Bad Request: can't parse commands JSON object")
                self._state.commands[key] = commands
                return True
            if method == "deletemycommands":
                self._state.commands.pop(key, None)
                return True
            return self._state.commands.get(key, [])

    def _check_chat(self, chat_id: int) -> None:
        with self._changed:
            if chat_id in self._state.blocked:
                text = "user" if chat_id > 0 else "group chat"
                verb = "blocked by the user" if chat_id > 0 else f"kicked from the {text}"
                raise ApiError(403, f"Forbidden: bot was {verb}")
            if chat_id in self._state.migrated:
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self._state.migrated[chat_id]},
                )

    def _text(self, params: JSON, key: str, *, required: bool) -> tuple[str, JSON]:
        raw = params.get(key)
        if raw is None and not required:
            return "", {}
        text = str(raw or "")
        if str(params.get("parse_mode", "")).lower() == "html":
            plain, problems = parse_telegram_html(text)
            if problems:
                raise ApiError(400, f"Bad Request: can't parse entities: {problems[0]}")
            text = plain
        if required and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        limit = MAX_TEXT_UNITS if key in ("text", "message_text") else 1024
        if utf16_units(text) > limit:
            raise ApiError(400, f"Bad Request: {'message' if key == 'text' else key} is too long")
        return text, {}

    def _send(self, method: str, params: JSON, chat_id: int) -> JSON:
        self._check_chat(chat_id)
        thread_id = int(params.get("message_thread_id") or 0)
        self.world.check_post(chat_id, thread_id or None)
        if method == "sendmessage":
            text, _ = self._text(params, "text", required=True)
            message = self._new_message(chat_id, self._bot_user(), text)
        else:
            caption, _ = self._text(params, "caption", required=False)
            document = params.get("document")
            if not isinstance(document, tuple):
                raise ApiError(400, "Bad Request: there is no document in the request")
            name, data = document
            file_id = f"doc{next(self._ids)}"
            with self._changed:
                self._state.files[file_id] = (name, data)
            message = self._new_message(chat_id, self._bot_user(), None)
            message["document"] = {"file_id": file_id, "file_unique_id": file_id,
                                   "file_name": name, "file_size": len(data)}  # fmt: skip
            if caption:
                message["caption"] = caption
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        if thread_id:
            self._in_topic(message, chat_id, thread_id)
        known = self.world.get(chat_id)
        if known is not None and known.type == "channel":  # a channel post: no "from"
            del message["from"]
            message["sender_chat"] = known.json()
        with self._changed:
            self._state.by_bot.add((chat_id, message["message_id"]))
        return message

    def _edit(self, method: str, params: JSON, chat_id: int) -> JSON:
        self._check_chat(chat_id)
        key = (chat_id, int(params.get("message_id") or 0))
        with self._changed:
            old = self._state.messages.get(key)
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        new = dict(old)
        if method == "editmessagetext":
            new["text"], _ = self._text(params, "text", required=True)
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            new["reply_markup"] = markup
        else:
            new.pop("reply_markup", None)
        if new == old:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        new["edit_date"] = int(time.time())
        with self._changed:
            self._state.messages[key] = new
        return new


def _error(status: int, description: str, parameters: JSON | None) -> JSON:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _chat_of(params: JSON) -> int | None:
    value = params.get("chat_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None  # an @username: the world resolves it


def _check_webhook_url(url: str) -> None:
    """Telegram takes only HTTPS on its ports; this server posts only to loopback (plain HTTP
    is fine there, as with a local Bot API server)."""
    parts = urlsplit(url)
    try:
        is_loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        is_loopback = False
    if parts.scheme not in ("http", "https") or not is_loopback:
        raise ApiError(400, "Bad Request: bad webhook: this test server posts to loopback only")


def _post_json(url: str, update: JSON, secret_token: Any) -> int:
    """POST an Update to a loopback webhook; the HTTP status, or 0 when it cannot be reached."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "127.0.0.1", parts.port, timeout=WEBHOOK_TIMEOUT_S)
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = str(secret_token)
    try:
        connection.request("POST", parts.path or "/", json.dumps(update).encode(), headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def _require_chat(chat_id: int | None) -> int:
    if chat_id is None:
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


# --- HTTP ----------------------------------------------------------------------------------


def _decode_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_body(content_type: str, body: bytes) -> JSON:
    if content_type.startswith("application/json"):
        loaded = json.loads(body or b"{}")
        return loaded if isinstance(loaded, dict) else {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: JSON = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            filename = part.get_filename()
            if not isinstance(name, str):
                continue
            if filename is not None:
                params[name] = (filename, payload)
            else:
                params[name] = _decode_value(name, payload.decode("utf-8"))
        # A file given as attach://<name> is resolved to its part.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.get(value.removeprefix("attach://"), value)
        return params
    fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    return {name: _decode_value(name, values[-1]) for name, values in fields.items()}


def _make_handler(server: BotApiServer) -> type[BaseHTTPRequestHandler]:
    path_pattern = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
    file_pattern = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``server.calls`` instead."""

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            download = file_pattern.match(unquote(parts.path))  # PTB quotes the token's ":"
            if download is not None and download.group("token") == server.token:
                data = server.file_bytes(download.group("path"))
                if data is None:
                    self._reply(404, _error(404, "Not Found", None))
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            match = path_pattern.match(parts.path)
            if match is None:
                self._reply(404, _error(404, "Not Found", None))
                return
            if match.group("token") != server.token:
                self._reply(401, _error(401, "Unauthorized", None))
                return
            params = {k: _decode_value(k, v[-1]) for k, v in parse_qs(parts.query).items()}
            try:
                params.update(_parse_body(self.headers.get("Content-Type", ""), body))
            except (ValueError, UnicodeDecodeError) as error:
                self._reply(400, _error(400, f"Bad Request: {error}", None))
                return
            status, envelope = server.handle(match.group("method"), params)
            if envelope is None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._reply(status, envelope)

        def _reply(self, status: int, envelope: JSON) -> None:
            data = json.dumps(envelope).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
