"""``newsbot feeds ...``: the feed list at the console, for whoever runs the server.

Longer than ~300 lines: ten console subcommands, each a short function over the same file.

The same operations as the admins' chat commands, on the same ``feeds.toml`` (comments kept,
written atomically, a concurrent hand edit kept): list, add, remove, pause, resume, rename,
interval, import, export, check. A running bot notices the change within seconds. At the
console, feeds on private or loopback addresses may be added (its user runs the server);
the command says so.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import FEEDS_FILE, Config, FeedConfig, load_config
from bot.errors import ConfigFileError, FeedEditError, InputError, StoreError
from bot.feedconfig.check import FeedCheck, check_feed, new_feed
from bot.feedconfig.file import (
    EditResult,
    add_feed,
    add_feeds,
    read_text,
    remove_feed,
    rename_feed,
    set_enabled,
    set_interval,
)
from bot.feedconfig.opml import feeds_to_opml, format_plan, plan_import, read_opml
from bot.feedconfig.text import current_feeds, find_feed
from bot.ingest.addresses import is_public_address
from bot.ingest.fetch import Fetcher
from bot.ingest.health import RATE_DAYS, count_articles_by_feed, feed_health, format_health
from bot.ingest.poll import settings_from_config
from bot.store.backend import open_store


def add_commands(commands: Any) -> None:
    """Add ``feeds`` and its subcommands to the ``newsbot`` command line."""
    feeds = commands.add_parser(
        "feeds",
        help="list, add, remove, pause, rename, import and export feeds",
        description=(
            "Change the feed list in feeds.toml (NEWSBOT_CONFIG), keeping its comments. "
            "A running newsbot picks the change up within seconds."
        ),
    )
    sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="the feeds with their health")
    listing.set_defaults(handler=_cmd_list)

    add = sub.add_parser("add", help="fetch a feed, show it, and add it")
    add.add_argument("url", help="the feed's address")
    add.add_argument("--name", help="how it is named (default: from its title)")
    add.add_argument("--topic", help="a topic readers can subscribe to")
    add.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    add.add_argument("--interval", type=_minutes, metavar="MINUTES", help="poll interval")
    add.set_defaults(handler=_cmd_add)

    for name, help_text, handler in (
        ("remove", "remove a feed", _cmd_remove),
        ("pause", "stop polling a feed, keeping it in the list", _cmd_pause),
        ("resume", "poll a paused feed again", _cmd_resume),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("feed", help="its name, any case, or the start of it")
        command.set_defaults(handler=handler)

    rename = sub.add_parser("rename", help="give a feed a new name; its history moves along")
    rename.add_argument("feed")
    rename.add_argument("new_name")
    rename.set_defaults(handler=_cmd_rename)

    interval = sub.add_parser("interval", help="set how often a feed is polled")
    interval.add_argument("feed")
    interval.add_argument("minutes", help="minutes (1 to 10080), or 'default'")
    interval.set_defaults(handler=_cmd_interval)

    imports = sub.add_parser("import", help="add the feeds of an OPML file (preview first)")
    imports.add_argument("file", help="an OPML file, or - for stdin")
    imports.add_argument("--yes", action="store_true", help="add them without asking")
    imports.set_defaults(handler=_cmd_import)

    export = sub.add_parser("export", help="write the feeds as OPML")
    export.add_argument("-o", "--output", help="a file to write (default: stdout)")
    export.set_defaults(handler=_cmd_export)

    check = sub.add_parser("check", help="fetch each feed once and report")
    check.add_argument("feeds", nargs="*", metavar="FEED", help="only these feeds")
    check.set_defaults(handler=_cmd_check)


# -- reading --------------------------------------------------------------------------------


def feeds_path() -> Path:
    return Path(os.environ.get("NEWSBOT_CONFIG") or "config") / FEEDS_FILE


def _feeds() -> tuple[FeedConfig, ...]:
    path = feeds_path()
    if not path.exists():
        raise InputError(f"{path}: missing (set NEWSBOT_CONFIG to the folder holding it)")
    return current_feeds(read_text(path), str(path))


def _cmd_list(args: argparse.Namespace) -> int:
    config = load_config(os.environ)
    now = datetime.now(UTC)
    states: dict[str, Any] = {}
    recent: dict[str, int] = {}
    if config.database_url or (config.data_dir / "state.json").exists():
        with open_store(config, read_only=True) as store:
            states = store.feed_states()
            since = now - timedelta(days=RATE_DAYS)
            recent = count_articles_by_feed(store.iter_articles(since), now)
    rows = feed_health(config.feeds, states, recent, config.settings.poll.interval_minutes)
    for feed, row in zip(config.feeds, rows, strict=True):
        extras = [f"topic {feed.topic}"] if feed.topic else []
        extras += [f"tags {', '.join(feed.tags)}"] if feed.tags else []
        sys.stdout.write(format_health([row], now))
        sys.stdout.write(f"    {feed.url}{'  · ' + ' · '.join(extras) if extras else ''}\n")
    if not rows:
        sys.stdout.write("No feeds are configured.\n")
    return 0


# -- changing -------------------------------------------------------------------------------


def _cmd_add(args: argparse.Namespace) -> int:
    config = _config_for_fetching()
    check = asyncio.run(_check_one(config, args.url))
    _print_check(check)
    feed = new_feed(
        check,
        _feeds(),
        name=args.name,
        topic=args.topic,
        tags=args.tag,
        interval_minutes=args.interval,
    )
    result = add_feed(feeds_path(), feed)
    note = _private_note(args.url)
    print(f"Added {feed.name}{_reapplied(result)}.{note}")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    result = remove_feed(feeds_path(), args.feed)
    assert result.feed is not None
    print(f"Removed {result.feed.name}{_reapplied(result)}.")
    return 0


def _cmd_pause(args: argparse.Namespace) -> int:
    return _toggle(args.feed, enabled=False)


def _cmd_resume(args: argparse.Namespace) -> int:
    return _toggle(args.feed, enabled=True)


def _toggle(query: str, *, enabled: bool) -> int:
    path = feeds_path()
    feed = find_feed(_feeds(), query)
    if feed.enabled == enabled:
        print(f"{feed.name} is {'polled' if enabled else 'paused'} already.")
        return 0
    result = set_enabled(path, feed.name, enabled)
    print(f"{'Resumed' if enabled else 'Paused'} {feed.name}{_reapplied(result)}.")
    return 0


def _cmd_rename(args: argparse.Namespace) -> int:
    result = rename_feed(feeds_path(), args.feed, args.new_name)
    assert result.feed is not None
    old = next(f for f in result.before if f.url == result.feed.url)
    print(f"Renamed {old.name} to {result.feed.name}{_reapplied(result)}.")
    print(_move_history(old.name, result.feed.name))
    return 0


def _move_history(old: str, new: str) -> str:
    """Move the feed's stored state and seen entries, unless a running newsbot holds the
    store (it moves them itself when it notices the rename)."""
    try:
        config = load_config(os.environ)
    except ConfigFileError as exc:
        return f"Its history was not moved (the configuration has problems: {exc})."
    if not config.database_url and not (config.data_dir / "state.json").exists():
        return "No data yet: nothing to move."
    try:
        with open_store(config) as store:
            moved = store.rename_feed(old, new)
    except StoreError as exc:
        if "in use" in str(exc):
            return "newsbot is running: it moves the feed's history when it sees the change."
        raise
    return f"Its history moved along ({moved} entries seen before)."


def _cmd_interval(args: argparse.Namespace) -> int:
    minutes = None
    if args.minutes.strip().lower() != "default":
        try:
            minutes = _minutes(args.minutes)
        except argparse.ArgumentTypeError as exc:
            raise InputError(f"{exc} (or 'default')") from None
    result = set_interval(feeds_path(), args.feed, minutes)
    assert result.feed is not None
    when = f"every {minutes} min" if minutes else "on the default interval"
    print(f"{result.feed.name} is polled {when}{_reapplied(result)}.")
    return 0


def _reapplied(result: EditResult) -> str:
    return " (feeds.toml was edited meanwhile; both changes kept)" if result.reapplied else ""


# -- OPML -----------------------------------------------------------------------------------


def _cmd_import(args: argparse.Namespace) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else _read_file(args.file)
    plan = plan_import(_feeds(), read_opml(data))
    print(format_plan(plan), end="")
    if not plan.to_add:
        return 0
    if not args.yes:
        if not sys.stdin.isatty() or args.file == "-":
            print("Nothing added: run again with --yes to add them.")
            return 1
        answer = input(f"Add {len(plan.to_add)} feeds? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing added.")
            return 1
    result = add_feeds(feeds_path(), plan.to_add)
    print(f"Added {len(plan.to_add)} feeds{_reapplied(result)}.")
    return 0


def _read_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None


def _cmd_export(args: argparse.Namespace) -> int:
    document = feeds_to_opml(_feeds(), now=datetime.now(UTC))
    if args.output:
        try:
            Path(args.output).write_text(document, "utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"Wrote {args.output}.")
    else:
        sys.stdout.write(document)
    return 0


# -- fetching -------------------------------------------------------------------------------


def _cmd_check(args: argparse.Namespace) -> int:
    config = _config_for_fetching()
    feeds = list(config.feeds)
    if args.feeds:
        feeds = [find_feed(config.feeds, query) for query in args.feeds]
    checks = asyncio.run(_check_many(config, [f.url for f in feeds]))
    for feed, check in zip(feeds, checks, strict=True):
        if check.is_ok:
            print(f"ok      {feed.name}: {check.entry_count} entries, latest: {_latest(check)}")
        else:
            print(f"FAILED  {feed.name}: {check.error}")
    failed = sum(1 for c in checks if not c.is_ok)
    print(f"\n{len(checks)} feeds checked, {failed} failed.")
    return 1 if failed else 0


def _config_for_fetching() -> Config:
    return load_config(os.environ)


async def _check_one(config: Config, url: str) -> FeedCheck:
    return (await _check_many(config, [url]))[0]


async def _check_many(config: Config, urls: list[str]) -> list[FeedCheck]:
    fetch_settings, _ = settings_from_config(config)
    async with Fetcher(fetch_settings) as fetcher:
        return list(
            await asyncio.gather(*(check_feed(fetcher, url, allow_private=True) for url in urls))
        )


def _print_check(check: FeedCheck) -> None:
    if not check.is_ok:
        raise FeedEditError(f"{check.url} cannot be added: {check.error}")
    print(f"Feed: {check.title or '(no title)'} · {check.entry_count} entries")
    print(f"Latest: {_latest(check)}")


def _latest(check: FeedCheck) -> str:
    title = " ".join((check.latest_title or "(untitled)").split())[:120]
    return f"{title} <{check.latest_link}>" if check.latest_link else title


def _private_note(url: str) -> str:
    """A note when the address is plainly local (an IP literal or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    try:
        local = not is_public_address(ipaddress.ip_address(host))
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if local:
        return (
            "\nNote: this is a private or local address. The console may add it; admins in "
            "chat could not unless settings allow private addresses."
        )
    return ""


def _minutes(value: str) -> int:
    try:
        minutes = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole minutes, got {value!r}") from None
    if not 1 <= minutes <= 10080:
        raise argparse.ArgumentTypeError(f"expected 1 to 10080 minutes, got {minutes}")
    return minutes
