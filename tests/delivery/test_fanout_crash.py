"""Acceptance 3: kill -9 during a digest fan-out, restart until done: every chat has every
item exactly once (the loopback Bot API server's record is the judge)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from bench.fanout import accepted_keys, chat_ids, digest_batch, tally
from bot.delivery.ledger import Ledger
from tests.support.botapi import BotApiServer
from tests.support.fanout_child import CONCURRENCY

ROOT = Path(__file__).resolve().parents[2]
CHATS = 300
PARTS = 2
RATE = 150  # msg/s: a run lasts a few seconds, long enough to be killed at chosen points


def _start(server: BotApiServer, data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.fanout_child", server.base_url, str(data_dir),
         str(CHATS), str(PARTS), str(RATE)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def _reached(server: BotApiServer, accepted: int) -> bool:
    """Whether the server has accepted this many messages."""
    return sum(1 for c in server.calls if c.method == "sendMessage" and c.status == 200) >= accepted


def test_kill_9_mid_fan_out_then_restart_sends_every_item_exactly_once(tmp_path: Path) -> None:
    """Three kill -9s at different points of a 600-message fan-out lose nothing; the only
    repeats are messages the server accepted whose confirmation was not yet on disk at a kill,
    at most one per worker."""
    messages = digest_batch(chat_ids(CHATS), "crash", parts=PARTS)
    kill_points = [1, 180, 420]  # messages accepted by the server before each kill
    in_window = 0  # accepted by the server, still pending in the ledger after a kill
    with BotApiServer() as server:
        for point in kill_points:
            child = _start(server, tmp_path)
            try:
                server.wait_for(partial(_reached, server, point), timeout_s=120)
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=30)
            assert child.returncode == -signal.SIGKILL
            time.sleep(0.2)  # requests the server had fully received before the kill finish
            with Ledger.open(tmp_path) as ledger:
                unconfirmed = set(accepted_keys(server)) & {m.key for m in ledger.pending()}
            assert len(unconfirmed) <= CONCURRENCY
            in_window += len(unconfirmed)
        finisher = _start(server, tmp_path)
        assert finisher.wait(timeout=180) == 0

        result = tally(server, messages)
        assert result.lost == 0
        assert result.duplicated == in_window
        for chat in chat_ids(CHATS):
            texts = server.sent_texts(chat)
            order = [t.rsplit(":", 1)[-1] for t in dict.fromkeys(texts)]
            assert order == [f"{part}]" for part in range(PARTS)], chat
    with Ledger.open(tmp_path) as ledger:
        assert ledger.pending() == []
        assert all(len(ledger.delivered_ids(chat)) == 3 * PARTS for chat in chat_ids(CHATS))
    print(
        f"duplicates after {len(kill_points)} kills: {result.duplicated} (bound {CONCURRENCY}/kill)"
    )
