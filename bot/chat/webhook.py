"""The webhook server (``[bot] mode = "webhook"``): Telegram's POSTs become updates on the
application's queue, and ``GET /healthz`` answers whether the bot is alive.

Our own small tornado app rather than python-telegram-bot's: the secret token is checked here
with ``hmac.compare_digest`` (constant time) before anything of the request is read, and a
wrong or missing one gets 403. tornado is python-telegram-bot's webhook server, installed
with its ``webhooks`` extra; this module is imported only in webhook mode.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import tornado.netutil
import tornado.web
from telegram import Bot, Update
from telegram.ext import ExtBot
from tornado.httpserver import HTTPServer

from bot.logfields import fields

log = logging.getLogger("newsbot.webhook")

HOOK_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1 << 20  # an update is a few KB; Telegram's own limit is far below this

# () -> (alive, one line saying what is stale); None: no /healthz
HealthCheck = Callable[[], tuple[bool, str]]


def secret_matches(expected: str | None, sent: str | None) -> bool:
    """Whether a request carries the webhook secret (always, when none is set). Constant
    time in the secret's content, so timing tells an attacker nothing about it."""
    if expected is None:
        return True
    return hmac.compare_digest((sent or "").encode(), expected.encode())


class UpdateHandler(tornado.web.RequestHandler):
    """POST <webhook path>: one update from Telegram, onto the application's queue."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: Bot, queue: asyncio.Queue[object], secret: str | None) -> None:
        self.bot = bot
        self.queue = queue
        self.secret = secret

    async def post(self) -> None:
        if not secret_matches(self.secret, self.request.headers.get(HOOK_HEADER)):
            log.warning(
                "webhook post refused %s", fields(reason="secret", ip=self.request.remote_ip)
            )
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        if self.request.headers.get("Content-Type", "").split(";")[0] != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        try:
            update = Update.de_json(json.loads(self.request.body), self.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("webhook post unreadable %s", fields(error=type(exc).__name__))
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from exc
        if isinstance(self.bot, ExtBot):
            self.bot.insert_callback_data(update)
        await self.queue.put(update)
        self.set_status(HTTPStatus.OK)


class HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 when the poll loop and the sender are alive, 503 otherwise."""

    SUPPORTED_METHODS = ("GET",)

    def initialize(self, check: HealthCheck) -> None:
        self.check = check

    def get(self) -> None:
        alive, line = self.check()
        self.set_status(HTTPStatus.OK if alive else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(line + "\n")


class _App(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """Quiet: tornado would log every request line (with the path) at INFO."""


class WebhookServer:
    """Serves the webhook path (and ``/healthz`` when given a check) on ``listen:port``."""

    def __init__(
        self,
        bot: Bot,
        queue: asyncio.Queue[object],
        *,
        path: str,
        secret: str | None,
        health: HealthCheck | None = None,
    ) -> None:
        path = "/" + path.strip("/")
        routes: list[Any] = [
            (
                rf"{path.rstrip('/')}/?",
                UpdateHandler,
                {"bot": bot, "queue": queue, "secret": secret},
            )
        ]
        if health is not None and path != HEALTH_PATH:
            routes.append((HEALTH_PATH, HealthHandler, {"check": health}))
        self._http = HTTPServer(_App(routes), max_body_size=MAX_BODY_BYTES)
        self.port = 0

    def start(self, listen: str, port: int) -> None:
        """Bind and serve (raises OSError when the address cannot be bound)."""
        sockets = tornado.netutil.bind_sockets(port, address=listen)
        self._http.add_sockets(sockets)
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self._http.stop()
        await self._http.close_all_connections()
