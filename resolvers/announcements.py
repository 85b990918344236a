"""Announcements: board-order lists, the four mutations, and the live event stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Annotated

import strawberry

from kimgraph import announcements, regions
from kimgraph.announcements.queries import (
    AnnouncementFilter,
    Snapshot,
    board_page,
    read_page_key,
)
from kimgraph.announcements.visibility import Reader
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, decode_id, key_id
from kimgraph.errors import InvalidArgumentError, InvalidCursorError
from kimgraph.events import log
from kimgraph.events.log import EventRecord
from kimgraph.live.hub import Delivery
from kimgraph.live.shape import ViewOf, public
from kimgraph.regions.queries import require_region
from resolvers.commands import run_command
from resolvers.streams import follow
from schema.announcements import (
    Announcement,
    AnnouncementCategory,
    AnnouncementConnection,
    AnnouncementEvent,
    AnnouncementEventKind,
    AnnouncementPriority,
    AnnouncementPublishInput,
    AnnouncementPublishPayload,
    AnnouncementRelayPayload,
    AnnouncementUpdateInput,
    AnnouncementUpdatePayload,
    AnnouncementWithdrawPayload,
)
from schema.common import (
    DEFAULT_PAGE_SIZE,
    After,
    First,
    mutation,
    page_size,
)

RegionCode = Annotated[str, strawberry.argument(description="A region's code.")]
AnnouncementId = Annotated[
    strawberry.ID, strawberry.argument(description="The announcement's id.")
]


async def readable_announcement(
    info: Info, announcement_id: int | None
) -> Announcement | None:
    """The announcement if the caller may read it (a scheduled one: visibility.py)."""
    loaders = info.context.loaders
    row = (
        await loaders.announcements_by_id.load(announcement_id)
        if announcement_id is not None
        else None
    )
    if row is None:
        return None
    targets = await loaders.announcement_targets_by_id.load(row.id)
    reader = Reader.of(info.context.principal)
    if not reader.may_read(row, targets, info.context.clock.now()):
        return None
    return Announcement.from_model(row, targets)


async def announcement_node(
    info: Info, type_name: str, key: str
) -> Announcement | None:
    """`node(id:)` for an Announcement key: the same as `announcement(id:)`."""
    return await readable_announcement(info, key_id(key))


@strawberry.type
class AnnouncementQueries:
    @strawberry.field(
        description="The announcement with this id, or null. A scheduled one "
        "(before validFrom) only for its publisher and staff over one of its "
        "targets."
    )
    async def announcement(self, info: Info, id: AnnouncementId) -> Announcement | None:
        return await readable_announcement(info, decode_id("Announcement", id))

    @strawberry.field(
        description="What a region shows: announcements targeted at it or at a "
        "region above it (and below it with includeDescendants), EMERGENCY first, "
        "then newest. An unknown region is a NOT_FOUND error."
    )
    async def announcements(
        self,
        info: Info,
        region: RegionCode,
        include_descendants: Annotated[
            bool,
            strawberry.argument(description="Also those targeted below the region."),
        ] = False,
        category: Annotated[
            AnnouncementCategory | None,
            strawberry.argument(description="Only this category."),
        ] = None,
        min_priority: Annotated[
            AnnouncementPriority | None,
            strawberry.argument(description="Only this priority or higher."),
        ] = None,
        active_only: Annotated[
            bool,
            strawberry.argument(
                description="Only ACTIVE ones (the default). With false, scheduled "
                "ones only for their publisher and staff over one of their targets."
            ),
        ] = True,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> AnnouncementConnection:
        where = AnnouncementFilter(
            region=regions.validate(region),
            include_descendants=include_descendants,
            category=category.domain if category else None,
            min_priority=min_priority.domain if min_priority else None,
            active_only=active_only,
            reader=Reader.of(info.context.principal),
        )
        try:
            after_key = decode_cursor(CursorKind.ANNOUNCEMENT, after, read_page_key)
            limit = page_size(first)
        except (InvalidArgumentError, InvalidCursorError):
            # An unknown region is the error to report, before a bad argument.
            await require_region(where.region)
            raise
        # board_page reads the region too: NotFoundError if there is none.
        page = await board_page(where, info.context.clock.now(), after_key, limit)
        return AnnouncementConnection.of(page)


def _payload(outcome: announcements.Outcome) -> Announcement:
    return Announcement.from_model(outcome.announcement)


@strawberry.type
class AnnouncementMutations:
    @mutation("Publish an announcement now or at validFrom, for regions in scope.")
    async def announcement_publish(
        self,
        info: Info,
        input: Annotated[
            AnnouncementPublishInput, strawberry.argument(description="What to say.")
        ],
    ) -> AnnouncementPublishPayload:
        outcome = await run_command(
            info,
            announcements.publish,
            announcements.Draft(
                title=input.title,
                body=input.body,
                category=input.category.domain,
                priority=input.priority.domain,
                targets=input.targets,
                valid_from=input.valid_from,
                valid_until=input.valid_until,
                kim_id=decode_id("Kim", input.kim_id) if input.kim_id else None,
            ),
        )
        return AnnouncementPublishPayload(announcement=_payload(outcome))

    @mutation("Change an announcement; expectedRevision guards against overwrites.")
    async def announcement_update(
        self,
        info: Info,
        id: AnnouncementId,
        input: Annotated[
            AnnouncementUpdateInput, strawberry.argument(description="What to change.")
        ],
    ) -> AnnouncementUpdatePayload:
        valid_until = input.valid_until
        outcome = await run_command(
            info,
            announcements.update,
            decode_id("Announcement", id),
            announcements.Changes(
                expected_revision=input.expected_revision,
                title=input.title,
                body=input.body,
                category=input.category.domain if input.category else None,
                priority=input.priority.domain if input.priority else None,
                valid_until=None if valid_until is strawberry.UNSET else valid_until,
                clear_valid_until=valid_until is None,
            ),
        )
        return AnnouncementUpdatePayload(announcement=_payload(outcome))

    @mutation("Withdraw an announcement for good; boards drop it at once.")
    async def announcement_withdraw(
        self,
        info: Info,
        id: AnnouncementId,
        reason: Annotated[
            str, strawberry.argument(description="Why, 1-500 characters.")
        ],
    ) -> AnnouncementWithdrawPayload:
        outcome = await run_command(
            info,
            announcements.withdraw,
            decode_id("Announcement", id),
            reason,
        )
        return AnnouncementWithdrawPayload(announcement=_payload(outcome))

    @mutation(
        "Pass an announcement from another region on to regions in your scope; "
        "its original targets stay."
    )
    async def announcement_relay(
        self,
        info: Info,
        id: AnnouncementId,
        targets: Annotated[
            list[str], strawberry.argument(description="Codes of regions to add.")
        ],
    ) -> AnnouncementRelayPayload:
        outcome = await run_command(
            info,
            announcements.relay,
            decode_id("Announcement", id),
            targets,
        )
        return AnnouncementRelayPayload(announcement=_payload(outcome))


def to_event(delivery: Delivery) -> AnnouncementEvent | None:
    """The GraphQL form of a delivered announcement event."""
    snapshot = delivery.payload
    if not isinstance(snapshot, Snapshot):
        return None
    return AnnouncementEvent(
        cursor=delivery.event.cursor,
        kind=AnnouncementEventKind[delivery.event.kind],
        occurred_at=delivery.event.occurred_at,
        announcement=Announcement.from_model(snapshot.announcement, snapshot.targets),
    )


# Subscription root fields that one execution may serve to every identical
# subscription (kimgraph.live.sharing), with the view each run executes as
# (kimgraph.live.shape.ViewOf): announcementEvents is public and depends only on
# its arguments, never on who asks.
SHAREABLE_FIELDS: Mapping[str, ViewOf] = {"announcementEvents": public}


@strawberry.type
class AnnouncementSubscriptions:
    @strawberry.subscription(
        description="Changes to what a region shows: first every event after "
        "`after` (an event's cursor or an eventCursor), in order, then live ones; "
        "none missing, none twice. Without `after`, only new events. A cursor "
        "older than the retention window ends with CURSOR_EXPIRED."
    )
    async def announcement_events(
        self,
        info: Info,
        region: RegionCode,
        include_descendants: Annotated[
            bool,
            strawberry.argument(description="Also events targeted below the region."),
        ] = False,
        after: Annotated[
            str | None,
            strawberry.argument(description="Resume after this cursor."),
        ] = None,
    ) -> AsyncGenerator[AnnouncementEvent, None]:
        code = regions.validate(region)
        await require_region(code)

        def accepts(event: EventRecord) -> bool:
            return event.stream == announcements.STREAM and log.visible_from(
                event.regions, code, include_descendants
            )

        async for delivery in follow(info, announcements.STREAM, after, accepts):
            if (event := to_event(delivery)) is not None:
                yield event
