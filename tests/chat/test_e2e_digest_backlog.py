"""End to end: more news than a digest holds. The real ``newsbot run`` process, a loopback
Bot API server and a loopback news site with 40 new stories; 10 stories per digest. Every
story reaches the reader, by /digest and the "Next" button, across a restart, none twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.botapi import BotApiServer
from tests.support.e2e import WAIT_S, Bot, buttons, count, say, serve_feed, write_feeds
from tests.support.httpserver import LoopbackServer

SETTINGS = """\
[poll]
new_feed_backlog = 40
[bot]
items_per_digest = 10
digest_tick_s = 0.2
search_results_per_page = 5
searches_per_minute = 1000
drain_timeout_s = 3.0
allow_private_feeds = true
"""

STORIES = {
    f"harbour-{n:02d}": (
        f"Harbour report {n:02d} of forty",
        f"Harbour crews logged event number {n} before dawn",
    )
    for n in range(40)
}
TITLES = [title for title, _ in STORIES.values()]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[BotApiServer, LoopbackServer, Path]]:
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(SETTINGS, encoding="utf-8")
        yield server, web, tmp_path


def test_forty_new_stories_ten_per_digest_all_reach_the_reader_once(
    world: tuple[BotApiServer, LoopbackServer, Path],
) -> None:
    """/digest shows 10 of 40 and a "Next 10" button; pressing it (once after a restart)
    brings the rest, 10 at a time: all 40 arrive, none twice, and then nothing is new."""
    server, web, root = world
    write_feeds(root, {"Harbour Wire": serve_feed(web, "/harbour.xml", STORIES)})
    pressed: set[int] = set()

    def shown() -> int:
        return sum(count(server, 42, title) for title in TITLES)

    def next_button() -> tuple[int, str] | None:
        for message in server.sent(42):
            for label, data in buttons(message).items():
                if label.startswith("Next") and message["message_id"] not in pressed:
                    return message["message_id"], data
        return None

    def wait_for_batch() -> Any:
        return server.wait_for(lambda: next_button() or shown() == len(TITLES), WAIT_S)

    bot = Bot(root, server)
    try:
        assert "Subscribed" in say(server, 42, "/start")
        deadline = time.monotonic() + 3 * WAIT_S  # the first poll reads 40 pages
        while "of 40" not in say(server, 42, "/search harbour"):
            assert time.monotonic() < deadline, "the 40 stories were not stored in time"
            time.sleep(0.5)
        server.send_user_message(42, "/digest")
        wait_for_batch()
        assert shown() == 10
        first = [t for t in server.sent_texts(42) if t.startswith("Your digest")]
        assert "40 new" in first[0]
        assert "…and 30 more, kept for your next digest" in first[-1]
        batches = 1
        while (button := next_button()) is not None:
            if batches == 2:  # the held-back stories wait in the data folder over a restart
                assert bot.stop() == 0
                bot = Bot(root, server)
            message_id, data = button
            pressed.add(message_id)
            before = shown()
            server.press_button(42, message_id, data)
            server.wait_for(lambda before=before: shown() > before, WAIT_S)  # type: ignore[misc]
            wait_for_batch()
            batches += 1
        assert batches == 4
        assert [count(server, 42, title) for title in TITLES] == [1] * len(TITLES)
        assert say(server, 42, "/digest").startswith("Nothing new since")
        assert bot.stop() == 0
    finally:
        bot.stop()
    assert [count(server, 42, title) for title in TITLES] == [1] * len(TITLES)
