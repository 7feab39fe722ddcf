"""Who may run an admin command, and what every admin handler reads from an update.

Every handler checks the admin list first (``[bot] admins`` and ``NEWSBOT_ADMINS``): anyone
else gets one polite line, nothing changes, and the attempt is logged with the user id and
the command name only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin.desk import AdminDesk, admin_desk
from bot.chat.replies import reply
from bot.logfields import fields

log = logging.getLogger("newsbot.admin")

NOT_ALLOWED = "Sorry, only the bot's admins can use /{command}."

AdminHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, AdminDesk], Coroutine[Any, Any, None]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def admins_only(command: str) -> Callable[[AdminHandler], Handler]:
    """Run the handler for admins; anyone else gets one line and is logged."""

    def wrap(handler: AdminHandler) -> Handler:
        @functools.wraps(handler)
        async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            desk = admin_desk(context.application.bot_data)
            user = update.effective_user
            if not desk.is_admin(user.id if user else None):
                log.warning(
                    "admin command refused %s",
                    fields(user=user.id if user else None, command=command),
                )
                await reply(update, NOT_ALLOWED.format(command=command), html=False)
                return
            log.info("admin command %s", fields(user=user.id if user else None, command=command))
            await handler(update, context, desk)

        return checked

    return wrap


def command_args(context: ContextTypes.DEFAULT_TYPE) -> str:
    """The words typed after the command, as one string."""
    return " ".join(context.args or ()).strip()


def sender_id(update: Update) -> int | None:
    """The id of the user who sent the update, if any."""
    return update.effective_user.id if update.effective_user else None
