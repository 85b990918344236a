"""Who may read what of an aspiration: content, personal data, internal notes (pure).

The personal-data rule (UU PDP 27/2022; docs/domain.md) lives here and only here:
the reporter's name and contact reach the reporter's KIM, officers whose scope
holds the aspiration, the members of the unit it is disposed to (unless it is
ANONYMOUS) and admins; no event, partner or public view carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kimgraph import models
from kimgraph.accounts.authorization import in_scope
from kimgraph.accounts.principals import ANONYMOUS, Principal, Role
from kimgraph.aspirations.workflow import acts_as_unit
from kimgraph.models import AspirationVisibility

WITHHELD_CONFIDENTIAL = "(rahasia)"
"""Title and description of a CONFIDENTIAL aspiration in a public or partner view."""
WITHHELD_HIDDEN = "(disembunyikan moderator)"
"""Title and description of a hidden aspiration in a public or partner view."""


@dataclass(frozen=True, slots=True)
class Access:
    """What one viewer may read of one aspiration."""

    # Title, description and responses; without it they read as a placeholder.
    content: bool
    # The reporter's name and contact.
    personal_data: bool
    # Internal notes of transitions and internal responses.
    internal: bool

    def for_events(self) -> Access:
        """The same view without personal data and internal text.

        Events never carry either, for anyone: internal notes are free text
        where a reporter's phone number is easily written down.
        """
        return replace(self, personal_data=False, internal=False)

    def capped_by(self, other: Access) -> Access:
        """This view with no right that other lacks (for linked aspirations)."""
        return Access(
            content=self.content,
            personal_data=self.personal_data and other.personal_data,
            internal=self.internal and other.internal,
        )


FULL = Access(content=True, personal_data=True, internal=True)


def content_is_public(row: models.Aspiration) -> bool:
    """Whether anyone may read the content: not CONFIDENTIAL and not hidden."""
    return row.visibility is not AspirationVisibility.CONFIDENTIAL and not row.hidden


def public_access(row: models.Aspiration) -> Access:
    """The view of anyone: a ticket follower, a partner app, another KIM."""
    return Access(content=content_is_public(row), personal_data=False, internal=False)


def is_reporters_kim(principal: Principal, row: models.Aspiration) -> bool:
    """Whether principal signs in for the KIM that collected the aspiration."""
    return (
        principal.role is Role.KIM
        and row.kim_id is not None
        and principal.kim_id == row.kim_id
    )


def is_staff_over(principal: Principal, region_code: str) -> bool:
    """Whether principal is an admin or officer whose scope holds the region."""
    return principal.role in (Role.ADMIN, Role.OFFICER) and in_scope(
        principal, region_code
    )


def access_for(principal: Principal, row: models.Aspiration) -> Access | None:
    """What principal may read of the aspiration; None: it is out of reach."""
    if acts_as_unit(principal, row.unit_id):
        # The unit handles it wherever its members' scope lies; as LAPOR!'s
        # "anonim", an ANONYMOUS reporter stays unnamed to it.
        anonymous = row.visibility is AspirationVisibility.ANONYMOUS
        return Access(content=True, personal_data=not anonymous, internal=True)
    if is_staff_over(principal, row.region_id):
        return FULL
    if is_reporters_kim(principal, row):
        return Access(content=True, personal_data=True, internal=False)
    if principal.role in (Role.KIM, Role.PARTNER) and in_scope(
        principal, row.region_id
    ):
        return public_access(row)
    return None


def event_view(principal: Principal) -> Principal | None:
    """Who stands for principal in a shared aspirationEvents run; None: nobody.

    access_for and every field an event reaches (the announcements a region
    shows, a unit's members) read of a partner key only its role and region,
    and nothing of an anonymous caller: every key of one region sees the same
    events, and one run serves them all (docs/live-delivery.md, "Shared
    subscriptions"). Accounts see by who they are (their KIM, their units,
    their own announcements) and run on their own.
    """
    if principal == ANONYMOUS:
        return ANONYMOUS
    if (
        principal.role is Role.PARTNER
        and principal.account_id is None
        and principal.kim_id is None
        and not principal.unit_ids
    ):
        return Principal(
            role=Role.PARTNER,
            region_code=principal.region_code,
            display_name=f"partner keys of {principal.region_code}",
        )
    return None


def withheld_text(row: models.Aspiration) -> str:
    """What a viewer without content access reads instead of title and description."""
    return WITHHELD_HIDDEN if row.hidden else WITHHELD_CONFIDENTIAL


def response_visible(access: Access, response: models.AspirationResponse) -> bool:
    """Whether a viewer with this access may read a response."""
    return access.internal or (response.public and access.content)
