"""PostgreSQL benchmarks: /search against PostgreSQL's own ranked query, and the cost of one
chat change as the chats grow.

- search: N articles of real news sentences (bench.search's generator) indexed with
  ``PgSearchIndex.rebuild`` (COPY in batches; the GIN indexes built once after, as for any
  bulk load); the same queries timed, taking turns, as ours (``PgSearchIndex.search``: parse,
  the words parsed for each configuration in use, stemmed/exact tsvectors, ts_rank_cd ×
  recency, total count, the 10 hits' snippets) and as PostgreSQL's own ranked query for the
  same words (``websearch_to_tsquery`` on the same column, ``ORDER BY ts_rank_cd LIMIT 10``).
  Ratio of p95: at most 2.
- chats: one chat's preferences written (``PgChatStore.write``, its own transaction) with
  ``--chats-small`` chats stored and with ``--chats`` (loaded with COPY), in two databases
  side by side, the writes alternating between them. Ratio of medians: at most 1.5. Also
  the read a bot process makes before using the chats (``PgChatStore.changes``: what other
  processes wrote since), at both sizes.

Run: ``python -m bench.postgres`` (100 000 articles, 100 000 chats) or ``--articles 2000
--chats 5000`` (a smoke size). A throwaway server is started (tests.support.postgres) unless
``--url`` names a database (its tables are used and left filled; ``--reuse`` keeps its
search documents when it holds ``--articles`` of them, to measure again without loading).
``--part search`` or ``--part chats`` runs one half.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from bench.search import generate, load_text, make_queries, pct, time_interleaved
from bot.models import StoredArticle
from bot.search.pgindex import PgSearchIndex
from bot.store.pg import Database
from bot.store.pgchats import PgChatStore
from tests.support.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
GIN_INDEXES = (("search_docs_stemmed", "stemmed"), ("search_docs_exact", "exact"))
RAW = (
    "SELECT id, title FROM search_docs "
    "WHERE stemmed @@ websearch_to_tsquery('newsbot_stemmed', %s) "
    "ORDER BY ts_rank_cd(stemmed, websearch_to_tsquery('newsbot_stemmed', %s)) DESC LIMIT 10"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--chats-small", type=int, default=1_000)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--url", help="an existing database (default: a throwaway server)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --url: keep its search documents when it holds --articles of them",
    )
    parser.add_argument("--part", choices=("all", "search", "chats"), default="all")
    args = parser.parse_args(argv)
    cluster = None if args.url else PostgresCluster.start()
    try:
        url = args.url or cluster.create_database()  # type: ignore[union-attr]
        with Database.open(url) as db:
            report: dict[str, float | bool | str] = {"load_average": _load_average()}
            if args.part in ("all", "search"):
                report |= bench_search(db, args)
                report["search_ok"] = report["search_p95_ratio"] <= 2.0  # type: ignore[operator]
            if args.part in ("all", "chats"):
                if cluster is None:
                    report |= bench_chats(db, args)
                else:
                    with Database.open(cluster.create_database()) as other:
                        report |= bench_chats(db, args, other)
                report["chats_ok"] = report["chat_write_ratio"] <= 1.5  # type: ignore[operator]
            report["load_average_after"] = _load_average()
    finally:
        if cluster is not None:
            cluster.stop()
    print(json.dumps(report, indent=2))
    return 0


def bench_search(db: Database, args: argparse.Namespace) -> dict[str, float]:
    titles, sentences = load_text(CORPUS)
    index = PgSearchIndex(db)
    started = time.perf_counter()
    if not (args.reuse and len(index) == args.articles):
        load(db, index, generate(args.articles, titles, sentences, seed=7))
    build_s = time.perf_counter() - started
    queries = make_queries(sentences, args.queries, seed=7)
    now = datetime.now(UTC)

    def ours(q: str) -> object:
        return index.search(q, now=now, limit=10)

    def raw(q: str) -> object:
        with db.connection() as conn:
            return conn.execute(RAW, (q, q)).fetchall()

    (ours_wall, _), (raw_wall, _) = time_interleaved(queries, [ours, raw])
    return {
        "articles": args.articles,
        "build_s": round(build_s, 1),
        "ours_p50_ms": round(pct(ours_wall, 50) * 1000, 2),
        "ours_p95_ms": round(pct(ours_wall, 95) * 1000, 2),
        "raw_p50_ms": round(pct(raw_wall, 50) * 1000, 2),
        "raw_p95_ms": round(pct(raw_wall, 95) * 1000, 2),
        "search_p95_ratio": round(pct(ours_wall, 95) / pct(raw_wall, 95), 2),
    }


def load(db: Database, index: PgSearchIndex, articles: Iterable[StoredArticle]) -> None:
    """Index ``articles`` through ``index.rebuild`` (COPY in batches), with the GIN indexes
    dropped meanwhile and built once at the end, as a bulk load is done."""
    with db.connection() as conn:
        for name, _ in GIN_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
    index.rebuild(articles)
    with db.connection() as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        for name, column in GIN_INDEXES:
            conn.execute(f"CREATE INDEX {name} ON search_docs USING gin ({column})")
        conn.execute("ANALYZE search_docs")


def bench_chats(
    db: Database, args: argparse.Namespace, other: Database | None = None
) -> dict[str, float]:
    """One chat change with few and with many chats stored. With ``other`` (a second empty
    database) the two sizes live side by side and their changes alternate, so the machine's
    load weighs on both alike; without it the small size is measured first, then filled up."""
    small_db, large_db = db, other or db

    def fill(target: Database, upto: int, start: int) -> float:
        """Store chats ``start`` to ``upto`` with COPY (100 000 in seconds); returns seconds."""
        started = time.perf_counter()
        copying = "COPY chat_records (tbl, key, doc) FROM STDIN"
        with target.connection() as conn, conn.cursor() as cur, cur.copy(copying) as copy:
            for n in range(start, upto):
                copy.write_row(("chats", str(n), json.dumps(_prefs(n))))
        with target.connection() as conn:
            conn.execute("ANALYZE chat_records")
        return time.perf_counter() - started

    def one_change_s(store: PgChatStore, chats: int, n: int) -> float:
        chat = n * 7919 % chats
        started = time.perf_counter()
        store.write({"chats": {str(chat): _prefs(chat, n)}})
        return time.perf_counter() - started

    small_store, large_store = PgChatStore(small_db), PgChatStore(large_db)
    fill(small_db, args.chats_small, 0)
    small: list[float] = []
    large: list[float] = []
    if other is None:
        small = [one_change_s(small_store, args.chats_small, n) for n in range(args.writes)]
    fill_s = fill(large_db, args.chats, args.chats_small if other is None else 0)
    for n in range(args.writes):
        if other is not None:
            small.append(one_change_s(small_store, args.chats_small, n))
        large.append(one_change_s(large_store, args.chats, n))
    small_ms, large_ms = statistics.median(small) * 1000, statistics.median(large) * 1000
    follow = {}  # a bot process taking in what others wrote: the read before each command
    for name, store in (("small", small_store), ("large", large_store)):
        point, _ = store.changes("chats", None)
        times = []
        for _ in range(args.writes // 5):
            started = time.perf_counter()
            point, _ = store.changes("chats", point)
            times.append(time.perf_counter() - started)
        follow[name] = statistics.median(times) * 1000
    return {
        "chat_follow_small_ms": round(follow["small"], 3),
        "chat_follow_ms": round(follow["large"], 3),
        "chats_small": args.chats_small,
        "chats": args.chats,
        "chat_writes": args.writes,
        "alternating": other is not None,
        "chat_write_small_ms": round(small_ms, 3),
        "chat_write_ms": round(large_ms, 3),
        "chat_write_ratio": round(large_ms / small_ms, 2),
        "chat_write_small_mean_ms": round(statistics.fmean(small) * 1000, 3),
        "chat_write_mean_ms": round(statistics.fmean(large) * 1000, 3),
        "chats_fill_s": round(fill_s, 1),
    }


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _prefs(chat: int, change: int = 0) -> dict[str, object]:
    return {"chat_id": chat, "active": True, "time_zone": "Europe/Paris",
            "schedule": {"times": ["08:00", "18:00"]}, "items_per_digest": 10,
            "feeds": ["BBC World", "Dawn"], "topics": [], "change": change}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
