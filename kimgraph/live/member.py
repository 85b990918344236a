"""A group's members: one connection's operation, where its frames go, who owns it.

A Member is one socket's (or HTTP stream's) operation in a shared run
(kimgraph.live.group): it splices its operation id into the group's encoded
payload, buffers events while it catches up, and skips what it already had.
Sink is where its frames go; Owner is the connection told when the shared run
cannot serve it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from kimgraph.cursors import decode_event_cursor
from kimgraph.errors import ApiError
from kimgraph.live.direct_write import text_frame


@lru_cache(maxsize=1024)
def same_string(text: str) -> str:
    """One string object for equal short strings seen often (operation ids)."""
    return text


def event_position(cursor: object) -> int | None:
    """The event id in a cursor, or None if it is none (its error is the run's)."""
    if not isinstance(cursor, str):
        return None
    try:
        return decode_event_cursor(cursor)
    except ApiError:
        return None


@lru_cache(maxsize=1024)
def _frame_prefix(operation_id: str) -> str:
    return '{"id":' + json.dumps(operation_id) + ',"type":"next",'


class Owner(Protocol):
    """The connection a member belongs to."""

    def group_ended(self, member: Member) -> None:
        """The shared run ended (it failed): complete the member's operation."""

    def resume_failed(self, member: Member) -> None:
        """The shared catch-up cannot serve this member: serve it on its own.

        The run could not start (bad arguments) or the catch-up from the
        member's cursor reported an error (CURSOR_EXPIRED): the owner runs the
        operation as it would without sharing, which reports the exact error.
        """


class Sink(Protocol):
    """Where a member's frames go: a socket's outbox, or an HTTP stream's queue."""

    @property
    def waiting(self) -> int:
        """Frames queued and not yet written."""

    @property
    def size(self) -> int:
        """How many may queue before the reader counts as too slow."""

    def put(self, frame: str, wire: bytes | None = None) -> None:
        """Write or queue a frame; too many queued ends the reader (1013)."""

    def put_all(self, frames: list[str], wire: bytes | None) -> None:
        """put() each frame; `wire` is all of them encoded as one write, if known."""

    def give_up(self) -> None:
        """The reader fell too far behind: end it as a slow consumer."""

    def try_again(self) -> None:
        """An event could not be read: end the reader so that it resumes (1013)."""

    async def room(self) -> None:
        """Return once a frame would go out at once (or the sink is done)."""


@dataclass(eq=False, slots=True)
class Member:
    """One connection's operation in a group.

    A socket's frames are `next` messages with its operation id spliced in
    (`framed`); an HTTP stream's are the bare payload its transport frames.
    """

    operation_id: str
    outbox: Sink
    owner: Owner
    framed: bool = True
    prefix: str = ""
    position: int = 0
    live: bool = False
    # Events that arrived while the member was still catching up.
    waiting: list[tuple[int, str]] | None = None

    def __post_init__(self) -> None:
        self.prefix = _frame_prefix(self.operation_id) if self.framed else ""

    def deliver(
        self,
        event_id: int,
        payload: str,
        frames: dict[str, tuple[str, bytes | None]],
    ) -> bool:
        """Send the event's frame, unless this member already had the event.

        `frames` lets members with the same operation id (boards all use the
        same one) share one frame, and its encoding, per event. A member still
        catching up keeps the event for later; more than its sink may queue
        ends it as a slow consumer.
        """
        if not self.live:
            if self.waiting is None:
                self.waiting = []
            if len(self.waiting) >= self.outbox.size:
                self.waiting = []
                self.outbox.give_up()
                return False
            self.waiting.append((event_id, payload))
            return False
        return self.send(event_id, payload, frames)

    def send(
        self,
        event_id: int,
        payload: str,
        frames: dict[str, tuple[str, bytes | None]],
    ) -> bool:
        """Send now, live or not, unless the member already had the event."""
        if event_id <= self.position:
            return False
        self.position = event_id
        self.outbox.put(*self.frame(payload, frames))
        return True

    def frame(
        self, payload: str, frames: dict[str, tuple[str, bytes | None]]
    ) -> tuple[str, bytes | None]:
        """This member's frame for a payload, from (or into) a per-event cache."""
        encoded = frames.get(self.prefix)
        if encoded is None:
            if self.framed:
                frame = self.prefix + '"payload":' + payload + "}"
                encoded = frames[self.prefix] = (frame, text_frame(frame))
            else:
                encoded = frames[self.prefix] = (payload, None)
        return encoded

    def go_live(self, replayed_through: int) -> None:
        """Switch from replay to the group's frames, skipping what was replayed."""
        self.position = max(self.position, replayed_through)
        self.live = True
        waiting, self.waiting = self.waiting or [], None
        for event_id, payload in waiting:
            self.send(event_id, payload, {})
