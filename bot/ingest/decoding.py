"""Content-Encoding decoded by us, chunk by chunk, with the size cap on the decoded bytes.

httpx would decode a whole network chunk at once, so a few kilobytes of stacked gzip
(``Content-Encoding: gzip, gzip``) grow to gigabytes before any cap is checked. Here at
most one content coding is accepted, each step decodes at most the bytes still allowed,
and the caller runs the steps off the event loop.

    decoder = BodyDecoder.for_codings(["gzip"], max_bytes=10 * 2**20)
    body = decoder.feed(chunk) + ... + decoder.flush()
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence

import httpx

ACCEPT_ENCODING = "gzip, deflate"
_STEP_BYTES = 1 << 20  # decode at most this much per call, so memory stays bounded


class BodyTooLarge(Exception):
    """The decoded body passed its cap."""


class BadEncoding(Exception):
    """The body's content coding is refused or its bytes do not decode."""


async def read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body of a streamed answer; BodyTooLarge past ``max_bytes`` (raw or decoded),
    BadEncoding for a refused coding or bytes that do not decode."""
    decoder = BodyDecoder.for_codings(
        response.headers.get_list("content-encoding", split_commas=True), max_bytes
    )
    if response.is_stream_consumed:  # an answer made in memory (a MockTransport in tests)
        if len(response.content) > max_bytes:
            raise BodyTooLarge(f"body larger than {max_bytes} bytes")
        return response.content
    body = bytearray()
    raw_bytes = 0
    async for chunk in response.aiter_raw():
        raw_bytes += len(chunk)
        if raw_bytes > max_bytes:
            raise BodyTooLarge(f"body larger than {max_bytes} bytes")
        if decoder.coding == "identity":
            body += decoder.feed(chunk)
        else:  # decompressing is CPU work: off the event loop, bounded by the cap
            body += await asyncio.to_thread(decoder.feed, chunk)
    body += decoder.flush()
    return bytes(body)


class BodyDecoder:
    """Decodes one body: identity, gzip or deflate; raises BodyTooLarge past ``max_bytes``."""

    def __init__(self, coding: str, max_bytes: int) -> None:
        self.coding = coding
        self.max_bytes = max_bytes
        self.decoded = 0
        self._zlib = self._new_zlib() if coding != "identity" else None
        self._first = True

    @classmethod
    def for_codings(cls, codings: Sequence[str], max_bytes: int) -> BodyDecoder:
        """The decoder for a Content-Encoding header's list of codings (identity dropped)."""
        named = [c.strip().lower() for c in codings if c.strip()]
        named = [c for c in named if c != "identity"]
        if len(named) > 1:
            raise BadEncoding(
                f"the answer is encoded more than once ({', '.join(named)}); "
                "only one content coding is accepted"
            )
        coding = named[0] if named else "identity"
        if coding == "x-gzip":
            coding = "gzip"
        if coding not in ("identity", "gzip", "deflate"):
            raise BadEncoding(f"the answer uses an unsupported content coding ({coding})")
        return cls(coding, max_bytes)

    def _new_zlib(self, raw_deflate: bool = False) -> zlib._Decompress:
        if self.coding == "gzip":
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes of the next raw chunk."""
        if self._zlib is None:
            self._count(len(data))
            return data
        out = bytearray()
        while data:
            allowed = min(self.max_bytes - self.decoded + 1, _STEP_BYTES)
            try:
                piece = self._zlib.decompress(data, allowed)
            except zlib.error as exc:
                if self._first and self.coding == "deflate":  # raw deflate without a header
                    self._zlib = self._new_zlib(raw_deflate=True)
                    self._first = False
                    continue
                raise BadEncoding(f"the {self.coding} body does not decode: {exc}") from None
            self._first = False
            self._count(len(piece))
            out += piece
            if self._zlib.eof:
                rest = self._zlib.unused_data
                if self.coding != "gzip" or not rest.strip(b"\x00"):
                    break
                self._zlib = self._new_zlib()  # another gzip member follows
                data = rest
                continue
            data = self._zlib.unconsumed_tail
            if not data and not piece:
                break
        return bytes(out)

    def flush(self) -> bytes:
        """What the decoder still holds once the raw body has ended."""
        if self._zlib is None:
            return b""
        try:
            rest = self._zlib.flush()
        except zlib.error as exc:
            raise BadEncoding(f"the {self.coding} body does not decode: {exc}") from None
        self._count(len(rest))
        return rest

    def _count(self, n: int) -> None:
        self.decoded += n
        if self.decoded > self.max_bytes:
            raise BodyTooLarge(f"body larger than {self.max_bytes} bytes")
