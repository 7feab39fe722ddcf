"""Store benchmark: the cost of one poll cycle's write as the archive grows.

Writes cycles of ``--batch`` articles (about 3 KB of text each, the size of a news article)
until the archive holds ``--articles``, timing every commit, two ways in the same run:

- ours: ``Store.commit_cycle`` (sharded archive + seen shard, atomic fsync'd writes);
- baseline: one TinyDB file with TinyDB's stock ``JSONStorage`` (an insert rewrites the whole
  archive, without fsync), the design the store replaces.

Prints the median commit time over the first and the last tenth of the cycles for each, the
ratio last/first (1.0 = cost independent of archive size), the time to open the full store,
and its size on disk.

Run: ``python -m bench.store`` (5 000 articles) or ``python -m bench.store --articles 2000``.
The stock baseline's cost is quadratic in the archive size: larger runs take long.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from bot.models import Quote, StoredArticle
from bot.store.datadir import SeenMark, Store
from bot.store.documents import article_to_doc

NOW = datetime(2026, 11, 1, 6, tzinfo=UTC)
_PARAGRAPH = (
    "The minister told reporters on Tuesday that the talks would resume next week, after "
    "both delegations had consulted their governments about the proposed ceasefire terms. "
) * 4


def _article(n: int, now: datetime) -> StoredArticle:
    return StoredArticle(
        id=f"article-{n}",
        feed=f"feed-{n % 50}",
        title=f"Talks to resume next week, minister says ({n})",
        link=f"https://news.example/world/{n}",
        published=now - timedelta(minutes=30),
        fetched=now,
        text="\n\n".join([_PARAGRAPH] * 4),
        lead=(_PARAGRAPH[:170],),
        quotes=(Quote("We are ready to talk as long as it takes to reach an agreement", "A"),),
    )


def _cycles(total: int, batch: int) -> list[tuple[datetime, list[StoredArticle]]]:
    cycles = []
    for i, start in enumerate(range(0, total, batch)):
        now = NOW + timedelta(minutes=30 * i)  # 48 cycles a day: shards roll daily and by size
        cycles.append((now, [_article(n, now) for n in range(start, min(start + batch, total))]))
    return cycles


def _ends(times: list[float]) -> tuple[float, float]:
    tenth = max(1, len(times) // 10)
    return statistics.median(times[:tenth]), statistics.median(times[-tenth:])


def run(total: int, batch: int) -> None:
    cycles = _cycles(total, batch)
    with tempfile.TemporaryDirectory() as tmp:
        ours: list[float] = []
        with Store.open(Path(tmp) / "data") as store:
            for now, articles in cycles:
                marks = [SeenMark(f"entry-{a.id}", "hash", a.feed, a.id) for a in articles]
                start = time.perf_counter()
                store.commit_cycle(now, articles, marks)
                ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        with Store.open(Path(tmp) / "data") as store:
            opened_s = time.perf_counter() - start
            assert store.article_count() == total
        size = sum(p.stat().st_size for p in (Path(tmp) / "data").rglob("*.json"))

        stock: list[float] = []
        with TinyDB(Path(tmp) / "stock.json", storage=JSONStorage) as db:
            table = db.table("articles")
            for _now, articles in cycles:
                docs = [article_to_doc(a, f"entry-{a.id}", "hash") for a in articles]
                start = time.perf_counter()
                table.insert_multiple(docs)
                stock.append(time.perf_counter() - start)

    print(f"{total} articles in {len(cycles)} cycles of {batch}")
    print(f"{'':10} {'first 10%':>10} {'last 10%':>10} {'last/first':>10}")
    for name, times in (("ours", ours), ("stock", stock)):
        first, last = _ends(times)
        print(f"{name:10} {first * 1000:8.1f}ms {last * 1000:8.1f}ms {last / first:10.2f}")
    print(f"open the full store: {opened_s:.2f} s; size on disk: {size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    run(args.articles, args.batch)


if __name__ == "__main__":
    main()
