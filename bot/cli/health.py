"""``newsbot health``: exit 0 when the running bot's poll loop and sender beat recently
(``<data>/health.json``), else say what is stale and exit 1 (a Docker HEALTHCHECK)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any

from bot.config import resolve_data_dir
from bot.store.heartbeat import read_and_judge


def add_commands(commands: Any) -> None:
    """Add ``health`` to the ``newsbot`` command line."""
    health = commands.add_parser(
        "health",
        help="check that the running bot's poll loop and sender are alive",
        description=(
            "Read the heartbeat the running bot writes in the data folder (health.json) and "
            "exit 0 when its poll loop and sender beat recently, 1 (saying what is stale) "
            "otherwise. For a Docker HEALTHCHECK."
        ),
    )
    health.set_defaults(handler=_cmd_health)


def _cmd_health(args: argparse.Namespace) -> int:
    healthy, line = read_and_judge(resolve_data_dir(os.environ), datetime.now(UTC))
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1
