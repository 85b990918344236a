"""Live WebSocket connections by the credential they signed in with."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Protocol

logger = logging.getLogger("kimgraph.connections")

CLOSE_FORBIDDEN = 4403


class Closable(Protocol):
    """A connection the server can close."""

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class ConnectionRegistry:
    """Which sockets each token or API key holds open, so revoking closes them."""

    def __init__(self) -> None:
        self._by_credential: dict[tuple[str, int], weakref.WeakSet[Closable]] = {}

    def add(self, credential: tuple[str, int], connection: Closable) -> None:
        """Remember a socket; forgotten by itself once the socket is gone."""
        self._by_credential.setdefault(credential, weakref.WeakSet()).add(connection)

    def discard(self, credential: tuple[str, int], connection: Closable) -> None:
        """Forget a socket that closed."""
        sockets = self._by_credential.get(credential)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                del self._by_credential[credential]

    def count(self, credential: tuple[str, int]) -> int:
        """How many sockets hold this credential."""
        return len(self._by_credential.get(credential, ()))

    async def close_all(self, credential: tuple[str, int], reason: str) -> int:
        """Close every socket of a revoked credential with 4403; how many there were."""
        sockets = list(self._by_credential.pop(credential, ()))
        results = await asyncio.gather(
            *(s.close(code=CLOSE_FORBIDDEN, reason=reason) for s in sockets),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.info("closing a revoked socket failed: %r", result)
        return len(sockets)
