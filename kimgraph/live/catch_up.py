"""A shared replay of the log after a cursor, and how it executes.

Every member of a group resuming from the same cursor waits on one CatchUp:
one log read, one execution and JSON encoding per event, one frame per
operation id (docs/live-delivery.md, "Resuming cheaply"). It executes on
graphql-core directly, each event along the subscription's plan
(kimgraph.event_plan; docs/performance.md, "Replaying many events").
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
from collections.abc import AsyncGenerator
from typing import Any, cast

from graphql import ExecutionResult as GraphQLResult
from graphql import subscribe
from strawberry.schema.base import BaseSchema
from strawberry.schema.schema import Schema
from strawberry.types import ExecutionResult

from kimgraph.context import Context
from kimgraph.live.member import Member
from kimgraph.live.shape import Shape, document_of


class CatchUp:
    """One shared replay of the log after a cursor, for every member resuming there.

    Run once per (group, cursor) with the group's public context, so that
    ten thousand boards resuming from one cursor cost one log read and one
    execution and encoding per event, not one Strawberry stream per socket.
    """

    __slots__ = (
        "after_id",
        "cursor",
        "failed",
        "finished",
        "frames",
        "joined",
        "started",
        "task",
        "through",
        "written",
    )

    def __init__(self, cursor: str, after_id: int) -> None:
        self.cursor = cursor
        self.after_id = after_id
        # (event id, encoded result) after the cursor, and one frame cache
        # per event for the members' operation ids.
        self.frames: list[tuple[int, str, dict[str, tuple[str, bytes | None]]]] = []
        # The position the log was read through; valid once the task is done.
        self.through = after_id
        self.failed = False
        # Set once the log was read and `through` is known: from then on the
        # frames are final, even while the task still brings members live.
        self.finished = False
        # Members waiting for it, with the group's position when they joined.
        self.joined: list[tuple[Member, int]] = []
        self.started = time.monotonic()
        self.task: asyncio.Task[None] | None = None
        # All frames for one operation id, and encoded as one write.
        self.written: dict[str, tuple[list[str], bytes | None]] = {}

    @property
    def done(self) -> bool:
        """Whether its frames are final: a member attached now is served at once.

        Not "its task has returned": while the task brings members live a
        slice at a time, one that must move to a newer catch-up is attached
        again, and finding this one still "running" would join it here once
        more, for ever (a process spinning on that loop answered nothing).
        """
        return self.finished or (self.task is not None and self.task.done())

    def all_frames(self, member: Member) -> tuple[list[str], bytes | None]:
        """Every frame of the catch-up as this member's operation id needs them."""
        written = self.written.get(member.prefix)
        if written is None:
            frames = [member.frame(payload, cache) for _, payload, cache in self.frames]
            wires = [wire for _, wire in frames]
            wire = (
                b"".join(w for w in wires if w is not None) if member.framed else None
            )
            written = self.written[member.prefix] = ([f for f, _ in frames], wire)
        return written


def encode_result(result: ExecutionResult | GraphQLResult) -> str:
    """A result as its members get it: compact JSON, once for all of them."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return json.dumps(payload, separators=(",", ":"), default=str)


async def replay_results(
    schema: BaseSchema, shape: Shape, variables: dict[str, Any], context: Context
) -> AsyncGenerator[GraphQLResult | None, None]:
    """The catch-up's results from graphql-core itself; None: it cannot start.

    Not through Strawberry's stream: its extensions and result handling
    ran per event (~20 % of a replay's CPU), and nothing of them applies
    here. The group's own run parsed, validated and admitted this very
    document already, a catch-up never sends an error (any error hands
    its members back to their own runs, which report it), and its context
    is the group's public one; each event still gets fresh loaders and its
    plan (kimgraph.memory.EventExecutor).
    """
    assert isinstance(schema, Schema)
    document = document_of(shape.query)
    if document is None:
        yield None
        return
    started = subscribe(
        schema._schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=shape.operation_name,
        executor_class=schema.execution_context_class,
    )
    results = await started if inspect.isawaitable(started) else started
    if isinstance(results, GraphQLResult):
        yield results
        return
    stream = cast(AsyncGenerator[GraphQLResult, None], results)
    try:
        async with contextlib.aclosing(stream):
            async for result in stream:
                yield result
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - e.g. CURSOR_EXPIRED from the log
        # Strawberry's stream turned such an error into a result: here too,
        # so that the members' own runs report it, and log it if unexpected.
        yield None
