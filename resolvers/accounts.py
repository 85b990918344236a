"""The viewer, sign-in tokens and partner API keys."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph import models
from kimgraph.accounts import api_keys, auth, management, offices, passwords
from kimgraph.accounts.authorization import Action, Decision, decide, enforce, in_scope
from kimgraph.accounts.principals import Role as DomainRole
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, decode_id, key_id, row_id
from kimgraph.errors import invalid
from kimgraph.live.credentials import DEACTIVATED, REVOKED
from kimgraph.regions.codes import validate
from schema.accounts import (
    Account,
    AccountDeactivatePayload,
    AccountOfficeSetPayload,
    AccountPasswordChangeInput,
    AccountPasswordChangePayload,
    AccountPasswordResetPayload,
    AccountReactivatePayload,
    AccountRoleChangeInput,
    AccountRoleChangePayload,
    ApiKey,
    Role,
    TokenCreateInput,
    TokenCreatePayload,
    TokenRevokePayload,
    Viewer,
)
from schema.common import (
    DEFAULT_PAGE_SIZE,
    After,
    Connection,
    First,
    mutation,
    page_size,
)

AccountId = Annotated[
    strawberry.ID, strawberry.argument(description="The account's global id.")
]


def _throttle(info: Info) -> auth.SignInThrottle | None:
    """The sign-in throttle of this app: password changes count against it too."""
    context = info.context
    return context.app_object(
        "sign_in_throttle", lambda: auth.SignInThrottle(context.clock)
    )


async def _close(info: Info, token_ids: list[int], reason: str) -> int:
    """Close this process's sockets of these tokens; how many closed."""
    closed = 0
    for token_id in token_ids:
        closed += await info.context.connections.close_all(("token", token_id), reason)
    return closed


async def account_node(info: Info, type_name: str, key: str) -> Account | None:
    """An account by its global id: to an ADMIN, those in its region."""
    principal = info.context.principal
    number = key_id(key)
    if (
        number is None
        or decide(principal, Action.ACCOUNT_MANAGE, None) is not Decision.ALLOW
    ):
        return None
    row = await models.Account.get_or_none(id=number)
    if row is None or not in_scope(principal, row.region_id):
        return None
    return Account.from_model(row)


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
        rows = await api_keys.list_api_keys(within=validate(str(principal.region_code)))
        return [ApiKey.from_model(row) for row in rows]

    @strawberry.field(
        description="Accounts in the caller's region or below (ADMIN only), oldest "
        "first. Filters combine; a `region` outside the caller's is FORBIDDEN, an "
        "unknown one NOT_FOUND."
    )
    async def accounts(
        self,
        info: Info,
        role: Annotated[
            Role | None, strawberry.argument(description="Only accounts of this role.")
        ] = None,
        region: Annotated[
            str | None,
            strawberry.argument(
                description="Only accounts whose scope is this region or below it; "
                "null for the caller's whole region."
            ),
        ] = None,
        active: Annotated[
            bool | None,
            strawberry.argument(
                description="True: only active accounts; false: only deactivated "
                "ones; null: both."
            ),
        ] = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Account]:
        rows, has_next, total = await management.account_page(
            info.context.principal,
            management.AccountFilter(
                role=DomainRole(role.name) if role is not None else None,
                region=region,
                active=active,
            ),
            decode_cursor(CursorKind.ACCOUNT, after, row_id),
            page_size(first),
        )
        return Account.connection_of(rows, has_next, total)


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
            throttle=_throttle(info),
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

    @mutation(
        "Deactivate an account (ADMIN, within its region): it can no longer sign "
        "in, its tokens are revoked, and its WebSocket connections close (4403): "
        "at once on this server, within the credential-check interval on the "
        "others. The last active ADMIN cannot be deactivated. Again is harmless."
    )
    async def account_deactivate(
        self, info: Info, id: AccountId
    ) -> AccountDeactivatePayload:
        changed = await management.deactivate(
            info.context.clock, info.context.principal, decode_id("Account", id)
        )
        closed = await _close(info, changed.revoked_token_ids, DEACTIVATED)
        return AccountDeactivatePayload(
            account=Account.from_model(changed.account), closed_connections=closed
        )

    @mutation(
        "Let a deactivated account sign in again (ADMIN, within its region); its "
        "old tokens stay revoked. Again is harmless."
    )
    async def account_reactivate(
        self, info: Info, id: AccountId
    ) -> AccountReactivatePayload:
        row = await management.reactivate(
            info.context.clock, info.context.principal, decode_id("Account", id)
        )
        return AccountReactivatePayload(account=Account.from_model(row))

    @mutation(
        "Name the office an account speaks for (ADMIN, within its region): what "
        "`publishedBy` shows on its announcements from now on. Null or blank goes "
        "back to the office derived from its role and region. At most 200 "
        "characters. Its tokens stay valid."
    )
    async def account_office_set(
        self,
        info: Info,
        id: AccountId,
        office: Annotated[
            str | None,
            strawberry.argument(
                description='e.g. "Dinas Pekerjaan Umum"; null: derived'
            ),
        ],
    ) -> AccountOfficeSetPayload:
        row = await offices.set_office(
            info.context.clock, info.context.principal, decode_id("Account", id), office
        )
        return AccountOfficeSetPayload(account=Account.from_model(row))

    @mutation(
        "Give an account a one-time password (ADMIN, within its region) and revoke "
        "its tokens. Until the owner sets a new password with "
        "accountPasswordChange, tokenCreate answers PASSWORD_CHANGE_REQUIRED and "
        "issues no token."
    )
    async def account_password_reset(
        self, info: Info, id: AccountId
    ) -> AccountPasswordResetPayload:
        changed, password = await passwords.reset_password(
            info.context.clock, info.context.principal, decode_id("Account", id)
        )
        closed = await _close(info, changed.revoked_token_ids, REVOKED)
        return AccountPasswordResetPayload(
            account=Account.from_model(changed.account),
            one_time_password=password,
            closed_connections=closed,
        )

    @mutation(
        "Change an account's role, scope or KIM (ADMIN, within its region; the new "
        "scope too). If anything changed, its tokens are revoked and its sockets "
        "closed: it signs in again as what it now is. The last active ADMIN cannot "
        "be demoted."
    )
    async def account_role_change(
        self,
        info: Info,
        id: AccountId,
        input: Annotated[
            AccountRoleChangeInput, strawberry.argument(description="What to change.")
        ],
    ) -> AccountRoleChangePayload:
        kim_given = input.kim is not strawberry.UNSET
        kim_id = None
        if kim_given and input.kim is not None:
            kim_id = decode_id("Kim", input.kim)
            if kim_id is None:
                raise management.no_such_kim()
        changed = await management.change_role(
            info.context.clock,
            info.context.principal,
            decode_id("Account", id),
            management.RoleChange(
                role=DomainRole(input.role.name) if input.role is not None else None,
                region=input.region,
                kim_id=kim_id,
                kim_given=kim_given,
            ),
        )
        closed = await _close(info, changed.revoked_token_ids, REVOKED)
        return AccountRoleChangePayload(
            account=Account.from_model(changed.account), closed_connections=closed
        )

    @mutation(
        "Change one's own password, proven by the current one (after a reset: the "
        "one-time password). Signed in with a token, it changes that account's "
        "password; without one, give `username`. Counted like tokenCreate "
        "(RATE_LIMITED past the same limits). Every older token of the account is "
        "revoked and a new token returned."
    )
    async def account_password_change(
        self,
        info: Info,
        input: Annotated[
            AccountPasswordChangeInput,
            strawberry.argument(description="Current and new password."),
        ],
    ) -> AccountPasswordChangePayload:
        context = info.context
        changed = await passwords.change_password(
            context.clock,
            context.principal,
            username=input.username,
            current_password=input.current_password,
            new_password=input.new_password,
            throttle=_throttle(info),
            client=context.client_address,
        )
        await _close(info, changed.revoked_token_ids, REVOKED)
        return AccountPasswordChangePayload(
            token=changed.token, expires_at=changed.expires_at
        )
