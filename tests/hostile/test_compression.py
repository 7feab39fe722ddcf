"""Compressed answers built to exhaust memory: stacked codings are refused, a bomb is cut at
the cap on decoded bytes, honest compression still works."""

from __future__ import annotations

import asyncio
import functools
import gzip
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.decoding import BadEncoding, BodyDecoder, BodyTooLarge
from bot.ingest.fetch import Fetcher, FetchSettings, fetch_feed
from bot.models import FetchErrorKind, FetchResult
from tests.support.httpserver import LoopbackServer, Response

SETTINGS = FetchSettings(allow_private=True, max_feed_bytes=1_000_000, total_timeout_s=20.0)


@functools.cache
def stacked_gzip() -> bytes:
    """gzip inside gzip: a few kilobytes that decode to 64 MB of zeros."""
    return gzip.compress(gzip.compress(bytes(64 * 2**20), 9), 9)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


def fetch(url: str) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(SETTINGS) as fetcher:
            return await fetch_feed(fetcher, url)

    return asyncio.run(go())


def serve(server: LoopbackServer, body: bytes, coding: str) -> str:
    server.add("/feed.xml", Response(body=body, headers={"Content-Encoding": coding}))
    return server.url("/feed.xml")


@pytest.mark.parametrize("coding", ["gzip, gzip", "gzip,deflate", "deflate, gzip"])
def test_stacked_content_codings_are_refused(server: LoopbackServer, coding: str) -> None:
    """Content-Encoding: gzip, gzip (kilobytes growing to gigabytes) is refused unread."""
    result = fetch(serve(server, stacked_gzip(), coding))
    assert result.error_kind is FetchErrorKind.BAD_RESPONSE
    assert "only one content coding" in (result.error or "")


def test_a_gzip_bomb_stops_at_the_cap_on_decoded_bytes(server: LoopbackServer) -> None:
    """One gzip layer of 64 MB of zeros: refused as too large once the cap is passed."""
    result = fetch(serve(server, gzip.compress(bytes(64 * 2**20), 9), "gzip"))
    assert result.error_kind is FetchErrorKind.TOO_LARGE


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("identity", lambda data: data),
        ("gzip, identity", gzip.compress),
    ],
)
def test_honest_compression_is_decoded(server: LoopbackServer, coding: str, encode: object) -> None:
    """One coding (any case of identity around it) decodes to the original bytes."""
    body = b"<rss><channel><title>Honest</title></channel></rss>" * 50
    assert callable(encode)
    result = fetch(serve(server, encode(body), coding))
    assert result.body == body


def test_an_unknown_coding_is_a_clear_error(server: LoopbackServer) -> None:
    result = fetch(serve(server, b"whatever", "br"))
    assert result.error_kind is FetchErrorKind.BAD_RESPONSE
    assert "unsupported content coding (br)" in (result.error or "")


@given(st.binary(max_size=5000), st.lists(st.integers(1, 300), max_size=30))
def test_decoding_in_any_chunks_gives_the_original(data: bytes, cuts: list[int]) -> None:
    """However the network splits a gzip body, the decoder returns exactly the original."""
    encoded = gzip.compress(data)
    decoder = BodyDecoder.for_codings(["gzip"], max_bytes=len(data))
    out, at = b"", 0
    for size in cuts:
        out += decoder.feed(encoded[at : at + size])
        at += size
    out += decoder.feed(encoded[at:]) + decoder.flush()
    assert out == data


def test_the_decoder_never_holds_more_than_the_cap() -> None:
    """Decoding 64 MB of zeros in one chunk stops just past the cap, not after."""
    decoder = BodyDecoder.for_codings(["gzip"], max_bytes=100_000)
    with pytest.raises(BodyTooLarge):
        decoder.feed(gzip.compress(bytes(64 * 2**20), 9))
    assert decoder.decoded <= 100_001


def test_a_second_coding_is_refused_before_decoding() -> None:
    with pytest.raises(BadEncoding, match="more than once"):
        BodyDecoder.for_codings(["gzip", "gzip"], max_bytes=10)
