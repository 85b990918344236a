"""The KIM registry: register a KIM and change its details (members: members.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.authorization import Action, enforce, is_own_kim
from kimgraph.accounts.principals import Principal
from kimgraph.clock import Clock
from kimgraph.errors import Problem, ProblemCode, UserInputError, invalid, not_found
from kimgraph.kims.offices import missing_offices, office_name
from kimgraph.models import KimRole
from kimgraph.models.regions import RegionLevel
from kimgraph.regions.codes import level_of

LOCAL_ZONE = ZoneInfo("Asia/Pontianak")
KIM_REGION_LEVELS = (RegionLevel.KECAMATAN, RegionLevel.DESA, RegionLevel.KELURAHAN)
MAX_NAME = 200
MAX_DECREE = 100


@dataclass(frozen=True, slots=True)
class MemberInput:
    """A person to add to a KIM."""

    name: str
    role: KimRole


@dataclass(frozen=True, slots=True)
class KimChanges:
    """Fields of kimUpdate; None leaves a field as it is, clear_* empties it."""

    name: str | None = None
    decree_number: str | None = None
    clear_decree_number: bool = False
    established_on: date | None = None
    clear_established_on: bool = False


def check_name(name: str, field: Sequence[str], problems: list[Problem]) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME:
        problems.append(
            Problem(
                ProblemCode.INVALID, f"must have 1-{MAX_NAME} characters", list(field)
            )
        )
    return name


def _check_details(
    clock: Clock,
    decree_number: str | None,
    established_on: date | None,
    problems: list[Problem],
) -> str | None:
    if decree_number is not None:
        decree_number = decree_number.strip() or None
        if decree_number is not None and len(decree_number) > MAX_DECREE:
            problems.append(
                Problem(
                    ProblemCode.INVALID,
                    f"must have at most {MAX_DECREE} characters",
                    ["input", "decreeNumber"],
                )
            )
    today = clock.now().astimezone(LOCAL_ZONE).date()
    if established_on is not None and established_on > today:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "cannot lie in the future",
                ["input", "establishedOn"],
            )
        )
    return decree_number


async def register_kim(
    clock: Clock,
    principal: Principal,
    *,
    name: str,
    region_code: str,
    decree_number: str | None,
    established_on: date | None,
    members: Sequence[MemberInput],
) -> models.Kim:
    """A new KIM with its first members (a ketua, sekretaris and bendahara at least)."""
    enforce(principal, Action.KIM_MANAGE)
    level = level_of(region_code)
    region = await models.Region.get_or_none(code=region_code)
    if region is None:
        raise not_found(
            f"there is no region with code {region_code}", "input", "region"
        )
    enforce(principal, Action.KIM_MANAGE, region_code, ("input", "region"))
    problems: list[Problem] = []
    name = check_name(name, ("input", "name"), problems)
    if level not in KIM_REGION_LEVELS:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "a KIM serves a desa, kelurahan or kecamatan, not a " + level,
                ["input", "region"],
            )
        )
    decree_number = _check_details(clock, decree_number, established_on, problems)
    checked = []
    for index, member in enumerate(members):
        field = ("input", "members", str(index), "name")
        checked.append(
            MemberInput(check_name(member.name, field, problems), member.role)
        )
    problems.extend(
        Problem(
            ProblemCode.INVALID,
            f"a KIM needs a {office_name(office)} among its members",
            ["input", "members"],
        )
        for office in missing_offices(m.role for m in members)
    )
    if sum(1 for m in members if m.role is KimRole.KETUA) > 1:
        problems.append(
            Problem(
                ProblemCode.INVALID, "a KIM has at most one ketua", ["input", "members"]
            )
        )
    if problems:
        raise UserInputError(*problems)
    if await models.Kim.exists(region_id=region_code, name=name):
        raise _name_taken(name)
    now = clock.now()
    async with in_transaction():
        try:
            kim = await models.Kim.create(
                name=name,
                region_id=region_code,
                decree_number=decree_number,
                established_on=established_on,
                created_at=now,
                updated_at=now,
            )
        except IntegrityError:
            # The (region, name) index: another request registered the name
            # since the check above. Raising rolls the transaction back.
            raise _name_taken(name) from None
        for member in checked:
            await models.KimMember.create(
                kim=kim, name=member.name, role=member.role, created_at=now
            )
        await audit.record(
            None,
            principal,
            audit.AuditAction.KIM_REGISTER,
            audit.target("Kim", kim.id),
            {"name": name, "region": region_code, "members": len(checked)},
            at=now,
        )
    return kim


def _name_taken(name: str) -> UserInputError:
    """The answer to a name in use in the region, whichever request noticed it."""
    return invalid(f"a KIM named {name!r} already serves this region", "input", "name")


async def managed_kim(
    principal: Principal, kim_id: int | None, field: str
) -> models.Kim:
    """The KIM to update, or whose members change: in scope, or the caller's own.

    A KIM manages itself (its name, decree, members), never another KIM: that
    one is FORBIDDEN as before. Registering a KIM stays with ADMIN and OFFICER.
    """
    if is_own_kim(principal, kim_id):
        own = await models.Kim.get_or_none(id=kim_id)
        if own is not None:
            return own
    enforce(principal, Action.KIM_MANAGE)
    kim = await models.Kim.get_or_none(id=kim_id) if kim_id is not None else None
    if kim is None:
        raise not_found("there is no such KIM", field)
    enforce(principal, Action.KIM_MANAGE, kim.region_id, (field,))
    return kim


async def update_kim(
    clock: Clock, principal: Principal, kim_id: int | None, changes: KimChanges
) -> models.Kim:
    """Change a KIM's name, decree number or founding date."""
    kim = await managed_kim(principal, kim_id, "id")
    problems: list[Problem] = []
    name = (
        check_name(changes.name, ("input", "name"), problems)
        if changes.name is not None
        else None
    )
    decree_number = _check_details(
        clock, changes.decree_number, changes.established_on, problems
    )
    if problems:
        raise UserInputError(*problems)
    if (
        name is not None
        and name != kim.name
        and await models.Kim.exists(region_id=kim.region_id, name=name)
    ):
        raise _name_taken(name)
    changed: list[str] = []
    if name is not None:
        kim.name = name
        changed.append("name")
    if changes.clear_decree_number or decree_number is not None:
        kim.decree_number = None if changes.clear_decree_number else decree_number
        changed.append("decree_number")
    if changes.clear_established_on or changes.established_on is not None:
        kim.established_on = (
            None if changes.clear_established_on else changes.established_on
        )
        changed.append("established_on")
    kim.updated_at = clock.now()
    try:
        async with in_transaction():
            # Only the fields asked for: two updates of different fields both stay.
            await kim.save(update_fields=[*changed, "updated_at"])
            await audit.record(
                None,
                principal,
                audit.AuditAction.KIM_UPDATE,
                audit.target("Kim", kim.id),
                {"changed": changed, "name": kim.name},
                at=kim.updated_at,
            )
    except IntegrityError:
        # The (region, name) index: another KIM took the name since the check.
        raise _name_taken(kim.name) from None
    await kim.refresh_from_db()
    return kim
