"""The cast of the permission tests: one principal of each kind, with credentials."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import date

from tortoise.models import Model

from kimgraph import announcements, aspirations, kims, models
from kimgraph.accounts import api_keys, auth
from kimgraph.accounts.principals import Principal, Role
from kimgraph.clock import Clock
from kimgraph.kims.offices import REQUIRED_OFFICES

PASSWORD = "correct horse battery"
ROOT = Principal(role=Role.ADMIN, region_code="61", display_name="test setup")

# Delta Pawan (61.04.16) is "in scope"; Benua Kayong (61.04.18) is elsewhere.
HOME_DESA = "61.04.16.2006"
OTHER_DESA = "61.04.18.2003"
# The home KIM's ANGGOTA: the member the tests remove (its officers must stay).
HOME_MEMBER = "Agus Salim"
# Personal data that must surface only where the personal-data rule allows.
REPORTER_CONTACT = "0812-5550-1234"


def officers(kim: str) -> list[kims.MemberInput]:
    """The three offices every KIM is registered with, held by made-up names."""
    return [
        kims.MemberInput(f"{role.value.title()} {kim}", role)
        for role in REQUIRED_OFFICES
    ]


def officers_input(kim: str) -> list[dict[str, str]]:
    """officers(kim) as kimRegister's `members` input."""
    return [{"name": m.name, "role": m.role.value} for m in officers(kim)]


async def nobody_listens(position: int, /) -> None:
    """The doorbell of setup and of domain-level tests: no hub follows the log."""


@functools.cache
def password_hash() -> str:
    """One argon2 hash for every test account: hashing is slow on purpose."""
    return auth._hasher.hash(PASSWORD)


@dataclass(frozen=True)
class Cast:
    """Credentials by principal name, and the objects the tests act on."""

    headers: dict[str, dict[str, str]]
    home_kim: models.Kim
    other_kim: models.Kim
    home_member: models.KimMember  # an ANGGOTA, free to leave
    home_announcement: models.Announcement
    other_announcement: models.Announcement
    # Collected by KIM Suka Bangun, whose account signs in as "kim_home".
    home_aspiration: models.Aspiration
    # The reporter key aspirationSubmit handed out for home_aspiration.
    home_reporter_key: str


PRINCIPALS = (
    "anonymous",
    "partner",
    "kim_other_desa",
    "officer_out_of_scope",
    "officer_in_scope",
    "admin",
)


async def _account(
    clock: Clock, username: str, role: Role, region: str, kim_id: int | None = None
) -> str:
    account = await models.Account.create(
        username=username,
        display_name=username.replace("_", " ").title(),
        password_hash=password_hash(),
        role=role,
        region_id=region,
        kim_id=kim_id,
        created_at=clock.now(),
    )
    # Minted directly: tokenCreate's argon2 check is tested on its own, and
    # running it for every principal of every test would only slow CI.
    token = auth.TOKEN_PREFIX + secrets.token_urlsafe(32)
    await models.AccessToken.create(
        account=account,
        token_hash=auth.digest(token),
        created_at=clock.now(),
        expires_at=clock.now() + auth.TOKEN_TTL,
    )
    return token


async def make_cast(clock: Clock) -> Cast:
    """KIM in two kecamatan, and a principal of every kind."""
    home_kim = await kims.register_kim(
        clock,
        ROOT,
        name="KIM Suka Bangun",
        region_code=HOME_DESA,
        decree_number="470/kominfo-b/2018",
        established_on=date(2018, 5, 2),
        members=[
            kims.MemberInput("Siti Aminah", models.KimRole.KETUA),
            kims.MemberInput("Yusuf Hamdani", models.KimRole.SEKRETARIS),
            kims.MemberInput("Nur Aini", models.KimRole.BENDAHARA),
            kims.MemberInput(HOME_MEMBER, models.KimRole.ANGGOTA),
        ],
    )
    other_kim = await kims.register_kim(
        clock,
        ROOT,
        name="KIM Padang",
        region_code=OTHER_DESA,
        decree_number=None,
        established_on=None,
        members=officers("Padang"),
    )
    home_member = await models.KimMember.get(kim_id=home_kim.id, name=HOME_MEMBER)
    home_announcement = (
        await announcements.publish(
            clock,
            nobody_listens,
            ROOT,
            announcements.Draft(
                title="Posyandu Suka Bangun",
                body="Posyandu balita hari Sabtu pukul 08.00 WIB.",
                category=models.AnnouncementCategory.HEALTH,
                targets=[HOME_DESA],
            ),
        )
    ).announcement
    other_announcement = (
        await announcements.publish(
            clock,
            nobody_listens,
            ROOT,
            announcements.Draft(
                title="Gotong royong Padang",
                body="Kerja bakti membersihkan parit.",
                category=models.AnnouncementCategory.SOCIAL,
                targets=[OTHER_DESA],
            ),
        )
    ).announcement
    key, _ = await api_keys.create_api_key(clock, "Aplikasi Layanan Publik", "61.04")
    submitted = await aspirations.submit(
        clock,
        nobody_listens,
        ROOT,
        aspirations.Submission(
            region=HOME_DESA,
            title="Jalan berlubang di RT 03",
            description="Jalan utama desa berlubang sejak musim hujan.",
            category=models.AspirationCategory.INFRASTRUCTURE,
            reporter_name="Budi Santoso",
            reporter_contact=REPORTER_CONTACT,
            kim_id=home_kim.id,
        ),
    )
    home_aspiration = submitted.aspiration
    assert submitted.reporter_key is not None
    tokens = {
        "kim_home": await _account(
            clock, "kim_suka_bangun", Role.KIM, HOME_DESA, home_kim.id
        ),
        "kim_other_desa": await _account(
            clock, "kim_padang", Role.KIM, OTHER_DESA, other_kim.id
        ),
        "officer_out_of_scope": await _account(
            clock, "camat_benua_kayong", Role.OFFICER, "61.04.18"
        ),
        "officer_in_scope": await _account(
            clock, "camat_delta_pawan", Role.OFFICER, "61.04.16"
        ),
        "admin": await _account(clock, "diskominfo", Role.ADMIN, "61.04"),
    }
    headers = {name: {"authorization": f"Bearer {t}"} for name, t in tokens.items()}
    headers["partner"] = {"authorization": f"Bearer {key}"}
    headers["anonymous"] = {}
    return Cast(
        headers,
        home_kim,
        other_kim,
        home_member,
        home_announcement,
        other_announcement,
        home_aspiration,
        submitted.reporter_key,
    )


async def snapshot() -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables people can change, to prove a denial changed nothing."""
    tables: dict[str, type[Model]] = {
        "kim": models.Kim,
        "kim_member": models.KimMember,
        "account": models.Account,
        "access_token": models.AccessToken,
        "api_key": models.ApiKey,
        "announcement": models.Announcement,
        "announcement_target": models.AnnouncementTarget,
        "aspiration": models.Aspiration,
        "aspiration_transition": models.AspirationTransition,
        "aspiration_response": models.AspirationResponse,
        "event": models.Event,
        "timer": models.Timer,
    }
    result = {}
    for name, model in tables.items():
        rows = await model.all().order_by("id").values_list()
        result[name] = [tuple(row) for row in rows]
    return result
