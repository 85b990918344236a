"""The pinger: one task pings every acknowledged socket, spread over its interval."""

from __future__ import annotations

from kimgraph.live.outbox import Outbox
from kimgraph.live.pinger import PING_FRAME, Pinger
from tests.kimgraph.live.sockets import Socket, until


async def test_the_pinger_spreads_sockets_over_its_interval() -> None:
    sockets = [Socket() for _ in range(90)]
    outboxes = [Outbox(socket, size=4) for socket in sockets]
    pinger = Pinger(interval=60.0)  # a tick every 2 s
    for outbox in outboxes:
        pinger.add(outbox)
    pinger.discard(outboxes[0])
    assert len(pinger) == 89
    try:
        await until(lambda: any(socket.written for socket in sockets))
        pinged = [i for i, socket in enumerate(sockets) if socket.written]
        # One slot of 30: every 30th socket, the first of which was discarded.
        assert pinged == [30, 60]
        assert sockets[30].written == [PING_FRAME]
    finally:
        await pinger.close()
