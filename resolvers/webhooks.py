"""Webhooks of partner keys: the list, the delivery log and the ADMIN's mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, decode_id, encode_id, row_id
from kimgraph.webhooks import endpoints
from schema.common import DEFAULT_PAGE_SIZE, After, First, mutation, page_size
from schema.webhooks import (
    Webhook,
    WebhookCreateInput,
    WebhookDeletePayload,
    WebhookDeliveryConnection,
    WebhookDeliveryStatus,
    WebhookPayload,
    WebhookSecretPayload,
    WebhookUpdateInput,
)

WebhookId = Annotated[
    strawberry.ID, strawberry.argument(description="The webhook's id.")
]


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Every webhook, oldest first (ADMIN; at most 100).")
    async def webhooks(self, info: Info) -> list[Webhook]:
        rows = await endpoints.endpoints(info.context.principal)
        return [Webhook(row=row) for row in rows]

    @strawberry.field(
        description="A webhook's deliveries, newest first (ADMIN): one per event "
        "for its key, with attempts and how the last one ended."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: WebhookId,
        status: Annotated[
            WebhookDeliveryStatus | None,
            strawberry.argument(description="Only this status; null for all."),
        ] = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> WebhookDeliveryConnection:
        rows, has_next, total = await endpoints.deliveries(
            info.context.principal,
            decode_id("Webhook", endpoint_id),
            status.domain if status is not None else None,
            decode_cursor(CursorKind.WEBHOOK_DELIVERY, after, row_id),
            page_size(first),
        )
        return WebhookDeliveryConnection.of(rows, has_next, total)


@strawberry.type
class WebhookMutations:
    @mutation(
        "Register a URL that the events of a partner key are POSTed to (ADMIN). "
        "The signing secret is in this answer only (docs/webhooks.md)."
    )
    async def webhook_create(
        self,
        info: Info,
        input: Annotated[WebhookCreateInput, strawberry.argument(description="What.")],
    ) -> WebhookSecretPayload:
        context = info.context
        made = await endpoints.create(
            context.clock,
            context.principal,
            decode_id("ApiKey", input.api_key_id),
            input.url,
            input.announcements,
            context.settings.webhooks_allow_http,
        )
        return WebhookSecretPayload(
            webhook=Webhook(row=made.endpoint), secret=made.secret
        )

    @mutation("Change a webhook's URL or streams, or rotate its secret (ADMIN).")
    async def webhook_update(
        self,
        info: Info,
        id: WebhookId,
        input: Annotated[WebhookUpdateInput, strawberry.argument(description="What.")],
    ) -> WebhookSecretPayload:
        context = info.context
        changed = await endpoints.update(
            context.clock,
            context.principal,
            decode_id("Webhook", id),
            input.url,
            input.announcements,
            input.rotate_secret,
            context.settings.webhooks_allow_http,
        )
        return WebhookSecretPayload(
            webhook=Webhook(row=changed.endpoint), secret=changed.secret
        )

    @mutation("Stop delivering to a webhook; nothing is lost (ADMIN).")
    async def webhook_disable(self, info: Info, id: WebhookId) -> WebhookPayload:
        context = info.context
        done = await endpoints.disable(
            context.clock, context.principal, decode_id("Webhook", id)
        )
        return WebhookPayload(webhook=Webhook(row=done.endpoint))

    @mutation(
        "Deliver to a webhook again, from the first event not delivered (a "
        "failed one is tried again first) (ADMIN)."
    )
    async def webhook_enable(self, info: Info, id: WebhookId) -> WebhookPayload:
        context = info.context
        done = await endpoints.enable(
            context.clock, context.principal, decode_id("Webhook", id)
        )
        return WebhookPayload(webhook=Webhook(row=done.endpoint))

    @mutation("Remove a webhook and its delivery log (ADMIN).")
    async def webhook_delete(self, info: Info, id: WebhookId) -> WebhookDeletePayload:
        context = info.context
        gone = await endpoints.delete(
            context.clock, context.principal, decode_id("Webhook", id)
        )
        return WebhookDeletePayload(
            deleted_id=strawberry.ID(encode_id("Webhook", gone))
        )
