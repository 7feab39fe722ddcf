"""Configuration: ``settings.toml`` and ``feeds.toml`` in the config directory, validated.
Owns reading and checking ``config/``; imports no other part of newsbot.

``load_config(environ)`` is the one entry point: it reads ``NEWSBOT_CONFIG`` (config
directory, default ``./config``) and ``NEWSBOT_DATA`` (data directory, default the settings'
``[store] data_dir``, itself ``./data``) and ``NEWSBOT_DATABASE_URL`` (PostgreSQL instead of
the data folder, else ``[store] database_url``; see bot.config.database) from the mapping it
is given, and returns a frozen
``Config`` or raises ``ConfigFileError`` listing every problem with its file, line and key.
A caller that already runs keeps its last good ``Config`` when that happens.

``parse_settings`` and ``parse_feeds`` are the pure halves (TOML text in, dataclasses out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config.database import database_url
from bot.config.feeds import FEEDS_FILE, FeedConfig, parse_feeds
from bot.config.settings import (
    SETTINGS_FILE,
    USER_AGENT,
    BotSettings,
    HttpSettings,
    MetricsSettings,
    PollSettings,
    Settings,
    StoreSettings,
    SummarySettings,
    parse_admins,
    parse_settings,
    with_admins,
    with_metrics_port,
)
from bot.config.values import read_text
from bot.errors import ConfigFileError

__all__ = [
    "FEEDS_FILE",
    "SETTINGS_FILE",
    "USER_AGENT",
    "BotSettings",
    "Config",
    "FeedConfig",
    "HttpSettings",
    "MetricsSettings",
    "PollSettings",
    "Settings",
    "StoreSettings",
    "SummarySettings",
    "load_config",
    "parse_admins",
    "parse_feeds",
    "parse_settings",
    "resolve_data_dir",
    "resolve_database_url",
    "with_admins",
]


@dataclass(frozen=True, slots=True)
class Config:
    """The configuration in force. ``data_dir`` is the effective one (environment first)."""

    settings: Settings
    feeds: tuple[FeedConfig, ...]
    config_dir: Path
    data_dir: Path
    database_url: str | None = None  # PostgreSQL holds the state (None: the data folder)

    def feed(self, name: str) -> FeedConfig | None:
        wanted = name.casefold()
        return next((f for f in self.feeds if f.name.casefold() == wanted), None)

    def interval_minutes(self, feed: FeedConfig) -> int:
        return feed.interval_minutes or self.settings.poll.interval_minutes


def load_config(environ: Mapping[str, str], cwd: Path | None = None) -> Config:
    """Read the configuration the environment points at; every problem in one error."""
    base = cwd if cwd is not None else Path.cwd()
    config_dir = base / (environ.get("NEWSBOT_CONFIG") or "config")
    if not config_dir.is_dir():
        raise ConfigFileError(
            [
                f"{config_dir}: no such configuration directory (set NEWSBOT_CONFIG to the folder "
                f"holding {SETTINGS_FILE} and {FEEDS_FILE})"
            ]
        )
    problems: list[str] = []
    settings = Settings()
    feeds: tuple[FeedConfig, ...] = ()
    settings_path = config_dir / SETTINGS_FILE
    if settings_path.exists():
        try:
            settings = parse_settings(read_text(settings_path), str(settings_path))
        except ConfigFileError as exc:
            problems += exc.problems
    feeds_path = config_dir / FEEDS_FILE
    if not feeds_path.exists():
        problems.append(f"{feeds_path}: missing; it lists the feeds to poll (see the example)")
    else:
        try:
            feeds = parse_feeds(read_text(feeds_path), str(feeds_path))
        except ConfigFileError as exc:
            problems += exc.problems
    try:
        settings = with_admins(settings, parse_admins(environ.get("NEWSBOT_ADMINS", "")))
    except ConfigFileError as exc:
        problems += exc.problems
    try:
        settings = with_metrics_port(settings, environ.get("NEWSBOT_METRICS_PORT", ""))
    except ConfigFileError as exc:
        problems += exc.problems
    url: str | None = None
    try:
        url = database_url(environ, settings.store.database_url)
    except ConfigFileError as exc:
        problems += exc.problems
    if problems:
        raise ConfigFileError(problems)
    data_dir = _data_dir(base, environ, settings)
    return Config(
        settings=settings, feeds=feeds, config_dir=config_dir, data_dir=data_dir, database_url=url
    )


def resolve_data_dir(environ: Mapping[str, str], cwd: Path | None = None) -> Path:
    """The data directory by the same rule as ``load_config`` (NEWSBOT_DATA, else ``[store]
    data_dir`` of settings.toml, else ./data), for commands that need no feed list."""
    base = cwd if cwd is not None else Path.cwd()
    settings_path = base / (environ.get("NEWSBOT_CONFIG") or "config") / SETTINGS_FILE
    settings = Settings()
    if not environ.get("NEWSBOT_DATA") and settings_path.exists():
        settings = parse_settings(read_text(settings_path), str(settings_path))
    return _data_dir(base, environ, settings)


def resolve_database_url(environ: Mapping[str, str], cwd: Path | None = None) -> str | None:
    """The database URL by the same rule as ``load_config`` (NEWSBOT_DATABASE_URL, else
    ``[store] database_url``, else None: the data folder), for commands that need no feeds."""
    base = cwd if cwd is not None else Path.cwd()
    settings_path = base / (environ.get("NEWSBOT_CONFIG") or "config") / SETTINGS_FILE
    settings = Settings()
    if not environ.get("NEWSBOT_DATABASE_URL") and settings_path.exists():
        settings = parse_settings(read_text(settings_path), str(settings_path))
    return database_url(environ, settings.store.database_url)


def _data_dir(base: Path, environ: Mapping[str, str], settings: Settings) -> Path:
    return base / (environ.get("NEWSBOT_DATA") or settings.store.data_dir)
