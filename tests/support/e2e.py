"""End-to-end helpers: the real ``newsbot`` process (``run`` as a long-lived ``Bot``, any other
command through ``newsbot(...)``), a loopback news site with real pages, and what users do in
a chat (``say``) against the loopback Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.botapi import BotApiServer
from tests.support.feedgen import Item, rss
from tests.support.httpserver import LoopbackServer, Response

NEWSBOT = (sys.executable, "-m", "bot.cli")
WAIT_S = 20.0
NOW = datetime.now(UTC)

STORIES = {
    "river-levels": ("River levels rise in the north", "Water levels on the river rose again"),
    "river-ferry": ("River ferry service resumes", "The ferry across the river runs again"),
    "river-fest": ("River festival draws crowds", "Thousands came to the festival by the river"),
    "budget": ("Council budget vote delayed", "The council delayed its vote on the budget"),
}
LATER = {
    "volcano": ("Volcano erupts near the coast", "A volcano erupted near the coast at dawn"),
    "bridge": ("Bridge reopens after repairs", "The old bridge reopened after two years"),
}


def page(title: str, opening: str) -> bytes:
    """A news page whose main text the extractor finds. Its lead (the first two sentences)
    is its own: stories of different feeds share too few words to fold into one."""
    paragraphs = [
        f"{opening}, witnesses said.",
        "Nothing more was known by noon.",
        "Engineers spent the morning checking the works and the roads around them, and said "
        "that the next few days would show whether the measures taken so far were enough.",
        "Local businesses said they were ready, and the council promised updates every day "
        "until the situation was back to normal for everyone living in the area.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )
    return html.encode("utf-8")


def serve_feed(web: LoopbackServer, path: str, stories: dict[str, tuple[str, str]]) -> str:
    items = []
    for n, (slug, (title, opening)) in enumerate(stories.items()):
        web.add(f"/{slug}.html", Response(body=page(title, opening),
                headers={"Content-Type": "text/html; charset=utf-8"}))  # fmt: skip
        items.append(Item(slug, title, web.url(f"/{slug}.html"), NOW - timedelta(minutes=10 + n)))
    web.add(path, Response(body=rss(items), headers={"Content-Type": "application/rss+xml"}))
    return web.url(path)


class Bot:
    """The ``newsbot run`` process; its stdout and stderr go to files."""

    def __init__(
        self,
        root: Path,
        server: BotApiServer,
        *,
        token: str | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        data: str = "data",
    ) -> None:
        self.log = root / f"run-{len(list(root.glob('run-*.log')))}.log"
        environ = {
            **os.environ,
            "NEWSBOT_TOKEN": token if token is not None else server.token,
            "NEWSBOT_API_URL": server.url,
            "NEWSBOT_CONFIG": str(root / "config"),
            "NEWSBOT_DATA": str(root / data),
            **(env or {}),
        }
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [*NEWSBOT, "run", *args],
                cwd=root,
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """SIGTERM (or ``signum``), then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def write_feeds(root: Path, feeds: dict[str, str]) -> None:
    blocks = [
        f'[[feeds]]\nname = "{name}"\nurl = "{url}"\ntopic = "news"\n'
        for name, url in feeds.items()
    ]
    (root / "config" / "feeds.toml").write_text("\n".join(blocks), encoding="utf-8")


def last_message(server: BotApiServer, chat_id: int) -> dict[str, Any]:
    return server.sent(chat_id)[-1]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label -> callback data of a message's inline keyboard."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def say(server: BotApiServer, chat_id: int, text: str) -> str:
    """A user writes; returns the bot's next message text in that chat."""
    before = len(server.sent(chat_id))
    server.send_user_message(chat_id, text)
    server.wait_for(lambda: len(server.sent(chat_id)) > before, WAIT_S)
    return server.sent_texts(chat_id)[before]


def count(server: BotApiServer, chat_id: int, title: str) -> int:
    """How many times a story reached the chat in digests and alerts."""
    pushed = [t for t in server.sent_texts(chat_id) if t.startswith(("Your digest", "🔔"))]
    return sum(text.count(title) for text in pushed)


def newsbot(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """One ``newsbot`` command to its end; its output captured as text."""
    return subprocess.run(
        [*NEWSBOT, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
