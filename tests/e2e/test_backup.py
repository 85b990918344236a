"""A backup taken while a server publishes, restored, served by a second server.

SQLite through `kimgraph backup`/`restore`; PostgreSQL through the pg_dump and
pg_restore commands they print (docs/operations.md, "Backups").
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.live import DEADLINE_S, Live, Subscriber, cli, live_server, signed_in
from tests.e2e.server import Server, running_server
from tests.services import postgres_database, service_missing

KABUPATEN = "61.04"
TARGETS = ["61.04.16.2006", "61.04.16.2007", "61.04.16"]
PUBLISHERS = 2

QUERY_REGIONS = """
query ($after: String) {
  regions(first: 100, after: $after) {
    edges { node { code name level } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
QUERY_ANNOUNCEMENTS = """
query ($region: String!, $after: String) {
  announcements(region: $region, includeDescendants: true, first: 100, after: $after) {
    eventCursor
    edges { node { id title body status revision targets { code } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_a_backup_taken_while_publishing_restores_what_was_committed(
    live: Live, tmp_path: Path
) -> None:
    # given: publishers writing continuously over HTTP
    start = await live.cursor(KABUPATEN)
    acked: list[str] = []
    stop = asyncio.Event()
    publishers = [
        asyncio.create_task(_publish_until(live, stop, acked, worker))
        for worker in range(PUBLISHERS)
    ]
    await _until(lambda: len(acked) >= 20, publishers)
    answered_before = list(acked)
    # when: the backup is taken mid-way, the publishers still going
    backup = tmp_path / "kim.backup"
    made = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kimgraph.cli",
        "backup",
        str(backup),
        env={**os.environ, "KIMGRAPH_DATABASE_URL": live.database_url},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await made.communicate()
    answered_during = len(acked) - len(answered_before)
    await _until(lambda: len(acked) >= len(answered_before) + answered_during + 10)
    stop.set()
    await asyncio.gather(*publishers)
    # then: the backup ran while publishes were answered
    assert (made.returncode, err.decode()) == (0, ""), out
    source = live.database_url.removeprefix("sqlite://")
    assert out.decode().startswith(f"backed up {source} to {backup} ("), out
    assert answered_during > 0
    # when: restored into an empty database and served
    folder = tmp_path / "restored"
    folder.mkdir()
    url = f"sqlite://{folder / 'kimgraph.db'}"
    restored = cli(
        "restore", str(backup), env={"KIMGRAPH_DATABASE_URL": url}, cwd=folder
    )
    assert restored.startswith(f"restored {backup} into {folder / 'kimgraph.db'}")
    with running_server(folder, {"KIMGRAPH_DATABASE_URL": url}) as second:
        await _compare(live, second, start, answered_before, total=len(acked))


@pytest.mark.postgres
def test_a_postgresql_round_trip_with_the_printed_commands(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        service_missing(
            "pg_dump and pg_restore (PostgreSQL's client) are not installed"
        )
    dump = tmp_path / "kim.dump"
    with live_server("postgres", tmp_path) as deployment:
        original_url = deployment[1]
        start, ids = asyncio.run(_publish_some(deployment))
        # when: `kimgraph backup` names the command, which is run as printed
        printed = _printed("backup", dump, original_url, tmp_path)
        assert [line.split()[0] for line in printed] == ["pg_dump"]
        _run_printed(printed, original_url, tmp_path)
        with postgres_database() as url:
            folder = tmp_path / "restored"
            folder.mkdir()
            printed = _printed("restore", dump, url, folder)
            assert [line.split()[0] for line in printed] == ["pg_restore", "kimgraph"]
            _run_printed(printed, url, folder)
            with running_server(folder, {"KIMGRAPH_DATABASE_URL": url}) as second:
                asyncio.run(_compare_all(deployment, second, start, ids))


async def _publish_until(
    live: Live, stop: asyncio.Event, acked: list[str], worker: int
) -> None:
    number = 0
    while not stop.is_set():
        desa = TARGETS[number % len(TARGETS)]
        acked.append(await live.publish(f"Pengumuman {worker}-{number}", [desa]))
        number += 1


async def _until(
    condition: Callable[[], bool], watched: list[asyncio.Task[None]] | None = None
) -> None:
    """Wait for a condition; a publisher that failed fails the wait at once."""
    deadline = time.monotonic() + DEADLINE_S * 4
    while not condition():
        for task in watched or []:
            if task.done():
                task.result()
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _compare(
    live: Live, second: Server, start: str, answered_before: list[str], total: int
) -> None:
    """The second server serves a committed prefix holding every earlier answer."""
    async with httpx.AsyncClient(base_url=second.url, trust_env=False) as http:
        headers = {"authorization": f"Bearer {live.token}"}
        # same regions
        assert await _pages(http, QUERY_REGIONS, {}, headers) == await _pages(
            live.http, QUERY_REGIONS, {}, headers
        )
        # every publish answered before the backup began, whole
        kept = await _announcements(http, headers)
        everything = await _announcements(live.http, headers)
        assert set(answered_before) <= set(kept)
        assert kept == {key: everything[key] for key in kept}
        # the same events, with the same cursors: a prefix of the original log
        original = await Subscriber.open(live.server, KABUPATEN, start, True)
        before = await original.events(total)
        copy = await Subscriber.open(second, KABUPATEN, start, True)
        after = await copy.events(len(kept))
        assert after == before[: len(kept)]
        assert {event["announcement"]["id"] for event in after} == set(kept)
        assert await copy.nothing_within(1.0)
        await original.close()
        await copy.close()
        # a board's eventCursor is the position of the last event kept
        board = await _page(http, QUERY_ANNOUNCEMENTS, {"region": TARGETS[0]}, headers)
        assert board["eventCursor"] == after[-1]["cursor"]


async def _announcements(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> dict[str, dict[str, Any]]:
    nodes = await _pages(http, QUERY_ANNOUNCEMENTS, {"region": KABUPATEN}, headers)
    return {node["id"]: node for node in nodes}


async def _pages(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str],
) -> list[dict[str, Any]]:
    """Every node of a connection, page by page."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = await _page(http, query, {**variables, "after": after}, headers)
        nodes.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def _page(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str],
) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    page: dict[str, Any]
    (page,) = body["data"].values()
    return page


async def _publish_some(deployment: tuple[Server, str, str]) -> tuple[str, list[str]]:
    """The log's position before, and the ids of a dozen announcements."""
    async with signed_in(deployment) as live:
        start = await live.cursor(KABUPATEN)
        ids = [
            await live.publish(f"Pengumuman {number}", [TARGETS[number % len(TARGETS)]])
            for number in range(12)
        ]
        return start, ids


async def _compare_all(
    deployment: tuple[Server, str, str], second: Server, start: str, ids: list[str]
) -> None:
    """Nothing was written during this backup: all of it is on the second server."""
    async with signed_in(deployment) as live:
        await _compare(live, second, start, ids, total=len(ids))


def _printed(command: str, file: Path, url: str, cwd: Path) -> list[str]:
    """The commands `kimgraph backup|restore` prints for PostgreSQL (exit 2)."""
    result = subprocess.run(
        [sys.executable, "-m", "kimgraph.cli", command, str(file)],
        env={**os.environ, "KIMGRAPH_DATABASE_URL": url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"kimgraph: {command} copies SQLite"), result
    return result.stdout.splitlines()


def _run_printed(commands: list[str], url: str, cwd: Path) -> None:
    """Run each printed command as an operator would (kimgraph: this checkout's)."""
    for line in commands:
        words = shlex.split(line)
        if words[0] == "kimgraph":
            words = [sys.executable, "-m", "kimgraph.cli", *words[1:]]
        subprocess.run(
            words,
            env={**os.environ, "KIMGRAPH_DATABASE_URL": url},
            cwd=cwd,
            capture_output=True,
            timeout=300,
            check=True,
        )
