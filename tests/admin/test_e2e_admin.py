"""End to end: admins run the real ``newsbot run`` process from chat through the loopback Bot
API server, while feeds.toml is edited by hand under it: live reload, invalid edits rejected
with the old feeds kept, private addresses refused or allowed, a hand edit landing during a
command, OPML export then import giving the same feeds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.admin.commands import ADMIN_COMMANDS
from bot.config import parse_feeds
from bot.feedconfig.opml import read_opml
from tests.support.botapi import BotApiServer
from tests.support.e2e import LATER, STORIES, Bot, buttons, say, serve_feed
from tests.support.httpserver import LoopbackServer

ADMIN = 7
OTHER = 8
WAIT_S = 20.0

SETTINGS = """\
[bot]
digest_tick_s = 0.5
drain_timeout_s = 2.0
admins = [{admin}]
allow_private_feeds = {allow}
"""
FEEDS = """\
# Feeds of the loopback world. Keep me.

# The main wire.
[[feeds]]
name = "Loop Wire"
url = "{wire}"
topic = "news"
{private}"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[BotApiServer, LoopbackServer, Path]]:
    with BotApiServer() as server, LoopbackServer() as web:
        (tmp_path / "config").mkdir()
        yield server, web, tmp_path


def setup(root: Path, web: LoopbackServer, *, allow: bool) -> Path:
    settings = SETTINGS.format(admin=ADMIN, allow="true" if allow else "false")
    (root / "config" / "settings.toml").write_text(settings, encoding="utf-8")
    path = root / "config" / "feeds.toml"
    wire = serve_feed(web, "/wire.xml", STORIES)
    # The loopback wire is a private address: allowed for all feeds, or by hand for this one.
    private = "" if allow else "allow_private = true\n"
    path.write_text(FEEDS.format(wire=wire, private=private), encoding="utf-8")
    return path


def notices(server: BotApiServer, since: int, marker: str) -> list[str]:
    return [t for t in server.sent_texts(ADMIN)[since:] if t.startswith(marker)]


def wait_notice(server: BotApiServer, since: int, marker: str) -> str:
    server.wait_for(lambda: notices(server, since, marker), WAIT_S)
    return notices(server, since, marker)[0]


def test_hand_edits_apply_live_bad_ones_are_refused_and_commands_never_lose_an_edit(
    world: tuple[BotApiServer, LoopbackServer, Path],
) -> None:
    """Admins get their own menu; a non-admin is refused; a loopback feed is refused; a hand
    edit is polled within seconds; an invalid one is reported by line and key while the old
    feeds run on; a hand edit during /pausefeed survives with it."""
    server, web, root = world
    path = setup(root, web, allow=False)
    server.make_admin(-500, user_id=9)
    bot = Bot(root, server)
    try:
        server.wait_for(lambda: server.chat_commands(ADMIN), WAIT_S)
        admin_names = [c["command"] for c in server.chat_commands(ADMIN)]
        assert admin_names[-len(ADMIN_COMMANDS) :] == [n for n, _, _ in ADMIN_COMMANDS]
        assert "addfeed" not in [c["command"] for c in server.commands]

        assert say(server, OTHER, "/removefeed Loop Wire") == (
            "Sorry, only the bot's admins can use /removefeed."
        )
        # In a group, getChatMember decides who may subscribe it (user 500 is a member).
        assert "only this group's admins" in say(server, -500, "/start").lower()
        server.send_user_message(-500, "/start", user_id=9)  # a group admin
        server.wait_for(lambda: "Subscribed" in server.sent_texts(-500)[-1], WAIT_S)

        coast = serve_feed(web, "/coast.xml", LATER)
        refused = say(server, ADMIN, f"/addfeed {coast}")
        assert "private or local network" in refused
        assert "Coast" not in path.read_text("utf-8")

        # A hand edit: picked up within seconds, polled, admins told.
        seen = len(server.sent_texts(ADMIN))
        with path.open("a", encoding="utf-8") as handle:
            handle.write(
                f'\n# Added by hand.\n[[feeds]]\nname = "Coast News"\nurl = "{coast}"\n'
                "allow_private = true\n"
            )
        assert "added Coast News" in wait_notice(server, seen, "feeds.toml changed")
        server.wait_for(lambda: web.hits("/coast.xml"), WAIT_S)

        # An invalid hand edit: reported with file, line and key; the old feeds stay.
        good = path.read_text("utf-8")
        seen = len(server.sent_texts(ADMIN))
        path.write_text(good.replace(f'url = "{coast}"', 'url = "gopher://coast"'), "utf-8")
        problem = wait_notice(server, seen, "feeds.toml has problems")
        assert f"{path}, line 13, feed #2 url: must be an http:// or https://" in problem
        status = say(server, ADMIN, "/feedstatus")
        assert "Coast News" in status
        assert "Loop Wire" in status
        path.write_text(good, "utf-8")  # fixed: the same feeds as in force, nothing to say
        assert "unchanged: 2 feeds" in say(server, ADMIN, "/reload")

        # A hand edit lands while /pausefeed writes: both are in the file, or a clear refusal.
        seen = len(server.sent_texts(ADMIN))
        server.send_user_message(ADMIN, "/pausefeed Loop Wire")
        writer = threading.Thread(target=_append_comment, args=(path,))
        writer.start()
        writer.join()
        server.wait_for(lambda: len(server.sent_texts(ADMIN)) > seen, WAIT_S)
        answer = next(t for t in server.sent_texts(ADMIN)[seen:] if not t.startswith("feeds"))
        text = path.read_text("utf-8")
        assert "# A comment saved by hand." in text
        if answer.startswith("Done."):
            assert "Loop Wire: paused" in answer
            assert "enabled = false" in text
        else:
            assert "edited by hand" in answer
        for kept in ("# Feeds of the loopback world. Keep me.", "# The main wire.", "# Added"):
            assert kept in text
        assert bot.stop() == 0
    finally:
        bot.stop()


def _append_comment(path: Path) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("# A comment saved by hand.\n")


def test_private_feeds_when_allowed_and_an_opml_round_trip(
    world: tuple[BotApiServer, LoopbackServer, Path],
) -> None:
    """With allow_private_feeds, /addfeed takes a loopback feed; /export then /import of its
    file, after the feeds were removed by hand, gives the same feeds."""
    server, web, root = world
    path = setup(root, web, allow=True)
    bot = Bot(root, server)
    try:
        server.wait_for(lambda: server.chat_commands(ADMIN), WAIT_S)
        coast = serve_feed(web, "/coast.xml", LATER)
        added = say(server, ADMIN, f"/addfeed {coast} Coast News #coast")
        assert "Latest: Volcano erupts near the coast" in added
        assert f"added Coast News ({coast})" in added
        assert "interval default" in say(server, ADMIN, "/setinterval coast 45")
        before = parse_feeds(path.read_text("utf-8"))
        assert [f.name for f in before] == ["Loop Wire", "Coast News"]

        say(server, ADMIN, "/export")
        (upload,) = [m for m in server.sent(ADMIN) if "document" in m]
        name, data = server.file(upload["document"]["file_id"])
        assert name.endswith(".opml")
        assert [o.name for o in read_opml(data)] == ["Loop Wire", "Coast News"]

        seen = len(server.sent_texts(ADMIN))
        path.write_text("# Emptied by hand.\n", "utf-8")
        assert "removed Coast News" in wait_notice(server, seen, "feeds.toml changed")

        before_preview = len(server.sent(ADMIN))
        server.send_user_document(ADMIN, "feeds.opml", data, caption="/import")
        server.wait_for(lambda: len(server.sent(ADMIN)) > before_preview, WAIT_S)
        preview = server.sent(ADMIN)[before_preview]
        assert "To add (2)" in preview["text"]
        server.press_button(ADMIN, preview["message_id"], buttons(preview)["✅ Add 2"])
        server.wait_for(
            lambda: server.sent(ADMIN)[before_preview]["text"].startswith("Done."), WAIT_S
        )
        text = path.read_text("utf-8")
        assert text.startswith("# Emptied by hand.\n")
        assert parse_feeds(text) == before
        assert bot.stop() == 0
    finally:
        bot.stop()
