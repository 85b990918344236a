"""Operations and helpers shared by the aspiration tests: submit, walk, read."""

from __future__ import annotations

from typing import Any

import httpx

from kimgraph.cursors import encode_id
from kimgraph.models.aspirations import AspirationStatus
from tests.conftest import execute
from tests.people import HOME_DESA, Cast

S = AspirationStatus

MUTATION_ASPIRATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) {
    ticket
    aspiration {
      id ticket title description category status version visibility dueAt
      reporterName reporterContact contentWithheld region { code } kim { name }
      history { from to note publicNote actorName at }
    }
    userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_TRANSITION = """
mutation ($id: ID!, $input: AspirationTransitionInput!) {
  aspirationTransition(id: $id, input: $input) {
    aspiration { id status version dueAt assignedUnit }
    userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_RESPOND = """
mutation ($id: ID!, $input: AspirationRespondInput!) {
  aspirationRespond(id: $id, input: $input) {
    response { message public authorName }
    aspiration { status version responses { message public } }
    userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_MODERATE = """
mutation ($id: ID!, $input: AspirationModerateInput!) {
  aspirationModerate(id: $id, input: $input) {
    aspiration { status version hidden title contentWithheld }
    userErrors { field code message }
  }
}
"""
ASPIRATION_FIELDS = """
  ticket title description category status version visibility hidden
  contentWithheld assignedUnit dueAt overdue reporterName reporterContact
  region { code } kim { name } duplicateOf { ticket }
  history { from to note publicNote assignedUnit actorName }
  responses { message public authorName }
"""
QUERY_ASPIRATION = (
    f"query ($id: ID!) {{ aspiration(id: $id) {{ {ASPIRATION_FIELDS} }} }}"
)
QUERY_ASPIRATION_TRACK = (
    f"query ($ticket: String!) {{ aspirationTrack(ticket: $ticket) "
    f"{{ {ASPIRATION_FIELDS} }} }}"
)
QUERY_ASPIRATIONS = """
query ($region: String, $status: [AspirationStatus!], $kimId: ID, $first: Int,
       $after: String) {
  aspirations(region: $region, status: $status, kimId: $kimId, first: $first,
              after: $after) {
    totalCount eventCursor
    pageInfo { hasNextPage endCursor }
    edges { node { title status reporterContact contentWithheld region { code } } }
  }
}
"""

# How to reach each status from SUBMITTED, one step at a time.
PATHS: dict[AspirationStatus, list[AspirationStatus]] = {
    S.SUBMITTED: [],
    S.NEEDS_INFO: [S.NEEDS_INFO],
    S.VERIFIED: [S.VERIFIED],
    S.DISPOSED: [S.VERIFIED, S.DISPOSED],
    S.IN_PROGRESS: [S.VERIFIED, S.DISPOSED, S.IN_PROGRESS],
    S.RESPONDED: [S.VERIFIED, S.DISPOSED, S.IN_PROGRESS, S.RESPONDED],
    S.RESOLVED: [S.VERIFIED, S.DISPOSED, S.IN_PROGRESS, S.RESPONDED, S.RESOLVED],
    S.REJECTED: [S.VERIFIED, S.DISPOSED, S.IN_PROGRESS, S.REJECTED],
    S.NOT_AUTHORIZED: [S.NOT_AUTHORIZED],
    S.DUPLICATE: [S.DUPLICATE],
    S.ARCHIVED: [S.ARCHIVED],
    S.WITHDRAWN: [S.WITHDRAWN],
}


def step_input(cast: Cast, target: AspirationStatus, version: int) -> dict[str, Any]:
    """A transition input that satisfies every guard of any step into target."""
    extras: dict[AspirationStatus, dict[str, Any]] = {
        S.NEEDS_INFO: {
            "note": "Pelapor belum melampirkan foto.",
            "publicNote": "Mohon lampirkan foto lokasi.",
        },
        S.SUBMITTED: {"note": "Foto lokasi sudah dikirim lewat KIM."},
        S.ARCHIVED: {
            "note": "Laporan tidak dapat ditindaklanjuti.",
            "publicNote": "Laporan tidak dapat ditindaklanjuti.",
        },
        S.VERIFIED: {"note": "Bukan kewenangan dinas kami."},
        S.IN_PROGRESS: {"note": "Dikerjakan kembali."},
        S.REJECTED: {
            "note": "Lokasi berada di lahan pribadi.",
            "publicNote": "Lokasi berada di lahan pribadi.",
        },
        S.DISPOSED: {"assignedUnit": "Dinas PUPR"},
        S.RESPONDED: {"publicNote": "Perbaikan dijadwalkan minggu depan."},
        S.NOT_AUTHORIZED: {"publicNote": "Kewenangan Balai Wilayah Sungai."},
        S.DUPLICATE: {
            "duplicateOfId": encode_id("Aspiration", str(cast.home_aspiration.id))
        },
    }
    extra = extras.get(target, {})
    return {"to": target.value, "expectedVersion": version, **extra}


# A resident's report in the home desa, as the submit helpers send it.
SUBMISSION: dict[str, Any] = {
    "region": HOME_DESA,
    "title": "Lampu jalan padam",
    "description": "Lampu jalan di simpang pasar padam seminggu.",
    "category": "INFRASTRUCTURE",
    "reporterName": "Rina Marlina",
    "reporterContact": "0813-4444-9876",
}


async def submit(
    client: httpx.AsyncClient,
    cast: Cast,
    principal: str = "kim_home",
    **fields: Any,
) -> dict[str, Any]:
    """Submit in the home desa; the new aspiration as the payload shows it."""
    body = await execute(
        client,
        MUTATION_ASPIRATION_SUBMIT,
        {"input": SUBMISSION | fields},
        cast.headers[principal],
    )
    payload = body["data"]["aspirationSubmit"]
    assert payload["userErrors"] == [], payload
    aspiration: dict[str, Any] = payload["aspiration"]
    return aspiration


async def transition(
    client: httpx.AsyncClient,
    cast: Cast,
    aspiration_id: str,
    target: AspirationStatus,
    version: int,
    principal: str = "officer_in_scope",
) -> dict[str, Any]:
    """Attempt one step; the whole response body."""
    return await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {"id": aspiration_id, "input": step_input(cast, target, version)},
        cast.headers[principal],
    )


async def aspiration_in(
    client: httpx.AsyncClient, cast: Cast, status: AspirationStatus
) -> tuple[str, int]:
    """A new aspiration of the home KIM walked to status; (id, version)."""
    aspiration = await submit(client, cast)
    aspiration_id, version = aspiration["id"], 1
    for target in PATHS[status]:
        body = await transition(client, cast, aspiration_id, target, version)
        payload = body["data"]["aspirationTransition"]
        assert payload["userErrors"] == [], payload
        version = payload["aspiration"]["version"]
    return aspiration_id, version
