"""Announcement types, their live events, inputs and payloads."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Self

import strawberry

from kimgraph import announcements, models
from kimgraph.announcements.queries import BoardPage, page_key
from kimgraph.announcements.records import AnnouncementRecord
from kimgraph.context import Info
from kimgraph.cursors import (
    CursorKind,
    encode_cursor,
    encode_event_cursor,
    encode_id,
)
from schema.common import Edge, Node, PageInfo, UserError, page_info, user_errors_field
from schema.kims import Kim, load_kim
from schema.regions import Region, region_from_model


@strawberry.enum(description="What an announcement is about.")
class AnnouncementCategory(enum.Enum):
    GENERAL = strawberry.enum_value("GENERAL", description="General information.")
    GOVERNMENT = strawberry.enum_value("GOVERNMENT", description="Government affairs.")
    HEALTH = strawberry.enum_value("HEALTH", description="Health.")
    EDUCATION = strawberry.enum_value("EDUCATION", description="Education.")
    ECONOMY = strawberry.enum_value("ECONOMY", description="Economy and trade.")
    AGRICULTURE = strawberry.enum_value("AGRICULTURE", description="Farming, fishing.")
    INFRASTRUCTURE = strawberry.enum_value(
        "INFRASTRUCTURE", description="Roads, water, power."
    )
    SOCIAL = strawberry.enum_value("SOCIAL", description="Social assistance.")
    SECURITY = strawberry.enum_value("SECURITY", description="Public order.")
    DISASTER = strawberry.enum_value("DISASTER", description="Floods, fires, warnings.")
    EVENT = strawberry.enum_value("EVENT", description="Events and gatherings.")

    @property
    def domain(self) -> models.AnnouncementCategory:
        return models.AnnouncementCategory[self.name]


@strawberry.enum(description="How urgent an announcement is.")
class AnnouncementPriority(enum.Enum):
    NORMAL = strawberry.enum_value("NORMAL", description="Shown in rotation.")
    IMPORTANT = strawberry.enum_value(
        "IMPORTANT", description="Shown in rotation, marked important."
    )
    EMERGENCY = strawberry.enum_value(
        "EMERGENCY", description="Takes over a notice board until it ends."
    )

    @property
    def domain(self) -> models.AnnouncementPriority:
        return models.AnnouncementPriority[self.name]


@strawberry.enum(description="Where an announcement is in its life.")
class AnnouncementStatus(enum.Enum):
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="Before validFrom.")
    ACTIVE = strawberry.enum_value("ACTIVE", description="Shown now.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="validUntil has passed.")
    WITHDRAWN = strawberry.enum_value("WITHDRAWN", description="Taken down.")


@strawberry.enum(description="What happened to an announcement.")
class AnnouncementEventKind(enum.Enum):
    PUBLISHED = strawberry.enum_value(
        "PUBLISHED", description="It became visible (now or at its validFrom)."
    )
    UPDATED = strawberry.enum_value(
        "UPDATED", description="It changed or was relayed to more regions."
    )
    WITHDRAWN = strawberry.enum_value("WITHDRAWN", description="It was taken down.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="Its validUntil passed.")


@strawberry.type(description="Information published for regions and all below them.")
class Announcement(Node):
    row: strawberry.Private[AnnouncementRecord]
    preloaded_targets: strawberry.Private[tuple[str, ...] | None]

    @strawberry.field(description="Opaque global id; pass it to `node(id:)`.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Announcement", self.row.id))

    @strawberry.field(description="Headline, 1-200 characters.")
    def title(self) -> str:
        return self.row.title

    @strawberry.field(description="Text, 1-10,000 characters.")
    def body(self) -> str:
        return self.row.body

    @strawberry.field(description="What it is about.")
    def category(self) -> AnnouncementCategory:
        return AnnouncementCategory[self.row.category.name]

    @strawberry.field(description="How urgent it is.")
    def priority(self) -> AnnouncementPriority:
        return AnnouncementPriority[models.AnnouncementPriority(self.row.priority).name]

    @strawberry.field(description="Its status now, from time and actions.")
    def status(self, info: Info) -> AnnouncementStatus:
        now = info.context.clock.now()
        return AnnouncementStatus[announcements.status_of(self.row, now).name]

    @strawberry.field(description="Where it was published, relays included.")
    async def targets(self, info: Info) -> list[Region]:
        codes = self.preloaded_targets
        if codes is None:
            codes = tuple(
                await info.context.loaders.announcement_targets_by_id.load(self.row.id)
            )
        rows = await info.context.loaders.regions_by_code.load_many(list(codes))
        return [region_from_model(r) for r in rows if r is not None]

    @strawberry.field(description="The KIM that posted it; null for an office.")
    async def kim(self, info: Info) -> Kim | None:
        return await load_kim(info, self.row.kim_id)

    @strawberry.field(description="Display name of the office or KIM that posted it.")
    def published_by(self) -> str:
        return self.row.published_by

    @strawberry.field(description="When it becomes visible.")
    def valid_from(self) -> datetime:
        return self.row.valid_from

    @strawberry.field(description="When it expires; null for never.")
    def valid_until(self) -> datetime | None:
        return self.row.valid_until

    @strawberry.field(description="When it was withdrawn; null unless WITHDRAWN.")
    def withdrawn_at(self) -> datetime | None:
        return self.row.withdrawn_at

    @strawberry.field(description="Why it was withdrawn; null unless WITHDRAWN.")
    def withdraw_reason(self) -> str | None:
        return self.row.withdraw_reason

    @strawberry.field(description="Starts at 1; every change adds 1.")
    def revision(self) -> int:
        return self.row.revision

    @strawberry.field(description="When it was created.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="When it last changed.")
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @classmethod
    def from_model(
        cls, row: AnnouncementRecord, targets: Sequence[str] | None = None
    ) -> Self:
        """This type around a row (and its target codes, if already loaded)."""
        return cls(row=row, preloaded_targets=tuple(targets) if targets else None)


@strawberry.type(description="A page of announcements, EMERGENCY first, then newest.")
class AnnouncementConnection:
    edges: list[Edge[Announcement]] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="Items in the whole list.")
    event_cursor: str = strawberry.field(
        description="The event stream's position as of this read: subscribe to "
        "announcementEvents with `after: eventCursor` to get every change since."
    )

    @classmethod
    def of(cls, page: BoardPage) -> Self:
        """A page in board order, and the event position read before it."""
        edges = [
            Edge(
                cursor=encode_cursor(CursorKind.ANNOUNCEMENT, *page_key(row)),
                node=Announcement.from_model(row),
            )
            for row in page.rows
        ]
        return cls(
            edges=edges,
            page_info=page_info(edges, page.has_next),
            total_count=page.total,
            event_cursor=encode_event_cursor(page.position),
        )


@strawberry.type(description="A change to an announcement, live or replayed.")
class AnnouncementEvent:
    cursor: str = strawberry.field(
        description="Position of this event; resubscribe with `after: cursor`."
    )
    kind: AnnouncementEventKind = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    announcement: Announcement = strawberry.field(
        description="The announcement as it is now."
    )


@strawberry.input(description="A new announcement.")
class AnnouncementPublishInput:
    title: str = strawberry.field(description="1-200 characters.")
    body: str = strawberry.field(description="1-10,000 characters.")
    category: AnnouncementCategory = strawberry.field(description="What it is about.")
    priority: AnnouncementPriority = strawberry.field(
        default=AnnouncementPriority.NORMAL, description="How urgent it is."
    )
    targets: list[str] = strawberry.field(
        description="Codes of 1-50 regions within the caller's scope."
    )
    valid_from: datetime | None = strawberry.field(
        default=None, description="When it becomes visible; null for now."
    )
    valid_until: datetime | None = strawberry.field(
        default=None, description="When it expires; later than validFrom; null: never."
    )
    kim_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The KIM it is posted for; a KIM account always posts as itself.",
    )


@strawberry.input(description="Changes to an announcement; omitted fields stay.")
class AnnouncementUpdateInput:
    expected_revision: int = strawberry.field(
        description="The revision you last saw; a newer one gives CONFLICT."
    )
    title: str | None = strawberry.field(default=None, description="New headline.")
    body: str | None = strawberry.field(default=None, description="New text.")
    category: AnnouncementCategory | None = strawberry.field(
        default=None, description="New category."
    )
    priority: AnnouncementPriority | None = strawberry.field(
        default=None, description="New priority."
    )
    valid_until: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="New expiry; null: never expires."
    )


@strawberry.type(description="The result of an announcement mutation.")
class AnnouncementPayload:
    announcement: Announcement | None = strawberry.field(
        default=None, description="The announcement; null if userErrors is not empty."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of announcementPublish.")
class AnnouncementPublishPayload(AnnouncementPayload):
    pass


@strawberry.type(description="The result of announcementUpdate.")
class AnnouncementUpdatePayload(AnnouncementPayload):
    pass


@strawberry.type(description="The result of announcementWithdraw.")
class AnnouncementWithdrawPayload(AnnouncementPayload):
    pass


@strawberry.type(description="The result of announcementRelay.")
class AnnouncementRelayPayload(AnnouncementPayload):
    pass
