"""``newsbot search`` and ``newsbot reindex``: the search index at the console.

Importing this module stays cheap (``newsbot search --help`` starts fast): the index, the
store and the settings load when a command runs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.argtypes import whole_number
from bot.errors import StoreError

if TYPE_CHECKING:
    from bot.search.index import SearchHit, SearchPage

_BOLD = ("\x1b[1m", "\x1b[0m")


def add_commands(commands: Any) -> None:
    """Add ``search`` and ``reindex`` to the ``newsbot`` command line."""
    search = commands.add_parser(
        "search",
        help="search the stored articles",
        description=(
            'Search the archive. Words must all match (English words stemmed); "exact phrase"; '
            '-word or -"phrase" leaves out; pre* matches the start of words. Quote the whole '
            "query for the shell: newsbot search 'climate -opinion'."
        ),
    )
    search.add_argument("query", nargs="+", metavar="QUERY", help="what to look for")
    search.add_argument("--limit", type=whole_number(1), default=10, metavar="N")
    search.add_argument("--offset", type=whole_number(0), default=0, metavar="K")
    search.add_argument("--format", choices=("text", "jsonl"), default="text")
    search.set_defaults(handler=_cmd_search)

    reindex = commands.add_parser(
        "reindex",
        help="rebuild the search index from the stored articles",
        description=(
            "Rebuild the search index from the stored articles. Stop the bot first: the new "
            "index replaces the old file, which the bot would keep reading."
        ),
    )
    reindex.set_defaults(handler=_cmd_reindex)


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The data directory, as every command finds it: ``NEWSBOT_DATA``, else ``[store]
    data_dir`` of settings.toml, else ``./data``."""
    from bot.config import resolve_data_dir

    return resolve_data_dir(environ)


def format_hit_text(hit: SearchHit, *, is_tty: bool) -> str:
    """A hit for people: title, source · date, link, then the snippet with matches marked."""
    from bot.search.snippet import render_snippet

    marks = _BOLD if is_tty else ("**", "**")
    when = hit.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{hit.title}\n{hit.feed} · {when}\n{hit.link}\n{render_snippet(hit.snippet, marks)}\n"


def format_hit_json(hit: SearchHit) -> str:
    """A hit as one JSON object (snippet both rendered with ** and as segments)."""
    from bot.search.snippet import render_snippet

    return json.dumps(
        {
            "id": hit.id,
            "title": hit.title,
            "feed": hit.feed,
            "published": hit.published.isoformat(),
            "link": hit.link,
            "snippet": render_snippet(hit.snippet),
            "segments": [[text, is_match] for text, is_match in hit.snippet],
            "score": round(hit.score, 6),
        },
        ensure_ascii=False,
    )


def _cmd_search(args: argparse.Namespace) -> int:
    from bot.config import resolve_database_url
    from bot.search.index import INDEX_FILENAME, SearchIndex
    from bot.search.pgindex import PgSearchIndex
    from bot.store.pgarchive import PgStore

    url = resolve_database_url(os.environ)
    if url is not None:
        with PgStore.open(url) as store, PgSearchIndex(store.db) as pg_index:
            page = pg_index.search(
                " ".join(args.query), now=datetime.now(UTC), limit=args.limit, offset=args.offset
            )
        _print_page(page, args.format, sys.stdout)
        return 0
    path = data_dir() / INDEX_FILENAME
    if not path.exists():
        raise StoreError(
            f"there is no search index at {path} yet; run `newsbot reindex` "
            "(or set NEWSBOT_DATA to the bot's data directory)"
        )
    with SearchIndex(path) as index:
        page = index.search(
            " ".join(args.query), now=datetime.now(UTC), limit=args.limit, offset=args.offset
        )
    _print_page(page, args.format, sys.stdout)
    return 0


def _print_page(page: SearchPage, fmt: str, out: TextIO) -> None:
    if fmt == "jsonl":
        for hit in page.hits:
            out.write(format_hit_json(hit) + "\n")
        return
    if not page.hits:
        if page.total:
            out.write(f"No more results: all {page.total} were shown.\n")
        else:
            out.write("Nothing found. Try fewer or broader words, or a prefix like elect*.\n")
        return
    is_tty = out.isatty()
    for hit in page.hits:
        out.write(format_hit_text(hit, is_tty=is_tty) + "\n")
    last = page.offset + len(page.hits)
    more = f"; next page: --offset {last}" if page.has_more else ""
    out.write(f"Results {page.offset + 1}–{last} of {page.total}{more}\n")


def _cmd_reindex(args: argparse.Namespace) -> int:
    from bot.config import resolve_database_url
    from bot.config.database import describe
    from bot.search.index import INDEX_FILENAME, SearchIndex
    from bot.search.pgindex import PgSearchIndex
    from bot.store.datadir import Store
    from bot.store.pgarchive import PgStore

    url = resolve_database_url(os.environ)
    if url is not None:  # one transaction: readers see the old index until it commits
        with PgStore.open(url) as pg_store, PgSearchIndex(pg_store.db) as pg_index:
            count = pg_index.rebuild(pg_store.iter_articles())
        print(f"indexed {count} articles into the database {describe(url)}", file=sys.stderr)
        return 0

    directory = data_dir()
    path = directory / INDEX_FILENAME
    with Store.open(directory) as store:  # its lock: the bot must not run meanwhile
        try:
            index = SearchIndex(path)
        except StoreError:  # a damaged or older index: it is derived, so start afresh
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            index = SearchIndex(path)
        with index:
            count = index.rebuild(store.iter_articles())
    print(f"indexed {count} articles into {path}", file=sys.stderr)
    return 0
