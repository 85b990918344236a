"""Simultaneous KIM changes: one name per region, no lost field, offices kept
filled, no INTERNAL.

The mutations go at once (asyncio.gather) through the whole HTTP and schema
path: concurrent transactions on PostgreSQL, interleaved reads on SQLite.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kimgraph import models
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, officers_input
from tests.resolvers.kims.test_kims import (
    MUTATION_KIM_MEMBER_REMOVE,
    MUTATION_KIM_REGISTER,
    MUTATION_KIM_UPDATE,
    kim_id,
)
from tests.resolvers.kims.test_offices import (
    MUTATION_KIM_HAND_OVER,
    NO_SUCH_MEMBER,
    second_sekretaris,
)

DESA = "61.04.16.2007"
TAKEN = {
    "kim": None,
    "userErrors": [
        {
            "field": ["input", "name"],
            "code": "INVALID",
            "message": "a KIM named 'KIM Maju' already serves this region",
        }
    ],
}


async def names_in(region: str) -> list[str]:
    """The names of the KIM serving region, oldest first."""
    rows = await models.Kim.filter(region_id=region).order_by("id")
    return [row.name for row in rows]


@pytest.mark.usefixtures("no_errors_logged")
async def test_five_registrations_of_one_name_register_one_kim(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when: five officers register the same KIM at once
    bodies = await asyncio.gather(
        *(
            execute(
                client,
                MUTATION_KIM_REGISTER,
                {
                    "input": {
                        "name": "KIM Maju",
                        "region": DESA,
                        "members": officers_input(f"Maju {n}"),
                    }
                },
                cast.headers["officer_in_scope"],
            )
            for n in range(5)
        )
    )
    # then: one KIM, its officers once; four told what a later request is told
    assert all("errors" not in body for body in bodies), bodies
    payloads = [body["data"]["kimRegister"] for body in bodies]
    registered = [p for p in payloads if not p["userErrors"]]
    assert len(registered) == 1
    assert [p for p in payloads if p["userErrors"]] == [TAKEN] * 4
    assert await names_in(DESA) == ["KIM Maju"]
    rows = await models.KimMember.filter(kim__region_id=DESA).order_by("id")
    stored = [{"name": row.name, "role": row.role.value} for row in rows]
    assert stored == registered[0]["kim"]["members"]


@pytest.mark.usefixtures("no_errors_logged")
async def test_two_kim_renamed_to_one_name_at_once_one_gets_it(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: two KIM of one desa
    ids = []
    for name in ("KIM Satu", "KIM Dua"):
        body = await execute(
            client,
            MUTATION_KIM_REGISTER,
            {
                "input": {
                    "name": name,
                    "region": DESA,
                    "members": officers_input(name),
                }
            },
            cast.headers["admin"],
        )
        assert body["data"]["kimRegister"]["userErrors"] == []
        row = await models.Kim.get(region_id=DESA, name=name)
        ids.append(kim_id(row))
    # when: both renamed to one name at once
    bodies = await asyncio.gather(
        *(
            execute(
                client,
                MUTATION_KIM_UPDATE,
                {"id": one, "input": {"name": "KIM Maju"}},
                cast.headers["admin"],
            )
            for one in ids
        )
    )
    # then: one renamed, the other told what a later request is told
    assert all("errors" not in body for body in bodies), bodies
    payloads = [body["data"]["kimUpdate"] for body in bodies]
    winner = 0 if not payloads[0]["userErrors"] else 1
    assert payloads[winner]["userErrors"] == []
    assert payloads[winner]["kim"]["name"] == "KIM Maju"
    assert payloads[1 - winner] == TAKEN
    expected = [["KIM Maju", "KIM Dua"], ["KIM Satu", "KIM Maju"]][winner]
    assert await names_in(DESA) == expected


@pytest.mark.usefixtures("no_errors_logged")
async def test_two_updates_of_different_fields_at_once_both_stay(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when: one officer renames the KIM while another corrects its decree
    one = kim_id(cast.home_kim)
    renamed, corrected = await asyncio.gather(
        execute(
            client,
            MUTATION_KIM_UPDATE,
            {"id": one, "input": {"name": "KIM Suka Maju"}},
            cast.headers["officer_in_scope"],
        ),
        execute(
            client,
            MUTATION_KIM_UPDATE,
            {"id": one, "input": {"decreeNumber": "470/kominfo-b/2019"}},
            cast.headers["admin"],
        ),
    )
    # then: neither change overwrote the other
    assert renamed["data"]["kimUpdate"]["userErrors"] == []
    assert corrected["data"]["kimUpdate"]["userErrors"] == []
    row = await models.Kim.get(id=cast.home_kim.id)
    assert (row.name, row.decree_number) == ("KIM Suka Maju", "470/kominfo-b/2019")


@pytest.mark.usefixtures("no_errors_logged")
async def test_two_sekretaris_removed_at_once_one_stays(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the home KIM with a second sekretaris
    await second_sekretaris(cast)
    both = await models.KimMember.filter(
        kim_id=cast.home_kim.id, role=models.KimRole.SEKRETARIS
    ).order_by("id")
    # when: the KIM and an officer each remove one at once
    bodies = await asyncio.gather(
        *(
            execute(
                client,
                MUTATION_KIM_MEMBER_REMOVE,
                {"id": encode_id("KimMember", str(row.id))},
                cast.headers[principal],
            )
            for row, principal in zip(
                both, ("kim_home", "officer_in_scope"), strict=True
            )
        )
    )
    # then: one removed; the other told it is the last one, and still there
    assert all("errors" not in body for body in bodies), bodies
    errors = [body["data"]["kimMemberRemove"]["userErrors"] for body in bodies]
    assert sorted(len(e) for e in errors) == [0, 1]
    left = await models.KimMember.get(
        kim_id=cast.home_kim.id, role=models.KimRole.SEKRETARIS
    )
    assert [e for e in errors if e] == [
        [
            {
                "field": ["id"],
                "code": "INVALID",
                "message": f"{left.name} is the KIM's last sekretaris; hand the "
                "office over first (kimMemberAdd with replaces)",
            }
        ]
    ]


@pytest.mark.usefixtures("no_errors_logged")
async def test_five_hand_overs_of_one_ketua_at_once_leave_one_ketua(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    ketua = await models.KimMember.get(
        kim_id=cast.home_kim.id, role=models.KimRole.KETUA
    )
    # when: five successors named at once for the same ketua
    bodies = await asyncio.gather(
        *(
            execute(
                client,
                MUTATION_KIM_HAND_OVER,
                {
                    "kimId": kim_id(cast.home_kim),
                    "input": {"name": f"Ketua {n}", "role": "KETUA"},
                    "replaces": encode_id("KimMember", str(ketua.id)),
                },
                cast.headers["kim_home" if n % 2 else "admin"],
            )
            for n in range(5)
        )
    )
    # then: one took the office; four were told the ketua had already left
    assert all("errors" not in body for body in bodies), bodies
    payloads = [body["data"]["kimMemberAdd"] for body in bodies]
    winners = [p["member"]["name"] for p in payloads if not p["userErrors"]]
    assert len(winners) == 1
    assert [p for p in payloads if p["userErrors"]] == [
        {"kim": None, "member": None, "userErrors": NO_SUCH_MEMBER}
    ] * 4
    ketua_now = await models.KimMember.filter(
        kim_id=cast.home_kim.id, role=models.KimRole.KETUA
    ).values_list("name", flat=True)
    assert [str(name) for name in ketua_now] == winners
