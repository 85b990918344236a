"""Calling a domain command with what the request supplies: clock, doorbell, caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from kimgraph.accounts.principals import Principal
from kimgraph.clock import Clock
from kimgraph.context import Info
from kimgraph.events.bus import Doorbell
from kimgraph.idempotency import applied_or_failed

P = ParamSpec("P")
R = TypeVar("R")


async def run_command(
    info: Info,
    command: Callable[Concatenate[Clock, Doorbell, Principal, P], Awaitable[R]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """Run command as the caller, with the request's clock and the hub's doorbell.

    A failure after its commit is APPLIED_WITHOUT_ANSWER, not INTERNAL
    (kimgraph.idempotency): the client must not send it again.
    """
    context = info.context
    async with applied_or_failed(context.hub.announce):
        return await command(
            context.clock, context.hub.announce, context.principal, *args, **kwargs
        )
