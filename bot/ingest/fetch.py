"""The network edge: one shared HTTP client, concurrency caps, size caps, conditional GET.

Every fetch returns a :class:`~bot.models.FetchResult`; timeouts, refused connections, error
statuses and oversized bodies are values in it, so one broken feed never stops the others.

    async with Fetcher(FetchSettings()) as fetcher:
        result = await fetch_feed(fetcher, url, state)
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx

from bot.config.settings import USER_AGENT
from bot.errors import FeedError
from bot.ingest.addresses import ensure_public_url
from bot.models import FeedState, FetchErrorKind, FetchResult

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_RETRY_AFTER_STATUSES = {429, 503}


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Timeouts, caps and identity of the HTTP client."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    pool_timeout_s: float = 30.0
    total_timeout_s: float = 60.0
    max_redirects: int = 5
    max_concurrent: int = 16
    max_per_host: int = 2
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    user_agent: str = USER_AGENT
    use_env_proxies: bool = False


def build_client(
    settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one ``httpx.AsyncClient`` for feeds and pages; ``transport`` is the test seam.

    Redirects are followed by :func:`fetch_feed` / :func:`fetch_page` themselves (each hop is
    counted and, for chat-added feeds, checked against private addresses). httpx decodes
    gzip and deflate, and brotli/zstd when their packages are installed.
    """
    # httpx logs every request's full URL at INFO; feed URLs can carry private tokens.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_s,
        read=settings.read_timeout_s,
        write=settings.read_timeout_s,
        pool=settings.pool_timeout_s,
    )
    limits = httpx.Limits(
        max_connections=settings.max_concurrent,
        max_keepalive_connections=settings.max_concurrent,
    )
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        follow_redirects=False,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent},
        transport=transport,
        trust_env=settings.use_env_proxies,
        verify=_tls_context(),
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificate verification settings, loaded once per process (loading them is slow)."""
    return httpx.create_ssl_context()


class Fetcher:
    """The shared client with its global and per-host concurrency caps; one per process."""

    def __init__(self, settings: FetchSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else build_client(settings)
        self._all = asyncio.Semaphore(settings.max_concurrent)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    def _host_gate(self, authority: str) -> asyncio.Semaphore:
        """The per-host cap of one server (host and port)."""
        gate = self._hosts.get(authority)
        if gate is None:
            gate = self._hosts[authority] = asyncio.Semaphore(self.settings.max_per_host)
        return gate

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        max_bytes: int,
        public_only: bool = False,
    ) -> FetchResult:
        """GET ``url`` within the caps; never raises for network or HTTP trouble."""
        try:
            request = self.client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            return _failed(url, url, FetchErrorKind.BAD_URL, f"invalid URL: {exc}")
        if request.url.scheme not in ("http", "https") or not request.url.host:
            return _failed(url, url, FetchErrorKind.BAD_URL, "only http and https URLs are fetched")
        # The host gate first: a request queued behind its host holds no global slot.
        async with self._host_gate(request.url.netloc.decode("ascii")), self._all:
            try:
                async with asyncio.timeout(self.settings.total_timeout_s):
                    return await self._follow(url, request, max_bytes, public_only)
            except TimeoutError:
                message = f"no complete answer within {self.settings.total_timeout_s:g} s"
                return _failed(url, url, FetchErrorKind.TIMEOUT, message)
            except httpx.TimeoutException as exc:
                return _failed(url, url, FetchErrorKind.TIMEOUT, self._describe_timeout(exc))
            except (httpx.DecodingError, httpx.RemoteProtocolError) as exc:
                return _failed(url, url, FetchErrorKind.BAD_RESPONSE, _describe(exc))
            except httpx.UnsupportedProtocol as exc:
                return _failed(url, url, FetchErrorKind.BAD_URL, _describe(exc))
            except (httpx.HTTPError, OSError, ValueError) as exc:
                return _failed(url, url, FetchErrorKind.CONNECTION, _describe(exc))

    def _describe_timeout(self, exc: httpx.TimeoutException) -> str:
        settings = self.settings
        if isinstance(exc, httpx.ConnectTimeout):
            return f"could not connect within {settings.connect_timeout_s:g} s"
        if isinstance(exc, httpx.PoolTimeout):
            return f"no free connection within {settings.pool_timeout_s:g} s"
        return f"the server sent nothing for {settings.read_timeout_s:g} s"

    async def _follow(
        self, url: str, request: httpx.Request, max_bytes: int, public_only: bool
    ) -> FetchResult:
        for _hop in range(self.settings.max_redirects + 1):
            if public_only:
                try:
                    await ensure_public_url(str(request.url))
                except FeedError as exc:
                    return _failed(url, str(request.url), FetchErrorKind.REFUSED_ADDRESS, str(exc))
            response = await self.client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    return await _read(url, response, max_bytes)
                request = response.next_request
            finally:
                await response.aclose()
        message = f"more than {self.settings.max_redirects} redirects"
        return _failed(url, str(request.url), FetchErrorKind.TOO_MANY_REDIRECTS, message)


async def fetch_feed(
    fetcher: Fetcher, url: str, state: FeedState | None = None, *, public_only: bool = False
) -> FetchResult:
    """GET a feed, conditionally when ``state`` holds validators; a 304 has no body to parse.

    ``public_only`` refuses private-network addresses at every hop (for feeds added in chat).
    """
    headers = {"Accept": FEED_ACCEPT, **conditional_headers(state)}
    result = await fetcher.get(
        url, headers=headers, max_bytes=fetcher.settings.max_feed_bytes, public_only=public_only
    )
    if result.is_not_modified and state is not None:
        return _keep_validators(result, state)
    return result


async def fetch_page(fetcher: Fetcher, url: str, *, public_only: bool = False) -> FetchResult:
    """GET an article page linked from a feed, through the same client and caps."""
    return await fetcher.get(
        url,
        headers={"Accept": PAGE_ACCEPT},
        max_bytes=fetcher.settings.max_page_bytes,
        public_only=public_only,
    )


def conditional_headers(state: FeedState | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the validators stored for a feed."""
    headers: dict[str, str] = {}
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delay in seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


async def _read(url: str, response: httpx.Response, max_bytes: int) -> FetchResult:
    headers = response.headers
    status = response.status_code
    answer = FetchResult(
        url=url,
        final_url=str(response.url),
        status=status,
        content_type=headers.get("content-type"),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
    )
    if status == 304:
        return answer
    if not 200 <= status < 300:
        retry_after_s = None
        if status in _RETRY_AFTER_STATUSES:
            retry_after_s = parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
        message = f"HTTP {status} {response.reason_phrase or ''}".strip()
        return replace(
            answer,
            error_kind=FetchErrorKind.HTTP_STATUS,
            error=message,
            retry_after_s=retry_after_s,
        )
    too_large = replace(
        answer, error_kind=FetchErrorKind.TOO_LARGE, error=f"body larger than {max_bytes} bytes"
    )
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes and "content-encoding" not in headers:
        return too_large
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            return too_large
    return replace(answer, body=bytes(body))


def _keep_validators(result: FetchResult, state: FeedState) -> FetchResult:
    return replace(
        result,
        etag=result.etag or state.etag,
        last_modified=result.last_modified or state.last_modified,
    )


def _failed(url: str, final_url: str, kind: FetchErrorKind, message: str) -> FetchResult:
    return FetchResult(url=url, final_url=final_url, error_kind=kind, error=message)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
