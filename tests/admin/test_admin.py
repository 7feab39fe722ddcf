"""The admins' commands and notices through PTB's request seam (tests/botharness.py), with a
real feeds.toml in a temporary folder and feed checks answered by ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.admin.desk import AdminDesk
from bot.chat.buttons import AdminPick, ImportAnswer, encode_button, name_key
from bot.config import BotSettings, Settings, load_config, parse_feeds, parse_settings
from bot.errors import ConfigFileError
from bot.ingest.fetch import Fetcher, FetchSettings
from bot.models import FeedState
from tests.support.botharness import NOW, Harness, answers, texts
from tests.support.feedgen import Item, rss

ADMIN = 7
OTHER = 8
FEEDS_TOML = """\
# Our feeds. Keep this comment.

# The wire service.
[[feeds]]
name = "World Wire"
url = "https://example.org/world.xml"
topic = "world"

[[feeds]]
name = "Daily Planet"  # a rival
url = "https://example.org/planet.xml"
topic = "world"

[[feeds]]
name = "Sport Desk"
url = "https://example.org/sport.xml"
topic = "sport"
"""
NEW_FEED = rss(
    [
        Item("n1", "Harbour reopens", "http://127.0.0.1/harbour", NOW - timedelta(hours=2)),
        Item("n2", "Bridge vote today", "http://127.0.0.1/bridge", NOW - timedelta(hours=1)),
    ],
    title="Harbour Gazette",
)

Body = Callable[[Harness], Awaitable[None]]


def feed_server(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/gazette.xml":
        return httpx.Response(
            200, content=NEW_FEED, headers={"Content-Type": "application/rss+xml"}
        )
    return httpx.Response(404)


def play(tmp_path: Path, body: Body, **bot: Any) -> None:
    """Run ``body`` against a bot whose admin is user 7, over tmp_path/feeds.toml."""
    (tmp_path / "feeds.toml").write_text(FEEDS_TOML, encoding="utf-8")

    async def main() -> None:
        settings = BotSettings(**{"admins": (ADMIN,), **bot})
        async with Harness(tmp_path, bot=settings) as harness:
            desk = harness.app.bot_data["admin"]
            client = httpx.AsyncClient(transport=httpx.MockTransport(feed_server))
            desk.fetcher = Fetcher(FetchSettings(), client=client)
            try:
                await body(harness)
            finally:
                await client.aclose()

    asyncio.run(main())


def desk_of(bot: Harness) -> AdminDesk:
    found = bot.app.bot_data["admin"]
    assert isinstance(found, AdminDesk)
    return found


def feeds_text(bot: Harness) -> str:
    return (bot.data_dir / "feeds.toml").read_text(encoding="utf-8")


def names(bot: Harness) -> list[str]:
    return [f.name for f in desk_of(bot).feeds]


# -- who may ---------------------------------------------------------------------------------

COMMANDS = [
    "/addfeed http://127.0.0.1/gazette.xml",
    "/removefeed World Wire",
    "/pausefeed World Wire",
    "/resumefeed World Wire",
    "/renamefeed World Wire -> Wire",
    "/setinterval World Wire 15",
    "/reload",
    "/feedstatus",
    "/stats",
    "/export",
    "/import",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_non_admin_gets_one_polite_line_and_nothing_changes(
    tmp_path: Path, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Every admin command refuses anyone else in one line, changes nothing, logs the try
    with the user and the command name only."""

    async def body(bot: Harness) -> None:
        with caplog.at_level(logging.INFO, logger="newsbot.admin"):
            calls = await bot.send(OTHER, command)
        name = command.split()[0][1:]
        assert texts(calls) == [f"Sorry, only the bot's admins can use /{name}."]
        assert [c.method for c in calls] == ["sendMessage"]
        assert feeds_text(bot) == FEEDS_TOML
        assert names(bot) == ["World Wire", "Daily Planet", "Sport Desk"]
        logged = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert logged == [f"admin command refused user={OTHER} command={name}"]
        assert "World" not in logged[0]

    play(tmp_path, body)


def test_an_admin_in_a_group_is_still_an_admin_and_a_group_member_is_not(
    tmp_path: Path,
) -> None:
    """The admin list is by user id, whatever the chat."""

    async def body(bot: Harness) -> None:
        (refused,) = texts(await bot.send(-500, "/stats", user_id=OTHER))
        assert "only the bot's admins" in refused
        (shown,) = texts(await bot.send(-500, "/stats", user_id=ADMIN))
        assert shown.startswith("Chats:")

    play(tmp_path, body)


# -- changing the feeds ------------------------------------------------------------------------


def test_addfeed_checks_the_feed_shows_it_and_adds_it_keeping_comments(tmp_path: Path) -> None:
    """/addfeed fetches the feed, shows its title and latest entry, appends it, applies it."""

    async def body(bot: Harness) -> None:
        (answer,) = texts(await bot.send(ADMIN, "/addfeed http://127.0.0.1/gazette.xml #local"))
        assert "Feed: Harbour Gazette — 2 entries" in answer
        assert "Latest: Bridge vote today" in answer
        assert "added Harbour Gazette (http://127.0.0.1/gazette.xml)" in answer
        assert names(bot)[-1] == "Harbour Gazette"
        assert desk_of(bot).feeds[-1].topic == "local"
        text = feeds_text(bot)
        assert text.startswith(FEEDS_TOML.split("[[feeds]]")[0])
        assert "# a rival" in text
        assert bot.services.feeds[-1].name == "Harbour Gazette"  # /feeds offers it at once

    play(tmp_path, body, allow_private_feeds=True)


def test_addfeed_refuses_private_addresses_unless_settings_allow_them(tmp_path: Path) -> None:
    """A loopback address cannot be added from chat by default."""

    async def body(bot: Harness) -> None:
        (answer,) = texts(await bot.send(ADMIN, "/addfeed http://127.0.0.1/gazette.xml"))
        assert "private or local network" in answer
        assert "allow_private_feeds = true" in answer
        assert feeds_text(bot) == FEEDS_TOML

    play(tmp_path, body)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/addfeed https://example.org/world.xml", "Not added: this feed is in the list already"),
        ("/addfeed", "Usage: /addfeed <url> [name] [#topic]"),
        ("/addfeed ftp://example.org/x", "is not an http:// or https:// address"),
        ("/addfeed http://127.0.0.1/missing.xml", "the server answered HTTP 404"),
    ],
)
def test_addfeed_refuses_duplicates_bad_addresses_and_broken_feeds(
    tmp_path: Path, command: str, expected: str
) -> None:
    """Nothing is written when the feed cannot be added; the answer says why."""

    async def body(bot: Harness) -> None:
        if "example.org" in command:  # a duplicate: the check passes, the list refuses it
            desk_of(bot).fetcher = Fetcher(
                FetchSettings(),
                client=httpx.AsyncClient(
                    transport=httpx.MockTransport(lambda r: httpx.Response(200, content=NEW_FEED))
                ),
            )
        (answer,) = texts(await bot.send(ADMIN, command))
        assert expected in answer
        assert feeds_text(bot) == FEEDS_TOML

    play(tmp_path, body, allow_private_feeds=True)


@pytest.mark.parametrize(
    ("command", "expected", "check"),
    [
        ("/removefeed daily", "removed Daily Planet", lambda t: "Daily Planet" not in t),
        ("/pausefeed sport desk", "Sport Desk: paused", lambda t: "enabled = false" in t),
        ("/setinterval World Wire 15", "interval default", lambda t: "interval_minutes = 15" in t),
        (
            "/renamefeed World Wire -> Global Wire",
            "renamed from World Wire",
            lambda t: "Global" in t,
        ),
    ],
)
def test_feed_commands_edit_the_file_apply_it_and_say_what_changed(
    tmp_path: Path, command: str, expected: str, check: Callable[[str], bool]
) -> None:
    """Each command changes feeds.toml (comments kept), the feeds in force follow."""

    async def body(bot: Harness) -> None:
        (answer,) = texts(await bot.send(ADMIN, command))
        assert answer.startswith("Done. feeds.toml changed:")
        assert expected in answer
        text = feeds_text(bot)
        assert check(text)
        assert "# Our feeds. Keep this comment." in text
        assert desk_of(bot).feeds == desk_of(bot).watcher.feeds
        assert desk_of(bot).feeds == parse_feeds(text)

    play(tmp_path, body)


def test_a_paused_feed_resumes_and_a_renamed_feed_keeps_its_subscribers(tmp_path: Path) -> None:
    """Pause then resume; a chat subscribed to a feed by name follows its rename."""

    async def body(bot: Harness) -> None:
        await bot.send(42, "/start")
        prefs = bot.services.chats.get(42)
        assert prefs is not None
        bot.services.chats.put(prefs.changed(NOW, feeds=("World Wire",)))
        await bot.send(ADMIN, "/pausefeed World Wire")
        (answer,) = texts(await bot.send(ADMIN, "/resumefeed world"))
        assert "World Wire: resumed" in answer
        await bot.send(ADMIN, "/renamefeed World Wire -> Global Wire")
        renamed = bot.services.chats.get(42)
        assert renamed is not None
        assert renamed.feeds == ("Global Wire",)

    play(tmp_path, body)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/removefeed Nowhere", "no feed named 'Nowhere'"),
        ("/setinterval World Wire 0", "the interval must be 1 to 10080 minutes"),
        ("/setinterval World Wire", "Usage: /setinterval"),
        ("/renamefeed Sport", "Usage: /renamefeed"),
        ("/setinterval", "Feeds: World Wire, Daily Planet, Sport Desk"),
        ("/renamefeed World Wire -> Sport Desk", "Sport Desk"),
    ],
)
def test_bad_arguments_get_usage_or_the_feed_list_and_change_nothing(
    tmp_path: Path, command: str, expected: str
) -> None:
    """Unknown feeds list the feeds; bad numbers and missing parts get the usage line."""

    async def body(bot: Harness) -> None:
        (answer,) = texts(await bot.send(ADMIN, command))
        assert expected in answer
        assert not answer.startswith("Done")
        assert feeds_text(bot) == FEEDS_TOML

    play(tmp_path, body)


def test_a_feed_command_without_a_name_offers_buttons_that_do_it(tmp_path: Path) -> None:
    """/pausefeed alone lists the feeds as buttons; pressing one pauses it."""

    async def body(bot: Harness) -> None:
        (call,) = [c for c in await bot.send(ADMIN, "/pausefeed") if c.method == "sendMessage"]
        assert [label for label, _ in call.buttons] == ["World Wire", "Daily Planet", "Sport Desk"]
        data = dict(call.buttons)["Daily Planet"]
        calls = await bot.press(ADMIN, data, user_id=ADMIN)
        edited = texts(calls, "editMessageText")
        assert "Daily Planet: paused" in edited[0]
        assert not next(f for f in desk_of(bot).feeds if f.name == "Daily Planet").enabled
        # Only paused feeds are offered to /resumefeed.
        (offer,) = [c for c in await bot.send(ADMIN, "/resumefeed") if c.method == "sendMessage"]
        assert [label for label, _ in offer.buttons] == ["Daily Planet"]

    play(tmp_path, body)


def test_a_non_admin_pressing_an_admin_button_changes_nothing(tmp_path: Path) -> None:
    """Buttons check the admin list too."""

    async def body(bot: Harness) -> None:
        data = encode_button(AdminPick("remove", name_key("World Wire")))
        calls = await bot.press(OTHER, data, user_id=OTHER)
        assert answers(calls) == ["Sorry, only the bot's admins can do that."]
        assert feeds_text(bot) == FEEDS_TOML
        stale = await bot.press(ADMIN, encode_button(ImportAnswer(True, "ff")), user_id=ADMIN)
        assert "expired" in texts(stale, "editMessageText")[0]

    play(tmp_path, body)


# -- the file edited by hand -------------------------------------------------------------------


def test_reload_applies_a_hand_edit_and_tells_the_other_admins(tmp_path: Path) -> None:
    """/reload reads the file now; the admin who asked gets the answer, other admins a notice."""

    async def body(bot: Harness) -> None:
        path = tmp_path / "feeds.toml"
        path.write_text(FEEDS_TOML.replace("Sport Desk", "Sports"), encoding="utf-8")
        calls = await bot.send(ADMIN, "/reload")
        mine = [c.text for c in calls if c.chat_id == ADMIN]
        assert mine == ["feeds.toml changed:\n- Sports: renamed from Sport Desk"]
        notices = [c.text for c in calls if c.chat_id == 9]
        assert notices == ["feeds.toml changed:\n- Sports: renamed from Sport Desk"]
        (again,) = texts(await bot.send(ADMIN, "/reload"))
        assert again == "feeds.toml is unchanged: 3 feeds in force."

    play(tmp_path, body, admins=(ADMIN, 9))


def test_an_invalid_hand_edit_keeps_the_feeds_and_says_where_it_is_wrong(tmp_path: Path) -> None:
    """A bad file names file, line and key; the feeds in force stay; commands refuse to edit."""

    async def body(bot: Harness) -> None:
        path = tmp_path / "feeds.toml"
        path.write_text(FEEDS_TOML + "\n[[feeds]]\nname = 'X'\nurl = 'gopher://x'\n", "utf-8")
        (answer,) = texts(await bot.send(ADMIN, "/reload"))
        assert answer.startswith("feeds.toml has problems")
        assert f"{path}, line 21" in answer
        assert "url" in answer
        assert names(bot) == ["World Wire", "Daily Planet", "Sport Desk"]
        (refused,) = texts(await bot.send(ADMIN, "/pausefeed World Wire"))
        assert "has problems, so no command changes it" in refused

    play(tmp_path, body)


def test_a_hand_edit_landing_during_a_command_is_kept_with_the_command(tmp_path: Path) -> None:
    """A hand edit between the command's read and write: both changes are in the file."""
    from bot.feedconfig.file import edit_feeds_file
    from bot.feedconfig.text import set_enabled_text

    path = tmp_path / "feeds.toml"
    path.write_text(FEEDS_TOML, encoding="utf-8")
    landed: list[int] = []

    def hand_edit() -> None:
        if not landed:
            landed.append(1)
            path.write_text(path.read_text("utf-8").replace("# a rival", "# the rival"), "utf-8")

    result = edit_feeds_file(
        path, lambda t: set_enabled_text(t, "Sport Desk", False), before_replace=hand_edit
    )
    text = path.read_text("utf-8")
    assert "# the rival" in text
    assert "enabled = false" in text
    assert result.reapplied == 1


# -- health and numbers --------------------------------------------------------------------------


def failing_state(name: str, errors: int) -> FeedState:
    return FeedState(
        url="https://example.org/x",
        consecutive_errors=errors,
        last_error="HTTP 500" if errors else None,
        last_error_at=NOW if errors else None,
        last_success=None if errors else NOW,
    )


def test_a_failing_feed_gets_one_notice_and_one_back_notice(tmp_path: Path) -> None:
    """Three failures in a row: one notice; more failures: silence; success: one notice."""

    async def body(bot: Harness) -> None:
        desk = desk_of(bot)
        sent: list[str] = []
        for errors in (1, 2, 3, 4, 5, 0, 0):
            bot.store.commit_cycle(
                NOW, feed_states={"World Wire": failing_state("World Wire", errors)}
            )
            before = len(bot.request.calls)
            await desk.check_health()
            sent += [c.text for c in bot.request.calls[before:] if c.method == "sendMessage"]
        assert sent == [
            "Feed World Wire is failing (3 polls in a row): HTTP 500",
            "World Wire is back: polled fine.",
        ]

    play(tmp_path, body)


def test_the_announced_failures_survive_a_restart(tmp_path: Path) -> None:
    """A feed announced before a restart is not announced again after it."""
    from bot.store.datadir import Store

    store = Store.in_memory()
    store.commit_cycle(NOW, feed_states={"World Wire": failing_state("World Wire", 4)})

    async def first(bot: Harness) -> None:
        assert await desk_of(bot).check_health() == 1

    async def second(bot: Harness) -> None:
        assert await desk_of(bot).check_health() == 0

    (tmp_path / "feeds.toml").write_text(FEEDS_TOML, encoding="utf-8")

    async def main() -> None:
        for body in (first, second):
            async with Harness(tmp_path, bot=BotSettings(admins=(ADMIN,)), store=store) as h:
                await body(h)

    asyncio.run(main())


def test_feedstatus_and_stats_show_the_numbers(tmp_path: Path) -> None:
    """/feedstatus has a row per feed with its last error; /stats counts chats and feeds."""

    async def body(bot: Harness) -> None:
        bot.store.commit_cycle(NOW, feed_states={"World Wire": failing_state("World Wire", 2)})
        await bot.send(42, "/start")
        await bot.send(ADMIN, "/pausefeed Sport Desk")
        (status,) = texts(await bot.send(ADMIN, "/feedstatus"))
        assert status.startswith("<pre>")
        assert "World Wire [failing]" in status
        assert "2 in a row" in status
        assert "Sport Desk [paused]" in status
        (one,) = texts(await bot.send(ADMIN, "/feedstatus daily"))
        assert "Daily Planet [new]" in one
        assert "World Wire" not in one
        (numbers,) = texts(await bot.send(ADMIN, "/stats"))
        assert "Chats: 1 subscribed, 0 inactive" in numbers
        assert "Feeds: 3 (1 paused), 1 failing now" in numbers

    play(tmp_path, body)


# -- OPML ---------------------------------------------------------------------------------------


def test_export_sends_the_feed_list_as_an_opml_document(tmp_path: Path) -> None:
    """/export uploads an OPML file that reads back as the same feeds."""

    async def body(bot: Harness) -> None:
        calls = await bot.send(ADMIN, "/export")
        (upload,) = [c for c in calls if c.method == "sendDocument"]
        assert "3 feeds" in str(upload.params.get("caption"))

    play(tmp_path, body)


# -- /help and settings --------------------------------------------------------------------------


def test_help_shows_admins_the_admin_commands_and_nobody_else(tmp_path: Path) -> None:
    """An admin's /help adds the admin commands; everyone else's does not mention them."""

    async def body(bot: Harness) -> None:
        (mine,) = texts(await bot.send(ADMIN, "/help"))
        (theirs,) = texts(await bot.send(OTHER, "/help"))
        assert "/addfeed <url> [name] [#topic]" in mine
        assert "/addfeed" not in theirs

    play(tmp_path, body)


def test_admins_come_from_settings_and_the_environment_merged(tmp_path: Path) -> None:
    """[bot] admins and NEWSBOT_ADMINS together, each id once."""
    (tmp_path / "settings.toml").write_text("[bot]\nadmins = [11, 22]\n", encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(FEEDS_TOML, encoding="utf-8")
    config = load_config({"NEWSBOT_CONFIG": str(tmp_path), "NEWSBOT_ADMINS": "22, 33"})
    assert config.settings.bot.admins == (11, 22, 33)
    with pytest.raises(ConfigFileError, match="NEWSBOT_ADMINS: 'bob' is not a Telegram user id"):
        load_config({"NEWSBOT_CONFIG": str(tmp_path), "NEWSBOT_ADMINS": "22,bob"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[bot]\nadmins = ["me"]\n', "line 2, [bot] admins: must be a list of Telegram user ids"),
        ("[bot]\nadmins = 5\n", "line 2, [bot] admins: must be a list"),
        ("[bot]\nallow_private_feeds = 1\n", "line 2, [bot] allow_private_feeds: must be true"),
        ("[bot]\nfailure_notice_after = 0\n", "[bot] failure_notice_after: must be a whole number"),
    ],
)
def test_bad_admin_settings_name_line_and_key(text: str, expected: str) -> None:
    """The new [bot] keys are validated like the others."""
    with pytest.raises(ConfigFileError) as caught:
        parse_settings(text)
    assert any(expected in p for p in caught.value.problems)


def test_admin_settings_have_safe_defaults() -> None:
    """No admins, no private feeds from chat, a notice after 3 failures."""
    bot = Settings().bot
    assert (bot.admins, bot.allow_private_feeds, bot.failure_notice_after) == ((), False, 3)
