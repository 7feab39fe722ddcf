"""The process the crash test kills: sends one digest to many chats through a Bot API server.

``python -m tests.support.fanout_child BASE_URL DATA_DIR CHATS PARTS RATE`` opens the ledger in
DATA_DIR, resumes what is pending, submits the digest (bench.fanout.digest_batch: the same
messages every run, so a restart re-plans nothing already planned) and sends until done.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from bench.fanout import chat_ids, digest_batch, send_digest
from bot.delivery.sender import DeliverySettings
from tests.support.botapi import TOKEN

CONCURRENCY = 8


def main(argv: list[str]) -> int:
    base_url, data_dir, chats, parts, rate = argv
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = DeliverySettings(
        messages_per_s=float(rate), group_messages_per_min=float(rate) * 60,
        concurrency=CONCURRENCY, first_retry_backoff_s=0.05, drain_timeout_s=30.0,
    )  # fmt: skip
    messages = digest_batch(chat_ids(int(chats)), "crash", parts=int(parts))
    asyncio.run(send_digest(base_url, TOKEN, Path(data_dir), messages, settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
