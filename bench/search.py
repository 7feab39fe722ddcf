"""Search benchmark: newsbot's search against FTS5's own query and against a linear scan.

Builds an index of N articles made of real news sentences (PolNeAR and CNN/DailyMail text from
the shared corpus, drawn with a fixed seed; 6 to 30 sentences each, a year of dates), then
times the same queries (1 to 3 content words of one real sentence) several ways, taking turns
on each query so that a busy machine slows them alike:

- ours: ``SearchIndex.search`` — parse, BM25 with column weights × recency, total count,
  metadata and a highlighted snippet for each of the 10 hits on the page;
- raw_fts5: FTS5's own ranked query for the same words on the same table
  (``SELECT rowid, title … WHERE fts MATCH 'w1 w2' ORDER BY rank LIMIT 10``), and
  raw_fts5_snippet: the same with FTS5's own ``snippet()``;
- store_scan: a linear scan of the stored documents, the baseline the issue names. The same
  articles are written into a real ``Store`` (``commit_cycle`` in cycles of ``--cycle-articles``
  spread over the year, as ingest does; shards under ``data/archive``) and a query is what one
  would write without an index: ``for a in store.iter_articles()``, lower-case title + text,
  keep the article when every query word occurs as a whole word (scan_words' test: a
  substring test, then a regular expression). Unranked, no count, no snippets: less work per
  query than ours. store_scan_tinydb: the same test as TinyDB's own ``table.search`` over
  each shard's ``articles`` table, skipping the ``StoredArticle`` conversion (what a scan of
  the store's files costs without the store's own reading);
- scan / scan_words: the kindest possible scan, NOT of the store: every title + text
  lower-cased in advance and held in a Python list in memory (as no process keeps them),
  keeping those that contain every word as a substring, or (scan_words) as a whole word (a
  regular expression after the substring test). The kindest lower bound of a linear scan.

Times are reported both as wall-clock and as CPU time of the querying thread (steady when
other processes share the machine), p50 and p95 in ms, and as ratios measured in this run.
Also: build time (``rebuild``), index and store size on disk, the store's write and open time,
upsert cost, peak RSS (ru_maxrss) after each stage, and the peak Python heap of one store scan
(tracemalloc). The scans are timed on fewer queries (``--store-scan-queries``,
``--scan-queries``) than ours, each beside ours on the same queries.

Run: ``python -m bench.search`` (100 000 articles) or ``python -m bench.search --articles 2000``
(CI smoke size); ``--keep DIR`` keeps the built index and store for another run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.models import StoredArticle
from bot.search.index import INDEX_FILENAME, SearchIndex
from bot.search.query import STOP_WORDS
from bot.store.archive import ARCHIVE, SEEN
from bot.store.datadir import STATE, SeenMark, Store
from bot.store.storage import DirectoryVolume, open_database

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("NEWSBOT_SHARED", ROOT.parent / "shared")) / "corpus"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“'])")
_WORD = re.compile(r"[a-z]{4,}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--scan-queries", type=int, default=40, help="queries timed by scan")
    parser.add_argument(
        "--store-scan-queries", type=int, default=10, help="queries timed by store_scan"
    )
    parser.add_argument("--cycle-articles", type=int, default=100, help="articles per commit_cycle")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the index and store in this folder and keep them (reused if built)",
    )
    args = parser.parse_args(argv)

    titles, sentences = load_text(CORPUS)
    print(
        f"corpus: {len(titles)} titles, {len(sentences)} sentences; "
        f"{args.articles} articles, seed {args.seed}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        index = SearchIndex.in_data_dir(data_dir)
        report: dict[str, float] = {}
        if len(index) != args.articles:
            started, cpu_started = time.perf_counter(), time.process_time()
            index.rebuild(generate(args.articles, titles, sentences, args.seed))
            report["build_s"] = round(time.perf_counter() - started, 1)
            report["build_cpu_s"] = round(time.process_time() - cpu_started, 1)
        report["articles"] = len(index)
        report["index_mib"] = round(
            sum(p.stat().st_size for p in data_dir.iterdir() if p.name.startswith(INDEX_FILENAME))
            / 2**20,
            1,
        )
        pages, free = (
            index._db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_count", "freelist_count")
        )
        report["index_free_pct"] = round(100 * free / pages, 1)
        report["text_mib"] = round(
            sum(
                len(a.title) + len(a.text) + sum(map(len, a.lead))
                for a in generate(args.articles, titles, sentences, args.seed)
            )
            / 2**20,
            1,
        )
        report["peak_rss_mib_after_build"] = peak_rss_mib()

        extra = list(generate(1000, titles, sentences, args.seed + 1, id_prefix="upd"))
        started = time.perf_counter()
        index.index_articles(extra[:500])
        for article in extra[500:]:  # one transaction each, as a poll cycle of one article
            index.index_articles([article])
        report["upsert_ms_per_article"] = round((time.perf_counter() - started) * 1000 / 1000, 2)
        index.remove(a.id for a in extra)

        queries = make_queries(sentences, args.queries, args.seed)
        db = index._db  # the same connection, for the engine's own queries
        raw_sql = (
            "SELECT rowid, title FROM fts_stemmed WHERE fts_stemmed MATCH ? ORDER BY rank LIMIT 10"
        )
        raw_snippet_sql = (
            "SELECT rowid, title, snippet(fts_stemmed, 2, '<b>', '</b>', '…', 30) "
            "FROM fts_stemmed WHERE fts_stemmed MATCH ? ORDER BY rank LIMIT 10"
        )
        ours, raw, raw_snippet = time_interleaved(
            queries,
            [
                lambda q: index.search(q, now=NOW, limit=10),
                lambda q: db.execute(raw_sql, (q,)).fetchall(),
                lambda q: db.execute(raw_snippet_sql, (q,)).fetchall(),
            ],
        )
        report["matches_median"] = statistics.median(
            index.search(q, now=NOW, limit=1).total for q in queries
        )
        add_times(report, "ours", ours)
        add_times(report, "raw_fts5", raw)
        add_times(report, "raw_fts5_snippet", raw_snippet)
        add_ratios(report, "ours_over_raw", ours, raw)
        add_ratios(report, "ours_over_raw_snippet", ours, raw_snippet)
        prefix_queries = [f"{q.split()[0][:4]}*" for q in queries[:50]]
        add_times(
            report,
            "ours_prefix",
            time_interleaved(prefix_queries, [lambda q: index.search(q, now=NOW, limit=10)])[0],
        )
        report["peak_rss_mib_after_search"] = peak_rss_mib()

        # store_scan: the same articles in a real Store, scanned as one would without an index
        volume = DirectoryVolume(data_dir)
        with Store.open(data_dir) as store:
            stored = store.article_count()
        if stored != args.articles:
            started, cpu_started = time.perf_counter(), time.process_time()
            cycles = fill_store(
                data_dir,
                generate(args.articles, titles, sentences, args.seed),
                args.articles,
                args.cycle_articles,
            )
            report["store_cycles"] = cycles
            report["store_write_s"] = round(time.perf_counter() - started, 1)
            report["store_write_cpu_s"] = round(time.process_time() - cpu_started, 1)
        started = time.perf_counter()
        store = Store.open(data_dir)
        report["store_open_s"] = round(time.perf_counter() - started, 2)
        report["store_articles"] = store.article_count()
        report["store_shards"] = len(volume.names(ARCHIVE))
        report["store_mib"] = round(
            sum(
                p.stat().st_size
                for p in (
                    data_dir / STATE,
                    *(data_dir / ARCHIVE).iterdir(),
                    *(data_dir / SEEN).iterdir(),
                )
            )
            / 2**20,
            1,
        )
        store_queries = queries[: args.store_scan_queries]
        store_times, tinydb_times, ours_store = time_interleaved(
            store_queries,
            [
                lambda q: store_scan(store, q.lower().split()),
                lambda q: store_scan_tinydb(volume, q.lower().split()),
                lambda q: index.search(q, now=NOW, limit=10),
            ],
            warmup=1,
        )
        report["store_scan_queries"] = len(store_queries)
        add_times(report, "store_scan", store_times)
        add_times(report, "store_scan_tinydb", tinydb_times)
        add_times(report, "ours_beside_store_scan", ours_store)
        add_ratios(report, "store_scan_over_ours", store_times, ours_store, invert=True)
        add_ratios(report, "store_scan_tinydb_over_ours", tinydb_times, ours_store, invert=True)
        tracemalloc.start()
        found = store_scan(store, store_queries[0].lower().split())
        report["store_scan_peak_heap_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        report["store_scan_matches_first_query"] = len(found)
        report["peak_rss_mib_after_store_scan"] = peak_rss_mib()
        store.close()

        docs = [
            f"{a.title}\n{a.text}".lower()
            for a in generate(args.articles, titles, sentences, args.seed)
        ]
        scan, scan_words, ours_same = time_interleaved(
            queries[: args.scan_queries],
            [
                lambda q: linear_scan(docs, q.lower().split()),
                lambda q: linear_scan_words(docs, q.lower().split()),
                lambda q: index.search(q, now=NOW, limit=10),
            ],
        )
        report["scan_queries"] = len(queries[: args.scan_queries])
        add_times(report, "scan", scan)
        add_times(report, "scan_words", scan_words)
        add_times(report, "ours_beside_scan", ours_same)
        add_ratios(report, "scan_over_ours", scan, ours_same, invert=True)
        add_ratios(report, "scan_words_over_ours", scan_words, ours_same, invert=True)
        report["peak_rss_mib_with_scan_texts"] = peak_rss_mib()
        index.close()

    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(report), file=sys.stderr)
    print(
        f"target ours ≤ 2× the raw FTS5 query (p50 CPU): "
        f"{verdict(report['ours_over_raw_cpu_p50'] <= 2)} "
        f"({report['ours_over_raw_cpu_p50']}×, p95 {report['ours_over_raw_cpu_p95']}×)"
    )
    print(
        f"target ours ≥ 100× faster than a linear scan of the stored documents "
        f"(store_scan: Store.iter_articles, {report['store_scan_queries']} queries at "
        f"{report['store_articles']} articles, p50 CPU): "
        f"{verdict(report['store_scan_over_ours_cpu_p50'] >= 100)} "
        f"({report['store_scan_over_ours_cpu_p50']}×, "
        f"p95 {report['store_scan_over_ours_cpu_p95']}×)"
    )
    print(
        f"also: TinyDB's table.search over the archive shards (store_scan_tinydb, p50 CPU): "
        f"{report['store_scan_tinydb_over_ours_cpu_p50']}× "
        f"({'≥' if report['store_scan_tinydb_over_ours_cpu_p50'] >= 100 else '<'} 100×)"
    )
    print(
        "kindest lower bound, not a scan of the store (texts pre-lower-cased in a Python list "
        f"in memory, p50 CPU): substring scan {report['scan_over_ours_cpu_p50']}×, "
        f"whole-word scan {report['scan_words_over_ours_cpu_p50']}×"
    )
    return 0


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def fill_store(
    data_dir: Path, articles: Iterable[StoredArticle], count: int, cycle_articles: int
) -> int:
    """Write the articles into a real store as ingest does: one ``commit_cycle`` (articles and
    their seen marks) per ``cycle_articles``, the cycles spread evenly over the year the
    articles' dates cover, so shards roll by UTC day and by size. Returns the cycle count."""
    cycles = max(1, -(-count // cycle_articles))
    start, step = NOW - timedelta(days=365), timedelta(days=365) / cycles
    done = 0
    with Store.open(data_dir) as store:
        batch: list[StoredArticle] = []
        for article in articles:
            batch.append(article)
            if len(batch) == cycle_articles:
                commit(store, start + done * step, batch)
                done, batch = done + 1, []
        if batch:
            commit(store, start + done * step, batch)
            done += 1
    return done


def commit(store: Store, now: datetime, articles: list[StoredArticle]) -> None:
    marks = [
        SeenMark(a.link, hashlib.sha256(a.text.encode()).hexdigest()[:16], a.feed, a.id)
        for a in articles
    ]
    store.commit_cycle(now, articles, marks)


def store_scan(store: Store, words: list[str]) -> list[str]:
    """Ids of the stored articles whose title or text holds every word as a whole word, by
    reading every article the way the store hands them out: the search one writes without an
    index (the word test is ``scan_words``'s, so only the reading differs)."""
    holds = whole_words_test(words)
    return [a.id for a in store.iter_articles() if holds(f"{a.title}\n{a.text}".lower())]


def store_scan_tinydb(volume: DirectoryVolume, words: list[str]) -> list[str]:
    """The same test as TinyDB's own ``search`` over each archive shard's table of documents,
    without building ``StoredArticle``s (nor skipping older copies of updated articles)."""
    holds = whole_words_test(words)

    def matches(doc: Mapping[Any, Any]) -> bool:
        return holds(f"{doc['title']}\n{doc['text']}".lower())

    found: list[str] = []
    for name in volume.names(ARCHIVE):
        table = open_database(volume, name).keyed("articles")
        found += (str(doc.doc_id) for doc in table.search(matches))  # type: ignore[arg-type]
    return found


Timings = tuple[list[float], list[float]]  # wall seconds, CPU seconds


def add_times(report: dict[str, float], name: str, timings: Timings) -> None:
    for clock, times in zip(("wall", "cpu"), timings, strict=True):
        for p in (50, 95):
            report[f"{name}_{clock}_p{p}_ms"] = round(pct(times, p) * 1000, 2)


def add_ratios(
    report: dict[str, float], name: str, ours: Timings, base: Timings, invert: bool = False
) -> None:
    for clock, a, b in zip(("wall", "cpu"), ours, base, strict=True):
        for p in (50, 95):
            ratio = pct(a, p) / pct(b, p)
            report[f"{name}_{clock}_p{p}"] = round(ratio, 1 if invert else 2)


def load_text(corpus: Path) -> tuple[list[str], list[str]]:
    """Real titles and sentences: PolNeAR articles and CNN/DailyMail stories."""
    titles: list[str] = []
    sentences: list[str] = []
    for path in sorted((corpus / "quotes").glob("polnear_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            titles.append(record["title"])
            for paragraph in record["text"].split("\n\n")[1:]:
                sentences += [s for s in _SENTENCE_END.split(paragraph) if len(s) > 20]
    for path in sorted((corpus / "summaries").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            article = json.loads(line)["article"]
            parts = [s.strip() for s in article.split(" . ") if len(s) > 20]
            titles.append(parts[0][:90])
            sentences += [f"{s} ." for s in parts]
    return titles, sentences


def generate(
    count: int, titles: list[str], sentences: list[str], seed: int, id_prefix: str = "a"
) -> Iterator[StoredArticle]:
    """``count`` articles: a real title, 6 to 30 real sentences in paragraphs, a year of dates."""
    rng = random.Random(seed)
    feeds = [f"feed-{n:02d}" for n in range(40)]
    for n in range(count):
        body = rng.sample(sentences, rng.randint(6, 30))
        paragraphs = [" ".join(body[i : i + 3]) for i in range(0, len(body), 3)]
        published = NOW - timedelta(minutes=rng.randint(0, 365 * 1440))
        yield StoredArticle(
            id=f"{id_prefix}{n}",
            feed=rng.choice(feeds),
            title=rng.choice(titles),
            link=f"https://news.example/{id_prefix}{n}",
            published=published,
            fetched=published,
            text="\n\n".join(paragraphs),
            lead=tuple(body[:2]),
        )


def make_queries(sentences: list[str], count: int, seed: int) -> list[str]:
    """One to three content words of one real sentence, as people search for a story."""
    rng = random.Random(seed + 100)
    queries: list[str] = []
    while len(queries) < count:
        words = sorted(set(_WORD.findall(rng.choice(sentences).lower())) - STOP_WORDS)
        if words:
            queries.append(" ".join(rng.sample(words, min(len(words), rng.choice((1, 2, 2, 3))))))
    return queries


def linear_scan(docs: list[str], words: list[str]) -> list[int]:
    """Documents containing every word as a substring (so "art" is found in "party")."""
    return [i for i, doc in enumerate(docs) if all(w in doc for w in words)]


def linear_scan_words(docs: list[str], words: list[str]) -> list[int]:
    """Documents containing every word as a whole word: the search's own rule, still without
    its stemming and accent folding, over texts lower-cased in advance."""
    holds = whole_words_test(words)
    return [i for i, doc in enumerate(docs) if holds(doc)]


def whole_words_test(words: list[str]) -> Callable[[str], bool]:
    """Whether a lower-cased text holds every word as a whole word; a substring test first so
    that the regular expression only runs where the word may be."""
    patterns = [(w, re.compile(rf"\b{re.escape(w)}\b")) for w in words]
    return lambda text: all(w in text and p.search(text) for w, p in patterns)


def time_interleaved(
    queries: list[str], runners: list[Callable[[str], object]], warmup: int = 5
) -> list[Timings]:
    """Wall and CPU seconds per query for each runner; the runners take turns on each query,
    so that a busy machine slows them alike. The first ``warmup`` queries run once untimed
    (to warm the page cache)."""
    for q in queries[:warmup]:
        for run in runners:
            run(q)
    times: list[Timings] = [([], []) for _ in runners]
    for q in queries:
        for run, (wall, cpu) in zip(runners, times, strict=True):
            started, cpu_started = time.perf_counter(), time.thread_time()
            run(q)
            cpu.append(time.thread_time() - cpu_started)
            wall.append(time.perf_counter() - started)
    return times


def pct(times: list[float], percentile: int) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(percentile / 100 * (len(ordered) - 1)))]


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    raise SystemExit(main())
