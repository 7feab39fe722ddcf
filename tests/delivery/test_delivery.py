"""Delivery: every error path through PTB's request seam, then end to end with faults injected
by the loopback Bot API server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bench.fanout import KEY_PATTERN, build_bot, digest_batch, tally
from bot.delivery.ledger import Ledger, Outgoing
from bot.delivery.sender import Delivery, DeliverySettings, build_rate_limiter, rate_window
from bot.delivery.telegram_html import to_plain_text
from tests.support.botapi import TOKEN, BotApiServer

# PTB's own RetryAfter reads its deprecated int ``retry_after`` while building the error.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

NOW = datetime(2026, 1, 5, 8, tzinfo=UTC)
FAST = DeliverySettings(
    messages_per_s=1000, group_messages_per_min=60_000, first_retry_backoff_s=0.01,
    max_retry_backoff_s=0.05, drain_timeout_s=2.0,
)  # fmt: skip

Answer = tuple[int, dict[str, Any]] | BaseException


@dataclass
class ScriptedRequest(BaseRequest):
    """PTB's request seam: records every call; ``script`` answers (status, body), raises, or
    returns None for Telegram's normal answer."""

    script: Callable[[str, dict[str, Any]], Answer | None] = lambda method, params: None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hang: asyncio.Event | None = None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *_: Any, **__: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((name, params))
        if self.hang is not None:
            await self.hang.wait()
        answer = self.script(name, params)
        if isinstance(answer, BaseException):
            raise answer
        if answer is None:
            answer = (200, {"ok": True, "result": _message(params)})
        status, body = answer
        return status, json.dumps(body).encode()

    def sends(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == "sendMessage"
                and (chat_id is None or p["chat_id"] == chat_id)]  # fmt: skip


def _message(params: dict[str, Any]) -> dict[str, Any]:
    chat = int(params["chat_id"])
    return {"message_id": 7, "date": 0, "text": params.get("text", ""),
            "chat": {"id": chat, "type": "private" if chat > 0 else "group"}}  # fmt: skip


def _error(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


def _failing(answers: dict[int, list[Answer]]) -> Callable[[str, dict[str, Any]], Answer | None]:
    """Per chat, answer its first sends with the given errors, then normally."""

    def script(method: str, params: dict[str, Any]) -> Answer | None:
        queue = answers.get(int(params.get("chat_id", 0)), [])
        return queue.pop(0) if method == "sendMessage" and queue else None

    return script


def _out(chat: int, n: int, text: str = "<b>news</b> item") -> Outgoing:
    return Outgoing(f"digest:{chat}:b:{n}", chat, f"{text} {n}", (f"a{chat}.{n}",), "digest")


@dataclass
class Events:
    blocked: list[int] = field(default_factory=list)
    migrated: list[tuple[int, int]] = field(default_factory=list)

    async def on_blocked(self, chat: int) -> None:
        self.blocked.append(chat)

    async def on_migrated(self, old: int, new: int) -> None:
        self.migrated.append((old, new))


async def _deliver(
    ledger: Ledger, request: ScriptedRequest, messages: Sequence[Outgoing], events: Events
) -> None:
    bot = Bot(TOKEN, request=request)
    delivery = Delivery(
        bot, ledger, on_blocked=events.on_blocked, on_migrated=events.on_migrated,
        settings=FAST, clock=lambda: NOW,
    )  # fmt: skip
    runner = asyncio.create_task(delivery.run())
    await delivery.submit(messages)
    await delivery.wait_idle()
    await delivery.drain(1.0)
    await runner


def _run(tmp_path: Path, script: Any, messages: Sequence[Outgoing]) -> tuple[
    ScriptedRequest, Events, Ledger
]:  # fmt: skip
    request = ScriptedRequest(script)
    events = Events()
    ledger = Ledger.open(tmp_path, now=NOW)
    asyncio.run(_deliver(ledger, request, messages, events))
    return request, events, ledger


def test_messages_go_out_as_html_without_link_previews_in_order(tmp_path: Path) -> None:
    """Each chat gets its messages in order, HTML parse mode, link previews off."""
    messages = [_out(1, 0), _out(2, 0), _out(1, 1), _out(1, 2)]
    request, _, ledger = _run(tmp_path, lambda m, p: None, messages)
    assert [p["text"] for p in request.sends(1)] == ["<b>news</b> item 0", "<b>news</b> item 1",
                                                     "<b>news</b> item 2"]  # fmt: skip
    assert all(p["parse_mode"] == "HTML" for p in request.sends())
    assert all(p["link_preview_options"] == {"is_disabled": True} for p in request.sends())
    assert ledger.pending() == []
    assert ledger.stats(NOW.date()).messages == 4


@pytest.mark.parametrize(
    "failure",
    [
        _error(429, "Too Many Requests: retry after 1", retry_after=1),
        NetworkError("connection reset"),
        TimedOut("read timed out"),
        _error(502, "Bad Gateway"),
    ],
    ids=["retry-after", "network", "timeout", "bad-gateway"],
)
def test_transient_failures_are_retried_and_never_drop_a_message(
    tmp_path: Path, failure: Answer
) -> None:
    """429, network errors, timeouts and server errors: the message is sent once it passes."""
    request, events, ledger = _run(tmp_path, _failing({5: [failure, failure]}), [_out(5, 0)])
    assert len(request.sends(5)) == 3
    assert ledger.pending() == []
    assert events.blocked == []
    assert ledger.stats(NOW.date()).errors == 2


@pytest.mark.parametrize(
    "failure",
    [
        _error(403, "Forbidden: bot was blocked by the user"),
        _error(400, "Bad Request: chat not found"),
    ],
    ids=["blocked", "chat-not-found"],
)
def test_a_blocked_or_missing_chat_is_deactivated_and_its_pending_messages_abandoned(
    tmp_path: Path, failure: Answer
) -> None:
    """403 or a chat-level 400: on_blocked runs once, the chat's other messages are not sent,
    other chats are unaffected."""
    messages = [_out(-9, 0), _out(-9, 1), _out(-9, 2), _out(4, 0)]
    request, events, ledger = _run(tmp_path, _failing({-9: [failure]}), messages)
    assert events.blocked == [-9]
    assert len(request.sends(-9)) == 1
    assert len(request.sends(4)) == 1
    assert ledger.pending() == []
    assert ledger.stats(NOW.date()).abandoned == 3


def test_html_refused_by_telegram_is_resent_as_plain_text(tmp_path: Path) -> None:
    """400 "can't parse entities": the same message again as plain text, no parse mode."""
    failure = _error(400, 'Bad Request: can\'t parse entities: Unsupported start tag "x"')
    message = _out(3, 0, text="<b>Fed</b> &amp; <i>markets</i>")
    request, events, ledger = _run(tmp_path, _failing({3: [failure]}), [message])
    first, second = request.sends(3)
    assert first["parse_mode"] == "HTML"
    assert second["text"] == to_plain_text(message.text) == "Fed & markets 0"
    assert "parse_mode" not in second
    assert ledger.pending() == []
    assert events.blocked == []


def test_a_message_telegram_refuses_is_abandoned_but_the_chat_kept(tmp_path: Path) -> None:
    """400 "message is too long": that message is given up, the next one still goes out."""
    failure = _error(400, "Bad Request: message is too long")
    request, events, ledger = _run(tmp_path, _failing({6: [failure]}), [_out(6, 0), _out(6, 1)])
    assert len(request.sends(6)) == 2
    assert events.blocked == []
    assert ledger.stats(NOW.date()).abandoned == 1
    assert ledger.stats(NOW.date()).messages == 1


def test_a_migrated_group_gets_its_messages_at_the_new_id(tmp_path: Path) -> None:
    """Group -> supergroup: on_migrated(old, new), the ledger and the queue move, nothing lost."""
    failure = _error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                     migrate_to_chat_id=-1001)  # fmt: skip
    request, events, ledger = _run(tmp_path, _failing({-5: [failure]}), [_out(-5, 0), _out(-5, 1)])
    assert events.migrated == [(-5, -1001)]
    assert [p["text"] for p in request.sends(-1001)] == ["<b>news</b> item 0",
                                                         "<b>news</b> item 1"]  # fmt: skip
    assert ledger.delivered_ids(-1001) == {"a-5.0", "a-5.1"}
    assert ledger.delivered_ids(-5) == set()
    assert ledger.pending() == []


def test_drain_parks_a_send_that_does_not_finish_and_the_next_start_sends_it(
    tmp_path: Path,
) -> None:
    """A send hanging at shutdown stays pending in the ledger and goes out after a restart."""

    async def hanging() -> None:
        request = ScriptedRequest(hang=asyncio.Event())
        with Ledger.open(tmp_path, now=NOW) as ledger:
            delivery = Delivery(Bot(TOKEN, request=request), ledger, on_blocked=Events().on_blocked,
                                on_migrated=Events().on_migrated, settings=FAST)  # fmt: skip
            runner = asyncio.create_task(delivery.run())
            await delivery.submit([_out(8, 0), _out(8, 1)])
            while not request.sends():
                await asyncio.sleep(0.01)
            await delivery.drain(0.2)
            await runner
            assert [m.key for m in ledger.pending()] == ["digest:8:b:0", "digest:8:b:1"]

    asyncio.run(hanging())
    request, _, ledger = _run(tmp_path, lambda m, p: None, [])
    assert [p["text"] for p in request.sends(8)] == ["<b>news</b> item 0", "<b>news</b> item 1"]
    assert ledger.pending() == []


def test_submitting_a_digest_again_sends_nothing_twice(tmp_path: Path) -> None:
    """The same digest submitted twice (a repeated tick) is planned and sent once."""
    ledger = Ledger.open(tmp_path, now=NOW)
    request, events = ScriptedRequest(), Events()
    asyncio.run(_deliver(ledger, request, [_out(2, 0)], events))
    asyncio.run(_deliver(ledger, request, [_out(2, 0)], events))
    assert len(request.sends(2)) == 1


# --- end to end: a real Bot against the loopback Bot API server ----------------------------


def test_faults_from_the_bot_api_server_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    """429, 403, 400 entity errors, a migration and dropped connections during a fan-out to 40
    chats: each live chat has each message exactly once, the blocked one nothing."""
    chats = [*range(1, 31), *range(-10, 0)]
    messages = digest_batch(chats, "e2e", parts=2)
    bad_html = Outgoing("alert:7:x:0", 7, "<b>broken</x>", ("x1",), "alert")
    events = Events()
    with BotApiServer() as server:
        server.fail("sendMessage", retry_after_s=1, chat_id=3, times=1)
        server.fail("sendMessage", drop=True, chat_id=4, times=2)
        server.fail("sendMessage", drop=True, times=3)
        server.fail("sendMessage", status=400, chat_id=7, times=1)  # can't parse entities
        server.block(12)
        server.migrate_group(-3, -1003)

        async def fan_out() -> None:
            with Ledger.open(tmp_path, now=NOW) as ledger:
                async with build_bot(server.base_url, TOKEN, FAST) as bot:
                    delivery = Delivery(bot, ledger, on_blocked=events.on_blocked,
                                        on_migrated=events.on_migrated, settings=FAST)  # fmt: skip
                    runner = asyncio.create_task(delivery.run())
                    await delivery.submit([*messages, bad_html])
                    await delivery.wait_idle()
                    await delivery.drain(2.0)
                    await runner
                    assert ledger.pending() == []

        asyncio.run(fan_out())
        live = [m for m in messages if m.chat_id not in (12, -3)]
        result = tally(server, live)
        assert (result.lost, result.duplicated) == (0, 0)
        assert server.sent_texts(12) == []
        moved = [KEY_PATTERN.findall(t)[0] for t in server.sent_texts(-1003)]
        assert moved == ["digest:-3:e2e:0", "digest:-3:e2e:1"]
        assert server.sent_texts(7)[-1] == "broken"
    assert events.blocked == [12]
    assert events.migrated == [(-3, -1003)]


# -- the rate limit ------------------------------------------------------------------------


@given(st.floats(0.1, 10_000), st.sampled_from([1.0, 60.0]))
def test_rate_windows_keep_the_rate_and_hold_a_whole_message(rate: float, period_s: float) -> None:
    """Any configured rate becomes a bucket of at least one message, at the same rate."""
    size, window_s = rate_window(rate, period_s)
    assert size >= 1
    assert size / window_s == pytest.approx(rate / period_s)


def test_a_rate_below_one_message_a_second_is_honoured() -> None:
    """max_messages_per_s = 0.2 sends one message, then holds the next (for 5 s), instead of
    refusing every message or sending one a second."""
    limiter = build_rate_limiter(DeliverySettings(messages_per_s=0.2))
    sent: list[int] = []

    async def send(n: int) -> dict[str, Any]:
        sent.append(n)
        return {"n": n}

    async def main() -> None:
        await limiter.initialize()

        def request(n: int) -> Any:
            return limiter.process_request(
                callback=send, args=(n,), kwargs={}, endpoint="sendMessage",
                data={"chat_id": 7}, rate_limit_args=None,
            )  # fmt: skip

        assert await request(1) == {"n": 1}
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(request(2), 0.5)
        await limiter.shutdown()

    asyncio.run(main())
    assert sent == [1]
