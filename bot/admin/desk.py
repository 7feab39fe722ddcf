"""The admins' desk: who is an admin, the watched ``feeds.toml``, and the notices admins get.

``AdminDesk`` is built by ``build_app`` and kept in ``bot_data["admin"]``. It owns the
``FeedsWatcher`` (a running poller's, through ``watch_poller``, or a plain one that only keeps
the feed list for the chat when there is no poller), tells admins what changed in the file
(hand edits and commands alike) or what is wrong with it, and after each poll tick decides
failure and recovery notices with ``bot.ingest.health.decide_notices``; the feeds announced as
failing are kept in the store's state, so a restart does not announce them again.

Notices go to each admin's private chat straight through the Bot API (not the digest ledger):
an admin who never opened a chat with the bot cannot get them, which is logged, not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from bot.config import FEEDS_FILE, Config, FeedConfig
from bot.delivery.chats import Chats
from bot.delivery.contract import DeliveryLedger
from bot.errors import ConfigFileError
from bot.feedconfig.diff import FeedChanges, describe_changes
from bot.feedconfig.opml import OpmlFeed
from bot.feedconfig.watch import FeedsWatcher, watch_poller
from bot.ingest.fetch import Fetcher
from bot.ingest.health import decide_notices
from bot.ingest.poll import Poller, settings_from_config
from bot.logfields import fields
from bot.store.contract import ArticleStore

log = logging.getLogger("newsbot.admin")

NOTICE_TABLE = "admin"
NOTICE_KEY = "notices"
MAX_PENDING_IMPORTS = 20
MAX_NOTICE_CHARS = 4000


class AdminDesk:
    """What admin commands and notices share; one per running bot."""

    def __init__(
        self,
        bot: Bot,
        config: Config,
        store: ArticleStore,
        ledger: DeliveryLedger,
        chats: Chats,
        clock: Callable[[], datetime],
        *,
        poller: Poller | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        settings = config.settings.bot
        self.bot = bot
        self.config = config
        self.store = store
        self.ledger = ledger
        self.chats = chats
        self.clock = clock
        self.admins = frozenset(settings.admins)
        self.allow_private = settings.allow_private_feeds
        self.failure_threshold = settings.failure_notice_after
        self.default_interval_minutes = config.settings.poll.interval_minutes
        self.path: Path = config.config_dir / FEEDS_FILE
        self.fetcher = fetcher if fetcher is not None else (poller.fetcher if poller else None)
        self._own_fetcher = False
        self.imports: dict[str, tuple[OpmlFeed, ...]] = {}
        self.awaiting_import: set[int] = set()
        self.told: int | None = None  # the admin whose command reply already said what changed
        self._import_refs = 0
        self.watcher: FeedsWatcher
        if poller is not None:
            self.watcher = watch_poller(poller, on_change=self.feeds_changed, on_error=self.invalid)
        else:
            self.watcher = FeedsWatcher(self.path, config.feeds, self.feeds_changed, self.invalid)
        self._notices = store.state_table(NOTICE_TABLE)
        doc = self._notices.get_key(NOTICE_KEY)
        failing = doc.get("failing", []) if doc is not None else []
        self.announced = frozenset(str(n) for n in failing if isinstance(n, str))

    @property
    def feeds(self) -> tuple[FeedConfig, ...]:
        """The feeds in force (the last good ``feeds.toml``)."""
        return self.watcher.feeds

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admins

    def get_fetcher(self) -> Fetcher:
        """The HTTP client feed checks use (the poller's, or one of our own)."""
        if self.fetcher is None:
            self.fetcher = Fetcher(settings_from_config(self.config)[0])
            self._own_fetcher = True
        return self.fetcher

    async def aclose(self) -> None:
        await self.watcher.stop()
        if self._own_fetcher and self.fetcher is not None:
            await self.fetcher.aclose()
            self.fetcher, self._own_fetcher = None, False

    def keep_import(self, outlines: Iterable[OpmlFeed]) -> str:
        """Keep an import's outlines until confirmed; returns the reference its buttons carry."""
        self._import_refs += 1
        ref = f"{self._import_refs:x}"
        self.imports[ref] = tuple(outlines)
        while len(self.imports) > MAX_PENDING_IMPORTS:
            self.imports.pop(next(iter(self.imports)))
        return ref

    # -- notices ----------------------------------------------------------------------------

    async def notify(self, text: str, *, skip: int | None = None) -> int:
        """Send a plain-text notice to every admin (but ``skip``); returns how many got it."""
        sent = 0
        for admin in sorted(self.admins):
            if admin == skip:
                continue
            try:
                await self.bot.send_message(admin, text[:MAX_NOTICE_CHARS])
                sent += 1
            except TelegramError as exc:
                log.warning(
                    "admin notice not sent %s", fields(admin=admin, error=type(exc).__name__)
                )
        return sent

    async def feeds_changed(self, changes: FeedChanges) -> None:
        """The file changed (by hand or by a command): chats follow renamed feeds, admins
        hear of it."""
        now = self.clock()
        for old, new in changes.renamed:
            moved = self.chats.rename_feed(old, new, now)
            if moved:
                log.info(
                    "subscriptions follow a renamed feed %s", fields(old=old, new=new, chats=moved)
                )
        lines = describe_changes(changes, self.default_interval_minutes)
        if lines:
            text = "feeds.toml changed:\n" + "\n".join(f"- {line}" for line in lines)
            await self.notify(text, skip=self.told)

    async def invalid(self, error: ConfigFileError) -> None:
        """An edit was rejected: admins are told each problem; the feeds in force stay."""
        await self.notify(invalid_text(error), skip=self.told)

    async def check_health(self) -> int:
        """Decide failure and recovery notices from the stored feed states and send them;
        returns how many notices went out."""
        notices, announced = decide_notices(
            self.feeds, self.store.feed_states(), self.announced, self.failure_threshold
        )
        if announced != self.announced:
            self.announced = announced
            self._notices.put({NOTICE_KEY: {"failing": sorted(announced)}})
            self.store.flush()
        for notice in notices:
            log.info("feed notice %s", fields(kind=notice.kind, feeds=len(notice.feeds)))
            await self.notify(notice.text)
        return len(notices)


def invalid_text(error: ConfigFileError) -> str:
    listed = "\n".join(f"- {p}" for p in error.problems)
    return (
        "feeds.toml has problems, so the feeds running before stay in force until it is "
        f"fixed:\n{listed}"
    )


def admin_desk(bot_data: Any) -> AdminDesk:
    found = bot_data.get("admin")
    if not isinstance(found, AdminDesk):
        raise RuntimeError("the bot was built without its admin desk (use bot.chat.app.build_app)")
    return found
