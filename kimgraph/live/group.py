"""One execution per event for many identical subscriptions, one encoding per event.

Boards of one desa send the same subscription document with the same
variables. Executing and serialising it once per socket costs ~9x a bare
broadcast (docs/performance.md); here a Group runs it once, encodes the payload once,
and each member gets the frame with its own operation id spliced in. A member
that resumes with `after` first replays the log on its own, buffering the group's
frames meanwhile, and joins at the seam: events are deduplicated by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from asyncio import FIRST_COMPLETED
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult

from kimgraph.accounts.principals import ANONYMOUS
from kimgraph.context import Context
from kimgraph.live.direct_write import text_frame
from kimgraph.live.outbox import Outbox
from kimgraph.live.runs import LiveOnly
from kimgraph.live.shape import Shape
from kimgraph.live.stats import FanOutStats

logger = logging.getLogger("kimgraph.live.group")


@lru_cache(maxsize=1024)
def same_string(text: str) -> str:
    """One string object for equal short strings seen often (operation ids)."""
    return text


@lru_cache(maxsize=1024)
def _frame_prefix(operation_id: str) -> str:
    return '{"id":' + json.dumps(operation_id) + ',"type":"next",'


class Owner(Protocol):
    """The connection a member belongs to."""

    def group_ended(self, member: Member) -> None:
        """The shared run ended (it failed): complete the member's operation."""


@dataclass(eq=False, slots=True)
class Member:
    """One socket's operation in a group."""

    operation_id: str
    outbox: Outbox
    owner: Owner
    prefix: str = ""
    position: int = 0
    live: bool = False
    # Events that arrived while the member was still replaying.
    waiting: list[tuple[int, str]] | None = None

    def __post_init__(self) -> None:
        self.prefix = _frame_prefix(self.operation_id)

    def deliver(
        self,
        event_id: int,
        payload: str,
        frames: dict[str, tuple[str, bytes]],
    ) -> bool:
        """Send the event's frame, unless this member already had the event.

        `frames` lets members with the same operation id (boards all use the
        same one) share one frame, and its encoding, per event.
        """
        if not self.live:
            if self.waiting is None:
                self.waiting = []
            self.waiting.append((event_id, payload))
            return False
        if event_id <= self.position:
            return False
        self.position = event_id
        encoded = frames.get(self.prefix)
        if encoded is None:
            frame = self.prefix + '"payload":' + payload + "}"
            encoded = frames[self.prefix] = (frame, text_frame(frame))
        self.outbox.put(*encoded)
        return True

    def go_live(self, replayed_through: int) -> None:
        """Switch from replay to the group's frames, skipping what was replayed."""
        self.position = max(self.position, replayed_through)
        self.live = True
        waiting, self.waiting = self.waiting or [], None
        for event_id, payload in waiting:
            self.deliver(event_id, payload, {})


class Group:
    """One live execution of one subscription shape, fanned out to its members."""

    def __init__(
        self, shape: Shape, template: Context, schema: BaseSchema, stats: FanOutStats
    ) -> None:
        self.shape = shape
        self.members: set[Member] = set()
        # Where the run is: the id of its current event, or before the first
        # one the hub position it follows from (the run reports both).
        self.position = 0
        self._following = asyncio.Event()
        # Shared runs are public: nothing in them may depend on who asked.
        self.context = dataclasses.replace(
            template,
            stream_run=LiveOnly(self._at),
            request=None,
            principal=ANONYMOUS,
        )
        self._schema = schema
        self.stats = stats
        self.task: asyncio.Task[None] | None = None

    def _at(self, position: int) -> None:
        self.position = position
        self._following.set()

    @property
    def ended(self) -> bool:
        return self.task is not None and self.task.done()

    @property
    def following(self) -> bool:
        """The run is live: a new member can take the next event."""
        return self._following.is_set() and not self.ended

    async def following_or_ended(self) -> None:
        """Wait until the run follows the hub (or has ended)."""
        assert self.task is not None
        waiter = asyncio.ensure_future(self._following.wait())
        try:
            await asyncio.wait({waiter, self.task}, return_when=FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def run(self) -> None:
        try:
            results = await self._schema.stream(
                self.shape.query,
                variable_values=dict(self.shape.variables),
                context_value=self.context,
                operation_name=self.shape.operation_name,
            )
            async with contextlib.aclosing(results):
                async for result in results:
                    self._fan_out(result)
        except asyncio.CancelledError:
            raise
        except Exception:  # an unexpected failure ends the group; members resume
            logger.exception("shared subscription failed")

    def _fan_out(self, result: Any) -> None:
        if not isinstance(result, ExecutionResult) or not self._following.is_set():
            return
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        encoded = json.dumps(payload, separators=(",", ":"), default=str)
        event_id = self.position
        frames: dict[str, tuple[str, bytes]] = {}
        started = time.perf_counter()
        delivered = 0
        for member in list(self.members):
            delivered += member.deliver(event_id, encoded, frames)
        self.stats.seconds.observe(time.perf_counter() - started)
        self.stats.events += 1
        self.stats.deliveries += delivered
