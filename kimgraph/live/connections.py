"""Live WebSocket connections by the credential they signed in with."""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Protocol

from starlette.websockets import WebSocketState

logger = logging.getLogger("kimgraph.live.connections")

CLOSE_FORBIDDEN = 4403


class Closable(Protocol):
    """A connection the server can close, and whether either side already has."""

    client_state: WebSocketState
    application_state: WebSocketState

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


def is_open(connection: Closable) -> bool:
    """True until either side has closed the socket."""
    return WebSocketState.DISCONNECTED not in (
        connection.client_state,
        connection.application_state,
    )


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

    def credentials(self) -> list[tuple[str, int]]:
        """The distinct credentials that open sockets hold; the rest are forgotten."""
        held = []
        for credential, sockets in list(self._by_credential.items()):
            # Usually the first socket is open, so this costs one step per
            # credential, not per socket. A closed socket lingers in its set
            # until the garbage collector takes it.
            if any(is_open(socket) for socket in sockets):
                held.append(credential)
            else:
                del self._by_credential[credential]
        return held

    async def close_all(self, credential: tuple[str, int], reason: str) -> int:
        """Close every open socket of a credential with 4403; how many there were."""
        sockets = [s for s in self._by_credential.pop(credential, ()) if is_open(s)]
        results = await asyncio.gather(
            *(s.close(code=CLOSE_FORBIDDEN, reason=reason) for s in sockets),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.info("closing a socket with 4403 failed: %r", result)
        return len(sockets)
