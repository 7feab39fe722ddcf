"""End to end in webhook mode: the real ``newsbot run`` process registers its webhook with the
loopback Bot API server, which posts the users' updates to it; the bot answers, refuses posts
without the secret, keeps the webhook across a restart (updates wait) and never prints the
token or the secret."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import Update

from bot.app import menu
from tests.botapi import BotApiServer
from tests.httpserver import LoopbackServer
from tests.test_e2e_bot import STORIES, WAIT_S, Bot, count, say, serve_feed, write_feeds

SECRET = "webhook-Secret_0123456789"
HOOK_PATH = "/newsbot/hook"


def free_port() -> int:
    """A loopback port nobody listens on (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings(webhook_url: str, port: int) -> str:
    return f"""\
[bot]
digest_tick_s = 0.2
search_results_per_page = 2
drain_timeout_s = 3.0
mode = "webhook"
webhook_url = "{webhook_url}"
webhook_listen = "127.0.0.1"
webhook_port = {port}
"""


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[BotApiServer, LoopbackServer, Path, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}{HOOK_PATH}"
    monkeypatch.setenv("NEWSBOT_WEBHOOK_SECRET", SECRET)
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(settings(url, port), encoding="utf-8")
        write_feeds(tmp_path, {"Loop Wire": serve_feed(web, "/wire.xml", STORIES)})
        yield server, web, tmp_path, url


def start_update(server: BotApiServer, chat_id: int, update_id: int) -> dict[str, object]:
    """A /start Update that the server has not queued (to post by hand)."""
    message = {
        "message_id": 9000 + update_id,
        "date": int(time.time()),
        "chat": server.chat(chat_id),
        "from": server.user(chat_id),
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": update_id, "message": message}


def test_webhook_mode_answers_users_refuses_forged_posts_and_keeps_the_hook_across_a_restart(
    world: tuple[BotApiServer, LoopbackServer, Path, str],
) -> None:
    """In webhook mode the bot sets its webhook with the secret, answers /start, /search and
    /digest posted to it, refuses a post with a wrong secret, exits 0 on SIGTERM leaving the
    webhook set, and answers what arrived meanwhile after its restart."""
    server, web, root, url = world
    bot = Bot(root, server)
    try:
        hook = server.wait_for(lambda: server.webhook, WAIT_S)
        assert hook["url"] == url
        assert hook["secret_token"] == SECRET
        assert set(hook["allowed_updates"]) == set(Update.ALL_TYPES)
        assert not hook["drop_pending_updates"]  # updates sent while the bot was down wait
        assert [c["command"] for c in server.commands] == [c.command for c in menu()]

        assert "Subscribed" in say(server, 42, "/start")
        server.wait_for(lambda: web.hits("/budget.html"), WAIT_S)  # the poll job runs
        results = ""
        for _ in range(50):
            results = say(server, 42, "/search river")
            if "Results" in results:
                break
            time.sleep(0.2)
        assert "Results 1–2 of 3" in results
        server.send_user_message(42, "/digest")  # through Delivery
        server.wait_for(lambda: count(server, 42, "Council budget vote delayed"), WAIT_S)

        forged = start_update(server, 77, 5000)
        assert server.post_to_webhook(forged, secret_token="not-the-secret") == 403
        assert "Subscribed" in say(server, 43, "/start")  # handled after the forged post
        assert server.sent(77) == []

        assert bot.stop() == 0
    finally:
        bot.stop()
    assert server.webhook is not None and server.webhook["url"] == url
    assert not server.calls_to("getUpdates")
    assert not server.calls_to("deleteWebhook")

    late = server.send_user_message(44, "/start")  # while the bot is down: Telegram keeps it
    assert server.pending_updates() == 1
    again = Bot(root, server)
    try:
        server.wait_for(lambda: server.sent_texts(44), WAIT_S)
        assert "Subscribed" in server.sent_texts(44)[0]
        assert again.stop() == 0
    finally:
        again.stop()

    assert server.sent(77) == []
    taken = [update_id for update_id, status in server.webhook_posts if status == 200]
    assert sorted(taken) == list(range(1, late["update_id"] + 1))  # each update taken once
    assert [status for update_id, status in server.webhook_posts if update_id == 5000] == [403]
    outputs = bot.output() + again.output()
    for secret in (server.token, server.token.split(":", 1)[1], SECRET):
        assert secret not in outputs
