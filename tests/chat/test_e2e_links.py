"""End to end: inline search and subscribe links, the real ``newsbot run`` against the loopback
Bot API server and a loopback news site."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.botapi import BotApiServer
from tests.support.e2e import LATER, STORIES, WAIT_S, Bot, say, serve_feed
from tests.support.httpserver import LoopbackServer

SETTINGS = """\
[poll]
new_feed_backlog = 10
[bot]
digest_tick_s = 0.2
search_results_per_page = 2
searches_per_minute = 1000
drain_timeout_s = 3.0
allow_private_feeds = true
"""
FEEDS = """\
[[feeds]]
name = "Loop Wire"
url = "{wire}"
topic = "World"

[[feeds]]
name = "Coast News (Karachi)"
url = "{coast}"
topic = "Pakistan"
"""

World = tuple[BotApiServer, LoopbackServer, Path]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(SETTINGS, encoding="utf-8")
        feeds = FEEDS.format(
            wire=serve_feed(web, "/wire.xml", STORIES), coast=serve_feed(web, "/coast.xml", LATER)
        )
        (tmp_path / "config" / "feeds.toml").write_text(feeds, encoding="utf-8")
        yield server, web, tmp_path


def wait_for_stories(server: BotApiServer, web: LoopbackServer) -> None:
    server.wait_for(lambda: server.commands, WAIT_S)
    server.wait_for(lambda: web.hits("/budget.html") and web.hits("/bridge.html"), WAIT_S)
    for words in ("river", "volcano"):  # both feeds stored and indexed
        for _ in range(50):
            if "Results" in say(server, 99, f"/search {words}"):
                break
            time.sleep(0.2)


def titles_in_order(text: str) -> list[str]:
    """The story titles a text names, in the order it names them."""
    known = [title for title, _ in (*STORIES.values(), *LATER.values())]
    return sorted((t for t in known if t in text), key=text.index)


def test_an_inline_query_returns_what_search_returns_in_the_same_order(world: World) -> None:
    """``@bot river`` lists the articles /search river lists, in the same order, paged with
    next_offset; choosing one posts a card with its link; a forged offset reads as 0."""
    server, web, root = world
    bot = Bot(root, server)
    try:
        wait_for_stories(server, web)
        pages = say(server, 42, "/search river")
        listing = server.sent(42)[-1]
        more = next(b["callback_data"] for row in listing["reply_markup"]["inline_keyboard"]
                    for b in row if b["text"].startswith("More"))  # fmt: skip
        server.press_button(42, listing["message_id"], more)
        server.wait_for(lambda: "Results 3–3" in str(server.sent(42)[-1]["text"]), WAIT_S)
        searched = titles_in_order(pages) + titles_in_order(str(server.sent(42)[-1]["text"]))
        assert len(searched) == 3

        query_id = server.send_inline_query(42, "river")
        answer = server.wait_for(lambda: server.inline_answer(query_id), WAIT_S)
        inline = [r["title"] for r in answer["results"]]
        assert inline == searched
        assert answer["button"]["start_parameter"].startswith("search")
        assert all(r["description"].startswith("Loop Wire · ") for r in answer["results"])
        assert answer.get("next_offset", "") == ""  # all three fit one page

        card = server.choose_inline_result(query_id, answer["results"][0]["id"], chat_id=-700)
        assert card["text"].startswith(searched[0])
        forged = server.send_inline_query(43, "river", offset="not-a-number")
        again = server.wait_for(lambda: server.inline_answer(forged), WAIT_S)
        assert [r["title"] for r in again["results"]] == searched

        # The button's payload opens the private chat with the same search.
        payload = answer["button"]["start_parameter"]
        assert "Results 1–2 of 3" in say(server, 44, f"/start {payload}")
        assert bot.stop() == 0
    finally:
        bot.stop()


def test_a_subscribe_link_subscribes_with_its_topic_or_feed_and_a_forged_one_is_refused(
    world: World,
) -> None:
    """/start topic-world reads the World topic only; /start feed-coast-news-karachi that feed
    only; a forged payload subscribes nothing and says the link is not valid."""
    server, web, root = world
    bot = Bot(root, server)
    try:
        wait_for_stories(server, web)
        assert "You read topic World now" in say(server, 42, "/start topic-world")
        assert "You read Coast News (Karachi) now" in say(
            server, 43, "/start feed-coast-news-karachi"
        )
        world_digest = say(server, 42, "/digest")
        coast_digest = say(server, 43, "/digest")
        assert titles_in_order(world_digest)
        assert set(titles_in_order(world_digest)) <= {t for t, _ in STORIES.values()}
        assert set(titles_in_order(coast_digest)) == {t for t, _ in LATER.values()}

        for forged in (
            "/start feed-nope",
            "/start topic-",
            "/start ../../etc",
            "/start " + "x" * 80,
        ):
            assert "not valid" in say(server, 44, forged)
        assert "not subscribed" in say(server, 44, "/digest")
        assert bot.stop() == 0
    finally:
        bot.stop()
    assert "Traceback" not in bot.output()
