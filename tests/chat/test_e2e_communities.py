"""End to end for communities: the real ``newsbot run`` against the loopback Bot API server,
which keeps channels, their admins, forum topics and the bot's own membership as Telegram
does. Channels managed from a private chat, topics with digests of their own, pauses that
retry nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.botapi import BotApiServer, Member
from tests.support.e2e import (
    STORIES,
    WAIT_S,
    Bot,
    buttons,
    serve_feed,
    write_feeds,
)
from tests.support.httpserver import LoopbackServer

SETTINGS = """\
[poll]
new_feed_backlog = 10
[bot]
digest_tick_s = 0.2
drain_timeout_s = 3.0
group_admins_only = true
allow_private_feeds = true
"""
CHANNEL, OTHER, NO_POST = -1001777, -1001888, -1001999
FORUM = -1001555
OWNER, EDITOR, READER = 7, 8, 9
PAUSED = "⏸ Digests to the channel"

World = tuple[BotApiServer, LoopbackServer, Path]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "settings.toml").write_text(SETTINGS, encoding="utf-8")
        write_feeds(tmp_path, {"Loop Wire": serve_feed(web, "/wire.xml", STORIES)})
        yield server, web, tmp_path


def said(server: BotApiServer, chat_id: int, send: Any, thread_id: int | None = None) -> str:
    """Do ``send()`` (a user acts); return the bot's next message text in the chat."""
    before = len(server.sent(chat_id, thread_id))
    send()
    server.wait_for(lambda: len(server.sent(chat_id, thread_id)) > before, WAIT_S)
    return str(server.sent(chat_id, thread_id)[before].get("text", ""))


def in_topic(server: BotApiServer, thread_id: int, text: str) -> str:
    return said(
        server,
        FORUM,
        lambda: server.send_user_message(FORUM, text, user_id=OWNER, thread_id=thread_id),
        thread_id,
    )


def private(server: BotApiServer, user_id: int, text: str) -> str:
    return said(server, user_id, lambda: server.send_user_message(user_id, text))


def digests(server: BotApiServer, chat_id: int, thread_id: int | None = None) -> list[str]:
    texts = [str(m.get("text", "")) for m in server.sent(chat_id, thread_id)]
    return [t for t in texts if t.startswith(("Your digest", "Nothing new"))]


def told(server: BotApiServer, user_id: int) -> int:
    """How many times a manager heard that the channel paused."""
    return sum(PAUSED in t for t in server.sent_texts(user_id))


def next_minutes(count: int) -> list[str]:
    """The next ``count`` whole minutes (UTC, HH:MM), at least 40 s away (the set-up before
    the first one takes a few seconds on a loaded machine)."""
    start = (datetime.now(UTC) + timedelta(seconds=100)).replace(second=0, microsecond=0)
    return [(start + timedelta(minutes=n)).strftime("%H:%M") for n in range(count)]


def test_channels_and_forum_topics_get_their_digests_and_pause_without_retrying(
    world: World,
) -> None:
    """A channel added by its admin gets its digests at its time; a non-admin cannot add or
    change it; the bot without the right to post pauses it, its managers hear it once and
    nothing is retried; Resume continues. Two topics of one forum get their own digests at
    their own times; a deleted topic pauses only itself."""
    server, _, root = world
    server.world.add_channel(CHANNEL, "Daily Wire", username="dailywire", creator=OWNER,
                             admins=(EDITOR,))  # fmt: skip
    server.world.add_channel(OTHER, "Other", username="otherwire", creator=OWNER,
                             bot=Member("left"))  # fmt: skip
    server.world.add_channel(NO_POST, "Quiet", username="quietwire", creator=OWNER,
                             bot=Member("administrator", {"can_post_messages": False}))  # fmt: skip
    server.world.add_group(FORUM, "Forum", forum=True, creator=OWNER)
    world_topic = server.open_topic(FORUM, "World")
    pakistan = server.open_topic(FORUM, "Pakistan")
    sport = server.open_topic(FORUM, "Sport")
    bot = Bot(root, server)
    try:
        server.wait_for(lambda: server.commands, WAIT_S)
        # Refusals say what to fix.
        assert "not one of them" in said(
            server, READER, lambda: server.forward_channel_post(READER, CHANNEL)
        )
        assert "“Post messages”" in private(server, OWNER, "/channels @otherwire")
        assert "without “Post messages”" in private(server, OWNER, "/channels @quietwire")
        assert "not a channel" in private(server, OWNER, f"/channels {FORUM}")

        # The owner adds the channel by forwarding a post; the editor by its name.
        added = said(server, OWNER, lambda: server.forward_channel_post(OWNER, CHANNEL))
        assert "Daily Wire" in added
        assert "is subscribed" in added
        screen = server.sent(OWNER)[-1]
        assert "🕗 Digest times" in buttons(screen)
        assert all(data.startswith(f"@{CHANNEL}|") for data in buttons(screen).values())
        private(server, EDITOR, "/channels")
        editor = server.sent(EDITOR)[-1]
        server.press_button(EDITOR, editor["message_id"], buttons(editor)["➕ Add a channel"])
        server.wait_for(lambda: "Forward me a post" in server.sent_texts(EDITOR)[-1], WAIT_S)
        assert "is subscribed" in private(server, EDITOR, "@dailywire")

        # Times: the channel and topic World at the first minute, Pakistan at the second.
        first, second = next_minutes(2)
        saved = private(server, OWNER, f"/settings @dailywire times {first} {second}")
        assert "Saved for 📣" in saved
        assert "Daily Wire" in saved
        assert "not subscribed" in private(server, READER, "/settings @dailywire times 10:00")
        for thread, at in ((world_topic, first), (pakistan, second), (sport, second)):
            assert "Subscribed" in in_topic(server, thread, "/start")
            assert "Saved" in in_topic(server, thread, f"/settings times {at}")
        assert not digests(server, FORUM, 0)  # General never subscribed

        server.wait_for(lambda: digests(server, CHANNEL), 150)
        server.wait_for(lambda: digests(server, FORUM, world_topic), WAIT_S)
        assert not digests(server, FORUM, pakistan)
        assert "River levels rise" in digests(server, CHANNEL)[0]
        assert "River levels rise" in digests(server, FORUM, world_topic)[0]
        assert not any(m.get("reply_markup") for m in server.sent(CHANNEL))

        # The bot silently loses "Post messages"; the sport topic is deleted. At the second
        # minute: the channel's digest is refused once and the channel pauses, its managers
        # hear it once; the deleted topic pauses alone and General hears it once.
        server.world.set_member(CHANNEL, server.bot_id, Member("administrator"))
        server.close_topic(FORUM, sport, deleted=True)
        server.wait_for(lambda: digests(server, FORUM, pakistan), 90)
        server.wait_for(lambda: all(told(server, m) == 1 for m in (OWNER, EDITOR)), WAIT_S)
        general = server.wait_for(lambda: server.sent(FORUM, 0), WAIT_S)
        assert "Sport" in general[0]["text"]
        assert "paused" in general[0]["text"]
        assert "River levels rise" in digests(server, FORUM, pakistan)[0]

        # Re-promoted: the managers are offered Resume; pressing it continues.
        server.set_bot_status(CHANNEL, Member("administrator", {"can_post_messages": True}),
                              by_user=OWNER)  # fmt: skip
        offer = server.wait_for(
            lambda: [m for m in server.sent(OWNER) if "▶ Resume" in buttons(m)], WAIT_S
        )[-1]
        server.press_button(OWNER, offer["message_id"], buttons(offer)["▶ Resume"])
        server.wait_for(lambda: "Resumed" in str(server.callback_answers[-1].get("text")), WAIT_S)
        # Removed outright: paused at once from my_chat_member, told once more.
        server.set_bot_status(CHANNEL, Member("kicked"), by_user=OWNER)
        server.wait_for(lambda: sum(PAUSED in t for t in server.sent_texts(OWNER)) == 2, WAIT_S)
        assert bot.stop() == 0
    finally:
        bot.stop()

    refused = [c for c in server.calls_to("sendMessage", CHANNEL) if c.status != 200]
    assert len(refused) == 1  # the one refusal, never retried
    assert [told(server, m) for m in (OWNER, EDITOR)] == [2, 2]  # once per pause
    topic_calls = [c for c in server.calls_to("sendMessage", FORUM)
                   if c.params.get("message_thread_id") == sport]  # fmt: skip
    assert len([c for c in topic_calls if c.status != 200]) == 1
    assert len(server.sent(FORUM, 0)) == 1  # General heard of the deleted topic once
