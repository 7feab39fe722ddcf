"""Feeds and pages that try to reach the server's own network.

Two loopback servers play the two sides: 127.0.0.2 is "the internet" (the rule used here
allows only it) and 127.0.0.1 is "the server's network" (it must never see a request).
Names resolve through a scripted resolver, so DNS tricks are played for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config, FeedConfig, Settings
from bot.ingest.addresses import AddressRule, is_public_address, resolve_host
from bot.ingest.fetch import Fetcher, FetchSettings, fetch_feed, fetch_page
from bot.ingest.pollsetup import open_poller
from bot.models import FetchErrorKind, FetchResult
from tests.support.feedgen import Item, rss
from tests.support.httpserver import LoopbackServer, Response

OUTSIDE = "127.0.0.2"
SETTINGS = FetchSettings(connect_timeout_s=2.0, read_timeout_s=2.0, total_timeout_s=5.0)
_RSS = {"Content-Type": "application/rss+xml"}


class ScriptedDns:
    """Names to answers; a name with several answers gives the next one at each lookup."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            return await resolve_host(host, port)
        self.lookups.append(host)
        script = self.answers[host]
        return script.pop(0) if len(script) > 1 else script[0]


def outside_rule(dns: ScriptedDns | None = None) -> AddressRule:
    """Only 127.0.0.2 counts as public."""
    return AddressRule(is_allowed=lambda address: address == OUTSIDE, resolve=dns or resolve_host)


@pytest.fixture
def inside() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        server.add("/secret", Response(body=b"internal credentials"))
        yield server


@pytest.fixture
def outside(inside: LoopbackServer) -> Iterator[LoopbackServer]:
    port = int(inside.base_url.rsplit(":", 1)[1])
    with LoopbackServer(OUTSIDE, port) as server:  # same port: only the address differs
        yield server


def fetch(url: str, rule: AddressRule, settings: FetchSettings = SETTINGS) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings, rule=rule) as fetcher:
            return await fetch_feed(fetcher, url)

    return asyncio.run(go())


def test_a_loopback_feed_is_refused_at_every_poll_by_default(inside: LoopbackServer) -> None:
    """Not only /addfeed: a configured feed polled later is refused on a private address."""
    result = fetch(inside.url("/secret"), AddressRule())
    assert result.error_kind is FetchErrorKind.REFUSED_ADDRESS
    assert "private or local network address" in (result.error or "")
    assert inside.requests == []


def test_a_feed_allowed_by_hand_reaches_its_private_host(inside: LoopbackServer) -> None:
    """allow_private on the feed (or [bot] allow_private_feeds) lets it through."""

    async def go() -> tuple[FetchResult, FetchResult]:
        async with Fetcher(SETTINGS) as fetcher:
            one = await fetch_feed(fetcher, inside.url("/secret"), allow_private=True)
        async with Fetcher(FetchSettings(allow_private=True)) as fetcher:
            every = await fetch_page(fetcher, inside.url("/secret"))
        return one, every

    one, every = asyncio.run(go())
    assert one.body == every.body == b"internal credentials"


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/secret", "http://intra.test:{port}/secret"]
)
def test_a_redirect_to_a_private_address_is_refused_at_that_hop(
    inside: LoopbackServer, outside: LoopbackServer, target: str
) -> None:
    """A public feed that starts redirecting inside (by IP or by name) is refused."""
    port = inside.base_url.rsplit(":", 1)[1]
    outside.add("/feed.xml", Response(status=302, redirect_to=target.format(port=port)))
    dns = ScriptedDns({"intra.test": [["127.0.0.1"]]})
    result = fetch(outside.url("/feed.xml"), outside_rule(dns))
    assert result.error_kind is FetchErrorKind.REFUSED_ADDRESS
    assert outside.hits("/feed.xml") == 1
    assert inside.requests == []


def test_dns_rebinding_cannot_swap_the_address_after_the_check(
    inside: LoopbackServer, outside: LoopbackServer
) -> None:
    """A name that answers public first and private next is connected at the checked address."""
    outside.add("/feed.xml", Response(body=b"<rss/>"))
    inside.add("/feed.xml", Response(body=b"internal feed"))
    dns = ScriptedDns({"rebind.test": [[OUTSIDE], ["127.0.0.1"]]})
    port = inside.base_url.rsplit(":", 1)[1]
    result = fetch(f"http://rebind.test:{port}/feed.xml", outside_rule(dns))
    assert result.body == b"<rss/>"
    assert dns.lookups == ["rebind.test"]  # resolved once
    assert inside.requests == []
    assert outside.requests[0].headers["Host"] == f"rebind.test:{port}"


def test_a_name_resolving_to_public_and_private_addresses_is_refused(
    inside: LoopbackServer,
) -> None:
    """Which of several answers gets used is not ours to pick: one private one refuses all."""
    dns = ScriptedDns({"mixed.test": [[OUTSIDE, "127.0.0.1"]]})
    port = inside.base_url.rsplit(":", 1)[1]
    result = fetch(f"http://mixed.test:{port}/secret", outside_rule(dns))
    assert result.error_kind is FetchErrorKind.REFUSED_ADDRESS
    assert inside.requests == []


def test_an_article_link_to_a_private_address_is_never_fetched(
    inside: LoopbackServer, outside: LoopbackServer, tmp_path: Path
) -> None:
    """An entry whose link points inside is stored from the feed's own text; the internal
    page is neither fetched nor searchable."""
    secret_link = inside.url("/secret")
    entry = Item(
        "leak",
        "Quarterly numbers",
        secret_link,
        datetime.now(UTC),
        "<p>The feed's own summary of the quarterly numbers, long enough to keep.</p>",
    )
    outside.add("/feed.xml", Response(body=rss([entry]), headers=_RSS))
    config = Config(
        settings=Settings(),
        feeds=(FeedConfig(name="Outside", url=outside.url("/feed.xml")),),
        config_dir=tmp_path,
        data_dir=tmp_path / "data",
    )

    async def go() -> list[str]:
        async with (
            Fetcher(SETTINGS, rule=outside_rule()) as fetcher,
            open_poller(
                config, executor_factory=lambda: ThreadPoolExecutor(1), fetcher=fetcher
            ) as poller,
        ):
            await poller.poll_feeds(config.feeds)
            return [article.text for article in poller.store.iter_articles()]

    texts = asyncio.run(go())
    assert inside.requests == []
    assert texts
    assert not any("internal credentials" in text for text in texts)


def test_through_a_proxy_the_target_is_checked_before_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With use_env_proxies the proxy still carries public requests; a private target never
    reaches the proxy."""
    with LoopbackServer() as proxy:
        proxy.add("http://news.test/feed.xml", Response(body=b"<rss>via proxy</rss>"))
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        dns = ScriptedDns({"news.test": [["93.184.215.14"]], "intra.test": [["10.0.0.5"]]})
        rule = AddressRule(resolve=dns)
        settings = FetchSettings(use_env_proxies=True, total_timeout_s=5.0)
        public = fetch("http://news.test/feed.xml", rule, settings)
        private = fetch("http://intra.test/feed.xml", rule, settings)
    assert public.body == b"<rss>via proxy</rss>", proxy.requests
    assert private.error_kind is FetchErrorKind.REFUSED_ADDRESS
    assert [request.path for request in proxy.requests] == ["http://news.test/feed.xml"]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("2002:a9fe:a9fe::1", False),  # 6to4 around 169.254.169.254 (cloud metadata)
        ("2002:7f00:1::1", False),  # 6to4 around 127.0.0.1
        ("2002:5db8:d70e::1", True),  # 6to4 around a public address
        ("fec0::1", False),  # site-local
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around 169.254.169.254
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::ffff:10.0.0.1", False),  # IPv4-mapped
        ("::ffff:93.184.215.14", True),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("100.64.0.1", False),  # carrier-grade NAT
        ("192.0.0.8", False),  # IETF protocol assignments
        ("198.18.0.1", False),  # benchmarking
        ("192.88.99.1", False),  # 6to4 relay anycast
        ("5f00::1", False),  # SRv6
        ("3fff::1", False),  # documentation
        ("fd00::1", False),
        ("ff02::1", False),
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
    ],
)
def test_special_purpose_and_embedded_addresses_are_not_public(address: str, public: bool) -> None:
    """The full set of special-purpose ranges, and the IPv4 address inside an IPv6 one."""
    assert is_public_address(address) is public
