"""Inline button presses: search paging, the settings screens, feed toggles, alert removal.

Callback data is untrusted (bot.chat.buttons parses it); a button that no longer means anything
(the bot restarted, a feed was removed, the alert is gone) is answered politely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.admin import commands as admin
from bot.chat.buttons import (
    TIME_PRESETS,
    AdminPick,
    AllFeeds,
    Button,
    CloseMenu,
    ImportAnswer,
    NextDigest,
    RemoveAlert,
    SearchMore,
    SetEmpty,
    SetItems,
    SetPreview,
    SetTimes,
    SetZone,
    ShowScreen,
    ToggleFeed,
    parse_button,
)
from bot.chat.commands import alerts_screen, not_subscribed, search_page
from bot.chat.replies import image_preview, keyboard
from bot.chat.services import (
    ADMINS_ONLY,
    Services,
    may_change,
    save_prefs,
    services,
    target_of,
    too_fast,
)
from bot.chat.settings_ui import Row, Screen, find_name, toggle
from bot.chat.settings_ui import screen as settings_screen
from bot.config import FeedConfig
from bot.delivery.prefs import ChatPrefs, parse_schedule
from bot.delivery.target import Target
from bot.errors import PrefsError
from bot.logfields import fields

log = logging.getLogger("newsbot.callbacks")

STALE = "This button is out of date. Send the command again."


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Act on a pressed inline button; unknown or stale buttons get a polite answer."""
    query = update.callback_query
    if query is None:
        return
    pressed = parse_button(query.data)
    chat_id = target_of(update) if query.message is not None else None
    if pressed is None or chat_id is None:
        log.info("button refused %s", fields(chat=str(chat_id), data=(query.data or "")[:64]))
        await query.answer(STALE)
        return
    if isinstance(pressed, AdminPick | ImportAnswer):
        await admin.press(update, context, pressed)
        return
    s = services(context)
    if isinstance(pressed, SearchMore):
        await _search_more(query, s, chat_id, pressed)
        return
    if isinstance(pressed, NextDigest):
        await _next_digest(query, s, chat_id)
        return
    if not isinstance(pressed, ShowScreen | CloseMenu) and not await may_change(update, context):
        await query.answer(ADMINS_ONLY, show_alert=True)
        return
    if isinstance(pressed, RemoveAlert):
        gone = s.chats.remove_alert(chat_id, pressed.alert_id)
        await query.answer(f"Removed: {gone.words}" if gone else "That alert was removed already.")
        text, rows = alerts_screen(s.chats, chat_id)
        await edit(query, text, rows)
        return
    prefs = s.chats.get(chat_id)
    if prefs is None or not prefs.active:
        await query.answer(not_subscribed(prefs), show_alert=True)
        return
    await settings_button(query, s, prefs, pressed)


async def _search_more(
    query: CallbackQuery, s: Services, chat_id: Target, pressed: SearchMore
) -> None:
    if pressed.query is not None:
        words: str | None = pressed.query
    else:
        words = s.searches.get(chat_id, pressed.ref or "")
    if words is None:
        await query.answer("That search has expired; send /search again.")
        return
    wait_s = s.search_limits.wait_s(query.from_user.id)
    if wait_s:
        await query.answer(too_fast(wait_s), show_alert=True)
        return
    text, rows, image = await search_page(s, chat_id, words, pressed.offset)
    await query.answer()
    await edit(query, text, rows, image=image)


async def _next_digest(query: CallbackQuery, s: Services, chat_id: Target) -> None:
    """The stories the digest held back, now; the pressed button goes (it has done its job)."""
    prefs = s.chats.get(chat_id)
    if prefs is not None and prefs.is_channel:  # never offered in a channel: forged
        await query.answer(STALE)
        return
    if prefs is None or not prefs.active:
        await query.answer(not_subscribed(prefs), show_alert=True)
        return
    await query.answer()
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as exc:  # the message is too old to edit, or has no button any more
        log.info("digest button kept %s", fields(chat=chat_id.key, error=str(exc)[:80]))
    await s.digests.send_digest(chat_id, s.clock())


ScreenFor = Callable[[str, ChatPrefs], Screen]


async def settings_button(
    query: CallbackQuery,
    s: Services,
    prefs: ChatPrefs,
    pressed: Button,
    show: ScreenFor | None = None,
) -> None:
    """Apply a settings button to ``prefs`` and show the screen it leads to (``show``: how a
    screen looks, by name; a channel's carry its name and bound buttons)."""
    now = s.clock()
    feeds = s.feeds

    def screen(name: str, prefs: ChatPrefs, feeds: Sequence[FeedConfig]) -> Screen:
        return show(name, prefs) if show is not None else settings_screen(name, prefs, feeds)

    changed: ChatPrefs | None = None
    back_to = "main"
    note = ""
    try:
        if isinstance(pressed, ShowScreen):
            await query.answer()
            await _show(query, screen(pressed.screen, prefs, feeds))
            return
        if isinstance(pressed, CloseMenu):
            await query.answer()
            done = screen("main", prefs, feeds).text.split("\n\n")[0]
            await edit(query, done, [])
            return
        if isinstance(pressed, SetTimes):
            text = TIME_PRESETS[pressed.preset][1]
            changed = prefs.changed(
                now, schedule=parse_schedule(text, time_zone=prefs.time_zone, now=now)
            )
        elif isinstance(pressed, SetZone):
            changed = prefs.changed(now, time_zone=pressed.zone)
        elif isinstance(pressed, SetItems):
            changed = prefs.changed(now, items_per_digest=pressed.count)
        elif isinstance(pressed, SetEmpty):
            changed = prefs.changed(now, empty_digest=pressed.mode)
        elif isinstance(pressed, SetPreview):
            changed = prefs.changed(now, link_preview=pressed.mode)
        elif isinstance(pressed, ToggleFeed):
            name = find_name(pressed.key, is_topic=pressed.is_topic, feeds=feeds)
            if name is None:
                await query.answer("That feed is no longer offered.")
                await _show(query, screen("feeds", prefs, feeds))
                return
            changed = toggle(prefs, name, is_topic=pressed.is_topic, feeds=feeds, now=now)
            back_to = "feeds"
        elif isinstance(pressed, AllFeeds):
            changed = prefs.changed(now, feeds=(), topics=())
            back_to = "feeds"
            note = "You read every feed again."
    except PrefsError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    if changed is None:
        await query.answer(STALE)
        return
    save_prefs(s, changed)
    log.info("settings changed %s", fields(chat=changed.target.key, by="button"))
    await query.answer(note or "Saved.")
    await _show(query, screen(back_to, changed, feeds))


async def _show(query: CallbackQuery, shown: Screen) -> None:
    await edit(query, shown.text, shown.rows)


async def edit(
    query: CallbackQuery,
    text: str,
    rows: list[Row] | tuple[Row, ...],
    *,
    image: str | None = None,
) -> None:
    """Replace the pressed message's text and buttons (unchanged content is fine); ``image``:
    a picture to preview under it."""
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rows),
            link_preview_options=image_preview(image),
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
