"""aspirationStats through the API: the whole answer, and who may ask."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from tests.conftest import execute
from tests.kimgraph.test_reports import NOW, make_march
from tests.people import Cast

QUERY_ASPIRATION_STATS = """
query ($region: String!, $from: Date!, $to: Date!) {
  aspirationStats(region: $region, from: $from, to: $to) {
    region { code }
    from
    to
    total
    byStatus { status count }
    byCategory { category count }
    byRegion { region { code name } count }
    toVerify { count median p90 }
    toDispose { count median p90 }
    toRespond { count median p90 }
    overdue
    announcements {
      total
      byCategory { category count }
      byPriority { priority count }
    }
  }
}
"""
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def counted(key: str, names: list[str], **counts: int) -> list[dict[str, Any]]:
    """Every name in order, with its count (0 unless given)."""
    return [{key: name, "count": counts.get(name, 0)} for name in names]


@pytest.mark.asyncio
async def test_an_admin_reads_the_known_recap_of_march(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    await make_march(clock)
    clock._now = NOW
    kecamatan = await models.Region.filter(parent_id="61.04").order_by("code")
    # when
    body = await execute(
        client,
        QUERY_ASPIRATION_STATS,
        {"region": "61.04", **MARCH},
        cast.headers["admin"],
    )
    # then
    by_kecamatan = {"61.04.16": 5, "61.04.18": 1}
    assert body == {
        "data": {
            "aspirationStats": {
                "region": {"code": "61.04"},
                "from": "2026-03-01",
                "to": "2026-03-31",
                "total": 6,
                "byStatus": counted(
                    "status",
                    [s.name for s in models.AspirationStatus],
                    SUBMITTED=2,
                    VERIFIED=1,
                    RESPONDED=1,
                    RESOLVED=1,
                    WITHDRAWN=1,
                ),
                "byCategory": counted(
                    "category",
                    [c.name for c in models.AspirationCategory],
                    INFRASTRUCTURE=2,
                    HEALTH=1,
                    EDUCATION=1,
                    GOVERNMENT=1,
                    SOCIAL=1,
                ),
                "byRegion": [
                    {
                        "region": {"code": k.code, "name": k.name},
                        "count": by_kecamatan.get(k.code, 0),
                    }
                    for k in kecamatan
                ],
                "toVerify": {"count": 3, "median": 1.0, "p90": 2},
                "toDispose": {"count": 2, "median": 2.5, "p90": 3},
                "toRespond": {"count": 2, "median": 4.0, "p90": 5},
                "overdue": 3,
                "announcements": {
                    "total": 2,
                    "byCategory": counted(
                        "category",
                        [c.name for c in models.AnnouncementCategory],
                        HEALTH=1,
                        DISASTER=1,
                    ),
                    "byPriority": counted(
                        "priority",
                        ["NORMAL", "IMPORTANT", "EMERGENCY"],
                        NORMAL=1,
                        EMERGENCY=1,
                    ),
                },
            }
        }
    }


@pytest.mark.parametrize(
    ("principal", "code", "message"),
    [
        ("anonymous", "UNAUTHENTICATED", "sign in to read reports"),
        ("partner", "FORBIDDEN", "only an ADMIN or an OFFICER may read reports"),
        ("kim_home", "FORBIDDEN", "only an ADMIN or an OFFICER may read reports"),
        (
            "officer_out_of_scope",
            "FORBIDDEN",
            "region 61.04.16 lies outside your region 61.04.18",
        ),
        ("officer_in_scope", None, None),
        ("admin", None, None),
    ],
)
@pytest.mark.asyncio
async def test_only_staff_over_the_region_read_its_recap(
    client: httpx.AsyncClient,
    cast: Cast,
    principal: str,
    code: str | None,
    message: str | None,
) -> None:
    # when
    body = await execute(
        client,
        QUERY_ASPIRATION_STATS,
        {"region": "61.04.16", "from": "2026-11-01", "to": "2026-11-30"},
        cast.headers[principal],
    )
    # then: the cast's one aspiration, submitted 28 November in Suka Bangun
    if code is None:
        assert "errors" not in body
        assert body["data"]["aspirationStats"]["total"] == 1
        return
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, code)
    ]


@pytest.mark.asyncio
async def test_a_period_over_a_year_is_an_invalid_argument(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    body = await execute(
        client,
        QUERY_ASPIRATION_STATS,
        {"region": "61.04", "from": "2025-01-01", "to": "2026-12-31"},
        cast.headers["admin"],
    )
    # then
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (
            "a report covers at most 366 days; 2025-01-01 to 2026-12-31 is longer",
            "INVALID_ARGUMENT",
        )
    ]
