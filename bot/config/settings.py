"""``settings.toml``: every key with its default and its allowed range, parsed and checked
(pure: TOML text in, a frozen ``Settings`` out, or ``ConfigFileError`` naming each problem)."""

from __future__ import annotations

import dataclasses
import ipaddress
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.config.lines import KeyLines
from bot.config.values import (
    WEEK_MINUTES,
    allowed,
    build_section,
    is_user_id,
    number_field,
    parse_toml,
    text_field,
)
from bot.errors import ConfigFileError, PrefsError
from bot.timeofday import parse_time
from bot.timezones import parse_timezone

SETTINGS_FILE = "settings.toml"
PROJECT_URL = "https://github.com/newsbot/newsbot"
USER_AGENT = f"newsbot/0.1 (+{PROJECT_URL})"


@dataclass(frozen=True, slots=True)
class PollSettings:
    """When feeds are polled and how a new or failing feed is treated (the names of
    ``bot.ingest.decide.DecideSettings``, in minutes where it counts seconds)."""

    interval_minutes: int = number_field(30, 1, WEEK_MINUTES)
    jitter_ratio: float = number_field(0.1, 0, 0.5)
    max_backoff_minutes: int = number_field(360, 1, WEEK_MINUTES)
    max_retry_after_minutes: int = number_field(1440, 1, WEEK_MINUTES)
    new_feed_backlog: int = number_field(5, 0, 1000)
    read_job_timeout_s: float = number_field(60.0, 1, 3600)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """The shared HTTP client (the same names as ``bot.ingest.fetch.FetchSettings``)."""

    connect_timeout_s: float = number_field(10.0, 0.1, 600)
    read_timeout_s: float = number_field(20.0, 0.1, 600)
    pool_timeout_s: float = number_field(30.0, 0.1, 600)
    total_timeout_s: float = number_field(60.0, 0.1, 3600)
    max_redirects: int = number_field(5, 0, 30)
    max_concurrent: int = number_field(16, 1, 1000)
    max_per_host: int = number_field(2, 1, 100)
    max_feed_bytes: int = number_field(10 * 1024 * 1024, 1024, 1024**3)
    max_page_bytes: int = number_field(5 * 1024 * 1024, 1024, 1024**3)
    user_agent: str = USER_AGENT
    use_env_proxies: bool = False


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where data lives and how long it is kept."""

    data_dir: str = "data"
    database_url: str = ""  # PostgreSQL instead of the data folder (bot.config.database)
    retention_days: int = number_field(30, 1, 36500)
    seen_retention_days: int = number_field(365, 1, 36500)


@dataclass(frozen=True, slots=True)
class SummarySettings:
    lead_sentences: int = number_field(2, 0, 10)


@dataclass(frozen=True, slots=True)
class BotSettings:
    """The Telegram bot: what /start gives a chat, job timing, Telegram's limits, webhook mode
    (``mode = "webhook"`` needs ``webhook_url``; the secret token comes from the environment)."""

    time_zone: str = "UTC"
    digest_times: tuple[str, ...] = ("08:00",)
    items_per_digest: int = number_field(10, 1, 50)
    first_digest_hours: int = number_field(24, 1, 24 * 30)
    digest_tick_s: float = number_field(30.0, 0.05, 3600)
    search_results_per_page: int = number_field(5, 1, 20)
    searches_per_minute: int = number_field(20, 1, 10000)
    max_messages_per_s: float = number_field(30.0, 0.1, 10000)
    max_group_messages_per_minute: float = number_field(20.0, 1, 10000)
    drain_timeout_s: float = number_field(10.0, 0, 600)
    group_admins_only: bool = True
    mode: str = text_field("polling", choices=("polling", "webhook"))
    webhook_url: str = text_field("", url=True)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = number_field(8443, 1, 65535)
    admins: tuple[int, ...] = ()
    allow_private_feeds: bool = False
    failure_notice_after: int = number_field(3, 1, 1000)


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """Prometheus metrics at ``http://listen:port/metrics`` (``bot.metrics``); port 0: off."""

    port: int = number_field(0, 0, 65535)
    listen: str = text_field("127.0.0.1")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``settings.toml`` can set; every key is optional."""

    poll: PollSettings = PollSettings()
    http: HttpSettings = HttpSettings()
    store: StoreSettings = StoreSettings()
    summary: SummarySettings = SummarySettings()
    bot: BotSettings = BotSettings()
    metrics: MetricsSettings = MetricsSettings()


def parse_settings(text: str, source: str = SETTINGS_FILE) -> Settings:
    """The settings a ``settings.toml`` text gives; defaults for every key it leaves out."""
    data = parse_toml(text, source)
    lines = KeyLines(text)
    problems: list[str] = []
    sections: dict[str, Any] = {}
    section_types = typing.get_type_hints(Settings)
    known = {f.name: f for f in dataclasses.fields(Settings)}
    for name, table in data.items():
        where = f"{source}, line {lines.line(name)}" if lines.line(name) else source
        if name not in known:
            problems.append(f"{where}: unknown section [{name}]{allowed(name, known)}")
        elif not isinstance(table, dict):
            problems.append(f"{where}: {name} must be a [{name}] table")
        else:
            sections[name] = build_section(
                section_types[name], table, name, source, lines, problems
            )
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
    served = sections.get("metrics")
    if isinstance(served, MetricsSettings) and served.listen != "localhost":
        try:
            ipaddress.ip_address(served.listen)
        except ValueError:
            line = lines.line("metrics", key="listen") or lines.line("metrics")
            problems.append(
                f"{source}, line {line}, [metrics] listen: {served.listen!r} is not an IP "
                'address; write one such as "127.0.0.1" (this machine only) or "0.0.0.0"'
            )


def _check_bot(bot: BotSettings, source: str, lines: KeyLines, problems: list[str]) -> None:
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


def parse_admins(text: str) -> tuple[int, ...]:
    """The user ids of ``NEWSBOT_ADMINS`` ("123, 456"); ``ConfigFileError`` for anything else."""
    ids = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not is_user_id(int(part)):
            raise ConfigFileError(
                [
                    f"NEWSBOT_ADMINS: {part!r} is not a Telegram user id; write the ids "
                    "separated by commas, like 123456789,987654321"
                ]
            )
        ids.append(int(part))
    return tuple(ids)


def with_metrics_port(settings: Settings, text: str) -> Settings:
    """The settings with ``NEWSBOT_METRICS_PORT`` in place of ``[metrics] port`` (one port per
    process where several share a settings.toml); ``ConfigFileError`` for a bad value."""
    text = text.strip()
    if not text:
        return settings
    if not text.isdigit() or int(text) > 65535:
        advice = "write a number from 1 to 65535, or 0 for no metrics"
        raise ConfigFileError([f"NEWSBOT_METRICS_PORT: {text!r} is not a port; {advice}"])
    metrics = dataclasses.replace(settings.metrics, port=int(text))
    return dataclasses.replace(settings, metrics=metrics)


def with_admins(settings: Settings, extra: Sequence[int]) -> Settings:
    """The settings with more admins (from the environment), each id once, file's first."""
    merged = tuple(dict.fromkeys((*settings.bot.admins, *extra)))
    return dataclasses.replace(settings, bot=dataclasses.replace(settings.bot, admins=merged))
