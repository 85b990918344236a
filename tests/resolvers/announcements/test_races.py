"""Simultaneous changes of one announcement: every revision counted, no INTERNAL.

Each test sends its mutations at once (asyncio.gather) through the whole HTTP
and schema path. On PostgreSQL they run in concurrent transactions; on SQLite
their reads interleave and their transactions take turns.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast
from tests.resolvers.announcements.test_announcements import (
    MUTATION_RELAY,
    MUTATION_UPDATE,
    MUTATION_WITHDRAW,
)

# Desa of Delta Pawan, in the in-scope officer's kecamatan (61.04.16).
DESA = ["61.04.16.2007", "61.04.16.2008", "61.04.16.2009"]


async def at_once(
    client: httpx.AsyncClient,
    query: str,
    variables: list[dict[str, Any]],
    headers: dict[str, str],
) -> list[dict[str, Any]]:
    """Send one request per variables, all at once; the bodies in that order."""
    return list(
        await asyncio.gather(*(execute(client, query, v, headers) for v in variables))
    )


def other_id(cast: Cast) -> str:
    return encode_id("Announcement", cast.other_announcement.id)


async def targets_of(row: models.Announcement) -> list[str]:
    return [
        str(code)
        for code in await models.AnnouncementTarget.filter(announcement_id=row.id)
        .order_by("id")
        .values_list("region_id", flat=True)
    ]


async def updated_events(row: models.Announcement) -> int:
    return await models.Event.filter(entity_id=row.id, kind="UPDATED").count()


@pytest.mark.usefixtures("no_errors_logged")
async def test_five_relays_of_one_target_add_it_once(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when: five offices relay the same announcement to the same desa at once
    bodies = await at_once(
        client,
        MUTATION_RELAY,
        [{"id": other_id(cast), "targets": [DESA[0]]}] * 5,
        cast.headers["officer_in_scope"],
    )
    # then: one relay, and four told exactly what a later relay is told
    payloads = [body["data"]["announcementRelay"] for body in bodies]
    assert all("errors" not in body for body in bodies), bodies
    succeeded = [p for p in payloads if not p["userErrors"]]
    assert succeeded == [
        {
            "announcement": {
                "targets": [{"code": "61.04.18.2003"}, {"code": DESA[0]}],
                "revision": 2,
            },
            "userErrors": [],
        }
    ]
    assert [p for p in payloads if p["userErrors"]] == [
        {
            "announcement": None,
            "userErrors": [
                {
                    "field": ["targets"],
                    "code": "INVALID",
                    "message": "the announcement already reaches these regions",
                }
            ],
        }
    ] * 4
    row = await models.Announcement.get(id=cast.other_announcement.id)
    assert row.revision == 2
    assert await targets_of(row) == ["61.04.18.2003", DESA[0]]
    assert await updated_events(row) == 1


@pytest.mark.usefixtures("no_errors_logged")
async def test_three_relays_at_once_each_add_one_to_the_revision(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when: three relays of one announcement, each to another desa
    bodies = await at_once(
        client,
        MUTATION_RELAY,
        [{"id": other_id(cast), "targets": [code]} for code in DESA],
        cast.headers["officer_in_scope"],
    )
    # then: 1 + 3 = 4, and each relay saw its own revision
    payloads = [body["data"]["announcementRelay"] for body in bodies]
    assert [p["userErrors"] for p in payloads] == [[], [], []]
    assert sorted(p["announcement"]["revision"] for p in payloads) == [2, 3, 4]
    row = await models.Announcement.get(id=cast.other_announcement.id)
    assert row.revision == 4
    assert sorted(await targets_of(row)) == sorted(["61.04.18.2003", *DESA])
    assert await updated_events(row) == 3


@pytest.mark.usefixtures("no_errors_logged")
async def test_two_withdrawals_at_once_count_once(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    bodies = await at_once(
        client,
        MUTATION_WITHDRAW,
        [{"id": other_id(cast), "reason": "Batal"}] * 2,
        cast.headers["admin"],
    )
    # then
    payloads = sorted(
        (body["data"]["announcementWithdraw"] for body in bodies),
        key=lambda p: len(p["userErrors"]),
    )
    assert payloads == [
        {
            "announcement": {
                "status": "WITHDRAWN",
                "withdrawReason": "Batal",
                "revision": 2,
            },
            "userErrors": [],
        },
        {
            "announcement": None,
            "userErrors": [
                {
                    "field": ["id"],
                    "code": "INVALID",
                    "message": "the announcement is already withdrawn",
                }
            ],
        },
    ]
    row = await models.Announcement.get(id=cast.other_announcement.id)
    assert row.revision == 2
    assert await models.Event.filter(entity_id=row.id, kind="WITHDRAWN").count() == 1


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_relay_and_a_withdrawal_at_once_both_count(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when: a relay (no expected revision) and a withdrawal of one announcement
    relay, withdrawal = await asyncio.gather(
        execute(
            client,
            MUTATION_RELAY,
            {"id": other_id(cast), "targets": [DESA[0]]},
            cast.headers["officer_in_scope"],
        ),
        execute(
            client,
            MUTATION_WITHDRAW,
            {"id": other_id(cast), "reason": "Batal"},
            cast.headers["admin"],
        ),
    )
    # then: the withdrawal always counts; the relay counts if it came first,
    # and is otherwise refused as for any withdrawn announcement
    row = await models.Announcement.get(id=cast.other_announcement.id)
    assert withdrawal["data"]["announcementWithdraw"]["userErrors"] == []
    relayed = relay["data"]["announcementRelay"]
    if relayed["userErrors"]:
        assert relayed == {
            "announcement": None,
            "userErrors": [
                {
                    "field": ["id"],
                    "code": "INVALID",
                    "message": "a withdrawn announcement is not relayed",
                }
            ],
        }
        assert (row.revision, await targets_of(row)) == (2, ["61.04.18.2003"])
    else:
        assert relayed["announcement"]["revision"] == 2
        assert (row.revision, await targets_of(row)) == (
            3,
            ["61.04.18.2003", DESA[0]],
        )
    assert withdrawal["data"]["announcementWithdraw"]["announcement"] == {
        "status": "WITHDRAWN",
        "withdrawReason": "Batal",
        "revision": row.revision,
    }


@pytest.mark.usefixtures("no_errors_logged")
async def test_two_editors_of_one_revision_one_wins_the_other_conflicts(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when: both hold revision 1
    bodies = await at_once(
        client,
        MUTATION_UPDATE,
        [
            {"id": other_id(cast), "input": {"expectedRevision": 1, "title": title}}
            for title in ("Baru", "Lain")
        ],
        cast.headers["admin"],
    )
    # then: the loser is told the revision there is now, not the one it read
    payloads = sorted(
        (body["data"]["announcementUpdate"] for body in bodies),
        key=lambda p: len(p["userErrors"]),
    )
    row = await models.Announcement.get(id=cast.other_announcement.id)
    assert row.revision == 2
    assert payloads == [
        {
            "announcement": {
                "title": row.title,
                "revision": 2,
                "status": "ACTIVE",
                "validUntil": None,
            },
            "userErrors": [],
        },
        {
            "announcement": None,
            "userErrors": [
                {
                    "field": ["input", "expectedRevision"],
                    "code": "CONFLICT",
                    "message": "the announcement is at revision 2, not 1: reload "
                    "it and try again",
                }
            ],
        },
    ]
    assert row.title in ("Baru", "Lain")
    assert await updated_events(row) == 1
