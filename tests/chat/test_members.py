"""The bot's own membership changes (my_chat_member), through PTB's request seam
(tests/support/botharness.py): hello, pause at once, the channel set-up offered."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.config import BotSettings
from bot.delivery.target import Target
from tests.support.botharness import BOT_ID, NOW, Harness, texts

GROUP, CHANNEL = -1001500, -1001900
BOT = {"id": BOT_ID, "is_bot": True, "first_name": "Newsbot"}
ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
    "can_delete_messages": True, "can_manage_video_chats": True, "can_restrict_members": True,
    "can_promote_members": False, "can_change_info": True, "can_invite_users": True,
    "can_post_stories": True, "can_edit_stories": True, "can_delete_stories": True,
}  # fmt: skip


def change(chat: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A my_chat_member update: user 7 changed the bot's status in the chat."""
    return {"my_chat_member": {
        "chat": chat, "from": {"id": 7, "is_bot": False, "first_name": "Ana"},
        "date": int(NOW.timestamp()),
        "old_chat_member": {"user": BOT, **old}, "new_chat_member": {"user": BOT, **new},
    }}  # fmt: skip


def play(tmp_path: Path, body: Any) -> None:
    async def main() -> None:
        async with Harness(tmp_path, bot=BotSettings(group_admins_only=False)) as bot:
            await body(bot)

    asyncio.run(main())


def test_a_group_gets_a_hello_and_pauses_at_once_when_the_bot_is_removed(tmp_path: Path) -> None:
    """Added: a hello naming who configures it. Removed: the group and its topics pause at
    once, and nothing more goes there."""
    group = {"id": GROUP, "type": "supergroup", "title": "Readers", "is_forum": True}

    async def body(bot: Harness) -> None:
        (hello,) = texts(await bot.update(change(group, {"status": "left"}, {"status": "member"})))
        assert "admins can send /start" in hello
        await bot.send(GROUP, "/start")
        await bot.send(GROUP, "/start", thread_id=7)
        kicked = {"status": "kicked", "until_date": 0}
        removed = await bot.update(change(group, {"status": "member"}, kicked))
        assert texts(removed) == []
        for target in (Target(GROUP), Target(GROUP, 7)):
            prefs = bot.services.chats.get(target)
            assert prefs is not None
            assert not prefs.active
            assert prefs.paused == "removed"
            assert bot.runtime.digests.queue.due_at(target) is None

    play(tmp_path, body)


def test_a_channel_admin_who_adds_the_bot_is_offered_the_set_up_not_subscribed(
    tmp_path: Path,
) -> None:
    """Made an admin with "Post messages": nothing is subscribed; the user who did it gets a
    set-up button in their private chat. Without the right: nothing is offered."""
    channel = {"id": CHANNEL, "type": "channel", "title": "Daily Wire"}
    admin = {"status": "administrator", **ADMIN_RIGHTS, "can_post_messages": True}
    mute = {"status": "administrator", **ADMIN_RIGHTS, "can_post_messages": False}

    async def body(bot: Harness) -> None:
        silent = await bot.update(change(channel, {"status": "left"}, mute))
        assert texts(silent) == []
        calls = await bot.update(change(channel, mute, admin))
        (offer,) = [c for c in calls if c.method == "sendMessage"]
        assert offer.chat_id == 7
        assert "Daily Wire" in offer.text
        assert [label for label, _ in offer.buttons] == ["📣 Set up Daily Wire"]
        assert bot.services.chats.get(CHANNEL) is None

    play(tmp_path, body)
