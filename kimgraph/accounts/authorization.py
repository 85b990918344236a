"""The one answer to "may this principal do this action on this region" (pure)."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from kimgraph.accounts.principals import Principal, Role
from kimgraph.errors import ForbiddenError, UnauthenticatedError, out_of_scope
from kimgraph.regions.codes import is_within


class Action(enum.Enum):
    """Everything that needs more than anonymous access."""

    KIM_MANAGE = "manage KIM (register, update, members)"
    ANNOUNCEMENT_PUBLISH = "publish, change or relay announcements"
    API_KEY_READ = "list partner API keys"
    ACCOUNT_MANAGE = "list and manage accounts"
    ASPIRATION_READ = "read aspirations of a region"
    ASPIRATION_HANDLE = "move aspirations through their workflow"
    ASPIRATION_RESPOND = "respond to aspirations"
    ASPIRATION_MODERATE = "moderate aspirations"
    ASPIRATION_REPORTER_KEY = "issue reporter keys"
    AUDIT_READ = "read the audit log"
    UNIT_MANAGE = "list and manage units"
    WEBHOOK_MANAGE = "manage partner webhooks"
    SIGNED_IN = "act as a signed-in caller"


class Decision(enum.Enum):
    """The outcome of an authorization check."""

    ALLOW = "allow"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    OUT_OF_SCOPE = "out of scope"


_ROLES_FOR: dict[Action, frozenset[Role]] = {
    Action.KIM_MANAGE: frozenset({Role.ADMIN, Role.OFFICER}),
    Action.ANNOUNCEMENT_PUBLISH: frozenset({Role.ADMIN, Role.OFFICER, Role.KIM}),
    Action.API_KEY_READ: frozenset({Role.ADMIN}),
    Action.ACCOUNT_MANAGE: frozenset({Role.ADMIN}),
    Action.ASPIRATION_READ: frozenset(Role),
    Action.ASPIRATION_HANDLE: frozenset({Role.ADMIN, Role.OFFICER, Role.KIM}),
    Action.ASPIRATION_RESPOND: frozenset({Role.ADMIN, Role.OFFICER}),
    Action.ASPIRATION_MODERATE: frozenset({Role.ADMIN, Role.OFFICER}),
    Action.ASPIRATION_REPORTER_KEY: frozenset({Role.ADMIN, Role.OFFICER}),
    Action.AUDIT_READ: frozenset({Role.ADMIN}),
    Action.UNIT_MANAGE: frozenset({Role.ADMIN}),
    Action.WEBHOOK_MANAGE: frozenset({Role.ADMIN}),
    Action.SIGNED_IN: frozenset(Role),
}


def decide(principal: Principal, action: Action, region_code: str | None) -> Decision:
    """Whether principal may do action on the region (None: no particular region)."""
    if principal.role is None:
        return Decision.UNAUTHENTICATED
    if principal.role not in _ROLES_FOR[action]:
        return Decision.FORBIDDEN
    if region_code is not None and not in_scope(principal, region_code):
        return Decision.OUT_OF_SCOPE
    return Decision.ALLOW


def is_own_kim(principal: Principal, kim_id: int | None) -> bool:
    """True if principal is the account of this KIM, which manages itself.

    A KIM account updates its own KIM and its members without KIM_MANAGE;
    another KIM, and registering one, stay FORBIDDEN to it.
    """
    return (
        principal.role is Role.KIM and kim_id is not None and principal.kim_id == kim_id
    )


def in_scope(principal: Principal, region_code: str) -> bool:
    """True if the region lies in the principal's subtree."""
    return principal.region_code is not None and is_within(
        region_code, principal.region_code
    )


def enforce(
    principal: Principal,
    action: Action,
    region_code: str | None = None,
    field: Sequence[str] = (),
) -> None:
    """Raise the error the API reports unless principal may do action there."""
    decision = decide(principal, action, region_code)
    if decision is Decision.UNAUTHENTICATED:
        raise UnauthenticatedError(f"sign in to {action.value}")
    if decision is Decision.FORBIDDEN:
        raise ForbiddenError(f"a {principal.role} caller may not {action.value}")
    if decision is Decision.OUT_OF_SCOPE:
        raise out_of_scope(
            f"region {region_code} lies outside your region {principal.region_code}",
            *field,
        )
