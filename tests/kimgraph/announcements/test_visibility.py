"""Who reads a scheduled announcement: the rule, the list query and the boards SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kimgraph import announcements, models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.announcements.boards import BoardKey, boards_by_keys
from kimgraph.announcements.queries import AnnouncementFilter, board_page
from kimgraph.announcements.visibility import PUBLIC, Reader
from kimgraph.clock import FixedClock
from tests.people import ROOT, nobody_listens

KABUPATEN, KECAMATAN = "61.04", "61.04.16"
DESA, SIBLING = "61.04.16.2006", "61.04.16.2007"
ELSEWHERE = "61.04.18"


@pytest.mark.parametrize(
    ("principal", "reader"),
    [
        (Principal(), PUBLIC),
        (Principal(role=Role.PARTNER, region_code=KABUPATEN), PUBLIC),
        (
            Principal(role=Role.KIM, region_code=DESA, account_id=3, kim_id=7),
            Reader(kim_id=7, account_id=3),
        ),
        (
            Principal(role=Role.OFFICER, region_code=KECAMATAN, account_id=4),
            Reader(scope=KECAMATAN, account_id=4),
        ),
        (
            Principal(role=Role.ADMIN, region_code=KABUPATEN, account_id=5),
            Reader(scope=KABUPATEN, account_id=5),
        ),
    ],
)
def test_a_principal_reads_as_its_role_allows(
    principal: Principal, reader: Reader
) -> None:
    assert Reader.of(principal) == reader


@pytest.mark.parametrize(
    ("reader", "targets", "sees"),
    [
        (PUBLIC, [DESA], False),
        (Reader(scope=KECAMATAN), [DESA], True),
        (Reader(scope=KECAMATAN), [ELSEWHERE + ".2003", SIBLING], True),
        # Above the scope: shown on its boards, but not the office's to see early.
        (Reader(scope=KECAMATAN), [KABUPATEN], False),
        # "61.04.1" is no ancestor of "61.04.16.2006": whole segments only.
        (Reader(scope="61.04.1"), [DESA], False),
        (Reader(kim_id=7), [ELSEWHERE], True),
        (Reader(kim_id=8), [DESA], False),
        (Reader(account_id=9), [ELSEWHERE], True),
    ],
)
async def test_a_scheduled_one_is_seen_by_its_publisher_and_staff_over_a_target(
    db: str, reader: Reader, targets: list[str], sees: bool
) -> None:
    # (db: the model's foreign-key columns exist once Tortoise is set up)
    row = models.Announcement(kim_id=7, publisher_id=9)
    assert reader.sees_scheduled(row, targets) is sees


async def test_boards_read_together_show_each_reader_what_the_board_query_does(
    ketapang: str, clock: FixedClock
) -> None:
    # given: within two seconds one starts for the kabupaten and two for the
    # kecamatan or a desa; a KIM's is scheduled further on
    start, second = clock.now(), timedelta(seconds=1)
    kim = await models.Kim.create(
        name="KIM Uji", region_id=DESA, created_at=start, updated_at=start
    )
    drafts = [
        ("Kabupaten", [KABUPATEN], start + second / 2, None),
        ("Kecamatan", [KECAMATAN], start + second * 1.5, None),
        ("Desa", [DESA, ELSEWHERE], start + second * 1.5, None),
        ("Lain", [ELSEWHERE], start + second / 2, None),
        ("KIM", [DESA], start + second * 60, kim.id),
        ("Sudah", [KABUPATEN], None, None),
    ]
    for title, targets, valid_from, kim_id in drafts:
        draft = announcements.Draft(
            title=title,
            body=f"Isi {title}",
            category=models.AnnouncementCategory.GENERAL,
            targets=targets,
            valid_from=valid_from,
            kim_id=kim_id,
        )
        await announcements.publish(clock, nobody_listens, ROOT, draft)
    readers = [
        PUBLIC,
        Reader(scope=KECAMATAN),
        Reader(scope=ELSEWHERE),
        Reader(scope=KABUPATEN),
        Reader(kim_id=kim.id),
    ]
    # when: boards of three regions at three times, whole or active, for each
    # reader, all in one batch
    keys = [
        BoardKey(region, active, start + second * n, None, limit, reader)
        for region in (DESA, SIBLING, KECAMATAN)
        for n in range(3)
        for active in (True, False)
        for limit in (1, 10)
        for reader in readers
    ]
    pages = await boards_by_keys(keys)
    # then: each page the board query's for its reader at its key's time
    for key in keys:
        where = AnnouncementFilter(
            key.region, active_only=key.active_only, reader=key.reader
        )
        expected = await board_page(where, key.now, key.after, key.limit)
        assert pages[key] == expected, key
    # and: what a desa board shows everyone and its staff midway
    middle = start + second
    titles = {
        reader: [
            row.title
            for row in pages[BoardKey(DESA, False, middle, None, 10, reader)].rows
        ]
        for reader in readers
    }
    assert titles == {
        PUBLIC: ["Kabupaten", "Sudah"],
        Reader(scope=KECAMATAN): ["KIM", "Desa", "Kecamatan", "Kabupaten", "Sudah"],
        Reader(scope=ELSEWHERE): ["Desa", "Kabupaten", "Sudah"],
        Reader(scope=KABUPATEN): ["KIM", "Desa", "Kecamatan", "Kabupaten", "Sudah"],
        Reader(kim_id=kim.id): ["KIM", "Kabupaten", "Sudah"],
    }
