"""Live reload: hand edits of feeds.toml seen at the next look, bad ones reported, fixes applied."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import FeedConfig, load_config, parse_feeds
from bot.errors import ConfigFileError
from bot.feedconfig.diff import (
    FeedChange,
    FeedChanges,
    describe_changes,
    diff_feeds,
    pending_renames,
)
from bot.feedconfig.file import rename_feed, set_enabled
from bot.feedconfig.watch import FeedsWatcher, move_renamed_history, watch_poller
from bot.ingest.pollsetup import open_poller
from bot.models import FeedState
from bot.store.datadir import SeenMark, Store
from tests.support.feedgen import items, rss
from tests.support.httpserver import LoopbackServer, Response

HOURS_6 = timedelta(hours=6)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BBC = FeedConfig("BBC", "https://bbc.example/rss", topic="world")
DAWN = FeedConfig("Dawn", "https://dawn.example/rss", interval_minutes=15)
DW = FeedConfig("DW", "https://dw.example/rdf")

TEXT = """\
# my feeds
[[feeds]]
name = "BBC"
url = "https://bbc.example/rss"
topic = "world"

[[feeds]]
name = "Dawn"
url = "https://dawn.example/rss"
interval_minutes = 15
"""


# -- the difference -------------------------------------------------------------------------


def test_diff_names_added_removed_and_changed_fields() -> None:
    """Each kind of change is told apart; unchanged feeds are not mentioned."""
    after = (
        FeedConfig("BBC", "https://bbc.example/rss", topic="news", enabled=False),
        DW,
    )
    changes = diff_feeds((BBC, DAWN), after)
    assert changes.added == (DW,)
    assert changes.removed == (DAWN,)
    assert changes.changed == (FeedChange(BBC, after[0], ("topic", "enabled")),)
    assert changes.feeds == after
    assert diff_feeds((BBC, DAWN), (BBC, DAWN)).is_empty


def test_a_feed_keeping_its_address_under_a_new_name_is_renamed() -> None:
    """A rename (even in case only) is a change of name, not a removal and an addition."""
    renamed = FeedConfig("BBC World", "https://BBC.example/rss/", topic="world")
    changes = diff_feeds((BBC, DAWN), (renamed, FeedConfig("dawn", DAWN.url, interval_minutes=5)))
    assert changes.added == ()
    assert changes.removed == ()
    assert changes.renamed == (("BBC", "BBC World"), ("Dawn", "dawn"))


def test_changes_are_described_for_admins() -> None:
    """One readable line per change."""
    after = (
        FeedConfig("BBC World", BBC.url, topic=None, interval_minutes=10, enabled=False),
        DW,
    )
    lines = describe_changes(diff_feeds((BBC, DAWN), after), default_interval_minutes=30)
    assert lines == [
        "added DW (https://dw.example/rdf)",
        "removed Dawn",
        "BBC World: renamed from BBC, paused, interval default (30 min) → 10 min, "
        "topic world → (none)",
    ]


def test_renames_made_while_newsbot_was_down_are_found_from_the_store() -> None:
    """A stored state under an old name whose address a new name now carries is a rename."""
    states = {
        "BBC": FeedState(url="https://bbc.example/rss"),
        "Gone": FeedState(url="https://gone.example/"),
        "Dawn": FeedState(url=DAWN.url),
    }
    feeds = (FeedConfig("BBC World", BBC.url), DAWN)
    assert pending_renames(feeds, states) == [("BBC", "BBC World")]
    assert pending_renames((BBC, DAWN), states) == []


def test_a_rename_seen_by_the_watcher_moves_the_history_in_the_store() -> None:
    """The renamed feed keeps its state and its entries stay seen (no re-processing)."""
    store = Store.in_memory()
    store.commit_cycle(
        NOW, marks=[SeenMark("e1", "h", "BBC")], feed_states={"BBC": FeedState(url=BBC.url)}
    )
    renamed = FeedConfig("BBC World", BBC.url, topic="world")
    changes = diff_feeds((BBC, DAWN), (renamed, DAWN))
    assert move_renamed_history(store, changes.renamed) == 1
    assert store.is_seen("BBC World", "e1")
    assert pending_renames((renamed, DAWN), store.feed_states()) == []


# -- the watcher on a real file -------------------------------------------------------------


class Recorder:
    """Collects what the watcher reports and lets a test wait for it."""

    def __init__(self) -> None:
        self.changes: list[FeedChanges] = []
        self.errors: list[ConfigFileError] = []
        self._event = asyncio.Event()

    async def on_change(self, changes: FeedChanges) -> None:
        self.changes.append(changes)
        self._event.set()

    async def on_error(self, error: ConfigFileError) -> None:
        self.errors.append(error)
        self._event.set()

    async def next_report(self, timeout_s: float = 10.0) -> None:
        await asyncio.wait_for(self._event.wait(), timeout_s)
        self._event.clear()


def run_watching(path: Path, body: Callable[[FeedsWatcher, Recorder], Awaitable[None]]) -> Recorder:
    async def main() -> Recorder:
        recorder = Recorder()
        watcher = FeedsWatcher(
            path,
            parse_feeds(path.read_text("utf-8")),
            recorder.on_change,
            recorder.on_error,
            interval_s=0.02,
        )
        watcher.start()
        try:
            await body(watcher, recorder)
        finally:
            await watcher.stop()
        return recorder

    return asyncio.run(main())


@pytest.fixture
def feeds_file(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(TEXT, "utf-8")
    return path


def test_edit_invalid_edit_and_fix_are_each_handled_once(feeds_file: Path) -> None:
    """A hand edit is applied; a broken one is reported once with file, line and key while
    the last good feeds stay; fixing it applies the fix."""

    async def body(watcher: FeedsWatcher, recorder: Recorder) -> None:
        feeds_file.write_text(TEXT.replace("interval_minutes = 15", "interval_minutes = 5"))
        await recorder.next_report()
        assert recorder.changes[-1].changed[0].fields == ("interval_minutes",)
        assert watcher.feeds[1].interval_minutes == 5

        feeds_file.write_text(TEXT + '\n[[feeds]]\nname = "DW"\nurl = "ftp://dw.example/"\n')
        await recorder.next_report()
        await asyncio.sleep(0.2)  # many more looks: still one report
        assert len(recorder.errors) == 1
        assert watcher.feeds == parse_feeds(TEXT.replace("= 15", "= 5"))

        feeds_file.write_text(TEXT + '\n[[feeds]]\nname = "DW"\nurl = "https://dw.example/"\n')
        await recorder.next_report()
        assert [f.name for f in recorder.changes[-1].added] == ["DW"]
        assert [f.name for f in watcher.feeds] == ["BBC", "Dawn", "DW"]

    recorder = run_watching(feeds_file, body)
    message = str(recorder.errors[0])
    assert f"{feeds_file}, line 14, feed #3 url: must be an http:// or https:// address" in message
    assert len(recorder.changes) == 2


def test_a_deleted_file_is_reported_and_the_feeds_stay(feeds_file: Path) -> None:
    """Deleting feeds.toml does not stop every feed."""

    async def body(watcher: FeedsWatcher, recorder: Recorder) -> None:
        feeds_file.unlink()
        await recorder.next_report()
        assert [f.name for f in watcher.feeds] == ["BBC", "Dawn"]

    recorder = run_watching(feeds_file, body)
    assert "missing" in str(recorder.errors[0])


def test_commands_and_reload_are_picked_up_at_once(feeds_file: Path) -> None:
    """check() (/reload, or after a command wrote the file) applies without waiting."""

    async def main() -> None:
        recorder = Recorder()
        watcher = FeedsWatcher(
            feeds_file, parse_feeds(TEXT), recorder.on_change, recorder.on_error, interval_s=60
        )
        assert await watcher.check() is None  # nothing changed

        rename_feed(feeds_file, "bbc", "BBC World")
        set_enabled(feeds_file, "dawn", False)
        changes = await watcher.check()
        assert isinstance(changes, FeedChanges)
        assert changes.renamed == (("BBC", "BBC World"),)
        assert [c.after.enabled for c in changes.changed] == [True, False]

        feeds_file.write_text("[[feeds]]\nname = 1\n")
        first = await watcher.check()
        again = await watcher.check()
        assert isinstance(first, ConfigFileError)
        assert again is first  # /reload repeats the error; admins were told once
        assert len(recorder.errors) == 1

    asyncio.run(main())


def test_a_save_caught_halfway_is_never_applied(feeds_file: Path) -> None:
    """An empty or cut file seen by one look only (an editor mid-save) changes nothing."""

    async def main() -> None:
        recorder = Recorder()
        watcher = FeedsWatcher(
            feeds_file, parse_feeds(TEXT), recorder.on_change, recorder.on_error, interval_s=60
        )
        assert await watcher.check(settle=True) is None
        for halfway in ("", TEXT[:40]):
            feeds_file.write_text(halfway)
            assert await watcher.check(settle=True) is None
            feeds_file.write_text(TEXT)
            assert await watcher.check(settle=True) is None
        assert recorder.changes == []
        assert recorder.errors == []
        assert watcher.feeds == parse_feeds(TEXT)

    asyncio.run(main())


def test_a_running_poller_follows_the_file_and_a_renamed_feed_is_not_news_again(
    tmp_path: Path,
) -> None:
    """End to end on loopback: poll, rename by command, add and pause by hand; the poller
    polls the new list, and the renamed feed's entries stay seen."""
    with LoopbackServer() as server:
        server.add("/a.xml", Response(body=rss(items("a", 3)), headers=_RSS))
        server.add("/b.xml", Response(body=rss(items("b", 2)), headers=_RSS))
        config_dir = tmp_path / "config"
        config_dir.mkdir()
        (config_dir / "settings.toml").write_text("[bot]\nallow_private_feeds = true\n")
        path = config_dir / "feeds.toml"
        path.write_text(f'# mine\n[[feeds]]\nname = "A"\nurl = "{server.url("/a.xml")}"\n')
        config = load_config(
            {"NEWSBOT_CONFIG": str(config_dir), "NEWSBOT_DATA": str(tmp_path / "data")}
        )

        async def main() -> None:
            async with open_poller(
                config, executor_factory=lambda: ThreadPoolExecutor(1)
            ) as poller:
                heard: list[FeedChanges] = []

                async def tell_admins(changes: FeedChanges) -> None:
                    heard.append(changes)

                watcher = watch_poller(poller, on_change=tell_admins)
                first = await poller.poll_feeds(poller.due_feeds(poller.clock()))
                assert [(r.feed, r.backlog + r.new) for r in first] == [("A", 3)]

                rename_feed(path, "a", "A News")
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(f'\n[[feeds]]\nname = "B"\nurl = "{server.url("/b.xml")}"\n')
                await watcher.check()

                assert [f.name for f in poller.config.feeds] == ["A News", "B"]
                assert [f.name for f in poller.due_feeds(poller.clock())] == ["B"]
                again = await poller.poll_feeds(poller.config.feeds[:1])
                assert (again[0].feed, again[0].new, again[0].backlog) == ("A News", 0, 0)
                assert heard[0].renamed == (("A", "A News"),)
                assert [f.name for f in heard[0].added] == ["B"]

                set_enabled(path, "b", False)
                await watcher.check()
                assert poller.due_feeds(poller.clock()) == []

        asyncio.run(main())


_RSS = {"Content-Type": "application/rss+xml"}


def test_a_resumed_or_readdressed_feed_is_polled_at_the_next_tick_despite_its_backoff(
    tmp_path: Path,
) -> None:
    """A feed in a long backoff that an admin pauses and resumes (/pausefeed, /resumefeed,
    or a hand edit and /reload) is due at once; so is one given a new address; once polled,
    its schedule applies again."""
    with LoopbackServer() as server:
        server.add("/a.xml", Response(body=rss(items("a", 2)), headers=_RSS))
        server.add("/a2.xml", Response(body=rss(items("a", 2)), headers=_RSS))
        config_dir = tmp_path / "config"
        config_dir.mkdir()
        (config_dir / "settings.toml").write_text("[bot]\nallow_private_feeds = true\n")
        path = config_dir / "feeds.toml"
        path.write_text(f'[[feeds]]\nname = "A"\nurl = "{server.url("/a.xml")}"\n')
        config = load_config(
            {"NEWSBOT_CONFIG": str(config_dir), "NEWSBOT_DATA": str(tmp_path / "data")}
        )

        async def main() -> None:
            async with open_poller(
                config, executor_factory=lambda: ThreadPoolExecutor(1)
            ) as poller:
                watcher = watch_poller(poller)
                await poller.poll_feeds(poller.due_feeds(poller.clock()))
                now = poller.clock()
                state = poller.store.feed_states()["A"]
                far = dataclasses.replace(state, consecutive_errors=6, next_poll=now + HOURS_6)
                poller.store.commit_cycle(now, feed_states={"A": far})
                assert poller.due_feeds(now) == []

                set_enabled(path, "a", False)
                await watcher.check()
                set_enabled(path, "a", True)
                await watcher.check()
                assert [f.name for f in poller.due_feeds(poller.clock())] == ["A"]
                await poller.poll_feeds(poller.due_feeds(poller.clock()))
                assert poller.due_feeds(poller.clock()) == []

                poller.store.commit_cycle(now, feed_states={"A": far})
                path.write_text(path.read_text().replace("/a.xml", "/a2.xml"))
                await watcher.check()
                assert [f.name for f in poller.due_feeds(poller.clock())] == ["A"]

        asyncio.run(main())
