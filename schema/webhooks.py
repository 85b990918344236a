"""Webhook endpoints of partner keys and their delivery log (docs/webhooks.md)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Self

import strawberry

from kimgraph import models
from kimgraph.cursors import CursorKind, encode_cursor, encode_event_cursor, encode_id
from schema.accounts import ApiKey
from schema.common import Edge, PageInfo, UserError, page_info, user_errors_field


@strawberry.enum(description="Whether a webhook is being delivered to.")
class WebhookStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Events are delivered.")
    SUSPENDED = strawberry.enum_value(
        "SUSPENDED",
        description="An event failed for 24 hours; later events wait behind it "
        "until webhookEnable, which tries it again first.",
    )
    DISABLED = strawberry.enum_value(
        "DISABLED",
        description="Stopped by an ADMIN; webhookEnable resumes with the first "
        "event not delivered.",
    )


@strawberry.enum(description="Where one event's delivery to one webhook is.")
class WebhookDeliveryStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Not acknowledged yet.")
    DELIVERED = strawberry.enum_value(
        "DELIVERED", description="The receiver answered 2xx."
    )
    FAILED = strawberry.enum_value(
        "FAILED", description="Retried for 24 hours without a 2xx answer."
    )

    @property
    def domain(self) -> models.DeliveryStatus:
        return models.DeliveryStatus[self.name]


@strawberry.type(
    description="A URL that the events of a partner key are POSTed to, signed "
    "(docs/webhooks.md). The secret is shown only by webhookCreate and by "
    "webhookUpdate with rotateSecret."
)
class Webhook:
    row: strawberry.Private[models.WebhookEndpoint]

    @strawberry.field(description="Opaque id; pass it to the webhook mutations.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Webhook", self.row.id))

    @strawberry.field(description="The partner key whose scope decides the events.")
    async def api_key(self) -> ApiKey:
        return ApiKey.from_model(await self.row.api_key)

    @strawberry.field(description="Where events are POSTed.")
    def url(self) -> str:
        return self.row.url

    @strawberry.field(
        description="True: announcement events too, not only aspirations."
    )
    def announcements(self) -> bool:
        return self.row.announcements

    @strawberry.field(description="Whether it is being delivered to.")
    def status(self) -> WebhookStatus:
        return WebhookStatus[self.row.status.name]

    @strawberry.field(description="Every event up to this cursor is queued or skipped.")
    def position(self) -> str:
        return encode_event_cursor(self.row.position)

    @strawberry.field(description="When it was registered.")
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.type(description="One event for one webhook: its attempts and their end.")
class WebhookDelivery:
    row: strawberry.Private[models.WebhookDelivery]

    @strawberry.field(description="Opaque id of this delivery.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("WebhookDelivery", self.row.id))

    @strawberry.field(
        description="The event's cursor: the eventId of the body and the "
        "KIMgraph-Event-Id header."
    )
    def event_id(self) -> str:
        return encode_event_cursor(self.row.event_id)

    @strawberry.field(description="aspiration or announcement.")
    def stream(self) -> str:
        return self.row.stream

    @strawberry.field(description="Where it is.")
    def status(self) -> WebhookDeliveryStatus:
        return WebhookDeliveryStatus[self.row.status.name]

    @strawberry.field(description="Attempts made so far.")
    def attempts(self) -> int:
        return self.row.attempts

    @strawberry.field(
        description="How the last attempt ended (`HTTP 500`, a timeout…)."
    )
    def last_result(self) -> str:
        return self.row.last_result

    @strawberry.field(description="When it was queued.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(
        description="When the last attempt was made; null before the first."
    )
    def last_attempt_at(self) -> datetime | None:
        return self.row.last_attempt_at

    @strawberry.field(description="PENDING: when the next attempt is due.")
    def next_attempt_at(self) -> datetime | None:
        if self.row.status is models.DeliveryStatus.PENDING:
            return self.row.next_attempt_at
        return None

    @strawberry.field(description="When the receiver acknowledged it.")
    def delivered_at(self) -> datetime | None:
        return self.row.delivered_at


@strawberry.type(description="A page of a webhook's deliveries, newest first.")
class WebhookDeliveryConnection:
    edges: list[Edge[WebhookDelivery]] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="Items in the whole list.")

    @classmethod
    def of(cls, rows: list[models.WebhookDelivery], has_next: bool, total: int) -> Self:
        edges = [
            Edge(
                cursor=encode_cursor(CursorKind.WEBHOOK_DELIVERY, row.id),
                node=WebhookDelivery(row=row),
            )
            for row in rows
        ]
        return cls(edges=edges, page_info=page_info(edges, has_next), total_count=total)


@strawberry.input(description="A new webhook.")
class WebhookCreateInput:
    api_key_id: strawberry.ID = strawberry.field(
        description="The partner key: its scope decides the events sent."
    )
    url: str = strawberry.field(
        description="An https:// URL whose host resolves only to public addresses "
        "(http and private addresses only with KIMGRAPH_WEBHOOKS_ALLOW_HTTP)."
    )
    announcements: bool = strawberry.field(
        default=False, description="Also announcement events."
    )


@strawberry.input(description="What to change; null leaves a field as it is.")
class WebhookUpdateInput:
    url: str | None = strawberry.field(default=None, description="A new URL.")
    announcements: bool | None = strawberry.field(
        default=None, description="Also announcement events, or not."
    )
    rotate_secret: bool = strawberry.field(
        default=False,
        description="Make a new signing secret (returned once); the old one "
        "stops signing at once.",
    )


@strawberry.type(description="The result of webhookCreate and webhookUpdate.")
class WebhookSecretPayload:
    webhook: Webhook | None = strawberry.field(
        default=None, description="The webhook; null if userErrors is not empty."
    )
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret, shown only here: after webhookCreate "
        "and after webhookUpdate with rotateSecret; null otherwise.",
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of webhookEnable and webhookDisable.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(
        default=None, description="The webhook; null if userErrors is not empty."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of webhookDelete.")
class WebhookDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the webhook removed, with its log."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")
