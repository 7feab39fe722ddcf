"""The HTTP transport that connects only where the address rule allows.

The check happens where the connection is made: the host name is resolved once, every
address is checked, and the socket connects to a checked address (TLS still verifies the
certificate for the host name and sends it as SNI; the Host header is the URL's). So a DNS
answer that changes between a check and the connect (DNS rebinding) cannot slip a private
address in, and every request of the client is covered: feed polls, article pages and each
redirect hop. Through a proxy (``[http] use_env_proxies``) the proxy resolves the name, so
the fetcher checks the target's addresses before each request instead (bot.ingest.fetch).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import httpcore
import httpx

from bot.ingest.addresses import AddressRefused, AddressRule

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that resolves once, checks, and connects to the checked address."""

    def __init__(self, rule: AddressRule, inner: httpcore.AsyncNetworkBackend | None = None):
        self._rule = rule
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._rule.checked_addresses(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("newsbot does not fetch through local sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose connections go through the guard."""

    def __init__(self, rule: AddressRule, *, verify: ssl.SSLContext, limits: httpx.Limits):
        super().__init__(verify=verify, limits=limits, trust_env=False)
        # httpx builds its pool without a way to pass a network backend: build the same pool
        # with ours (the arguments httpx uses for a direct, HTTP/1.1 pool).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(rule),
        )
