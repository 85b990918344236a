"""The viewer, sign-in tokens and partner API keys."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph.accounts import auth
from kimgraph.accounts.authorization import Action, enforce
from kimgraph.context import Info
from kimgraph.errors import invalid
from kimgraph.regions.codes import validate
from schema.accounts import (
    ApiKey,
    TokenCreateInput,
    TokenCreatePayload,
    TokenRevokePayload,
    Viewer,
)
from schema.common import mutation


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in caller; null when anonymous.")
    def me(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        return None if principal.is_anonymous else Viewer(principal=principal)

    @strawberry.field(
        description="Partner API keys in the caller's region (ADMIN only), revoked "
        "ones included, oldest first."
    )
    async def api_keys(self, info: Info) -> list[ApiKey]:
        principal = info.context.principal
        enforce(principal, Action.API_KEY_READ)
        rows = await auth.list_api_keys(within=validate(str(principal.region_code)))
        return [ApiKey.from_model(row) for row in rows]


@strawberry.type
class AccountMutations:
    @mutation(
        "Sign in: exchange a username and password for a bearer token. Every "
        "attempt is counted before the password is checked: per client address (an "
        "IPv6 /64), per username and address, and per username from all addresses; "
        "past a limit the answer is RATE_LIMITED (over HTTP: status 429 with "
        "Retry-After). Once a username's own limit is spent, each address may still "
        "try it 3 times an hour, so its owner can sign in from an address that has "
        "not failed. A successful sign-in is not counted."
    )
    async def token_create(
        self,
        info: Info,
        input: Annotated[
            TokenCreateInput, strawberry.argument(description="Username and password.")
        ],
    ) -> TokenCreatePayload:
        context = info.context
        token, row = await auth.issue_token(
            context.clock,
            input.username,
            input.password,
            throttle=context.app_object(
                "sign_in_throttle", lambda: auth.SignInThrottle(context.clock)
            ),
            client=context.client_address,
        )
        return TokenCreatePayload(token=token, expires_at=row.expires_at)

    @mutation(
        "Sign out: revoke the bearer token of this request and close the "
        "WebSocket connections it opened (code 4403)."
    )
    async def token_revoke(self, info: Info) -> TokenRevokePayload:
        principal = info.context.principal
        enforce(principal, Action.SIGNED_IN)
        if principal.token_id is None:
            raise invalid(
                "this request was not signed in with a token; API keys are "
                "revoked with `kimgraph apikeys revoke`"
            )
        revoked = await auth.revoke_token(info.context.clock, principal.token_id)
        closed = await info.context.connections.close_all(
            ("token", principal.token_id), "token revoked"
        )
        return TokenRevokePayload(revoked=revoked, closed_connections=closed)
