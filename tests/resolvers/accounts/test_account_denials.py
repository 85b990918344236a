"""Every ADMIN account operation refused to every other caller, changing nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, snapshot
from tests.resolvers.accounts.test_account_admin import (
    MUTATION_ACCOUNT_DEACTIVATE,
    MUTATION_ACCOUNT_PASSWORD_RESET,
    MUTATION_ACCOUNT_REACTIVATE,
    MUTATION_ACCOUNT_ROLE_CHANGE,
    QUERY_ACCOUNTS,
)

OPERATIONS = {
    "accounts": (QUERY_ACCOUNTS, {}),
    "accountDeactivate": (MUTATION_ACCOUNT_DEACTIVATE, {}),
    "accountReactivate": (MUTATION_ACCOUNT_REACTIVATE, {}),
    "accountPasswordReset": (MUTATION_ACCOUNT_PASSWORD_RESET, {}),
    "accountRoleChange": (MUTATION_ACCOUNT_ROLE_CHANGE, {"input": {"role": "ADMIN"}}),
}
REFUSED = {
    "anonymous": ("sign in to list and manage accounts", "UNAUTHENTICATED"),
    "partner": ("a PARTNER caller may not list and manage accounts", "FORBIDDEN"),
    "kim_home": ("a KIM caller may not list and manage accounts", "FORBIDDEN"),
    "kim_other_desa": ("a KIM caller may not list and manage accounts", "FORBIDDEN"),
    "officer_in_scope": (
        "a OFFICER caller may not list and manage accounts",
        "FORBIDDEN",
    ),
    "officer_out_of_scope": (
        "a OFFICER caller may not list and manage accounts",
        "FORBIDDEN",
    ),
}


@pytest.mark.parametrize("principal", sorted(REFUSED))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_only_an_admin_manages_accounts(
    client: httpx.AsyncClient, cast: Cast, operation: str, principal: str
) -> None:
    # given: the target is the caller's own account where it has one
    query, extra = OPERATIONS[operation]
    target = await models.Account.get(username="camat_delta_pawan")
    variables: dict[str, Any] = {"id": encode_id("Account", target.id)} | extra
    if operation == "accounts":
        variables = {}
    before = await snapshot()
    # when
    body = await execute(client, query, variables, cast.headers[principal])
    # then
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        REFUSED[principal]
    ]
    assert await snapshot() == before


async def test_a_partner_key_cannot_change_a_password(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    before = await snapshot()
    # when
    body = await execute(
        client,
        """
        mutation ($input: AccountPasswordChangeInput!) {
          accountPasswordChange(input: $input) { token userErrors { code } }
        }
        """,
        {"input": {"currentPassword": "x" * 12, "newPassword": "y" * 12}},
        cast.headers["partner"],
    )
    # then
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("a PARTNER caller may not change an account password", "FORBIDDEN")
    ]
    assert await snapshot() == before
