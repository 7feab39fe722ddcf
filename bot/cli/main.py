"""The ``newsbot`` command line.

It starts fast: only the module of the command asked for is imported (``COMMAND_MODULES``);
the extraction libraries load when an article is read, never for ``--help``. ``newsbot
--help`` lists every command from the table below (a test keeps it equal to what each
module adds).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.argtypes import whole_number
from bot.errors import InputError, NewsbotError

if TYPE_CHECKING:
    from bot.models import Article, Summary

# Every environment variable newsbot reads, with what it is: shown by ``newsbot --help``; the
# README's "Environment" paragraph and the top of config/settings.toml list the same (a test).
ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("NEWSBOT_TOKEN", "the Telegram bot token (required for run; never written in a file)"),
    ("NEWSBOT_CONFIG", "the folder holding settings.toml and feeds.toml (default ./config)"),
    ("NEWSBOT_DATA", "the data folder (default: [store] data_dir, i.e. ./data)"),
    (
        "NEWSBOT_API_URL",
        "the Bot API server's bare address, e.g. http://127.0.0.1:8081 "
        "(default https://api.telegram.org); the bot adds /bot<token> itself",
    ),
    ("NEWSBOT_ADMINS", "admins' Telegram user ids, comma-separated (added to [bot] admins)"),
    ("NEWSBOT_WEBHOOK_SECRET", "the secret Telegram sends with webhook updates (webhook mode)"),
    ("NEWSBOT_DATABASE_URL", "a PostgreSQL database for the state (default: the data folder)"),
    ("NEWSBOT_METRICS_PORT", "the Prometheus metrics port (default: [metrics] port; 0: off)"),
    (
        "NEWSBOT_CACHE_DIR",
        "where the language model is kept decompressed (default ~/.cache/newsbot)",
    ),
)

# The commands other modules add (each has ``add_commands(commands)``), with their help line.
COMMAND_MODULES: dict[str, tuple[tuple[str, str], ...]] = {
    "bot.cli.search": (
        ("search", "search the stored articles"),
        ("reindex", "rebuild the search index from the stored articles"),
    ),
    "bot.cli.fetch": (("fetch", "poll the feeds into the archive"),),
    "bot.cli.run": (("run", "run the Telegram bot"),),
    "bot.cli.feeds": (("feeds", "list, add, remove, pause, rename, import and export feeds"),),
    "bot.cli.store": (("store", "export the store to a file, or import one"),),
    "bot.cli.health": (("health", "check that the running bot's poll loop and sender are alive"),),
}

_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsbot`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser(_command_asked(argv))
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except NewsbotError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


def _command_asked(argv: Sequence[str]) -> str | None:
    """The command named on the command line (its first word not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def _build_parser(
    command: str | None = None, *, everything: bool = False
) -> argparse.ArgumentParser:
    """The parser, with the full arguments of ``command`` and, for the others, only their
    name and help line (``everything``: the full arguments of every command)."""
    environment = "\n".join(f"  {name:24} {what}" for name, what in ENVIRONMENT)
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="newsbot: a Telegram news-digest bot, and its console.",
        epilog=f"environment:\n{environment}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, help_text, handler in (
        ("extract", "print the cleaned main text of articles", _cmd_extract),
        ("summarize", "print the lead sentences and key quotes of articles", _cmd_summarize),
    ):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "files",
            nargs="+",
            metavar="FILE",
            help=".html/.htm page, .txt article text (title on the first line), or - for stdin",
        )
        sub.add_argument("--url", help="the page's address, where known")
        sub.add_argument("--format", choices=("text", "jsonl"), default="text")
        if name == "summarize":
            sub.add_argument(
                "--lead-sentences",
                type=whole_number(0),
                default=2,
                metavar="N",
                help="how many lead sentences (default 2)",
            )
        sub.set_defaults(handler=handler)

    # Other modules add their own commands: each has ``add_commands(commands)`` that adds
    # subparsers with ``set_defaults(handler=...)``; a handler takes the parsed args and
    # returns the exit code. Only the module of the command asked for is imported.
    for module, names in COMMAND_MODULES.items():
        if everything or command in {name for name, _ in names}:
            add_commands: Callable[[Any], None] = importlib.import_module(module).add_commands
            add_commands(commands)
        else:
            for name, help_text in names:
                commands.add_parser(name, help=help_text)
    return parser


def _cmd_extract(args: argparse.Namespace) -> int:
    return _process_files(args, lambda article: _render(article, None, args.format))


def _cmd_summarize(args: argparse.Namespace) -> int:
    from bot.article.summary import summarize

    def show(article: Article) -> str:
        return _render(article, summarize(article, args.lead_sentences), args.format)

    return _process_files(args, show)


def _process_files(args: argparse.Namespace, show: Callable[[Article], str]) -> int:
    """Read every FILE in order; a bad one is reported and the others still printed."""
    failures = 0
    out: TextIO = sys.stdout
    for source in args.files:
        try:
            article = read_article(source, url=args.url)
            rendered = show(article)
        except NewsbotError as exc:
            failures += 1
            print(f"newsbot: {source}: {exc}", file=sys.stderr)
            continue
        if args.format == "jsonl":
            out.write(json.dumps({"source": source, **json.loads(rendered)}, ensure_ascii=False))
            out.write("\n")
        else:
            out.write(rendered)
        out.flush()
    return 1 if failures else 0


def read_article(source: str, url: str | None = None) -> Article:
    """Read one FILE argument (a page, a text file or ``-``) into an Article."""
    if source == "-":
        data = sys.stdin.buffer.read()
        suffix = ""
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}") from exc
        suffix = path.suffix.lower()
    from bot.article.extract import extract_html, parse_text

    if suffix in _HTML_SUFFIXES or (suffix != ".txt" and _looks_like_html(data)):
        return extract_html(data, url=url)
    return parse_text(_decode_text(data), url=url)


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<body" in head


def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError("the file is not text in any known encoding")
    return str(best)


def _render(article: Article, summary: Summary | None, fmt: str) -> str:
    if fmt == "jsonl":
        record: dict[str, Any] = {
            "title": article.title,
            "published": article.published.isoformat() if article.published else None,
            "author": article.author,
            "text": article.text,
        }
        if summary is not None:
            record["language"] = summary.article.language
            record["lead"] = list(summary.lead)
            record["quotes"] = [{"text": q.text, "speaker": q.speaker} for q in summary.quotes]
        return json.dumps(record, ensure_ascii=False)
    return _render_text(article, summary)


def _render_text(article: Article, summary: Summary | None) -> str:
    lines: list[str] = []
    if article.title:
        lines += [article.title, "=" * min(len(article.title), 72)]
    meta = " · ".join(
        part
        for part in (
            article.published.isoformat() if article.published else "",
            f"by {article.author}" if article.author else "",
            article.url or "",
        )
        if part
    )
    if meta:
        lines.append(meta)
    if lines:
        lines.append("")
    if summary is None:
        lines.append(article.text)
    else:
        lines += [" ".join(summary.lead) if summary.lead else "(no lead found)"]
        if summary.quotes:
            lines += ["", "Quotes:"]
            for quote in summary.quotes:
                who = quote.speaker or "unknown speaker"
                lines.append(f"  “{quote.text}” — {who}")
    return "\n".join(lines) + "\n\n"
