"""The admins' OPML commands: /export sends the feed list as a file; /import (or an OPML file
sent to the bot) previews what the file would add, and the admin's confirm or cancel button
answers it (``answer_import``, reached through ``bot.admin.commands.press``)."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.admin.access import admins_only
from bot.admin.desk import AdminDesk, admin_desk
from bot.admin.feeds import PRIVATE_HINT, apply_edit
from bot.chat.buttons import ImportAnswer, encode_button
from bot.chat.replies import reply
from bot.chat.settings_ui import Row
from bot.errors import FeedError, OpmlError
from bot.feedconfig.file import add_feeds
from bot.feedconfig.opml import (
    MAX_OPML_BYTES,
    ImportPlan,
    OpmlFeed,
    feeds_to_opml,
    format_plan,
    plan_import,
    read_opml,
)
from bot.ingest.addresses import ensure_public_url

EXPORT_NAME = "newsbot-feeds.opml"


@admins_only("export")
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk) -> None:
    """Send the feed list as an OPML file."""
    message = update.effective_message
    if message is None:
        return
    text = feeds_to_opml(desk.feeds, now=desk.clock())
    await message.reply_document(
        InputFile(text.encode("utf-8"), filename=EXPORT_NAME),
        caption=f"{len(desk.feeds)} feeds. /import takes this file back.",
        do_quote=False,
    )


@admins_only("import")
async def import_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk
) -> None:
    """Ask for the OPML file (or take it when it came with the command as its caption)."""
    message = update.effective_message
    if message is None:
        return
    if message.document is not None:
        await _import_document(update, context, desk)
        return
    desk.awaiting_import.add(message.chat_id)
    await reply(
        update,
        "Send the OPML file now (as a file). I will show what it would add before anything "
        "changes.",
        html=False,
    )


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file: an OPML import when it came with /import, after /import, or is named .opml."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    desk = admin_desk(context.application.bot_data)
    caption = (message.caption or "").strip()
    name = (message.document.file_name or "").lower()
    wanted = (
        caption.startswith("/import")
        or message.chat_id in desk.awaiting_import
        or name.endswith(".opml")
    )
    if not wanted:
        return
    await _checked_import(update, context)


@admins_only("import")
async def _checked_import(
    update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk
) -> None:
    await _import_document(update, context, desk)


async def _import_document(
    update: Update, context: ContextTypes.DEFAULT_TYPE, desk: AdminDesk
) -> None:
    message = update.effective_message
    assert message is not None
    assert message.document is not None
    desk.awaiting_import.discard(message.chat_id)
    size = message.document.file_size or 0
    if size > MAX_OPML_BYTES:
        await reply(update, f"That file is too large for OPML ({size} bytes).", html=False)
        return
    file = await message.document.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        outlines = await asyncio.to_thread(read_opml, data)
    except OpmlError as exc:
        await reply(update, f"Cannot import that file: {exc}", html=False)
        return
    plan = await public_plan(desk, plan_import(desk.feeds, outlines))
    preview = format_plan(plan).rstrip("\n")
    if not plan.to_add:
        await reply(update, preview + "\nNothing to add.", html=False)
        return
    ref = desk.keep_import(outlines)
    rows: list[Row] = [
        (
            (f"✅ Add {len(plan.to_add)}", encode_button(ImportAnswer(True, ref))),
            ("Cancel", encode_button(ImportAnswer(False, ref))),
        )
    ]
    await reply(update, preview + "\nAdd them?", html=False, rows=rows)


async def public_plan(desk: AdminDesk, plan: ImportPlan) -> ImportPlan:
    """The plan with feeds on the server's own network moved to the invalid ones, unless
    settings allow them (the same rule as /addfeed)."""
    if desk.allow_private or not plan.to_add:
        return plan
    problems = await asyncio.gather(*(_private_problem(f.url) for f in plan.to_add))
    keep = tuple(f for f, problem in zip(plan.to_add, problems, strict=True) if problem is None)
    refused = tuple(
        (OpmlFeed(f.url, f.name, f.topic), problem + PRIVATE_HINT)
        for f, problem in zip(plan.to_add, problems, strict=True)
        if problem is not None
    )
    return ImportPlan(keep, plan.present, plan.invalid + refused)


async def _private_problem(url: str) -> str | None:
    try:
        await ensure_public_url(url)
    except FeedError as exc:
        return str(exc)
    return None


async def answer_import(desk: AdminDesk, pressed: ImportAnswer, user: int | None) -> str:
    """The answer to an import's confirm or cancel button (plain text)."""
    outlines = desk.imports.pop(pressed.ref, None)
    if outlines is None:
        return "That import has expired or was answered already; send the file again."
    if not pressed.confirm:
        return "Import cancelled; nothing was added."
    plan = await public_plan(desk, plan_import(desk.feeds, outlines))
    if not plan.to_add:
        return "Nothing to add any more: every feed of the file is in the list."
    return await apply_edit(desk, lambda: add_feeds(desk.path, plan.to_add), user)
