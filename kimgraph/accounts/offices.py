"""The office an account speaks for: what `publishedBy` and the board's "Dari …" show.

An announcement is published by an office (Kantor Kecamatan Delta Pawan,
Diskominfo Kabupaten Ketapang, a KIM), never by a login such as
`demo.camat.deltapawan`. An ADMIN may name an account's office; unnamed, it is
derived from the account's role and region (docs/domain.md, "Offices").
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts import management
from kimgraph.accounts.principals import Principal, Role
from kimgraph.clock import Clock
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.models.regions import RegionLevel

MAX_OFFICE = 200
# The office of an OFFICER or ADMIN by the level of the region it serves.
_BY_LEVEL = {
    RegionLevel.DESA: "Kantor Desa {name}",
    RegionLevel.KELURAHAN: "Kantor Kelurahan {name}",
    RegionLevel.KECAMATAN: "Kantor Kecamatan {name}",
    RegionLevel.KABUPATEN: "Diskominfo {name}",
    RegionLevel.KOTA: "Diskominfo {name}",
    RegionLevel.PROVINSI: "Diskominfo Provinsi {name}",
}


async def derived_office(
    role: Role, region_code: str, kim_id: int | None, account_id: int | None = None
) -> str:
    """The office of an account nobody named one for.

    An OFFICER that belongs to exactly one active unit speaks for that unit
    (a dinas); in none or several, for the office of the region it serves
    (docs/domain.md, "Offices").
    """
    if role is Role.KIM and kim_id is not None:
        kim = await models.Kim.get_or_none(id=kim_id).only("id", "name")
        if kim is not None:
            return kim.name
    if role is Role.OFFICER and account_id is not None:
        units = (
            await models.Unit.filter(
                members__account_id=account_id, archived_at__isnull=True
            )
            .limit(2)
            .values_list("name", flat=True)
        )
        if len(units) == 1:
            return str(units[0])
    region = await models.Region.get(code=region_code).only("code", "name", "level")
    return _BY_LEVEL[RegionLevel(region.level)].format(name=region.name)


async def office_of(principal: Principal) -> str:
    """Who a principal's announcements are from; its display name without an account."""
    if principal.account_id is None:
        return principal.display_name
    account = await models.Account.get_or_none(id=principal.account_id)
    if account is None:
        return principal.display_name
    return await account_office(account)


async def account_office(account: models.Account) -> str:
    """The account's named office, or the derived one."""
    if account.office:
        return account.office
    return await derived_office(
        Role(account.role), account.region_id, account.kim_id, account.id
    )


def checked_office(office: str | None, field: str = "office") -> str | None:
    """A named office, trimmed to one line; None (back to derived) for blank."""
    if office is None:
        return None
    line = " ".join(office.split())
    if not line:
        return None
    if len(line) > MAX_OFFICE:
        raise UserInputError(
            Problem(
                ProblemCode.INVALID,
                f"an office is at most {MAX_OFFICE} characters",
                [field],
            )
        )
    return line


async def set_office(
    clock: Clock,
    principal: Principal | None,
    account_id: int | None,
    office: str | None,
) -> models.Account:
    """Name the office an account speaks for (None: derive it); ADMIN or the CLI.

    The audit row holds the named office before and after, null for derived;
    the same office again is recorded with both equal (docs/audit.md).
    """
    # The account checked against the actor's scope, as every account command.
    account = await management.target_account(principal, account_id)
    named = checked_office(office)
    before = account.office or None
    async with in_transaction() as conn:
        account.office = named
        await account.save(update_fields=["office"], using_db=conn)
        await audit.record(
            conn,
            principal,
            audit.AuditAction.ACCOUNT_OFFICE_SET,
            audit.target("Account", account.id),
            {"office": [before, named]},
            at=clock.now(),
        )
    return account
