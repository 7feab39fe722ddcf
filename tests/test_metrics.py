"""``bot.metrics`` itself: served over HTTP when on, a no-op when off or when prometheus-client
is missing, and a port in use is one clear error."""

from __future__ import annotations

import logging
import socket
import urllib.error
import urllib.request

import pytest

from bot import metrics
from bot.errors import NewsbotError


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_metrics_are_served_on_the_configured_address_and_stop_with_the_block() -> None:
    port = _free_port()
    with metrics.serving("127.0.0.1", port) as on:
        assert on
        metrics.message_sent()
        metrics.feed_polled("timeout")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    assert "newsbot_messages_sent_total" in text
    assert 'newsbot_feed_errors_total{kind="timeout"}' in text
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
    metrics.message_sent()  # off again: a no-op


def test_port_zero_serves_nothing() -> None:
    with metrics.serving("127.0.0.1", 0) as on:
        assert not on
        metrics.articles_ingested(3)  # counts nothing, raises nothing


def test_a_port_in_use_says_which_and_what_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        wanted = rf"127\.0\.0\.1:{port}.*\[metrics\] port"
        with pytest.raises(NewsbotError, match=wanted), metrics.serving("127.0.0.1", port):
            pass


def test_without_prometheus_client_the_bot_runs_and_says_how_to_get_metrics(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(metrics, "prometheus_client", None)
    assert not metrics.enable()
    with caplog.at_level(logging.WARNING), metrics.serving("127.0.0.1", _free_port()) as on:
        assert not on
        metrics.message_sent()
        metrics.rate_limited(3.0)
        metrics.watch_queue(lambda: 1)
    assert "newsbot[metrics]" in caplog.text
