"""The typed per-request Context that every resolver receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import strawberry
from starlette.requests import HTTPConnection

from kimgraph.accounts.principals import ANONYMOUS, Principal
from kimgraph.clock import Clock, SystemClock
from kimgraph.events.memory import MemoryBus
from kimgraph.live.connections import ConnectionRegistry
from kimgraph.live.hub import Hub
from kimgraph.live.runs import StreamRun
from kimgraph.loaders import Loaders
from kimgraph.rate_limit import client_key
from kimgraph.settings import Settings

T = TypeVar("T")


@dataclass(slots=True)
class Context:
    """What a resolver may know about the request it serves."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    principal: Principal = ANONYMOUS
    request: HTTPConnection | None = None
    loaders: Loaders = field(default_factory=Loaders)
    connections: ConnectionRegistry = field(default_factory=ConnectionRegistry)
    hub: Hub = field(default_factory=lambda: Hub(MemoryBus(), {}))
    # Filled by Strawberry from a WebSocket's connection_init payload.
    connection_params: dict[str, Any] | None = None
    # How a run the live layer starts itself streams (kimgraph.live.runs);
    # None: as the client asked, replay after the cursor, then live.
    stream_run: StreamRun | None = None

    @property
    def client_address(self) -> str:
        """The caller's address as rate limits count it ("unknown" without one).

        An IPv4 address as is, an IPv6 address as its /64 (one host usually
        holds a whole /64): kimgraph.rate_limit.client_key.
        """
        client = self.request.client if self.request is not None else None
        return client_key(client.host if client is not None else None)

    def app_object(self, name: str, make: Callable[[], T]) -> T | None:
        """An object kept for the application's life, made on first use.

        It lives on the Starlette app's state, beside the routes; None when the
        request has no app (a shared subscription run).
        """
        if self.request is None:
            return None
        state = self.request.app.state
        found = getattr(state, name, None)
        if found is None:
            found = make()
            setattr(state, name, found)
        return found


Info: TypeAlias = strawberry.Info[Context, None]
