"""End to end in webhook mode: the real ``newsbot run`` process registers its webhook with the
loopback Bot API server, which posts the users' updates to it; the bot answers, refuses posts
without the secret, keeps the webhook across a restart (updates wait) and never prints the
token or the secret."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from telegram import Update

from bot.chat.app import menu
from tests.support.botapi import BotApiServer
from tests.support.e2e import STORIES, WAIT_S, Bot, count, newsbot, say, serve_feed, write_feeds
from tests.support.httpserver import LoopbackServer

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
searches_per_minute = 1000
drain_timeout_s = 3.0
mode = "webhook"
webhook_url = "{webhook_url}"
webhook_listen = "127.0.0.1"
webhook_port = {port}
allow_private_feeds = true
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
        healthz = httpx.get(urljoin(url, "/healthz"), timeout=WAIT_S)  # operators' check
        for _ in range(20):  # both loops beat within their bound (a busy CI may lag a tick)
            if healthz.status_code == 200:
                break
            time.sleep(0.2)
            healthz = httpx.get(urljoin(url, "/healthz"), timeout=WAIT_S)
        assert (healthz.status_code, healthz.text[:14]) == (200, "healthy: poll ")
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
    assert server.webhook is not None
    assert server.webhook["url"] == url
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


@pytest.mark.parametrize("secret", [None, "short-secret", "has spaces in the secret!"])
def test_webhook_mode_without_a_good_secret_is_one_clear_line(
    tmp_path: Path, secret: str | None
) -> None:
    """Webhook mode refuses to start without a secret Telegram accepts and no one guesses,
    says what one looks like, and never prints the one given."""
    (tmp_path / "config").mkdir()
    port = free_port()
    config = settings(f"http://127.0.0.1:{port}{HOOK_PATH}", port)
    (tmp_path / "config" / "settings.toml").write_text(config, encoding="utf-8")
    write_feeds(tmp_path, {})
    env = {k: v for k, v in os.environ.items() if k != "NEWSBOT_WEBHOOK_SECRET"}
    env |= {"NEWSBOT_TOKEN": "123:unused", "NEWSBOT_CONFIG": str(tmp_path / "config")}
    if secret is not None:
        env["NEWSBOT_WEBHOOK_SECRET"] = secret
    done = newsbot("run", cwd=tmp_path, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('newsbot: mode = "webhook" needs NEWSBOT_WEBHOOK_SECRET: 16 to 256')
    assert not secret or secret not in done.stderr


def test_a_webhook_port_in_use_is_one_clear_error(
    world: tuple[BotApiServer, LoopbackServer, Path, str],
) -> None:
    """When the webhook's port is taken the bot says which address it could not serve and
    exits 1, without a traceback."""
    server, _, root, url = world
    port = int(url.split(":")[2].split("/")[0])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        bot = Bot(root, server)
        code = bot.process.wait(timeout=60)
    output = bot.output()
    assert code == 1
    assert f"cannot serve the webhook on 127.0.0.1:{port}" in output
    assert "Traceback" not in output
    assert server.token not in output
    assert SECRET not in output


def test_long_polling_deletes_a_webhook_left_registered(
    world: tuple[BotApiServer, LoopbackServer, Path, str],
) -> None:
    """Back in polling mode, the bot deletes the webhook a webhook run left and gets updates."""
    server, _, root, url = world
    config = (root / "config" / "settings.toml").read_text(encoding="utf-8")
    (root / "config" / "settings.toml").write_text(
        config.replace('mode = "webhook"', 'mode = "polling"'), encoding="utf-8"
    )
    server.handle("setWebhook", {"url": url, "secret_token": SECRET})
    assert server.handle("getUpdates", {})[0] == 409
    bot = Bot(root, server)
    try:
        assert "Subscribed" in say(server, 42, "/start")
        assert bot.stop() == 0
    finally:
        bot.stop()
    assert server.webhook is None
    assert server.calls_to("deleteWebhook")
