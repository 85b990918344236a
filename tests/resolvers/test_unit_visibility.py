"""ANONYMOUS hides the reporter from the unit it is disposed to (docs/domain.md)."""

from __future__ import annotations

import httpx
import pytest

from kimgraph.clock import FixedClock
from tests.conftest import execute
from tests.people import HOME_DESA, Cast, snapshot
from tests.resolvers.unit_desk import dispose, unit_desk

CONTACT = "0813-4444-9876"
READS = """
query ($id: ID!, $region: String) {
  aspiration(id: $id) { title reporterName reporterContact }
  node(id: $id) { ... on Aspiration { reporterName reporterContact } }
  aspirations(region: $region, first: 50) {
    edges { node { id reporterName reporterContact } }
  }
}
"""
# Who reads the reporter's name, by visibility: the unit's members never for
# ANONYMOUS; the verifier, the reporter's KIM and admins always.
SEES_NAME = {
    "pupr_member": {"PUBLIC": True, "ANONYMOUS": False},
    "pupr_in_scope": {"PUBLIC": True, "ANONYMOUS": False},
    "officer_in_scope": {"PUBLIC": True, "ANONYMOUS": True},
    "admin": {"PUBLIC": True, "ANONYMOUS": True},
    "kim_home": {"PUBLIC": True, "ANONYMOUS": True},
}
# Their own scope, for the list: pupr_member's does not hold the home desa.
LIST_REGION = {
    "pupr_member": None,
    "pupr_in_scope": "61.04.16",
    "officer_in_scope": "61.04.16",
    "admin": "61.04.16",
    "kim_home": HOME_DESA,
}


@pytest.mark.parametrize("visibility", ["PUBLIC", "ANONYMOUS"])
async def test_the_unit_reads_the_content_and_an_anonymous_reporter_stays_unnamed(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, visibility: str
) -> None:
    # given: an aspiration disposed to Dinas PUPR
    desk = await unit_desk(clock, cast)
    aspiration_id, _ = await dispose(
        client, cast, desk, desk.pupr, visibility=visibility
    )
    for who, sees in SEES_NAME.items():
        # when
        body = await execute(
            client,
            READS,
            {"id": aspiration_id, "region": LIST_REGION[who]},
            desk.headers[who],
        )
        # then: the same answer by id, as a node and in the list
        data = body.get("data") or {}
        shown = ("Rina Marlina", CONTACT) if sees[visibility] else (None, None)
        aspiration = data["aspiration"]
        assert aspiration["title"] == "Lampu jalan padam", who
        assert (aspiration["reporterName"], aspiration["reporterContact"]) == shown
        assert data["node"] == {
            "reporterName": shown[0],
            "reporterContact": shown[1],
        }, who
        listed = [
            edge["node"]
            for edge in data["aspirations"]["edges"]
            if edge["node"]["id"] == aspiration_id
        ]
        # A member's own scope may not hold it: its list (its scope) leaves it out.
        in_list = (
            []
            if LIST_REGION[who] is None
            else [
                {
                    "id": aspiration_id,
                    "reporterName": shown[0],
                    "reporterContact": shown[1],
                }
            ]
        )
        assert listed == in_list, who


async def test_the_history_and_the_responses_carry_no_reporter_for_the_unit(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    aspiration_id, _ = await dispose(
        client, cast, desk, desk.pupr, visibility="ANONYMOUS"
    )
    # when
    body = await execute(
        client,
        """query ($id: ID!) { aspiration(id: $id) {
             history { note publicNote actorName } responses { message } } }""",
        {"id": aspiration_id},
        desk.headers["pupr_member"],
    )
    # then
    assert "Rina Marlina" not in str(body)
    assert CONTACT not in str(body)
    assert body["data"]["aspiration"]["history"][0]["actorName"] == "Kim Suka Bangun"


async def test_the_unit_does_not_moderate_and_a_refusal_changes_nothing(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    aspiration_id, _ = await dispose(client, cast, desk, desk.pupr)
    before = await snapshot()
    # when
    body = await execute(
        client,
        """mutation ($id: ID!) { aspirationModerate(id: $id,
             input: {hidden: true, reason: "Berisi nomor telepon."}) {
             aspiration { hidden } userErrors { code } } }""",
        {"id": aspiration_id},
        desk.headers["pupr_member"],
    )
    # then
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == "only a verifier may moderate an aspiration"
    assert await snapshot() == before
