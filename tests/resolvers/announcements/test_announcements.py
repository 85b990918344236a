"""Announcements: publishing rules, board order, visibility, revisions, relays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_event_cursor, encode_id
from tests.conftest import execute
from tests.people import Cast, snapshot

MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement {
      title body category priority status publishedBy revision
      targets { code } kim { name } validFrom validUntil
    }
    userErrors { field code message }
  }
}
"""
MUTATION_UPDATE = """
mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
  announcementUpdate(id: $id, input: $input) {
    announcement { title revision status validUntil }
    userErrors { field code message }
  }
}
"""
MUTATION_WITHDRAW = """
mutation ($id: ID!, $reason: String!) {
  announcementWithdraw(id: $id, reason: $reason) {
    announcement { status withdrawReason revision }
    userErrors { field code message }
  }
}
"""
MUTATION_RELAY = """
mutation ($id: ID!, $targets: [String!]!) {
  announcementRelay(id: $id, targets: $targets) {
    announcement { targets { code } revision }
    userErrors { field code message }
  }
}
"""
QUERY_BOARD = """
query ($region: String!, $below: Boolean, $active: Boolean, $first: Int,
       $after: String, $min: AnnouncementPriority) {
  announcements(region: $region, includeDescendants: $below, activeOnly: $active,
                first: $first, after: $after, minPriority: $min) {
    totalCount eventCursor
    pageInfo { hasNextPage endCursor }
    edges { node { title priority status } }
  }
}
"""
DESA = "61.04.16.2006"
SIBLING = "61.04.16.2007"


def publish_input(title: str, targets: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "title": title,
            "body": f"Isi {title}",
            "category": "GENERAL",
            "targets": targets,
        }
        | extra
    }


def titles(body: dict[str, Any]) -> list[str]:
    return [e["node"]["title"] for e in body["data"]["announcements"]["edges"]]


async def test_an_officer_publishes_and_an_event_is_logged(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    body = await execute(
        client,
        MUTATION_PUBLISH,
        publish_input(
            "  Pemadaman   listrik ",
            [DESA, "61.04.16"],
            priority="IMPORTANT",
            category="INFRASTRUCTURE",
            validUntil="2026-11-30T00:00:00+07:00",
        ),
        cast.headers["officer_in_scope"],
    )
    # then
    assert body == {
        "data": {
            "announcementPublish": {
                "announcement": {
                    "title": "Pemadaman listrik",
                    "body": "Isi   Pemadaman   listrik",
                    "category": "INFRASTRUCTURE",
                    "priority": "IMPORTANT",
                    "status": "ACTIVE",
                    # The office, not the login (docs/domain.md, "Offices").
                    "publishedBy": "Kantor Kecamatan Delta Pawan",
                    "revision": 1,
                    "targets": [{"code": DESA}, {"code": "61.04.16"}],
                    "kim": None,
                    "validFrom": "2026-11-28T01:00:00+00:00",
                    "validUntil": "2026-11-29T17:00:00+00:00",
                },
                "userErrors": [],
            }
        }
    }
    event = await models.Event.all().order_by("-id").first()
    assert event is not None
    assert (event.kind, event.regions) == ("PUBLISHED", "61.04.16 61.04.16.2006")


async def test_every_bad_input_is_reported_and_nothing_changes(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_PUBLISH,
        publish_input(
            "",
            [DESA, "61.04.99.2001", "61.04.18.2003"],
            body="x" * 10_001,
            validFrom="2026-12-01T00:00:00+00:00",
            validUntil="2026-12-01T00:00:00+00:00",
        ),
        cast.headers["officer_in_scope"],
    )
    assert body["data"]["announcementPublish"] == {
        "announcement": None,
        "userErrors": [
            {
                "field": ["input", "title"],
                "code": "INVALID",
                "message": "must have 1-200 characters",
            },
            {
                "field": ["input", "body"],
                "code": "INVALID",
                "message": "must have 1-10000 characters",
            },
            {
                "field": ["input", "validUntil"],
                "code": "INVALID",
                "message": "must be later than validFrom and than now",
            },
        ],
    }
    # targets are checked once the rest is right
    body = await execute(
        client,
        MUTATION_PUBLISH,
        publish_input("Ok", [DESA, "61.04.99.2001", "61.04.18.2003"]),
        cast.headers["officer_in_scope"],
    )
    assert body["data"]["announcementPublish"]["userErrors"] == [
        {
            "field": ["input", "targets", "1"],
            "code": "NOT_FOUND",
            "message": "there is no region with code 61.04.99.2001",
        },
        {
            "field": ["input", "targets", "2"],
            "code": "OUT_OF_SCOPE",
            "message": "region 61.04.18.2003 lies outside your region 61.04.16",
        },
    ]
    assert await snapshot() == before


async def test_a_malformed_target_is_a_top_level_error(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_PUBLISH,
        publish_input("Ok", ["61.04.16.2"]),
        cast.headers["admin"],
    )
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_REGION_CODE"]
    assert await snapshot() == before


async def test_a_desa_board_shows_its_own_its_kecamatan_and_kabupaten_in_order(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: announcements at several levels, one per minute
    headers = cast.headers["admin"]
    for title, targets, extra in [
        ("Kabupaten lama", ["61.04"], {}),
        ("Desa tetangga", [SIBLING], {}),
        ("Banjir", ["61.04.16"], {"priority": "EMERGENCY"}),
        ("Kecamatan baru", ["61.04.16"], {}),
        ("Desa penting", [DESA], {"priority": "IMPORTANT"}),
        ("Provinsi", ["61"], {}),
    ]:
        clock.advance(timedelta(minutes=1))
        await execute(
            client, MUTATION_PUBLISH, publish_input(title, targets, **extra), headers
        )
    # when
    board = await execute(client, QUERY_BOARD, {"region": DESA})
    kecamatan = await execute(
        client, QUERY_BOARD, {"region": "61.04.16", "below": True}
    )
    # then: EMERGENCY first, then IMPORTANT, then newest; not the sibling's (and
    # "Provinsi" was refused: 61 lies outside the kabupaten admin's scope)
    assert titles(board) == [
        "Banjir",
        "Desa penting",
        "Kecamatan baru",
        "Kabupaten lama",
        "Posyandu Suka Bangun",
    ]
    assert "Desa tetangga" in titles(kecamatan)
    assert "Gotong royong Padang" not in titles(kecamatan)


async def test_pages_follow_board_order(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    for n in range(5):
        await execute(
            client,
            MUTATION_PUBLISH,
            publish_input(f"P{n}", [DESA]),
            cast.headers["admin"],
        )
    # when
    first = await execute(client, QUERY_BOARD, {"region": DESA, "first": 4})
    page = first["data"]["announcements"]
    rest = await execute(
        client,
        QUERY_BOARD,
        {"region": DESA, "first": 4, "after": page["pageInfo"]["endCursor"]},
    )
    # then: same valid_from for all: newest id first
    assert titles(first) == ["P4", "P3", "P2", "P1"]
    assert titles(rest) == ["P0", "Posyandu Suka Bangun"]
    assert page["totalCount"] == 6
    assert page["pageInfo"]["hasNextPage"] is True


async def test_active_only_hides_scheduled_expired_and_withdrawn(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    headers = cast.headers["admin"]
    await execute(
        client,
        MUTATION_PUBLISH,
        publish_input("Nanti", [DESA], validFrom="2026-11-29T00:00:00+00:00"),
        headers,
    )
    await execute(
        client,
        MUTATION_PUBLISH,
        publish_input("Sebentar", [DESA], validUntil="2026-11-28T02:00:00+00:00"),
        headers,
    )
    await execute(
        client,
        MUTATION_WITHDRAW,
        {
            "id": encode_id("Announcement", str(cast.home_announcement.id)),
            "reason": "Batal",
        },
        headers,
    )
    clock.advance(timedelta(hours=2))
    # when
    active = await execute(client, QUERY_BOARD, {"region": DESA})
    everything = await execute(
        client, QUERY_BOARD, {"region": DESA, "active": False}, headers
    )
    # then: the scheduled one only for staff over its target (see
    # test_scheduled_ones_are_not_public_before_valid_from)
    assert titles(active) == []
    assert [
        (e["node"]["title"], e["node"]["status"])
        for e in everything["data"]["announcements"]["edges"]
    ] == [
        ("Nanti", "SCHEDULED"),
        ("Sebentar", "EXPIRED"),
        ("Posyandu Suka Bangun", "WITHDRAWN"),
    ]


async def test_a_stale_revision_conflicts_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    announcement = encode_id("Announcement", str(cast.home_announcement.id))
    headers = cast.headers["officer_in_scope"]
    first = await execute(
        client,
        MUTATION_UPDATE,
        {"id": announcement, "input": {"expectedRevision": 1, "title": "Baru"}},
        headers,
    )
    before = await snapshot()
    # when: a second editor still holds revision 1
    second = await execute(
        client,
        MUTATION_UPDATE,
        {"id": announcement, "input": {"expectedRevision": 1, "title": "Lain"}},
        headers,
    )
    # then
    assert first["data"]["announcementUpdate"] == {
        "announcement": {
            "title": "Baru",
            "revision": 2,
            "status": "ACTIVE",
            "validUntil": None,
        },
        "userErrors": [],
    }
    assert second["data"]["announcementUpdate"] == {
        "announcement": None,
        "userErrors": [
            {
                "field": ["input", "expectedRevision"],
                "code": "CONFLICT",
                "message": "the announcement is at revision 2, not 1: reload it "
                "and try again",
            }
        ],
    }
    assert await snapshot() == before


async def test_withdrawal_is_final(client: httpx.AsyncClient, cast: Cast) -> None:
    announcement = encode_id("Announcement", str(cast.home_announcement.id))
    variables = {"id": announcement, "reason": "Salah jadwal"}
    first = await execute(client, MUTATION_WITHDRAW, variables, cast.headers["admin"])
    before = await snapshot()
    again = await execute(client, MUTATION_WITHDRAW, variables, cast.headers["admin"])
    update = await execute(
        client,
        MUTATION_UPDATE,
        {"id": announcement, "input": {"expectedRevision": 2, "title": "X"}},
        cast.headers["admin"],
    )
    assert first["data"]["announcementWithdraw"] == {
        "announcement": {
            "status": "WITHDRAWN",
            "withdrawReason": "Salah jadwal",
            "revision": 2,
        },
        "userErrors": [],
    }
    assert again["data"]["announcementWithdraw"]["userErrors"] == [
        {
            "field": ["id"],
            "code": "INVALID",
            "message": "the announcement is already withdrawn",
        }
    ]
    assert update["data"]["announcementUpdate"]["userErrors"] == [
        {
            "field": ["id"],
            "code": "INVALID",
            "message": "a withdrawn announcement is final",
        }
    ]
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (
            [DESA],
            {
                "announcement": {
                    "targets": [{"code": "61.04.18.2003"}, {"code": DESA}],
                    "revision": 2,
                },
                "userErrors": [],
            },
        ),
        (
            ["61.04.18.2003"],
            {
                "announcement": None,
                "userErrors": [
                    {
                        "field": ["targets", "0"],
                        "code": "OUT_OF_SCOPE",
                        "message": "region 61.04.18.2003 lies outside your region "
                        "61.04.16",
                    }
                ],
            },
        ),
    ],
)
async def test_an_officer_relays_into_its_own_scope(
    client: httpx.AsyncClient,
    cast: Cast,
    targets: list[str],
    expected: dict[str, Any],
) -> None:
    body = await execute(
        client,
        MUTATION_RELAY,
        {
            "id": encode_id("Announcement", str(cast.other_announcement.id)),
            "targets": targets,
        },
        cast.headers["officer_in_scope"],
    )
    assert body["data"]["announcementRelay"] == expected


async def test_the_board_query_reports_the_event_position(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    body = await execute(client, QUERY_BOARD, {"region": DESA})
    newest = await models.Event.all().order_by("-id").first()
    assert newest is not None
    assert body["data"]["announcements"]["eventCursor"] == encode_event_cursor(
        newest.id
    )


async def test_an_unknown_board_region_is_not_found(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    body = await execute(client, QUERY_BOARD, {"region": "61.04.16.2999"})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


async def test_a_region_lists_what_its_board_shows(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    await execute(
        client,
        MUTATION_PUBLISH,
        publish_input("Kecamatan", ["61.04.16"]),
        cast.headers["admin"],
    )
    # when
    body = await execute(
        client,
        "query ($code: String!) { region(code: $code) { announcements(first: 10) "
        "{ totalCount edges { node { title } } } } }",
        {"code": DESA},
    )
    board = await execute(client, QUERY_BOARD, {"region": DESA})
    # then
    listed = body["data"]["region"]["announcements"]
    assert [e["node"]["title"] for e in listed["edges"]] == titles(board)
    assert [e["node"]["title"] for e in listed["edges"]] == [
        "Kecamatan",
        "Posyandu Suka Bangun",
    ]
    assert listed["totalCount"] == 2
