"""Fetching feeds and pages from real loopback servers: caps, timeouts, redirects, 304s."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bot.article.charset import decode_body
from bot.errors import FeedError
from bot.ingest.addresses import ensure_public_url, is_public_address
from bot.ingest.feeds import parse_feed
from bot.ingest.fetch import (
    Fetcher,
    FetchSettings,
    build_client,
    fetch_feed,
    fetch_page,
    parse_retry_after,
)
from bot.models import FeedState, FetchErrorKind, FetchResult
from tests.support.httpserver import LoopbackServer, Response

T = TypeVar("T")

SETTINGS = FetchSettings(
    connect_timeout_s=2.0,
    read_timeout_s=0.5,
    pool_timeout_s=2.0,
    total_timeout_s=5.0,
    max_redirects=3,
    max_feed_bytes=2_000_000,
    max_page_bytes=1_000_000,
    allow_private=True,  # the loopback server is a private address
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a fresh event loop."""
    return asyncio.run(coro)


async def get_feed(
    url: str,
    state: FeedState | None = None,
    settings: FetchSettings = SETTINGS,
    *,
    public_only: bool = False,
) -> FetchResult:
    """Fetch one feed with a fresh fetcher."""
    if public_only:
        settings = replace(settings, allow_private=False)
    async with Fetcher(settings) as fetcher:
        return await fetch_feed(fetcher, url, state)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A scriptable HTTP server on 127.0.0.1."""
    with LoopbackServer() as loopback:
        yield loopback


@pytest.fixture(scope="module")
def feeds_dir(corpus: Path) -> Path:
    """The shared corpus of feed files."""
    return corpus / "feeds"


def test_feed_from_the_corpus_arrives_whole_and_parses(
    server: LoopbackServer, feeds_dir: Path
) -> None:
    """A real-world feed served on loopback arrives byte for byte and parses into entries."""
    file = feeds_dir / "rss-parser/input/guardian.rss"
    server.add_file("/guardian.rss", file)
    result = run(get_feed(server.url("/guardian.rss")))
    assert result.is_ok
    assert result.body == file.read_bytes()
    feed = parse_feed(result.body, result.final_url, result.content_type)
    assert feed.title == "The Guardian"
    assert len(feed.entries) == 55


@pytest.mark.parametrize(
    "validators",
    [Response(etag='"v1"'), Response(last_modified="Wed, 21 Oct 2026 07:28:00 GMT")],
    ids=["etag", "last-modified"],
)
def test_unchanged_feed_answers_304_without_a_body(
    server: LoopbackServer, feeds_dir: Path, validators: Response
) -> None:
    """The stored ETag / Last-Modified are sent back and an unchanged feed costs a 304."""
    server.add_file(
        "/feed.xml",
        feeds_dir / "miniflux/parser/testdata/large_rss.xml",
        like=validators,
    )
    first = run(get_feed(server.url("/feed.xml")))
    assert first.is_ok
    assert first.body
    state = FeedState(url=first.url, etag=first.etag, last_modified=first.last_modified)
    second = run(get_feed(server.url("/feed.xml"), state))
    assert second.is_not_modified
    assert second.body == b""
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    sent = server.requests[-1].headers
    assert sent.get("If-None-Match") == state.etag
    assert sent.get("If-Modified-Since") == state.last_modified


def test_304_without_validators_keeps_the_stored_ones(server: LoopbackServer) -> None:
    """A 304 that does not repeat the validators leaves the stored ones in the result."""
    server.add("/feed.xml", Response(status=304))
    state = FeedState(url="x", etag='"abc"', last_modified="Wed, 21 Oct 2026 07:28:00 GMT")
    result = run(get_feed(server.url("/feed.xml"), state))
    assert result.is_not_modified
    assert (result.etag, result.last_modified) == (state.etag, state.last_modified)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_followed_to_the_final_url(
    server: LoopbackServer, feeds_dir: Path, status: int
) -> None:
    """A moved feed is fetched from where it moved, and the final URL is reported."""
    server.add("/old", Response(status=status, redirect_to="/middle"))
    server.add("/middle", Response(status=302, redirect_to=server.url("/new.xml")))
    server.add_file("/new.xml", feeds_dir / "rss-parser/input/heise.atom")
    result = run(get_feed(server.url("/old")))
    assert result.is_ok
    assert result.final_url == server.url("/new.xml")
    assert result.url == server.url("/old")


def test_redirect_loop_stops_at_the_limit(server: LoopbackServer) -> None:
    """A redirect loop is an error after the configured number of hops, not a hang."""
    server.add("/loop", Response(status=302, redirect_to="/loop"))
    result = run(get_feed(server.url("/loop")))
    assert result.error_kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert "more than 3 redirects" in (result.error or "")
    assert server.hits("/loop") == SETTINGS.max_redirects + 1


@pytest.mark.parametrize("status", [404, 410, 500, 502])
def test_error_status_is_a_value_with_the_status(server: LoopbackServer, status: int) -> None:
    """An error status comes back as a result naming it, never as an exception."""
    server.add("/feed.xml", Response(status=status, body=b"<html>oops</html>"))
    result = run(get_feed(server.url("/feed.xml")))
    assert not result.is_ok
    assert result.status == status
    assert result.error_kind is FetchErrorKind.HTTP_STATUS
    assert (result.error or "").startswith(f"HTTP {status}")
    assert result.body == b""


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limited_feed_says_when_to_retry(server: LoopbackServer, status: int) -> None:
    """429 and 503 with Retry-After (seconds) tell the scheduler how long to wait."""
    server.add("/feed.xml", Response(status=status, headers={"Retry-After": "120"}))
    result = run(get_feed(server.url("/feed.xml")))
    assert result.error_kind is FetchErrorKind.HTTP_STATUS
    assert result.retry_after_s == 120.0


def test_retry_after_as_http_date_is_honoured(server: LoopbackServer) -> None:
    """Retry-After given as an HTTP date becomes the seconds left until then."""
    when = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server.add("/feed.xml", Response(status=503, headers={"Retry-After": when}))
    result = run(get_feed(server.url("/feed.xml")))
    assert result.retry_after_s is not None
    assert 3500 < result.retry_after_s <= 3600


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("3600", 3600.0),
        (" 5 ", 5.0),
        ("Wed, 21 Oct 2026 08:28:00 GMT", 3600.0),
        ("Wed, 21 Oct 2026 06:28:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    """Retry-After accepts delay-seconds and HTTP dates; a past date means now; junk is None."""
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


def test_stalling_server_times_out(server: LoopbackServer) -> None:
    """A server that sends nothing is given up after the read timeout."""
    server.add("/feed.xml", Response(body=b"<rss/>", stall_s=10))
    result = run(get_feed(server.url("/feed.xml")))
    assert result.error_kind is FetchErrorKind.TIMEOUT
    assert "0.5 s" in (result.error or "")


def test_total_deadline_bounds_a_slow_answer(server: LoopbackServer) -> None:
    """The total deadline holds even when each read is within its own timeout."""
    settings = FetchSettings(allow_private=True, read_timeout_s=10.0, total_timeout_s=0.3)
    server.add("/feed.xml", Response(body=b"<rss/>", stall_s=10))
    result = run(get_feed(server.url("/feed.xml"), settings=settings))
    assert result.error_kind is FetchErrorKind.TIMEOUT
    assert "no complete answer within 0.3 s" in (result.error or "")


def test_endless_body_is_cut_at_the_size_cap(server: LoopbackServer) -> None:
    """A body that never ends is an error at the feed size cap, not a huge allocation."""
    server.add("/feed.xml", Response(endless=True, headers={"Content-Type": "application/xml"}))
    result = run(get_feed(server.url("/feed.xml")))
    assert result.error_kind is FetchErrorKind.TOO_LARGE
    assert result.body == b""
    assert str(SETTINGS.max_feed_bytes) in (result.error or "")


def test_declared_oversize_body_is_refused_before_reading(server: LoopbackServer) -> None:
    """A Content-Length over the cap is refused at once."""
    server.add("/feed.xml", Response(body=b"x" * (SETTINGS.max_feed_bytes + 1)))
    result = run(get_feed(server.url("/feed.xml")))
    assert result.error_kind is FetchErrorKind.TOO_LARGE


def test_pages_have_their_own_size_cap(server: LoopbackServer) -> None:
    """A page over the page cap is refused even though it fits the feed cap."""
    body = b"<html><body>" + b"<p>text</p>" * 100_000 + b"</body></html>"
    assert SETTINGS.max_page_bytes < len(body) < SETTINGS.max_feed_bytes
    server.add("/big.html", Response(body=body, headers={"Content-Type": "text/html"}))

    async def both() -> tuple[FetchResult, FetchResult]:
        async with Fetcher(SETTINGS) as fetcher:
            page = await fetch_page(fetcher, server.url("/big.html"))
            feed = await fetch_feed(fetcher, server.url("/big.html"))
            return page, feed

    page, feed = run(both())
    assert page.error_kind is FetchErrorKind.TOO_LARGE
    assert feed.is_ok


def test_gzip_transfer_is_decoded(server: LoopbackServer, feeds_dir: Path) -> None:
    """A gzip-compressed answer arrives decompressed, and compression was asked for."""
    file = feeds_dir / "miniflux/parser/testdata/urdu_UTF8.xml"
    server.add_file("/urdu.xml", file, like=Response(gzip=True))
    result = run(get_feed(server.url("/urdu.xml")))
    assert result.is_ok
    assert result.body == file.read_bytes()
    assert "gzip" in server.requests[-1].headers.get("Accept-Encoding", "")
    assert parse_feed(result.body, result.final_url).entries


def test_gzip_bomb_is_cut_at_the_size_cap(server: LoopbackServer) -> None:
    """The size cap counts decompressed bytes, so a small gzip body cannot blow up memory."""
    server.add("/bomb.xml", Response(body=b"\0" * (SETTINGS.max_feed_bytes * 4), gzip=True))
    result = run(get_feed(server.url("/bomb.xml")))
    assert result.error_kind is FetchErrorKind.TOO_LARGE


def test_requests_name_newsbot_and_ask_for_feeds(server: LoopbackServer) -> None:
    """Servers see a User-Agent naming newsbot, and an Accept header preferring feeds."""
    server.add("/feed.xml", Response(body=b"<rss/>"))
    run(get_feed(server.url("/feed.xml")))
    headers = server.requests[-1].headers
    assert headers["User-Agent"].startswith("newsbot/")
    assert "application/rss+xml" in headers["Accept"]


def test_connection_refused_is_a_value() -> None:
    """Nobody listening on the port is an error value."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(get_feed(f"http://127.0.0.1:{port}/feed.xml"))
    assert result.error_kind is FetchErrorKind.CONNECTION
    assert result.status is None


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/feed.xml", "not a url", "http://", "file:///etc/passwd"]
)
def test_unfetchable_urls_are_refused(url: str) -> None:
    """Only http(s) URLs with a host are fetched."""
    result = run(get_feed(url))
    assert result.error_kind is FetchErrorKind.BAD_URL


def test_one_broken_feed_never_stops_the_others(server: LoopbackServer, feeds_dir: Path) -> None:
    """Stalling, endless, failing and healthy feeds fetched together each get their own result."""
    server.add("/stall", Response(stall_s=10))
    server.add("/endless", Response(endless=True))
    server.add("/error", Response(status=500))
    server.add("/loop", Response(status=302, redirect_to="/loop"))
    server.add_file("/good", feeds_dir / "rss-parser/input/reddit.rss")
    paths = ["/stall", "/endless", "/error", "/loop", "/good"]

    async def poll_all() -> list[FetchResult]:
        async with Fetcher(SETTINGS) as fetcher:
            return await asyncio.gather(*(fetch_feed(fetcher, server.url(p)) for p in paths))

    results = dict(zip(paths, run(poll_all()), strict=True))
    assert results["/good"].is_ok
    assert results["/stall"].error_kind is FetchErrorKind.TIMEOUT
    assert results["/endless"].error_kind is FetchErrorKind.TOO_LARGE
    assert results["/error"].error_kind is FetchErrorKind.HTTP_STATUS
    assert results["/loop"].error_kind is FetchErrorKind.TOO_MANY_REDIRECTS


def test_per_host_cap_limits_concurrent_requests(server: LoopbackServer) -> None:
    """No more requests reach one host at once than the per-host cap allows."""
    for n in range(8):
        server.add(f"/feed{n}.xml", Response(body=b"<rss/>", stall_s=0.1))
    settings = FetchSettings(allow_private=True, max_per_host=2, max_concurrent=8)

    async def poll_all() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            urls = [server.url(f"/feed{n}.xml") for n in range(8)]
            return await asyncio.gather(*(fetch_feed(fetcher, url) for url in urls))

    assert all(result.is_ok for result in run(poll_all()))
    assert server.peak_in_flight == 2


def test_global_cap_limits_concurrent_requests_across_hosts() -> None:
    """The global cap holds across hosts."""
    servers = [LoopbackServer() for _ in range(4)]
    for loopback in servers:
        loopback.start()
        loopback.add("/feed.xml", Response(body=b"<rss/>", stall_s=0.1))
    settings = FetchSettings(allow_private=True, max_per_host=4, max_concurrent=3)
    in_flight: list[int] = []

    async def poll_all() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            urls = [s.url("/feed.xml") for s in servers for _ in range(3)]
            return await asyncio.gather(*(fetch_feed(fetcher, url) for url in urls))

    try:
        assert all(result.is_ok for result in run(poll_all()))
        in_flight = [s.peak_in_flight for s in servers]
    finally:
        for loopback in servers:
            loopback.stop()
    assert all(peak <= 3 for peak in in_flight)
    assert sum(s.hits("/feed.xml") for s in servers) == 12


@pytest.mark.parametrize(
    ("file", "content_type", "expected_title"),
    [
        # UTF-8 bytes labelled Latin-1 by both the server and the XML declaration
        (
            "miniflux/encoding/testdata/utf8-incorrect-prolog.xml",
            "text/xml; charset=ISO-8859-1",
            "테스트 피드",
        ),
        # UTF-8 bytes whose declaration says Windows-1252
        (
            "miniflux/encoding/testdata/windows-1252-incorrect-prolog.xml",
            "application/xml",
            "Euro €",
        ),
        # a real Windows-1252 feed, correctly labelled only in its declaration
        ("miniflux/encoding/testdata/windows-1252.xml", "text/xml", "Euro €"),
        # KOI8-R declared in the document, the header silent
        ("miniflux/encoding/testdata/koi8r.xml", "application/rss+xml", "Пример RSS ленты"),
        # Big5 bytes declared as UTF-8
        ("feedparser/illformed/chardet/big5.xml", "application/xml", None),
    ],
)
def test_mislabelled_charsets_still_read_right(
    server: LoopbackServer,
    feeds_dir: Path,
    file: str,
    content_type: str,
    expected_title: str | None,
) -> None:
    """Feeds whose header or declaration names the wrong charset still read as intended."""
    server.add_file("/feed.xml", feeds_dir / file, content_type=content_type)
    result = run(get_feed(server.url("/feed.xml")))
    feed = parse_feed(result.body, result.final_url, result.content_type)
    if expected_title is not None:
        assert feed.title == expected_title
    else:
        assert "希望" in (feed.title or "")
    assert "\ufffd" not in (feed.title or "")


def test_header_charset_overrides_the_declaration(server: LoopbackServer, feeds_dir: Path) -> None:
    """feedparser's own case: a windows-1252 header wins over the document's declaration."""
    annotations = [
        json.loads(line)
        for line in (feeds_dir / "feedparser/annotations.jsonl").read_text().splitlines()
    ]
    path = "encoding/http_text_xml_charset_overrides_encoding_2.xml"
    headers = next(a["http_headers"] for a in annotations if a["path"] == path)
    server.add_file(
        "/feed.xml", feeds_dir / "feedparser" / path, content_type=headers["Content-type"]
    )
    result = run(get_feed(server.url("/feed.xml")))
    feed = parse_feed(result.body, result.final_url, result.content_type)
    assert feed.entries[0].summary == "This is a \xa3\u201ctest.\u201d"


def test_every_illformed_feed_is_recovered_or_reported(
    server: LoopbackServer, feeds_dir: Path
) -> None:
    """Every ill-formed feedparser sample, served on loopback, parses without a crash."""
    files = sorted(p for p in (feeds_dir / "feedparser/illformed").rglob("*.xml"))
    assert len(files) == 19
    for n, file in enumerate(files):
        server.add_file(f"/{n}.xml", file)

    async def poll_all() -> list[FetchResult]:
        async with Fetcher(SETTINGS) as fetcher:
            urls = [server.url(f"/{n}.xml") for n in range(len(files))]
            return await asyncio.gather(*(fetch_feed(fetcher, url) for url in urls))

    for file, result in zip(files, run(poll_all()), strict=True):
        assert result.is_ok, file.name
        feed = parse_feed(result.body, result.final_url, result.content_type)
        recovered = feed.title is not None or feed.entries or feed.link is not None
        assert recovered or feed.error is not None or file.name == "http_high_bit_date.xml"


def test_article_page_is_fetched_and_decoded(server: LoopbackServer, corpus: Path) -> None:
    """A page linked from a feed comes through the same client and decodes to its text."""
    page = sorted((corpus / "extraction/zyte/pages").iterdir())[0]
    server.add_file("/article", page, content_type="text/html")
    result = run(_fetch_page(server.url("/article")))
    assert result.is_ok
    text = decode_body(result.body, result.content_type)
    assert "<html" in text.lower() or "<!doctype" in text.lower()
    assert "\ufffd" not in text[:10_000]


async def _fetch_page(url: str) -> FetchResult:
    async with Fetcher(SETTINGS) as fetcher:
        return await fetch_page(fetcher, url)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fd12:3456:789a::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("localhost", False),
        ("", False),
    ],
)
def test_private_addresses_are_not_public(address: str, public: bool) -> None:
    """Loopback, private, link-local, unique-local, multicast and unspecified are refused."""
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/feed", "http://localhost:8080/feed", "http://[::1]/feed", "http://0.0.0.0/"],
)
def test_chat_added_feed_on_a_private_address_is_refused(url: str) -> None:
    """A loopback URL is refused with a clear message unless settings allow private addresses."""
    with pytest.raises(FeedError, match="private or local network address"):
        run(ensure_public_url(url))
    run(ensure_public_url(url, allow_private=True))


def test_public_only_fetch_never_reaches_a_private_server(server: LoopbackServer) -> None:
    """With public_only the request is refused before any traffic reaches the server."""
    server.add("/feed.xml", Response(body=b"<rss/>"))
    result = run(get_feed(server.url("/feed.xml"), public_only=True))
    assert result.error_kind is FetchErrorKind.REFUSED_ADDRESS
    assert server.requests == []


def test_client_keeps_the_httpx_logger_quiet() -> None:
    """Building the client sets the httpx logger to WARNING (it logs full URLs at INFO)."""
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    run(build_client(SETTINGS).aclose())
    assert logging.getLogger("httpx").level == logging.WARNING


def test_transport_errors_at_the_seam_become_values() -> None:
    """An exception from the transport (here a MockTransport) comes back as a result."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    async def fetch() -> FetchResult:
        client = build_client(SETTINGS, transport=httpx.MockTransport(refuse))
        async with Fetcher(SETTINGS, client=client) as fetcher:
            return await fetch_feed(fetcher, "http://feeds.test/feed.xml")

    result = run(fetch())
    assert result.error_kind is FetchErrorKind.CONNECTION
    assert "connection reset" in (result.error or "")


def test_redirect_from_a_public_to_a_private_address_is_refused() -> None:
    """With public_only every hop is checked: a public feed redirecting to loopback is refused."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:8080/admin"})

    async def fetch() -> FetchResult:
        settings = replace(SETTINGS, allow_private=False)
        client = build_client(settings, transport=httpx.MockTransport(answer))
        async with Fetcher(settings, client=client) as fetcher:
            return await fetch_feed(fetcher, "http://93.184.215.14/feed.xml")

    result = run(fetch())
    assert result.error_kind is FetchErrorKind.REFUSED_ADDRESS
    assert seen == ["http://93.184.215.14/feed.xml"]


def test_corrupt_compressed_body_is_a_value(server: LoopbackServer) -> None:
    """A body that claims gzip but is not is an error value, not an exception."""
    server.add("/feed.xml", Response(body=b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    result = run(get_feed(server.url("/feed.xml")))
    assert result.error_kind is FetchErrorKind.BAD_RESPONSE
    assert "does not decode" in (result.error or "")


def test_a_busy_host_does_not_hold_up_other_hosts() -> None:
    """Requests queued behind one slow host take no global slot from another host's feeds."""
    with LoopbackServer() as slow, LoopbackServer() as fast:
        slow.add("/feed.xml", Response(body=b"<rss/>", stall_s=0.2))
        fast.add("/feed.xml", Response(body=b"<rss/>"))
        settings = FetchSettings(allow_private=True, max_per_host=1, max_concurrent=2)
        finished: list[str] = []

        async def fetch(fetcher: Fetcher, name: str, url: str) -> None:
            await fetch_feed(fetcher, url)
            finished.append(name)

        async def poll_all() -> None:
            async with Fetcher(settings) as fetcher:
                slow_feeds = [fetch(fetcher, "slow", slow.url("/feed.xml")) for _ in range(4)]
                await asyncio.gather(*slow_feeds, fetch(fetcher, "fast", fast.url("/feed.xml")))

        run(poll_all())
    assert finished.index("fast") <= 1
