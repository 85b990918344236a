"""Every mutation once, with the audit row it must leave (test_audit_mutations.py).

A mutation added to the schema joins AUDITED_CALLS (with its expected row) or
NOT_AUDITED (with the reason); the tests fail until it does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kimgraph import aspirations, models
from kimgraph.accounts import auth
from kimgraph.accounts.principals import Role
from kimgraph.clock import Clock
from kimgraph.cursors import encode_id
from kimgraph.models import DeliveryStatus, WebhookStatus
from kimgraph.warnings.areas import load_gazetteer
from kimgraph.warnings.ingest import ingest
from tests.kimgraph.warnings.feed_server import ketapang_cap
from tests.people import (
    HOME_DESA,
    HOME_MEMBER,
    PASSWORD,
    ROOT,
    Cast,
    nobody_listens,
    officers_input,
    password_hash,
)

SIBLING_DESA = "61.04.16.2007"
NEW_PASSWORD = "kata sandi yang baru sekali"
# What the in-process client's address counts as (kimgraph.context).
CLIENT = "127.0.0.1"
# The CAP documents are of this day (tests/kimgraph/warnings/feed_server.py).
CLOCK_START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

# Mutations that leave no audit row, and why. Aspiration workflow steps are
# recorded, with their actor, in the aspiration's own history (docs/audit.md).
NOT_AUDITED = {
    "aspirationSubmit": "the aspiration's history (its first transition)",
    "aspirationTransition": "the aspiration's history (AspirationTransition)",
    "aspirationRespond": "the aspiration's responses (AspirationResponse)",
    "aspirationReporterStep": "the aspiration's history (AspirationTransition)",
}

# Added by work in progress that does not record yet: each belongs in
# AUDITED_CALLS once its command calls audit.record (docs/audit.md, "Recording
# a new action"). Only ever shrinks.
NOT_YET_AUDITED: set[str] = set()


@dataclass(frozen=True)
class Setting:
    """Objects made for the calls beyond the cast, and their credentials."""

    cast: Cast
    staff: int  # an active OFFICER of Delta Pawan with one token
    inactive: int  # a deactivated OFFICER
    reviews: tuple[str, str]  # two pending warning reviews' global ids
    accounts: dict[str, int]  # account ids by username
    unit: int  # Dinas PUPR, serving A, with the deactivated OFFICER as member
    # The partner key's webhooks: an active one, and a suspended one with a
    # failed delivery (docs/webhooks.md, "Ordering")
    webhooks: tuple[int, int]
    partner: int  # the cast's partner API key, which both webhooks are for
    # An open aspiration as submitted before reporter keys (0015): (id, ticket)
    keyless: tuple[int, str]

    def account(self, username: str) -> int:
        return self.accounts[username]


@dataclass(frozen=True)
class Row:
    """The audit row a call must leave, as the test compares it."""

    actor: str
    role: str | None
    action: str
    target_type: str
    target_id: str
    summary: dict[str, Any]


Variables = Callable[[Setting], dict[str, Any]]
Expected = Callable[[Setting, dict[str, Any]], Row]


@dataclass(frozen=True)
class Call:
    """One mutation call: field, document, variables, caller and its audit row."""

    field: str
    document: str
    variables: Variables
    principal: str
    expected: Expected | None = None

    def __str__(self) -> str:
        return self.field


def gid(type_name: str, key: object) -> str:
    return encode_id(type_name, key)


async def _officer(clock: Clock, username: str, *, active: bool) -> int:
    account = await models.Account.create(
        username=username,
        display_name=username,
        password_hash=password_hash(),
        role=Role.OFFICER,
        region_id="61.04.16",
        is_active=active,
        created_at=clock.now(),
    )
    await models.AccessToken.create(
        account=account,
        token_hash=auth.digest(auth.TOKEN_PREFIX + secrets.token_urlsafe(32)),
        created_at=clock.now(),
        expires_at=clock.now() + auth.TOKEN_TTL,
        revoked_at=None if active else clock.now(),
    )
    return account.id


async def _review(clock: Clock, identifier: str, event: str) -> str:
    result = await ingest(
        clock,
        nobody_listens,
        await load_gazetteer(None),
        ketapang_cap(identifier, severity="Minor", event=event),
        "test",
    )
    assert result.review_id is not None
    return gid("WarningReview", result.review_id)


async def _webhook(clock: Clock, key: int, path: str, status: WebhookStatus) -> int:
    row = await models.WebhookEndpoint.create(
        api_key_id=key,
        url=f"{HOOKS}/{path}?token={WEBHOOK_URL_TOKEN}",
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        status=status,
        position=0,
        created_at=clock.now(),
        lease_until=clock.now(),
    )
    return row.id


async def _keyless(clock: Clock) -> models.Aspiration:
    """An aspiration with no reporter key, as those submitted before keys were."""
    made = await aspirations.submit(
        clock,
        nobody_listens,
        ROOT,
        aspirations.Submission(
            region=HOME_DESA,
            title="Saluran air tersumbat",
            description="Saluran di depan pasar tersumbat sampah.",
            category=models.AspirationCategory.ENVIRONMENT,
        ),
    )
    row = made.aspiration
    await models.Aspiration.filter(id=row.id).update(reporter_key_hash=None)
    return row


async def make_setting(clock: Clock, cast: Cast) -> Setting:
    """The objects the calls act on."""
    staff = await _officer(clock, "staf_delta_pawan", active=True)
    inactive = await _officer(clock, "staf_lama", active=False)
    first = await _review(clock, "2.49.0.1.360.0.2026.11.20.07.61.001", "Hujan Lebat")
    second = await _review(clock, "2.49.0.1.360.0.2026.11.20.07.61.009", "Angin")
    accounts = {row.username: row.id for row in await models.Account.all()}
    unit = await models.Unit.create(name=UNIT, region_id=A, created_at=clock.now())
    await models.UnitMember.create(
        unit_id=unit.id, account_id=inactive, added_at=clock.now()
    )
    partner = (await models.ApiKey.get(name=PARTNER)).id
    active = await _webhook(clock, partner, "hook", WebhookStatus.ACTIVE)
    suspended = await _webhook(clock, partner, "lama", WebhookStatus.SUSPENDED)
    await models.WebhookDelivery.create(
        endpoint_id=suspended,
        event_id=1,
        stream="aspiration",
        body="{}",
        status=DeliveryStatus.FAILED,
        attempts=50,
        created_at=clock.now(),
        first_attempt_at=clock.now(),
        next_attempt_at=clock.now(),
    )
    keyless = await _keyless(clock)
    return Setting(
        cast,
        staff,
        inactive,
        (first, second),
        accounts,
        unit.id,
        (active, suspended),
        partner,
        (keyless.id, keyless.ticket),
    )


def row(
    username: str,
    role: str,
    action: str,
    target: tuple[str, object],
    summary: dict[str, Any],
) -> Row:
    return Row(username, role, action, target[0], gid(*target), summary)


A = "61.04.16"
OFFICER = "camat_delta_pawan"
ADMIN = "diskominfo"
UNIT = "Dinas PUPR"
PARTNER = "Aplikasi Layanan Publik"
# A public address (nothing is sent: no dispatcher runs in these tests); the
# token in the query string must not reach the audit trail.
HOOKS = "https://93.184.215.14"
REISSUE_REASON = "Pelapor datang ke kantor camat membawa tiket"
WEBHOOK_URL_TOKEN = "tok3n-di-url"
WEBHOOK_SWITCH = """mutation ($id: ID!) {
  %s(id: $id) { webhook { id } userErrors { code } } }"""
MEMBER_DOCUMENT = """mutation ($id: ID!, $accountId: ID!) {
  %s(id: $id, accountId: $accountId) { unit { id } userErrors { code } } }"""

AUDITED_CALLS = [
    Call(
        "announcementPublish",
        """mutation ($input: AnnouncementPublishInput!) {
          announcementPublish(input: $input) {
            announcement { id } userErrors { code } } }""",
        lambda s: {
            "input": {
                "title": "Kerja bakti",
                "body": "Kerja bakti membersihkan parit hari Minggu.",
                "category": "SOCIAL",
                "targets": [HOME_DESA],
            }
        },
        "officer_in_scope",
        lambda s, p: Row(
            OFFICER,
            "OFFICER",
            "announcement.publish",
            "Announcement",
            p["announcement"]["id"],
            {
                "announcement": p["announcement"]["id"],
                "title": "Kerja bakti",
                "priority": "NORMAL",
                "targets": [HOME_DESA],
            },
        ),
    ),
    Call(
        "announcementUpdate",
        """mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
          announcementUpdate(id: $id, input: $input) {
            announcement { id } userErrors { code } } }""",
        lambda s: {
            "id": gid("Announcement", s.cast.home_announcement.id),
            "input": {"expectedRevision": 1, "title": "Posyandu diundur"},
        },
        "officer_in_scope",
        lambda s, p: row(
            OFFICER,
            "OFFICER",
            "announcement.update",
            ("Announcement", s.cast.home_announcement.id),
            {"changed": ["title"], "revision": 2},
        ),
    ),
    Call(
        "announcementWithdraw",
        """mutation ($id: ID!, $reason: String!) {
          announcementWithdraw(id: $id, reason: $reason) {
            announcement { id } userErrors { code } } }""",
        lambda s: {
            "id": gid("Announcement", s.cast.home_announcement.id),
            "reason": "Batal",
        },
        "officer_in_scope",
        lambda s, p: row(
            OFFICER,
            "OFFICER",
            "announcement.withdraw",
            ("Announcement", s.cast.home_announcement.id),
            {"reason": "Batal"},
        ),
    ),
    Call(
        "announcementRelay",
        """mutation ($id: ID!, $targets: [String!]!) {
          announcementRelay(id: $id, targets: $targets) {
            announcement { id } userErrors { code } } }""",
        lambda s: {
            "id": gid("Announcement", s.cast.other_announcement.id),
            "targets": [SIBLING_DESA],
        },
        "officer_in_scope",
        lambda s, p: row(
            OFFICER,
            "OFFICER",
            "announcement.relay",
            ("Announcement", s.cast.other_announcement.id),
            {"added": [SIBLING_DESA]},
        ),
    ),
    Call(
        "kimRegister",
        """mutation ($input: KimRegisterInput!) {
          kimRegister(input: $input) { kim { id } userErrors { code } } }""",
        lambda s: {
            "input": {
                "name": "KIM Maju Jaya",
                "region": SIBLING_DESA,
                "members": officers_input("Maju Jaya"),
            }
        },
        "officer_in_scope",
        lambda s, p: Row(
            OFFICER,
            "OFFICER",
            "kim.register",
            "Kim",
            p["kim"]["id"],
            {"name": "KIM Maju Jaya", "region": SIBLING_DESA, "members": 3},
        ),
    ),
    Call(
        "kimUpdate",
        """mutation ($id: ID!, $input: KimUpdateInput!) {
          kimUpdate(id: $id, input: $input) { kim { id } userErrors { code } } }""",
        lambda s: {
            "id": gid("Kim", s.cast.home_kim.id),
            "input": {"name": "KIM Suka Bangun Jaya"},
        },
        "officer_in_scope",
        lambda s, p: row(
            OFFICER,
            "OFFICER",
            "kim.update",
            ("Kim", s.cast.home_kim.id),
            {"changed": ["name"], "name": "KIM Suka Bangun Jaya"},
        ),
    ),
    Call(
        "kimMemberAdd",
        """mutation ($kimId: ID!, $input: KimMemberInput!) {
          kimMemberAdd(kimId: $kimId, input: $input) {
            member { id } userErrors { code } } }""",
        lambda s: {
            "kimId": gid("Kim", s.cast.home_kim.id),
            "input": {"name": "Dewi Lestari", "role": "ANGGOTA"},
        },
        "officer_in_scope",
        lambda s, p: Row(
            OFFICER,
            "OFFICER",
            "kim.member_add",
            "KimMember",
            p["member"]["id"],
            {
                "kim": gid("Kim", s.cast.home_kim.id),
                "name": "Dewi Lestari",
                "role": "ANGGOTA",
            },
        ),
    ),
    Call(
        "kimMemberRemove",
        """mutation ($id: ID!) {
          kimMemberRemove(id: $id) { kim { id } userErrors { code } } }""",
        lambda s: {"id": gid("KimMember", s.cast.home_member.id)},
        "officer_in_scope",
        lambda s, p: row(
            OFFICER,
            "OFFICER",
            "kim.member_remove",
            ("KimMember", s.cast.home_member.id),
            {"kim": gid("Kim", s.cast.home_kim.id), "name": HOME_MEMBER},
        ),
    ),
    Call(
        "aspirationModerate",
        """mutation ($id: ID!, $input: AspirationModerateInput!) {
          aspirationModerate(id: $id, input: $input) {
            aspiration { id } userErrors { code } } }""",
        lambda s: {
            "id": gid("Aspiration", s.cast.home_aspiration.id),
            "input": {"hidden": True, "reason": "Memuat data pribadi"},
        },
        "officer_in_scope",
        lambda s, p: row(
            OFFICER,
            "OFFICER",
            "aspiration.moderate",
            ("Aspiration", s.cast.home_aspiration.id),
            {"hidden": [False, True]},
        ),
    ),
    Call(
        "aspirationReporterKeyReissue",
        """mutation ($input: AspirationReporterKeyReissueInput!) {
          aspirationReporterKeyReissue(input: $input) {
            aspiration { id } reporterKey userErrors { code } } }""",
        lambda s: {"input": {"ticket": s.keyless[1], "reason": REISSUE_REASON}},
        "officer_in_scope",
        lambda s, p: row(
            OFFICER,
            "OFFICER",
            "aspiration.reporter_key_reissue",
            ("Aspiration", s.keyless[0]),
            {"replaced": False, "reason": REISSUE_REASON},
        ),
    ),
    Call(
        "accountDeactivate",
        """mutation ($id: ID!) {
          accountDeactivate(id: $id) { account { id } userErrors { code } } }""",
        lambda s: {"id": gid("Account", s.staff)},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "account.deactivate",
            ("Account", s.staff),
            {"active": [True, False], "revokedSessions": 1},
        ),
    ),
    Call(
        "accountReactivate",
        """mutation ($id: ID!) {
          accountReactivate(id: $id) { account { id } userErrors { code } } }""",
        lambda s: {"id": gid("Account", s.inactive)},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "account.reactivate",
            ("Account", s.inactive),
            {"active": [False, True]},
        ),
    ),
    Call(
        "accountPasswordReset",
        """mutation ($id: ID!) {
          accountPasswordReset(id: $id) {
            oneTimePassword userErrors { code } } }""",
        lambda s: {"id": gid("Account", s.inactive)},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "account.password_reset",
            ("Account", s.inactive),
            {"revokedSessions": 0},
        ),
    ),
    Call(
        "accountRoleChange",
        """mutation ($id: ID!, $input: AccountRoleChangeInput!) {
          accountRoleChange(id: $id, input: $input) {
            account { id } userErrors { code } } }""",
        lambda s: {"id": gid("Account", s.inactive), "input": {"region": "61.04.18"}},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "account.role_change",
            ("Account", s.inactive),
            {
                "before": {"role": "OFFICER", "region": A},
                "after": {"role": "OFFICER", "region": "61.04.18"},
                "kim": "",
            },
        ),
    ),
    Call(
        "warningReviewPublish",
        """mutation ($id: ID!, $input: WarningReviewPublishInput!) {
          warningReviewPublish(id: $id, input: $input) {
            announcement { id } userErrors { code } } }""",
        lambda s: {
            "id": s.reviews[0],
            "input": {"targets": [A], "priority": "IMPORTANT"},
        },
        "admin",
        lambda s, p: Row(
            ADMIN,
            "ADMIN",
            "warning_review.publish",
            "WarningReview",
            s.reviews[0],
            {
                "announcement": p["announcement"]["id"],
                "title": "Hujan Lebat disertai Petir di Kalimantan Barat",
                "priority": "IMPORTANT",
                "targets": [A],
            },
        ),
    ),
    Call(
        "warningReviewDismiss",
        """mutation ($id: ID!, $reason: String!) {
          warningReviewDismiss(id: $id, reason: $reason) {
            review { status } userErrors { code } } }""",
        lambda s: {"id": s.reviews[1], "reason": "Sudah lewat"},
        "admin",
        lambda s, p: Row(
            ADMIN,
            "ADMIN",
            "warning_review.dismiss",
            "WarningReview",
            s.reviews[1],
            {"reason": "Sudah lewat"},
        ),
    ),
    Call(
        "tokenCreate",
        """mutation ($input: TokenCreateInput!) {
          tokenCreate(input: $input) { token userErrors { code } } }""",
        lambda s: {"input": {"username": "camat_benua_kayong", "password": PASSWORD}},
        "anonymous",
        lambda s, p: row(
            "camat_benua_kayong",
            "OFFICER",
            "auth.sign_in",
            ("Account", s.account("camat_benua_kayong")),
            {"client": CLIENT},
        ),
    ),
    Call(
        "tokenRevoke",
        "mutation { tokenRevoke { revoked userErrors { code } } }",
        lambda s: {},
        "kim_other_desa",
        lambda s, p: row(
            "kim_padang",
            "KIM",
            "auth.sign_out",
            ("Account", s.account("kim_padang")),
            {},
        ),
    ),
    Call(
        "accountPasswordChange",
        """mutation ($input: AccountPasswordChangeInput!) {
          accountPasswordChange(input: $input) { token userErrors { code } } }""",
        lambda s: {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}},
        "kim_home",
        lambda s, p: row(
            "kim_suka_bangun",
            "KIM",
            "account.password_change",
            ("Account", s.account("kim_suka_bangun")),
            {"revokedSessions": 1},
        ),
    ),
    # Membership before the archive, the rename last: the every-mutation test
    # runs these in order on one setting.
    Call(
        "unitCreate",
        """mutation ($input: UnitCreateInput!) {
          unitCreate(input: $input) { unit { id } userErrors { code } } }""",
        lambda s: {"input": {"name": "Dinas Kesehatan", "region": A}},
        "admin",
        lambda s, p: Row(
            ADMIN,
            "ADMIN",
            "unit.create",
            "Unit",
            p["unit"]["id"],
            {"name": "Dinas Kesehatan", "region": A},
        ),
    ),
    Call(
        "unitMemberAdd",
        MEMBER_DOCUMENT % "unitMemberAdd",
        lambda s: {"id": gid("Unit", s.unit), "accountId": gid("Account", s.staff)},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "unit.member_add",
            ("Unit", s.unit),
            {"account": gid("Account", s.staff), "username": "staf_delta_pawan"},
        ),
    ),
    Call(
        "unitMemberRemove",
        MEMBER_DOCUMENT % "unitMemberRemove",
        lambda s: {
            "id": gid("Unit", s.unit),
            "accountId": gid("Account", s.inactive),
        },
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "unit.member_remove",
            ("Unit", s.unit),
            {"account": gid("Account", s.inactive), "username": "staf_lama"},
        ),
    ),
    Call(
        "unitArchive",
        """mutation ($id: ID!) {
          unitArchive(id: $id) { unit { id } userErrors { code } } }""",
        lambda s: {"id": gid("Unit", s.unit)},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "unit.archive",
            ("Unit", s.unit),
            {"name": UNIT, "archived": [False, True]},
        ),
    ),
    Call(
        "unitUpdate",
        """mutation ($id: ID!, $input: UnitUpdateInput!) {
          unitUpdate(id: $id, input: $input) { unit { id } userErrors { code } } }""",
        lambda s: {"id": gid("Unit", s.unit), "input": {"name": "Dinas PUPR Kab."}},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "unit.update",
            ("Unit", s.unit),
            {"name": [UNIT, "Dinas PUPR Kab."]},
        ),
    ),
    Call(
        "accountOfficeSet",
        """mutation ($id: ID!, $office: String) {
          accountOfficeSet(id: $id, office: $office) {
            account { id } userErrors { code } } }""",
        lambda s: {"id": gid("Account", s.staff), "office": " Dinas  Sosial "},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "account.office_set",
            ("Account", s.staff),
            {"office": [None, "Dinas Sosial"]},
        ),
    ),
    # The update before the delete, which acts on the other webhook: the
    # every-mutation test runs these in order on one setting.
    Call(
        "webhookCreate",
        """mutation ($input: WebhookCreateInput!) {
          webhookCreate(input: $input) {
            webhook { id } secret userErrors { code } } }""",
        lambda s: {
            "input": {
                "apiKeyId": gid("ApiKey", s.partner),
                "url": f"{HOOKS}/baru?token={WEBHOOK_URL_TOKEN}",
                "announcements": True,
            }
        },
        "admin",
        lambda s, p: Row(
            ADMIN,
            "ADMIN",
            "webhook.create",
            "Webhook",
            p["webhook"]["id"],
            {"partner": PARTNER, "url": f"{HOOKS}/baru", "announcements": True},
        ),
    ),
    Call(
        "webhookUpdate",
        """mutation ($id: ID!, $input: WebhookUpdateInput!) {
          webhookUpdate(id: $id, input: $input) {
            webhook { id } secret userErrors { code } } }""",
        lambda s: {
            "id": gid("Webhook", s.webhooks[0]),
            "input": {
                "url": f"{HOOKS}/v2?token={WEBHOOK_URL_TOKEN}",
                "rotateSecret": True,
            },
        },
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "webhook.update",
            ("Webhook", s.webhooks[0]),
            {
                "url": [f"{HOOKS}/hook", f"{HOOKS}/v2"],
                "announcements": [False, False],
                "rotated": True,
            },
        ),
    ),
    Call(
        "webhookDisable",
        WEBHOOK_SWITCH % "webhookDisable",
        lambda s: {"id": gid("Webhook", s.webhooks[0])},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "webhook.disable",
            ("Webhook", s.webhooks[0]),
            {"status": ["ACTIVE", "DISABLED"]},
        ),
    ),
    Call(
        "webhookEnable",
        WEBHOOK_SWITCH % "webhookEnable",
        lambda s: {"id": gid("Webhook", s.webhooks[1])},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "webhook.enable",
            ("Webhook", s.webhooks[1]),
            {"status": ["SUSPENDED", "ACTIVE"], "retried": 1},
        ),
    ),
    Call(
        "webhookDelete",
        """mutation ($id: ID!) {
          webhookDelete(id: $id) { deletedId userErrors { code } } }""",
        lambda s: {"id": gid("Webhook", s.webhooks[1])},
        "admin",
        lambda s, p: row(
            ADMIN,
            "ADMIN",
            "webhook.delete",
            ("Webhook", s.webhooks[1]),
            {"partner": PARTNER, "url": f"{HOOKS}/lama"},
        ),
    ),
]

# The workflow steps, which leave their history instead of an audit row.
HISTORY_CALLS = [
    Call(
        "aspirationSubmit",
        """mutation ($input: AspirationSubmitInput!) {
          aspirationSubmit(input: $input) {
            aspiration { id } userErrors { code } } }""",
        lambda s: {
            "input": {
                "region": HOME_DESA,
                "title": "Lampu jalan padam",
                "description": "Lampu jalan di simpang pasar padam seminggu.",
                "category": "INFRASTRUCTURE",
            }
        },
        "officer_in_scope",
    ),
    Call(
        "aspirationTransition",
        """mutation ($id: ID!, $input: AspirationTransitionInput!) {
          aspirationTransition(id: $id, input: $input) {
            aspiration { id } userErrors { code } } }""",
        lambda s: {
            "id": gid("Aspiration", s.cast.home_aspiration.id),
            "input": {"to": "VERIFIED", "expectedVersion": 1},
        },
        "officer_in_scope",
    ),
    Call(
        "aspirationRespond",
        """mutation ($id: ID!, $input: AspirationRespondInput!) {
          aspirationRespond(id: $id, input: $input) {
            aspiration { id } userErrors { code } } }""",
        lambda s: {
            "id": gid("Aspiration", s.cast.home_aspiration.id),
            "input": {"message": "Tim survei datang Senin.", "public": True},
        },
        "officer_in_scope",
    ),
    Call(
        "aspirationReporterStep",
        """mutation ($input: AspirationReporterStepInput!) {
          aspirationReporterStep(input: $input) {
            aspiration { id } userErrors { code } } }""",
        lambda s: {
            "input": {
                "ticket": s.cast.home_aspiration.ticket,
                "key": s.cast.home_reporter_key,
                "action": "WITHDRAW",
            }
        },
        "anonymous",
    ),
]
