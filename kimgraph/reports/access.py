"""Who may read a region's figures: its ADMIN and OFFICERs, in scope (pure)."""

from __future__ import annotations

from kimgraph.accounts.authorization import in_scope
from kimgraph.accounts.principals import Principal, Role
from kimgraph.errors import ForbiddenError, UnauthenticatedError
from kimgraph.regions.codes import validate


def staff_region(principal: Principal, region: str, what: str) -> str:
    """The region, if principal is an ADMIN or OFFICER over it; raise otherwise.

    Reports and board presence both ask it. A region outside the caller's
    scope is FORBIDDEN (as `aspirations(region:)` answers), not OUT_OF_SCOPE:
    a query has no userErrors to carry one.
    """
    if principal.role is None:
        raise UnauthenticatedError(f"sign in to read {what}")
    if principal.role not in (Role.ADMIN, Role.OFFICER):
        raise ForbiddenError(f"only an ADMIN or an OFFICER may read {what}")
    code = validate(region)
    if not in_scope(principal, code):
        raise ForbiddenError(
            f"region {code} lies outside your region {principal.region_code}"
        )
    return code
