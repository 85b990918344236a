"""aspirationEvents for a partner app: a real server, a real WebSocket, an API key."""

from __future__ import annotations

from typing import Any

from tests.e2e.aspiration_desk import (
    HOME_DESA,
    OTHER_DESA,
    OUTSIDE_DESA,
    Desk,
    follow_aspirations,
)

CONTACT = "0812-7777-3131"
QUERY_CURSOR = "{ aspirations(first: 1) { eventCursor } }"


def summary(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["kind"], e["from"], e["to"], e["aspiration"]["region"]["code"])
        for e in events
    ]


async def test_a_partner_app_follows_its_kabupaten_and_resumes_without_loss(
    desk: Desk,
) -> None:
    # given: the partner app reads, then subscribes from the read's eventCursor
    cursor = (await desk.data("partner", QUERY_CURSOR))["aspirations"]["eventCursor"]
    app = await follow_aspirations(
        desk.server, {"region": "61.04", "after": cursor}, desk.authorization["partner"]
    )
    # when: aspirations move in Ketapang and in neighbouring Kayong Utara
    road = await desk.submit("kim_home", HOME_DESA, reporterContact=CONTACT)
    elsewhere = await desk.submit("admin_kayong_utara", OUTSIDE_DESA)
    await desk.step("admin", road, "VERIFIED")
    await desk.step("admin_kayong_utara", elsewhere, "VERIFIED")
    await desk.step("admin", road, "DISPOSED", assignedUnit="Dinas PUPR")
    # then: only Ketapang's changes, in order
    seen = await app.events(3)
    assert summary(seen) == [
        ("SUBMITTED", None, "SUBMITTED", HOME_DESA),
        ("TRANSITIONED", "SUBMITTED", "VERIFIED", HOME_DESA),
        ("TRANSITIONED", "VERIFIED", "DISPOSED", HOME_DESA),
    ]
    assert {e["aspiration"]["ticket"] for e in seen} == {road.ticket}
    assert await app.nothing_within(1.0)
    # when: the app loses its connection while work goes on
    await app.close()
    await desk.step("officer_in_scope", road, "IN_PROGRESS")
    await desk.step(
        "admin_kayong_utara", elsewhere, "DISPOSED", assignedUnit="Dinas PU"
    )
    padang = await desk.submit("officer_out_of_scope", OTHER_DESA)
    await desk.step(
        "officer_in_scope", road, "RESPONDED", publicNote="Diperbaiki 3 Desember."
    )
    app = await follow_aspirations(
        desk.server,
        {"region": "61.04", "after": seen[-1]["cursor"]},
        desk.authorization["partner"],
    )
    # then: exactly what it missed, in order, then live again
    missed = await app.events(3)
    assert summary(missed) == [
        ("TRANSITIONED", "DISPOSED", "IN_PROGRESS", HOME_DESA),
        ("SUBMITTED", None, "SUBMITTED", OTHER_DESA),
        ("TRANSITIONED", "IN_PROGRESS", "RESPONDED", HOME_DESA),
    ]
    assert missed[2]["note"] == "Diperbaiki 3 Desember."
    await desk.step("officer_out_of_scope", padang, "VERIFIED")
    await desk.step("admin_kayong_utara", elsewhere, "WITHDRAWN")
    live = await app.event()
    assert summary([live]) == [("TRANSITIONED", "SUBMITTED", "VERIFIED", OTHER_DESA)]
    assert len({e["cursor"] for e in [*seen, *missed, live]}) == 7
    assert await app.nothing_within(1.0)
    await app.close()
    # and: no event carried the reporter's personal data
    for event in [*seen, *missed, live]:
        aspiration = event["aspiration"]
        assert (aspiration["reporterName"], aspiration["reporterContact"]) == (
            None,
            None,
        )
        assert [step["note"] for step in aspiration["history"]] == [None] * len(
            aspiration["history"]
        )
    assert not any(CONTACT in frame for frame in app.frames)


async def test_a_partner_sees_confidential_aspirations_without_their_content(
    desk: Desk,
) -> None:
    # given
    cursor = (await desk.data("partner", QUERY_CURSOR))["aspirations"]["eventCursor"]
    app = await follow_aspirations(
        desk.server, {"region": "61.04", "after": cursor}, desk.authorization["partner"]
    )
    # when
    await desk.submit("kim_home", HOME_DESA, title="Rahasia", visibility="CONFIDENTIAL")
    await desk.submit("kim_home", HOME_DESA, title="Terbuka", visibility="PUBLIC")
    # then
    events = await app.events(2)
    assert [
        (e["aspiration"]["title"], e["aspiration"]["contentWithheld"]) for e in events
    ] == [("(rahasia)", True), ("Terbuka", False)]
    await app.close()


async def test_subscriptions_beyond_ones_reach_are_errors(desk: Desk) -> None:
    cases = [
        ("anonymous", {"region": "61.04"}, "UNAUTHENTICATED"),
        ("partner", {"region": "61.11"}, "FORBIDDEN"),
        ("partner", {"region": "61.04.99"}, "NOT_FOUND"),
        ("partner", {"region": "61.4"}, "INVALID_REGION_CODE"),
        ("anonymous", {"ticket": "ASP-6104-2026-XXXXXXXX"}, "NOT_FOUND"),
        ("partner", {"after": "bukan-kursor"}, "INVALID_CURSOR"),
    ]
    codes = []
    for who, variables, _ in cases:
        app = await follow_aspirations(
            desk.server, variables, desk.authorization.get(who)
        )
        message = await app.message()
        errors = (
            message["payload"]["errors"]
            if message["type"] == "next"
            else message["payload"]
        )
        codes.append([e["extensions"]["code"] for e in errors])
        await app.close()
    assert codes == [[code] for _, _, code in cases]
