"""The network edge: one shared HTTP client, concurrency caps, size caps, conditional GET.

Every fetch returns a :class:`~bot.models.FetchResult`; timeouts, refused connections, error
statuses, oversized bodies and private addresses are values in it, so one broken feed never
stops the others. Every request, redirect hops included, reaches only public addresses unless
private ones are allowed (bot.ingest.guard); bodies are decoded by us under the size cap
(bot.ingest.decoding).
Longer than ~300 lines: the client, its caps, checks and each failure's wording go together.

    async with Fetcher(FetchSettings()) as fetcher:
        result = await fetch_feed(fetcher, url, state)
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx
from httpx._utils import get_environment_proxies  # the rules httpx itself applies

from bot.config.settings import USER_AGENT
from bot.errors import FeedError
from bot.ingest.addresses import PUBLIC_ONLY, AddressRefused, AddressRule
from bot.ingest.decoding import ACCEPT_ENCODING, BadEncoding, BodyTooLarge, read_body
from bot.ingest.guard import GuardedTransport
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
    allow_private: bool = False  # [bot] allow_private_feeds: every feed may reach private hosts


def build_client(
    settings: FetchSettings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    rule: AddressRule | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for feeds and pages; ``transport`` is the test seam.

    With ``rule``, direct connections go only where it allows (bot.ingest.guard). Redirects
    are followed by :func:`fetch_feed` / :func:`fetch_page` themselves (each hop is counted
    and checked). Bodies are read raw and decoded by :mod:`bot.ingest.decoding`.
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
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    if transport is None and rule is not None:
        transport = GuardedTransport(rule, verify=_tls_context(), limits=limits)
        if settings.use_env_proxies:  # httpx reads the environment only without a transport
            mounts = _env_proxy_mounts(limits)
    return httpx.AsyncClient(
        mounts=mounts or None,
        timeout=timeout,
        limits=limits,
        follow_redirects=False,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        transport=transport,
        trust_env=settings.use_env_proxies,
        verify=_tls_context(),
    )


def _env_proxy_mounts(limits: httpx.Limits) -> dict[str, httpx.AsyncBaseTransport | None]:
    """The proxies of HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY, as httpx mounts them
    (None: no proxy for those hosts, so the guarded transport)."""
    return {
        pattern: None
        if url is None
        else httpx.AsyncHTTPTransport(proxy=url, verify=_tls_context(), limits=limits)
        for pattern, url in get_environment_proxies().items()
    }


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificate verification settings, loaded once per process (loading them is slow)."""
    return httpx.create_ssl_context()


class Fetcher:
    """The shared client with its global and per-host concurrency caps; one per process.

    ``rule`` says which addresses requests may reach (public ones; a seam for tests); a
    feed allowed to reach private addresses uses a second, unguarded client. A ``client``
    given (the test seam) serves every request, checked only at each hop's IP literal.
    """

    def __init__(
        self,
        settings: FetchSettings,
        client: httpx.AsyncClient | None = None,
        *,
        rule: AddressRule = PUBLIC_ONLY,
    ) -> None:
        self.settings = settings
        self.rule = rule
        if client is not None:
            self.client = client
        else:
            self.client = build_client(settings, rule=None if settings.allow_private else rule)
        self._open_client: httpx.AsyncClient | None = (
            self.client if client is not None or settings.allow_private else None
        )
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
        """Close the clients' connections."""
        if self._open_client is not None and self._open_client is not self.client:
            await self._open_client.aclose()
        await self.client.aclose()

    def _client_for(self, allow_private: bool) -> httpx.AsyncClient:
        if not allow_private:
            return self.client
        if self._open_client is None:
            self._open_client = build_client(self.settings)
        return self._open_client

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
        allow_private: bool = False,
    ) -> FetchResult:
        """GET ``url`` within the caps; never raises for network or HTTP trouble.

        Private addresses are refused unless ``allow_private`` or the settings allow them."""
        allow_private = allow_private or self.settings.allow_private
        client = self._client_for(allow_private)
        try:
            request = client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            return _failed(url, url, FetchErrorKind.BAD_URL, f"invalid URL: {exc}")
        if request.url.scheme not in ("http", "https") or not request.url.host:
            return _failed(url, url, FetchErrorKind.BAD_URL, "only http and https URLs are fetched")
        # The host gate first: a request queued behind its host holds no global slot.
        async with self._host_gate(request.url.netloc.decode("ascii")), self._all:
            try:
                async with asyncio.timeout(self.settings.total_timeout_s):
                    return await self._follow(url, client, request, max_bytes, allow_private)
            except AddressRefused as exc:
                return _failed(url, url, FetchErrorKind.REFUSED_ADDRESS, str(exc))
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
        self,
        url: str,
        client: httpx.AsyncClient,
        request: httpx.Request,
        max_bytes: int,
        allow_private: bool,
    ) -> FetchResult:
        for _hop in range(self.settings.max_redirects + 1):
            if not allow_private:
                try:
                    await self._check_hop(request.url)
                except FeedError as exc:
                    return _failed(url, str(request.url), FetchErrorKind.REFUSED_ADDRESS, str(exc))
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    return await _read(url, response, max_bytes)
                request = response.next_request
            finally:
                await response.aclose()
        message = f"more than {self.settings.max_redirects} redirects"
        return _failed(url, str(request.url), FetchErrorKind.TOO_MANY_REDIRECTS, message)

    async def _check_hop(self, target: httpx.URL) -> None:
        """Before a hop: an IP literal is checked here; a name is resolved and checked here
        only when a proxy may carry the request (the proxy resolves it, not the guard)."""
        host = target.host
        port = target.port or (443 if target.scheme == "https" else 80)
        if _is_ip_literal(host) or self.settings.use_env_proxies:
            await self.rule.checked_addresses(host, port)


async def fetch_feed(
    fetcher: Fetcher, url: str, state: FeedState | None = None, *, allow_private: bool = False
) -> FetchResult:
    """GET a feed, conditionally when ``state`` holds validators; a 304 has no body to parse.

    ``allow_private`` (a feed with ``allow_private = true``) lets it reach private addresses.
    """
    headers = {"Accept": FEED_ACCEPT, **conditional_headers(state)}
    result = await fetcher.get(
        url, headers=headers, max_bytes=fetcher.settings.max_feed_bytes, allow_private=allow_private
    )
    if result.is_not_modified and state is not None:
        return _keep_validators(result, state)
    return result


async def fetch_page(fetcher: Fetcher, url: str, *, allow_private: bool = False) -> FetchResult:
    """GET an article page linked from a feed, through the same client, caps and checks."""
    return await fetcher.get(
        url,
        headers={"Accept": PAGE_ACCEPT},
        max_bytes=fetcher.settings.max_page_bytes,
        allow_private=allow_private,
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
    if declared.isdigit() and int(declared) > max_bytes:
        return too_large
    try:
        body = await read_body(response, max_bytes)
    except BodyTooLarge:
        return too_large
    except BadEncoding as exc:
        return replace(answer, error_kind=FetchErrorKind.BAD_RESPONSE, error=str(exc))
    return replace(answer, body=body)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


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
