"""The credential check end to end: a key revoked by the CLI closes its sockets."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.live import Live, Subscriber, cli, live_server
from tests.e2e.server import Server

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
CHECK_SECONDS = 0.5
# Thirty checks, and half the default interval: generous on a loaded machine,
# yet only met if the setting is applied.
CLOSE_DEADLINE_S = 15.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, str, str]]:
    env = {"KIMGRAPH_CREDENTIAL_CHECK_SECONDS": str(CHECK_SECONDS)}
    with live_server(str(request.param), tmp_path, env) as deployment:
        yield deployment


def create_api_key(name: str, database_url: str, folder: Path) -> tuple[int, str]:
    """`kimgraph apikeys create`; the key's number and the key."""
    out = cli(
        "apikeys",
        "create",
        "--name",
        name,
        "--region",
        "61.04",
        env={"KIMGRAPH_DATABASE_URL": database_url},
        cwd=folder,
    )
    number = re.match(r"API key (\d+) for", out)
    assert number is not None, out
    key = next(line for line in out.splitlines() if line.startswith("kgk_"))
    return int(number.group(1)), key


async def close_of(subscriber: Subscriber) -> tuple[int, str]:
    """Wait for the server to close the socket; its code and reason."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(_drain(subscriber), CLOSE_DEADLINE_S)
    received = closed.value.rcvd
    assert received is not None
    return received.code, received.reason


async def _drain(subscriber: Subscriber) -> None:
    while True:
        await subscriber.ws.recv()


async def test_an_api_key_revoked_by_the_cli_closes_its_sockets_with_4403(
    deployed: tuple[Server, str, str], tmp_path: Path
) -> None:
    # given: two partner apps following a desa, each with its own key
    server, database_url, token = deployed
    revoked_id, revoked_key = await asyncio.to_thread(
        create_api_key, "Aplikasi Dicabut", database_url, tmp_path
    )
    _, kept_key = await asyncio.to_thread(
        create_api_key, "Aplikasi Tetap", database_url, tmp_path
    )
    live = Live(server, database_url, token)
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        live.http = http
        cursor = await live.cursor(DESA)
        revoked, kept = [
            await Subscriber.open(
                server, DESA, after=cursor, authorization=f"Bearer {key}"
            )
            for key in (revoked_key, kept_key)
        ]
        await live.publish("Sebelum pencabutan", [DESA])
        before = [(await s.event())["announcement"]["title"] for s in (revoked, kept)]
        # when: an operator revokes one key from the command line
        await asyncio.to_thread(
            cli,
            "apikeys",
            "revoke",
            str(revoked_id),
            env={"KIMGRAPH_DATABASE_URL": database_url},
            cwd=tmp_path,
        )
        # then
        assert before == ["Sebelum pencabutan", "Sebelum pencabutan"]
        assert await close_of(revoked) == (4403, "credential revoked")
        await live.publish("Sesudah pencabutan", [DESA])
        after = await kept.event()
        assert after["announcement"]["title"] == "Sesudah pencabutan"
        await kept.close()
