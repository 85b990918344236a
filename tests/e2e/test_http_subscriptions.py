"""Subscriptions over HTTP against a real server, with real clients from npm.

graphql-sse's own client (distinct connections mode) and meros reading Apollo's
multipart protocol (tests/e2e/node/http_subscribe.mjs) get live events and,
after a disconnect, exactly what they missed, as WebSocket clients do
(test_announcement_events.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import node
from tests.e2e.live import DEADLINE_S, Live, live_server
from tests.e2e.server import Server

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
PROTOCOLS = ("sse", "multipart")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, str, str]]:
    with live_server(str(request.param), tmp_path) as deployment:
        yield deployment


@dataclass
class HttpSubscriber:
    """One node process subscribed over HTTP; its results, one JSON line each."""

    process: asyncio.subprocess.Process

    @classmethod
    async def open(
        cls, server: Server, protocol: str, region: str, after: str, count: int
    ) -> HttpSubscriber:
        folder = node.installed()
        process = await asyncio.create_subprocess_exec(
            node.executable("node"),
            str(folder / "http_subscribe.mjs"),
            protocol,
            f"{server.url}/graphql",
            region,
            after,
            str(count),
            cwd=folder,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def result(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        async with asyncio.timeout(DEADLINE_S):
            line = await self.process.stdout.readline()
        if not line:
            assert self.process.stderr is not None
            raise AssertionError((await self.process.stderr.read()).decode())
        result: dict[str, Any] = json.loads(line)
        return result

    async def event(self) -> dict[str, Any]:
        result = await self.result()
        assert result.keys() == {"data"}, result
        event: dict[str, Any] = result["data"]["announcementEvents"]
        return event

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


async def streams_open(live: Live) -> dict[str, float]:
    """kimgraph_http_subscription_streams from the server's /metrics."""
    text = (await live.http.get("/metrics")).text
    prefix = "kimgraph_http_subscription_streams{protocol="
    return {
        line.split('"')[1]: float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith(prefix)
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_client_gets_live_events_then_exactly_what_it_missed(
    live: Live, protocol: str
) -> None:
    # given: a client that saw one event live, then lost its connection
    client = await HttpSubscriber.open(
        live.server, protocol, DESA, await live.cursor(DESA), count=100
    )
    await live.publish("Sebelum putus", [DESA])
    last = await client.event()
    assert (last["kind"], last["announcement"]["title"]) == (
        "PUBLISHED",
        "Sebelum putus",
    )
    name = "sse" if protocol == "sse" else "multipart-subscription"
    assert (await streams_open(live))[name] == 1.0
    await client.close()
    # when: 20 are published while it is away, and it resumes with its cursor
    titles = [f"Pengumuman {n:02d}" for n in range(20)]
    for title in titles:
        await live.publish(title, [DESA])
    client = await HttpSubscriber.open(
        live.server, protocol, DESA, last["cursor"], count=100
    )
    missed = [await client.event() for _ in titles]
    # then: exactly those 20, in order, and the next one is the next live event
    assert [e["announcement"]["title"] for e in missed] == titles
    assert len({e["cursor"] for e in missed} | {last["cursor"]}) == 21
    await live.publish("Sesudahnya", [DESA])
    assert (await client.event())["announcement"]["title"] == "Sesudahnya"
    await client.close()
    # and the server counts the stream closed once it notices the client gone
    async with asyncio.timeout(DEADLINE_S):
        while True:
            if (await streams_open(live))[name] == 0.0:
                break
            await asyncio.sleep(0.05)
