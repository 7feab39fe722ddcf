"""End to end: the real ``newsbot run`` process against a loopback Bot API server and a loopback
feed and page server, played by users, with Telegram's faults injected. Nothing is lost,
nothing is sent twice, and the token never appears in any output."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from bot.chat.app import menu
from tests.support.botapi import BotApiServer
from tests.support.e2e import (
    LATER,
    STORIES,
    WAIT_S,
    Bot,
    buttons,
    count,
    last_message,
    newsbot,
    say,
    serve_feed,
    write_feeds,
)
from tests.support.httpserver import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = """\
[poll]
new_feed_backlog = 10
[bot]
digest_tick_s = 0.2
search_results_per_page = 2
searches_per_minute = 1000
drain_timeout_s = 3.0
group_admins_only = false
allow_private_feeds = true
"""


@pytest.fixture(params=["data folder", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[BotApiServer, LoopbackServer, Path]]:
    """The servers and the bot's folder; the bot keeps its state in the data folder, or in
    PostgreSQL (settings.toml names the database: the data folder holds only the heartbeat)."""
    settings = SETTINGS
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        settings += f'[store]\ndatabase_url = "{url}"\n'
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(settings, encoding="utf-8")
        yield server, web, tmp_path
        if request.param == "postgres":
            data = tmp_path / "data"
            assert not data.exists() or [p.name for p in data.iterdir()] == ["health.json"]


def test_users_subscribe_search_set_up_get_digests_and_alerts_through_faults(
    world: tuple[BotApiServer, LoopbackServer, Path],
) -> None:
    """Users play every command through 429, 403, 400 and dropped connections, across a
    restart: each story reaches each chat once, blocked chats stop, the token stays secret."""
    server, web, root = world
    write_feeds(root, {"Loop Wire": serve_feed(web, "/wire.xml", STORIES)})
    bot = Bot(root, server)
    try:
        server.wait_for(lambda: server.commands, WAIT_S)
        assert [c["command"] for c in server.commands] == [c.command for c in menu()]

        for chat in (42, 43, 44):
            assert "Subscribed" in say(server, chat, "/start")
        assert "Subscribed" in say(server, -500, "/start@newsbot_test_bot")

        # /search, once the first poll has stored the stories; "More ›" pages on.
        server.wait_for(lambda: web.hits("/budget.html"), WAIT_S)
        results = ""
        for _ in range(50):
            results = say(server, 42, "/search river")
            if "Results" in results:
                break
            time.sleep(0.2)
        assert "Results 1–2 of 3" in results
        listing = last_message(server, 42)
        server.press_button(42, listing["message_id"], buttons(listing)["More ›"])
        server.wait_for(lambda: "Results 3–3 of 3" in last_message(server, 42)["text"], WAIT_S)

        # /settings with button presses.
        say(server, 42, "/settings")
        menu_message = last_message(server, 42)
        server.press_button(
            42, menu_message["message_id"], buttons(menu_message)["🕗 Digest times"]
        )
        server.wait_for(lambda: "08:00 + 18:00" in buttons(last_message(server, 42)), WAIT_S)
        preset = buttons(last_message(server, 42))["08:00 + 18:00"]
        server.press_button(42, menu_message["message_id"], preset)
        server.wait_for(lambda: "at 08:00 and 18:00" in last_message(server, 42)["text"], WAIT_S)
        assert "Saved." in [a.get("text") for a in server.callback_answers]

        # /digest through the faults: 429 for 42, a dropped connection for 43, 403 for 44,
        # an entity error for the group.
        server.fail("sendMessage", chat_id=42, retry_after_s=1)
        server.fail("sendMessage", chat_id=43, drop=True)
        server.fail("sendMessage", chat_id=-500)
        server.block(44)
        for chat in (42, 43, 44, -500):
            server.send_user_message(chat, "/digest")
        for chat in (42, 43, -500):
            server.wait_for(partial(count, server, chat, "Council budget vote delayed"), WAIT_S)
        assert "Alert saved" in say(server, 42, "/alert volcano")
        assert bot.stop() == 0
    finally:
        bot.stop()

    # A second feed appears and the group becomes a supergroup; the bot restarts, pushes the
    # alert, follows the group and keeps every digest free of repeats.
    coast = serve_feed(web, "/coast.xml", LATER)
    write_feeds(root, {"Loop Wire": web.url("/wire.xml"), "Coast News": coast})
    server.unblock(44)
    server.migrate_group(-500, -100500)
    again = Bot(root, server)
    try:
        server.wait_for(lambda: count(server, 42, "Volcano erupts near the coast"), WAIT_S)
        assert "Alert" in next(t for t in server.sent_texts(42) if "Volcano" in t)
        server.send_user_message(42, "/digest")
        server.send_user_message(-100500, "/digest")
        for chat in (42, -100500):
            server.wait_for(partial(count, server, chat, "Bridge reopens after repairs"), WAIT_S)
        assert again.stop(signal.SIGINT) == 0
    finally:
        again.stop()

    for chat in (42, 43, -500):
        for title, _ in STORIES.values():
            assert count(server, chat, title) == 1, (chat, title)
    assert count(server, 42, "Volcano erupts near the coast") == 1
    assert count(server, -100500, "Volcano erupts near the coast") == 1
    for title, _ in STORIES.values():  # delivered to the group before it moved
        assert count(server, -100500, title) == 0
    assert server.sent_texts(44) == server.sent_texts(44)[:1]  # only its /start answer
    assert any(c.status == 403 for c in server.calls_to("sendMessage", 44))
    blocked = [c for c in server.calls_to("sendMessage", 44) if c.status == 403]
    assert len(blocked) == 1  # deactivated at once: no retries, nothing after the restart
    assert not [c for c in server.calls_to("sendMessage", 42) if c.status == 429][1:]
    outputs = bot.output() + again.output()
    assert server.token not in outputs
    assert server.token.split(":", 1)[1] not in outputs


def test_a_rejected_token_is_one_clear_line_and_never_printed(
    world: tuple[BotApiServer, LoopbackServer, Path],
) -> None:
    """A token the Bot API refuses stops the bot with one line that does not contain it."""
    server, web, root = world
    write_feeds(root, {"Loop Wire": serve_feed(web, "/wire.xml", STORIES)})
    wrong = "987654321:WrongSecretTokenThatMustNeverBePrinted"
    bot = Bot(root, server, token=wrong)
    code = bot.process.wait(timeout=60)
    output = bot.output()
    assert code == 2
    assert "refused the token in NEWSBOT_TOKEN" in output
    assert "@BotFather" in output
    assert wrong not in output
    assert wrong.split(":", 1)[1] not in output


def test_a_missing_token_says_how_to_get_one(tmp_path: Path) -> None:
    """Without NEWSBOT_TOKEN the bot says where a token comes from, and exits 2."""
    env = {k: v for k, v in os.environ.items() if k != "NEWSBOT_TOKEN"}
    done = newsbot("run", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "newsbot: NEWSBOT_TOKEN is not set: create a bot with @BotFather in Telegram and set "
        "NEWSBOT_TOKEN to the token it gives"
    ]


@pytest.mark.parametrize(
    "api_url",
    [
        "http://127.0.0.1:8081/bot987654321:SecretInTheUrl",
        "http://127.0.0.1:8081/bot",
        "127.0.0.1:8081",
    ],
)
def test_an_api_url_with_bot_in_it_says_what_is_wrong(tmp_path: Path, api_url: str) -> None:
    """NEWSBOT_API_URL is the server's bare address: one with /bot<token> in it (or no
    scheme) gets a line saying so, not "the token was refused"; the URL is not echoed."""
    env = {**os.environ, "NEWSBOT_TOKEN": "987654321:SecretInTheUrl", "NEWSBOT_API_URL": api_url}
    done = newsbot("run", cwd=tmp_path, env=env)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("newsbot: NEWSBOT_API_URL")
    assert "http://127.0.0.1:8081" in line  # the example of a right one
    assert "refused" not in line
    assert "SecretInTheUrl" not in done.stdout + done.stderr
