"""The sender's metrics: sent, failed by reason, retried by reason, 429 waits, queue length."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import NetworkError

from bot.delivery.ledger import Ledger
from bot.delivery.sender import Delivery
from tests.delivery.test_delivery import FAST, NOW, Events, _error, _failing, _out, _run
from tests.support.botapi import TOKEN
from tests.support.metrics import counting, value

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def test_each_delivered_message_counts_once(tmp_path: Path) -> None:
    with counting() as registry:
        _run(tmp_path, lambda m, p: None, [_out(1, 0), _out(2, 0), _out(1, 1)])
    assert value(registry, "newsbot_messages_sent_total") == 3
    assert value(registry, "newsbot_delivery_queue_length") == 0


def test_429_waits_and_network_retries_are_counted(tmp_path: Path) -> None:
    """Two 429s asking 1 s each, then a reset connection: three retries, one message sent."""
    too_many = _error(429, "Too Many Requests: retry after 1", retry_after=1)
    script = _failing({5: [too_many, too_many, NetworkError("connection reset")]})
    with counting() as registry:
        _run(tmp_path, script, [_out(5, 0)])
    assert value(registry, "newsbot_messages_sent_total") == 1
    assert value(registry, "newsbot_rate_limited_total") == 2
    assert value(registry, "newsbot_rate_limited_seconds_total") == 2.0
    assert value(registry, "newsbot_messages_retried_total", reason="retry_after") == 2
    assert value(registry, "newsbot_messages_retried_total", reason="network") == 1


def test_given_up_messages_are_counted_by_reason(tmp_path: Path) -> None:
    """A blocked chat's three messages and one message Telegram refuses."""
    script = _failing(
        {
            -9: [_error(403, "Forbidden: bot was blocked by the user")],
            4: [_error(400, "Bad Request: message is too long")],
        }
    )
    messages = [_out(-9, 0), _out(-9, 1), _out(-9, 2), _out(4, 0), _out(4, 1)]
    with counting() as registry:
        _run(tmp_path, script, messages)
    assert value(registry, "newsbot_messages_failed_total", reason="chat_gone") == 3
    assert value(registry, "newsbot_messages_failed_total", reason="refused") == 1
    assert value(registry, "newsbot_messages_sent_total") == 1


def test_the_queue_gauge_shows_messages_waiting_to_be_sent(tmp_path: Path) -> None:
    async def scenario() -> float:
        ledger = Ledger.open(tmp_path, now=NOW)
        events = Events()
        delivery = Delivery(
            Bot(TOKEN), ledger, on_blocked=events.on_blocked, on_migrated=events.on_migrated,
            settings=FAST, clock=lambda: NOW,
        )  # fmt: skip
        await delivery.submit([_out(1, 0), _out(1, 1), _out(2, 0)])
        return value(registry, "newsbot_delivery_queue_length")

    with counting() as registry:
        assert asyncio.run(scenario()) == 3
