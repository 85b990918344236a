"""Which clients share an allowance: one IPv4 address, or one IPv6 /64.

An IPv6 host usually holds a whole /64 (SLAAC, privacy addresses), so keying
on the full address would give one person 2**64 allowances.
"""

from __future__ import annotations

import ipaddress

IPV6_PREFIX = 64


def client_key(host: str | None) -> str:
    """The rate-limit key of a client address ("unknown" without one).

    An IPv4-mapped IPv6 address counts as its IPv4 address; anything that is
    no IP address (a Unix socket's peer, a test client's name) is kept as is.
    """
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False)
        return str(network)
    return str(address)
