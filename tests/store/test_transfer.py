"""Moving a community between backends: ``newsbot store export`` then ``import`` carries every
article, seen entry, feed state and chat record across, both ways."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import InputError
from bot.models import FeedState, Quote, StoredArticle
from bot.store.archive import SeenMark
from bot.store.contract import ArticleStore
from bot.store.datadir import Store
from bot.store.pg import Database
from bot.store.pgarchive import PgStore
from bot.store.transfer import export_store, import_store

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def article(n: int, fetched: datetime) -> StoredArticle:
    return StoredArticle(
        id=f"a{n}", feed="bbc" if n % 2 else "Dawn", title=f"Story {n} – «quoted»",
        link=f"https://news.example/{n}", published=fetched - timedelta(hours=1),
        fetched=fetched, text=f"Body {n}. مزید متن", lead=(f"Body {n}.",),
        quotes=(Quote("We will not stop", "Jane Doe"),), tags=("x",),
    )  # fmt: skip


def fill(store: ArticleStore) -> None:
    for day in range(3):
        when = NOW - timedelta(days=day)
        numbers = range(day * 10, day * 10 + 10)
        store.commit_cycle(
            when,
            [article(n, when) for n in numbers],
            [SeenMark(f"e{n}", f"h{n}", article(n, when).feed, f"a{n}") for n in numbers],
        )
    store.commit_cycle(NOW, marks=[SeenMark("skipped", "hs", "bbc")])
    store.commit_cycle(
        NOW,
        feed_states={
            "bbc": FeedState(url="https://bbc.example/rss", etag='W/"1"', last_success=NOW)
        },
    )
    store.chat_store.write({"chats": {"42": {"chat_id": 42, "feeds": ["bbc"]}},
                            "alerts": {"42": {"next_id": 2, "alerts": []}}})  # fmt: skip


def export_lines(store: ArticleStore) -> list[str]:
    out = io.StringIO()
    export_store(store, out)
    return out.getvalue().splitlines()


def exported(store: ArticleStore) -> list[str]:
    """The export, in an order that does not depend on the backend."""
    return sorted(export_lines(store))


def test_a_store_moves_to_postgresql_and_back_without_losing_anything(
    tmp_path: Path, pg_database: Database
) -> None:
    """Data folder -> PostgreSQL -> data folder: the same export each time, and the moved
    store answers as the first did."""
    with Store.open(tmp_path / "a") as first:
        fill(first)
        original = exported(first)
        lines = export_lines(first)
    assert len(original) == 1 + 30 + 1 + 1 + 2
    database = PgStore(pg_database)
    import_store(database, lines, now=NOW)
    assert exported(database) == original
    assert database.seen("bbc", "e1") is not None
    assert database.get(["a25"]) == [article(25, NOW - timedelta(days=2))]
    with Store.open(tmp_path / "b") as back:
        import_store(back, export_lines(database), now=NOW)
        assert exported(back) == original
        assert back.expired_ids(NOW, 1) == [f"a{n}" for n in sorted(range(20, 30), key=str)]


def test_import_refuses_a_store_with_data_and_a_file_that_is_not_an_export(
    tmp_path: Path,
) -> None:
    """Nothing is mixed into existing data, and a wrong file changes nothing."""
    with Store.open(tmp_path / "a") as store:
        with pytest.raises(InputError, match="not a newsbot export"):
            import_store(store, ['{"kind": "chats"}'], now=NOW)
        with pytest.raises(InputError, match="line 2 is malformed"):
            import_store(store, ['{"kind":"newsbot-export","version":1}', '{"kind":"feed"}'],
                         now=NOW)  # fmt: skip
        assert store.article_count() == 0
        fill(store)
        with pytest.raises(InputError, match="not empty"):
            import_store(store, export_lines(store), now=NOW)
