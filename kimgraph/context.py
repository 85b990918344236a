"""The typed per-request Context that every resolver receives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import strawberry
from starlette.requests import HTTPConnection

from kimgraph.clock import Clock, SystemClock
from kimgraph.connections import ConnectionRegistry
from kimgraph.events.fanout import Hub
from kimgraph.events.memory import MemoryBus
from kimgraph.loaders import Loaders
from kimgraph.principals import ANONYMOUS, Principal
from kimgraph.settings import Settings


@dataclass(slots=True)
class StreamMode:
    """How a shared subscription runs its resolver (see kimgraph.sharing).

    live_only: skip any replay and follow new events (one run for many sockets);
    replay_only: send the logged events after `after`, then end. The resolver
    records the id of each event it yields, so the caller can splice the two.
    """

    live_only: bool = False
    replay_only: bool = False
    last_event_id: int = 0
    completed: bool = False
    # Set once a live-only run follows the hub: from then on nothing is missed.
    following: asyncio.Event = field(default_factory=asyncio.Event)


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
