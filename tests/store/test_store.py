"""The store: durable cycles, the seen-entries registry, shards, retention, damage and crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import StoreError
from bot.models import FeedState, Quote, StoredArticle
from bot.store.datadir import SCHEMA_VERSION, Seen, SeenMark, Store
from bot.store.documents import article_from_doc, article_to_doc, record_from_doc, record_to_doc
from bot.store.storage import MemoryVolume, decode_tables, encode_tables

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def article(n: int, fetched: datetime = NOW, feed: str = "bbc", **changes: object) -> StoredArticle:
    base = StoredArticle(
        id=f"a{n}",
        feed=feed,
        title=f"Title {n}",
        link=f"https://news.example/{n}",
        published=fetched - timedelta(hours=1),
        fetched=fetched,
        text=f"Body of article {n}.\n\nSecond paragraph.",
        lead=(f"Body of article {n}.",),
        quotes=(Quote("We will not stop until it is done", "Jane Doe"),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def mark(n: int, content_hash: str = "h1", *, stored: bool = True, feed: str = "bbc") -> SeenMark:
    return SeenMark(f"entry-{n}", content_hash, feed, f"a{n}" if stored else None)


def cycle(store: Store, numbers: range, now: datetime = NOW, content_hash: str = "h1") -> None:
    store.commit_cycle(
        now, [article(n, now) for n in numbers], [mark(n, content_hash) for n in numbers]
    )


# -- documents ------------------------------------------------------------------------------

aware_times = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(1990, 1, 2),
    max_value=datetime(2099, 12, 30),
    timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
texts = st.text(max_size=40)
articles = st.builds(
    StoredArticle,
    id=st.text(min_size=1, max_size=20),
    feed=texts,
    title=texts,
    link=texts,
    published=aware_times,
    fetched=aware_times,
    text=st.text(max_size=200),
    lead=st.lists(texts, max_size=3).map(tuple),
    quotes=st.lists(st.builds(Quote, texts, st.none() | texts), max_size=3).map(tuple),
    author=st.none() | texts,
    topic=st.none() | texts,
    tags=st.lists(texts, max_size=3).map(tuple),
    updated=st.none() | aware_times,
    language=st.none() | st.sampled_from(["en", "ur", "ja"]),
    image=st.none() | st.just("https://example.com/lead.jpg"),
)


@given(articles)
def test_article_survives_document_and_json_round_trip(stored: StoredArticle) -> None:
    """StoredArticle -> TinyDB document -> JSON text -> document -> StoredArticle is identity."""
    doc = article_to_doc(stored, "identity", "hash")
    back = decode_tables(encode_tables({"articles": {stored.id: doc}}), "test")["articles"][
        stored.id
    ]
    assert article_from_doc(stored.id, back, "test") == stored


@given(
    st.builds(
        FeedState,
        url=texts,
        etag=st.none() | texts,
        last_success=st.none() | aware_times,
        consecutive_errors=st.integers(0, 100),
        next_poll=st.none() | aware_times,
    )
)
def test_feed_state_survives_document_round_trip(state: FeedState) -> None:
    """A FeedState written and read back is the same FeedState."""
    assert record_from_doc(FeedState, json.loads(json.dumps(record_to_doc(state))), "t") == state


def test_naive_times_are_refused() -> None:
    """A time without a zone cannot be stored (it would be ambiguous forever)."""
    with pytest.raises(ValueError, match="timezone-aware"):
        article_to_doc(article(1, fetched=datetime(2026, 1, 1)), "e", "h")


# -- cycles and the seen registry -----------------------------------------------------------


def test_seen_registry_and_articles_survive_reopen(tmp_path: Path) -> None:
    """Entries processed in one run are seen in the next; their articles come back intact."""
    with Store.open(tmp_path) as store:
        store.commit_cycle(
            NOW,
            [article(1), article(2)],
            [mark(1), mark(2), mark(3, stored=False)],
            {"bbc": FeedState(url="https://bbc.example/rss", etag='W/"x"', last_success=NOW)},
        )
    with Store.open(tmp_path) as store:
        assert store.seen("bbc", "entry-1") == Seen("a1", "h1")
        assert store.seen("bbc", "entry-3") == Seen(None, "h1")
        assert store.seen("bbc", "entry-4") is None
        assert not store.is_seen("bbc", "entry-4")
        assert store.get(["a2", "missing", "a1"]) == [article(2), article(1)]
        assert sorted(a.id for a in store.iter_articles()) == ["a1", "a2"]
        assert store.feed_state("bbc") == FeedState(
            url="https://bbc.example/rss", etag='W/"x"', last_success=NOW
        )
        assert store.feed_state("npr") is None
        assert store.article_count() == 2


def test_entries_are_seen_per_feed() -> None:
    """The same GUID in two feeds is two entries; the decider gets one feed's hashes."""
    store = Store.in_memory()
    store.commit_cycle(
        NOW,
        [article(1, feed="bbc"), article(2, feed="npr")],
        [SeenMark("guid-1", "h-bbc", "bbc", "a1"), SeenMark("guid-1", "h-npr", "npr", "a2")],
    )
    assert store.seen("bbc", "guid-1") == Seen("a1", "h-bbc")
    assert store.seen("npr", "guid-1") == Seen("a2", "h-npr")
    assert store.seen("dawn", "guid-1") is None
    assert store.seen_hashes("npr", ["guid-1", "guid-2"]) == {"guid-1": "h-npr"}


def test_updated_article_replaces_the_stored_one_everywhere() -> None:
    """An entry that changed is stored again; readers see only the newest version, once."""
    volume = MemoryVolume()
    store = Store.in_memory(volume)
    cycle(store, range(1, 4))
    later = NOW + timedelta(days=2)
    store.commit_cycle(
        later, [article(2, later, title="Corrected", updated=later)], [mark(2, "h2")]
    )
    for reopened in (store, Store.in_memory(volume)):
        assert reopened.seen("bbc", "entry-2") == Seen("a2", "h2")
        everything = list(reopened.iter_articles())
        assert sorted(a.id for a in everything) == ["a1", "a2", "a3"]
        assert reopened.get(["a2"])[0].title == "Corrected"
        assert reopened.article_count() == 3


@pytest.mark.parametrize(
    ("articles_", "marks", "problem"),
    [
        ([article(1)], [], r"unmarked articles \['a1'\]"),
        ([], [mark(1)], r"marks without article \['a1'\]"),
        ([article(1), article(1)], [mark(1)], "twice"),
        ([], [mark(1, stored=False), mark(1, stored=False)], "marked twice"),
    ],
)
def test_a_cycle_that_breaks_the_seen_invariant_is_refused(
    articles_: list[StoredArticle], marks: list[SeenMark], problem: str
) -> None:
    """Every stored article is marked seen and every mark's article is stored, or nothing is."""
    volume = MemoryVolume()
    store = Store.in_memory(volume)
    with pytest.raises(ValueError, match=problem):
        store.commit_cycle(NOW, articles_, marks)
    assert store.seen("bbc", "entry-1") is None
    assert volume.writes == ["state.json"]


def test_iter_articles_since_skips_older_shards() -> None:
    """Asking for recent articles reads only the recent shards."""
    store = Store.in_memory()
    cycle(store, range(1, 3), NOW)
    cycle(store, range(3, 5), NOW + timedelta(days=3))
    recent = store.iter_articles(since=NOW + timedelta(days=2))
    assert sorted(a.id for a in recent) == ["a3", "a4"]


# -- shards: the cost of a cycle does not grow with the archive -----------------------------


def test_a_cycle_rewrites_only_the_newest_shard(tmp_path: Path) -> None:
    """Files of earlier days and full shards are never rewritten by a later cycle."""
    with Store.open(tmp_path, shard_max_articles=5) as store:
        cycle(store, range(5), NOW - timedelta(days=1))
        cycle(store, range(5, 10), NOW)
        before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.rglob("*.json")}
        time.sleep(0.01)
        cycle(store, range(10, 12), NOW)
    after = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.rglob("*.json")}
    changed = sorted(str(p.relative_to(tmp_path)) for p in after if before.get(p) != after[p])
    assert changed == ["archive/2026-11-28.001.json", "seen/2026-11-28.001.json"]
    assert before.keys() <= after.keys()


def test_bytes_written_per_cycle_stay_bounded_as_the_archive_grows() -> None:
    """The largest write of cycle 40 is no larger than the largest write of cycle 4."""
    volume = MemoryVolume()
    store = Store.in_memory(volume, shard_max_articles=20)
    sizes: list[int] = []
    for n in range(40):
        seen_before = len(volume.writes)
        cycle(store, range(n * 10, n * 10 + 10), NOW + timedelta(minutes=n))
        sizes.append(max(len(volume.files[name]) for name in volume.writes[seen_before:]))
    assert max(sizes[30:]) <= max(sizes[:4]) * 1.05
    assert store.article_count() == 400
    assert len(volume.names("archive")) == 20


# -- retention -----------------------------------------------------------------------------


def test_prune_drops_old_articles_whole_shards_but_remembers_their_entries() -> None:
    """Articles go after retention_days; their entries stay seen until seen_retention_days."""
    volume = MemoryVolume()
    store = Store.in_memory(volume)
    cycle(store, range(1, 3), NOW - timedelta(days=40))
    cycle(store, range(3, 5), NOW - timedelta(days=10))
    result = store.prune(NOW, retention_days=30, seen_retention_days=365)
    assert (result.archive_shards, result.seen_shards) == (1, 0)
    for reopened in (store, Store.in_memory(volume)):
        assert sorted(a.id for a in reopened.iter_articles()) == ["a3", "a4"]
        assert reopened.get(["a1"]) == []
        assert reopened.seen("bbc", "entry-1") == Seen("a1", "h1")


def test_prune_forgets_old_entries_except_those_feeds_still_show() -> None:
    """After seen_retention_days an entry is forgotten, unless it was looked up since opening."""
    volume = MemoryVolume()
    cycle(Store.in_memory(volume), range(1, 4), NOW - timedelta(days=400))
    store = Store.in_memory(volume)
    assert store.is_seen("bbc", "entry-2")  # the feed still lists entry 2
    result = store.prune(NOW, retention_days=30, seen_retention_days=365)
    assert (result.seen_shards, result.marks_carried) == (1, 1)
    for reopened in (store, Store.in_memory(volume)):
        assert reopened.seen("bbc", "entry-1") is None
        assert reopened.seen("bbc", "entry-2") == Seen("a2", "h1")
        assert list(reopened.iter_articles()) == []


# -- crashes -------------------------------------------------------------------------------


class CrashingVolume(MemoryVolume):
    """A volume whose process 'dies' just before writing a file under a given prefix."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_before: str | None = None

    def write_text(self, name: str, text: str) -> None:
        if self.crash_before is not None and name.startswith(self.crash_before):
            raise KeyboardInterrupt("killed")
        super().write_text(name, text)


@pytest.mark.parametrize("crash_before", ["archive/", "seen/", "state.json"])
def test_a_crash_between_writes_loses_nothing_and_duplicates_nothing(crash_before: str) -> None:
    """Whichever write a crash prevents, on reopen every stored article is marked seen and
    every entry marked seen has its article."""
    volume = CrashingVolume()
    cycle(Store.in_memory(volume), range(1, 3))
    volume.crash_before = crash_before
    with pytest.raises(KeyboardInterrupt):
        Store.in_memory(volume).commit_cycle(
            NOW, [article(3)], [mark(3)], {"bbc": FeedState(url="u", etag="new")}
        )
    volume.crash_before = None
    store = Store.in_memory(volume)
    stored = {a.id for a in store.iter_articles()}
    marked = {f"a{n}" for n in range(1, 4) if store.is_seen("bbc", f"entry-{n}")}
    assert stored == marked
    assert stored == ({"a1", "a2"} if crash_before == "archive/" else {"a1", "a2", "a3"})
    assert store.feed_state("bbc") is None  # old validators: the feed is fetched again


_CRASH_WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tests.store.test_store import NOW, article, cycle, mark
from bot.store.datadir import Store

store = Store.open(Path(sys.argv[1]))
cycle(store, range(0, 3))
print("ready", flush=True)
big = "x" * 20_000
n = 3
while True:
    batch = range(n, n + 1500)
    store.commit_cycle(NOW, [article(i, text=big) for i in batch], [mark(i) for i in batch])
    n += 1500
"""


@pytest.mark.parametrize("kill_after_bytes", [1, 8_000_000])
def test_a_writer_killed_mid_write_leaves_the_previous_file_intact(
    tmp_path: Path, kill_after_bytes: int
) -> None:
    """SIGKILL while a large batch is being written: the store reopens with complete cycles."""
    writer = subprocess.Popen(
        [sys.executable, "-c", _CRASH_WRITER, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == b"ready"
        archive = tmp_path / "archive"
        deadline = time.monotonic() + 60
        partial: list[Path] = []
        while not partial and time.monotonic() < deadline:
            partial = [p for p in archive.glob(".*.tmp") if _size(p) >= kill_after_bytes]
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    assert partial, "the writer never started writing a batch"
    with Store.open(tmp_path) as store:
        stored = sorted(int(a.id[1:]) for a in store.iter_articles())
        assert stored[:3] == [0, 1, 2]
        assert stored == list(range(len(stored)))
        assert all(store.is_seen("bbc", f"entry-{n}") for n in stored)
        assert not store.is_seen("bbc", f"entry-{len(stored)}")
    assert list(archive.glob(".*.tmp")) == []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


# -- damage, versions, locking ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"_meta": {"schema": {"version": 1}}, "feeds": {"bb', "not valid JSON"),
        (b"", "is empty"),
        (b"<html>oops</html>", "not valid JSON"),
        (b"[1, 2, 3]", "not a newsbot database"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
@pytest.mark.parametrize("name", ["state.json", "seen/2026-11-28.000.json"])
def test_a_damaged_file_is_reported_and_never_replaced(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    """Opening over a truncated or foreign file fails naming it and what to do; it is kept."""
    with Store.open(tmp_path) as store:
        cycle(store, range(1, 3))
    (tmp_path / name).write_bytes(content)
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / name) in message
    assert problem in message
    assert "backup" in message
    assert "move it aside" in message
    assert (tmp_path / name).read_bytes() == content


def test_a_damaged_archive_shard_is_reported_when_read(tmp_path: Path) -> None:
    """An older archive shard that is damaged fails the read that needs it, naming it."""
    with Store.open(tmp_path) as store:
        cycle(store, range(1, 3), NOW - timedelta(days=1))
        cycle(store, range(3, 5), NOW)
    shard = tmp_path / "archive" / "2026-11-27.000.json"
    shard.write_bytes(shard.read_bytes()[:-40])
    with Store.open(tmp_path) as store:
        assert [a.id for a in store.get(["a3"])] == ["a3"]
        with pytest.raises(StoreError, match=str(shard)):
            store.get(["a1"])


@pytest.mark.parametrize("name", ["state.json", "seen/2026-11-28.000.json"])
def test_data_from_a_newer_schema_is_refused(tmp_path: Path, name: str) -> None:
    """A data directory written by a newer newsbot is not opened (nor silently rewritten)."""
    with Store.open(tmp_path) as store:
        cycle(store, range(1, 2))
    path = tmp_path / name
    tables = json.loads(path.read_text())
    tables["_meta"]["schema"]["version"] = SCHEMA_VERSION + 1
    path.write_text(json.dumps(tables))
    with pytest.raises(StoreError, match=r"newer than this newsbot understands.*upgrade"):
        Store.open(tmp_path)
    assert json.loads(path.read_text()) == tables


def test_schema_version_is_recorded(tmp_path: Path) -> None:
    """A new data directory records the schema version it was written with."""
    Store.open(tmp_path).close()
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["_meta"]["schema"] == {"version": SCHEMA_VERSION}


def test_a_second_writer_is_refused_while_readers_may_open(tmp_path: Path) -> None:
    """Two processes writing one data directory would lose data: the second is refused."""
    with Store.open(tmp_path) as store:
        cycle(store, range(1, 3))
        with pytest.raises(StoreError, match="in use by another newsbot process"):
            Store.open(tmp_path)
        reader = Store.open(tmp_path, read_only=True)
        assert sorted(a.id for a in reader.iter_articles()) == ["a1", "a2"]
        with pytest.raises(StoreError, match="read-only"):
            cycle(reader, range(3, 4))
    Store.open(tmp_path).close()


# -- renaming a feed --------------------------------------------------------------------------


def test_a_renamed_feed_keeps_its_state_and_seen_entries_across_shards_and_reopen() -> None:
    """Renaming moves the feed's state and every seen mark, so its entries are not news again."""
    volume = MemoryVolume()
    store = Store.in_memory(volume, shard_max_marks=2)
    state = FeedState(url="https://bbc.example/rss", etag='"v1"', polls=4, consecutive_errors=1)
    store.commit_cycle(NOW, [article(1)], [mark(1)], {"bbc": state})
    store.commit_cycle(NOW + timedelta(days=1), [article(2)], [mark(2), mark(3, stored=False)])
    store.commit_cycle(NOW, [article(9, feed="dw")], [mark(9, feed="dw")])

    assert store.rename_feed("bbc", "BBC World") == 3

    for reopened in (store, Store.in_memory(volume)):
        assert reopened.feed_state("BBC World") == state
        assert reopened.feed_state("bbc") is None
        assert [reopened.is_seen("BBC World", f"entry-{n}") for n in (1, 2, 3)] == [True] * 3
        assert not reopened.is_seen("bbc", "entry-1")
        assert reopened.is_seen("dw", "entry-9")
        assert reopened.seen("BBC World", "entry-2") == Seen("a2", "h1")


def test_renaming_again_after_a_crash_midway_finishes_the_move() -> None:
    """A rename interrupted after some shards moved completes when it runs again."""
    volume = MemoryVolume()
    store = Store.in_memory(volume)
    store.commit_cycle(NOW, [article(1)], [mark(1)], {"bbc": FeedState(url="u")})
    store.commit_cycle(NOW + timedelta(days=2), [article(2)], [mark(2)])
    partial = Store.in_memory(volume)
    partial._archive.rename_feed("bbc", "BBC")  # the marks moved, the state did not yet

    again = Store.in_memory(volume)
    again.rename_feed("bbc", "BBC")
    assert again.feed_state("BBC") == FeedState(url="u")
    assert again.is_seen("BBC", "entry-1")
    assert again.is_seen("BBC", "entry-2")
    assert again.feed_states().keys() == {"BBC"}
