"""BoardPresence: a desa's notice board, online or silent (docs/presence.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from kimgraph.context import Info
from kimgraph.cursors import CursorKind, encode_cursor
from kimgraph.presence import BoardState
from schema.common import Connection, connection
from schema.regions import Region, region_of


@strawberry.type(
    description="The notice board of a desa or kelurahan, as the boards report "
    "themselves to every server process (docs/presence.md)."
)
class BoardPresence:
    state: strawberry.Private[BoardState]

    @strawberry.field(description="The desa or kelurahan the board shows.")
    async def region(self, info: Info) -> Region:
        return await region_of(info, self.state.code)

    @strawberry.field(
        description="True while some process has recorded a board of this desa "
        "within three heartbeat intervals (KIMGRAPH_BOARD_HEARTBEAT_SECONDS)."
    )
    def online(self) -> bool:
        return self.state.online

    @strawberry.field(
        description="When its latest unbroken run online began: online since "
        "then, or, for an offline board, the run that ended at `lastSeenAt`."
    )
    def since(self) -> datetime:
        return self.state.since

    @strawberry.field(description="The last time a process recorded it.")
    def last_seen_at(self) -> datetime:
        return self.state.last_seen

    @strawberry.field(
        description="True when it has been offline for more than a day: someone "
        "should go and look at the screen."
    )
    def offline_over_a_day(self) -> bool:
        return self.state.long_offline


def board_connection(
    rows: Sequence[BoardState], has_next_page: bool, total: int
) -> Connection[BoardPresence]:
    """A page of boards, in region code order, as a connection."""
    return connection(
        rows,
        has_next_page,
        total,
        cursor=lambda row: encode_cursor(CursorKind.BOARD, row.code),
        node=lambda row: BoardPresence(state=row),
    )
