"""Prometheus metrics (``[metrics] port`` in settings.toml): the counters each part bumps at
its seam, and the HTTP server that shows them at ``/metrics``.

Every function here is a no-op until :func:`enable` ran, and :func:`enable` is a no-op when
``prometheus-client`` (the ``metrics`` extra) is not installed: counting never breaks the bot.
Imports nothing of newsbot but ``bot.errors``, so every part may use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.errors import NewsbotError

log = logging.getLogger("newsbot.metrics")

prometheus_client: Any
try:
    import prometheus_client
except ImportError:  # the metrics extra is not installed
    prometheus_client = None

EXTRA_ADVICE = "install the metrics extra: pip install 'newsbot[metrics]'"


@dataclass(frozen=True, slots=True)
class _Meters:
    articles: Any
    feed_polls: Any
    feed_errors: Any
    sent: Any
    failed: Any
    retried: Any
    rate_limited: Any
    rate_limited_s: Any
    queue: Any
    read_timeouts: Any


_meters: _Meters | None = None
_made: dict[Any, _Meters] = {}  # a registry refuses the same name twice


def available() -> bool:
    """Whether prometheus-client is installed."""
    return prometheus_client is not None


def enable(registry: Any = None) -> bool:
    """Start counting, into ``registry`` (a ``CollectorRegistry``; the default one when None).
    Returns False, counting nothing, when prometheus-client is missing."""
    global _meters
    if prometheus_client is None:
        return False
    pc = prometheus_client
    reg = pc.REGISTRY if registry is None else registry
    made = _made.get(reg)
    if made is None:
        made = _made[reg] = _make(pc, reg)
    _meters = made
    return True


def _make(pc: Any, reg: Any) -> _Meters:
    return _Meters(
        articles=pc.Counter(
            "newsbot_articles_ingested", "Articles written to the store", registry=reg
        ),
        feed_polls=pc.Counter("newsbot_feed_polls", "Feed polls done", registry=reg),
        feed_errors=pc.Counter(
            "newsbot_feed_errors", "Feed polls that failed, by kind", ["kind"], registry=reg
        ),
        sent=pc.Counter("newsbot_messages_sent", "Telegram messages delivered", registry=reg),
        failed=pc.Counter(
            "newsbot_messages_failed",
            "Telegram messages given up, by reason",
            ["reason"],
            registry=reg,
        ),
        retried=pc.Counter(
            "newsbot_messages_retried",
            "Telegram sends tried again, by reason",
            ["reason"],
            registry=reg,
        ),
        rate_limited=pc.Counter(
            "newsbot_rate_limited", "Telegram 429 answers (Retry-After waits)", registry=reg
        ),
        rate_limited_s=pc.Counter(
            "newsbot_rate_limited_seconds",
            "Seconds Telegram's 429 answers asked to wait",
            registry=reg,
        ),
        queue=pc.Gauge(
            "newsbot_delivery_queue_length", "Messages queued for sending", registry=reg
        ),
        read_timeouts=pc.Counter(
            "newsbot_read_job_timeouts",
            "Page reads and feed parses stopped at read_job_timeout_s",
            registry=reg,
        ),
    )


def disable() -> None:
    """Stop counting (the counters already made stay in their registry)."""
    global _meters
    _meters = None


def articles_ingested(count: int) -> None:
    if _meters is not None and count > 0:
        _meters.articles.inc(count)


def feed_polled(error_kind: str | None) -> None:
    """One feed poll; ``error_kind`` names why it failed (None: it did not)."""
    if _meters is not None:
        _meters.feed_polls.inc()
        if error_kind is not None:
            _meters.feed_errors.labels(kind=error_kind).inc()


def message_sent() -> None:
    if _meters is not None:
        _meters.sent.inc()


def messages_failed(reason: str, count: int = 1) -> None:
    if _meters is not None and count > 0:
        _meters.failed.labels(reason=reason).inc(count)


def message_retried(reason: str) -> None:
    if _meters is not None:
        _meters.retried.labels(reason=reason).inc()


def rate_limited(wait_s: float) -> None:
    if _meters is not None:
        _meters.rate_limited.inc()
        _meters.rate_limited_s.inc(max(wait_s, 0.0))


def watch_queue(length: Callable[[], float]) -> None:
    """The delivery queue's length is ``length()`` at each scrape."""
    if _meters is not None:
        _meters.queue.set_function(length)


def read_job_timeout() -> None:
    if _meters is not None:
        _meters.read_timeouts.inc()


@contextmanager
def serving(listen: str, port: int) -> Iterator[bool]:
    """Count and serve ``/metrics`` on ``listen:port`` for the block; port 0: metrics off.
    Yields whether metrics are on. A port in use is a :class:`NewsbotError`."""
    if port == 0:
        yield False
        return
    if prometheus_client is None:
        log.warning("metrics off: [metrics] port is set but prometheus-client is missing; %s",
                    EXTRA_ADVICE)  # fmt: skip
        yield False
        return
    enable()
    try:
        server, thread = prometheus_client.start_http_server(port, addr=listen)
    except OSError as exc:
        disable()
        raise NewsbotError(
            f"cannot serve metrics on {listen}:{port}: {exc.strerror or exc}; "
            "change [metrics] port or listen in settings.toml"
        ) from exc
    log.info("metrics served on http://%s:%d/metrics", listen, port)
    try:
        yield True
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        disable()
