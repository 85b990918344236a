"""A KIM keeps a ketua, a sekretaris and a bendahara: at registration, on removal,
and through a hand-over (kimMemberAdd with `replaces`)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import HOME_MEMBER, Cast, snapshot
from tests.resolvers.accounts.test_permissions import ALLOW, KIM_MANAGERS, outcome
from tests.resolvers.kims.test_kims import (
    HOME_MEMBERS,
    MUTATION_KIM_MEMBER_REMOVE,
    MUTATION_KIM_REGISTER,
    kim_id,
)

MUTATION_KIM_HAND_OVER = """
mutation ($kimId: ID!, $input: KimMemberInput!, $replaces: ID) {
  kimMemberAdd(kimId: $kimId, input: $input, replaces: $replaces) {
    kim { members { name role } }
    member { name role }
    userErrors { field code message }
  }
}
"""
SIBLING_DESA = "61.04.16.2007"
NO_SUCH_MEMBER = [
    {
        "field": ["replaces"],
        "code": "NOT_FOUND",
        "message": "there is no such member of this KIM",
    }
]


def member_id(row: models.KimMember) -> str:
    return encode_id("KimMember", str(row.id))


async def home_officer(cast: Cast, name: str) -> models.KimMember:
    return await models.KimMember.get(kim_id=cast.home_kim.id, name=name)


async def second_sekretaris(cast: Cast) -> models.KimMember:
    """Rudi Hartono joins the home KIM as its second sekretaris."""
    return await models.KimMember.create(
        kim_id=cast.home_kim.id,
        name="Rudi Hartono",
        role=models.KimRole.SEKRETARIS,
        created_at=cast.home_kim.created_at,
    )


async def state() -> tuple[object, ...]:
    """Everything a refused call must leave as it was, audit rows included."""
    return (await snapshot(), await models.AuditEntry.all().values_list())


async def newest_audit_row() -> int:
    """The id of the newest audit row; the rows of the call under test follow it."""
    newest = await models.AuditEntry.all().order_by("-id").first()
    return newest.id if newest is not None else 0


def last_holder(name: str, office: str, *field: str) -> list[dict[str, Any]]:
    return [
        {
            "field": list(field),
            "code": "INVALID",
            "message": f"{name} is the KIM's last {office}; hand the office over "
            "first (kimMemberAdd with replaces)",
        }
    ]


def needs(office: str) -> dict[str, Any]:
    return {
        "field": ["input", "members"],
        "code": "INVALID",
        "message": f"a KIM needs a {office} among its members",
    }


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([], [needs("ketua"), needs("sekretaris"), needs("bendahara")]),
        (["KETUA", "ANGGOTA"], [needs("sekretaris"), needs("bendahara")]),
        (["SEKRETARIS", "BENDAHARA", "ANGGOTA"], [needs("ketua")]),
        (
            ["KETUA", "KETUA", "SEKRETARIS"],
            [
                needs("bendahara"),
                {
                    "field": ["input", "members"],
                    "code": "INVALID",
                    "message": "a KIM has at most one ketua",
                },
            ],
        ),
    ],
)
async def test_a_kim_is_registered_only_with_its_three_offices(
    client: httpx.AsyncClient,
    cast: Cast,
    roles: list[str],
    expected: list[dict[str, Any]],
) -> None:
    # given
    before = await state()
    members = [{"name": f"Warga {n}", "role": role} for n, role in enumerate(roles)]
    # when
    body = await execute(
        client,
        MUTATION_KIM_REGISTER,
        {"input": {"name": "KIM Baru", "region": SIBLING_DESA, "members": members}},
        cast.headers["admin"],
    )
    # then
    assert body == {"data": {"kimRegister": {"kim": None, "userErrors": expected}}}
    assert await state() == before


@pytest.mark.parametrize("principal", ["admin", "kim_home"])
@pytest.mark.parametrize(
    ("name", "office"),
    [
        ("Siti Aminah", "ketua"),
        ("Yusuf Hamdani", "sekretaris"),
        ("Nur Aini", "bendahara"),
    ],
)
async def test_the_last_holder_of_an_office_is_not_removed(
    client: httpx.AsyncClient, cast: Cast, principal: str, name: str, office: str
) -> None:
    # given
    holder = await home_officer(cast, name)
    before = await state()
    # when
    body = await execute(
        client,
        MUTATION_KIM_MEMBER_REMOVE,
        {"id": member_id(holder)},
        cast.headers[principal],
    )
    # then
    assert body == {
        "data": {
            "kimMemberRemove": {
                "kim": None,
                "userErrors": last_holder(name, office, "id"),
            }
        }
    }
    assert await state() == before


async def test_one_of_two_holders_of_an_office_may_leave(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a second sekretaris
    await second_sekretaris(cast)
    yusuf = await home_officer(cast, "Yusuf Hamdani")
    # when
    body = await execute(
        client,
        MUTATION_KIM_MEMBER_REMOVE,
        {"id": member_id(yusuf)},
        cast.headers["kim_home"],
    )
    # then
    assert body["data"]["kimMemberRemove"] == {
        "kim": {
            "members": [
                HOME_MEMBERS[0],
                {"name": "Rudi Hartono", "role": "SEKRETARIS"},
                *HOME_MEMBERS[2:],
            ]
        },
        "userErrors": [],
    }


# Who may hand an office over: as kimMemberAdd, plus the KIM's own account.
HAND_OVER = KIM_MANAGERS | {"kim_home": ALLOW}
USERNAMES = {
    "officer_in_scope": ("camat_delta_pawan", "OFFICER"),
    "admin": ("diskominfo", "ADMIN"),
    "kim_home": ("kim_suka_bangun", "KIM"),
}


@pytest.mark.parametrize(("principal", "expected"), HAND_OVER.items())
async def test_the_ketua_hands_the_office_over_in_one_step(
    client: httpx.AsyncClient, cast: Cast, principal: str, expected: str
) -> None:
    # given
    siti = await home_officer(cast, "Siti Aminah")
    before = await state()
    audited = await newest_audit_row()
    # when
    body = await execute(
        client,
        MUTATION_KIM_HAND_OVER,
        {
            "kimId": kim_id(cast.home_kim),
            "input": {"name": "Budi Santoso", "role": "KETUA"},
            "replaces": member_id(siti),
        },
        cast.headers[principal],
    )
    # then
    assert outcome(body, "kimMemberAdd") == expected, body
    if expected != ALLOW:
        assert await state() == before
        return
    assert body["data"]["kimMemberAdd"] == {
        "kim": {
            "members": [{"name": "Budi Santoso", "role": "KETUA"}, *HOME_MEMBERS[1:]]
        },
        "member": {"name": "Budi Santoso", "role": "KETUA"},
        "userErrors": [],
    }
    budi = await home_officer(cast, "Budi Santoso")
    entries = await models.AuditEntry.filter(id__gt=audited).values_list(
        "actor", "role", "action", "target_type", "target_id", "summary"
    )
    assert [(*e[:5], json.loads(str(e[5]))) for e in entries] == [
        (
            *USERNAMES[principal],
            "kim.member_add",
            "KimMember",
            member_id(budi),
            {
                "kim": kim_id(cast.home_kim),
                "name": "Budi Santoso",
                "role": "KETUA",
                "replaces": {
                    "id": member_id(siti),
                    "name": "Siti Aminah",
                    "role": "KETUA",
                },
            },
        )
    ]


@pytest.mark.parametrize(
    ("leaving", "incoming", "expected"),
    [
        # the ketua's place taken by an anggota: no ketua left
        ("Siti Aminah", "ANGGOTA", last_holder("Siti Aminah", "ketua", "replaces")),
        # the sekretaris leaving for a second ketua: no sekretaris left
        (
            "Yusuf Hamdani",
            "KETUA",
            last_holder("Yusuf Hamdani", "sekretaris", "replaces"),
        ),
        # an anggota replaced by a second ketua: the index refuses, the
        # anggota's removal is rolled back with it
        (
            HOME_MEMBER,
            "KETUA",
            [
                {
                    "field": ["input", "role"],
                    "code": "INVALID",
                    "message": "this KIM already has a ketua",
                }
            ],
        ),
    ],
)
async def test_a_hand_over_that_breaks_the_offices_changes_nothing(
    client: httpx.AsyncClient,
    cast: Cast,
    leaving: str,
    incoming: str,
    expected: list[dict[str, Any]],
) -> None:
    # given
    replaced = await home_officer(cast, leaving)
    before = await state()
    # when
    body = await execute(
        client,
        MUTATION_KIM_HAND_OVER,
        {
            "kimId": kim_id(cast.home_kim),
            "input": {"name": "Budi Santoso", "role": incoming},
            "replaces": member_id(replaced),
        },
        cast.headers["kim_home"],
    )
    # then
    assert body["data"]["kimMemberAdd"] == {
        "kim": None,
        "member": None,
        "userErrors": expected,
    }
    assert await state() == before


async def test_replaces_must_name_a_member_of_this_kim(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the other KIM's ketua, a member id that names nobody, a KIM's id
    other = await models.KimMember.get(
        kim_id=cast.other_kim.id, role=models.KimRole.KETUA
    )
    ids = [
        member_id(other),
        encode_id("KimMember", "9999"),
        kim_id(cast.home_kim),
        "not an id",
    ]
    before = await state()
    # when
    bodies = [
        await execute(
            client,
            MUTATION_KIM_HAND_OVER,
            {
                "kimId": kim_id(cast.home_kim),
                "input": {"name": "Budi Santoso", "role": "KETUA"},
                "replaces": replaces,
            },
            cast.headers["admin"],
        )
        for replaces in ids
    ]
    # then
    assert [body["data"]["kimMemberAdd"] for body in bodies] == [
        {"kim": None, "member": None, "userErrors": NO_SUCH_MEMBER}
    ] * 4
    assert await state() == before
