"""Memory benchmark: peak RSS of ``newsbot run`` (embedded store) with a large archive and
many chats, through a digest rush and a poll.

    python -m bench.runmemory [--articles 100000] [--chats 10000] [--days 29] [--keep DIR]

Builds a data folder as a month of use leaves it: ``--articles`` articles (about 3 KB of text
each, 200 feeds, spread over ``--days`` days) with their seen marks and search index,
``--chats`` chats (every 10th a group; every 10th has two keyword alerts) and a ledger of
``--days`` daily digests of ten articles to every chat. Then runs the real ``newsbot run``
against the loopback Bot API server and a loopback site of 10 feeds with fresh pages: every
chat's digest is due at start (the 08:00 rush), the feeds are polled, pages extracted in the
worker processes, stored, indexed and matched against the alerts.

The run's memory is sampled from /proc every 0.2 s until every chat got its digest and the
feeds were read: the main process's peak (VmHWM) is the figure (wanted <= 200 MB); the
worker processes' RSS is shown beside it. ``--keep DIR`` builds the data folder once in DIR
and reuses it (it is copied for each run, so every run starts from the same state).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.delivery.chats import Chats
from bot.delivery.ledger import Ledger, Outgoing
from bot.delivery.prefs import DailyTimes, PrefsDefaults, new_chat_prefs
from bot.models import Quote, StoredArticle
from bot.search.index import SearchIndex
from bot.store.datadir import SeenMark, Store
from tests.support.botapi import BotApiServer
from tests.support.e2e import page
from tests.support.feedgen import Item, rss
from tests.support.httpserver import LoopbackServer, Response

FEEDS = 200
LIVE_FEEDS = 10
_WORDS = [
    "minister",
    "talks",
    "council",
    "budget",
    "river",
    "flood",
    "storm",
    "election",
    "court",
    "police",
    "school",
    "hospital",
    "market",
    "bank",
    "trade",
    "rail",
    "bridge",
    "port",
    "energy",
    "water",
    "health",
    "farmers",
    "strike",
    "museum",
    "festival",
    "league",
    "final",
    "coach",
    "injury",
    "weather",
    "summer",
    "winter",
    "housing",
    "rent",
    "airport",
]


def _article(
    n: int, fetched: datetime, paragraphs: list[str], rng: random.Random
) -> tuple[StoredArticle, SeenMark]:
    feed = f"Feed {n % FEEDS}"
    identity = (
        f"https://news{n % FEEDS}.example/story/{n}-{rng.choice(_WORDS)}-{rng.choice(_WORDS)}"
    )
    article_id = hashlib.sha256(f"{feed}\x00{identity}".encode()).hexdigest()[:24]
    article = StoredArticle(
        id=article_id,
        feed=feed,
        title=" ".join(rng.sample(_WORDS, 8)).capitalize(),
        link=identity,
        published=fetched,
        fetched=fetched,
        text="\n\n".join(paragraphs[(n * 7 + j) % len(paragraphs)] for j in range(6)),
        lead=(paragraphs[n % len(paragraphs)][:200],),
        quotes=(Quote("We are ready to talk as long as it takes", "A Minister"),),
    )
    mark = SeenMark(identity, hashlib.sha256(identity.encode()).hexdigest(), feed, article_id)
    return article, mark


def build(data: Path, articles: int, chats: int, days: int, now: datetime) -> None:
    """The data folder of a month's use; see the module docstring."""
    rng = random.Random(1)
    paragraphs = [
        " ".join(rng.choice(_WORDS) for _ in range(60)).capitalize() + "." for _ in range(200)
    ]
    started = time.perf_counter()
    with Store.open(data) as store:
        batch = 500
        cycles = max(1, articles // batch)
        for cycle in range(cycles):
            fetched = now - timedelta(days=days) + (timedelta(days=days) * cycle) / cycles
            made = [_article(n, fetched, paragraphs, rng)
                    for n in range(cycle * batch, min((cycle + 1) * batch, articles))]  # fmt: skip
            store.commit_cycle(fetched, [a for a, _ in made], [m for _, m in made])
        with SearchIndex.in_data_dir(data) as index:
            index.rebuild(store.iter_articles())
        due = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
        defaults = PrefsDefaults(schedule=DailyTimes((due,)))
        bot_chats = Chats(store.chat_store)
        ids = [n if n % 10 else -n for n in range(1, chats + 1)]
        bot_chats.put(*(new_chat_prefs(c, now - timedelta(days=days + 10), defaults) for c in ids))
        for c in ids[::10]:
            bot_chats.add_alert(c, rng.choice(_WORDS), now)
            bot_chats.add_alert(c, f'"{rng.choice(_WORDS)} {rng.choice(_WORDS)}"', now)
    build_ledger(data, ids, days, now)
    print(f"built {articles} articles, {chats} chats, {days} days of digests "
          f"in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip


def build_ledger(data: Path, chats: list[int], days: int, now: datetime) -> None:
    """A ledger of ``days`` daily digests to every chat, each of ten articles fetched in the
    day before it (what the chat had not seen), planned and confirmed; the last one a day
    and an hour ago, so every chat is due now."""
    rng = random.Random(2)
    fetched: list[tuple[datetime, str]] = []
    with Store.open(data, read_only=True) as store:
        fetched = sorted((a.fetched, a.id) for a in store.iter_articles())
    with Ledger.open(data, now=now) as ledger:
        for ago in range(days, 0, -1):
            at = now - timedelta(days=ago, hours=1)
            day = [i for f, i in fetched if at - timedelta(days=1) < f <= at][-200:]
            if len(day) < 10:
                continue
            messages = [
                Outgoing(f"digest:{c}:{ago}:0", c, "-", tuple(rng.sample(day, 10)), "digest")
                for c in chats
            ]
            ledger.plan(messages, now=at)
            for message in messages:
                ledger.confirm(message.key, message_id=1, now=at, durable=False)
            ledger.sync()
            ledger.compact_if_large(now=at)  # as the running bot does


def serve_feeds(web: LoopbackServer, now: datetime) -> list[tuple[str, str]]:
    """``LIVE_FEEDS`` feeds of five fresh stories each, with their pages."""
    feeds = []
    for f in range(LIVE_FEEDS):
        items = []
        for n in range(5):
            slug = f"f{f}-s{n}"
            title = f"{_WORDS[(f + n) % len(_WORDS)].capitalize()} news {f} {n}"
            web.add(f"/{slug}.html", Response(body=page(title, f"Story {n} of feed {f} began"),
                    headers={"Content-Type": "text/html; charset=utf-8"}))  # fmt: skip
            items.append(Item(slug, title, web.url(f"/{slug}.html"), now - timedelta(minutes=n)))
        web.add(f"/feed{f}.xml", Response(body=rss(items),
                headers={"Content-Type": "application/rss+xml"}))  # fmt: skip
        feeds.append((f"Feed {f}", web.url(f"/feed{f}.xml")))
    return feeds


def _rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB; (0, 0) when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if "kB" in line}
    return int(values.get("VmRSS", 0)), int(values.get("VmHWM", 0))


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    except OSError:
        pass
    return found


def run(root: Path, chats: int, now: datetime) -> tuple[float, float, int, float]:
    """Run the bot on ``root/data`` until every chat has its digest and the live feeds were
    read; returns (main peak MiB, peak of main + workers MiB, digests sent, seconds)."""
    with BotApiServer() as api, LoopbackServer() as web:
        feeds = serve_feeds(web, now)
        config = root / "config"
        config.mkdir(exist_ok=True)
        (config / "feeds.toml").write_text(
            "".join(f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n\n' for name, url in feeds)
        )
        (config / "settings.toml").write_text(
            "[bot]\ndigest_tick_s = 1.0\nmax_messages_per_s = 5000\nallow_private_feeds = true\n"
            "max_group_messages_per_minute = 10000\ndrain_timeout_s = 5.0\n"
        )
        env = {**os.environ, "NEWSBOT_TOKEN": api.token, "NEWSBOT_API_URL": api.url,
               "NEWSBOT_CONFIG": str(config), "NEWSBOT_DATA": str(root / "data")}  # fmt: skip
        started = time.perf_counter()
        with open(root / "run.log", "wb") as log:
            bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        peak_main = peak_all = 0
        sent = 0
        try:
            deadline = time.monotonic() + 2400
            while time.monotonic() < deadline and bot.poll() is None:
                _, main_peak = _rss_kib(bot.pid)
                total = sum(_rss_kib(p)[0] for p in [bot.pid, *_descendants(bot.pid)])
                peak_main, peak_all = max(peak_main, main_peak), max(peak_all, total)
                sent = len({c.params.get("chat_id") for c in api.calls_to("sendMessage")})
                pages = sum(1 for r in web.requests if r.path.endswith(".html"))
                if sent >= chats and pages >= LIVE_FEEDS * 5:
                    time.sleep(3)  # the articles are stored, indexed and matched
                    peak_main = max(peak_main, _rss_kib(bot.pid)[1])
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(30)
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait()
    return peak_main / 1024, peak_all / 1024, sent, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=29)
    parser.add_argument("--keep", type=Path, help="build the data folder here once, reuse it")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = args.keep or root / "built"
        if not (source / "state.json").exists():
            build(source, args.articles, args.chats, args.days, now)
        elif not (source / "ledger").exists():
            ids = [n if n % 10 else -n for n in range(1, args.chats + 1)]
            build_ledger(source, ids, args.days, now)
        shutil.copytree(source, root / "data", ignore=shutil.ignore_patterns("lock", ".lock"))
        main_mib, all_mib, sent, elapsed = run(root, args.chats, now)
        if args.keep is not None:
            shutil.copy(root / "run.log", args.keep.parent / "runmemory.log")
        if sent < args.chats:
            print((root / "run.log").read_text()[-3000:], file=sys.stderr)
    print(f"newsbot run: articles={args.articles} chats={args.chats} digests_sent={sent} "
          f"in {elapsed:.0f} s; peak RSS main={main_mib:.0f} MiB "
          f"(with workers {all_mib:.0f} MiB); wanted main <= 200 MB", flush=True)  # fmt: skip
    return 0 if sent >= args.chats and main_mib * 1.048576 <= 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
