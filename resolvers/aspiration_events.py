"""aspirationEvents: each logged aspiration event as its subscriber may see it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Annotated

import strawberry

from kimgraph import aspirations
from kimgraph.aspirations import queries as aspiration_queries
from kimgraph.aspirations import response_visible
from kimgraph.aspirations.access import event_view
from kimgraph.aspirations.queries import (
    Following,
    Snapshot,
)
from kimgraph.context import Info
from kimgraph.cursors import decode_id
from kimgraph.live.hub import Delivery
from kimgraph.live.shape import ViewOf
from resolvers.streams import follow
from schema.aspirations import (
    Aspiration,
    AspirationEvent,
    AspirationEventKind,
    AspirationStatus,
    Preloaded,
)


def to_event(following: Following, delivery: Delivery) -> AspirationEvent | None:
    """The event as this subscriber may see it; None: not for this subscriber."""
    snapshot = delivery.payload
    if not isinstance(snapshot, Snapshot):
        return None
    access = following.access(snapshot.aspiration)
    if access is None:
        return None
    kind = AspirationEventKind[delivery.event.kind]
    source = target = note = None
    if kind is AspirationEventKind.SUBMITTED:
        target = AspirationStatus.SUBMITTED
    if snapshot.transition is not None and kind is AspirationEventKind.TRANSITIONED:
        step = snapshot.transition
        source = AspirationStatus[step.from_status.name] if step.from_status else None
        target = AspirationStatus[step.to_status.name]
        note = step.public_note
    if snapshot.response is not None and kind is AspirationEventKind.RESPONDED:
        if response_visible(access, snapshot.response):
            note = snapshot.response.message
        elif not snapshot.response.public:
            # Internal responses are not announced: events carry no internal text.
            return None
    return AspirationEvent(
        cursor=delivery.event.cursor,
        kind=kind,
        occurred_at=delivery.event.occurred_at,
        aspiration=Aspiration.from_model(
            snapshot.aspiration,
            access,
            Preloaded(snapshot.history, snapshot.responses),
        ),
        from_=source,
        to=target,
        note=note,
    )


# Identical aspirationEvents of partner keys of one region (or of anonymous
# ticket followers) share one run, executed as their view: event_view says who
# may share and as whom (docs/live-delivery.md, "Shared subscriptions").
SHAREABLE_FIELDS: Mapping[str, ViewOf] = {"aspirationEvents": event_view}


@strawberry.type
class AspirationSubscriptions:
    @strawberry.subscription(
        description="Changes to aspirations: by `ticket` (anyone), by `aspirationId` "
        "or by `region` (signed-in callers and partner keys, within their scope; "
        "without any of them, their whole scope). First every event after `after`, "
        "in order, then live ones; none missing, none twice. Events never carry "
        "the reporter's personal data or internal notes, for anyone."
    )
    async def aspiration_events(
        self,
        info: Info,
        region: Annotated[
            str | None,
            strawberry.argument(description="Events of this region and below."),
        ] = None,
        aspiration_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Events of this aspiration only."),
        ] = None,
        ticket: Annotated[
            str | None,
            strawberry.argument(
                description="Events of the aspiration with this ticket."
            ),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this cursor (an event's or an eventCursor)."
            ),
        ] = None,
    ) -> AsyncGenerator[AspirationEvent, None]:
        following = await aspiration_queries.following(
            info.context.principal,
            region,
            (decode_id("Aspiration", aspiration_id) or 0) if aspiration_id else None,
            ticket,
        )
        async for delivery in follow(
            info, aspirations.STREAM, after, following.accepts
        ):
            event = to_event(following, delivery)
            if event is not None:
                yield event
