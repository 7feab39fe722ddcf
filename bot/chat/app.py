"""The running bot: ``build_app`` wires the world, ``serve`` runs it until SIGTERM/SIGINT.

Longer than ~300 lines: the one place that wires the world and runs it, start to stop.

``build_app(config, *, token, store=None, ...)`` is the one place the parts are put together:
the PTB Application (rate-limited ExtBot), the handlers, Delivery over the ledger, the digest
job, the poll job (when given a poller) and the services handlers use. Tests pass fakes at
its seams: an in-memory store and index, a recording ``request``, a fixed ``clock``.

``serve(app)``: register the command menu, start delivery, the jobs and long polling (or the
webhook); on a stop signal stop taking updates and new work, let poll cycles commit, drain
delivery (what cannot be sent in time stays pending in the ledger for the next start), flush
and close the store. In webhook mode the webhook stays registered on stop (python-telegram-bot's
way): Telegram keeps the updates that arrive meanwhile and posts them after the next start,
which sets it again; long polling deletes it when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.admin import commands as admin
from bot.admin.commands import ADMIN_COMMANDS
from bot.admin.desk import AdminDesk
from bot.chat import callbacks, channels, commands, inline, members, pauses
from bot.chat import services as chat_services
from bot.chat.commands import COMMANDS
from bot.chat.services import Services
from bot.config import BotSettings, Config
from bot.delivery.backend import open_ledger
from bot.delivery.chats import Chats
from bot.delivery.contract import DeliveryLedger
from bot.delivery.digests import Digests
from bot.delivery.prefs import defaults_from_settings
from bot.delivery.sender import Delivery, DeliverySettings, build_rate_limiter
from bot.delivery.target import Target
from bot.errors import ConfigError
from bot.feedconfig.diff import pending_renames
from bot.feedconfig.watch import move_renamed_history
from bot.ingest.fetch import Fetcher
from bot.ingest.jobs import JOB_KWARGS, PollTicker, register_poll_job
from bot.ingest.poll import Poller
from bot.logfields import fields
from bot.search.backend import open_index
from bot.search.contract import TextIndex
from bot.store.backend import open_store
from bot.store.contract import ArticleStore
from bot.store.heartbeat import Heartbeat, judge
from bot.store.pglead import Leadership

log = logging.getLogger("newsbot.app")

DEFAULT_API_URL = "https://api.telegram.org"
CHANNEL_BUTTONS = r"^(ch:|@-100)"  # bot.chat.buttons: channel buttons and bound ones
DIGEST_JOB = "digest-tick"
HEALTH_JOB = "feed-health"
POLL_DRAIN_SHARE = 0.5  # of drain_timeout_s that running poll cycles get to commit

BotApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Runtime:
    """The parts ``serve`` starts and stops (kept in ``bot_data["runtime"]``)."""

    store: ArticleStore
    index: TextIndex
    ledger: DeliveryLedger
    delivery: Delivery
    digests: Digests
    ticker: PollTicker | None
    settings: BotSettings
    admin: AdminDesk
    leader: Leadership | None = None  # PostgreSQL: only the holder of the lock sends
    is_sending: bool = False  # digests, alerts and delivery run (this process leads)
    stop: asyncio.Event | None = None
    webhook: Any = None  # bot.chat.webhook.WebhookServer while serving (webhook mode)
    data_dir: Path | None = None
    heartbeat: Heartbeat | None = None  # health.json, while serving
    sender: asyncio.Task[None] | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


def delivery_settings(bot: BotSettings) -> DeliverySettings:
    return DeliverySettings(
        messages_per_s=bot.max_messages_per_s,
        group_messages_per_min=bot.max_group_messages_per_minute,
        drain_timeout_s=bot.drain_timeout_s,
    )


def build_app(
    config: Config,
    *,
    token: str,
    api_url: str | None = None,
    store: ArticleStore | None = None,
    index: TextIndex | None = None,
    ledger: DeliveryLedger | None = None,
    poller: Poller | None = None,
    leader: Leadership | None = None,
    request: BaseRequest | None = None,
    fetcher: Fetcher | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> BotApp:
    """The bot of ``config``: handlers, delivery, jobs. Raises telegram.error.InvalidToken
    for a token of the wrong shape (the server's verdict comes with ``initialize``)."""
    settings = config.settings.bot
    send = delivery_settings(settings)
    api = (api_url or DEFAULT_API_URL).rstrip("/")
    builder: Any = (
        Application.builder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(build_rate_limiter(send))
        .concurrent_updates(False)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.request(HTTPXRequest(connection_pool_size=send.concurrency + 4))
    app: BotApp = builder.build()

    store = store if store is not None else open_store(config)
    index = index if index is not None else open_index(store, config.data_dir)
    ledger = (
        ledger
        if ledger is not None
        else open_ledger(
            store, config.data_dir, retention_days=config.settings.store.retention_days
        )
    )
    chats = Chats(store.chat_store)
    if poller is not None:  # renames made in feeds.toml while the bot was down
        renames = pending_renames(poller.config.feeds, store.feed_states())
        move_renamed_history(store, renames)
        for old, new in renames:
            chats.rename_feed(old, new, clock())
    services: Services | None = None

    async def on_blocked(chat_id: int) -> None:
        assert services is not None
        await pauses.pause_chat(services, chat_id, pauses.REMOVED)

    async def on_thread_gone(target: Target, reason: str) -> None:
        assert services is not None
        await pauses.pause_topic(services, target, reason)

    async def on_migrated(old_chat_id: int, new_chat_id: int) -> None:
        assert services is not None
        await chat_services.move_chat(services, old_chat_id, new_chat_id, ledger=False)

    delivery = Delivery(
        app.bot,
        ledger,
        on_blocked=on_blocked,
        on_migrated=on_migrated,
        on_thread_gone=on_thread_gone,
        settings=send,
        clock=clock,
    )
    digests = Digests(chats, store, ledger, delivery, settings, clock)
    defaults = defaults_from_settings(
        time_zone=settings.time_zone,
        digest_times=settings.digest_times,
        items_per_digest=settings.items_per_digest,
    )
    services = Services(config, chats, digests, index, defaults, clock, delivery=delivery)
    desk = AdminDesk(app.bot, config, store, ledger, chats, clock, poller=poller, fetcher=fetcher)
    if poller is not None:
        services.feeds_in_force = lambda: poller.config.feeds
    else:
        services.feeds_in_force = lambda: desk.feeds
    ticker = PollTicker(poller) if poller is not None else None
    app.bot_data["services"] = services
    app.bot_data["admin"] = desk
    app.bot_data["runtime"] = Runtime(
        store, index, ledger, delivery, digests, ticker, settings, desk, leader
    )
    app.bot_data["runtime"].data_dir = config.data_dir
    add_handlers(app)
    if app.job_queue is not None:
        if ticker is not None:
            register_poll_job(app.job_queue, ticker, tick_s=settings.digest_tick_s)
            app.job_queue.run_repeating(
                _health_tick,
                interval=settings.digest_tick_s,
                first=settings.digest_tick_s,
                name=HEALTH_JOB,
                data=desk,
                job_kwargs=dict(JOB_KWARGS),
            )
        app.job_queue.run_repeating(
            _digest_tick,
            interval=settings.digest_tick_s,
            first=0.0,
            name=DIGEST_JOB,
            data=digests,
            job_kwargs=dict(JOB_KWARGS),
        )
    return app


def add_handlers(app: BotApp) -> None:
    """Every command, the buttons, group migrations, unknown commands, the error handler."""
    for name, handler in (
        ("start", commands.start),
        ("stop", commands.stop),
        ("digest", commands.digest),
        ("search", commands.search),
        ("settings", commands.settings),
        ("feeds", commands.feeds),
        ("alert", commands.alert),
        ("alerts", commands.alerts),
        ("timezone", commands.timezone),
        ("help", commands.help_command),
        ("channels", channels.channels_command),
        ("addfeed", admin.addfeed),
        ("removefeed", admin.removefeed),
        ("pausefeed", admin.pausefeed),
        ("resumefeed", admin.resumefeed),
        ("renamefeed", admin.renamefeed),
        ("setinterval", admin.setinterval),
        ("reload", admin.reload),
        ("feedstatus", admin.feedstatus),
        ("stats", admin.stats),
        ("export", admin.export),
        ("import", admin.import_command),
    ):
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(MessageHandler(filters.Document.ALL, admin.document))
    app.add_handler(ChatMemberHandler(members.member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(InlineQueryHandler(inline.inline_query))
    app.add_handler(CallbackQueryHandler(channels.press, pattern=CHANNEL_BUTTONS))
    app.add_handler(CallbackQueryHandler(callbacks.button))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, commands.chat_migrated))
    app.add_handler(MessageHandler(filters.COMMAND, commands.unknown))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.COMMAND & (filters.TEXT | filters.FORWARDED),
            channels.private_message,
        )
    )
    app.add_error_handler(commands.on_error)


def menu() -> list[BotCommand]:
    """The command menu setMyCommands registers for everyone (the same list as /help)."""
    return [BotCommand(name, f"{what} ({args})" if args else what) for name, args, what in COMMANDS]


def admin_menu() -> list[BotCommand]:
    """The menu of an admin's private chat: everyone's commands, then the admin commands."""
    extra = [
        BotCommand(name, f"{what} ({args})" if args else what)
        for name, args, what in ADMIN_COMMANDS
    ]
    return menu() + extra


async def register_menus(app: BotApp, admins: frozenset[int]) -> None:
    """setMyCommands: the public menu, and each admin's own (scope: their private chat). An
    admin who never opened a chat with the bot cannot have one; that is logged."""
    await app.bot.set_my_commands(menu())
    for admin_id in sorted(admins):
        try:
            await app.bot.set_my_commands(admin_menu(), scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:
            log.warning("admin menu not set %s", fields(admin=admin_id, error=str(exc)[:120]))


def runtime(app: BotApp) -> Runtime:
    found = app.bot_data.get("runtime")
    if not isinstance(found, Runtime):
        raise RuntimeError("the app was not built by build_app")
    return found


async def _digest_tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The JobQueue callback: send due digests and new alerts (the leading process only)."""
    job = context.job
    rt = runtime(context.application)
    if rt.sender is None or not rt.sender.done():  # sending, or standing by to
        _beat(rt, "sender")
    if job is not None and isinstance(job.data, Digests) and _is_sending(context):
        rt = runtime(context.application)
        if rt.leader is not None:  # what processes standing by planned (webhook commands)
            rt.delivery.adopt_pending()
        await job.data.tick()


async def _health_tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The JobQueue callback: failure and recovery notices for admins (the leader's)."""
    job = context.job
    if job is not None and isinstance(job.data, AdminDesk) and _is_sending(context):
        await job.data.check_health()


def _is_sending(context: CallbackContext[Any, Any, Any, Any]) -> bool:
    """Whether this process sends now; a leader whose lock broke stops the process at once
    (another may lead already: sending on would send twice)."""
    rt = context.application.bot_data.get("runtime")
    if not isinstance(rt, Runtime) or not rt.is_sending:
        return False
    if rt.leader is not None and not rt.leader.still_held():
        rt.is_sending = False
        if rt.stop is not None:
            rt.stop.set()
        return False
    return True


async def serve(
    app: BotApp, *, stop: asyncio.Event | None = None, webhook_secret: str | None = None
) -> None:
    """Run the bot until ``stop`` is set (by default: on SIGTERM or SIGINT), then shut down
    in order. ``webhook_secret``: the secret token Telegram must send with webhook updates.
    Raises telegram.error.InvalidToken when the server refuses the token, ConfigError when
    the webhook cannot be served."""
    rt = runtime(app)
    check_update_source(rt.settings)
    stop = rt.stop = stop or _stop_on_signals()
    _start_heartbeat(rt)
    async with app:  # initialize: getMe checks the token
        await register_menus(app, rt.admin.admins)
        if rt.leader is not None and not await _stand_by(app, rt, stop, webhook_secret):
            await _stop_in_order(app, rt, None)
            return
        due = rt.digests.start(rt.digests.clock())
        sender = rt.sender = asyncio.create_task(rt.delivery.run(), name="delivery")
        rt.is_sending = True
        if not app.running:
            await app.start()
        try:
            if not _taking_updates(app, rt):
                await _start_updates(app, rt, webhook_secret)
        except BaseException:  # setWebhook refused, the port taken: stop what was started
            await _stop_in_order(app, rt, sender)
            raise
        rt.admin.watcher.start()
        log.info(
            "bot running %s",
            fields(
                bot=app.bot.username,
                mode=rt.settings.mode,
                chats=len(rt.digests.chats.all()),
                digests_due=due,
                pending=len(rt.ledger.pending()),
            ),
        )
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({stopped, sender}, return_when=asyncio.FIRST_COMPLETED)
        log.info("bot stopping %s", fields(sender_failed=sender.done()))
        try:
            await _stop_in_order(app, rt, sender)
        finally:
            stopped.cancel()
    if rt.heartbeat is not None:
        with contextlib.suppress(OSError):
            rt.heartbeat.stopped()
    log.info("bot stopped %s", fields(pending=len(rt.ledger.pending())))


async def _stand_by(
    app: BotApp, rt: Runtime, stop: asyncio.Event, webhook_secret: str | None
) -> bool:
    """Sharing a database: poll feeds (the jobs start) and, in webhook mode, answer commands
    while another process leads; return True once this one leads (then it resends what the
    ledger holds pending), False when stopped first. In polling mode only the leader gets
    updates: Telegram allows one getUpdates consumer."""
    assert rt.leader is not None
    await app.start()
    if rt.settings.mode == "webhook":
        await _start_updates(app, rt, webhook_secret)
    if not rt.leader.try_acquire():
        log.info("standing by: another process sends")
        if not await rt.leader.acquire(stop):
            return False
    log.info("leading: this process sends digests and alerts")
    rt.delivery.take_over()
    return True


async def _stop_in_order(app: BotApp, rt: Runtime, sender: asyncio.Task[None] | None) -> None:
    """No new updates, then no new work; poll cycles commit, delivery drains, the store flushes."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if rt.webhook is not None:  # the webhook stays registered: updates wait at Telegram
        await rt.webhook.stop()
        rt.webhook = None
    await rt.admin.aclose()
    if app.running:
        await app.stop()  # the job queue too: no new ticks
    await _drain_polls(rt)
    if sender is None:
        rt.ledger.sync()
        rt.store.flush()
        return
    if not sender.done():
        await rt.delivery.drain(rt.settings.drain_timeout_s)
    try:
        await sender
    finally:
        rt.ledger.sync()
        rt.store.flush()
        if rt.leader is not None:
            rt.leader.close()


def _start_heartbeat(rt: Runtime) -> None:
    """health.json in the data folder, beaten by the poll loop and the sender's tick."""
    if rt.data_dir is None:
        return
    parts = ("poll", "sender") if rt.ticker is not None else ("sender",)
    rt.heartbeat = Heartbeat(rt.data_dir, rt.settings.digest_tick_s, utc_now, parts)
    if rt.ticker is not None:
        rt.ticker.on_tick = lambda: _beat(rt, "poll")


def _beat(rt: Runtime, part: str) -> None:
    if rt.heartbeat is None:
        return
    try:
        rt.heartbeat.beat(part)
    except OSError as exc:  # a full disk: the heartbeat ages and health says so
        log.warning("heartbeat not written %s", fields(part=part, error=str(exc)[:120]))


def health(rt: Runtime) -> tuple[bool, str]:
    """The judgement ``GET /healthz`` answers (the same as ``newsbot health``)."""
    if rt.heartbeat is None:
        return False, "unhealthy: not serving"
    return judge(rt.heartbeat.doc, utc_now())


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def check_update_source(settings: BotSettings) -> None:
    """Raise ConfigError when the updates cannot come the way the settings ask."""
    if settings.mode == "webhook" and importlib.util.find_spec("tornado") is None:
        raise ConfigError(  # tornado is PTB's webhook server
            '[bot] mode = "webhook" needs python-telegram-bot[webhooks] installed; '
            'install it or use mode = "polling"'
        )


def _taking_updates(app: BotApp, rt: Runtime) -> bool:
    return rt.webhook is not None or (app.updater is not None and app.updater.running)


async def _start_updates(app: BotApp, rt: Runtime, webhook_secret: str | None) -> None:
    """Long polling (PTB's updater), or our webhook server, then setWebhook."""
    settings = rt.settings
    if settings.mode == "webhook":
        from bot.chat.webhook import WebhookServer  # tornado: only in webhook mode

        server = WebhookServer(
            app.bot,
            app.update_queue,
            path=urlsplit(settings.webhook_url).path,
            secret=webhook_secret,
            health=lambda: health(rt),
        )
        try:
            server.start(settings.webhook_listen, settings.webhook_port)
        except OSError as exc:
            raise ConfigError(
                f"[bot] webhook_listen/webhook_port: cannot serve the webhook on "
                f"{settings.webhook_listen}:{settings.webhook_port} ({exc.strerror or exc}); "
                "choose a free port and an address of this machine"
            ) from exc
        rt.webhook = server
        await app.bot.set_webhook(  # served first, so no post Telegram sends is refused
            settings.webhook_url,
            allowed_updates=Update.ALL_TYPES,
            secret_token=webhook_secret,
        )
        return
    updater = app.updater
    assert updater is not None
    await updater.start_polling(
        poll_interval=0.0,
        timeout=10,
        allowed_updates=Update.ALL_TYPES,
        error_callback=_polling_error,
    )


def _polling_error(error: Exception) -> None:
    log.warning("getting updates failed %s", fields(error=type(error).__name__))


async def _drain_polls(rt: Runtime) -> None:
    """Let running poll cycles commit within their share of the drain time, then stop them
    (what they fetched is fetched again next start)."""
    if rt.ticker is None or not rt.ticker.cycles:
        return
    budget_s = rt.settings.drain_timeout_s * POLL_DRAIN_SHARE
    try:
        await asyncio.wait_for(rt.ticker.drain(), budget_s)
    except TimeoutError:
        log.warning("poll cycles stopped before they ended %s", fields(budget_s=budget_s))
        for task in list(rt.ticker.cycles):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*rt.ticker.cycles, return_exceptions=True)
