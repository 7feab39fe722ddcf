"""``newsbot run``: the Telegram bot, with the feed polling, digests and alerts, in one process.

Environment: ``NEWSBOT_TOKEN`` (required), ``NEWSBOT_API_URL`` (the Bot API server, default
Telegram's), ``NEWSBOT_WEBHOOK_SECRET`` (required in webhook mode), ``NEWSBOT_CONFIG`` and
``NEWSBOT_DATA`` as for every command. The token and the secret never reach output: log lines
pass through a formatter that blanks them, and errors about them are written without them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot import metrics
from bot.chat.app import DEFAULT_API_URL, build_app, serve
from bot.cli.fetch import configure_logging as configure_fetch_logging
from bot.cli.fetch import fetch_forever
from bot.config import Config, load_config
from bot.delivery.backend import open_ledger
from bot.errors import NewsbotError
from bot.ingest.pollsetup import open_poller
from bot.search.backend import open_index
from bot.store.backend import open_store
from bot.store.pglead import Leadership

log = logging.getLogger("newsbot.run")

BOTFATHER_ADVICE = (
    "create a bot with @BotFather in Telegram and set NEWSBOT_TOKEN to the token it gives"
)
# What Telegram accepts as a webhook's secret_token (1 to 256 of these), at a length no one guesses.
SECRET_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{16,256}")
ROLES = ("all", "ingest", "bot")
ROLE_ADVICE = (
    "set NEWSBOT_DATABASE_URL (or [store] database_url) to the PostgreSQL database every "
    "process shares; one process on a data folder is --role all"
)
WEBHOOK_ADVICE = (
    'mode = "webhook" needs NEWSBOT_WEBHOOK_SECRET: 16 to 256 characters A-Z, a-z, 0-9, _ and -, '
    "which Telegram sends with every update so that no one else can post updates to the bot"
)


def add_commands(commands: Any) -> None:
    """Add ``run`` to the ``newsbot`` command line."""
    run = commands.add_parser(
        "run",
        help="run the Telegram bot",
        description=(
            "Run the bot: poll the feeds, send digests at each chat's times and answer commands "
            "until SIGTERM or SIGINT. Needs NEWSBOT_TOKEN; NEWSBOT_API_URL points it at another "
            "Bot API server. On a shared database (NEWSBOT_DATABASE_URL) several processes "
            "split the work by --role."
        ),
    )
    run.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help=(
            "all (default): poll feeds, answer commands, send; ingest: only poll feeds (no "
            "token needed); bot: answer commands and send, no polling. Roles other than all "
            "need a database: one process at a time sends (the others stand by)"
        ),
    )
    run.set_defaults(handler=_cmd_run)


class RedactingFormatter(logging.Formatter):
    """Log lines with every occurrence of a secret blanked, tracebacks included."""

    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every non-empty secret replaced by ``[token]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[token]")
    return text


def configure_logging(token: str, *, webhook_secret: str | None = None) -> None:
    """Event lines on stderr without the token or the webhook secret; ``httpx`` stays at
    WARNING (full URLs)."""
    handler = logging.StreamHandler(sys.stderr)
    secret_part = token.split(":", 1)[1] if ":" in token else token
    secrets = [token, secret_part, webhook_secret or ""]
    handler.setFormatter(
        RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.captureWarnings(True)  # warnings too pass through the formatter
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Delivery waits out every 429 and logs it; the limiter's own traceback would only alarm.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)


def api_url_problem(url: str) -> str | None:
    """What is wrong with a NEWSBOT_API_URL, or None. It is the server's bare address; the
    message never repeats the URL (a token pasted into it must not reach the terminal)."""
    parts = urlsplit(url)
    example = "e.g. http://127.0.0.1:8081"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"NEWSBOT_API_URL must be the Bot API server's address, {example}"
    if re.search(r"/bot", parts.path, re.IGNORECASE):
        return (
            f"NEWSBOT_API_URL is the Bot API server's bare address ({example}): the bot adds "
            "/bot<token> itself, so leave /bot and the token out of it"
        )
    return None


def _cmd_run(args: argparse.Namespace) -> int:
    role = getattr(args, "role", "all")
    if role != "all":
        config = load_config(os.environ)
        if not config.database_url:
            print(f"newsbot: --role {role} shares the work through a database: {ROLE_ADVICE}",
                  file=sys.stderr)  # fmt: skip
            return 2
        if role == "ingest":
            configure_fetch_logging(logging.INFO)
            return asyncio.run(fetch_forever(config))
    token = os.environ.get("NEWSBOT_TOKEN", "").strip()
    if not token:
        print(f"newsbot: NEWSBOT_TOKEN is not set: {BOTFATHER_ADVICE}", file=sys.stderr)
        return 2
    api_url = (os.environ.get("NEWSBOT_API_URL") or DEFAULT_API_URL).strip()
    problem = api_url_problem(api_url)
    if problem is not None:
        print(f"newsbot: {problem}", file=sys.stderr)
        return 2
    config = load_config(os.environ)
    webhook_secret: str | None = None
    if config.settings.bot.mode == "webhook":
        webhook_secret = os.environ.get("NEWSBOT_WEBHOOK_SECRET", "").strip()
        if not SECRET_TOKEN_CHARS.fullmatch(webhook_secret):
            print(f"newsbot: {WEBHOOK_ADVICE}", file=sys.stderr)
            return 2
    configure_logging(token, webhook_secret=webhook_secret)
    try:
        return asyncio.run(
            run_bot(config, token=token, api_url=api_url, webhook_secret=webhook_secret, role=role)
        )
    except InvalidToken:
        print(
            f"newsbot: the Bot API at {api_url} refused the token in NEWSBOT_TOKEN: "
            + BOTFATHER_ADVICE,
            file=sys.stderr,
        )
        return 2
    except NetworkError as exc:
        detail = redact(str(exc), [token, webhook_secret or ""])
        print(
            f"newsbot: cannot reach the Bot API at {api_url}: {detail}. Check the network "
            "connection, and NEWSBOT_API_URL if you set it.",
            file=sys.stderr,
        )
        return 1
    except TelegramError as exc:
        detail = redact(str(exc), [token, webhook_secret or ""])
        print(f"newsbot: the Bot API at {api_url} answered: {detail}", file=sys.stderr)
        return 1
    except NewsbotError:
        raise  # the command line prints these; they never hold the token
    except Exception:  # a traceback, through the formatter that blanks the token
        log.exception("the bot stopped on an unexpected error")
        return 1


async def run_bot(
    config: Config,
    *,
    token: str,
    api_url: str,
    webhook_secret: str | None = None,
    role: str = "all",
) -> int:
    """Open the data, build the bot and serve until stopped; returns the exit code. On a
    database, the process sends only while it holds the leader lock; ``role="bot"`` polls no
    feeds (ingest processes do); serves the metrics when ``[metrics] port`` is set."""
    served = config.settings.metrics
    with metrics.serving(served.listen, served.port):
        return await _run_bot(
            config, token=token, api_url=api_url, webhook_secret=webhook_secret, role=role
        )


async def _run_bot(
    config: Config, *, token: str, api_url: str, webhook_secret: str | None, role: str
) -> int:
    leader = Leadership(config.database_url) if config.database_url else None
    if role == "bot":
        with open_store(config) as store, closing(open_index(store, config.data_dir)) as index:
            ledger = open_ledger(
                store, config.data_dir, retention_days=config.settings.store.retention_days
            )
            try:
                app = build_app(config, token=token, api_url=api_url, store=store, index=index,
                                ledger=ledger, leader=leader)  # fmt: skip
                await serve(app, webhook_secret=webhook_secret)
            finally:
                ledger.close()
        return 0
    async with open_poller(config) as poller:
        ledger = open_ledger(
            poller.store, config.data_dir, retention_days=config.settings.store.retention_days
        )
        try:
            app = build_app(
                config,
                token=token,
                api_url=api_url,
                store=poller.store,
                index=poller.index,
                ledger=ledger,
                poller=poller,
                leader=leader,
            )
            await serve(app, webhook_secret=webhook_secret)
        finally:
            ledger.close()
    return 0
