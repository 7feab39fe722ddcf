"""The poll cycle end to end: a loopback server serving generated feeds and corpus pages, a
real data directory, the real store and search index (pages read in a thread pool)."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.article.extract import extract_html
from bot.cli.fetch import fetch_once
from bot.config import BotSettings, Config, FeedConfig, HttpSettings, PollSettings, Settings
from bot.ingest.entry import ReadJob, ReadSettings, article_id, html_to_paragraphs, read_entry
from bot.ingest.jobs import JOB_KWARGS, PollTicker, add_poll_job, register_poll_job
from bot.ingest.poll import Poller
from bot.ingest.pollsetup import open_poller
from bot.logfields import fields
from bot.models import StoredArticle
from bot.search.index import SearchIndex
from bot.store.datadir import Store
from tests.support.feedgen import BASE_TIME, Item, corpus_pages, items, rss
from tests.support.httpserver import LoopbackServer, Response

PAGES = 6


class Clock:
    """A settable clock for the poller (starts just after the generated entries)."""

    def __init__(self) -> None:
        self.now = BASE_TIME + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def pages(corpus: Path) -> list[Path]:
    return corpus_pages(corpus, PAGES)


@pytest.fixture
def server(pages: list[Path]) -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        for i, page in enumerate(pages):
            running.add_file(f"/pages/{i}.html", page)
        yield running


def make_config(tmp_path: Path, feeds: Iterable[FeedConfig]) -> Config:
    settings = Settings(
        bot=BotSettings(allow_private_feeds=True),  # the loopback server is private
        poll=PollSettings(interval_minutes=10, new_feed_backlog=5),
        http=HttpSettings(total_timeout_s=2.0, read_timeout_s=1.0, max_per_host=8),
    )
    return Config(
        settings=settings,
        feeds=tuple(feeds),
        config_dir=tmp_path,
        data_dir=tmp_path / "data",
    )


def feed(server: LoopbackServer, name: str, **extra: object) -> FeedConfig:
    return FeedConfig(name=name, url=server.url(f"/feeds/{name}.xml"), **extra)  # type: ignore[arg-type]


@asynccontextmanager
async def polling(config: Config, clock: Clock | None = None) -> AsyncIterator[Poller]:
    async with open_poller(config, executor_factory=lambda: ThreadPoolExecutor(2)) as poller:
        poller.clock = clock or Clock()
        yield poller


def poll_once(config: Config, clock: Clock | None = None) -> list:  # type: ignore[type-arg]
    async def run() -> list:  # type: ignore[type-arg]
        async with polling(config, clock) as poller:
            return await poller.poll_feeds(poller.due_feeds(poller.clock()))

    return asyncio.run(run())


def stored(config: Config) -> list[StoredArticle]:
    with Store.open(config.data_dir, read_only=True) as store:
        return list(store.iter_articles())


def serve(server: LoopbackServer, name: str, entries: list[Item], etag: str | None = None) -> None:
    server.add(
        f"/feeds/{name}.xml",
        Response(body=rss(entries), headers={"Content-Type": "application/rss+xml"}, etag=etag),
    )


def test_new_feed_with_100_entries_contributes_only_its_latest_five(
    server: LoopbackServer, tmp_path: Path, pages: list[Path]
) -> None:
    """A newly added feed gives its five latest entries (by date), not its backlog."""
    entries = items("world", 100, server.url("/pages"), pages=PAGES)
    serve(server, "world", list(reversed(entries)))  # oldest first in the document
    config = make_config(tmp_path, [feed(server, "world", topic="world", tags=("news",))])
    [report] = poll_once(config)
    assert (report.new, report.updated, report.backlog, report.errors) == (5, 0, 95, 0)
    articles = sorted(stored(config), key=lambda a: a.published, reverse=True)
    assert [a.title for a in articles] == [f"world story number {k}" for k in range(5)]
    first = articles[0]
    page_text = extract_html(pages[0].read_bytes(), url=first.link).text
    assert first.text == page_text
    assert first.lead
    assert first.published == BASE_TIME
    assert (first.topic, first.tags, first.feed, first.updated) == (
        "world",
        ("news",),
        "world",
        None,
    )
    assert first.id == article_id("world", "world-0")
    assert sum(server.hits(f"/pages/{i}.html") for i in range(PAGES)) == 5


def test_second_poll_answered_304_finds_nothing_new(server: LoopbackServer, tmp_path: Path) -> None:
    """A 304 costs no parsing and brings nothing new; validators are sent back."""
    serve(server, "local", items("local", 3, server.url("/pages"), pages=PAGES), etag='"v1"')
    config = make_config(tmp_path, [feed(server, "local")])
    clock = Clock()
    [first] = poll_once(config, clock)
    clock.advance(15)
    [second] = poll_once(config, clock)
    assert (first.status, first.new) == (200, 3)
    assert (second.status, second.new, second.updated, second.errors) == (304, 0, 0, 0)
    assert server.requests[-1].headers.get("If-None-Match") == '"v1"'
    assert len(stored(config)) == 3
    with Store.open(config.data_dir, read_only=True) as store:
        state = store.feed_state("local")
    assert state is not None
    assert state.not_modified_count == 1
    assert state.polls == 2


def test_feed_not_due_is_not_polled(server: LoopbackServer, tmp_path: Path) -> None:
    """A feed polled a minute ago (interval ten minutes) is not due again."""
    serve(server, "local", items("local", 2))
    config = make_config(tmp_path, [feed(server, "local")])
    clock = Clock()
    poll_once(config, clock)
    clock.advance(1)
    assert poll_once(config, clock) == []
    assert server.hits("/feeds/local.xml") == 1


def test_entries_that_reappear_are_never_duplicated(server: LoopbackServer, tmp_path: Path) -> None:
    """Entries dropping out of a feed and coming back are not news again."""
    link = server.url("/pages")
    a_to_e = items("mix", 5, link, pages=PAGES)
    f = items("mix", 1, link, pages=PAGES, start=5)
    config = make_config(tmp_path, [feed(server, "mix")])
    clock = Clock()
    news = []
    for document in (a_to_e, f + a_to_e[:3], a_to_e + f, f + a_to_e[::-1]):
        serve(server, "mix", document)
        [report] = poll_once(config, clock)
        news.append(report.new)
        clock.advance(15)
    assert news == [5, 1, 0, 0]
    ids = Counter(a.id for a in stored(config))
    assert len(ids) == 6
    assert set(ids.values()) == {1}


def test_changed_entry_is_updated_not_new(server: LoopbackServer, tmp_path: Path) -> None:
    """An entry whose content changed updates its article and is not news again."""
    link = server.url("/pages")
    original = items("desk", 3, link, pages=PAGES)
    config = make_config(tmp_path, [feed(server, "desk")])
    clock = Clock()
    serve(server, "desk", original)
    poll_once(config, clock)
    before = {a.id: a for a in stored(config)}
    clock.advance(15)
    changed = [
        replace(original[1], title="desk story number 1, corrected"),
        original[0],
        original[2],
    ]
    serve(server, "desk", changed)
    [report] = poll_once(config, clock)
    assert (report.new, report.updated) == (0, 1)
    after = {a.id: a for a in stored(config)}
    assert after.keys() == before.keys()
    corrected = after[article_id("desk", "desk-1")]
    assert corrected.title == "desk story number 1, corrected"
    assert corrected.updated == clock.now
    assert corrected.fetched == before[corrected.id].fetched


@pytest.mark.parametrize(
    ("page", "why"),
    [
        (Response(status=404, body=b"gone"), "HTTP 404"),
        (Response(status=500, body=b"oops"), "HTTP 500"),
        (Response(body=b"%PDF-1.4", headers={"Content-Type": "application/pdf"}), "not HTML"),
        (
            Response(
                body=b"<html><body><p>Subscribe to keep reading.</p></body></html>",
                headers={"Content-Type": "text/html"},
            ),
            "only",
        ),
    ],
)
def test_page_that_fails_falls_back_to_the_feed_summary(
    server: LoopbackServer, tmp_path: Path, page: Response, why: str
) -> None:
    """A 404/500, a non-HTML page or a near-empty page: the feed's own summary is used."""
    server.add("/broken/page.html", page)
    entry = items("wire", 1, server.url("/broken"))[0]
    entry = replace(entry, link=server.url("/broken/page.html"))
    serve(server, "wire", [entry])
    config = make_config(tmp_path, [feed(server, "wire")])
    [report] = poll_once(config)
    assert (report.new, report.fallbacks, report.errors) == (1, 1, 0)
    [article] = stored(config)
    assert article.text == (
        "Summary of wire story 0: the council voted on the budget on Tuesday after a long "
        "debate about schools and roads.\n\nOfficials said the plan would take effect next year."
    )
    assert article.lead[0].startswith("Summary of wire story 0")


def test_broken_feed_among_good_ones_delays_none_and_is_recorded(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """A failing, stalling or garbage feed never stops the others; its error is stored."""
    link = server.url("/pages")
    serve(server, "good1", items("good1", 2, link, pages=PAGES))
    serve(server, "good2", items("good2", 2, link, pages=PAGES))
    server.add("/feeds/down.xml", Response(status=500, body=b"down"))
    server.add("/feeds/stall.xml", Response(body=b"<rss/>", stall_s=5.0))
    server.add("/feeds/junk.xml", Response(body=b"\x00\x01 not a feed at all"))
    names = ["good1", "down", "stall", "junk", "good2"]
    config = make_config(tmp_path, [feed(server, name) for name in names])
    reports = {r.feed: r for r in poll_once(config)}
    assert list(reports) == names
    assert (reports["good1"].new, reports["good2"].new) == (2, 2)
    assert reports["down"].status == 500
    assert "500" in (reports["down"].error or "")
    assert all(reports[n].errors == 1 for n in ("down", "stall", "junk"))
    assert reports["stall"].seconds < 4.0
    with Store.open(config.data_dir, read_only=True) as store:
        states = store.feed_states()
    assert states["down"].consecutive_errors == 1
    assert states["down"].last_error
    assert "sent nothing" in (states["stall"].last_error or "")
    assert states["good1"].consecutive_errors == 0
    assert states["good1"].last_success
    assert len(stored(config)) == 4


def test_search_finds_the_new_articles(server: LoopbackServer, tmp_path: Path) -> None:
    """Articles are in the search index as soon as the cycle is committed."""
    entries = items("metro", 2, server.url("/missing"))
    entries[1] = replace(entries[1], description="<p>Zanzibar ferry timetable changes.</p>")
    serve(server, "metro", entries)
    config = make_config(tmp_path, [feed(server, "metro")])
    poll_once(config, Clock())
    with SearchIndex.in_data_dir(config.data_dir) as index:
        page = index.search("zanzibar ferry", now=Clock().now)
        assert [hit.id for hit in page.hits] == [article_id("metro", "metro-1")]
        assert len(index) == 2


class FailingIndex(SearchIndex):
    """An index whose writes fail, as on a full disk (the seam for a crash after commit)."""

    def index_articles(self, articles: Iterable[StoredArticle]) -> int:
        raise sqlite3.OperationalError("database or disk is full")


def test_index_catches_up_after_failing_between_commit_and_index(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """What the store committed but the index missed is indexed at the next start."""
    serve(server, "metro", items("metro", 3, server.url("/missing")))
    config = make_config(tmp_path, [feed(server, "metro"), feed(server, "late")])
    serve(server, "late", [])

    async def first_run() -> None:
        async with polling(config) as poller:
            poller.index.close()
            poller.index = FailingIndex(config.data_dir / "search.sqlite3")
            await poller.poll_feeds(poller.due_feeds(poller.clock()))

    asyncio.run(first_run())
    with SearchIndex.in_data_dir(config.data_dir) as index:
        assert len(index) == 0
    assert len(stored(config)) == 3

    async def restart() -> int:
        async with polling(config) as poller:
            return len(poller.index)

    assert asyncio.run(restart()) == 3


def test_a_feed_is_never_polled_twice_at_once(server: LoopbackServer, tmp_path: Path) -> None:
    """Ticks while a feed's poll is still running do not start another poll of it."""
    server.add(
        "/feeds/slow.xml",
        Response(body=rss(items("slow", 1)), stall_s=0.4, headers={"Content-Type": "text/xml"}),
    )
    config = make_config(tmp_path, [feed(server, "slow")])

    async def run() -> tuple[int, int, list[str]]:
        async with polling(config) as poller:
            ticker = PollTicker(poller)
            started = [await ticker.tick()]
            for _ in range(4):
                await asyncio.sleep(0.05)
                started.append(await ticker.tick())
            in_flight = sorted(poller.in_flight)
            await ticker.drain()
            return sum(started), await ticker.tick(), in_flight

    started, after, in_flight = asyncio.run(run())
    assert (started, after, in_flight) == (1, 0, ["slow"])
    assert server.hits("/feeds/slow.xml") == 1


def test_scheduler_polls_each_feed_on_its_interval(server: LoopbackServer, tmp_path: Path) -> None:
    """The standalone scheduler's tick polls a feed again only once its interval passed."""
    serve(server, "tick", items("tick", 1))
    config = make_config(tmp_path, [feed(server, "tick")])
    from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

    async def run() -> list[int]:
        clock = Clock()
        hits = []
        async with polling(config, clock) as poller:
            scheduler = AsyncIOScheduler()
            job = add_poll_job(scheduler, PollTicker(poller), tick_s=0.05)
            assert (job.max_instances, job.coalesce) == (1, True)
            scheduler.start()
            for minutes in (0, 5, 3, 7, 15):  # due after 9 to 11 minutes (jitter)
                clock.advance(minutes)
                await asyncio.sleep(0.4)
                hits.append(server.hits("/feeds/tick.xml"))
            scheduler.shutdown(wait=False)
        return hits

    assert asyncio.run(run()) == [1, 1, 1, 2, 3]


def test_job_queue_registers_the_same_tick(server: LoopbackServer, tmp_path: Path) -> None:
    """On the bot's JobQueue the tick runs with one instance at most, misfires coalesced."""
    from telegram.ext import ApplicationBuilder

    serve(server, "ptb", items("ptb", 1))
    config = make_config(tmp_path, [feed(server, "ptb")])

    async def run() -> None:
        application = ApplicationBuilder().token("123:TEST").build()
        job_queue = application.job_queue
        assert job_queue is not None
        async with polling(config) as poller:
            ticker = PollTicker(poller)
            job = register_poll_job(job_queue, ticker, tick_s=0.05)
            assert job.job.max_instances == 1
            assert job.job.coalesce is True
            await job_queue.start()
            for _ in range(40):
                await asyncio.sleep(0.05)
                if server.hits("/feeds/ptb.xml"):
                    break
            await job_queue.stop()
            await ticker.drain()

    asyncio.run(run())
    assert server.hits("/feeds/ptb.xml") == 1
    assert len(stored(config)) == 1
    assert JOB_KWARGS["max_instances"] == 1


def test_read_entry_without_page_or_feed_text_keeps_the_title() -> None:
    """An entry with nothing to read still becomes an article (title and link, no text)."""
    job = ReadJob("http://x.test/a", "Only a title", None, None, "HTTP 404", None, ReadSettings())
    result = read_entry(job)
    assert (result.source, result.summary.article.text, result.page_problem) == (
        "none",
        "",
        "HTTP 404",
    )


@given(st.text())
def test_feed_html_to_text_never_fails(fragment: str) -> None:
    """Any feed content gives text paragraphs without markup or blank paragraphs."""
    paragraphs = html_to_paragraphs(fragment)
    assert all(p and p == p.strip() and "\n" not in p for p in paragraphs)


@given(st.text(min_size=1), st.text(min_size=1), st.text(min_size=1))
def test_article_ids_are_stable_and_distinct(feed_name: str, one: str, other: str) -> None:
    """The same entry always gets the same id; different entries of a feed different ids."""
    assert article_id(feed_name, one) == article_id(feed_name, one)
    assert (article_id(feed_name, one) == article_id(feed_name, other)) == (one == other)


def test_log_fields_quote_what_needs_quoting() -> None:
    """Event lines keep one field per key, whatever the feed's name holds."""
    line = fields(name='BBC "World"\n', status=304, new=0, error=None)
    assert line == 'name="BBC \\"World\\" " status=304 new=0 error=-'


def _backed_off(config: Config, name: str, clock: Clock) -> None:
    """The feed failed for hours: six errors in a row, its next try six hours away."""
    with Store.open(config.data_dir) as store:
        state = store.feed_state(name)
        assert state is not None
        # six hours from the real time too: ``newsbot fetch`` polls by the real clock
        later = max(clock.now, datetime.now(UTC)) + timedelta(hours=6)
        worn = replace(state, consecutive_errors=6, next_poll=later)
        store.commit_cycle(clock.now, feed_states={name: worn})


def test_a_corrected_feed_address_is_polled_at_once_with_its_backoff_reset(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """A feed that failed for hours and got a corrected address in feeds.toml is due at
    once (the running poller and ``newsbot fetch --once`` alike), and its error count starts
    again from nothing; ``fetch --once --now`` polls even a feed that is not due."""
    serve(server, "fixed", items("fixed", 2, server.url("/pages"), pages=PAGES))
    server.add("/feeds/typo.xml", Response(status=404, body=b"gone"))
    clock = Clock()
    broken = make_config(tmp_path, [FeedConfig("Fixed", server.url("/feeds/typo.xml"))])
    poll_once(broken, clock)
    _backed_off(broken, "Fixed", clock)
    clock.advance(minutes=1)
    assert poll_once(broken, clock) == []  # still waiting out its backoff

    fixed = make_config(tmp_path, [FeedConfig("Fixed", server.url("/feeds/fixed.xml"))])
    out = io.StringIO()
    with Store.open(fixed.data_dir, read_only=True) as store:
        assert store.feed_states()["Fixed"].consecutive_errors == 6
    assert asyncio.run(fetch_once(fixed, out)) == 0
    assert "no feed is due" not in out.getvalue()
    assert "Fixed" in out.getvalue()
    with Store.open(fixed.data_dir, read_only=True) as store:
        state = store.feed_states()["Fixed"]
    assert (state.consecutive_errors, state.url) == (0, fixed.feeds[0].url)
    assert len(stored(fixed)) == 2

    clock.advance(minutes=1)
    assert poll_once(fixed, clock) == []  # polled just now: not due
    _backed_off(fixed, "Fixed", clock)
    waiting = io.StringIO()
    assert asyncio.run(fetch_once(fixed, waiting)) == 0
    assert "no feed is due" in waiting.getvalue()
    forced = io.StringIO()
    assert asyncio.run(fetch_once(fixed, forced, every=True)) == 0
    assert "no feed is due" not in forced.getvalue()
    assert "Fixed" in forced.getvalue()


def test_a_moved_feed_that_fails_again_backs_off_from_the_start(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """The new address's first failure waits one interval, not the old address's six hours."""
    server.add("/feeds/old.xml", Response(status=500, body=b"down"))
    server.add("/feeds/new.xml", Response(status=500, body=b"down too"))
    clock = Clock()
    old = make_config(tmp_path, [FeedConfig("Moving", server.url("/feeds/old.xml"))])
    poll_once(old, clock)
    _backed_off(old, "Moving", clock)
    new = make_config(tmp_path, [FeedConfig("Moving", server.url("/feeds/new.xml"))])
    (report,) = poll_once(new, clock)
    assert report.errors == 1
    with Store.open(new.data_dir, read_only=True) as store:
        state = store.feed_states()["Moving"]
    assert state.next_poll is not None
    assert state.next_poll - clock.now <= timedelta(minutes=11)  # one 10-minute interval


def test_stored_title_loses_the_feeds_own_name() -> None:
    """A digest shows the source beside the headline: 'Headline - oregonlive.com' from a feed
    of that site is stored as 'Headline'; a headline with its own dash keeps it."""
    from bot.ingest.entry import ReadResult, build_article
    from bot.models import Article, FeedEntry, Summary

    read = ReadResult(Summary(article=Article(text="Body.")), "page")
    now = datetime(2026, 11, 1, tzinfo=UTC)

    def stored(title: str) -> str:
        entry = FeedEntry(
            identity="1", content_hash="h", link="https://www.oregonlive.com/x", title=title
        )
        return build_article(
            entry, read, feed="f", topic=None, tags=(), fetched=now, feed_title="OregonLive"
        ).title

    assert stored("Dear Abby: He wants the economy seat - oregonlive.com") == (
        "Dear Abby: He wants the economy seat"
    )
    assert stored("Storm hits the coast - live updates") == "Storm hits the coast - live updates"
