"""Every command, button and error path, through PTB's request seam (tests/botharness.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.chat.buttons import (
    AllFeeds,
    RemoveAlert,
    SetItems,
    SetPreview,
    SetTimes,
    SetZone,
    ShowScreen,
    ToggleFeed,
    encode_button,
    name_key,
)
from bot.cli.run import RedactingFormatter
from bot.config import BotSettings
from bot.delivery.chats import Chats
from bot.delivery.prefs import (
    DailyTimes,
    EmptyDigest,
    EveryHours,
    LinkPreview,
    PrefsDefaults,
    new_chat_prefs,
)
from bot.delivery.target import Target
from bot.models import StoredArticle
from bot.store.datadir import Store
from bot.store.storage import MemoryVolume
from tests.support.botharness import BOT_NAME, NOW, Clock, Harness, answers, article, texts

FLOOD = article(
    "a1",
    "Council approves flood relief",
    "The council approved flood relief for the river towns on Monday. Work starts in spring.",
    quote=("We will rebuild every home", "Mayor Ana Ruiz"),
)
MATCH = article(
    "a2",
    "Rival paper on the flood vote",
    "The council approved flood relief for the river towns on Monday after a long debate.",
    feed="Daily Planet",
)
GOAL = article(
    "a3",
    "Late goal wins the cup",
    "A late goal won the cup final for the visitors. Fans celebrated until dawn.",
    feed="Sport Desk",
    topic="sport",
)

Body = Callable[[Harness], Awaitable[None]]


def play(tmp_path: Path, body: Body, **options: Any) -> None:
    """Run ``body`` against a freshly built bot."""

    async def main() -> None:
        async with Harness(tmp_path, **options) as bot:
            await body(bot)

    asyncio.run(main())


# -- /start, /stop ------------------------------------------------------------------------


def test_start_subscribes_with_the_defaults_and_says_how_to_change_them(tmp_path: Path) -> None:
    """/start stores the settings' defaults and tells the chat what it will get."""

    async def body(bot: Harness) -> None:
        (reply,) = texts(await bot.send(42, "/start"))
        assert "Subscribed" in reply
        assert "daily at 07:30 (Asia/Karachi)" in reply
        assert "up to 7 stories" in reply
        assert "/settings" in reply
        assert "/stop" in reply
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        assert prefs.active
        assert prefs.schedule == DailyTimes((time(7, 30),))
        assert prefs.time_zone == "Asia/Karachi"
        assert bot.runtime.digests.queue.due_at(Target(42)) is not None

    bot = BotSettings(time_zone="Asia/Karachi", digest_times=("07:30",), items_per_digest=7)
    play(tmp_path, body, bot=bot)


@pytest.mark.parametrize(
    ("chat_id", "text"), [(-500, "/start@newsbot_test_bot"), (42, f"/start@{BOT_NAME.upper()}")]
)
def test_commands_work_with_the_bot_name_in_groups(tmp_path: Path, chat_id: int, text: str) -> None:
    """/start@botname subscribes the chat it is sent in."""

    async def body(bot: Harness) -> None:
        assert "Subscribed" in texts(await bot.send(chat_id, text))[0]
        assert bot.services.chats.get(chat_id) is not None

    play(tmp_path, body)


def test_commands_for_another_bot_are_left_alone(tmp_path: Path) -> None:
    """A command addressed to another bot in a group gets no answer and changes nothing."""

    async def body(bot: Harness) -> None:
        assert texts(await bot.send(-500, "/start@other_bot")) == []
        assert texts(await bot.send(-500, "/weather@other_bot")) == []
        assert bot.services.chats.get(-500) is None

    play(tmp_path, body)


def test_only_group_admins_change_a_groups_subscription(tmp_path: Path) -> None:
    """In a group, members may read and search; only admins subscribe, stop and change."""

    async def body(bot: Harness) -> None:
        member = 77
        (refused,) = texts(await bot.send(-500, "/start", user_id=member))
        assert refused.startswith("Only this group's admins")
        assert bot.services.chats.get(-500) is None
        await bot.send(-500, "/start")  # user 500 is an admin
        for command in ("/stop", "/settings items 3", "/timezone Asia/Tokyo", "/alert flood"):
            (refused,) = texts(await bot.send(-500, command, user_id=member))
            assert refused.startswith("Only this group's admins")
        pressed = await bot.press(-500, encode_button(SetItems(3)), user_id=member)
        assert answers(pressed)[0].startswith("Only this group's admins")
        assert "Nothing found" in texts(await bot.send(-500, "/search flood", user_id=member))[0]
        prefs = bot.services.chats.get(-500)
        assert prefs is not None
        assert prefs.active
        assert (prefs.items_per_digest, prefs.time_zone) == (10, "UTC")
        assert bot.services.chats.alerts(-500) == ()

    play(tmp_path, body)


def test_groups_may_let_every_member_manage_the_subscription(tmp_path: Path) -> None:
    """With group_admins_only = false any member may subscribe a group."""

    async def body(bot: Harness) -> None:
        assert "Subscribed" in texts(await bot.send(-500, "/start", user_id=77))[0]

    play(tmp_path, body, bot=BotSettings(group_admins_only=False))


def test_stop_unsubscribes_and_start_brings_the_settings_back(tmp_path: Path) -> None:
    """/stop pauses the chat (no digests), keeps its settings; /start resumes them."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        await bot.send(42, "/settings items 4")
        (reply,) = texts(await bot.send(42, "/stop"))
        assert "Unsubscribed" in reply
        assert "kept" in reply
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        assert not prefs.active
        assert bot.runtime.digests.queue.due_at(Target(42)) is None
        (again,) = texts(await bot.send(42, "/start"))
        assert "Welcome back" in again
        assert "up to 4 stories" in again

    play(tmp_path, body)


@pytest.mark.parametrize(
    "command",
    ["/digest", "/alert flood", "/settings", "/settings items 3", "/timezone Asia/Tokyo", "/feeds"],
)
def test_after_stop_subscriber_commands_say_the_chat_is_unsubscribed(
    tmp_path: Path, command: str
) -> None:
    """After /stop, /digest, /alert and the subscriber settings send no news and change
    nothing: they say the chat is unsubscribed and how to come back."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD)
        await bot.send(42, "/start")
        await bot.send(42, "/stop")
        before = bot.services.chats.get(42)
        (reply,) = texts(await bot.send(42, command))
        assert "You are unsubscribed; /start to subscribe again" in reply
        assert "Council approves flood relief" not in reply
        assert bot.services.chats.get(42) == before
        assert not bot.services.chats.alerts(42)
        assert not bot.ledger.delivered_ids(42)

    play(tmp_path, body)


def test_a_settings_button_after_stop_says_the_chat_is_unsubscribed(tmp_path: Path) -> None:
    """A settings button pressed after /stop changes nothing and says how to come back."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        await bot.send(42, "/stop")
        before = bot.services.chats.get(42)
        calls = await bot.press(42, encode_button(SetItems(3)))
        assert "You are unsubscribed" in answers(calls)[-1]
        assert bot.services.chats.get(42) == before

    play(tmp_path, body)


def test_stop_in_a_chat_that_never_started_says_so(tmp_path: Path) -> None:
    """/stop without a subscription points at /start."""

    async def body(bot: Harness) -> None:
        assert "not subscribed" in texts(await bot.send(42, "/stop"))[0]

    play(tmp_path, body)


# -- /digest and the digest job -----------------------------------------------------------


def test_digest_sends_new_articles_once_through_the_ledger(tmp_path: Path) -> None:
    """/digest sends the news (folded across feeds) now; a second /digest has nothing new."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD, MATCH, GOAL)
        await bot.send(42, "/start")
        (digest,) = texts(await bot.send(42, "/digest"))
        assert "Your digest" in digest
        assert "Council approves flood relief" in digest
        assert "also in: Daily Planet" in digest
        assert "Mayor Ana Ruiz" in digest
        assert "Late goal wins the cup" in digest
        assert bot.ledger.delivered_ids(42) == {"a1", "a2", "a3"}
        assert not bot.ledger.pending()
        bot.clock.advance(minutes=1)
        (second,) = texts(await bot.send(42, "/digest"))
        assert second.startswith("Nothing new since")

    play(tmp_path, body)


def _many(count: int) -> list[StoredArticle]:
    """``count`` distinct stories from one feed, one a minute."""
    return [
        article(
            f"m{n}",
            f"Harbour story number {n} of the day",
            f"Story {n} happened at the harbour today. Details {n} follow.",
            fetched=NOW - timedelta(minutes=60 - n),
        )
        for n in range(count)
    ]


def _titles(messages: list[str]) -> list[str]:
    return re.findall(r"Harbour story number \d+ of the day", "\n".join(messages))


def test_digest_holds_back_stories_past_the_limit_and_next_sends_them(tmp_path: Path) -> None:
    """25 stories, 10 per digest: /digest shows 10 and says 15 more wait, with a Next button;
    pressing it sends the next 10, then the last 5: every story once, none dropped."""

    async def body(bot: Harness) -> None:
        bot.add_articles(*_many(25))
        await bot.send(42, "/start")
        first = [c for c in await bot.send(42, "/digest") if c.method == "sendMessage"]
        seen = _titles([c.text for c in first])
        assert len(seen) == 10
        assert "…and 15 more, kept for your next digest" in first[-1].text
        assert first[-1].buttons == [("Next 10 ›", "dg:next")]
        second = await bot.press(42, "dg:next")
        assert "editMessageReplyMarkup" in [c.method for c in second]
        seen += _titles(texts(second))
        assert len(seen) == 20
        third = await bot.press(42, "dg:next")
        seen += _titles(texts(third))
        assert [c.buttons for c in third if c.method == "sendMessage"][-1] == []
        assert sorted(seen) == sorted(a.title for a in _many(25))
        bot.clock.advance(minutes=1)
        (nothing,) = texts(await bot.send(42, "/digest"))
        assert nothing.startswith("Nothing new since")

    play(tmp_path, body)


def test_scheduled_digests_carry_held_back_stories_to_the_next_one(tmp_path: Path) -> None:
    """Stories a scheduled digest could not show come in the next scheduled digest, also
    after a restart (the ledger keeps where they begin)."""

    async def first(bot: Harness) -> None:
        bot.add_articles(*_many(14))
        await bot.send(42, "/start")
        await bot.send(42, "/settings times every 1h")
        bot.clock.advance(minutes=31)
        assert len(_titles(texts(await bot.tick()))) == 10

    async def second(bot: Harness) -> None:
        bot.add_articles(
            article("late", "Late harbour news", "A late story. It came after.", fetched=clock())
        )
        bot.clock.advance(hours=1)
        sent = texts(await bot.tick())
        assert len(_titles(sent)) == 4
        assert "Late harbour news" in sent[0]
        assert all(len(bot.ledger.delivered_ids(42) & {a.id}) for a in _many(14))

    volume, clock = MemoryVolume(), Clock()
    play(tmp_path, first, store=Store.in_memory(volume), clock=clock)
    play(tmp_path, second, store=Store.in_memory(volume), clock=clock)


def test_each_digest_message_previews_its_top_story_as_the_chat_prefers(tmp_path: Path) -> None:
    """A digest message shows its top story's link preview, large, below the text; the chat
    puts it above with the /settings button, or turns previews off with /settings previews."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        previews: list[tuple[str, object]] = []
        for step in ("", "button above", "/settings previews off"):
            if step == "button above":
                await bot.press(42, encode_button(SetPreview(LinkPreview.ABOVE)))
            elif step:
                assert "Link previews: off" in texts(await bot.send(42, step))[0]
            bot.clock.advance(minutes=1)
            news = article(f"p{len(previews)}", f"Preview story {len(previews)}", "It happened.",
                           fetched=bot.clock())  # fmt: skip
            bot.add_articles(news)
            (sent,) = [c for c in await bot.send(42, "/digest") if c.method == "sendMessage"]
            previews.append((news.link, sent.params["link_preview_options"]))
        (link0, below), (link1, above), (_, off) = previews
        assert below == {"url": link0, "prefer_large_media": True, "show_above_text": False}
        assert above == {"url": link1, "prefer_large_media": True, "show_above_text": True}
        assert off == {"is_disabled": True}

    play(tmp_path, body)


def test_digest_before_start_points_at_start(tmp_path: Path) -> None:
    """/digest in a chat that never subscribed says to send /start."""

    async def body(bot: Harness) -> None:
        assert "/start" in texts(await bot.send(42, "/digest"))[0]

    play(tmp_path, body)


def test_digest_holds_only_the_feeds_the_chat_reads(tmp_path: Path) -> None:
    """A chat that unsubscribed from the sport topic gets no sport in its digest."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD, GOAL)
        await bot.send(42, "/start")
        await bot.press(42, encode_button(ToggleFeed(True, name_key("sport"))))
        (digest,) = texts(await bot.send(42, "/digest"))
        assert "flood relief" in digest
        assert "Late goal" not in digest

    play(tmp_path, body)


def test_due_digest_is_sent_by_the_tick_and_an_empty_one_per_preference(tmp_path: Path) -> None:
    """At its time the chat gets its digest; the next, empty one is a note or silence."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD)
        await bot.send(42, "/start")
        await bot.send(43, "/start")
        await bot.send(43, "/settings empty silent")
        assert texts(await bot.tick()) == []  # 09:30 UTC; due at 10:00
        bot.clock.advance(minutes=31)
        sent = await bot.tick()
        assert "flood relief" in texts(sent)[0]
        assert {c.chat_id for c in sent} == {42, 43}
        bot.clock.advance(hours=24)
        later = await bot.tick()
        assert [c.chat_id for c in later] == [42]
        assert texts(later)[0].startswith("Nothing new since")

    play(tmp_path, body, bot=BotSettings(digest_times=("10:00",)))


def test_a_digest_missed_while_down_is_sent_once_on_start(tmp_path: Path) -> None:
    """A bot started after several missed slots sends the chat one digest, not one per slot."""
    volume = MemoryVolume()
    clock = Clock()

    async def first(bot: Harness) -> None:
        await bot.send(42, "/start")

    async def second(bot: Harness) -> None:
        bot.add_articles(article("late", "Storm warning issued", "A storm warning was issued.",
                                 fetched=clock.now - timedelta(hours=1)))  # fmt: skip
        sent = await bot.tick()
        assert len(texts(sent)) == 1
        assert "Storm warning issued" in texts(sent)[0]
        assert texts(await bot.tick()) == []

    play(tmp_path, first, store=Store.in_memory(volume), clock=clock)
    clock.advance(days=3)
    play(tmp_path, second, store=Store.in_memory(volume), clock=clock)


# -- /search ------------------------------------------------------------------------------


def test_search_without_words_answers_with_usage(tmp_path: Path) -> None:
    """/search alone says how to use it."""

    async def body(bot: Harness) -> None:
        assert texts(await bot.send(42, "/search"))[0].startswith("Usage: /search <words>")

    play(tmp_path, body)


def test_search_that_finds_nothing_says_so_and_suggests_broader_words(tmp_path: Path) -> None:
    """No match: the reply says so and suggests fewer or broader words."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD)
        (reply,) = texts(await bot.send(42, "/search volcano eruption"))
        assert "Nothing found" in reply
        assert "broader" in reply

    play(tmp_path, body)


def test_a_query_search_cannot_run_gets_its_message(tmp_path: Path) -> None:
    """A malformed query gets the search's own explanation, not an error."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD)
        (reply,) = texts(await bot.send(42, "/search -flood"))
        assert "Nothing found" not in reply
        assert reply

    play(tmp_path, body)


def test_search_results_show_the_top_storys_picture_where_it_has_one(tmp_path: Path) -> None:
    """A result page previews its top story's lead image (og:image), small, under the text;
    a page whose top story has none shows no preview."""
    pictured = dataclasses.replace(
        article("i1", "Harbour reopens", "The harbour reopened today.", fetched=NOW),
        image="https://example.org/harbour.jpg",
    )
    plain = article("i2", "Harbour fees rise", "Harbour fees rose.")
    shown = {
        "Harbour reopens": {
            "url": "https://example.org/harbour.jpg",
            "prefer_small_media": True,
            "show_above_text": False,
        },
        "Harbour fees rise": {"is_disabled": True},
    }

    async def body(bot: Harness) -> None:
        bot.add_articles(pictured, plain)
        first = (await bot.send(42, "/search harbour"))[-1]
        (more,) = [data for label, data in first.buttons if label.startswith("More")]
        (second,) = [c for c in await bot.press(42, more) if c.method == "editMessageText"]
        seen = []
        for page in (first, second):
            (title,) = [t for t in shown if t in page.text]
            assert page.params["link_preview_options"] == shown[title]
            seen.append(title)
        assert sorted(seen) == sorted(shown)

    play(tmp_path, body, bot=BotSettings(search_results_per_page=1))


def test_inline_results_show_the_articles_picture_as_their_thumbnail(tmp_path: Path) -> None:
    """``@bot words``: a result whose article has a lead image shows it as its thumbnail."""

    async def body(bot: Harness) -> None:
        bot.add_articles(
            dataclasses.replace(
                article("i1", "Harbour reopens", "The harbour reopened today."),
                image="https://example.org/harbour.jpg",
            ),
            article("i2", "Harbour fees rise", "Harbour fees rose."),
        )
        inline = {"id": "q1", "from": {"id": 42, "is_bot": False, "first_name": "U"},
                  "query": "harbour", "offset": ""}  # fmt: skip
        calls = await bot.update({"inline_query": inline})
        (answer,) = [c.params for c in calls if c.method == "answerInlineQuery"]
        results = answer["results"]
        results = json.loads(results) if isinstance(results, str) else results
        thumbnails = {r["title"]: r.get("thumbnail_url") for r in results}
        assert thumbnails == {
            "Harbour reopens": "https://example.org/harbour.jpg",
            "Harbour fees rise": None,
        }

    play(tmp_path, body)


def test_search_pages_on_with_the_more_button(tmp_path: Path) -> None:
    """Results come a page at a time; More shows the next page, Back the one before."""

    async def body(bot: Harness) -> None:
        for n in range(5):
            bot.add_articles(article(f"r{n}", f"River report {n}", f"The river rose {n} metres."))
        first = (await bot.send(42, "/search river"))[-1]
        assert "Results 1–2 of 5" in first.text
        (more,) = [data for label, data in first.buttons if label.startswith("More")]
        page = await bot.press(42, more)
        (edit,) = [c for c in page if c.method == "editMessageText"]
        assert "Results 3–4 of 5" in edit.text
        labels = [label for label, _ in edit.buttons]
        assert any(label.startswith("‹ Back") for label in labels)
        (last,) = [data for label, data in edit.buttons if label.startswith("More")]
        final = next(c for c in await bot.press(42, last) if c.method == "editMessageText")
        assert "Results 5–5 of 5" in final.text
        assert not any(label.startswith("More") for label, _ in final.buttons)

    play(tmp_path, body, bot=BotSettings(search_results_per_page=2))


def test_a_long_query_pages_through_a_reference(tmp_path: Path) -> None:
    """A query too long for a button still pages; after a restart its button says expired."""

    async def body(bot: Harness) -> None:
        words = "river " * 12
        for n in range(3):
            bot.add_articles(article(f"r{n}", f"River report {n}", f"The river rose {n} metres."))
        first = (await bot.send(42, f"/search {words}"))[-1]
        (more,) = [data for label, data in first.buttons if label.startswith("More")]
        assert "#" in more
        assert any("Results 2–2" in c.text for c in await bot.press(42, more))
        stale = more.rsplit("#", 1)[0] + "#ffff"
        assert answers(await bot.press(42, stale)) == [
            "That search has expired; send /search again."
        ]

    play(tmp_path, body, bot=BotSettings(search_results_per_page=1))


# -- /settings, /timezone, /feeds ----------------------------------------------------------


def test_settings_menu_buttons_change_times_zone_and_items(tmp_path: Path) -> None:
    """The keyboard opens each screen; a preset press saves it and shows the menu."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        menu = (await bot.send(42, "/settings"))[-1]
        assert "Settings" in menu.text
        datas = [data for _, data in menu.buttons]
        assert encode_button(ShowScreen("times")) in datas
        times = await bot.press(42, encode_button(ShowScreen("times")))
        assert any("/settings times 08:00 18:30" in c.text for c in times)
        saved = await bot.press(42, encode_button(SetTimes("d8_18")))
        assert answers(saved) == ["Saved."]
        assert any("daily at 08:00 and 18:00" in c.text for c in saved)
        await bot.press(42, encode_button(SetTimes("e6")))
        await bot.press(42, encode_button(SetZone("Asia/Tokyo")))
        await bot.press(42, encode_button(SetItems(15)))
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        assert isinstance(prefs.schedule, EveryHours)
        assert prefs.schedule.hours == 6
        assert (prefs.time_zone, prefs.items_per_digest) == ("Asia/Tokyo", 15)

    play(tmp_path, body)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/settings times 07:15 19:45", "daily at 07:15 and 19:45"),
        ("/settings times every 4h from 06:00", "every 4 hours from 06:00"),
        ("/settings times off", "Digests: off"),
        ("/settings items 12", "Items per digest: 12"),
        ("/settings zone karachi", "(Asia/Karachi)"),
        ("/settings empty silent", "When there is no news: nothing"),
    ],
)
def test_settings_take_text_input(tmp_path: Path, command: str, expected: str) -> None:
    """/settings <what> <value> changes one setting and shows them all."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        (reply,) = texts(await bot.send(42, command))
        assert reply.startswith("Saved.")
        assert expected in reply

    play(tmp_path, body)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/settings times 25:00", "not a time of day"),
        ("/settings items 500", "from 1 to 50"),
        ("/settings colour blue", "Usage: /settings"),
        ("/settings empty maybe", "/settings empty note"),
        ("/timezone Mars/Olympus", "Unknown time zone"),
        ("/timezone", "Usage: /timezone"),
    ],
)
def test_malformed_settings_get_a_short_answer_and_change_nothing(
    tmp_path: Path, command: str, expected: str
) -> None:
    """A bad value is explained in place; the settings stay as they were."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        before = bot.services.chats.get(42)
        (reply,) = texts(await bot.send(42, command))
        assert expected in reply
        assert bot.services.chats.get(42) == before

    play(tmp_path, body)


def test_timezone_sets_the_zone_and_moves_the_next_digest(tmp_path: Path) -> None:
    """/timezone Asia/Karachi is saved and the next digest comes at 08:00 there."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        (reply,) = texts(await bot.send(42, "/timezone Asia/Karachi"))
        assert "Time zone set to Asia/Karachi" in reply
        due = bot.runtime.digests.queue.due_at(Target(42))
        assert due is not None
        assert due.astimezone(bot.services.chats.get(42).zone).hour == 8  # type: ignore[union-attr]

    play(tmp_path, body)


@pytest.mark.parametrize("command", ["/settings", "/timezone UTC", "/alert flood", "/feeds"])
def test_settings_before_start_point_at_start(tmp_path: Path, command: str) -> None:
    """Settings need a subscription; the answer says to send /start."""

    async def body(bot: Harness) -> None:
        assert "/start" in texts(await bot.send(42, command))[0]

    play(tmp_path, body)


def test_feeds_toggles_topics_and_feeds(tmp_path: Path) -> None:
    """/feeds lists topics and feeds with toggles; presses subscribe and unsubscribe."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        listing = (await bot.send(42, "/feeds"))[-1]
        labels = [label for label, _ in listing.buttons]
        assert "✅ topic: sport" in labels
        assert "✅ World Wire" in labels
        edited = await bot.press(42, encode_button(ToggleFeed(False, name_key("World Wire"))))
        (screen,) = [c for c in edited if c.method == "editMessageText"]
        assert "▫️ World Wire" in [label for label, _ in screen.buttons]
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        assert set(prefs.feeds) | set(prefs.topics) == {"Daily Planet", "sport"}
        await bot.press(42, encode_button(AllFeeds()))
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        assert prefs.is_all_feeds

    play(tmp_path, body)


def test_unsubscribing_from_everything_is_refused(tmp_path: Path) -> None:
    """Turning the last feed off is refused with an explanation."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        await bot.press(42, encode_button(ToggleFeed(True, name_key("world"))))
        refused = await bot.press(42, encode_button(ToggleFeed(True, name_key("sport"))))
        assert "no feeds at all" in answers(refused)[0]
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        assert prefs.topics == ("sport",)

    play(tmp_path, body)


# -- /alert, /alerts ----------------------------------------------------------------------


def test_alert_pushes_a_matching_new_article_at_once_and_not_again_in_the_digest(
    tmp_path: Path,
) -> None:
    """A new article matching an alert comes as an alert; the digest does not repeat it."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        (saved,) = texts(await bot.send(42, "/alert flood relief"))
        assert "Alert saved" in saved
        bot.clock.advance(minutes=1)
        bot.add_articles(article("new1", "Flood relief doubled", "Flood relief was doubled.",
                                 fetched=bot.clock()), GOAL)  # fmt: skip
        (alert,) = texts(await bot.tick())
        assert "Alert" in alert
        assert "Flood relief doubled" in alert
        assert texts(await bot.tick()) == []
        (digest,) = texts(await bot.send(42, "/digest"))
        assert "Late goal" in digest
        assert "Flood relief doubled" not in digest

    play(tmp_path, body)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/alert", "Usage: /alert <words>"),
        ("/alert flood", "You have that alert already"),
        ("/alert -flood", "search"),
    ],
)
def test_malformed_or_repeated_alerts_are_explained(
    tmp_path: Path, command: str, expected: str
) -> None:
    """Empty, repeated and unusable alerts get a short answer and are not saved twice."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        await bot.send(42, "/alert flood")
        (reply,) = texts(await bot.send(42, command))
        assert expected.lower() in reply.lower()
        assert [a.words for a in bot.services.chats.alerts(42)] == ["flood"]

    play(tmp_path, body)


def test_alerts_lists_them_with_remove_buttons(tmp_path: Path) -> None:
    """/alerts lists every alert; its button removes it; a second press is answered."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        assert "No alerts yet" in texts(await bot.send(42, "/alerts"))[0]
        await bot.send(42, "/alert flood")
        await bot.send(42, "/alert cup final")
        listing = (await bot.send(42, "/alerts"))[-1]
        assert "flood" in listing.text
        assert "cup final" in listing.text
        first = bot.services.chats.alerts(42)[0]
        removed = await bot.press(42, encode_button(RemoveAlert(first.id)))
        assert answers(removed) == ["Removed: flood"]
        assert [a.words for a in bot.services.chats.alerts(42)] == ["cup final"]
        again = await bot.press(42, encode_button(RemoveAlert(first.id)))
        assert answers(again) == ["That alert was removed already."]

    play(tmp_path, body)


# -- help, unknown input, buttons from clients, errors ------------------------------------


def test_help_lists_every_command(tmp_path: Path) -> None:
    """/help names each command."""

    async def body(bot: Harness) -> None:
        (reply,) = texts(await bot.send(42, "/help"))
        for name in ("start", "stop", "digest", "search", "settings", "feeds", "alert", "alerts"):
            assert f"/{name}" in reply

    play(tmp_path, body)


@pytest.mark.parametrize(
    ("chat_id", "text"),
    [(42, "/weather"), (42, "/frobnicate now"), (42, f"/weather@{BOT_NAME}"),
     (-500, f"/weather@{BOT_NAME}")],
)  # fmt: skip
def test_unknown_commands_get_a_short_answer(tmp_path: Path, chat_id: int, text: str) -> None:
    """An unknown command is named and /help suggested."""

    async def body(bot: Harness) -> None:
        (reply,) = texts(await bot.send(chat_id, text))
        assert reply.startswith("I don't know /")
        assert "/help" in reply

    play(tmp_path, body)


def test_unknown_commands_in_groups_without_the_bot_name_may_be_another_bots(
    tmp_path: Path,
) -> None:
    """In a group, /weather without @botname is left for the bot that has it."""

    async def body(bot: Harness) -> None:
        assert texts(await bot.send(-500, "/weather")) == []

    play(tmp_path, body)


def test_plain_text_in_a_private_chat_points_at_search_and_help(tmp_path: Path) -> None:
    """A message that is no command gets a one-line pointer; in groups, nothing."""

    async def body(bot: Harness) -> None:
        assert "/search" in texts(await bot.send(42, "hello there"))[0]
        assert texts(await bot.send(-500, "hello there")) == []

    play(tmp_path, body)


@pytest.mark.parametrize(
    "data",
    ["", "zz", "st:nowhere", "tm:d99", "tz:Mars/Base", "it:0", "it:999", "fd:nothex",
     "fd:0123456789", "al:rm:x", "s:1:", "s:99999999:x", "em:loud", "x" * 80],
)  # fmt: skip
def test_unknown_or_stale_buttons_are_answered_politely(tmp_path: Path, data: str) -> None:
    """Callback data no current button carries gets a polite answer and changes nothing."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        before = bot.services.chats.get(42)
        calls = await bot.press(42, data)
        assert len(answers(calls)) == 1
        assert "edit" not in " ".join(c.method for c in calls).lower() or data == "fd:0123456789"
        assert bot.services.chats.get(42) == before

    play(tmp_path, body)


def test_a_settings_button_in_an_unsubscribed_chat_points_at_start(tmp_path: Path) -> None:
    """A settings button pressed where nobody subscribed says to send /start."""

    async def body(bot: Harness) -> None:
        (answer,) = answers(await bot.press(42, encode_button(ShowScreen("times"))))
        assert "/start" in answer

    play(tmp_path, body)


def test_a_blocked_chat_is_deactivated_and_gets_no_more_digests(tmp_path: Path) -> None:
    """403 on a digest: the chat is paused and left out of later ticks."""

    async def body(bot: Harness) -> None:
        bot.add_articles(FLOOD)
        await bot.send(42, "/start")
        bot.request.blocked.add(42)
        await bot.send(42, "/digest")
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        assert not prefs.active
        assert bot.runtime.digests.queue.due_at(Target(42)) is None

    play(tmp_path, body)


def test_a_group_that_became_a_supergroup_keeps_its_subscription(tmp_path: Path) -> None:
    """The migration service message moves settings and alerts to the new chat id."""

    async def body(bot: Harness) -> None:
        await bot.send(-500, "/start")
        await bot.send(-500, "/alert flood")
        migrated = {
            "message_id": 9,
            "date": int(NOW.timestamp()),
            "chat": {"id": -500, "type": "group", "title": "G"},
            "migrate_to_chat_id": -1009,
        }
        await bot.update({"message": migrated})
        assert bot.services.chats.get(-500) is None
        moved = bot.services.chats.get(-1009)
        assert moved is not None
        assert moved.active
        assert [a.words for a in bot.services.chats.alerts(-1009)] == ["flood"]

    play(tmp_path, body)


def test_an_unexpected_failure_is_logged_and_the_chat_told(tmp_path: Path) -> None:
    """A handler that fails tells the chat something went wrong, briefly."""

    async def body(bot: Harness) -> None:
        bot.index.close()
        reply = texts(await bot.send(42, "/search flood"))
        assert reply == ["Sorry, something went wrong on my side. Please try again in a moment."]

    play(tmp_path, body)


def test_chats_persist_prefs_alerts_and_marks_across_reopening() -> None:
    """Preferences, alerts and marks are read back from the store's state after a restart."""
    volume = MemoryVolume()
    chats = Chats(Store.in_memory(volume).chat_store)

    prefs = new_chat_prefs(42, NOW, PrefsDefaults())
    chats.put(prefs.changed(NOW, empty_digest=EmptyDigest.SILENT))
    chats.add_alert(42, "  flood   relief ", NOW)
    chats.set_mark("alerts_checked", NOW)
    again = Chats(Store.in_memory(volume).chat_store)
    assert again.get(42) == prefs.changed(NOW, empty_digest=EmptyDigest.SILENT)
    assert [a.words for a in again.alerts(42)] == ["flood relief"]
    assert again.mark("alerts_checked") == NOW
    with pytest.raises(ValueError, match="belongs to the store"):
        Store.in_memory(volume).state_table("feeds")


def test_log_lines_never_show_the_token() -> None:
    """The run's log formatter blanks the token in messages, arguments and tracebacks."""
    token = "4242:SecretPartOfTheToken"
    formatter = RedactingFormatter([token, token.split(":")[1]], "%(message)s")
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/getMe failed")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "url %s", (f"/bot{token}/x",), sys.exc_info()
        )
    line = formatter.format(record)
    assert "SecretPartOfTheToken" not in line
    assert "[token]" in line
    assert "RuntimeError" in line
