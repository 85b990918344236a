"""Every live event is read fresh: moderation and renames show in the next event.

A subscription runs for hours; its loaders are made anew for each event
(kimgraph.loaders.PerEventLoaders), so nothing an earlier event read is served
again from a cache (docs/live-delivery.md, "Fresh data in every event").
"""

from __future__ import annotations

from typing import Any

from tests.e2e.aspiration_desk import (
    HOME_DESA,
    Aspiration,
    Desk,
)
from tests.e2e.live import Subscriber

HIDDEN_TEXT = "(disembunyikan moderator)"
QUERY_CURSOR = "{ aspirations(first: 1) { eventCursor } }"
SUBSCRIPTION_DUPLICATES = """
subscription ($region: String, $after: String) {
  aspirationEvents(region: $region, after: $after) {
    kind aspiration { id duplicateOf { id title description hidden } }
  }
}
"""
MUTATION_MODERATE = """
mutation ($id: ID!, $input: AspirationModerateInput!) {
  aspirationModerate(id: $id, input: $input) { userErrors { code message } }
}
"""
MUTATION_KIM_UPDATE = """
mutation ($id: ID!, $input: KimUpdateInput!) {
  kimUpdate(id: $id, input: $input) { kim { name } userErrors { code message } }
}
"""
MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { userErrors { code message } }
}
"""
QUERY_BOARD = """
query ($region: String!) { announcements(region: $region, first: 1) { eventCursor } }
"""
SUBSCRIPTION_BOARD = """
subscription ($region: String!, $after: String, $below: Boolean) {
  announcementEvents(region: $region, after: $after, includeDescendants: $below) {
    kind announcement { title kim { name } }
  }
}
"""
QUERY_KIM = '{ kims(region: "%s", first: 1) { edges { node { id name } } } }'


def duplicate_of(event: dict[str, Any]) -> Any:
    return event["aspiration"]["duplicateOf"]


async def mark_duplicate(desk: Desk, aspiration: Aspiration, of: Aspiration) -> None:
    await desk.step("admin", aspiration, "DUPLICATE", duplicateOfId=of.id)


async def test_a_partner_event_after_moderation_shows_the_original_withheld(
    desk: Desk,
) -> None:
    # given: a public aspiration Y and two later ones, and a partner app following
    original = await desk.submit(
        "kim_home", HOME_DESA, title="Jembatan putus", visibility="PUBLIC"
    )
    first = await desk.submit("kim_home", HOME_DESA, visibility="PUBLIC")
    second = await desk.submit("kim_home", HOME_DESA, visibility="PUBLIC")
    cursor = (await desk.data("partner", QUERY_CURSOR))["aspirations"]["eventCursor"]
    app = await Subscriber.follow(
        desk.server,
        SUBSCRIPTION_DUPLICATES,
        {"region": "61.04", "after": cursor},
        desk.authorization["partner"],
    )
    # and: one event already showed Y through duplicateOf (read, so cached)
    await mark_duplicate(desk, first, original)
    shown = await app.event()
    assert duplicate_of(shown) == {
        "id": original.id,
        "title": "Jembatan putus",
        "description": "Badan jalan longsor sepanjang 20 meter.",
        "hidden": False,
    }
    # when: a moderator hides Y
    moderated = await desk.data(
        "admin",
        MUTATION_MODERATE,
        {"id": original.id, "input": {"hidden": True, "reason": "Data pribadi"}},
    )
    assert moderated["aspirationModerate"]["userErrors"] == []
    assert (await app.event())["kind"] == "MODERATED"
    # and: another aspiration is marked a duplicate of Y
    await mark_duplicate(desk, second, original)
    # then: its event shows Y hidden, its content withheld
    later = await app.event()
    assert later["aspiration"]["id"] == second.id
    assert duplicate_of(later) == {
        "id": original.id,
        "title": HIDDEN_TEXT,
        "description": HIDDEN_TEXT,
        "hidden": True,
    }
    await app.close()


async def test_boards_on_a_shared_run_see_a_renamed_kim_in_the_next_event(
    desk: Desk,
) -> None:
    # given: two boards of the desa on one shared run, and the desa's KIM
    kim = (await desk.data("admin", QUERY_KIM % HOME_DESA))["kims"]["edges"][0]["node"]
    assert kim["name"] == "KIM Suka Bangun"
    variables = {"region": HOME_DESA, "below": False}
    cursor = (await desk.data("admin", QUERY_BOARD, {"region": HOME_DESA}))[
        "announcements"
    ]["eventCursor"]
    boards = [
        await Subscriber.follow(desk.server, SUBSCRIPTION_BOARD, variables),
        await Subscriber.follow(
            desk.server, SUBSCRIPTION_BOARD, variables | {"after": cursor}
        ),
    ]

    async def publish(title: str) -> None:
        data = await desk.data(
            "admin",
            MUTATION_PUBLISH,
            {
                "input": {
                    "title": title,
                    "body": f"Isi {title}",
                    "category": "GENERAL",
                    "targets": [HOME_DESA],
                    "kimId": kim["id"],
                }
            },
        )
        assert data["announcementPublish"]["userErrors"] == []

    await publish("Gotong royong")
    for board in boards:
        event = await board.event()
        assert event["announcement"] == {
            "title": "Gotong royong",
            "kim": {"name": "KIM Suka Bangun"},
        }
    # when: the KIM is renamed
    renamed = await desk.data(
        "admin",
        MUTATION_KIM_UPDATE,
        {"id": kim["id"], "input": {"name": "KIM Suka Bangun Bersatu"}},
    )
    assert renamed["kimUpdate"] == {
        "kim": {"name": "KIM Suka Bangun Bersatu"},
        "userErrors": [],
    }
    # then: the next event carries the new name, on every board
    await publish("Posyandu")
    for board in boards:
        event = await board.event()
        assert event["announcement"] == {
            "title": "Posyandu",
            "kim": {"name": "KIM Suka Bangun Bersatu"},
        }
    metrics = (await desk.http.get("/metrics")).text
    assert "\nkimgraph_subscription_shared_runs 1.0\n" in metrics
    for board in boards:
        await board.close()
