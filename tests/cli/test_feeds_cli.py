"""`newsbot feeds ...` at the console, and the feed check behind adding a feed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import FeedConfig, parse_feeds
from bot.errors import FeedEditError
from bot.feedconfig.check import FeedCheck, check_feed, default_name, new_feed
from bot.ingest.fetch import Fetcher, FetchSettings
from bot.models import FeedState
from bot.store.datadir import SeenMark, Store
from tests.support.feedgen import items, rss
from tests.support.httpserver import LoopbackServer, Response

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FEEDS = """\
# The feeds of our community bot. #c:top
[[feeds]]
name = "BBC"  # #c:bbc
url = "https://bbc.example/rss"
topic = "world"

# a paused one #c:dawn
[[feeds]]
name = "Dawn"
url = "https://dawn.example/rss"
enabled = false
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        running.add("/feed.xml", Response(body=rss(items("loop", 3)), headers=_xml()))
        running.add(
            "/page.html",
            Response(body=b"<!doctype html><html><body>hi</body></html>", headers=_html()),
        )
        running.add("/missing", Response(status=404))
        yield running


def _xml() -> dict[str, str]:
    return {"Content-Type": "application/rss+xml"}


def _html() -> dict[str, str]:
    return {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "feeds.toml").write_text(FEEDS, "utf-8")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(folder))
    monkeypatch.setenv("NEWSBOT_DATA", str(tmp_path / "data"))
    return folder


def feeds_now(config_dir: Path) -> tuple[FeedConfig, ...]:
    return parse_feeds((config_dir / "feeds.toml").read_text("utf-8"))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["feeds", *args])
    out, err = capsys.readouterr()
    return code, out, err


# -- checking a feed ------------------------------------------------------------------------


def check(url: str, *, allow_private: bool) -> FeedCheck:
    async def go() -> FeedCheck:
        settings = FetchSettings(total_timeout_s=10, allow_private=allow_private)
        async with Fetcher(settings) as fetcher:
            return await check_feed(fetcher, url, allow_private=allow_private)

    return asyncio.run(go())


def test_a_feed_check_shows_title_count_and_latest_entry(server: LoopbackServer) -> None:
    """The feed is fetched and parsed before anything is added."""
    result = check(server.url("/feed.xml"), allow_private=True)
    assert result.is_ok
    assert result.title == "Loopback News"
    assert result.entry_count == 3
    assert result.latest_title == "loop story number 0"
    assert result.latest_link == "http://127.0.0.1/loop/0"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/page.html", "web page, not a feed"),
        ("/missing", "HTTP 404"),
    ],
)
def test_what_is_not_a_working_feed_is_said_plainly(
    server: LoopbackServer, path: str, error: str
) -> None:
    """A web page or an error status is refused with the reason."""
    result = check(server.url(path), allow_private=True)
    assert not result.is_ok
    assert error in (result.error or "")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/feed",
        "http://[::1]/feed",
        "http://10.1.2.3/feed",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/feed",
    ],
)
def test_private_and_local_addresses_are_refused_from_chat(url: str) -> None:
    """Without the setting, the bot never reaches its own network for an admin."""
    result = check(url, allow_private=False)
    assert not result.is_ok
    assert "private or local network address" in (result.error or "")


def test_a_new_feed_is_named_after_its_title_and_duplicates_are_refused() -> None:
    """Name from the title, unique; the same address (or where it redirects) is refused."""
    feeds = parse_feeds(FEEDS)
    ok = FeedCheck("https://new.example/rss", "https://new.example/rss", 200, title="BBC")
    assert new_feed(ok, feeds, topic=" world ").name == "BBC 2"
    assert new_feed(ok, feeds, topic=" world ").topic == "world"
    moved = FeedCheck("https://short.example/x", "https://BBC.example/rss", 200, title="t")
    with pytest.raises(FeedEditError, match="in the list already, as 'BBC'"):
        new_feed(moved, feeds)
    with pytest.raises(FeedEditError, match="a feed named 'Dawn' exists already"):
        new_feed(ok, feeds, name="dawn")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Dawn - Home", "Dawn - Home"),
        ("<b>Top</b> stories | Example™ News!!", "b Top b stories Example News"),
        (
            "A very long feed title that goes on and on about everything",
            "A very long feed title that goes on and",
        ),
        ("   ", "news.example.org"),
        (None, "news.example.org"),
    ],
)
def test_default_names_are_short_plain_text(title: str | None, expected: str) -> None:
    """Titles become names of letters, digits and plain punctuation, cut at a word."""
    assert default_name(title, "https://www.news.example.org/rss", []) == expected


# -- the console commands -------------------------------------------------------------------


def test_add_checks_the_feed_and_writes_it_with_a_note_for_a_local_address(
    server: LoopbackServer, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console may add a loopback feed; it shows what it found and says so."""
    code, out, _ = run(["add", server.url("/feed.xml"), "--topic", "local", "--tag", "a"], capsys)
    assert code == 0
    assert "Feed: Loopback News · 3 entries" in out
    assert "Latest: loop story number 0 <http://127.0.0.1/loop/0>" in out
    assert "Added Loopback News." in out
    assert "private or local address" in out
    added = feeds_now(config_dir)[-1]
    assert (added.name, added.topic, added.tags) == ("Loopback News", "local", ("a",))
    assert "#c:bbc" in (config_dir / "feeds.toml").read_text("utf-8")

    code, _, err = run(["add", server.url("/feed.xml")], capsys)
    assert code == 1
    assert "in the list already, as 'Loopback News'" in err


def test_a_failed_check_adds_nothing(
    server: LoopbackServer, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A web page is not added."""
    code, _, err = run(["add", server.url("/page.html")], capsys)
    assert code == 1
    assert "web page, not a feed" in err
    assert feeds_now(config_dir) == parse_feeds(FEEDS)


def test_pause_resume_interval_rename_remove(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each command says what it did and the file shows it, comments kept."""
    assert run(["pause", "bbc"], capsys)[1] == "Paused BBC.\n"
    assert run(["pause", "bbc"], capsys)[1] == "BBC is paused already.\n"
    assert run(["resume", "daw"], capsys)[1] == "Resumed Dawn.\n"
    assert run(["interval", "dawn", "45"], capsys)[1] == "Dawn is polled every 45 min.\n"
    assert run(["interval", "dawn", "default"], capsys)[1] == (
        "Dawn is polled on the default interval.\n"
    )
    code, out, _ = run(["rename", "BBC", "BBC World"], capsys)
    assert code == 0
    assert out == "Renamed BBC to BBC World.\nNo data yet: nothing to move.\n"
    assert run(["remove", "dawn"], capsys)[1] == "Removed Dawn.\n"

    text = (config_dir / "feeds.toml").read_text("utf-8")
    assert parse_feeds(text) == (
        FeedConfig("BBC World", "https://bbc.example/rss", topic="world", enabled=False),
    )
    assert "#c:top" in text
    assert "#c:bbc" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["remove", "npr"], "no feed named 'npr'; feeds are: BBC, Dawn"),
        (["interval", "bbc", "0"], "expected 1 to 10080 minutes, got 0"),
        (["rename", "bbc", "DAWN"], "a feed named 'Dawn' exists already"),
    ],
)
def test_bad_arguments_change_nothing_and_say_why(
    config_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Exit 1, the reason on stderr, the file untouched."""
    code, _, err = run(args, capsys)
    assert code == 1
    assert message in err
    assert (config_dir / "feeds.toml").read_text("utf-8") == FEEDS


def _store_with_history(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        store.commit_cycle(
            NOW,
            marks=[SeenMark("entry-1", "h", "BBC")],
            feed_states={
                "BBC": FeedState(
                    url="https://bbc.example/rss", last_success=NOW, polls=4, not_modified_count=1
                )
            },
        )


def test_rename_moves_the_history_or_leaves_it_to_the_running_bot(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a running newsbot the console moves the history; with one, it says who will."""
    data = tmp_path / "data"
    _store_with_history(data)
    out = run(["rename", "bbc", "BBC World"], capsys)[1]
    assert "Its history moved along (1 entries seen before)." in out
    with Store.open(data, read_only=True) as store:
        assert store.is_seen("BBC World", "entry-1")
        assert store.feed_state("BBC World") is not None

    with Store.open(data):  # the bot holds the store
        out = run(["rename", "BBC World", "BBC"], capsys)[1]
    assert "newsbot is running: it moves the feed's history" in out


def test_list_shows_each_feed_with_its_health(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Status, 304 share and address per feed, from the store when there is one."""
    _store_with_history(tmp_path / "data")
    code, out, _ = run(["list"], capsys)
    assert code == 0
    assert "BBC [ok]" in out
    assert "304 answers 25%" in out
    assert "https://bbc.example/rss  · topic world" in out
    assert "Dawn [paused]" in out


def test_check_reports_every_feed_and_fails_when_one_does(
    server: LoopbackServer, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line per feed; exit 1 when any failed."""
    (config_dir / "feeds.toml").write_text(
        f'[[feeds]]\nname = "Loop"\nurl = "{server.url("/feed.xml")}"\n\n'
        f'[[feeds]]\nname = "Gone"\nurl = "{server.url("/missing")}"\n',
        "utf-8",
    )
    code, out, _ = run(["check"], capsys)
    assert code == 1
    assert "ok      Loop: 3 entries, latest: loop story number 0" in out
    assert "FAILED  Gone: the server answered HTTP 404" in out
    assert run(["check", "loop"], capsys)[0] == 0


def test_export_and_import_round_trip_with_preview(
    config_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Export to a file, import into an empty list: preview, refusal without --yes, then add."""
    opml = tmp_path / "feeds.opml"
    assert run(["export", "-o", str(opml)], capsys)[1] == f"Wrote {opml}.\n"
    printed = run(["export"], capsys)[1]
    assert printed.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml')
    assert 'xmlUrl="https://dawn.example/rss"' in printed
    (config_dir / "feeds.toml").write_text("# nothing yet #c:keep\n", "utf-8")

    monkeypatch.setattr(sys, "stdin", _NotATerminal())
    code, out, _ = run(["import", str(opml)], capsys)
    assert code == 1
    assert "To add (2):\n  + BBC  https://bbc.example/rss  [world]\n  + Dawn" in out
    assert "run again with --yes" in out
    assert feeds_now(config_dir) == ()

    code, out, _ = run(["import", str(opml), "--yes"], capsys)
    assert code == 0
    assert out.endswith("Added 2 feeds.\n")
    assert feeds_now(config_dir) == parse_feeds(FEEDS)
    assert "#c:keep" in (config_dir / "feeds.toml").read_text("utf-8")

    code, out, _ = run(["import", str(opml), "--yes"], capsys)
    assert code == 0
    assert "To add (0):\nAlready present (2):\n  = BBC  https://bbc.example/rss" in out


class _NotATerminal:
    buffer = None

    def isatty(self) -> bool:
        return False
