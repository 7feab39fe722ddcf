"""Forum topics are subscribers of their own: settings, digests, alerts and pauses per topic
(through PTB's request seam, tests/support/botharness.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.config import BotSettings
from bot.delivery.target import Target
from tests.support.botharness import Harness, article, texts

FORUM = -1001500
WORLD, PAKISTAN = 7, 9
FLOOD = article(
    "a1",
    "Council approves flood relief",
    "The council approved flood relief for the river towns on Monday. Work starts in spring.",
)
GOAL = article(
    "a3",
    "Late goal wins the cup",
    "A late goal won the cup final for the visitors. Fans celebrated until dawn.",
    feed="Sport Desk",
    topic="sport",
)
OPEN_GROUPS = BotSettings(group_admins_only=False)


def play(tmp_path: Path, body: Any, **options: Any) -> None:
    async def main() -> None:
        async with Harness(tmp_path, **options) as bot:
            await body(bot)

    asyncio.run(main())


def test_two_topics_of_one_forum_get_their_own_digests_at_their_own_times(
    tmp_path: Path,
) -> None:
    """/start in two topics subscribes each; each topic's settings and digest are its own,
    and digests go into the topic (message_thread_id)."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD, GOAL)
        for thread in (WORLD, PAKISTAN):
            (answer,) = await bot.send(FORUM, "/start", thread_id=thread)
            assert answer.thread_id == thread  # the answer stays in the topic
        await bot.send(FORUM, "/settings times 10:00", thread_id=WORLD)
        await bot.send(FORUM, "/settings times 12:00", thread_id=PAKISTAN)
        world = bot.services.chats.get(Target(FORUM, WORLD))
        assert world is not None
        assert world.title == f"Topic {WORLD}"
        assert bot.services.chats.get(FORUM) is None  # General did not subscribe

        bot.clock.advance(minutes=31)  # 10:01
        first = await bot.tick()
        assert {(c.chat_id, c.thread_id) for c in first} == {(FORUM, WORLD)}
        assert "flood relief" in texts(first)[0]
        bot.clock.advance(hours=2)  # 12:01
        second = await bot.tick()
        assert {(c.chat_id, c.thread_id) for c in second} == {(FORUM, PAKISTAN)}
        assert "flood relief" in texts(second)[0]  # the same story, in the other topic once

        await bot.send(FORUM, "/stop", thread_id=WORLD)
        assert bot.services.chats.get(Target(FORUM, PAKISTAN)).active  # type: ignore[union-attr]
        assert not bot.services.chats.get(Target(FORUM, WORLD)).active  # type: ignore[union-attr]

    play(tmp_path, body, bot=OPEN_GROUPS)


def test_a_deleted_topic_pauses_only_itself_and_says_so_once_in_general(tmp_path: Path) -> None:
    """400 "message thread not found": that topic pauses, General hears it once, the other
    topic and the chat go on."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD)
        await bot.send(FORUM, "/start", thread_id=WORLD)
        await bot.send(FORUM, "/start", thread_id=PAKISTAN)
        bot.request.faults["sendMessage"] = [(400, "Bad Request: message thread not found", None)]
        calls = await bot.send(FORUM, "/digest", thread_id=WORLD)
        calls += await bot.tick()
        notices = [c for c in calls if c.method == "sendMessage" and "paused" in c.text]
        assert len(notices) == 1
        assert notices[0].thread_id == 0
        assert notices[0].chat_id == FORUM
        assert f"Topic {WORLD}" in notices[0].text
        world = bot.services.chats.get(Target(FORUM, WORLD))
        assert world is not None
        assert not world.active
        assert world.paused
        assert not bot.ledger.pending()  # dropped with a record, not retried

        later = await bot.send(FORUM, "/digest", thread_id=PAKISTAN)
        assert [c.thread_id for c in later if c.method == "sendMessage"] == [PAKISTAN]
        assert "flood relief" in texts(later)[0]
        again = await bot.send(FORUM, "/digest", thread_id=WORLD)
        assert not [c for c in again if "paused" in c.text]  # said once

    play(tmp_path, body, bot=OPEN_GROUPS)


def test_alerts_belong_to_the_topic_they_were_set_in(tmp_path: Path) -> None:
    """/alert in a topic pushes matches into that topic only."""

    async def body(bot: Harness) -> None:
        await bot.send(FORUM, "/start", thread_id=WORLD)
        await bot.send(FORUM, "/start", thread_id=PAKISTAN)
        await bot.send(FORUM, "/alert flood", thread_id=WORLD)
        assert bot.services.chats.alerts(Target(FORUM, PAKISTAN)) == ()
        bot.clock.advance(minutes=1)
        bot.add_articles(article("a9", "Flood warning", "A flood warning was issued. More soon.",
                                 fetched=bot.clock()))  # fmt: skip
        pushed = await bot.tick()
        alerts = [c for c in pushed if c.text.startswith("🔔")]
        assert [(c.chat_id, c.thread_id) for c in alerts] == [(FORUM, WORLD)]

    play(tmp_path, body, bot=OPEN_GROUPS)
