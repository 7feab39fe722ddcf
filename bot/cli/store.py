"""``newsbot store export FILE`` and ``newsbot store import FILE``: move a community's history
between the data folder and PostgreSQL (bot.store.transfer)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import load_config
from bot.errors import InputError
from bot.search.backend import open_index
from bot.store.backend import open_store
from bot.store.transfer import export_store, import_store


def add_commands(commands: Any) -> None:
    """Add ``store`` to the ``newsbot`` command line."""
    store = commands.add_parser(
        "store",
        help="export the store to a file, or import one",
        description=(
            "Move everything newsbot keeps (articles, seen entries, feed states, chats and "
            "alerts) between stores: export from the one configured now, then import into "
            "the other (e.g. with NEWSBOT_DATABASE_URL set). Stop the bot first."
        ),
    )
    actions = store.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the store to FILE (JSON lines)")
    export.add_argument("file", type=Path, metavar="FILE")
    export.set_defaults(handler=_cmd_export)
    load = actions.add_parser("import", help="read FILE into the (empty) store")
    load.add_argument("file", type=Path, metavar="FILE")
    load.set_defaults(handler=_cmd_import)


def _cmd_export(args: argparse.Namespace) -> int:
    config = load_config(os.environ)
    with open_store(config) as store, open(args.file, "w", encoding="utf-8") as out:
        counts = export_store(store, out)
    print(f"exported {_summary(counts)} to {args.file}", file=sys.stderr)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    config = load_config(os.environ)
    if not args.file.is_file():
        raise InputError(f"{args.file}: no such file")
    with open_store(config) as store, open(args.file, encoding="utf-8") as lines:
        counts = import_store(store, lines, now=datetime.now(UTC))
        index = open_index(store, config.data_dir)
        try:
            index.rebuild(store.iter_articles())
        finally:
            index.close()
    print(f"imported {_summary(counts)} from {args.file}", file=sys.stderr)
    return 0


def _summary(counts: dict[str, int]) -> str:
    return (
        f"{counts['article']} articles, {counts['mark']} other seen entries, "
        f"{counts['feed']} feed states, {counts['record']} chat records"
    )
