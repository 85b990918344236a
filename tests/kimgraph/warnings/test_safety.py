"""Hostile XML is refused before anything is fetched or expanded."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from kimgraph.models import WarningOutcome, WarningReviewReason
from kimgraph.warnings import cap
from kimgraph.warnings.areas import load_gazetteer
from kimgraph.warnings.ingest import ingest
from tests.kimgraph.warnings.feed_server import feed_server, ketapang_cap
from tests.people import nobody_listens

pytestmark = pytest.mark.asyncio

# Expanding the entities takes minutes and gigabytes; a refusal, milliseconds. The
# bound leaves room for a loaded CI machine (docs/testing.md).
REFUSAL_BOUND_S = 5.0

LAUGHS = (
    '<!DOCTYPE alert [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


@pytest.mark.parametrize(
    "entity",
    [
        '<!DOCTYPE alert [<!ENTITY ext SYSTEM "{url}/secret">]>',
        '<!DOCTYPE alert [<!ENTITY % ext SYSTEM "{url}/dtd"> %ext;]>',
        '<!DOCTYPE alert SYSTEM "{url}/alert.dtd">',
    ],
    ids=["general-entity", "parameter-entity", "external-dtd"],
)
async def test_an_external_entity_is_refused_without_a_request(
    ketapang: str, entity: str
) -> None:
    with feed_server() as feed:
        feed.serve("/secret", b"rahasia")
        feed.serve("/dtd", b'<!ENTITY leak "rahasia">')
        feed.serve("/alert.dtd", b'<!ENTITY leak "rahasia">')
        document = ketapang_cap(doctype=entity.format(url=feed.url)).replace(
            b"BENUA KAYONG",
            b"&ext; BENUA KAYONG" if "ENTITY ext" in entity else b"BENUA KAYONG",
        )
        clock = FixedClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
        gazetteer = await load_gazetteer(None)
        result = await ingest(clock, nobody_listens, gazetteer, document, "hostile")
        assert feed.requests == []
    assert (result.outcome, result.note) == (
        WarningOutcome.REVIEW,
        "refused: DTDForbidden",
    )
    review = await models.WarningReview.get(id=result.review_id)
    assert (review.reason, review.detail) == (
        WarningReviewReason.INVALID,
        "hostile: refused: DTDForbidden",
    )
    assert review.body is None
    assert await models.Announcement.all().count() == 0


async def test_billion_laughs_is_refused_without_expanding(ketapang: str) -> None:
    document = ketapang_cap(doctype=LAUGHS).replace(b"BENUA KAYONG", b"&lol9;")
    started = time.perf_counter()
    with pytest.raises(cap.CapError) as raised:
        cap.parse_message(document)
    assert str(raised.value) == "refused: DTDForbidden"
    assert time.perf_counter() - started < REFUSAL_BOUND_S


async def test_an_oversize_document_is_refused(ketapang: str) -> None:
    document = ketapang_cap().replace(
        b"<web>", b"<web>" + b" " * cap.MAX_DOCUMENT_BYTES
    )
    with pytest.raises(cap.CapError) as raised:
        cap.parse_message(document)
    assert str(raised.value) == "document larger than 1048576 bytes"


async def test_required_fields_are_checked() -> None:
    document = ketapang_cap().replace(b"<severity>Extreme</severity>", b"")
    with pytest.raises(cap.CapError) as raised:
        cap.parse_message(document)
    assert str(raised.value) == "required element severity is missing or empty"
