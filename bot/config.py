"""Configuration: ``settings.toml`` and ``feeds.toml`` in the config directory, validated.

``load_config(environ)`` is the one entry point: it reads ``NEWSBOT_CONFIG`` (config
directory, default ``./config``) and ``NEWSBOT_DATA`` (data directory, default the settings'
``[store] data_dir``, itself ``./data``) from the mapping it is given, and returns a frozen
``Config`` or raises ``ConfigFileError`` listing every problem with its file, line and key.
A caller that already runs keeps its last good ``Config`` when that happens.

``parse_settings`` and ``parse_feeds`` are the pure halves (TOML text in, dataclasses out).
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config_lines import KeyLines
from bot.errors import ConfigFileError
from bot.fetch import USER_AGENT

SETTINGS_FILE = "settings.toml"
FEEDS_FILE = "feeds.toml"
_WEEK_MINUTES = 7 * 24 * 60


def _number(default: float, low: float, high: float, what: str = "") -> Any:
    return field(default=default, metadata={"min": low, "max": high, "what": what})


def _text(default: str, *, choices: tuple[str, ...] = (), url: bool = False) -> Any:
    """A text setting; ``choices`` limits its values, ``url`` makes it an http(s) address or
    empty (not set)."""
    return field(default=default, metadata={"choices": choices, "url": url})


@dataclass(frozen=True, slots=True)
class PollSettings:
    """When feeds are polled and how a new or failing feed is treated (the names of
    ``bot.decide.DecideSettings``, in minutes where it counts seconds)."""

    interval_minutes: int = _number(30, 1, _WEEK_MINUTES)
    jitter_ratio: float = _number(0.1, 0, 0.5)
    max_backoff_minutes: int = _number(360, 1, _WEEK_MINUTES)
    max_retry_after_minutes: int = _number(1440, 1, _WEEK_MINUTES)
    new_feed_backlog: int = _number(5, 0, 1000)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """The shared HTTP client (the same names as ``bot.fetch.FetchSettings``)."""

    connect_timeout_s: float = _number(10.0, 0.1, 600)
    read_timeout_s: float = _number(20.0, 0.1, 600)
    pool_timeout_s: float = _number(30.0, 0.1, 600)
    total_timeout_s: float = _number(60.0, 0.1, 3600)
    max_redirects: int = _number(5, 0, 30)
    max_concurrent: int = _number(16, 1, 1000)
    max_per_host: int = _number(2, 1, 100)
    max_feed_bytes: int = _number(10 * 1024 * 1024, 1024, 1024**3)
    max_page_bytes: int = _number(5 * 1024 * 1024, 1024, 1024**3)
    user_agent: str = USER_AGENT
    use_env_proxies: bool = False


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where data lives and how long it is kept."""

    data_dir: str = "data"
    retention_days: int = _number(30, 1, 36500)
    seen_retention_days: int = _number(365, 1, 36500)


@dataclass(frozen=True, slots=True)
class SummarySettings:
    lead_sentences: int = _number(2, 0, 10)


@dataclass(frozen=True, slots=True)
class BotSettings:
    """The Telegram bot: what /start gives a chat, job timing, Telegram's limits, webhook mode
    (``mode = "webhook"`` needs ``webhook_url``; the secret token comes from the environment)."""

    time_zone: str = "UTC"
    digest_times: tuple[str, ...] = ("08:00",)
    items_per_digest: int = _number(10, 1, 50)
    first_digest_hours: int = _number(24, 1, 24 * 30)
    digest_tick_s: float = _number(30.0, 0.05, 3600)
    search_results_per_page: int = _number(5, 1, 20)
    max_messages_per_s: float = _number(30.0, 0.1, 10000)
    max_group_messages_per_minute: float = _number(20.0, 1, 10000)
    drain_timeout_s: float = _number(10.0, 0, 600)
    group_admins_only: bool = True
    mode: str = _text("polling", choices=("polling", "webhook"))
    webhook_url: str = _text("", url=True)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = _number(8443, 1, 65535)
    admins: tuple[int, ...] = ()
    allow_private_feeds: bool = False
    failure_notice_after: int = _number(3, 1, 1000)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``settings.toml`` can set; every key is optional."""

    poll: PollSettings = PollSettings()
    http: HttpSettings = HttpSettings()
    store: StoreSettings = StoreSettings()
    summary: SummarySettings = SummarySettings()
    bot: BotSettings = BotSettings()


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One feed of ``feeds.toml``. ``interval_minutes`` None: the ``[poll]`` default."""

    name: str
    url: str
    topic: str | None = None
    tags: tuple[str, ...] = ()
    interval_minutes: int | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Config:
    """The configuration in force. ``data_dir`` is the effective one (environment first)."""

    settings: Settings
    feeds: tuple[FeedConfig, ...]
    config_dir: Path
    data_dir: Path

    def feed(self, name: str) -> FeedConfig | None:
        wanted = name.casefold()
        return next((f for f in self.feeds if f.name.casefold() == wanted), None)

    def interval_minutes(self, feed: FeedConfig) -> int:
        return feed.interval_minutes or self.settings.poll.interval_minutes


_FEED_KEYS: dict[str, str] = {
    "name": "text, required",
    "url": "an http:// or https:// address, required",
    "topic": "text",
    "tags": "a list of text",
    "interval_minutes": f"a whole number of minutes from 1 to {_WEEK_MINUTES}",
    "enabled": "true or false",
}
_MAX_NAME_CHARS = 80


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
            settings = parse_settings(_read(settings_path), str(settings_path))
        except ConfigFileError as exc:
            problems += exc.problems
    feeds_path = config_dir / FEEDS_FILE
    if not feeds_path.exists():
        problems.append(f"{feeds_path}: missing; it lists the feeds to poll (see the example)")
    else:
        try:
            feeds = parse_feeds(_read(feeds_path), str(feeds_path))
        except ConfigFileError as exc:
            problems += exc.problems
    try:
        settings = with_admins(settings, parse_admins(environ.get("NEWSBOT_ADMINS", "")))
    except ConfigFileError as exc:
        problems += exc.problems
    if problems:
        raise ConfigFileError(problems)
    data_dir = _data_dir(base, environ, settings)
    return Config(settings=settings, feeds=feeds, config_dir=config_dir, data_dir=data_dir)


def resolve_data_dir(environ: Mapping[str, str], cwd: Path | None = None) -> Path:
    """The data directory by the same rule as ``load_config`` (NEWSBOT_DATA, else ``[store]
    data_dir`` of settings.toml, else ./data), for commands that need no feed list."""
    base = cwd if cwd is not None else Path.cwd()
    settings_path = base / (environ.get("NEWSBOT_CONFIG") or "config") / SETTINGS_FILE
    settings = Settings()
    if not environ.get("NEWSBOT_DATA") and settings_path.exists():
        settings = parse_settings(_read(settings_path), str(settings_path))
    return _data_dir(base, environ, settings)


def _data_dir(base: Path, environ: Mapping[str, str], settings: Settings) -> Path:
    return base / (environ.get("NEWSBOT_DATA") or settings.store.data_dir)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigFileError([f"{path}: cannot be read: {exc.strerror or exc}"]) from None


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError([f"{source}: not valid TOML: {exc}"]) from None


def parse_settings(text: str, source: str = SETTINGS_FILE) -> Settings:
    """The settings a ``settings.toml`` text gives; defaults for every key it leaves out."""
    data = _parse_toml(text, source)
    lines = KeyLines(text)
    problems: list[str] = []
    sections: dict[str, Any] = {}
    section_types = typing.get_type_hints(Settings)
    known = {f.name: f for f in dataclasses.fields(Settings)}
    for name, table in data.items():
        where = f"{source}, line {lines.line(name)}" if lines.line(name) else source
        if name not in known:
            problems.append(f"{where}: unknown section [{name}]{_allowed(name, known)}")
        elif not isinstance(table, dict):
            problems.append(f"{where}: {name} must be a [{name}] table")
        else:
            sections[name] = _build(section_types[name], table, name, source, lines, problems)
    _check_relations(sections, source, lines, problems)
    if problems:
        raise ConfigFileError(problems)
    return Settings(**sections)


def _check_relations(
    sections: dict[str, Any], source: str, lines: KeyLines, problems: list[str]
) -> None:
    store = sections.get("store")
    if isinstance(store, StoreSettings) and store.seen_retention_days < store.retention_days:
        line = lines.line("store", key="seen_retention_days") or lines.line("store")
        problems.append(
            f"{source}, line {line}, [store] seen_retention_days: must be at least retention_days "
            f"({store.retention_days}): entries must be remembered as long as their articles"
        )
    bot = sections.get("bot")
    if isinstance(bot, BotSettings):
        _check_bot(bot, source, lines, problems)


def _check_bot(bot: BotSettings, source: str, lines: KeyLines, problems: list[str]) -> None:
    from bot.errors import PrefsError
    from bot.prefs import parse_time
    from bot.timezones import parse_timezone

    def bad(key: str, message: str) -> None:
        line = lines.line("bot", key=key) or lines.line("bot")
        problems.append(f"{source}, line {line}, [bot] {key}: {message}")

    try:
        if parse_timezone(bot.time_zone) != bot.time_zone:
            bad("time_zone", f"write the zone's full name, {parse_timezone(bot.time_zone)!r}")
    except PrefsError as exc:
        bad("time_zone", f"{exc}")
    for text in bot.digest_times:
        try:
            parse_time(text)
        except PrefsError as exc:
            bad("digest_times", f"{exc} ([] for no scheduled digests)")
            break
    if bot.mode == "webhook" and not bot.webhook_url:
        bad("webhook_url", 'mode = "webhook" needs the https:// address Telegram posts updates to')


def _build(
    cls: Any,
    table: dict[str, Any],
    section: str,
    source: str,
    lines: KeyLines,
    problems: list[str],
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        line = lines.line(section, key=key) or lines.line(section)
        where = f"{source}, line {line}, [{section}] {key}"
        if key not in fields:
            problems.append(
                f"{source}, line {line}: unknown key [{section}] {key}{_allowed(key, fields)}"
            )
            continue
        problem = _check_value(value, hints[key], fields[key].metadata)
        if problem:
            problems.append(f"{where}: {problem}, got {_show(value)}")
        elif hints[key] in (tuple[str, ...], tuple[int, ...]):
            values[key] = tuple(value)
        else:
            values[key] = float(value) if hints[key] is float else value
    return cls(**values)


def _check_value(value: Any, hint: Any, meta: Mapping[str, Any]) -> str | None:
    """What is wrong with a setting's value, or None."""
    if hint is bool:
        return None if isinstance(value, bool) else "must be true or false"
    if hint == tuple[int, ...]:
        if not isinstance(value, list) or not all(_is_user_id(v) for v in value):
            return "must be a list of Telegram user ids (positive whole numbers), like [123456789]"
        return None
    if hint == tuple[str, ...]:
        if not isinstance(value, list) or any(_check_value(v, str, {}) for v in value):
            return 'must be a list of non-empty text, like ["08:00", "18:30"]'
        return None
    if hint is str and meta.get("url"):
        return None if value == "" else _check_url(value)
    if hint is str and meta.get("choices"):
        if value not in meta["choices"]:
            return "must be " + " or ".join(f'"{c}"' for c in meta["choices"])
        return None
    if hint is str:
        if not isinstance(value, str) or not value.strip():
            return "must be non-empty text in quotes"
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            return "must not contain control characters"
        return None
    low, high = meta["min"], meta["max"]
    if hint is int:
        kind = "a whole number"
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        kind = "a number"
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        return f"must be {kind} from {low:g} to {high:g}"
    return None


def _is_user_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**53


def parse_admins(text: str) -> tuple[int, ...]:
    """The user ids of ``NEWSBOT_ADMINS`` ("123, 456"); ``ConfigFileError`` for anything else."""
    ids = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not _is_user_id(int(part)):
            raise ConfigFileError(
                [
                    f"NEWSBOT_ADMINS: {part!r} is not a Telegram user id; write the ids "
                    "separated by commas, like 123456789,987654321"
                ]
            )
        ids.append(int(part))
    return tuple(ids)


def with_admins(settings: Settings, extra: Sequence[int]) -> Settings:
    """The settings with more admins (from the environment), each id once, file's first."""
    merged = tuple(dict.fromkeys((*settings.bot.admins, *extra)))
    return dataclasses.replace(settings, bot=dataclasses.replace(settings.bot, admins=merged))


def parse_feeds(text: str, source: str = FEEDS_FILE) -> tuple[FeedConfig, ...]:
    """The feeds a ``feeds.toml`` text lists, in file order."""
    data = _parse_toml(text, source)
    lines = KeyLines(text)
    problems: list[str] = []
    for key in data:
        if key != "feeds":
            line = lines.line(key) or lines.line("", key=key)
            problems.append(
                f"{source}, line {line}: unknown key {key}: this file holds only [[feeds]] blocks"
            )
    raw = data.get("feeds", [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        line = lines.line("", key="feeds") or lines.line("feeds")
        problems.append(f"{source}, line {line}: feeds must be [[feeds]] blocks")
        raise ConfigFileError(problems)
    feeds: list[FeedConfig] = []
    firsts: dict[tuple[str, str], int] = {}
    for index, item in enumerate(raw):
        feed = _build_feed(item, index, source, lines, problems)
        for key, normalise in (("name", str.casefold), ("url", _url_key)):
            value = item.get(key)
            if not isinstance(value, str) or (_check_name if key == "name" else _check_url)(value):
                continue
            first = firsts.setdefault((key, normalise(value.strip())), index)
            if first != index:
                line = lines.line("feeds", index=index, key=key)
                problems.append(
                    f"{source}, line {line}, feed #{index + 1} {key}: duplicate feed {key} "
                    f"{_show(value)}: feed #{first + 1} has it already"
                )
        if feed is not None:
            feeds.append(feed)
    if problems:
        raise ConfigFileError(problems)
    return tuple(feeds)


def _build_feed(
    item: dict[str, Any],
    index: int,
    source: str,
    lines: KeyLines,
    problems: list[str],
) -> FeedConfig | None:
    before = len(problems)

    def bad(key: str, message: str) -> None:
        line = lines.line("feeds", index=index, key=key) or lines.line("feeds", index=index)
        problems.append(f"{source}, line {line}, feed #{index + 1} {key}: {message}")

    for key in item:
        if key not in _FEED_KEYS:
            bad(key, f"unknown key{_allowed(key, _FEED_KEYS)}")
    for key in ("name", "url"):
        if key not in item:
            line = lines.line("feeds", index=index)
            problems.append(
                f"{source}, line {line}, feed #{index + 1}: {key} is missing ({_FEED_KEYS[key]})"
            )
    name, url = item.get("name"), item.get("url")
    if "name" in item and (problem := _check_name(name)):
        bad("name", f"{problem}, got {_show(name)}")
    if "url" in item and (problem := _check_url(url)):
        bad("url", f"{problem}, got {_show(url)}")
    topic = item.get("topic")
    if topic is not None and (problem := _check_name(topic)):
        bad("topic", f"{problem}, got {_show(topic)}")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or any(_check_name(t) for t in tags):
        bad(
            "tags",
            f'must be a list of non-empty text, like ["world", "politics"], got {_show(tags)}',
        )
    interval = item.get("interval_minutes")
    if interval is not None and _check_value(interval, int, {"min": 1, "max": _WEEK_MINUTES}):
        bad("interval_minutes", f"must be {_FEED_KEYS['interval_minutes']}, got {_show(interval)}")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        bad("enabled", f"must be true or false, got {_show(enabled)}")
    if len(problems) > before:
        return None
    return FeedConfig(
        name=str(name).strip(),
        url=str(url).strip(),
        topic=topic.strip() if isinstance(topic, str) else None,
        tags=tuple(t.strip() for t in tags),
        interval_minutes=interval,
        enabled=enabled,
    )


def _check_name(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be non-empty text in quotes"
    if len(value) > _MAX_NAME_CHARS:
        return f"must be at most {_MAX_NAME_CHARS} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "must not contain control characters"
    return None


def _check_url(value: object) -> str | None:
    message = "must be an http:// or https:// address with a host name"
    if not isinstance(value, str):
        return message
    value = value.strip()
    if any(c.isspace() or ord(c) < 32 for c in value):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return message
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        return message
    return None


def _url_key(url: str) -> str:
    """A url as compared for duplicates: scheme and host case-insensitive, no fragment."""
    parts = urlsplit(url)
    return parts._replace(
        scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), fragment=""
    ).geturl()


def _allowed(key: str, known: Sequence[str] | Mapping[str, Any]) -> str:
    names = list(known)
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{hint}; allowed: {', '.join(names)}"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
