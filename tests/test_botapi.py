"""The loopback Bot API server speaks Telegram well enough for a real python-telegram-bot 22."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.support.botapi import BotApiServer, Member
from tests.support.telegram_markup import parse_telegram_html


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    """A fresh loopback Bot API for each test."""
    with BotApiServer() as running:
        yield running


def application(
    server: BotApiServer, *, retries: int = 0
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A real PTB Application pointed at the loopback server."""
    builder: Any = (
        Application.builder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .get_updates_read_timeout(3)
    )
    if retries:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=retries))
    app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
    return app


def run(server: BotApiServer, body: Callable[[Bot], Awaitable[None]], *, retries: int = 0) -> None:
    """Run body(bot) inside an initialised Application."""

    async def main() -> None:
        async with application(server, retries=retries) as app:
            await body(app.bot)

    asyncio.run(main())


async def until(server: BotApiServer, condition: Callable[[], Any]) -> Any:
    """Wait (off the event loop) until the server has seen what the test expects."""
    return await asyncio.to_thread(server.wait_for, condition, 5.0)


def test_get_me_describes_the_bot(server: BotApiServer) -> None:
    """getMe gives PTB a bot user with is_bot and a username."""

    async def body(bot: Bot) -> None:
        me = await bot.get_me()
        assert me.is_bot
        assert me.username == "newsbot_test_bot"
        assert me.id == server.bot_id

    run(server, body)
    assert {c.status for c in server.calls_to("getMe")} == {200}


def test_a_wrong_token_is_refused_like_telegram(server: BotApiServer) -> None:
    """A token the server does not know gets 401, which PTB reports as InvalidToken."""

    async def main() -> None:
        async with Bot("42:not-the-token", base_url=server.base_url) as bot:
            await bot.get_me()

    with pytest.raises(InvalidToken):
        asyncio.run(main())
    assert server.calls == []


def test_commands_and_buttons_reach_handlers_through_long_polling(server: BotApiServer) -> None:
    """/start reaches a CommandHandler; a button press is answered and edits the message."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greets with a button."""
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:2")]])
        await update.effective_message.reply_text(
            "<b>Welcome</b>", parse_mode="HTML", reply_markup=keyboard
        )

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers the button and edits the message."""
        query = update.callback_query
        assert query is not None
        await query.answer("Page 2")
        await query.edit_message_text(f"Page {(query.data or '').split(':')[1]}")

    async def main() -> None:
        app = application(server)
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(more))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            server.send_user_message(42, "/start")
            server.send_user_message(-500, "/start@newsbot_test_bot")
            await until(server, lambda: server.sent_texts(42) and server.sent_texts(-500))
            message_id = server.sent(42)[0]["message_id"]
            server.press_button(42, message_id, "more:2")
            await until(server, lambda: server.sent_texts(42) == ["Page 2"])
            await app.updater.stop()
            await app.stop()

    asyncio.run(main())
    assert server.sent_texts(-500) == ["Welcome"]
    assert [a["text"] for a in server.callback_answers] == ["Page 2"]
    assert server.sent(42)[0].get("edit_date")
    assert server.pending_updates() == 0


def test_a_flood_limit_is_waited_out_and_the_message_sent_once(server: BotApiServer) -> None:
    """A 429 with retry_after is retried by PTB's rate limiter; the chat gets the text once."""
    server.fail("sendMessage", chat_id=7, retry_after_s=1, times=1)

    async def body(bot: Bot) -> None:
        await bot.send_message(7, "hello")

    run(server, body, retries=2)
    assert [c.status for c in server.calls_to("sendMessage", 7)] == [429, 200]
    assert server.sent_texts(7) == ["hello"]


@pytest.mark.parametrize("chat_id", [8, -800])
def test_a_blocked_chat_is_forbidden(server: BotApiServer, chat_id: int) -> None:
    """Sending to a user who blocked the bot (or a group that kicked it) raises Forbidden."""
    server.block(chat_id)

    async def body(bot: Bot) -> None:
        with pytest.raises(Forbidden, match="Forbidden: bot was"):
            await bot.send_message(chat_id, "hello")
        server.unblock(chat_id)
        await bot.send_message(chat_id, "again")

    run(server, body)
    assert server.sent_texts(chat_id) == ["again"]


@pytest.mark.parametrize(
    "text", ["<foo>x</foo>", "<b>open", "a & b", '<a href="javascript:x">x</a>', "&nbsp;"]
)
def test_html_telegram_rejects_is_a_parse_error(server: BotApiServer, text: str) -> None:
    """Markup outside Telegram's HTML subset fails with "can't parse entities" as in production."""

    async def body(bot: Bot) -> None:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(9, text, parse_mode="HTML")
        await bot.send_message(9, text)

    run(server, body)
    assert server.sent_texts(9) == [text]


def test_a_scripted_parse_error_is_bad_request(server: BotApiServer) -> None:
    """An injected 400 entity error reaches the bot as BadRequest, then the next send works."""
    server.fail("sendMessage", chat_id=9, times=1)

    async def body(bot: Bot) -> None:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(9, "<b>fine</b>", parse_mode="HTML")
        await bot.send_message(9, "<b>fine</b>", parse_mode="HTML")

    run(server, body)
    assert server.sent_texts(9) == ["fine"]


def test_a_migrated_group_raises_chat_migrated_with_the_new_id(server: BotApiServer) -> None:
    """After a group becomes a supergroup, sends to the old id raise ChatMigrated."""
    server.migrate_group(-600, -1000000000600)

    async def body(bot: Bot) -> None:
        with pytest.raises(ChatMigrated) as raised:
            await bot.send_message(-600, "hello")
        assert raised.value.new_chat_id == -1000000000600
        await bot.send_message(raised.value.new_chat_id, "hello")
        updates = await bot.get_updates(timeout=0)
        assert [u.message.migrate_to_chat_id for u in updates if u.message][:1] == [-1000000000600]

    run(server, body)
    assert server.sent_texts(-1000000000600) == ["hello"]


def test_a_dropped_connection_is_a_network_error(server: BotApiServer) -> None:
    """A connection closed without an answer is a NetworkError; the next call goes through."""
    server.fail("sendMessage", chat_id=10, drop=True, times=1)

    async def body(bot: Bot) -> None:
        with pytest.raises(NetworkError):
            await bot.send_message(10, "lost")
        await bot.send_message(10, "kept")

    run(server, body)
    assert server.sent_texts(10) == ["kept"]
    assert len(server.calls_to("sendMessage", 10)) == 2


def test_an_unknown_method_is_a_bad_request_not_a_bad_token(server: BotApiServer) -> None:
    """Methods the server does not know answer 400 in the Bot API envelope."""

    async def body(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="not supported"):
            await bot.do_api_request("sendPigeon", api_kwargs={"chat_id": 1})

    run(server, body)


def test_the_command_menu_round_trips(server: BotApiServer) -> None:
    """setMyCommands stores the menu that getMyCommands and the test read back."""

    async def body(bot: Bot) -> None:
        await bot.set_my_commands([("start", "Subscribe"), ("search", "Search the archive")])
        commands = await bot.get_my_commands()
        assert [c.command for c in commands] == ["start", "search"]

    run(server, body)
    assert server.commands == [
        {"command": "start", "description": "Subscribe"},
        {"command": "search", "description": "Search the archive"},
    ]


def test_a_document_upload_is_kept_for_the_test(server: BotApiServer) -> None:
    """sendDocument's multipart upload arrives whole, with its name and caption."""
    data = b'<?xml version="1.0"?><opml version="2.0"><body/></opml>'

    async def body(bot: Bot) -> None:
        message = await bot.send_document(11, document=data, filename="feeds.opml", caption="Feeds")
        assert message.document is not None
        assert server.file(message.document.file_id) == ("feeds.opml", data)

    run(server, body)
    assert server.sent_texts(11) == ["Feeds"]


def test_too_long_and_empty_messages_are_refused(server: BotApiServer) -> None:
    """More than 4096 UTF-16 units of text (emoji count twice), or none, is a BadRequest."""

    async def body(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(12, "😀" * 2049)
        await bot.send_message(12, "<b>" + "😀" * 2048 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="empty"):
            await bot.send_message(12, "<b> </b>", parse_mode="HTML")

    run(server, body)
    assert len(server.sent_texts(12)) == 1


def test_deleting_and_editing_missing_messages_fail_like_telegram(server: BotApiServer) -> None:
    """Editing or deleting a message that is not there is a BadRequest; unchanged edits too."""

    async def body(bot: Bot) -> None:
        sent = await bot.send_message(13, "one")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("one", chat_id=13, message_id=sent.message_id)
        await bot.edit_message_reply_markup(
            chat_id=13,
            message_id=sent.message_id,
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x")]]),
        )
        assert await bot.delete_message(13, sent.message_id)
        with pytest.raises(BadRequest, match="not found"):
            await bot.delete_message(13, sent.message_id)
        with pytest.raises(BadRequest, match="not found"):
            await bot.edit_message_text("two", chat_id=13, message_id=sent.message_id)

    run(server, body)
    assert server.sent_texts(13) == []


def test_html_parser_gives_the_text_telegram_shows() -> None:
    """The server's parse of Telegram HTML decodes entities and drops tags."""
    assert parse_telegram_html('<b>a &amp; <a href="https://x.org">b</a></b> &#128512;') == (
        "a & b 😀",
        [],
    )


def test_channels_are_checked_like_telegram(server: BotApiServer) -> None:
    """getChat by @username, getChatMember statuses and rights, and a post refused once the
    bot lost "Post messages"; a channel post comes from the channel, not the bot."""
    server.world.add_channel(-1009, "Daily Wire", username="dailywire", creator=7, admins=(8,))

    async def body(bot: Bot) -> None:
        chat = await bot.get_chat("@DailyWire")
        assert (chat.id, chat.type, chat.title) == (-1009, "channel", "Daily Wire")
        me = await bot.get_chat_member(-1009, server.bot_id)
        assert isinstance(me, ChatMemberAdministrator)
        assert me.can_post_messages
        assert (await bot.get_chat_member(-1009, 7)).status == "creator"
        assert (await bot.get_chat_member(-1009, 9)).status == "left"
        posted = await bot.send_message(-1009, "News")
        assert posted.sender_chat is not None
        assert posted.from_user is None
        server.set_bot_status(-1009, Member("administrator"), by_user=7)
        with pytest.raises(BadRequest, match=r"(?i)need administrator rights"):
            await bot.send_message(-1009, "More news")
        server.set_bot_status(-1009, Member("kicked"), by_user=7)
        with pytest.raises(Forbidden):
            await bot.send_message(-1009, "More news")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.get_chat("@nosuchchannel")

    run(server, body)
    assert server.sent_texts(-1009) == ["News"]
    changes = [u["my_chat_member"] for u in server._state.updates if "my_chat_member" in u]
    assert [c["new_chat_member"]["status"] for c in changes] == ["administrator", "kicked"]


def test_forum_topics_take_posts_until_closed_or_deleted(server: BotApiServer) -> None:
    """A post with message_thread_id lands in its topic; a closed topic answers TOPIC_CLOSED,
    a deleted one "message thread not found"."""
    server.world.add_group(-1008, "Forum", forum=True)
    world = server.open_topic(-1008, "World")
    sport = server.open_topic(-1008, "Sport")

    async def body(bot: Bot) -> None:
        posted = await bot.send_message(-1008, "Hello", message_thread_id=world)
        assert posted.is_topic_message
        assert posted.message_thread_id == world
        server.close_topic(-1008, world)
        with pytest.raises(BadRequest, match=r"(?i)topic_closed"):
            await bot.send_message(-1008, "Again", message_thread_id=world)
        server.close_topic(-1008, sport, deleted=True)
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(-1008, "Again", message_thread_id=sport)
        await bot.send_message(-1008, "General")

    run(server, body)
    assert server.sent_texts(-1008) == ["Hello", "General"]
    assert [m["text"] for m in server.sent(-1008, world)] == ["Hello"]


def test_inline_queries_are_answered_once_within_telegrams_limits(server: BotApiServer) -> None:
    """answerInlineQuery is recorded; a second answer or a repeated result id is refused."""
    query_id = server.send_inline_query(7, "flood")

    async def body(bot: Bot) -> None:
        content = InputTextMessageContent("<b>Flood</b>", parse_mode="HTML")
        twice = [
            InlineQueryResultArticle("a", "A", content),
            InlineQueryResultArticle("a", "B", content),
        ]
        with pytest.raises(BadRequest, match=r"(?i)result_id_invalid"):
            await bot.answer_inline_query(query_id, twice)
        await bot.answer_inline_query(query_id, twice[:1], next_offset="10")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_inline_query(query_id, twice[:1])

    run(server, body)
    answer = server.inline_answer(query_id)
    assert answer is not None
    assert answer["next_offset"] == "10"
    server.choose_inline_result(query_id, "a", chat_id=-500)
    assert [m["text"] for m in server._state.messages.values() if m.get("via_bot")] == ["Flood"]
