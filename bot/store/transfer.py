"""Moving a store between backends: ``export_store`` writes everything a store holds as JSON
lines, ``import_store`` reads them into an empty store (the data folder or PostgreSQL).

One JSON object a line: a header ``{"kind": "newsbot-export", "version": 1}``, then
``article`` (the archive document, which names its feed entry), ``mark`` (a seen entry
whose article is not in the file: skipped, or pruned), ``feed`` (a feed's polling state)
and ``record`` (the chat store: chats' preferences, alerts, marks). The search index is not
in the file: it is built from the articles on import. The delivery ledger is not either:
after a move each chat's next digest starts from ``first_digest_hours`` back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import groupby
from typing import IO, Any

from bot.errors import InputError
from bot.models import FeedState, StoredArticle
from bot.store.archive import SeenMark
from bot.store.chatstore import CHAT_TABLES
from bot.store.contract import ArticleStore
from bot.store.documents import (
    article_from_doc,
    article_to_doc,
    record_from_doc,
    record_to_doc,
)

FORMAT = "newsbot-export"
VERSION = 1
_BATCH = 500


def export_store(store: ArticleStore, out: IO[str]) -> dict[str, int]:
    """Write everything ``store`` holds to ``out``; returns how many of each kind."""
    counts = {"article": 0, "mark": 0, "feed": 0, "record": 0}
    marks = {m.article_id: m for m in store.iter_marks() if m.article_id is not None}
    _line(out, {"kind": FORMAT, "version": VERSION})
    exported: set[str] = set()
    for article in store.iter_articles():
        mark = marks.get(article.id)
        if mark is None:
            continue  # an article no entry names (cannot happen in a sound store)
        _line(out, {"kind": "article", "id": article.id,
                    "doc": article_to_doc(article, mark.identity, mark.content_hash)})  # fmt: skip
        exported.add(article.id)
        counts["article"] += 1
    for mark in store.iter_marks():
        if mark.article_id is None or mark.article_id not in exported:
            _line(out, {"kind": "mark", "feed": mark.feed, "identity": mark.identity,
                        "hash": mark.content_hash})  # fmt: skip
            counts["mark"] += 1
    for name, state in sorted(store.feed_states().items()):
        _line(out, {"kind": "feed", "name": name, "state": record_to_doc(state)})
        counts["feed"] += 1
    for table in CHAT_TABLES:
        for key, doc in sorted(store.chat_store.items(table)):
            _line(out, {"kind": "record", "table": table, "key": key, "doc": doc})
            counts["record"] += 1
    return counts


def import_store(store: ArticleStore, lines: Iterable[str], *, now: datetime) -> dict[str, int]:
    """Read an export into ``store``, which must be empty (InputError otherwise, or for a file
    that is not an export); returns how many of each kind."""
    if store.article_count() or store.feed_states() or any(True for _ in store.iter_marks()):
        raise InputError("the store to import into is not empty: import into a new one")
    items = _items(lines)
    articles: list[tuple[StoredArticle, SeenMark]] = []
    marks: list[SeenMark] = []
    feeds: dict[str, FeedState] = {}
    records: dict[str, dict[str, Any]] = {}
    for number, item in items:
        try:
            _take(number, item, articles, marks, feeds, records)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(
                f"line {number} is malformed ({exc!r}); nothing was imported"
            ) from None
    return _write(store, articles, marks, feeds, records, now)


def _take(
    number: int,
    item: dict[str, Any],
    articles: list[tuple[StoredArticle, SeenMark]],
    marks: list[SeenMark],
    feeds: dict[str, FeedState],
    records: dict[str, dict[str, Any]],
) -> None:
    kind = item.get("kind")
    if kind == "article":
        doc = item["doc"]
        article = article_from_doc(str(item["id"]), doc, f"line {number}")
        mark = SeenMark(str(doc["identity"]), str(doc["content_hash"]), article.feed,
                        article.id)  # fmt: skip
        articles.append((article, mark))
    elif kind == "mark":
        marks.append(SeenMark(str(item["identity"]), str(item["hash"]), str(item["feed"])))
    elif kind == "feed":
        feeds[str(item["name"])] = record_from_doc(FeedState, item["state"], f"line {number}")
    elif kind == "record":
        records.setdefault(str(item["table"]), {})[str(item["key"])] = dict(item["doc"])
    else:
        raise InputError(f"line {number}: unknown kind {kind!r}")


def _write(
    store: ArticleStore,
    articles: list[tuple[StoredArticle, SeenMark]],
    marks: list[SeenMark],
    feeds: dict[str, FeedState],
    records: dict[str, dict[str, Any]],
    now: datetime,
) -> dict[str, int]:
    articles.sort(key=lambda pair: pair[0].fetched)  # oldest first: stored by their day
    for _, day in groupby(articles, key=lambda pair: pair[0].fetched.astimezone(UTC).date()):
        batch = list(day)
        for start in range(0, len(batch), _BATCH):
            part = batch[start : start + _BATCH]
            store.commit_cycle(part[-1][0].fetched, [a for a, _ in part], [m for _, m in part])
    for start in range(0, len(marks), _BATCH):
        store.commit_cycle(now, marks=marks[start : start + _BATCH])
    store.commit_cycle(now, feed_states=feeds)
    if records:
        store.chat_store.write(records)
    return {
        "article": len(articles),
        "mark": len(marks),
        "feed": len(feeds),
        "record": sum(len(r) for r in records.values()),
    }


def _items(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"line {number} is not JSON ({exc}): is this a newsbot export?"
            ) from None
        if not isinstance(item, dict):
            raise InputError(f"line {number} is not a JSON object: is this a newsbot export?")
        if number == 1:
            if item.get("kind") != FORMAT or item.get("version") != VERSION:
                raise InputError("this is not a newsbot export (its first line says otherwise)")
            continue
        yield number, item
    if number == 0:
        raise InputError("the file is empty: nothing to import")


def _line(out: IO[str], item: dict[str, Any]) -> None:
    out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")
