"""Doorbell listeners, as both buses hold them."""

from __future__ import annotations

import asyncio

import pytest

from kimgraph.events.bus import Listeners


async def test_a_listener_takes_the_newest_doorbell_and_ends_with_the_bus() -> None:
    listeners = Listeners()
    heard = listeners.listen(first=1)
    assert await anext(heard) == 1
    # when: two doorbells before the listener looks again
    listeners.ring(2)
    listeners.ring(3)
    # then: only the newest is waiting
    assert await anext(heard) == 3
    # when: the bus ends while a doorbell is still waiting
    listeners.ring(4)
    listeners.end()
    # then: the listener ends (the waiting doorbell gave way to the end)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(heard), 10)
