"""The typed per-request Context that every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import strawberry
from starlette.requests import HTTPConnection

from kimgraph.clock import Clock, SystemClock
from kimgraph.connections import ConnectionRegistry
from kimgraph.events.fanout import Hub, StreamMode
from kimgraph.events.memory import MemoryBus
from kimgraph.loaders import Loaders
from kimgraph.principals import ANONYMOUS, Principal
from kimgraph.settings import Settings


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
    stream_mode: StreamMode | None = None


Info: TypeAlias = strawberry.Info[Context, None]
