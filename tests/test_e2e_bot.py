"""End to end: the real ``newsbot run`` process against a loopback Bot API server and a loopback
feed and page server, played by users, with Telegram's faults injected. Nothing is lost,
nothing is sent twice, and the token never appears in any output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.app import menu
from tests.botapi import BotApiServer
from tests.feedgen import Item, rss
from tests.httpserver import LoopbackServer, Response

ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 20.0
NOW = datetime.now(UTC)

SETTINGS = """\
[poll]
new_feed_backlog = 10
[bot]
digest_tick_s = 0.2
search_results_per_page = 2
drain_timeout_s = 3.0
group_admins_only = false
"""

STORIES = {
    "river-levels": ("River levels rise in the north", "Water levels on the river rose again"),
    "river-ferry": ("River ferry service resumes", "The ferry across the river runs again"),
    "river-fest": ("River festival draws crowds", "Thousands came to the festival by the river"),
    "budget": ("Council budget vote delayed", "The council delayed its vote on the budget"),
}
LATER = {
    "volcano": ("Volcano erupts near the coast", "A volcano erupted near the coast at dawn"),
    "bridge": ("Bridge reopens after repairs", "The old bridge reopened after two years"),
}


def page(title: str, opening: str) -> bytes:
    """A news page whose main text the extractor finds."""
    paragraphs = [
        f"{opening}, officials said on Tuesday, and residents were told what to expect.",
        "Engineers spent the morning checking the works and the roads around them, and said "
        "that the next few days would show whether the measures taken so far were enough.",
        "Local businesses said they were ready, and the council promised updates every day "
        "until the situation was back to normal for everyone living in the area.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )
    return html.encode("utf-8")


def serve_feed(web: LoopbackServer, path: str, stories: dict[str, tuple[str, str]]) -> str:
    items = []
    for n, (slug, (title, opening)) in enumerate(stories.items()):
        web.add(f"/{slug}.html", Response(body=page(title, opening),
                headers={"Content-Type": "text/html; charset=utf-8"}))  # fmt: skip
        items.append(Item(slug, title, web.url(f"/{slug}.html"), NOW - timedelta(minutes=10 + n)))
    web.add(path, Response(body=rss(items), headers={"Content-Type": "application/rss+xml"}))
    return web.url(path)


class Bot:
    """The ``newsbot run`` process; its stdout and stderr go to files."""

    def __init__(self, root: Path, server: BotApiServer, *, token: str | None = None) -> None:
        self.log = root / f"run-{len(list(root.glob('run-*.log')))}.log"
        env = {
            **os.environ,
            "NEWSBOT_TOKEN": token if token is not None else server.token,
            "NEWSBOT_API_URL": server.url,
            "NEWSBOT_CONFIG": str(root / "config"),
            "NEWSBOT_DATA": str(root / "data"),
        }
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """SIGTERM (or ``signum``), then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[BotApiServer, LoopbackServer, Path]]:
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(SETTINGS, encoding="utf-8")
        yield server, web, tmp_path


def write_feeds(root: Path, feeds: dict[str, str]) -> None:
    blocks = [
        f'[[feeds]]\nname = "{name}"\nurl = "{url}"\ntopic = "news"\n'
        for name, url in feeds.items()
    ]
    (root / "config" / "feeds.toml").write_text("\n".join(blocks), encoding="utf-8")


def last_message(server: BotApiServer, chat_id: int) -> dict[str, Any]:
    return server.sent(chat_id)[-1]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label -> callback data of a message's inline keyboard."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def say(server: BotApiServer, chat_id: int, text: str) -> str:
    """A user writes; returns the bot's next message text in that chat."""
    before = len(server.sent(chat_id))
    server.send_user_message(chat_id, text)
    server.wait_for(lambda: len(server.sent(chat_id)) > before, WAIT_S)
    return server.sent_texts(chat_id)[before]


def count(server: BotApiServer, chat_id: int, title: str) -> int:
    """How many times a story reached the chat in digests and alerts."""
    pushed = [t for t in server.sent_texts(chat_id) if t.startswith(("Your digest", "🔔"))]
    return sum(text.count(title) for text in pushed)


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
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "newsbot: NEWSBOT_TOKEN is not set: create a bot with @BotFather in Telegram and set "
        "NEWSBOT_TOKEN to the token it gives"
    ]
