"""aspirations(overdue:): a desk's late work, within the viewer's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.accounts import auth
from kimgraph.clock import FixedClock
from tests.conftest import execute
from tests.people import OTHER_DESA, Cast
from tests.resolvers.aspirations.steps import S, submit, transition

QUERY_ASPIRATIONS_OVERDUE = """
query ($region: String, $overdue: Boolean) {
  aspirations(region: $region, overdue: $overdue) {
    totalCount
    edges { node { title status dueAt overdue } }
  }
}
"""
# Thursday 3 December 2026, 23:59:59.999999 WIB.
THURSDAY_NIGHT = datetime(2026, 12, 3, 16, 59, 59, 999999, tzinfo=UTC)


async def move(clock: FixedClock, by: timedelta) -> None:
    """Let time pass; everyone signs in again (a token lasts 12 hours)."""
    clock.advance(by)
    await models.AccessToken.all().update(expires_at=clock.now() + auth.TOKEN_TTL)


async def walk(client: httpx.AsyncClient, cast: Cast, title: str, *targets: S) -> None:
    aspiration = await submit(client, cast, title=title)
    version = 1
    for target in targets:
        body = await transition(client, cast, aspiration["id"], target, version)
        assert body["data"]["aspirationTransition"]["userErrors"] == []
        version += 1


async def make_desk(client: httpx.AsyncClient, cast: Cast, clock: FixedClock) -> None:
    """Saturday 28 November: the cast's aspiration and one in Padang (due Wed 2
    December); Monday 30 November: one to verify by Thu 3, one to dispose by
    Wed 2, one closed."""
    await submit(client, cast, "kim_other_desa", region=OTHER_DESA, title="Di Padang")
    await move(clock, timedelta(days=2))
    await walk(client, cast, "Belum diverifikasi")
    await walk(client, cast, "Belum didisposisi", S.VERIFIED)
    await walk(
        client, cast, "Ditolak", S.VERIFIED, S.DISPOSED, S.IN_PROGRESS, S.REJECTED
    )


def listed(body: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [
        (e["node"]["title"], e["node"]["status"], e["node"]["overdue"])
        for e in body["data"]["aspirations"]["edges"]
    ]


async def test_overdue_lists_the_late_ones_and_false_the_others_exactly(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    await make_desk(client, cast, clock)
    await move(clock, THURSDAY_NIGHT - clock.now())

    async def lists(who: str) -> dict[object, list[tuple[str, str, bool]]]:
        return {
            overdue: listed(
                await execute(
                    client,
                    QUERY_ASPIRATIONS_OVERDUE,
                    {"overdue": overdue},
                    cast.headers[who],
                )
            )
            for overdue in (True, False, None)
        }

    # when: at the last instant of "Belum diverifikasi"'s deadline, and after it
    at_deadline = await lists("officer_in_scope")
    admin = await lists("admin")
    await move(clock, timedelta(microseconds=1))
    after_deadline = await lists("officer_in_scope")
    # then
    late = [
        ("Belum didisposisi", "VERIFIED", True),
        ("Jalan berlubang di RT 03", "SUBMITTED", True),
    ]
    assert at_deadline == {
        True: late,
        False: [
            ("Ditolak", "REJECTED", False),
            ("Belum diverifikasi", "SUBMITTED", False),
        ],
        None: [
            ("Ditolak", "REJECTED", False),
            late[0],
            ("Belum diverifikasi", "SUBMITTED", False),
            late[1],
        ],
    }
    assert admin[True] == [late[0], ("Di Padang", "SUBMITTED", True), late[1]]
    assert after_deadline[True] == [
        late[0],
        ("Belum diverifikasi", "SUBMITTED", True),
        late[1],
    ]
    assert after_deadline[False] == [("Ditolak", "REJECTED", False)]


async def test_the_overdue_list_counts_what_it_lists(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    await make_desk(client, cast, clock)
    await move(clock, THURSDAY_NIGHT - clock.now())
    # when
    body = await execute(
        client,
        QUERY_ASPIRATIONS_OVERDUE,
        {"overdue": True, "region": "61.04.16"},
        cast.headers["admin"],
    )
    # then
    assert body["data"]["aspirations"]["totalCount"] == 2
    assert [e["node"]["dueAt"] for e in body["data"]["aspirations"]["edges"]] == [
        "2026-12-02T16:59:59.999999+00:00",
        "2026-12-02T16:59:59.999999+00:00",
    ]


@pytest.mark.parametrize(
    ("principal", "variables", "code"),
    [
        ("anonymous", {"overdue": True}, "UNAUTHENTICATED"),
        ("kim_home", {"overdue": True, "region": "61.04.16"}, "FORBIDDEN"),
        ("kim_other_desa", {"overdue": True, "region": "61.04.16"}, "FORBIDDEN"),
        ("officer_out_of_scope", {"overdue": True, "region": "61.04.16"}, "FORBIDDEN"),
        ("officer_in_scope", {"overdue": False, "region": "61.04"}, "FORBIDDEN"),
    ],
)
async def test_the_overdue_list_is_denied_where_the_list_is(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    principal: str,
    variables: dict[str, object],
    code: str,
) -> None:
    # given
    await make_desk(client, cast, clock)
    await move(clock, THURSDAY_NIGHT - clock.now())
    # when
    body = await execute(
        client, QUERY_ASPIRATIONS_OVERDUE, variables, cast.headers[principal]
    )
    # then
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
