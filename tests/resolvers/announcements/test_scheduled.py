"""A scheduled announcement is not public before its validFrom.

Until then only its publisher and staff (ADMIN, OFFICER) over one of its targets
read it: by id, through node, in announcements(activeOnly: false) and in
Region.announcements. Everyone else finds nothing, and a mutation tells them
exactly what it tells of an id that names no announcement.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import HOME_DESA, Cast, snapshot
from tests.resolvers.announcements.test_announcements import (
    MUTATION_PUBLISH,
    MUTATION_RELAY,
    MUTATION_UPDATE,
    MUTATION_WITHDRAW,
    publish_input,
)

DESA = "61.04.16.2007"  # Kali Nilam, beside the home desa
KECAMATAN = "61.04.16"
VALID_FROM = "2026-11-28T06:00:00+00:00"  # five hours after the test clock
MISSING = encode_id("Announcement", "999999")
QUERY_READS = """
query ($id: ID!, $region: String!, $kecamatan: String!) {
  announcement(id: $id) { title status }
  node(id: $id) { ... on Announcement { title status } }
  announcements(region: $region, activeOnly: false) {
    totalCount edges { node { title } }
  }
  below: announcements(region: $kecamatan, includeDescendants: true,
                       activeOnly: false) {
    totalCount edges { node { title } }
  }
  region(code: $region) {
    announcements(activeOnly: false) { totalCount edges { node { title } } }
  }
}
"""
NOT_FOUND = {
    "announcement": None,
    "userErrors": [
        {
            "field": ["id"],
            "code": "NOT_FOUND",
            "message": "there is no such announcement",
        }
    ],
}


async def publish_scheduled(
    client: httpx.AsyncClient, cast: Cast, principal: str, target: str
) -> str:
    """Publish "Nanti" for target at VALID_FROM; its id."""
    body = await execute(
        client,
        MUTATION_PUBLISH,
        publish_input("Nanti", [target], validFrom=VALID_FROM),
        cast.headers[principal],
    )
    assert body["data"]["announcementPublish"]["userErrors"] == [], body
    row = await models.Announcement.get(title="Nanti")
    return encode_id("Announcement", row.id)


async def reads(
    client: httpx.AsyncClient,
    cast: Cast,
    principal: str,
    announcement: str,
    region: str,
) -> dict[str, Any]:
    body = await execute(
        client,
        QUERY_READS,
        {"id": announcement, "region": region, "kecamatan": KECAMATAN},
        cast.headers[principal],
    )
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def board(titles: list[str]) -> dict[str, Any]:
    return {
        "totalCount": len(titles),
        "edges": [{"node": {"title": title}} for title in titles],
    }


def read_as(shown: bool, status: str = "SCHEDULED") -> dict[str, Any]:
    """What QUERY_READS returns for the desa, with "Nanti" shown or not."""
    one = {"title": "Nanti", "status": status} if shown else None
    desa = board(["Nanti"] if shown else [])
    kecamatan = board(["Nanti", "Posyandu Suka Bangun"] if shown else [])
    if not shown:
        kecamatan = board(["Posyandu Suka Bangun"])
    return {
        "announcement": one,
        "node": one,
        "announcements": desa,
        "below": kecamatan,
        "region": {"announcements": desa},
    }


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        ("anonymous", False),
        ("partner", False),
        ("kim_home", False),
        ("kim_other_desa", False),
        ("officer_out_of_scope", False),
        ("officer_in_scope", True),
        ("admin", True),
    ],
)
async def test_scheduled_ones_are_not_public_before_valid_from(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    principal: str,
    shown: bool,
) -> None:
    # given: the kecamatan's officer schedules an announcement for a desa
    announcement = await publish_scheduled(client, cast, "officer_in_scope", DESA)
    # when / then: before validFrom, only staff over the desa read it
    assert await reads(client, cast, principal, announcement, DESA) == read_as(shown)
    # when / then: from validFrom on, everyone does
    clock.advance(timedelta(hours=5))
    assert await reads(client, cast, principal, announcement, DESA) == read_as(
        True, "ACTIVE"
    )


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        ("kim_home", True),
        ("officer_in_scope", True),
        ("kim_other_desa", False),
        ("anonymous", False),
    ],
)
async def test_a_kim_reads_what_it_scheduled(
    client: httpx.AsyncClient, cast: Cast, principal: str, shown: bool
) -> None:
    # given
    announcement = await publish_scheduled(client, cast, "kim_home", HOME_DESA)
    # when
    body = await execute(
        client,
        "query ($id: ID!) { announcement(id: $id) { title } }",
        {"id": announcement},
        cast.headers[principal],
    )
    # then
    expected = {"title": "Nanti"} if shown else None
    assert body == {"data": {"announcement": expected}}


@pytest.mark.parametrize(
    ("principal", "mutation", "variables"),
    [
        ("kim_home", MUTATION_RELAY, {"targets": [HOME_DESA]}),
        ("officer_out_of_scope", MUTATION_RELAY, {"targets": ["61.04.18.2003"]}),
        ("kim_other_desa", MUTATION_WITHDRAW, {"reason": "Batal"}),
        (
            "officer_out_of_scope",
            MUTATION_UPDATE,
            {"input": {"expectedRevision": 1, "title": "Diubah"}},
        ),
    ],
)
async def test_a_mutation_tells_an_unreadable_scheduled_one_from_no_one(
    client: httpx.AsyncClient,
    cast: Cast,
    principal: str,
    mutation: str,
    variables: dict[str, Any],
) -> None:
    # given
    announcement = await publish_scheduled(client, cast, "officer_in_scope", DESA)
    before = await snapshot()
    headers = cast.headers[principal]
    # when
    existing = await execute(
        client, mutation, variables | {"id": announcement}, headers
    )
    missing = await execute(client, mutation, variables | {"id": MISSING}, headers)
    # then: word for word the same, and nothing changed
    (name,) = missing["data"]
    assert missing == {"data": {name: NOT_FOUND}}
    assert existing == missing
    assert await snapshot() == before


async def test_changes_to_a_scheduled_one_log_no_public_event(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    announcement = await publish_scheduled(client, cast, "officer_in_scope", DESA)
    headers = cast.headers["officer_in_scope"]
    events = await models.Event.all().count()
    # when: changed, relayed and withdrawn before its validFrom
    changed = await execute(
        client,
        MUTATION_UPDATE,
        {"id": announcement, "input": {"expectedRevision": 1, "title": "Nanti sore"}},
        headers,
    )
    relayed = await execute(
        client, MUTATION_RELAY, {"id": announcement, "targets": [HOME_DESA]}, headers
    )
    withdrawn = await execute(
        client, MUTATION_WITHDRAW, {"id": announcement, "reason": "Batal"}, headers
    )
    # then: each counted, none told to the (public) event stream
    assert changed["data"]["announcementUpdate"]["announcement"]["revision"] == 2
    assert relayed["data"]["announcementRelay"]["announcement"]["revision"] == 3
    assert withdrawn["data"]["announcementWithdraw"]["announcement"] == {
        "status": "WITHDRAWN",
        "withdrawReason": "Batal",
        "revision": 4,
    }
    assert await models.Event.all().count() == events
