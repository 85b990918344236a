"""Which URLs a webhook may name and which addresses it may reach (docs/webhooks.md).

A webhook makes this server send requests where an ADMIN says: without these
checks it could be pointed at the cloud metadata service or at services on
the server's own network. Every address a host resolves to is checked before
each attempt, and the request goes to the address checked (not to a second
lookup that a rebinding DNS server could answer differently).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
# Cloud metadata services outside the link-local ranges (AWS over IPv6,
# Alibaba Cloud); 169.254.169.254 is refused as link-local already.
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200")
)
LINK_LOCAL = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
)


class RefusedAddress(Exception):
    """The URL or one of its addresses may not be delivered to; says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where one attempt goes: the URL's host and port, and the address checked."""

    scheme: str
    host: str
    port: int
    address: IPAddress


def check_url(url: str, allow_local: bool) -> str:
    """The URL if its form may be registered; RefusedAddress otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedAddress(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedAddress("the URL is not a valid absolute URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedAddress("the URL must be an absolute https:// URL")
    if parts.scheme == "http" and not allow_local:
        raise RefusedAddress(
            "the URL must use https (http is allowed only when "
            "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)"
        )
    if parts.username is not None or parts.password is not None:
        raise RefusedAddress("the URL must not carry a user name or password")
    if parts.fragment:
        raise RefusedAddress("the URL must not have a #fragment")
    if port == 0:
        raise RefusedAddress("the URL's port must be 1-65535")
    return url


def check_address(address: IPAddress, allow_local: bool) -> None:
    """RefusedAddress unless a webhook may connect to this address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        check_address(address.ipv4_mapped, allow_local)
        return
    if address in METADATA:
        raise RefusedAddress(f"{address} is a cloud metadata address")
    if any(address in network for network in LINK_LOCAL):
        raise RefusedAddress(f"{address} is a link-local address")
    local = address.is_loopback or address.is_private or not address.is_global
    if local and not allow_local:
        raise RefusedAddress(
            f"{address} is a loopback or private address (allowed only when "
            "KIMGRAPH_WEBHOOKS_ALLOW_HTTP is on)"
        )
    # ::1 lies in a reserved range, yet is the loopback address.
    if (
        address.is_unspecified
        or address.is_multicast
        or (address.is_reserved and not address.is_loopback)
    ):
        raise RefusedAddress(f"{address} is not a unicast address")


async def resolve(url: str, allow_local: bool) -> Target:
    """The checked address to send to; RefusedAddress if any address is refused.

    Every address the name has is checked, not only the one used: a name
    that also points inward is refused as a whole.
    """
    parts = urlsplit(check_url(url, allow_local))
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await _lookup(host, port)
    for address in addresses:
        check_address(address, allow_local)
    return Target(parts.scheme, host, port, addresses[0])


async def _lookup(host: str, port: int) -> list[IPAddress]:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):
        raise RefusedAddress(f"the host {host} does not resolve") from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedAddress(f"the host {host} does not resolve")
    return addresses
