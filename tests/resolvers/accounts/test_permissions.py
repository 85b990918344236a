"""Every mutation and restricted field against every kind of caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import PRINCIPALS, Cast, officers_input, snapshot

MUTATION_KIM_REGISTER = """
mutation ($input: KimRegisterInput!) {
  kimRegister(input: $input) { kim { name } userErrors { field code message } }
}
"""
MUTATION_KIM_UPDATE = """
mutation ($id: ID!, $input: KimUpdateInput!) {
  kimUpdate(id: $id, input: $input) { kim { name } userErrors { field code message } }
}
"""
MUTATION_KIM_MEMBER_ADD = """
mutation ($kimId: ID!, $input: KimMemberInput!) {
  kimMemberAdd(kimId: $kimId, input: $input) {
    member { name } userErrors { field code message }
  }
}
"""
MUTATION_KIM_MEMBER_REMOVE = """
mutation ($id: ID!) {
  kimMemberRemove(id: $id) { kim { name } userErrors { field code message } }
}
"""
MUTATION_TOKEN_REVOKE = """
mutation { tokenRevoke { revoked userErrors { field code message } } }
"""
QUERY_API_KEYS = "{ apiKeys { name prefix region { code } } }"
MUTATION_ANNOUNCEMENT_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { title } userErrors { field code message }
  }
}
"""
MUTATION_ANNOUNCEMENT_UPDATE = """
mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
  announcementUpdate(id: $id, input: $input) {
    announcement { title } userErrors { field code message }
  }
}
"""
MUTATION_ANNOUNCEMENT_WITHDRAW = """
mutation ($id: ID!) {
  announcementWithdraw(id: $id, reason: "Salah tanggal") {
    announcement { status } userErrors { field code message }
  }
}
"""
MUTATION_ANNOUNCEMENT_RELAY = """
mutation ($id: ID!, $targets: [String!]!) {
  announcementRelay(id: $id, targets: $targets) {
    announcement { title } userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { ticket userErrors { field code message } }
}
"""
MUTATION_ASPIRATION_TRANSITION = """
mutation ($id: ID!, $input: AspirationTransitionInput!) {
  aspirationTransition(id: $id, input: $input) {
    aspiration { status } userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_RESPOND = """
mutation ($id: ID!) {
  aspirationRespond(id: $id, input: {message: "Sedang ditinjau."}) {
    response { message } userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_REPORTER_KEY_REISSUE = """
mutation ($input: AspirationReporterKeyReissueInput!) {
  aspirationReporterKeyReissue(input: $input) {
    aspiration { id } userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_MODERATE = """
mutation ($id: ID!) {
  aspirationModerate(id: $id, input: {hidden: true, reason: "Kata kasar"}) {
    aspiration { hidden } userErrors { field code message }
  }
}
"""
QUERY_ASPIRATIONS = "{ aspirations { totalCount } }"

ALLOW = "allow"
KIM_MANAGERS = {
    "anonymous": "UNAUTHENTICATED",
    "partner": "FORBIDDEN",
    "kim_other_desa": "FORBIDDEN",
    "officer_out_of_scope": "OUT_OF_SCOPE",
    "officer_in_scope": ALLOW,
    "admin": ALLOW,
}

ANNOUNCERS = {
    "anonymous": "UNAUTHENTICATED",
    "partner": "FORBIDDEN",
    "kim_other_desa": "OUT_OF_SCOPE",
    "officer_out_of_scope": "OUT_OF_SCOPE",
    "officer_in_scope": ALLOW,
    "admin": ALLOW,
}

# An aspiration the caller may not read is answered as a missing one.
ASPIRATION_HANDLERS = {
    "anonymous": "UNAUTHENTICATED",
    "partner": "FORBIDDEN",
    "kim_other_desa": "FORBIDDEN",
    "officer_out_of_scope": "NOT_FOUND",
    "officer_in_scope": ALLOW,
    "admin": ALLOW,
}
ASPIRATION_STEPPERS = ANNOUNCERS | {
    "kim_other_desa": "NOT_FOUND",
    "officer_out_of_scope": "NOT_FOUND",
}

Operation = Callable[[Cast], tuple[str, dict[str, Any]]]


def aspiration_id(cast: Cast) -> str:
    return encode_id("Aspiration", str(cast.home_aspiration.id))


def announcement_id(cast: Cast, which: str = "home") -> str:
    row = cast.home_announcement if which == "home" else cast.other_announcement
    return encode_id("Announcement", str(row.id))


OPERATIONS: dict[str, tuple[Operation, dict[str, str]]] = {
    "kimRegister": (
        lambda cast: (
            MUTATION_KIM_REGISTER,
            {
                "input": {
                    "name": "KIM Kali Nilam",
                    "region": "61.04.16.2007",
                    "members": officers_input("Kali Nilam"),
                }
            },
        ),
        KIM_MANAGERS,
    ),
    "kimUpdate": (
        lambda cast: (
            MUTATION_KIM_UPDATE,
            {
                "id": encode_id("Kim", str(cast.home_kim.id)),
                "input": {"name": "KIM Suka Bangun Jaya"},
            },
        ),
        KIM_MANAGERS,
    ),
    "kimMemberAdd": (
        lambda cast: (
            MUTATION_KIM_MEMBER_ADD,
            {
                "kimId": encode_id("Kim", str(cast.home_kim.id)),
                "input": {"name": "Rudi Hartono", "role": "ANGGOTA"},
            },
        ),
        KIM_MANAGERS,
    ),
    "kimMemberRemove": (
        lambda cast: (
            MUTATION_KIM_MEMBER_REMOVE,
            {"id": encode_id("KimMember", str(cast.home_member.id))},
        ),
        KIM_MANAGERS,
    ),
    "tokenRevoke": (
        lambda cast: (MUTATION_TOKEN_REVOKE, {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "partner": "INVALID",
            "kim_other_desa": ALLOW,
            "officer_out_of_scope": ALLOW,
            "officer_in_scope": ALLOW,
            "admin": ALLOW,
        },
    ),
    "announcementPublish": (
        lambda cast: (
            MUTATION_ANNOUNCEMENT_PUBLISH,
            {
                "input": {
                    "title": "Vaksinasi",
                    "body": "Vaksinasi di balai desa.",
                    "category": "HEALTH",
                    "targets": ["61.04.16.2006"],
                }
            },
        ),
        ANNOUNCERS,
    ),
    "announcementUpdate": (
        lambda cast: (
            MUTATION_ANNOUNCEMENT_UPDATE,
            {
                "id": announcement_id(cast),
                "input": {"expectedRevision": 1, "title": "Posyandu (diubah)"},
            },
        ),
        ANNOUNCERS,
    ),
    "announcementWithdraw": (
        lambda cast: (MUTATION_ANNOUNCEMENT_WITHDRAW, {"id": announcement_id(cast)}),
        ANNOUNCERS,
    ),
    "announcementRelay": (
        lambda cast: (
            MUTATION_ANNOUNCEMENT_RELAY,
            {"id": announcement_id(cast, "other"), "targets": ["61.04.16.2006"]},
        ),
        ANNOUNCERS,
    ),
    "aspirationSubmit": (
        lambda cast: (
            MUTATION_ASPIRATION_SUBMIT,
            {
                "input": {
                    "region": "61.04.16.2006",
                    "title": "Sampah menumpuk",
                    "description": "Sampah di TPS belum diangkut.",
                    "category": "ENVIRONMENT",
                }
            },
        ),
        {
            "anonymous": ALLOW,
            "partner": ALLOW,
            "kim_other_desa": "OUT_OF_SCOPE",
            "officer_out_of_scope": ALLOW,
            "officer_in_scope": ALLOW,
            "admin": ALLOW,
        },
    ),
    "aspirationTransition": (
        lambda cast: (
            MUTATION_ASPIRATION_TRANSITION,
            {
                "id": aspiration_id(cast),
                "input": {"to": "VERIFIED", "expectedVersion": 1},
            },
        ),
        ASPIRATION_STEPPERS,
    ),
    "aspirationRespond": (
        lambda cast: (MUTATION_ASPIRATION_RESPOND, {"id": aspiration_id(cast)}),
        ASPIRATION_HANDLERS,
    ),
    "aspirationModerate": (
        lambda cast: (MUTATION_ASPIRATION_MODERATE, {"id": aspiration_id(cast)}),
        ASPIRATION_HANDLERS,
    ),
    "aspirationReporterKeyReissue": (
        lambda cast: (
            MUTATION_ASPIRATION_REPORTER_KEY_REISSUE,
            {"input": {"id": aspiration_id(cast), "reason": "Kunci hilang"}},
        ),
        ASPIRATION_HANDLERS,
    ),
    "aspirations": (
        lambda cast: (QUERY_ASPIRATIONS, {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "partner": ALLOW,
            "kim_other_desa": ALLOW,
            "officer_out_of_scope": ALLOW,
            "officer_in_scope": ALLOW,
            "admin": ALLOW,
        },
    ),
    "apiKeys": (
        lambda cast: (QUERY_API_KEYS, {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "partner": "FORBIDDEN",
            "kim_other_desa": "FORBIDDEN",
            "officer_out_of_scope": "FORBIDDEN",
            "officer_in_scope": "FORBIDDEN",
            "admin": ALLOW,
        },
    ),
}

CASES = [
    pytest.param(operation, principal, id=f"{operation}-{principal}")
    for operation in OPERATIONS
    for principal in PRINCIPALS
]


def outcome(body: dict[str, Any], field: str) -> str:
    """allow, a top-level error code, or the single userErrors code."""
    if body.get("errors"):
        assert len(body["errors"]) == 1, body
        return str(body["errors"][0]["extensions"]["code"])
    result = body["data"][field]
    if isinstance(result, dict) and result.get("userErrors"):
        assert len(result["userErrors"]) == 1, result
        return str(result["userErrors"][0]["code"])
    return ALLOW


@pytest.mark.parametrize(("operation", "principal"), CASES)
async def test_permission_matrix(
    client: httpx.AsyncClient, cast: Cast, operation: str, principal: str
) -> None:
    # given
    build, expected = OPERATIONS[operation]
    query, variables = build(cast)
    before = await snapshot()
    # when
    body = await execute(client, query, variables, headers=cast.headers[principal])
    # then
    assert outcome(body, operation) == expected[principal], body
    after = await snapshot()
    if expected[principal] == ALLOW:
        if query.lstrip().startswith("mutation"):
            assert after != before
    else:
        assert after == before


async def test_denials_say_why(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    query, variables = OPERATIONS["kimUpdate"][0](cast)
    # when
    bodies = {
        principal: await execute(client, query, variables, cast.headers[principal])
        for principal in ("anonymous", "partner", "officer_out_of_scope")
    }
    # then
    assert bodies["anonymous"]["errors"][0]["message"] == (
        "sign in to manage KIM (register, update, members)"
    )
    assert bodies["partner"]["errors"][0]["message"] == (
        "a PARTNER caller may not manage KIM (register, update, members)"
    )
    assert bodies["officer_out_of_scope"]["data"]["kimUpdate"] == {
        "kim": None,
        "userErrors": [
            {
                "field": ["id"],
                "code": "OUT_OF_SCOPE",
                "message": "region 61.04.16.2006 lies outside your region 61.04.18",
            }
        ],
    }


QUERY_ME = "{ me { role username displayName scope { code } kim { name } } }"


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("anonymous", None),
        (
            "partner",
            {
                "role": "PARTNER",
                "username": None,
                "displayName": "Aplikasi Layanan Publik",
                "scope": {"code": "61.04"},
                "kim": None,
            },
        ),
        (
            "kim_other_desa",
            {
                "role": "KIM",
                "username": "kim_padang",
                "displayName": "Kim Padang",
                "scope": {"code": "61.04.18.2003"},
                "kim": {"name": "KIM Padang"},
            },
        ),
        (
            "officer_in_scope",
            {
                "role": "OFFICER",
                "username": "camat_delta_pawan",
                "displayName": "Camat Delta Pawan",
                "scope": {"code": "61.04.16"},
                "kim": None,
            },
        ),
    ],
)
async def test_me_describes_the_caller(
    client: httpx.AsyncClient, cast: Cast, principal: str, expected: Any
) -> None:
    body = await execute(client, QUERY_ME, headers=cast.headers[principal])
    assert body == {"data": {"me": expected}}
