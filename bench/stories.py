"""Story folding benchmark: composing one digest over thousands of fresh articles.

    python -m bench.stories [--articles 5000]

The articles are built from the 924 real political news stories of seven US publishers in
``../shared/corpus/quotes/polnear_*.jsonl``: each story is carried by one to nine feeds, each
copy with its own wording (a title word dropped, the lead taken from a later sentence or
missing), until there are ``--articles``. Three ways in the same run, on the same articles:

- minhash: ``group_stories`` past ``EXACT_UP_TO`` articles (bot.delivery.storylsh: pairs that
  agree on a MinHash band and pass a bulk bound on shared words meet the exact rule);
- rare words: ``group_stories`` at or under ``EXACT_UP_TO`` (bot.delivery.storylinks: pairs
  sharing a rare word), forced here at every size;
- baseline: comparing every pair with the same rule (what digests did before), single linkage.

Prints each one's CPU seconds (steadier than wall time on a shared machine), the ratios to the
baseline, the peak memory each way allocates (tracemalloc, a separate untimed run), and how
many groups differ from the baseline's; then the same for a burst of near-identical copies
(bench.digests' news: every article alike). Fails when the rare-words groups differ from the
baseline's at all, or the MinHash groups in more than 1 % of them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.digests import news
from bot.article.sentences import split_sentences
from bot.delivery.digest import (
    SAME_STORY_JACCARD,
    _fingerprint,
    _similarity,
    group_stories,
)
from bot.models import StoredArticle

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("NEWSBOT_SHARED", ROOT.parent / "shared")) / "corpus"
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def real_news(count: int, corpus: Path = CORPUS, seed: int = 7) -> list[StoredArticle]:
    """``count`` articles: real stories, each told by several feeds in their own words."""
    stories = []
    for name in ("polnear_train.jsonl", "polnear_dev.jsonl"):
        for line in (corpus / "quotes" / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            sentences = split_sentences(record["text"])[1:6]
            stories.append((record["title"], sentences))
    rng = random.Random(seed)
    articles: list[StoredArticle] = []
    while len(articles) < count:
        for n, (title, sentences) in enumerate(stories):
            for copy in range(rng.randint(1, 9)):
                words = title.split()
                if copy and len(words) > 4:
                    del words[rng.randrange(len(words))]
                start = rng.choice([0, 0, 1, 2])
                lead = " ".join(sentences[start : start + 2]) if rng.random() < 0.85 else ""
                fetched = NOW - timedelta(minutes=rng.randrange(24 * 60))
                articles.append(
                    StoredArticle(
                        id=f"s{n}-{copy}-{len(articles)}",
                        feed=f"feed-{(n + copy * 17) % 60}",
                        title=" ".join(words),
                        link=f"https://news.example/{len(articles)}",
                        published=fetched,
                        fetched=fetched,
                        text=" ".join(sentences),
                        lead=(lead,) if lead else (),
                    )
                )
                if len(articles) == count:
                    return articles
    return articles


def every_pair(articles: list[StoredArticle]) -> set[frozenset[str]]:
    """The baseline: single linkage by comparing every pair with the same-story rule."""
    ordered = sorted({a.id: a for a in articles}.values(), key=lambda a: (a.published, a.id))
    prints = [_fingerprint(a.title, a.lead, a.text) for a in ordered]
    parent = list(range(len(ordered)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(ordered)):
        for j in range(i):
            if ordered[i].feed == ordered[j].feed:
                continue
            if _similarity(prints[i], prints[j]) >= SAME_STORY_JACCARD:
                parent[root(i)] = root(j)
    groups: dict[int, set[str]] = {}
    for i, article in enumerate(ordered):
        groups.setdefault(root(i), set()).add(article.id)
    return {frozenset(g) for g in groups.values()}


Grouping = Callable[[list[StoredArticle]], set[frozenset[str]]]


def _by(exact_up_to: int) -> Grouping:
    def grouping(articles: list[StoredArticle]) -> set[frozenset[str]]:
        found = group_stories(articles, exact_up_to=exact_up_to)
        return {frozenset(item.article_ids) for item in found}

    return grouping


def _timed(grouping: Grouping, articles: list[StoredArticle]) -> tuple[set[frozenset[str]], float]:
    started = time.process_time()
    groups = grouping(articles)
    return groups, time.process_time() - started


def _peak_mib(grouping: Grouping, articles: list[StoredArticle]) -> float:
    tracemalloc.start()
    grouping(articles)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def compare(label: str, articles: list[StoredArticle]) -> bool:
    minhash, rare_words = _by(0), _by(len(articles))
    baseline, baseline_s = _timed(every_pair, articles)
    print(f"{label:<6} articles={len(articles)} stories={len(baseline)} "
          f"every_pair={baseline_s:.2f} s (CPU)", flush=True)  # fmt: skip
    ok = True
    for name, grouping in (("minhash", minhash), ("rare_words", rare_words)):
        groups, seconds = _timed(grouping, articles)
        differing = len(groups - baseline)
        print(
            f"       {name:<10} {seconds:.2f} s ratio={baseline_s / seconds:.1f}x "
            f"peak={_peak_mib(grouping, articles):.1f} MiB "
            f"groups_not_in_baseline={differing} baseline_groups_not_found="
            f"{len(baseline - groups)}",
            flush=True,
        )
        allowed = 0 if grouping is rare_words else len(baseline) // 100
        ok = ok and differing <= allowed
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    args = parser.parse_args()
    ok = compare("real", real_news(args.articles))
    ok = compare("burst", news(args.articles)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
