"""A KIM's members: add, hand an office over, remove; its offices stay filled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.principals import Principal
from kimgraph.clock import Clock
from kimgraph.errors import Problem, UserInputError, invalid, not_found
from kimgraph.kims.commands import MemberInput, check_name, managed_kim
from kimgraph.kims.offices import REQUIRED_OFFICES, office_name
from kimgraph.models import KimRole


@dataclass(frozen=True, slots=True)
class Replacing:
    """kimMemberAdd's `replaces`: the member who leaves; None if the id names none."""

    member_id: int | None


async def _lock(kim: models.Kim) -> None:
    """Hold the KIM's row until the transaction ends: its member changes queue.

    On PostgreSQL two removals of the KIM's two sekretaris would each see the
    other still there and both succeed; locking the KIM first makes the second
    wait and see the first's change. SQLite runs one transaction at a time.
    """
    await models.Kim.filter(id=kim.id).select_for_update().only("id")


async def _current(
    kim: models.Kim, member_id: int | None, field: str
) -> models.KimMember:
    """The member of this KIM, read under the lock; NOT_FOUND if gone or elsewhere."""
    member = (
        await models.KimMember.get_or_none(id=member_id, kim_id=kim.id)
        if member_id is not None
        else None
    )
    if member is None:
        raise not_found("there is no such member of this KIM", field)
    return member


async def _keep_office(
    leaving: models.KimMember, incoming: KimRole | None, field: Sequence[str]
) -> None:
    """Refuse to leave an office empty; call under the lock.

    `incoming` is the office of the member taking the leaver's place, if any.
    """
    if leaving.role not in REQUIRED_OFFICES or incoming is leaving.role:
        return
    others = (
        await models.KimMember.filter(kim_id=leaving.kim_id, role=leaving.role)
        .exclude(id=leaving.id)
        .exists()
    )
    if not others:
        office = office_name(leaving.role)
        raise invalid(
            f"{leaving.name} is the KIM's last {office}; hand the office over "
            "first (kimMemberAdd with replaces)",
            *field,
        )


async def _changed(
    kim: models.Kim,
    principal: Principal,
    action: audit.AuditAction,
    member: models.KimMember,
    summary: dict[str, object],
    at: datetime,
) -> None:
    """Mark the KIM changed and write the audit row, in the change's transaction."""
    kim.updated_at = at
    await kim.save(update_fields=["updated_at"])
    await audit.record(
        None, principal, action, audit.target("KimMember", member.id), summary, at=at
    )


async def add_member(
    clock: Clock,
    principal: Principal,
    kim_id: int | None,
    member: MemberInput,
    replacing: Replacing | None = None,
) -> tuple[models.Kim, models.KimMember]:
    """Add a member, in place of `replacing` if given; a second ketua is refused."""
    kim = await managed_kim(principal, kim_id, "kimId")
    problems: list[Problem] = []
    name = check_name(member.name, ("input", "name"), problems)
    if problems:
        raise UserInputError(*problems)
    now = clock.now()
    summary: dict[str, object] = {
        "kim": audit.target("Kim", kim.id).id,
        "name": name,
        "role": member.role,
    }
    try:
        async with in_transaction():
            if replacing is not None:
                await _lock(kim)
                replaced = await _current(kim, replacing.member_id, "replaces")
                await _keep_office(replaced, member.role, ("replaces",))
                # Gone before the insert: the outgoing ketua's row would
                # otherwise trip the one-ketua index its successor needs.
                await replaced.delete()
                summary["replaces"] = {
                    "id": audit.target("KimMember", replaced.id).id,
                    "name": replaced.name,
                    "role": replaced.role,
                }
            row = await models.KimMember.create(
                kim=kim, name=name, role=member.role, created_at=now
            )
            await _changed(
                kim, principal, audit.AuditAction.KIM_MEMBER_ADD, row, summary, now
            )
    except IntegrityError:
        # Only the one-ketua index can refuse this insert.
        raise invalid("this KIM already has a ketua", "input", "role") from None
    return kim, row


async def remove_member(
    clock: Clock, principal: Principal, member_id: int | None
) -> models.Kim:
    """Remove a member from its KIM, unless it is the last holder of an office."""
    member = (
        await models.KimMember.get_or_none(id=member_id)
        if member_id is not None
        else None
    )
    kim = await managed_kim(principal, member.kim_id if member else None, "id")
    async with in_transaction():
        await _lock(kim)
        member = await _current(kim, member_id, "id")
        await _keep_office(member, None, ("id",))
        await member.delete()
        await _changed(
            kim,
            principal,
            audit.AuditAction.KIM_MEMBER_REMOVE,
            member,
            {"kim": audit.target("Kim", kim.id).id, "name": member.name},
            clock.now(),
        )
    return kim
