"""Pages of aspirations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import strawberry

from kimgraph.cursors import CursorKind, encode_cursor, encode_event_cursor
from schema.aspirations.types import Aspiration
from schema.common import Edge, PageInfo, page_info


@strawberry.type(description="A page of aspirations, newest first.")
class AspirationConnection:
    edges: list[Edge[Aspiration]] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="Items in the whole list.")
    event_cursor: str = strawberry.field(
        description="The event stream's position as of this read: subscribe to "
        "aspirationEvents with `after: eventCursor` to get every change since."
    )

    @classmethod
    def of(
        cls, nodes: Sequence[Aspiration], has_next_page: bool, total: int, position: int
    ) -> Self:
        """A page, newest first, and the event position read before it."""
        edges = [
            Edge(cursor=encode_cursor(CursorKind.ASPIRATION, node.row.id), node=node)
            for node in nodes
        ]
        return cls(
            edges=edges,
            page_info=page_info(edges, has_next_page),
            total_count=total,
            event_cursor=encode_event_cursor(position),
        )
