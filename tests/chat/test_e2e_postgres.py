"""End to end on PostgreSQL: two ``newsbot run --role ingest`` and two ``--role bot`` processes
share one database, against the loopback feed and Bot API servers. Every page is read once,
/search works from the bot, every chat gets its digest; kill -9 the sending process during a
fan-out and the other takes over: nothing is lost, the only repeats are messages in flight."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.botapi import BotApiServer
from tests.support.e2e import LATER, STORIES, Bot, count, serve_feed, write_feeds
from tests.support.httpserver import LoopbackServer

CHATS = list(range(1001, 1041))
TAKEOVER_S = 30.0
START_S = 120.0  # a process's start on a loaded machine (imports, connections)
SETTINGS = """\
[poll]
new_feed_backlog = 10
[bot]
digest_tick_s = 0.2
max_messages_per_s = 8
drain_timeout_s = 3.0
group_admins_only = false
allow_private_feeds = true
[store]
database_url = "{url}"
"""


@pytest.fixture
def world(tmp_path: Path, pg_url: str) -> Iterator[tuple[BotApiServer, LoopbackServer, Path, str]]:
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(
            SETTINGS.format(url=pg_url), encoding="utf-8"
        )
        yield server, web, tmp_path, pg_url


def _subscribed(server: BotApiServer, chat: int) -> bool:
    return any("Subscribed" in t for t in server.sent_texts(chat))


def _indexed(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM search_docs").fetchone()[0])  # type: ignore[index]


def _planned_digests(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_chats WHERE last_digest_at IS NOT NULL")
        return int(row.fetchone()[0])  # type: ignore[index]


def _accepted_digests(server: BotApiServer) -> int:
    return sum(1 for c in CHATS for t in server.sent_texts(c) if t.startswith("Your digest"))


def test_ingest_and_bot_processes_share_the_work_and_survive_the_senders_kill(
    world: tuple[BotApiServer, LoopbackServer, Path, str],
) -> None:
    """Two ingest and two bot processes: pages read once, search from the bot, digests to
    every chat once but for the messages in flight when the sender is killed."""
    server, web, root, url = world
    stories = {**STORIES, **LATER}
    feeds = {
        "Loop Wire": serve_feed(web, "/wire.xml", STORIES),
        "Coast News": serve_feed(web, "/coast.xml", LATER),
    }
    write_feeds(root, feeds)
    ingest = [Bot(root, server, args=("--role", "ingest")) for _ in range(2)]
    first = Bot(root, server, args=("--role", "bot"))
    processes = [*ingest, first]
    try:
        server.wait_for(lambda: "leading" in first.output(), START_S)
        second = Bot(root, server, args=("--role", "bot"))  # starts while the others work
        processes.append(second)

        server.wait_for(lambda: all(web.hits(f"/{slug}.html") for slug in stories), START_S)
        server.wait_for(lambda: _indexed(url) == len(stories), START_S)
        server.send_user_message(CHATS[0], "/search river")
        server.wait_for(lambda: any("of 3" in t for t in server.sent_texts(CHATS[0])), START_S)

        for chat in CHATS:
            server.send_user_message(chat, "/start")
        server.wait_for(lambda: all(_subscribed(server, c) for c in CHATS), START_S)
        server.wait_for(lambda: "standing by" in second.output(), START_S)
        for chat in CHATS:
            server.send_user_message(chat, "/digest")
        # Killed once every digest is planned (the commands were handled) and some were sent.
        server.wait_for(lambda: _planned_digests(url) == len(CHATS), START_S)
        server.wait_for(lambda: _accepted_digests(server) >= 8, START_S)
        first.stop(signal.SIGKILL)
        killed_at = time.monotonic()
        server.wait_for(lambda: "leading" in second.output(), TAKEOVER_S)
        took_over_s = time.monotonic() - killed_at
        title = "Council budget vote delayed"
        server.wait_for(lambda: all(count(server, c, title) for c in CHATS), START_S)
        time.sleep(1.0)  # anything still queued would show now
    finally:
        for process in processes:
            process.stop()

    assert took_over_s < TAKEOVER_S
    for slug in stories:  # each page read by one ingest process, once
        assert web.hits(f"/{slug}.html") == 1, slug
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT doc->>'link') FROM articles")
        assert row.fetchone() == (len(stories), len(stories))
    digests = {c: [t for t in server.sent_texts(c) if t.startswith("Your digest")] for c in CHATS}
    assert all(digests.values())  # every chat got its digest: nothing lost at the kill
    titles = [title for title, _ in stories.values()]
    assert all(t in texts[0] for texts in digests.values() for t in titles)  # none folded away
    repeats = sum(len(texts) - 1 for texts in digests.values())
    assert repeats <= 8  # only messages in flight at the kill (one per delivery worker)
    polls = server.calls_to("getUpdates")
    assert not [c for c in polls if c.status == 409]  # one getUpdates consumer at a time
    assert "Traceback" not in "".join(p.output() for p in processes[:2])
