"""The storage contract: the archive, the seen registry and feed states behave the same in the
data folder and in PostgreSQL (every test runs against both backends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import FeedState, Quote, StoredArticle
from bot.store.archive import Seen, SeenMark
from bot.store.contract import ArticleStore
from bot.store.datadir import Store
from bot.store.pg import Database
from bot.store.pgarchive import PgStore

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)

Opener = Callable[[], ArticleStore]


@pytest.fixture(params=["embedded", "postgres"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the backend's store again over the same data (the previous one is closed)."""
    opened: list[ArticleStore] = []

    def open_store() -> ArticleStore:
        for previous in opened:
            previous.close()
        opened.clear()
        store: ArticleStore
        if request.param == "embedded":
            store = Store.open(tmp_path)
        else:
            db: Database = request.getfixturevalue("pg_database")
            store = PgStore(db)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def article(n: int, fetched: datetime = NOW, feed: str = "bbc", **changes: object) -> StoredArticle:
    base = StoredArticle(
        id=f"a{n}",
        feed=feed,
        title=f"Title {n} – café «quoted»",
        link=f"https://news.example/{n}",
        published=fetched - timedelta(hours=1),
        fetched=fetched,
        text=f"Body of article {n}.\n\nSecond paragraph: मुंबई में बारिश.",
        lead=(f"Body of article {n}.",),
        quotes=(Quote("We will not stop until it is done", "Jane Doe"),),
        author="Jane Doe",
        topic="world",
        tags=("a", "b"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def mark(n: int, content_hash: str = "h1", *, stored: bool = True, feed: str = "bbc") -> SeenMark:
    return SeenMark(f"entry-{n}", content_hash, feed, f"a{n}" if stored else None)


def cycle(
    store: ArticleStore, numbers: range, now: datetime = NOW, content_hash: str = "h1"
) -> None:
    store.commit_cycle(
        now, [article(n, now) for n in numbers], [mark(n, content_hash) for n in numbers]
    )


def test_seen_registry_articles_and_feed_states_survive_reopen(reopen: Opener) -> None:
    """Entries processed in one run are seen in the next; articles and states come back intact."""
    state = FeedState(url="https://bbc.example/rss", etag='W/"x"', last_success=NOW)
    reopen().commit_cycle(
        NOW, [article(1), article(2)], [mark(1), mark(2), mark(3, stored=False)], {"bbc": state}
    )
    store = reopen()
    assert store.seen("bbc", "entry-1") == Seen("a1", "h1")
    assert store.seen("bbc", "entry-3") == Seen(None, "h1")
    assert store.seen("bbc", "entry-4") is None
    assert not store.is_seen("bbc", "entry-4")
    assert store.get(["a2", "missing", "a1"]) == [article(2), article(1)]
    assert sorted(a.id for a in store.iter_articles()) == ["a1", "a2"]
    assert store.feed_state("bbc") == state
    assert store.feed_states() == {"bbc": state}
    assert store.feed_state("npr") is None
    assert store.article_count() == 2


def test_entries_are_seen_per_feed(reopen: Opener) -> None:
    """The same GUID in two feeds is two entries; the decider gets one feed's hashes."""
    store = reopen()
    store.commit_cycle(
        NOW,
        [article(1, feed="bbc"), article(2, feed="npr")],
        [SeenMark("guid-1", "h-bbc", "bbc", "a1"), SeenMark("guid-1", "h-npr", "npr", "a2")],
    )
    assert store.seen("bbc", "guid-1") == Seen("a1", "h-bbc")
    assert store.seen("npr", "guid-1") == Seen("a2", "h-npr")
    assert store.seen("dawn", "guid-1") is None
    assert store.seen_hashes("npr", ["guid-1", "guid-2"]) == {"guid-1": "h-npr"}


def test_updated_article_replaces_the_stored_one_everywhere(reopen: Opener) -> None:
    """An entry that changed is stored again; readers see only the newest version, once."""
    cycle(reopen(), range(1, 4))
    later = NOW + timedelta(days=2)
    reopen().commit_cycle(
        later, [article(2, later, title="Corrected", updated=later)], [mark(2, "h2")]
    )
    store = reopen()
    assert store.seen("bbc", "entry-2") == Seen("a2", "h2")
    assert sorted(a.id for a in store.iter_articles()) == ["a1", "a2", "a3"]
    assert store.get(["a2"])[0].title == "Corrected"
    assert store.article_count() == 3


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
    reopen: Opener, articles_: list[StoredArticle], marks: list[SeenMark], problem: str
) -> None:
    """Every stored article is marked seen and every mark's article is stored, or nothing is."""
    store = reopen()
    with pytest.raises(ValueError, match=problem):
        store.commit_cycle(NOW, articles_, marks, {"bbc": FeedState(url="u")})
    store = reopen()
    assert store.seen("bbc", "entry-1") is None
    assert store.article_count() == 0
    assert store.feed_state("bbc") is None


def test_iter_articles_since_gives_at_least_the_recent_ones(reopen: Opener) -> None:
    """Asking for recent articles gives those stored since then, not the older days."""
    store = reopen()
    cycle(store, range(1, 3), NOW)
    cycle(store, range(3, 5), NOW + timedelta(days=3))
    recent = store.iter_articles(since=NOW + timedelta(days=2))
    assert sorted(a.id for a in recent) == ["a3", "a4"]


def test_iter_articles_gives_every_article_once_past_one_batch(reopen: Opener) -> None:
    """A large archive is read in full, each article once, oldest stored first by day."""
    store = reopen()
    cycle(store, range(700), NOW - timedelta(days=1))
    cycle(store, range(700, 1300), NOW)
    cycle(store, range(5), NOW)  # updated: now stored today
    ids = [a.id for a in store.iter_articles()]
    assert sorted(ids) == sorted(f"a{n}" for n in range(1300))
    assert set(ids[-605:]) >= {f"a{n}" for n in range(5)}


def test_prune_drops_old_articles_but_remembers_their_entries(reopen: Opener) -> None:
    """Articles go after retention_days; their entries stay seen until seen_retention_days."""
    store = reopen()
    cycle(store, range(1, 3), NOW - timedelta(days=40))
    cycle(store, range(3, 5), NOW - timedelta(days=10))
    assert store.expired_ids(NOW, 30) == ["a1", "a2"]
    store.prune(NOW, retention_days=30, seen_retention_days=365)
    store = reopen()
    assert sorted(a.id for a in store.iter_articles()) == ["a3", "a4"]
    assert store.get(["a1"]) == []
    assert store.expired_ids(NOW, 30) == []
    assert store.seen("bbc", "entry-1") == Seen("a1", "h1")


def test_prune_forgets_old_entries_except_those_feeds_still_show(reopen: Opener) -> None:
    """After seen_retention_days an entry is forgotten, unless a poll looked it up since."""
    cycle(reopen(), range(1, 4), NOW - timedelta(days=400))
    store = reopen()
    assert store.seen_hashes("bbc", ["entry-2"]) == {"entry-2": "h1"}  # still in the feed
    store.prune(NOW, retention_days=30, seen_retention_days=365)
    store = reopen()
    assert store.seen("bbc", "entry-1") is None
    assert store.seen("bbc", "entry-2") == Seen("a2", "h1")
    assert list(store.iter_articles()) == []


def test_a_renamed_feed_keeps_its_state_and_seen_entries(reopen: Opener) -> None:
    """Renaming moves the feed's validators and marks to the new name."""
    store = reopen()
    store.commit_cycle(NOW, [article(1)], [mark(1)], {"bbc": FeedState(url="u", etag="e")})
    store.commit_cycle(NOW, [], [SeenMark("entry-9", "h9", "BBC World", None)])
    assert store.rename_feed("bbc", "BBC World") == 1
    store = reopen()
    assert store.seen("BBC World", "entry-1") == Seen("a1", "h1")
    assert store.seen("BBC World", "entry-9") == Seen(None, "h9")
    assert store.feed_state("BBC World") == FeedState(url="u", etag="e")
    assert store.feed_state("bbc") is None
    store.remove_feed_state("BBC World")
    assert reopen().feed_states() == {}


def test_feed_text_postgresql_cannot_hold_is_stored_and_found_again(reopen: Opener) -> None:
    """A NUL or a lone surrogate from a feed never stops a cycle; the entry stays seen."""
    store = reopen()
    odd = article(1, title="Bad\x00title \ud800", text="Text\x00with NUL")
    store.commit_cycle(NOW, [odd], [SeenMark("guid\x00odd", "h", "bbc", "a1")])
    store = reopen()
    assert store.seen_hashes("bbc", ["guid\x00odd"]) == {"guid\x00odd": "h"}
    (again,) = store.get(["a1"])
    assert again.title.startswith("Bad")
    assert again.text.startswith("Text")
