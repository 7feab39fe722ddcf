"""``feeds.toml``: the feeds to poll, each ``[[feeds]]`` block checked (pure: TOML text in,
``FeedConfig`` values out, or ``ConfigFileError`` naming each problem with its line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config.lines import KeyLines
from bot.config.values import (
    WEEK_MINUTES,
    allowed,
    check_name,
    check_url,
    check_value,
    parse_toml,
    show,
    url_key,
)
from bot.errors import ConfigFileError

FEEDS_FILE = "feeds.toml"


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One feed of ``feeds.toml``. ``interval_minutes`` None: the ``[poll]`` default.
    ``allow_private`` lets the feed and its pages reach private addresses (written by hand:
    no chat command sets it)."""

    name: str
    url: str
    topic: str | None = None
    tags: tuple[str, ...] = ()
    interval_minutes: int | None = None
    enabled: bool = True
    allow_private: bool = False


_FEED_KEYS: dict[str, str] = {
    "name": "text, required",
    "url": "an http:// or https:// address, required",
    "topic": "text",
    "tags": "a list of text",
    "interval_minutes": f"a whole number of minutes from 1 to {WEEK_MINUTES}",
    "enabled": "true or false",
    "allow_private": "true or false",
}


def parse_feeds(text: str, source: str = FEEDS_FILE) -> tuple[FeedConfig, ...]:
    """The feeds a ``feeds.toml`` text lists, in file order."""
    data = parse_toml(text, source)
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
        for key, normalise in (("name", str.casefold), ("url", url_key)):
            value = item.get(key)
            if not isinstance(value, str) or (check_name if key == "name" else check_url)(value):
                continue
            first = firsts.setdefault((key, normalise(value.strip())), index)
            if first != index:
                line = lines.line("feeds", index=index, key=key)
                problems.append(
                    f"{source}, line {line}, feed #{index + 1} {key}: duplicate feed {key} "
                    f"{show(value)}: feed #{first + 1} has it already"
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
            bad(key, f"unknown key{allowed(key, _FEED_KEYS)}")
    for key in ("name", "url"):
        if key not in item:
            line = lines.line("feeds", index=index)
            problems.append(
                f"{source}, line {line}, feed #{index + 1}: {key} is missing ({_FEED_KEYS[key]})"
            )
    name, url = item.get("name"), item.get("url")
    if "name" in item and (problem := check_name(name)):
        bad("name", f"{problem}, got {show(name)}")
    if "url" in item and (problem := check_url(url)):
        bad("url", f"{problem}, got {show(url)}")
    topic = item.get("topic")
    if topic is not None and (problem := check_name(topic)):
        bad("topic", f"{problem}, got {show(topic)}")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or any(check_name(t) for t in tags):
        bad(
            "tags",
            f'must be a list of non-empty text, like ["world", "politics"], got {show(tags)}',
        )
    interval = item.get("interval_minutes")
    if interval is not None and check_value(interval, int, {"min": 1, "max": WEEK_MINUTES}):
        bad("interval_minutes", f"must be {_FEED_KEYS['interval_minutes']}, got {show(interval)}")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        bad("enabled", f"must be true or false, got {show(enabled)}")
    allow_private = item.get("allow_private", False)
    if not isinstance(allow_private, bool):
        bad("allow_private", f"must be true or false, got {show(allow_private)}")
    if len(problems) > before:
        return None
    return FeedConfig(
        name=str(name).strip(),
        url=str(url).strip(),
        topic=topic.strip() if isinstance(topic, str) else None,
        tags=tuple(t.strip() for t in tags),
        interval_minutes=interval,
        enabled=enabled,
        allow_private=allow_private,
    )
