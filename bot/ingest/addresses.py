"""Which network addresses newsbot may reach: public ones only, unless the operator allows
private ones (``[bot] allow_private_feeds``, or ``allow_private = true`` on one feed).

A feed or a page it links to must not make the bot fetch from the server's own network
(loopback, the LAN, cloud metadata endpoints). Every request is checked, every redirect hop
too, on the address actually connected to (bot.ingest.guard); this module holds the rule.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bot.errors import FeedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Special-purpose ranges (IANA registries) that ipaddress does not count as private on every
# Python version: site-local, the 6to4 relay anycast, NAT64 local use, SRv6, documentation.
_SPECIAL = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "fec0::/10",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public_address(address: str | IPAddress) -> bool:
    """Whether an IP address is on the public internet.

    Refused: loopback, private, carrier-grade NAT, link-local, site-local, unique-local,
    multicast, unspecified, reserved, documentation and every other special-purpose range
    (``ipaddress``'s, and the IANA ones above), and any IPv6 address that embeds an IPv4
    address which is not public itself (mapped ``::ffff:a.b.c.d``, compatible ``::a.b.c.d``,
    6to4 ``2002::/16``, Teredo, NAT64 ``64:ff9b::/96``). Anything that is not an IP address
    is not public either.
    """
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not _is_public_ip(embedded):
            return False
        if ip.ipv4_mapped is not None or ip.sixtofour is not None:
            return True  # the IPv4 address inside is the one reached
    return _is_public_ip(ip)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address; the server's is public by design
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_public_ip(ip: IPAddress) -> bool:
    if any(ip in net for net in _SPECIAL if net.version == ip.version):
        return False
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_reserved
        or ip.is_unspecified
        or site_local
    )


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal is its own address)."""
    if _is_ip_literal(host):
        return [host]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FeedError(f"cannot resolve {host!r}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressRefused(FeedError):
    """A request would reach an address the rule refuses."""


@dataclass(frozen=True, slots=True)
class AddressRule:
    """What requests may reach: ``is_allowed`` per address, names resolved by ``resolve``
    (both are seams for tests)."""

    is_allowed: Callable[[str], bool] = is_public_address
    resolve: Resolver = resolve_host

    async def checked_addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``; AddressRefused when any is refused (a
        name that resolves to both kinds is refused: which one is used is not ours to pick)."""
        host = host.strip("[]")
        addresses = await self.resolve(host, port)
        refused = [address for address in addresses if not self.is_allowed(address)]
        if refused or not addresses:
            raise AddressRefused(
                f"{host!r} is a private or local network address ({', '.join(refused)}); "
                "newsbot fetches only from public addresses unless the server's admin allows "
                "private ones ([bot] allow_private_feeds, or allow_private = true on the feed)"
            )
        return addresses


PUBLIC_ONLY = AddressRule()


async def ensure_public_url(url: str, *, allow_private: bool = False) -> None:
    """Raise :class:`FeedError` unless every address ``url``'s host resolves to is public.

    Chat-added feeds go through this (``allow_private`` comes from settings) so the bot cannot
    be used to reach the server's own network; fetching checks again at every request.
    """
    if allow_private:
        return
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FeedError(f"{url!r} is not a valid URL: {exc}") from None
    if not parsed.host:
        raise FeedError(f"{url!r} has no host name")
    await PUBLIC_ONLY.checked_addresses(parsed.host, parsed.port or 443)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
