"""An obviously fictional demo set, so a newcomer can try every screen at once.

Running it again replaces the demo credentials (new passwords; the demo
accounts' tokens and the demo partner key are deleted, so they stop working)
and adds no content twice: its announcements and aspirations are recognised by
their fixed titles, all marked "(DEMO)". An announcement is published again
only when none with its title is showing (ACTIVE or scheduled): the EMERGENCY
one, which expires 10 minutes after it is published, comes back as a new
announcement on a run after that; the expired one stays in the history.

Content goes through the domain commands in their event-log transactions, so
open subscriptions get it like any other change (docs/live-delivery.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.transactions import in_transaction

from kimgraph import announcements, aspirations, kims, models
from kimgraph.accounts import api_keys, auth
from kimgraph.accounts.principals import ANONYMOUS, Principal, Role
from kimgraph.clock import Clock
from kimgraph.events.bus import Doorbell
from kimgraph.models import (
    AnnouncementCategory,
    AnnouncementPriority,
    AspirationCategory,
    AspirationVisibility,
)

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
DEMO_KEY_NAME = "Demo partner app (DEMO)"
DEMO_KEY_REGION = "61.04"
# Kelurahan Sampit: its board shows every demo announcement (desa, kecamatan,
# kabupaten and the EMERGENCY one).
DEMO_BOARD = "61.04.16.1004"
EMERGENCY_LIFETIME = timedelta(minutes=10)

ADMIN, OFFICER, KIM = "demo.admin", "demo.camat.deltapawan", "demo.kim.sampit"


@dataclass(frozen=True, slots=True)
class DemoAnnouncement:
    """One announcement the demo shows, and who publishes it."""

    publisher: str
    title: str
    body: str
    category: AnnouncementCategory
    target: str
    priority: AnnouncementPriority = AnnouncementPriority.NORMAL
    lifetime: timedelta | None = None


DEMO_ANNOUNCEMENTS = (
    DemoAnnouncement(
        OFFICER,
        "Peringatan banjir rob (DEMO)",
        "Contoh pengumuman darurat, fiktif: air pasang tinggi diperkirakan malam "
        "ini di Kecamatan Delta Pawan. Amankan dokumen dan barang berharga. "
        "Pengumuman ini berakhir 10 menit setelah diterbitkan.",
        AnnouncementCategory.DISASTER,
        "61.04.16",
        AnnouncementPriority.EMERGENCY,
        EMERGENCY_LIFETIME,
    ),
    DemoAnnouncement(
        ADMIN,
        "Perekaman KTP elektronik keliling (DEMO)",
        "Contoh pengumuman kabupaten, fiktif: Disdukcapil membuka perekaman KTP "
        "elektronik keliling di setiap kantor camat. Bawa kartu keluarga.",
        AnnouncementCategory.GOVERNMENT,
        "61.04",
    ),
    DemoAnnouncement(
        OFFICER,
        "Posyandu balita bulan ini (DEMO)",
        "Contoh pengumuman kecamatan, fiktif: posyandu balita buka setiap Selasa "
        "pukul 08.00-11.00 WIB di puskesmas pembantu terdekat.",
        AnnouncementCategory.HEALTH,
        "61.04.16",
    ),
    DemoAnnouncement(
        KIM,
        "Kerja bakti hari Minggu (DEMO)",
        "Contoh pengumuman kelurahan, fiktif: kerja bakti membersihkan parit "
        "hari Minggu pukul 07.00 WIB, berkumpul di kantor lurah.",
        AnnouncementCategory.EVENT,
        DEMO_BOARD,
    ),
)


@dataclass(frozen=True, slots=True)
class DemoAspiration:
    """One aspiration the demo submits; by KIM on a resident's behalf or not."""

    title: str
    description: str
    category: AspirationCategory
    region: str
    visibility: AspirationVisibility
    via_kim: bool = False
    reporter_name: str | None = None


DEMO_ASPIRATIONS = (
    DemoAspiration(
        "Lampu jalan padam di Jalan Merdeka (DEMO)",
        "Contoh aspirasi warga, fiktif: tiga lampu jalan padam sejak seminggu.",
        AspirationCategory.INFRASTRUCTURE,
        "61.04.16.2006",
        AspirationVisibility.PUBLIC,
    ),
    DemoAspiration(
        "Jadwal pengambilan sampah (DEMO)",
        "Contoh aspirasi lewat KIM, fiktif: sampah di RT 03 belum diangkut.",
        AspirationCategory.ENVIRONMENT,
        DEMO_BOARD,
        AspirationVisibility.CONFIDENTIAL,
        via_kim=True,
        reporter_name="Warga Fiktif (DEMO)",
    ),
)


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
    # Every demo announcement now showing, in DEMO_ANNOUNCEMENTS order.
    announcements: list[models.Announcement]
    # The ids of those this run published (the others were already showing).
    published: set[int]
    aspirations: list[models.Aspiration]


async def load_demo(clock: Clock, doorbell: Doorbell) -> DemoSet:
    """Create what is missing of the demo set; fresh credentials every time."""
    demo_kims = await _kims(clock)
    accounts = await _accounts(clock, demo_kims[0].id)
    key = await _api_key(clock)
    principals = {
        row.username: auth.account_principal(row)
        for row in await models.Account.filter(username__in=[ADMIN, OFFICER, KIM])
    }
    shown, published = [], set()
    for item in DEMO_ANNOUNCEMENTS:
        row = await _showing(clock, item.title)
        if row is None:
            row = await _publish(clock, doorbell, principals[item.publisher], item)
            published.add(row.id)
        shown.append(row)
    submitted = []
    for wish in DEMO_ASPIRATIONS:
        found = await models.Aspiration.filter(title=wish.title).order_by("id").first()
        if found is None:
            who = principals[KIM] if wish.via_kim else ANONYMOUS
            found = await _submit(clock, doorbell, who, wish)
        submitted.append(found)
    return DemoSet(demo_kims, accounts, key, shown, published, submitted)


async def _kims(clock: Clock) -> list[models.Kim]:
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
    return demo_kims


async def _accounts(clock: Clock, kim_id: int) -> list[DemoAccount]:
    """The three demo accounts with new passwords and none of their old tokens.

    An existing account keeps its id, so the announcements and aspirations it
    made stay its own (deleting it would leave them without a publisher).
    """
    wanted: tuple[tuple[str, Role, str, int | None], ...] = (
        (ADMIN, Role.ADMIN, "61.04", None),
        (OFFICER, Role.OFFICER, "61.04.16", None),
        (KIM, Role.KIM, DEMO_BOARD, kim_id),
    )
    accounts = []
    async with in_transaction():
        for username, role, scope, kim in wanted:
            password = secrets.token_urlsafe(12)
            display_name = f"{username} (DEMO)"
            account = await models.Account.get_or_none(username=username)
            if account is None:
                account = await auth.create_account(
                    clock,
                    username=username,
                    password=password,
                    role=role,
                    region_code=scope,
                    kim_id=kim,
                    display_name=display_name,
                )
            else:
                await models.AccessToken.filter(account_id=account.id).delete()
                await models.Account.filter(id=account.id).update(
                    password_hash=await auth.hash_password(password),
                    role=role,
                    region_id=scope,
                    kim_id=kim,
                    display_name=display_name,
                    is_active=True,
                    deactivated_at=None,
                    must_change_password=False,
                )
            accounts.append(DemoAccount(username, role, scope, password))
    return accounts


async def _api_key(clock: Clock) -> str:
    """A new demo partner key; the old ones are deleted, so they stop working."""
    async with in_transaction():
        await models.ApiKey.filter(name=DEMO_KEY_NAME).delete()
        key, _ = await api_keys.create_api_key(clock, DEMO_KEY_NAME, DEMO_KEY_REGION)
    return key


async def _showing(clock: Clock, title: str) -> models.Announcement | None:
    """The newest announcement of this title that is ACTIVE or scheduled, if any."""
    now = clock.now()
    rows = await models.Announcement.filter(title=title).order_by("-id")
    showing = (announcements.Status.ACTIVE, announcements.Status.SCHEDULED)
    return next(
        (row for row in rows if announcements.status_of(row, now) in showing), None
    )


async def _publish(
    clock: Clock, doorbell: Doorbell, principal: Principal, item: DemoAnnouncement
) -> models.Announcement:
    lifetime = item.lifetime
    draft = announcements.Draft(
        title=item.title,
        body=item.body,
        category=item.category,
        targets=[item.target],
        priority=item.priority,
        valid_until=clock.now() + lifetime if lifetime is not None else None,
    )
    outcome = await announcements.publish(clock, doorbell, principal, draft)
    return outcome.announcement


async def _submit(
    clock: Clock, doorbell: Doorbell, principal: Principal, wish: DemoAspiration
) -> models.Aspiration:
    submission = aspirations.Submission(
        region=wish.region,
        title=wish.title,
        description=wish.description,
        category=wish.category,
        reporter_name=wish.reporter_name,
        visibility=wish.visibility,
    )
    outcome = await aspirations.submit(clock, doorbell, principal, submission)
    return outcome.aspiration
