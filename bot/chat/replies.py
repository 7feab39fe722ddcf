"""How handlers answer: a message in the chat the update came from, with inline buttons."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import RetryAfter

from bot.chat.settings_ui import Row, Screen
from bot.logfields import fields

log = logging.getLogger("newsbot.replies")

MAX_REPLY_WAIT_S = 30.0


def keyboard(rows: Sequence[Row]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def reply(
    update: Update,
    text: str,
    *,
    html: bool = True,
    rows: Sequence[Row] = (),
    image: str | None = None,
) -> Message | None:
    """Answer in the chat the update came from (HTML unless ``html`` is False); ``image``:
    a picture to preview under the text (no link preview otherwise)."""
    message = update.effective_message
    if message is None:
        return None
    for attempt in range(2):
        try:
            return await message.reply_text(
                text,
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=image_preview(image),
                reply_markup=keyboard(rows),
                do_quote=False,
            )
        except RetryAfter as exc:  # flood control: wait as told, once, then give up
            wait_s = _seconds(exc.retry_after)
            if attempt or wait_s > MAX_REPLY_WAIT_S:
                raise
            log.warning("reply rate limited %s", fields(chat=message.chat_id, wait_s=wait_s))
            await asyncio.sleep(wait_s)
    return None


def image_preview(image: str | None) -> LinkPreviewOptions:
    """A small preview of the picture at ``image`` under the text; None: no preview."""
    if not image:
        return LinkPreviewOptions(is_disabled=True)
    return LinkPreviewOptions(url=image, prefer_small_media=True, show_above_text=False)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def reply_screen(update: Update, screen: Screen) -> None:
    await reply(update, screen.text, rows=screen.rows)
