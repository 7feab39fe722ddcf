"""Which network addresses newsbot may reach for feeds added from chat: public ones only.

A chat user must not be able to make the bot fetch from the server's own network (loopback,
the LAN, cloud metadata endpoints). Feeds from the configuration file are the operator's
choice and are not checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

from bot.errors import FeedError


def is_public_address(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local, ...).

    Refused: loopback, RFC 1918 and other private ranges, carrier-grade NAT, link-local,
    unique-local (fc00::/7), multicast, unspecified (0.0.0.0, ::), reserved, and IPv4 addresses
    mapped into IPv6. Anything that is not an IP address is not public either.
    """
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_reserved
        or ip.is_unspecified
    )


async def ensure_public_url(url: str, *, allow_private: bool = False) -> None:
    """Raise :class:`FeedError` unless every address ``url``'s host resolves to is public.

    Chat-added feeds go through this (``allow_private`` comes from settings) so the bot cannot
    be used to reach the server's own network.
    """
    if allow_private:
        return
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FeedError(f"{url!r} is not a valid URL: {exc}") from None
    host = parsed.host
    if not host:
        raise FeedError(f"{url!r} has no host name")
    if _is_ip_literal(host):
        addresses = [host]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parsed.port or 443, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise FeedError(f"cannot resolve {host!r}: {exc}") from None
        addresses = [str(info[4][0]) for info in infos]
    refused = [address for address in addresses if not is_public_address(address)]
    if refused or not addresses:
        raise FeedError(
            f"{host!r} is a private or local network address ({', '.join(refused)}); "
            "only public addresses can be added from chat"
        )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
