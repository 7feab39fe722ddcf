"""End to end: the real ``newsbot run`` with ``[metrics] port`` set serves Prometheus metrics
that follow what the bot did: a feed polled, one feed failing, a digest sent through a 429."""

from __future__ import annotations

import re
import socket
import time
import urllib.request
from functools import partial
from pathlib import Path

import pytest

from tests.support.botapi import BotApiServer
from tests.support.e2e import STORIES, WAIT_S, Bot, count, say, serve_feed, write_feeds
from tests.support.httpserver import LoopbackServer

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    """The samples at /metrics, by name with their labels as written."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    samples = {}
    for line in text.splitlines():
        if match := re.fullmatch(r"([a-z_]+(?:\{[^}]*\})?) (\S+)", line):
            samples[match[1]] = float(match[2])
    return samples


def until(port: int, name: str, least: float) -> dict[str, float]:
    """Scrape until the sample ``name`` reaches ``least``; the last scrape."""
    deadline = time.monotonic() + WAIT_S
    while (samples := scrape(port)).get(name, 0) < least:
        assert time.monotonic() < deadline, f"{name} stayed below {least}: {samples.get(name)}"
        time.sleep(0.1)
    return samples


def test_a_running_bot_serves_metrics_of_what_it_ingested_and_sent(tmp_path: Path) -> None:
    port = _free_port()
    settings = (
        "[poll]\nnew_feed_backlog = 10\n"
        "[bot]\ndigest_tick_s = 0.2\nallow_private_feeds = true\ndrain_timeout_s = 3.0\n"
        f'[metrics]\nport = {port}\nlisten = "127.0.0.1"\n'
    )
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(settings, encoding="utf-8")
        write_feeds(
            tmp_path,
            {"Loop Wire": serve_feed(web, "/wire.xml", STORIES), "Gone": web.url("/gone.xml")},
        )
        bot = Bot(tmp_path, server)
        try:
            assert "Subscribed" in say(server, 42, "/start")
            until(port, "newsbot_articles_ingested_total", len(STORIES))  # the first cycle
            server.fail("sendMessage", chat_id=42, retry_after_s=1)
            server.send_user_message(42, "/digest")
            server.wait_for(partial(count, server, 42, "Council budget vote delayed"), WAIT_S)
            samples = until(port, "newsbot_messages_sent_total", 1)  # counted once confirmed
            assert bot.stop() == 0
        finally:
            bot.stop()
    assert samples["newsbot_articles_ingested_total"] == len(STORIES)
    assert samples["newsbot_messages_sent_total"] >= 1
    assert samples['newsbot_feed_errors_total{kind="http_status"}'] >= 1
    assert samples["newsbot_rate_limited_total"] == 1
    assert samples['newsbot_messages_retried_total{reason="retry_after"}'] == 1
    assert samples["newsbot_delivery_queue_length"] == 0
    assert f"metrics served on http://127.0.0.1:{port}/metrics" in bot.output()
