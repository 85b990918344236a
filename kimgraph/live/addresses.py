"""How many WebSockets each client address holds open, capped.

One address opening thousands of sockets would take memory and pings meant
for every board (docs/live-delivery.md, "Connections per address"). Clients
are keyed as the rate limits key them (kimgraph.rate_limit.client_key): an
IPv4 address, or an IPv6 /64, which one host usually holds whole.
"""

from __future__ import annotations

from typing import ClassVar

from kimgraph.rate_limit.addresses import client_key


class ConnectionsPerAddress:
    """Open WebSockets per client key, at most `limit` each."""

    __slots__ = ("_open", "limit")
    # For /metrics: handshakes refused at the cap in this process.
    refused: ClassVar[int] = 0

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def open(self, host: str | None) -> str | None:
        """Count a new socket from host; its key, or None if host is at the cap."""
        key = client_key(host)
        count = self._open.get(key, 0)
        if count >= self.limit:
            ConnectionsPerAddress.refused += 1
            return None
        self._open[key] = count + 1
        return key

    def release(self, key: str) -> None:
        """A socket counted under key has ended (whatever the way)."""
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def count(self, host: str | None) -> int:
        """The sockets open now from host's key."""
        return self._open.get(client_key(host), 0)
