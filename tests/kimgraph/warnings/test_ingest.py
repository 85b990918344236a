"""Ingesting CAP documents: what is published, revised, withdrawn, reviewed, dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from kimgraph.models import WarningOutcome, WarningReviewReason, WarningReviewStatus
from kimgraph.regions.codes import fold_name
from kimgraph.warnings.areas import WarningsConfigError, load_gazetteer
from kimgraph.warnings.ingest import Ingested, ingest
from tests.kimgraph.warnings.feed_server import SAMPLES, ketapang_cap, reference
from tests.people import nobody_listens, snapshot

pytestmark = pytest.mark.asyncio

ALERT = "2.49.0.1.360.0.2026.11.20.07.61.001"
DESCRIPTION = (
    "Hujan lebat disertai petir akan terjadi pada 20 November 2026, 14:50 WIB di "
    "sebagian wilayah Kalimantan Barat, khususnya di BENUA KAYONG, DELTA PAWAN.\n"
    " Kondisi ini berpotensi menimbulkan dampak berupa jarak pandang berkurang, "
    "angin kencang, dan banjir lokal.\n"
    " Masyarakat dihimbau untuk tetap waspada, mengurangi aktivitas di luar ruangan, "
    "serta mengambil langkah-langkah pencegahan yang diperlukan guna menjaga "
    "keselamatan.\n"
    " Kondisi diperkirakan dapat berlangsung hingga 20 November 2026, 17:30 WIB."
)


@pytest.fixture
def clock() -> FixedClock:
    """15:00 WIB on the day of the synthetic warnings (effective 14:50-17:30)."""
    return FixedClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))


async def _ingest(clock: FixedClock, document: bytes, source: str = "test") -> Ingested:
    gazetteer = await load_gazetteer(None)
    return await ingest(clock, nobody_listens, gazetteer, document, source)


async def _announcement(announcement_id: int | None) -> dict[str, object]:
    row = await models.Announcement.get(id=announcement_id)
    targets = (
        await models.AnnouncementTarget.filter(announcement_id=row.id)
        .order_by("id")
        .values_list("region_id", flat=True)
    )
    return {
        "title": row.title,
        "body": row.body,
        "category": row.category,
        "priority": row.priority,
        "published_by": row.published_by,
        "publisher_id": row.publisher_id,
        "kim_id": row.kim_id,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
        "withdrawn_at": row.withdrawn_at,
        "withdraw_reason": row.withdraw_reason,
        "revision": row.revision,
        "targets": list(targets),
    }


async def test_an_extreme_warning_for_two_kecamatan_is_an_emergency(
    ketapang: str, clock: FixedClock
) -> None:
    # given an Extreme warning naming Benua Kayong and Delta Pawan
    document = ketapang_cap(ALERT, severity="Extreme")
    # when it is ingested
    result = await _ingest(clock, document)
    # then one EMERGENCY announcement shows it, exactly
    assert result.outcome is WarningOutcome.PUBLISHED
    assert await _announcement(result.announcement_id) == {
        "title": "Hujan Lebat disertai Petir di Kalimantan Barat",
        "body": DESCRIPTION + "\n\nSumber: BMKG",
        "category": models.AnnouncementCategory.DISASTER,
        "priority": models.AnnouncementPriority.EMERGENCY,
        "published_by": "BMKG (otomatis)",
        "publisher_id": None,
        "kim_id": None,
        "valid_from": datetime(2026, 11, 20, 7, 50, tzinfo=UTC),
        "valid_until": datetime(2026, 11, 20, 10, 30, tzinfo=UTC),
        "withdrawn_at": None,
        "withdraw_reason": None,
        "revision": 1,
        "targets": ["61.04.18", "61.04.16"],
    }
    events = await models.Event.all().values_list("kind", "entity_id", "regions")
    assert [(k, e) for k, e, _ in events] == [("PUBLISHED", result.announcement_id)]
    assert await models.WarningReview.all().count() == 0


async def test_moderate_is_important(ketapang: str, clock: FixedClock) -> None:
    result = await _ingest(clock, ketapang_cap(ALERT, severity="Moderate"))
    row = await models.Announcement.get(id=result.announcement_id)
    assert (row.priority, row.category) == (
        models.AnnouncementPriority.IMPORTANT,
        models.AnnouncementCategory.DISASTER,
    )
    assert row.body.endswith("\n\nSumber: BMKG")


async def test_an_update_revises_the_announcement_of_its_thread(
    ketapang: str, clock: FixedClock
) -> None:
    # given a published Alert
    first = await _ingest(clock, ketapang_cap(ALERT))
    # when an Update of it adds Muara Pawan and ends later, as Severe
    update = ketapang_cap(
        "2.49.0.1.360.0.2026.11.20.07.61.002",
        msg_type="Update",
        references=reference(ALERT),
        sent="2026-11-20T14:40:00+07:00",
        severity="Severe",
        names="BENUA KAYONG, DELTA PAWAN, MUARA PAWAN",
        expires="2026-11-20T18:00:00+07:00",
    )
    second = await _ingest(clock, update)
    # then the same announcement changed; there is no second one
    assert second.outcome is WarningOutcome.REVISED
    assert second.announcement_id == first.announcement_id
    assert await models.Announcement.all().count() == 1
    shown = await _announcement(first.announcement_id)
    assert shown["targets"] == ["61.04.18", "61.04.16", "61.04.17"]
    assert shown["valid_until"] == datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    assert shown["revision"] == 3  # the update, then the relay of Muara Pawan
    assert shown["body"] == (
        DESCRIPTION.replace("DELTA PAWAN.", "DELTA PAWAN, MUARA PAWAN.")
        + "\n\nSumber: BMKG"
    )
    kinds = await models.Event.all().order_by("id").values_list("kind", flat=True)
    assert [str(kind) for kind in kinds] == ["PUBLISHED", "UPDATED", "UPDATED"]


async def test_a_cancel_withdraws_with_the_reason(
    ketapang: str, clock: FixedClock
) -> None:
    first = await _ingest(clock, ketapang_cap(ALERT))
    cancel = ketapang_cap(
        "2.49.0.1.360.0.2026.11.20.07.61.003",
        msg_type="Cancel",
        references=reference(ALERT),
        sent="2026-11-20T14:58:00+07:00",
    )
    result = await _ingest(clock, cancel)
    assert result.outcome is WarningOutcome.WITHDRAWN
    shown = await _announcement(first.announcement_id)
    assert (shown["withdrawn_at"], shown["withdraw_reason"]) == (
        clock.now(),
        "Dibatalkan oleh BMKG",
    )


async def test_a_repeat_changes_nothing(ketapang: str, clock: FixedClock) -> None:
    document = ketapang_cap(ALERT)
    await _ingest(clock, document)
    before = await snapshot()
    messages = await models.WarningMessage.all().values_list()
    result = await _ingest(clock, document)
    assert result.seen
    assert await snapshot() == before
    assert await models.WarningMessage.all().values_list() == messages


@pytest.mark.parametrize(
    ("names", "reason", "detail"),
    [
        (
            "BENUA KAYONG, ANTAH BERANTAH",
            WarningReviewReason.UNMATCHED,
            "names matching no region: ANTAH BERANTAH",
        ),
        (
            "BENUA KAYONG, DELTA PAWAN",
            WarningReviewReason.AMBIGUOUS,
            "names matching several regions: DELTA PAWAN",
        ),
    ],
    ids=["unmatched", "doubly-matched"],
)
async def test_uncertain_names_wait_for_review(
    ketapang: str,
    clock: FixedClock,
    names: str,
    reason: WarningReviewReason,
    detail: str,
) -> None:
    # given (for the doubly-matched case) a second kecamatan spelt "Delta-Pawan"
    await models.Region.create(
        code="61.04.99",
        parent_id="61.04",
        level=models.RegionLevel.KECAMATAN,
        name="Delta-Pawan",
        search_name=fold_name("Delta-Pawan"),
    )
    if reason is WarningReviewReason.UNMATCHED:
        await models.Region.filter(code="61.04.99").delete()
    # when
    result = await _ingest(clock, ketapang_cap(ALERT, names=names))
    # then nothing is published; a review item says why
    assert result.outcome is WarningOutcome.REVIEW
    assert await models.Announcement.all().count() == 0
    review = await models.WarningReview.get(id=result.review_id)
    assert (review.reason, review.detail, review.status, review.suggested_targets) == (
        reason,
        detail,
        WarningReviewStatus.PENDING,
        "61.04.18",
    )
    assert review.body is not None
    assert review.body.endswith("\n\nSumber: BMKG")


@pytest.mark.parametrize("severity", ["Minor", "Unknown"])
async def test_minor_and_unknown_wait_for_review(
    ketapang: str, clock: FixedClock, severity: str
) -> None:
    result = await _ingest(clock, ketapang_cap(ALERT, severity=severity))
    review = await models.WarningReview.get(id=result.review_id)
    assert (review.reason, review.suggested_targets) == (
        WarningReviewReason.SEVERITY,
        "61.04.18,61.04.16",
    )
    assert await models.Announcement.all().count() == 0


@pytest.mark.parametrize(
    ("status", "scope"),
    [("Test", "Public"), ("Exercise", "Public"), ("Actual", "Restricted")],
)
async def test_test_exercise_and_non_public_are_dropped(
    ketapang: str, clock: FixedClock, status: str, scope: str
) -> None:
    result = await _ingest(clock, ketapang_cap(ALERT, status=status, scope=scope))
    assert result.outcome is WarningOutcome.DROPPED
    assert await models.Announcement.all().count() == 0
    assert await models.WarningReview.all().count() == 0


async def test_an_overlapping_alert_revises_instead_of_adding(
    ketapang: str, clock: FixedClock
) -> None:
    first = await _ingest(clock, ketapang_cap(ALERT))
    # a new Alert (no references) for the same event, Delta Pawan again
    second = await _ingest(
        clock,
        ketapang_cap(
            "2.49.0.1.360.0.2026.11.20.07.61.009",
            sent="2026-11-20T14:59:00+07:00",
            names="DELTA PAWAN, MUARA PAWAN",
        ),
    )
    assert (second.outcome, second.announcement_id) == (
        WarningOutcome.REVISED,
        first.announcement_id,
    )
    assert await models.Announcement.all().count() == 1
    # the same event for other kecamatan only is its own announcement
    elsewhere = await _ingest(
        clock,
        ketapang_cap(
            "2.49.0.1.360.0.2026.11.20.07.61.011",
            sent="2026-11-20T14:59:10+07:00",
            names="KENDAWANGAN",
        ),
    )
    assert elsewhere.outcome is WarningOutcome.PUBLISHED
    assert elsewhere.announcement_id != first.announcement_id
    # a different event for the same kecamatan is its own announcement
    third = await _ingest(
        clock,
        ketapang_cap(
            "2.49.0.1.360.0.2026.11.20.07.61.010",
            sent="2026-11-20T14:59:30+07:00",
            event="Angin Kencang",
        ),
    )
    assert third.outcome is WarningOutcome.PUBLISHED
    assert third.announcement_id != first.announcement_id


async def test_the_real_samples(ketapang: str, clock: FixedClock) -> None:
    # The Gorontalo warning concerns no region of Ketapang.
    for name in (
        "bmkg-nowcast-CGT20260924002-id.xml",
        "bmkg-nowcast-CGT20260924002-en.xml",
    ):
        result = await _ingest(clock, (SAMPLES / name).read_bytes(), name)
        assert result.outcome in (WarningOutcome.IGNORED, None), name
    # The synthetic Kalimantan Barat Update of an Alert never seen: Sukadana
    # is Kayong Utara's, the other four are Ketapang's.
    result = await _ingest(
        clock, (SAMPLES / "synthetic-ketapang-update-id.xml").read_bytes()
    )
    assert result.outcome is WarningOutcome.PUBLISHED
    shown = await _announcement(result.announcement_id)
    assert (shown["priority"], shown["targets"]) == (
        models.AnnouncementPriority.EMERGENCY,
        ["61.04.18", "61.04.16", "61.04.12", "61.04.17"],
    )
    assert str(shown["body"]).endswith("17:30 WIB.\n\nSumber: BMKG")
    assert await models.WarningReview.all().count() == 0


async def test_an_alias_file_names_a_kecamatan(
    ketapang: str, clock: FixedClock, tmp_path: Path
) -> None:
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("# BMKG spelling,code\nDLT PAWAN,61.04.16\n", encoding="utf-8")
    gazetteer = await load_gazetteer(None, str(aliases))
    result = await ingest(
        clock, nobody_listens, gazetteer, ketapang_cap(ALERT, names="DLT PAWAN"), "t"
    )
    assert (await _announcement(result.announcement_id))["targets"] == ["61.04.16"]


async def test_the_served_kabupaten_must_be_unambiguous(ketapang: str) -> None:
    await models.Region.create(
        code="61.11",
        parent_id="61",
        level=models.RegionLevel.KABUPATEN,
        name="Kabupaten Kayong Utara",
        search_name="kabupaten kayong utara",
    )
    with pytest.raises(WarningsConfigError) as raised:
        await load_gazetteer(None)
    assert str(raised.value) == (
        "set KIMGRAPH_WARNINGS_KABUPATEN: the database holds several kabupaten/kota"
    )
    assert (await load_gazetteer("61.04")).kabupaten == "61.04"
