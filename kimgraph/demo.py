"""An obviously fictional demo set, so a newcomer can try every mutation at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from kimgraph import kims, models
from kimgraph.accounts import auth
from kimgraph.accounts.principals import Principal, Role
from kimgraph.clock import Clock

# Four kecamatan of Kabupaten Ketapang, one desa or kelurahan each.
DEMO_KIMS = (
    ("KIM Demo Sampit", "61.04.16.1004"),
    ("KIM Demo Kauman", "61.04.18.1001"),
    ("KIM Demo Sungai Jawi", "61.04.12.2006"),
    ("KIM Demo Tempurukan", "61.04.17.2003"),
)
DEMO_MEMBERS = (
    ("Ketua Fiktif (DEMO)", models.KimRole.KETUA),
    ("Sekretaris Fiktif (DEMO)", models.KimRole.SEKRETARIS),
    ("Bendahara Fiktif (DEMO)", models.KimRole.BENDAHARA),
)
DEMO_DECREE = "DEMO/000/2026"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """An account the demo made, with its fresh password."""

    username: str
    role: Role
    region_code: str
    password: str


@dataclass(frozen=True, slots=True)
class DemoSet:
    """What `kimgraph demo` loaded and the secrets it prints once."""

    kims: list[models.Kim]
    accounts: list[DemoAccount]
    api_key: str


async def load_demo(clock: Clock) -> DemoSet:
    """Create the demo KIM (once) and demo accounts; fresh passwords every time."""
    system = Principal(role=Role.ADMIN, region_code="61.04", display_name="demo")
    demo_kims = []
    for name, region_code in DEMO_KIMS:
        kim = await models.Kim.get_or_none(name=name, region_id=region_code)
        if kim is None:
            kim = await kims.register_kim(
                clock,
                system,
                name=name,
                region_code=region_code,
                decree_number=DEMO_DECREE,
                established_on=date(2018, 5, 2),
                members=[kims.MemberInput(n, r) for n, r in DEMO_MEMBERS],
            )
        demo_kims.append(kim)
    wanted: tuple[tuple[str, Role, str | None, int | None], ...] = (
        ("demo.admin", Role.ADMIN, "61.04", None),
        ("demo.camat.deltapawan", Role.OFFICER, "61.04.16", None),
        ("demo.kim.sampit", Role.KIM, None, demo_kims[0].id),
    )
    accounts = []
    async with in_transaction():
        for username, role, scope, kim_id in wanted:
            password = secrets.token_urlsafe(12)
            await models.Account.filter(username=username).delete()
            account = await auth.create_account(
                clock,
                username=username,
                password=password,
                role=role,
                region_code=scope,
                kim_id=kim_id,
                display_name=f"{username} (DEMO)",
            )
            accounts.append(DemoAccount(username, role, account.region_id, password))
    key, _ = await auth.create_api_key(clock, "Demo partner app (DEMO)", "61.04")
    return DemoSet(kims=demo_kims, accounts=accounts, api_key=key)
