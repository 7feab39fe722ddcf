"""Searching is cheap for everyone: /search, its pages and inline queries share one per-user
budget (through PTB's request seam, tests/support/botharness.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.config import BotSettings
from tests.support.botharness import Harness, article, texts

FLOOD = article("a1", "Council approves flood relief", "The council approved flood relief.")


def test_a_user_searching_too_fast_is_asked_to_wait_inline_too(tmp_path: Path) -> None:
    """Past the budget, /search says to wait and an inline query gets no results but a note;
    another user still searches."""

    async def main() -> None:
        async with Harness(tmp_path) as bot:
            bot.add_articles(FLOOD)
            for _ in range(BotSettings().searches_per_minute):
                assert "Results" in texts(await bot.send(42, "/search flood"))[0]
            (refused,) = texts(await bot.send(42, "/search flood"))
            assert "searching very fast" in refused
            inline = {"id": "q1", "from": {"id": 42, "is_bot": False, "first_name": "U"},
                      "query": "flood", "offset": ""}  # fmt: skip
            calls = await bot.update({"inline_query": inline})
            (answer,) = [c.params for c in calls if c.method == "answerInlineQuery"]
            assert json.loads(str(answer["results"])) == []
            assert "Too many searches" in str(answer["button"])
            assert "Results" in texts(await bot.send(43, "/search flood"))[0]

    asyncio.run(main())
