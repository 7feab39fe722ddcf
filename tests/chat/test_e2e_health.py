"""End to end: ``newsbot health`` says healthy while the real ``newsbot run`` runs, and
unhealthy (exit 1, naming what is stale) once it was killed with SIGKILL and its heartbeat aged."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bot.store.heartbeat import stale_after_s
from tests.support.botapi import BotApiServer
from tests.support.e2e import STORIES, WAIT_S, Bot, newsbot, serve_feed, write_feeds
from tests.support.httpserver import LoopbackServer

TICK_S = 0.2


def test_health_follows_the_running_bot(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NEWSBOT_CONFIG": str(tmp_path / "config"),
        "NEWSBOT_DATA": str(tmp_path / "data"),
    }
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(
        f"[bot]\ndigest_tick_s = {TICK_S}\nallow_private_feeds = true\n", encoding="utf-8"
    )
    with BotApiServer() as server, LoopbackServer() as web:
        write_feeds(tmp_path, {"Loop Wire": serve_feed(web, "/wire.xml", STORIES)})
        before = newsbot("health", cwd=tmp_path, env=env)
        assert before.returncode == 1
        assert "no bot has run" in before.stderr

        bot = Bot(tmp_path, server)
        try:
            deadline = time.monotonic() + WAIT_S  # until both loops have beaten (a busy CI)
            running = newsbot("health", cwd=tmp_path, env=env)
            while running.returncode != 0 and time.monotonic() < deadline:
                time.sleep(0.2)
                running = newsbot("health", cwd=tmp_path, env=env)
            assert running.returncode == 0, running.stderr + bot.output()
            assert running.stdout.startswith("healthy: poll ")
            assert "sender" in running.stdout
        finally:
            assert bot.stop(signal.SIGKILL) == -signal.SIGKILL

        time.sleep(stale_after_s(TICK_S) + 0.5)
        dead = newsbot("health", cwd=tmp_path, env=env)
        assert dead.returncode == 1
        assert "poll stale" in dead.stderr
        assert "sender stale" in dead.stderr
