"""warningReviews and its decisions: who may, exact results, denials change nothing."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.accounts import auth
from kimgraph.accounts.principals import Role
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from kimgraph.warnings.areas import load_gazetteer
from kimgraph.warnings.ingest import ingest
from tests.conftest import execute
from tests.kimgraph.warnings.feed_server import ketapang_cap
from tests.people import Cast, nobody_listens, password_hash, snapshot

pytestmark = pytest.mark.asyncio

QUERY_REVIEWS = """
query ($status: WarningReviewStatus, $first: Int, $after: String) {
  warningReviews(status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage }
    edges { node { reason detail status severity title suggestedTargets { code } } }
  }
}
"""
MUTATION_PUBLISH = """
mutation ($id: ID!, $input: WarningReviewPublishInput!) {
  warningReviewPublish(id: $id, input: $input) {
    review { status decidedBy }
    announcement { title priority category publishedBy targets { code } status }
    userErrors { field code message }
  }
}
"""
MUTATION_DISMISS = """
mutation ($id: ID!, $reason: String!) {
  warningReviewDismiss(id: $id, reason: $reason) {
    review { status decidedBy dismissReason }
    userErrors { field code message }
  }
}
"""
DENIED = {
    "anonymous": "UNAUTHENTICATED",
    "partner": "FORBIDDEN",
    "kim_other_desa": "FORBIDDEN",
    "officer_out_of_scope": "FORBIDDEN",
    "officer_in_scope": "FORBIDDEN",  # a kecamatan officer: not over the kabupaten
}


@pytest.fixture
def clock() -> FixedClock:
    """15:00 WIB on the day of the synthetic warnings."""
    return FixedClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))


async def _kabupaten_officer(clock: FixedClock) -> dict[str, str]:
    account = await models.Account.create(
        username="kabid_ikp",
        display_name="Kabid IKP",
        password_hash=password_hash(),
        role=Role.OFFICER,
        region_id="61.04",
        created_at=clock.now(),
    )
    token = auth.TOKEN_PREFIX + secrets.token_urlsafe(32)
    await models.AccessToken.create(
        account=account,
        token_hash=auth.digest(token),
        created_at=clock.now(),
        expires_at=clock.now() + auth.TOKEN_TTL,
    )
    return {"authorization": f"Bearer {token}"}


async def _minor_warning(clock: FixedClock) -> str:
    """A Minor warning for Benua Kayong and Delta Pawan: waits for review."""
    result = await ingest(
        clock,
        nobody_listens,
        await load_gazetteer(None),
        ketapang_cap(severity="Minor"),
        "test",
    )
    return encode_id("WarningReview", result.review_id)


def _headers(cast: Cast, who: str) -> dict[str, str]:
    return cast.headers[who]


def _code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@pytest.mark.parametrize("who", ["admin", "kabupaten_officer"])
async def test_staff_over_the_kabupaten_list_reviews(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, who: str
) -> None:
    officer = await _kabupaten_officer(clock)
    await _minor_warning(clock)
    headers = officer if who == "kabupaten_officer" else cast.headers["admin"]
    body = await execute(client, QUERY_REVIEWS, {}, headers)
    assert body == {
        "data": {
            "warningReviews": {
                "totalCount": 1,
                "pageInfo": {"hasNextPage": False},
                "edges": [
                    {
                        "node": {
                            "reason": "SEVERITY",
                            "detail": "severity Minor is not published automatically",
                            "status": "PENDING",
                            "severity": "Minor",
                            "title": "Hujan Lebat disertai Petir di Kalimantan Barat",
                            "suggestedTargets": [
                                {"code": "61.04.18"},
                                {"code": "61.04.16"},
                            ],
                        }
                    }
                ],
            }
        }
    }


@pytest.mark.parametrize("who", sorted(DENIED))
async def test_others_may_not_list_reviews(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, who: str
) -> None:
    await _minor_warning(clock)
    body = await execute(client, QUERY_REVIEWS, {}, cast.headers[who])
    assert body["data"] is None
    assert _code(body) == DENIED[who]


@pytest.mark.parametrize("who", sorted(DENIED))
async def test_denied_decisions_change_nothing(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, who: str
) -> None:
    review = await _minor_warning(clock)
    before = await snapshot()
    reviews = await models.WarningReview.all().values_list()
    publish = await execute(
        client,
        MUTATION_PUBLISH,
        {"id": review, "input": {"targets": ["61.04.16"], "priority": "EMERGENCY"}},
        cast.headers[who],
    )
    dismiss = await execute(
        client,
        MUTATION_DISMISS,
        {"id": review, "reason": "tidak perlu"},
        cast.headers[who],
    )
    assert (_code(publish), _code(dismiss)) == (DENIED[who], DENIED[who])
    assert await snapshot() == before
    assert await models.WarningReview.all().values_list() == reviews


async def test_a_reviewer_publishes_with_chosen_targets_and_priority(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    review = await _minor_warning(clock)
    body = await execute(
        client,
        MUTATION_PUBLISH,
        {"id": review, "input": {"targets": ["61.04.16"], "priority": "IMPORTANT"}},
        cast.headers["admin"],
    )
    assert body == {
        "data": {
            "warningReviewPublish": {
                "review": {"status": "PUBLISHED", "decidedBy": "Diskominfo"},
                "announcement": {
                    "title": "Hujan Lebat disertai Petir di Kalimantan Barat",
                    "priority": "IMPORTANT",
                    "category": "DISASTER",
                    "publishedBy": "Diskominfo Kabupaten Ketapang",
                    "targets": [{"code": "61.04.16"}],
                    "status": "ACTIVE",
                },
                "userErrors": [],
            }
        }
    }
    row = await models.Announcement.get(
        title="Hujan Lebat disertai Petir di Kalimantan Barat"
    )
    assert row.body.endswith("\n\nSumber: BMKG")
    again = await execute(
        client, MUTATION_DISMISS, {"id": review, "reason": "x"}, cast.headers["admin"]
    )
    assert again["data"]["warningReviewDismiss"] == {
        "review": None,
        "userErrors": [
            {
                "field": ["id"],
                "code": "INVALID",
                "message": "the review is already published",
            }
        ],
    }


async def test_a_refused_publication_leaves_the_review_pending(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    review = await _minor_warning(clock)
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_PUBLISH,
        {"id": review, "input": {"targets": ["61.05"], "priority": "EMERGENCY"}},
        cast.headers["admin"],
    )
    assert body["data"]["warningReviewPublish"] == {
        "review": None,
        "announcement": None,
        "userErrors": [
            {
                "field": ["input", "targets", "0"],
                "code": "NOT_FOUND",
                "message": "there is no region with code 61.05",
            }
        ],
    }
    assert await snapshot() == before
    assert await models.WarningReview.get(status="PENDING")


async def test_a_reviewer_dismisses_with_a_reason(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    review = await _minor_warning(clock)
    body = await execute(
        client,
        MUTATION_DISMISS,
        {"id": review, "reason": "  hujan ringan saja "},
        cast.headers["admin"],
    )
    assert body == {
        "data": {
            "warningReviewDismiss": {
                "review": {
                    "status": "DISMISSED",
                    "decidedBy": "Diskominfo",
                    "dismissReason": "hujan ringan saja",
                },
                "userErrors": [],
            }
        }
    }
    listed = await execute(client, QUERY_REVIEWS, {}, cast.headers["admin"])
    assert listed["data"]["warningReviews"]["totalCount"] == 0
