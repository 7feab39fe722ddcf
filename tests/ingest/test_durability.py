"""``newsbot fetch`` as a real process: the table, exit codes, SIGTERM, and kill -9 mid-cycle.

The process runs against a loopback server (generated feeds linking to corpus pages) with a
real config and data directory. Page answers are slowed so the cycle has a shape to hit:
fast feeds finish first, a medium feed finishes after the first commit interval (5 s, a batch
commit), a slow feed last (the final commit).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.ingest.entry import article_id
from bot.search.index import SearchIndex
from bot.store.datadir import Store
from tests.support.e2e import NEWSBOT
from tests.support.feedgen import corpus_pages, items, rss
from tests.support.httpserver import LoopbackServer, Response

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = 8  # per feed; a new feed contributes its latest 5
FAST = ["fast0", "fast1", "fast2", "fast3"]
STALLS_S = {"medium": 5.6, "slow": 7.0}
SETTINGS = """
[bot]
allow_private_feeds = true
[poll]
interval_minutes = 30
new_feed_backlog = 5
[http]
max_concurrent = 32
max_per_host = 32
read_timeout_s = 15.0
total_timeout_s = 30.0
"""


def write_config(config_dir: Path, feeds: dict[str, str]) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "settings.toml").write_text(SETTINGS, "utf-8")
    blocks = [f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n' for name, url in feeds.items()]
    (config_dir / "feeds.toml").write_text("\n".join(blocks), "utf-8")


@pytest.fixture
def server(corpus: Path) -> Iterator[LoopbackServer]:
    pages = corpus_pages(corpus, 4)
    with LoopbackServer() as running:
        for name in [*FAST, *STALLS_S]:
            stall = STALLS_S.get(name, 0.0)
            for i, page in enumerate(pages):
                running.add_file(f"/{name}/{i}.html", page, like=Response(stall_s=stall))
            document = rss(items(name, ENTRIES, running.url(f"/{name}"), pages=len(pages)))
            running.add(
                f"/feeds/{name}.xml",
                Response(body=document, headers={"Content-Type": "application/rss+xml"}),
            )
        yield running


@pytest.fixture
def env(server: LoopbackServer, tmp_path: Path) -> dict[str, str]:
    feeds = {name: server.url(f"/feeds/{name}.xml") for name in [*FAST, *STALLS_S]}
    write_config(tmp_path / "config", feeds)
    return {
        **os.environ,
        "NEWSBOT_CONFIG": str(tmp_path / "config"),
        "NEWSBOT_DATA": str(tmp_path / "data"),
    }


def start_fetch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*NEWSBOT, "fetch", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_when(process: subprocess.Popen[str], condition: Callable[[], bool]) -> bool:
    """kill -9 the process (and its workers) once ``condition`` holds; False if it ended
    before that."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if condition():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    process.communicate(timeout=60)
    return False


def page_hits(server: LoopbackServer, prefix: str) -> int:
    return sum(1 for r in server.requests if r.path.startswith(prefix))


def archived(data: Path) -> Counter[tuple[str, str]]:
    """(feed, entry identity) of every stored article, counted; opening repairs the store."""
    with Store.open(data) as store:
        return Counter((a.feed, a.id) for a in store.iter_articles())


def test_kill_9_mid_cycle_loses_nothing_and_duplicates_nothing(
    server: LoopbackServer, env: dict[str, str], tmp_path: Path
) -> None:
    """Killed while pages are fetched, during a commit and between commits, then run to the
    end: every new entry is stored exactly once, nothing stored is ever lost."""
    data = Path(env["NEWSBOT_DATA"])
    archive = data / "archive"

    def listing() -> dict[str, int]:
        if not archive.is_dir():
            return {}
        return {p.name: p.stat().st_mtime_ns for p in archive.iterdir() if p.exists()}

    def archive_changes() -> Callable[[], bool]:
        """True once the archive folder changes in this run (a commit under way or done)."""
        at_start = listing()
        return lambda: listing() != at_start

    def slow_pages_after_a_commit() -> Callable[[], bool]:
        hits_at_start, changed = page_hits(server, "/slow"), archive_changes()
        return lambda: page_hits(server, "/slow") > hits_at_start and changed()

    kill_points: list[Callable[[], Callable[[], bool]]] = [
        lambda: lambda: page_hits(server, "/fast") >= 3,  # pages being fetched
        archive_changes,  # a batch commit being written
        archive_changes,  # the next one, wherever the cycle has got to
        slow_pages_after_a_commit,  # one batch committed, the slow feed's pages in flight
    ]
    before: Counter[tuple[str, str]] = Counter()
    killed = []
    for point in kill_points:
        killed.append(kill_when(start_fetch(env, "--once"), point()))
        now = archived(data)
        assert set(now.values()) <= {1}, "an article was stored twice"
        assert set(before) <= set(now), "a stored article was lost"
        before = now
    assert killed[:2] == [True, True]
    finish = start_fetch(env, "--once")
    out, err = finish.communicate(timeout=120)
    assert finish.returncode == 0, err
    # what is left to poll depends on where the kills landed (a kill point that never fired
    # lets its run finish the cycle); the end state below is what must hold either way
    assert "feeds polled" in out or "no feed is due" in out

    expected = {
        (name, article_id(name, f"{name}-{k}")) for name in [*FAST, *STALLS_S] for k in range(5)
    }
    final = archived(data)
    assert set(final) == expected
    assert set(final.values()) == {1}
    with Store.open(data) as store:
        for name in [*FAST, *STALLS_S]:
            assert all(store.is_seen(name, f"{name}-{k}") for k in range(ENTRIES))
            state = store.feed_state(name)
            assert state is not None
            assert state.last_success is not None
    with SearchIndex.in_data_dir(data) as index:
        assert all(article in index for _, article in expected)
        assert len(index) == len(expected)


@pytest.fixture
def quick_env(server: LoopbackServer, tmp_path: Path) -> dict[str, str]:
    server.add("/feeds/down.xml", Response(status=503, body=b"busy"))
    feeds = {"fast0": server.url("/feeds/fast0.xml"), "Down Feed": server.url("/feeds/down.xml")}
    write_config(tmp_path / "config", feeds)
    return {
        **os.environ,
        "NEWSBOT_CONFIG": str(tmp_path / "config"),
        "NEWSBOT_DATA": str(tmp_path / "data"),
    }


def test_fetch_once_prints_a_table_and_succeeds_with_a_failing_feed(
    quick_env: dict[str, str],
) -> None:
    """`newsbot fetch --once`: one row per feed, the failing feed's error, exit code 0."""
    process = start_fetch(quick_env, "--once")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["feed", "status", "new", "updated", "errors", "time"]
    assert lines[1].split()[:5] == ["fast0", "200", "5", "0", "0"]
    assert lines[2].split()[:6] == ["Down", "Feed", "503", "0", "0", "1"]
    assert "Down Feed: HTTP 503" in out
    assert "2 feeds polled" in out
    again = start_fetch(quick_env, "--once")
    out, _ = again.communicate(timeout=120)
    assert again.returncode == 0
    assert out.startswith("no feed is due")


def test_fetch_with_a_bad_config_fails_naming_the_file(
    quick_env: dict[str, str], tmp_path: Path
) -> None:
    """A configuration error is one clear message and a non-zero exit, nothing polled."""
    (tmp_path / "config" / "feeds.toml").write_text('[[feeds]]\nname = "x"\nurl = "ftp://a"\n')
    process = start_fetch(quick_env, "--once")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "feeds.toml, line 3, feed #1 url" in err
    assert "Traceback" not in err
    assert out == ""


def test_fetch_runs_on_until_sigterm(server: LoopbackServer, quick_env: dict[str, str]) -> None:
    """Without --once the feeds are polled on the tick; SIGTERM stops it cleanly (exit 0)."""
    process = start_fetch(quick_env, "--tick-seconds", "0.2")
    deadline = time.monotonic() + 60
    while server.hits("/feeds/fast0.xml") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "feed polled name=fast0 status=200 new=5" in err
    assert 'feed failed name="Down Feed" status=503' in err
    assert server.hits("/feeds/fast0.xml") == 1
    assert len(archived(Path(quick_env["NEWSBOT_DATA"]))) == 5
