"""A KIM manages itself: its own details and members, never another KIM."""

from __future__ import annotations

import httpx

from kimgraph import models
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, officers_input
from tests.resolvers.accounts.test_permissions import (
    MUTATION_KIM_MEMBER_ADD,
    MUTATION_KIM_MEMBER_REMOVE,
    MUTATION_KIM_REGISTER,
    MUTATION_KIM_UPDATE,
)
from tests.resolvers.kims.test_offices import newest_audit_row, state

DENIED = "a KIM caller may not manage KIM (register, update, members)"


def _kim(kim: models.Kim) -> str:
    return encode_id("Kim", str(kim.id))


async def test_a_kim_account_updates_its_own_kim_and_members(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    own = cast.headers["kim_home"]
    audited = await newest_audit_row()
    # when
    renamed = await execute(
        client,
        MUTATION_KIM_UPDATE,
        {"id": _kim(cast.home_kim), "input": {"name": "KIM Suka Bangun Jaya"}},
        own,
    )
    added = await execute(
        client,
        MUTATION_KIM_MEMBER_ADD,
        {
            "kimId": _kim(cast.home_kim),
            "input": {"name": "Rudi Hartono", "role": "SEKRETARIS"},
        },
        own,
    )
    removed = await execute(
        client,
        MUTATION_KIM_MEMBER_REMOVE,
        {"id": encode_id("KimMember", str(cast.home_member.id))},
        own,
    )
    # then
    assert renamed["data"]["kimUpdate"] == {
        "kim": {"name": "KIM Suka Bangun Jaya"},
        "userErrors": [],
    }
    assert added["data"]["kimMemberAdd"] == {
        "member": {"name": "Rudi Hartono"},
        "userErrors": [],
    }
    assert removed["data"]["kimMemberRemove"] == {
        "kim": {"name": "KIM Suka Bangun Jaya"},
        "userErrors": [],
    }
    members = (
        await models.KimMember.filter(kim_id=cast.home_kim.id)
        .order_by("id")
        .values_list("name", "role")
    )
    assert [(name, str(role)) for name, role in members] == [
        ("Siti Aminah", "KETUA"),
        ("Yusuf Hamdani", "SEKRETARIS"),
        ("Nur Aini", "BENDAHARA"),
        ("Rudi Hartono", "SEKRETARIS"),
    ]
    # and each change is on the audit trail as the KIM's own account
    entries = (
        await models.AuditEntry.filter(id__gt=audited)
        .order_by("id")
        .values_list("actor", "role", "action")
    )
    assert [tuple(entry) for entry in entries] == [
        ("kim_suka_bangun", "KIM", "kim.update"),
        ("kim_suka_bangun", "KIM", "kim.member_add"),
        ("kim_suka_bangun", "KIM", "kim.member_remove"),
    ]


async def test_a_kim_account_cannot_touch_another_kim_or_register_one(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    own = cast.headers["kim_home"]
    other_member = await models.KimMember.create(
        kim_id=cast.other_kim.id,
        name="Siti Aminah",
        role=models.KimRole.ANGGOTA,
        created_at=cast.other_kim.created_at,
    )
    before = await state()
    # when
    bodies = [
        await execute(client, query, variables, own)
        for query, variables in (
            (
                MUTATION_KIM_UPDATE,
                {"id": _kim(cast.other_kim), "input": {"name": "KIM Diambil Alih"}},
            ),
            (
                MUTATION_KIM_MEMBER_ADD,
                {
                    "kimId": _kim(cast.other_kim),
                    "input": {"name": "Penyusup", "role": "ANGGOTA"},
                },
            ),
            (
                MUTATION_KIM_MEMBER_REMOVE,
                {"id": encode_id("KimMember", str(other_member.id))},
            ),
            (
                MUTATION_KIM_REGISTER,
                {
                    "input": {
                        "name": "KIM Baru",
                        "region": "61.04.16.2007",
                        "members": officers_input("Baru"),
                    }
                },
            ),
        )
    ]
    # then: FORBIDDEN, word for word what it was before KIM managed themselves
    assert [
        (
            body["data"],
            [(e["extensions"]["code"], e["message"]) for e in body["errors"]],
        )
        for body in bodies
    ] == [(None, [("FORBIDDEN", DENIED)])] * 4
    assert await state() == before
