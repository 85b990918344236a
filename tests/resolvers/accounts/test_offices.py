"""Announcements speak for an office: derived from role and region, or named."""

from __future__ import annotations

import httpx
import pytest

from kimgraph import models
from kimgraph.accounts import offices
from kimgraph.accounts.offices import derived_office
from kimgraph.accounts.principals import Role
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from kimgraph.units import management as units
from tests.conftest import execute
from tests.people import HOME_DESA, Cast, snapshot

PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { publishedBy } userErrors { code message }
  }
}
"""
OFFICE_SET = """
mutation ($id: ID!, $office: String) {
  accountOfficeSet(id: $id, office: $office) {
    account { username office } userErrors { code message field }
  }
}
"""


@pytest.mark.parametrize(
    ("role", "region", "office"),
    [
        (Role.OFFICER, "61.04.16.2006", "Kantor Desa Suka Bangun"),
        (Role.OFFICER, "61.04.16.1002", "Kantor Kelurahan Tengah"),
        (Role.OFFICER, "61.04.16", "Kantor Kecamatan Delta Pawan"),
        (Role.OFFICER, "61.04", "Diskominfo Kabupaten Ketapang"),
        (Role.ADMIN, "61.04", "Diskominfo Kabupaten Ketapang"),
    ],
)
async def test_the_office_is_derived_from_the_region_served(
    ketapang: str, role: Role, region: str, office: str
) -> None:
    assert await derived_office(role, region, None) == office


async def test_a_kim_account_speaks_for_its_kim(cast: Cast) -> None:
    assert (
        await derived_office(Role.KIM, HOME_DESA, cast.home_kim.id) == "KIM Suka Bangun"
    )


async def _publish(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    body = await execute(
        client,
        PUBLISH,
        {
            "input": {
                "title": "Kerja bakti",
                "body": "Kerja bakti hari Minggu.",
                "category": "SOCIAL",
                "targets": [HOME_DESA],
            }
        },
        headers,
    )
    payload = body["data"]["announcementPublish"]
    assert payload["userErrors"] == []
    return str(payload["announcement"]["publishedBy"])


async def test_published_by_shows_the_office_never_the_login(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    officer = await models.Account.get(username="camat_delta_pawan")
    officer_id = encode_id("Account", officer.id)
    # when / then: derived
    assert (
        await _publish(client, cast.headers["officer_in_scope"])
        == "Kantor Kecamatan Delta Pawan"
    )
    assert await _publish(client, cast.headers["admin"]) == (
        "Diskominfo Kabupaten Ketapang"
    )
    # when: the ADMIN names the office
    named = await execute(
        client,
        OFFICE_SET,
        {"id": officer_id, "office": "  Dinas Pekerjaan   Umum "},
        cast.headers["admin"],
    )
    # then
    assert named["data"]["accountOfficeSet"] == {
        "account": {"username": "camat_delta_pawan", "office": "Dinas Pekerjaan Umum"},
        "userErrors": [],
    }
    assert await _publish(client, cast.headers["officer_in_scope"]) == (
        "Dinas Pekerjaan Umum"
    )
    # when: back to derived
    cleared = await execute(
        client, OFFICE_SET, {"id": officer_id, "office": None}, cast.headers["admin"]
    )
    assert cleared["data"]["accountOfficeSet"]["account"]["office"] == (
        "Kantor Kecamatan Delta Pawan"
    )
    assert (await models.Account.get(id=officer.id)).office is None


@pytest.mark.parametrize(
    "who", ["officer_in_scope", "kim_home", "partner", "anonymous"]
)
async def test_only_an_admin_names_an_office(
    client: httpx.AsyncClient, cast: Cast, who: str
) -> None:
    # given
    officer = await models.Account.get(username="camat_delta_pawan")
    before = await snapshot()
    # when
    body = await execute(
        client,
        OFFICE_SET,
        {"id": encode_id("Account", officer.id), "office": "Kantor Palsu"},
        cast.headers[who],
    )
    # then
    assert body["data"] is None
    code = "UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert await snapshot() == before


async def test_an_office_longer_than_200_characters_is_refused(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    officer = await models.Account.get(username="camat_delta_pawan")
    body = await execute(
        client,
        OFFICE_SET,
        {"id": encode_id("Account", officer.id), "office": "K" * 201},
        cast.headers["admin"],
    )
    assert body["data"]["accountOfficeSet"] == {
        "account": None,
        "userErrors": [
            {
                "code": "INVALID",
                "message": "an office is at most 200 characters",
                "field": ["office"],
            }
        ],
    }
    assert (await models.Account.get(id=officer.id)).office is None


async def test_an_officer_in_one_unit_speaks_for_the_unit(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: the camat's account is made a member of one unit
    officer = await models.Account.get(username="camat_delta_pawan")
    roads = await units.create(clock, None, "Dinas PUPR Kabupaten Ketapang", "61.04")
    await units.add_member(clock, None, roads.id, officer.id)
    # then: its announcements are from the unit, and its account says so
    assert await _publish(client, cast.headers["officer_in_scope"]) == (
        "Dinas PUPR Kabupaten Ketapang"
    )
    assert await offices.account_office(officer) == "Dinas PUPR Kabupaten Ketapang"
    # when: a member of a second unit, it is no longer one unit's voice
    health = await units.create(clock, None, "Dinas Kesehatan", "61.04")
    await units.add_member(clock, None, health.id, officer.id)
    # then: the office of the region it serves
    assert await _publish(client, cast.headers["officer_in_scope"]) == (
        "Kantor Kecamatan Delta Pawan"
    )
    # when: one of the two is archived, the other speaks again
    await units.archive(clock, None, health.id)
    assert await _publish(client, cast.headers["officer_in_scope"]) == (
        "Dinas PUPR Kabupaten Ketapang"
    )
    # when: an ADMIN names the office, the name wins over the unit
    await offices.set_office(clock, None, officer.id, "Kantor Camat Delta Pawan")
    assert await _publish(client, cast.headers["officer_in_scope"]) == (
        "Kantor Camat Delta Pawan"
    )
