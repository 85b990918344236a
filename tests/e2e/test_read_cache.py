"""The read cache on a real server: no answer from before a mutation that returned.

Readers hammer the board's query while a writer publishes, updates and
withdraws; every read that started after a mutation returned must show it.
A scheduled and an expiring announcement appear and go at their moments,
before any event marks them (docs/performance.md, "The read cache").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.live import Live

DEADLINE_S = 60.0
READERS = 4
CYCLES = 4
REGION = "61.04.16.2006"
QUERY_BOARD = """
query Board($region: String!) {
  announcements(region: $region, first: 100) {
    eventCursor edges { node { id title status } }
  }
}
"""
MUTATION_UPDATE = """
mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
  announcementUpdate(id: $id, input: $input) {
    announcement { revision } userErrors { code message }
  }
}
"""
MUTATION_WITHDRAW = """
mutation ($id: ID!, $reason: String!) {
  announcementWithdraw(id: $id, reason: $reason) {
    announcement { id } userErrors { code message }
  }
}
"""


async def board(http: httpx.AsyncClient) -> list[str]:
    """The board's titles, read anonymously."""
    response = await http.post(
        "/graphql", json={"query": QUERY_BOARD, "variables": {"region": REGION}}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return [e["node"]["title"] for e in body["data"]["announcements"]["edges"]]


@dataclass
class Stage:
    """What the board must show once a mutation returned."""

    number: int
    shows: str | None  # the title it must show; None: neither of the cycle's
    hidden: tuple[str, ...]
    reads: int = 0
    checked: asyncio.Event = field(default_factory=asyncio.Event)


async def wait_for(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), DEADLINE_S)


async def test_no_read_after_a_mutation_returned_sees_the_state_before_it(
    live: Live,
) -> None:
    # given: readers that note the stage their read started in
    stages = [Stage(0, None, ())]
    problems: list[str] = []
    done = asyncio.Event()

    async def reader(http: httpx.AsyncClient) -> None:
        while not done.is_set():
            stage = stages[-1]
            titles = await board(http)
            if stage.shows is not None and stage.shows not in titles:
                later = stages[-1].number > stage.number
                if not later:  # a newer mutation may have returned meanwhile
                    problems.append(f"stage {stage.number}: {titles}")
            if any(t in titles for t in stage.hidden):  # hidden for good
                problems.append(f"stage {stage.number} stale: {titles}")
            stage.reads += 1
            if stage.reads >= 2 * READERS:
                stage.checked.set()

    async def advance(shows: str | None, hidden: tuple[str, ...]) -> None:
        stages.append(Stage(len(stages), shows, hidden))
        await wait_for(stages[-1].checked)

    async with httpx.AsyncClient(base_url=live.server.url, trust_env=False) as http:
        tasks = [asyncio.create_task(reader(http)) for _ in range(READERS)]
        try:
            await wait_for(stages[0].checked)
            # when: publish, update, withdraw, CYCLES times
            for cycle in range(CYCLES):
                first, second = f"Rapat desa {cycle}", f"Rapat desa {cycle} (ubah)"
                announcement_id = await live.publish(first, [REGION])
                await advance(first, ())
                data = await live.graphql(
                    MUTATION_UPDATE,
                    {
                        "id": announcement_id,
                        "input": {"expectedRevision": 1, "title": second},
                    },
                )
                assert data["announcementUpdate"]["userErrors"] == []
                await advance(second, (first,))
                data = await live.graphql(
                    MUTATION_WITHDRAW, {"id": announcement_id, "reason": "selesai"}
                )
                assert data["announcementWithdraw"]["userErrors"] == []
                await advance(None, (first, second))
        finally:
            done.set()
            await asyncio.gather(*tasks)
        metrics = (await http.get("/metrics")).text
    # then
    assert problems == []
    hits = next(
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("kimgraph_read_cache_hits_total ")
    )
    assert hits > 0  # the readers were served from the cache too


def _iso(at: datetime) -> str:
    return at.isoformat()


async def test_scheduled_and_expiring_announcements_change_at_their_moments(
    live: Live,
) -> None:
    # given: one shown from 3 s to 6 s from now (the server's clock is this one)
    start = datetime.now(UTC) + timedelta(seconds=3)
    end = start + timedelta(seconds=3)
    title = "Vaksinasi di balai desa"
    await live.publish(title, [REGION], validFrom=_iso(start), validUntil=_iso(end))
    seen: list[tuple[float, float, bool]] = []
    # when: read continuously until well past its end
    async with httpx.AsyncClient(base_url=live.server.url, trust_env=False) as http:
        while datetime.now(UTC) < end + timedelta(seconds=1):
            before = time.time()
            shows = title in await board(http)
            seen.append((before, time.time(), shows))
    # then: never before validFrom, always in between, never from validUntil on
    problems: list[Any] = []
    for before, after, shows in seen:
        if after < start.timestamp() and shows:
            problems.append(("early", before, after))
        if start.timestamp() <= before and after < end.timestamp() and not shows:
            problems.append(("missing", before, after))
        if end.timestamp() <= before and shows:
            problems.append(("late", before, after))
    assert problems == []
    assert any(shows for _, _, shows in seen)
    assert seen[-1][2] is False
